"""`reproduce` regenerates the figures the README embeds.

Notebooks 01-02 are executed here into a temporary folder (seconds); the training notebooks 03-07 are
executed by nbval in the same CI run, so for them we check that each README figure is one the
notebook's code writes.
"""
import json
import re
from pathlib import Path

import nbformat
import pytest

from wikiart_utils import reproduce

ROOT = Path(__file__).resolve().parents[1]
README_FIGURE = re.compile(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)")


def readme_figures() -> list[str]:
    return README_FIGURE.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def written_patterns(notebook: Path) -> list[re.Pattern]:
    """Regexes for the figure paths a notebook's code writes (f-string fields become wildcards)."""
    source = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    names = re.findall(r"\{FIGURES\}/([^\"']+\.png)", source)
    return [re.compile("^" + re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(n)) + "$") for n in names]


def test_readme_embeds_figures_that_exist():
    figures = readme_figures()
    assert len(figures) >= 2
    for figure in figures:
        assert (ROOT / figure).is_file(), f"README embeds {figure}, which is not committed"


def test_every_readme_figure_is_written_by_a_notebook():
    patterns = [p for nb in reproduce.notebooks() for p in written_patterns(nb)]
    for figure in readme_figures():
        name = Path(figure).name
        assert any(p.match(name) for p in patterns), f"no notebook writes {figure}"


@pytest.mark.slow
def test_reproduce_regenerates_eda_figures(tmp_path):
    figures = tmp_path / "figures"
    written = reproduce.reproduce(only=["01", "02"], output_dir=tmp_path / "nb",
                                  parameters={"FIGURES": str(figures)})
    assert [p.name for p in written] == ["01_eda_class_imbalance.ipynb", "02_dataset_and_dataloaders.ipynb"]
    expected = {Path(f).name for f in readme_figures() if Path(f).name.startswith(("01_", "02_"))}
    assert expected and expected <= {p.name for p in figures.glob("*.png")}
    for notebook in written:
        outputs = [o for c in nbformat.read(notebook, as_version=4).cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"]
        assert notebook.read_bytes().endswith(b"}\n"), f"{notebook.name} does not end as jupytext writes it"


def test_committed_notebooks_end_as_jupytext_sync_writes_them():
    """`make reproduce` runs `jupytext --sync` first, which ends every .ipynb with a newline: a committed
    notebook without one is rewritten (a diff in the committed notebooks) by any run, `PROFILE=full` too."""
    unsynced = [nb.name for nb in reproduce.notebooks() if not nb.read_bytes().endswith(b"}\n")]
    assert not unsynced, f"end with a newline (as jupytext writes them): {unsynced}"


def test_end_with_newline_adds_one_only_when_missing(tmp_path):
    path = tmp_path / "nb.ipynb"
    path.write_bytes(b"{}")
    reproduce.end_with_newline(path)
    reproduce.end_with_newline(path)
    assert path.read_bytes() == b"{}\n"


def test_papermill_metadata_names_no_machine_folder(tmp_path):
    """papermill records the absolute paths it read and wrote: after `reproduce` they are repository-relative
    (path parameters relative to notebooks/, where the kernel runs), and nothing else in the file moves."""
    root = tmp_path / "repo"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nb.metadata["papermill"] = {
        "input_path": str(root / "notebooks" / "01_a.ipynb"), "output_path": str(root / "runs" / "full" / "01_a.ipynb"),
        "parameters": {"FIGURES": str(root / "runs" / "full" / "figures"), "DATA_DIR": str(tmp_path / "wikiart"),
                       "CAPS": {"epochs": 2}, "PROFILE": "full"},
        "duration": 1.5}
    path = root / "runs" / "full" / "01_a.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(nb, path)
    before = path.read_text(encoding="utf-8")
    assert reproduce.portable_papermill_metadata(path, root)
    after = path.read_text(encoding="utf-8")
    meta = json.loads(after)["metadata"]["papermill"]
    assert meta["input_path"] == "notebooks/01_a.ipynb" and meta["output_path"] == "runs/full/01_a.ipynb"
    assert meta["parameters"] == {"FIGURES": "../runs/full/figures", "DATA_DIR": "<outside-repo>/wikiart",
                                  "CAPS": {"epochs": 2}, "PROFILE": "full"}
    assert str(tmp_path) not in after and after.endswith("}\n")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines()) and len(changed) == 4  # the four paths only
    assert not reproduce.portable_papermill_metadata(path, root)  # a second pass changes nothing

