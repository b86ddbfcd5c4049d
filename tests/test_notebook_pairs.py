"""Every notebooks/NN_name.ipynb has its jupytext percent script NN_name.py beside it, with the same cells.

A notebook is edited in either form: in Jupyter/JupyterLab (jupytext saves both files), or the .py in an
editor followed by `jupytext --sync notebooks/NN_name.ipynb` (`make sync` for all), which takes the inputs
from the more recently modified file and keeps the outputs of the .ipynb. Compared per cell: type,
source and tags (trailing newlines aside: a percent script cannot hold them, and papermill's injected
cell ends with one). Outputs live only in the .ipynb and are not compared.

Also here: every notebook's "Open in Colab" badge, its Colab setup cell and the README's notebook table
point at the repository named in pyproject.toml ([tool.wikiart-course] github); `tools/colab_badges.py`
rewrites them.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"
PAIRING = "ipynb,py:percent"


def _load_colab_badges():
    spec = importlib.util.spec_from_file_location("colab_badges", REPO_ROOT / "tools" / "colab_badges.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab_badges = _load_colab_badges()


def notebook_names(folder: Path = NOTEBOOKS, suffix: str = ".ipynb") -> list[str]:
    return sorted(p.stem for p in folder.glob(f"[0-9][0-9]_*{suffix}"))


def shown(path: Path) -> str:
    """The path as the fix command should name it: relative to the repository when inside it."""
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def cell_key(cell) -> tuple[str, str, tuple[str, ...]]:
    return cell.cell_type, cell.source.rstrip("\n"), tuple(cell.metadata.get("tags", ()))


def _first_difference(a: str, b: str) -> str:
    """Line number and both versions of the first line where two cell sources differ."""
    a_lines, b_lines = a.splitlines(), b.splitlines()
    for n in range(max(len(a_lines), len(b_lines))):
        x = a_lines[n] if n < len(a_lines) else "<no line>"
        y = b_lines[n] if n < len(b_lines) else "<no line>"
        if x != y:
            return f"source line {n + 1}: ipynb {x[:100]!r} vs py {y[:100]!r}"
    return "source differs in its line endings"


def pair_difference(ipynb: Path, py: Path | None = None) -> str | None:
    """None when `py` (default: beside `ipynb`) holds the same cells as `ipynb`, else a message naming the
    notebook, the first differing cell and the fix."""
    py = py or ipynb.with_suffix(".py")
    fix = f"fix: jupytext --sync {shown(ipynb)} (the more recently modified of the two files wins)"
    if not py.is_file():
        return (f"{ipynb.name} has no paired script {py.name}; fix: jupytext --set-formats {PAIRING} "
                f"{shown(ipynb)}")
    nb = nbformat.read(ipynb, as_version=4)
    text = jupytext.read(py)
    formats = nb.metadata.get("jupytext", {}).get("formats")
    if formats != PAIRING:
        return (f"{ipynb.name} is not paired with its .py (jupytext formats {formats!r}); fix: "
                f"jupytext --set-formats {PAIRING} {shown(ipynb)}")
    a_cells, b_cells = [cell_key(c) for c in nb.cells], [cell_key(c) for c in text.cells]
    for i in range(max(len(a_cells), len(b_cells))):
        if i >= len(a_cells) or i >= len(b_cells):
            longer = ipynb.name if i < len(a_cells) else py.name
            return (f"{ipynb.name} and {py.name} are out of sync: cell {i} is in {longer} only "
                    f"({len(a_cells)} cells in the .ipynb, {len(b_cells)} in the .py); {fix}")
        (a_type, a_source, a_tags), (b_type, b_source, b_tags) = a_cells[i], b_cells[i]
        if a_cells[i] == b_cells[i]:
            continue
        if a_type != b_type:
            what = f"cell type: ipynb {a_type} vs py {b_type}"
        elif a_tags != b_tags:
            what = f"tags: ipynb {list(a_tags)} vs py {list(b_tags)}"
        else:
            what = _first_difference(a_source, b_source)
        return f"{ipynb.name} and {py.name} are out of sync at cell {i} ({what}); {fix}"
    return None


# --------------------------------------------------------------------------- the course's pairs

def test_notebooks_found():
    assert len(notebook_names()) >= 7


def test_every_notebook_has_its_py_and_back():
    ipynb, py = notebook_names(suffix=".ipynb"), notebook_names(suffix=".py")
    assert not sorted(set(ipynb) - set(py)), (
        f"notebooks without a .py pair: {sorted(set(ipynb) - set(py))}; fix: "
        f"jupytext --set-formats {PAIRING} notebooks/<name>.ipynb")
    assert not sorted(set(py) - set(ipynb)), (
        f"scripts without a notebook: {sorted(set(py) - set(ipynb))}; fix: jupytext --sync notebooks/<name>.py "
        "(creates the .ipynb), or delete the stray .py")


@pytest.mark.parametrize("name", notebook_names())
def test_pair_in_sync(name):
    message = pair_difference(NOTEBOOKS / f"{name}.ipynb")
    assert message is None, message


@pytest.mark.parametrize("name", notebook_names())
def test_tags_and_nbval_markers_in_both_forms(name):
    """The papermill `parameters` cell and nbval's `nbval-ignore-output` tags exist in both files."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    script = (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")
    assert [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])], name
    assert '# %% tags=["parameters"]' in script, name
    ignored = sum("nbval-ignore-output" in c.metadata.get("tags", []) for c in nb.cells if c.cell_type == "code")
    assert script.count('"nbval-ignore-output"') == ignored, name


