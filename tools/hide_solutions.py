#!/usr/bin/env python3
"""Hide the exercises' solutions until opened: fold each solution code cell into its exercise's markdown.

GitHub and Colab show every code cell and its outputs, whatever JupyterLab's collapsed-cell metadata says,
so a solution kept as a code cell tagged `solution` is read before it is tried. This moves each such cell's
code into the `<details><summary>Solution</summary> ... </details>` block of the markdown cell just before it
(after the prose, before `</details>`; a Solution block is made at the cell's end when it has none), as a
fenced ```python block with blank lines around it, so that GitHub, JupyterLab and Colab render a collapsed
block holding highlighted code (`wikiart_utils.solutions` says why the blank lines matter). The cell and its
outputs are dropped.

It edits the jupytext pair's .py (the cells' source of truth), then runs `jupytext --sync` on the pair, which
rewrites the .ipynb with the .py's cells and keeps every other cell's outputs (a pair with solution cells is
synced once before, as `make sync` does, so an edit saved in the .ipynb only is kept). A second run changes
nothing.

    python tools/hide_solutions.py                      # every notebooks/NN_name pair
    python tools/hide_solutions.py notebooks/01_eda_class_imbalance.py
    python tools/hide_solutions.py --check              # exit 1 naming each notebook still showing a solution
    python tools/hide_solutions.py --unfold-into build  # what `make test` runs with nbval (below)

A path may name either file of a pair; a notebook without a .py is edited as an .ipynb (outputs kept).
`--unfold-into DIR` writes each committed .ipynb with its solution blocks back as code cells right after their
exercise (the committed outputs kept, each solution cell tagged `nbval-ignore-output`) into DIR, a folder one
level below the repository as notebooks/ is, so the notebooks' relative paths (../figures) mean the same.
`make test` then runs `pytest --nbval` on DIR: one execution per notebook checks its committed outputs *and*
that every solution runs. (`wikiart_utils.solutions.execute` runs one notebook so with papermill.)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import jupytext
import nbformat

from wikiart_utils import solutions

ROOT = Path(__file__).resolve().parents[1]


def shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def pairs(paths: list[str]) -> list[Path]:
    """Each notebook once, as the file to edit: its .py when it has one, else its .ipynb."""
    found = [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chosen = []
    for path in found:
        if path.suffix not in (".py", ".ipynb"):
            raise SystemExit(f"error: {path} is neither a notebook (.ipynb) nor its jupytext pair (.py)")
        py = path.with_suffix(".py")
        main = py if py.is_file() else path.with_suffix(".ipynb")
        if not main.is_file():
            raise SystemExit(f"error: {path}: no such notebook")
        if main not in chosen:
            chosen.append(main)
    return chosen


def read(path: Path):
    return jupytext.read(path) if path.suffix == ".py" else nbformat.read(path, as_version=4)


def sync_pair(ipynb: Path) -> None:
    from jupytext.cli import jupytext as jupytext_cli

    jupytext_cli(["--sync", "--quiet", str(ipynb)])


def convert(path: Path, sync: bool = True) -> tuple[str, bool]:
    """Fold `path`'s solution cells; returns (what happened, whether it failed). A pair with solution cells is
    synced first (as `make sync`: the more recently modified file's cells), so no edit of the .ipynb is lost."""
    ipynb = path.with_suffix(".ipynb")
    paired = path.suffix == ".py" and sync and ipynb.is_file()
    if paired and any(solutions.is_solution_cell(c) for file in (path, ipynb) for c in read(file).cells):
        sync_pair(ipynb)
    nb = read(path)
    try:
        folded = solutions.fold_solutions(nb)
    except solutions.FoldError as error:
        return f"{shown(path)}: not converted: {error}", True
    moved = len(nb.cells) - len(folded.cells)
    if folded == nb:
        return f"{shown(path)}: no solution cell to fold", False
    if path.suffix == ".py":
        jupytext.write(folded, path, fmt="py:percent")
    else:
        nbformat.write(folded, path)
    if paired:
        newest = max(path.stat().st_mtime_ns, ipynb.stat().st_mtime_ns)
        os.utime(path, ns=(path.stat().st_atime_ns, newest))  # the .py's cells win the sync, even on a tie
        sync_pair(ipynb)
        return f"{shown(path)}: {moved} solution cell(s) folded into their exercises; {ipynb.name} synced", False
    return f"{shown(path)}: {moved} solution cell(s) folded into their exercises", False


def check(path: Path) -> list[str]:
    """Each file of the pair that still shows a solution's code, with where and the fix."""
    problems = []
    for file in (path.with_suffix(".py"), path.with_suffix(".ipynb")):
        if file.is_file():
            problems += [f"{shown(file)}: {where}" for where in solutions.visible_solutions(read(file))]
    if problems:
        problems.append(f"  fix: python tools/hide_solutions.py {shown(path)}")
    return problems


def unfold_into(folder: Path, notebooks: list[Path]) -> list[Path]:
    """Each notebook's committed .ipynb with its solutions as cells, written into `folder` (see the docstring)."""
    if folder.resolve().parent != ROOT:
        raise SystemExit(f"error: {folder} is not a folder directly in the repository (as notebooks/ is): "
                         "the notebooks' relative paths such as ../figures would point elsewhere")
    folder.mkdir(exist_ok=True)
    written = []
    for path in notebooks:
        ipynb = path.with_suffix(".ipynb")
        target = folder / ipynb.name
        nbformat.write(solutions.executable(nbformat.read(ipynb, as_version=4), keep_outputs=True), target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="notebooks/NN_name.py or .ipynb (default: every notebook pair)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a solution's code shows")
    parser.add_argument("--no-sync", action="store_true", help="edit the .py only (run jupytext --sync yourself)")
    parser.add_argument("--unfold-into", metavar="DIR", type=Path,
                        help="change nothing; write each .ipynb with its solutions as cells into DIR, for nbval")
    args = parser.parse_args(argv)
    notebooks = pairs(args.paths)
    if args.unfold_into:
        written = unfold_into(args.unfold_into, notebooks)
        print(f"{len(written)} notebook(s) with their solutions as cells in {shown(args.unfold_into)}/")
        return 0
    if args.check:
        problems = [line for path in notebooks for line in check(path)]
        print("\n".join(problems) if problems else f"no visible solution code in {len(notebooks)} notebook(s)")
        return 1 if problems else 0
    failed = False
    for path in notebooks:
        message, bad = convert(path, sync=not args.no_sync)
        print(message, file=sys.stderr if bad else sys.stdout)
        failed |= bad
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
