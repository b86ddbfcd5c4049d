#!/usr/bin/env python3
"""Point every "Open in Colab" badge, and the notebooks' Colab setup cell, at the course's GitHub repository.

The repository is named once, in pyproject.toml:

    [tool.wikiart-course]
    github = "owner/name"

A fork changes that line and runs `python tools/colab_badges.py`. In place, and idempotently (a second run
changes nothing), this rewrites:
- the badge at the top of the first markdown cell of every notebooks/NN_name.py and its paired
  NN_name.ipynb (added there when a notebook has none), linking to notebooks/NN_name.ipynb on Colab;
- the `COURSE_REPO = "owner/name"` line of their Colab setup cell (what Colab clones);
- the Colab column of README.md's notebook table (rows that start with | `NN_name` |).
Existing badges and COURSE_REPO lines are replaced in the files' text, so the notebooks' outputs and
formatting are left as they are. `--check` only reports what would change (exit status 1 if anything).
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "main"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_RE = re.compile(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                      r"\(https://colab\.research\.google\.com/github/[^)\s\"\\]*\)")
# the setup cell's line, in the .py (COURSE_REPO = "a/b") and in the .ipynb's JSON (COURSE_REPO = \"a/b\")
REPO_RE = re.compile(r'(COURSE_REPO = \\?")[^"\\]*(\\?")')
ROW_RE = re.compile(r"^\| `(\d\d_\w+)` \|")
SLUG_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def read_slug(root: Path = ROOT) -> str:
    """`[tool.wikiart-course] github` of root/pyproject.toml, e.g. "wikiart-course/wikiart-lstm"."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise SystemExit("error: reading pyproject.toml needs Python >= 3.11 or `pip install tomli`") from None
    with open(root / "pyproject.toml", "rb") as handle:
        config = tomllib.load(handle)
    slug = config.get("tool", {}).get("wikiart-course", {}).get("github")
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise SystemExit(f"error: pyproject.toml needs [tool.wikiart-course] github = \"owner/name\" (got {slug!r})")
    return slug


def colab_url(slug: str, notebook: str) -> str:
    """The Colab address of notebooks/<notebook>.ipynb (notebook: the name without suffix)."""
    return f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/notebooks/{notebook}.ipynb"


def badge(slug: str, notebook: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(slug, notebook)})"


def notebook_names(root: Path = ROOT) -> list[str]:
    """NN_name of every notebooks/NN_name.ipynb or .py."""
    folder = root / "notebooks"
    return sorted({p.stem for pattern in ("[0-9][0-9]_*.ipynb", "[0-9][0-9]_*.py") for p in folder.glob(pattern)})


def _rewrite_text(text: str, slug: str, notebook: str) -> str:
    text = BADGE_RE.sub(lambda _: badge(slug, notebook), text)
    return REPO_RE.sub(lambda m: f"{m.group(1)}{slug}{m.group(2)}", text)


def _add_badge_py(text: str, slug: str, notebook: str) -> str:
    """Put the badge first in the first markdown cell of a percent script."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("# %% [markdown]"):
            return "".join(lines[:i + 1] + [f"# {badge(slug, notebook)}\n", "#\n"] + lines[i + 1:])
    raise SystemExit(f"error: {notebook}.py has no markdown cell for the Colab badge")


def _add_badge_ipynb(path: Path, slug: str, notebook: str) -> str:
    import nbformat
    nb = nbformat.read(path, as_version=4)
    cell = next((c for c in nb.cells if c.cell_type == "markdown"), None)
    if cell is None:
        raise SystemExit(f"error: {path.name} has no markdown cell for the Colab badge")
    cell.source = f"{badge(slug, notebook)}\n\n{cell.source}"
    return nbformat.writes(nb) + "\n"


def rewrite(root: Path = ROOT, slug: str | None = None, check: bool = False) -> list[Path]:
    """Rewrite badges and COURSE_REPO lines under root; returns the files changed (or, with check, to change)."""
    slug = slug or read_slug(root)
    changed = []

    def update(path: Path, new: str, old: str) -> None:
        if new != old:
            changed.append(path)
            if not check:
                path.write_text(new, encoding="utf-8")

    for notebook in notebook_names(root):
        for suffix in (".py", ".ipynb"):
            path = root / "notebooks" / f"{notebook}{suffix}"
            if not path.is_file():
                continue
            old = path.read_text(encoding="utf-8")
            if BADGE_RE.search(old):
                new = _rewrite_text(old, slug, notebook)
            elif suffix == ".py":
                new = _rewrite_text(_add_badge_py(old, slug, notebook), slug, notebook)
            else:
                new = _rewrite_text(_add_badge_ipynb(path, slug, notebook), slug, notebook)
            update(path, new, old)

    readme = root / "README.md"
    if readme.is_file():
        old = readme.read_text(encoding="utf-8")
        lines = []
        for line in old.splitlines(keepends=True):
            row = ROW_RE.match(line)
            lines.append(BADGE_RE.sub(lambda _: badge(slug, row.group(1)), line) if row else line)
        update(readme, "".join(lines), old)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course repository (default: this one)")
    args = parser.parse_args(argv)
    slug = read_slug(args.root)
    changed = rewrite(args.root, slug, check=args.check)
    for path in changed:
        print(f"{'would rewrite' if args.check else 'rewrote'} {path.relative_to(args.root)}")
    print(f"{len(changed)} file(s) {'to change' if args.check else 'changed'}; badges point at github.com/{slug}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