# --------------------------------------------------------------------------- the check can fail

def small_notebook() -> nbformat.NotebookNode:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                               "language": "python"}})
    nb.cells = [
        new_markdown_cell("# 99 · A title\n\nSome prose."),
        new_code_cell("DATA_DIR = None\nEPOCHS = 2", metadata={"tags": ["parameters"]}),
        new_code_cell("# NBVAL_IGNORE_OUTPUT\nprint(EPOCHS)", execution_count=1,
                      outputs=[new_output("stream", name="stdout", text="2\n")]),
        new_markdown_cell("## Results\n\nIt printed two."),
    ]
    nb.metadata["jupytext"] = {"formats": PAIRING}
    return nb


def write_pair(folder: Path, nb) -> Path:
    ipynb = folder / "99_small.ipynb"
    nbformat.write(nb, ipynb)
    jupytext.write(nb, ipynb.with_suffix(".py"), fmt="py:percent")
    return ipynb


def test_small_pair_in_sync(tmp_path):
    ipynb = write_pair(tmp_path, small_notebook())
    assert pair_difference(ipynb) is None
    assert '# %% tags=["parameters"]' in ipynb.with_suffix(".py").read_text(encoding="utf-8")


@pytest.mark.parametrize("edit, cell, expected", [
    (lambda s: s.replace("EPOCHS = 2", "EPOCHS = 3"), 1, "source line 2: ipynb 'EPOCHS = 2' vs py 'EPOCHS = 3'"),
    (lambda s: s.replace(' tags=["parameters"]', ""), 1, "tags: ipynb ['parameters'] vs py []"),
    (lambda s: s.replace("# %% [markdown]\n# ## Results", "# %%\n# ## Results"), 3, "cell type"),
    (lambda s: s + "\n# %%\nprint('new')\n", 4, "cell 4 is in 99_small.py only"),
    (lambda s: s.replace("# NBVAL_IGNORE_OUTPUT\n", ""), 2, "'# NBVAL_IGNORE_OUTPUT' vs py 'print(EPOCHS)'"),
])
def test_out_of_sync_pair_reported(tmp_path, edit, cell, expected):
    ipynb = write_pair(tmp_path, small_notebook())
    py = ipynb.with_suffix(".py")
    py.write_text(edit(py.read_text(encoding="utf-8")), encoding="utf-8")
    message = pair_difference(ipynb)
    assert message is not None
    assert message.startswith("99_small.ipynb and 99_small.py are out of sync"), message
    assert f"cell {cell}" in message and expected in message, message
    assert f"fix: jupytext --sync {ipynb}" in message, message


def test_missing_or_unpaired_reported(tmp_path):
    nb = small_notebook()
    ipynb = write_pair(tmp_path, nb)
    ipynb.with_suffix(".py").unlink()
    assert "has no paired script 99_small.py" in pair_difference(ipynb)
    del nb.metadata["jupytext"]
    ipynb = write_pair(tmp_path, nb)
    assert "is not paired" in pair_difference(ipynb)


def test_suggested_fix_repairs_the_pair(tmp_path):
    """`jupytext --sync` (the fix the message names) takes the edited .py and keeps the outputs."""
    from jupytext.cli import jupytext as jupytext_cli

    ipynb = write_pair(tmp_path, small_notebook())
    py = ipynb.with_suffix(".py")
    py.write_text(py.read_text(encoding="utf-8").replace("EPOCHS = 2", "EPOCHS = 3"), encoding="utf-8")
    stat = ipynb.stat()
    os.utime(py, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**10))  # the .py is the newer file
    assert pair_difference(ipynb) is not None
    jupytext_cli(["--sync", "--quiet", str(ipynb)])
    assert pair_difference(ipynb) is None
    nb = nbformat.read(ipynb, as_version=4)
    assert nb.cells[1].source == "DATA_DIR = None\nEPOCHS = 3"
    assert nb.cells[2].outputs[0]["text"] == "2\n"


# --------------------------------------------------------------------------- Open in Colab

def test_slug_in_pyproject():
    slug = colab_badges.read_slug(REPO_ROOT)
    assert colab_badges.SLUG_RE.match(slug), slug


@pytest.mark.parametrize("name", notebook_names())
def test_notebook_starts_with_colab_badge(name):
    slug = colab_badges.read_slug(REPO_ROOT)
    badge = (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             f"(https://colab.research.google.com/github/{slug}/blob/main/notebooks/{name}.ipynb)")
    hint = "; fix: python tools/colab_badges.py"
    for nb in (nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4), jupytext.read(NOTEBOOKS / f"{name}.py")):
        first = nb.cells[0]
        assert first.cell_type == "markdown", name
        assert first.source.splitlines()[0] == badge, f"{name}: first line {first.source.splitlines()[0]!r}{hint}"
        setup = next(c for c in nb.cells if c.cell_type == "code")
        assert f'COURSE_REPO = "{slug}"' in setup.source, f"{name}: Colab setup cell{hint}"
        assert "clone" in setup.source and "pip" in setup.source, name
        assert not setup.get("outputs"), f"{name}: the Colab setup cell prints nothing locally"


@pytest.mark.parametrize("on_colab", [True, False])
def test_colab_setup_cell(monkeypatch, on_colab):
    """On Colab the setup cell clones the course once, installs it and moves into its notebooks/; locally
    it does nothing (run here with subprocess, chdir and the clone check faked)."""
    slug = colab_badges.read_slug(REPO_ROOT)
    project = "/content/" + slug.split("/")[1]
    for name in notebook_names():
        setup = next(c for c in nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4).cells
                     if c.cell_type == "code")
        for cloned in (False, True):
            calls = []
            with monkeypatch.context() as patch:
                if on_colab:
                    patch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
                else:
                    patch.delitem(sys.modules, "google.colab", raising=False)
                patch.setattr(subprocess, "run", lambda args, **kw: calls.append(("run", list(args))))
                patch.setattr(os, "chdir", lambda path: calls.append(("chdir", str(path))))
                patch.setattr(os.path, "isdir", lambda path: cloned and path == project)
                patch.setattr(sys, "path", list(sys.path))
                exec(compile(setup.source, f"{name}: setup cell", "exec"), {})
                added = [p for p in sys.path if p == project]
            if not on_colab:
                assert calls == [] and not added, name
                continue
            clone = ("run", ["git", "clone", "-q", f"https://github.com/{slug}.git", project])
            install = ("run", [sys.executable, "-m", "pip", "install", "-q", "-e", project])
            expected = ([] if cloned else [clone]) + [install, ("chdir", f"{project}/notebooks")]
            assert calls == expected, name
            assert added, name


def test_readme_table_has_colab_badges():
    slug = colab_badges.read_slug(REPO_ROOT)
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    rows = {line.split("`")[1]: line for line in readme.splitlines() if colab_badges.ROW_RE.match(line)}
    for name in notebook_names():
        assert name in rows, f"README's notebook table has no row for {name}"
        assert colab_badges.badge(slug, name) in rows[name], f"{name}; fix: python tools/colab_badges.py"
    assert "tools/colab_badges.py" in readme


def test_badges_up_to_date():
    changed = colab_badges.rewrite(REPO_ROOT, check=True)
    assert not changed, f"stale Colab badges in {[shown(p) for p in changed]}; fix: python tools/colab_badges.py"


def copy_course(dest: Path) -> Path:
    (dest / "notebooks").mkdir(parents=True)
    for path in NOTEBOOKS.glob("[0-9][0-9]_*"):
        if path.suffix in (".ipynb", ".py"):
            shutil.copy2(path, dest / "notebooks" / path.name)
    for name in ("README.md", "pyproject.toml"):
        shutil.copy2(REPO_ROOT / name, dest / name)
    return dest


def test_fork_rewrites_every_badge_idempotently(tmp_path):
    root = copy_course(tmp_path / "fork")
    old = colab_badges.read_slug(root)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace(f'github = "{old}"', 'github = "someone/my-fork"'), encoding="utf-8")
    assert colab_badges.read_slug(root) == "someone/my-fork"
    outputs_before = {p.name: [c.get("outputs") for c in nbformat.read(p, as_version=4).cells]
                      for p in (root / "notebooks").glob("*.ipynb")}

    changed = colab_badges.rewrite(root)
    names = notebook_names(root / "notebooks")
    assert sorted(p.name for p in changed) == sorted(
        [f"{n}.ipynb" for n in names] + [f"{n}.py" for n in names] + ["README.md"])
    assert colab_badges.rewrite(root) == []  # idempotent
    for name in names:
        ipynb = root / "notebooks" / f"{name}.ipynb"
        assert pair_difference(ipynb) is None
        nb = nbformat.read(ipynb, as_version=4)
        assert nb.cells[0].source.startswith(colab_badges.badge("someone/my-fork", name) + "\n")
        assert [c.get("outputs") for c in nb.cells] == outputs_before[ipynb.name]
        assert old not in ipynb.read_text(encoding="utf-8")
        assert old not in ipynb.with_suffix(".py").read_text(encoding="utf-8")
    readme = (root / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert colab_badges.badge("someone/my-fork", name) in readme
    assert f"github/{old}/" not in readme


def test_badge_added_to_a_new_notebook(tmp_path):
    (tmp_path / "notebooks").mkdir()
    shutil.copy2(REPO_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    ipynb = write_pair(tmp_path / "notebooks", small_notebook())
    slug = colab_badges.read_slug(tmp_path)
    assert len(colab_badges.rewrite(tmp_path)) == 2
    assert pair_difference(ipynb) is None
    nb = nbformat.read(ipynb, as_version=4)
    assert nb.cells[0].source == f"{colab_badges.badge(slug, '99_small')}\n\n# 99 · A title\n\nSome prose."
    assert nb.cells[2].outputs[0]["text"] == "2\n"
    assert colab_badges.rewrite(tmp_path) == []
