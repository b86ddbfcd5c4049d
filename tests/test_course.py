"""The committed notebooks read as a course: figures a learner can see, one parameters cell, and the same
shape in every notebook (what you will learn, take-aways, exercises with hints and folded worked solutions,
further reading). That the solutions' code runs is tests/test_solutions.py's.

These read the committed .ipynb files (fast); nbval re-executes them in `make test`.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from wikiart_utils import reproduce, solutions

NOTEBOOKS = reproduce.notebooks()
IDS = [nb.stem[:2] for nb in NOTEBOOKS]


def cells(notebook: Path) -> list:
    return nbformat.read(notebook, as_version=4).cells


def outputs(notebook: Path) -> list[dict]:
    return [o for c in cells(notebook) if c.cell_type == "code" for o in c.get("outputs", [])]


def markdown(notebook: Path) -> str:
    return "\n".join(c.source for c in cells(notebook) if c.cell_type == "markdown")


IMAGE_TYPES = {"image/png", "image/jpeg"}  # charts as PNG, paintings as JPEG (`plots.show_in_notebooks`)


def test_there_are_eight_notebooks():
    assert IDS == ["01", "02", "03", "04", "05", "06", "07", "08"]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_one_story_per_notebook_in_at_most_55_cells(notebook):
    assert len(cells(notebook)) <= 55, f"{notebook.name}: {len(cells(notebook))} cells"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_the_lesson_text_is_free_of_test_tooling(notebook):
    """nbval's markers are cell tags, never comments a learner reads; the prose does not explain the test or
    reproduction tools (the README's "Working on the course" does)."""
    book = cells(notebook)
    assert not [c for c in book if c.cell_type == "code" and "NBVAL" in c.source], f"{notebook.name}: NBVAL comment"
    prose = markdown(notebook).lower()
    for word in ("nbval", "papermill", "caps"):
        assert not re.search(rf"\b{word}\b", prose), f"{notebook.name}: the lesson text mentions {word}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_no_figure_shows_as_text(notebook):
    """A figure displayed without a PNG is `<Figure size ...>` text: the learner sees no picture."""
    as_text = [o for o in outputs(notebook)
               if "<Figure size" in "".join(o.get("data", {}).get("text/plain", "")) or
               ("[figure]" in "".join(o.get("data", {}).get("text/plain", "")) and not IMAGE_TYPES & set(o.get("data", {})))]
    assert not as_text, f"{notebook.name}: {len(as_text)} figure output(s) without an image"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_every_saved_figure_is_also_shown(notebook):
    """Each cell that saves a figure to FIGURES shows at least as many images as it saves figures."""
    for cell in cells(notebook):
        if cell.cell_type != "code" or "{FIGURES}/" not in cell.source:
            continue
        images = sum(bool(IMAGE_TYPES & set(o.get("data", {}))) for o in cell.get("outputs", []))
        assert images >= 1, f"{notebook.name}: a cell saves a figure but shows none:\n{cell.source[:200]}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_one_parameters_cell_and_no_error(notebook):
    tags = [set(c.metadata.get("tags", [])) for c in cells(notebook)]
    assert sum("parameters" in t for t in tags) == 1, f"{notebook.name}: needs exactly one parameters cell"
    assert not any("injected-parameters" in t for t in tags), f"{notebook.name}: papermill's injected cell committed"
    errors = [o for o in outputs(notebook) if o.get("output_type") == "error"]
    assert not errors, f"{notebook.name}: committed error output"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_course_sections(notebook):
    text = markdown(notebook)
    for heading in ("## What you will learn", "## Take-aways", "## Exercises", "## Further reading"):
        assert re.search(rf"^{re.escape(heading)}", text, re.M), f"{notebook.name}: no '{heading}' section"
    order = [text.index(h) for h in ("## What you will learn", "## Take-aways", "## Exercises", "## Further reading")]
    assert order == sorted(order), f"{notebook.name}: sections out of order"


def further_reading(notebook: Path) -> str:
    text = markdown(notebook)
    return text[text.index("## Further reading"):]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_further_reading_names_works_with_a_year(notebook):
    entries = [line for line in further_reading(notebook).splitlines() if line.lstrip().startswith(("-", "*", "1"))]
    dated = [line for line in entries if re.search(r"\b(19|20)\d\d\b", line)]
    assert len(dated) >= 2, f"{notebook.name}: further reading should name at least two works with their year"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_exercises_have_hints_and_folded_solutions(notebook):
    """Every exercise: a hint, and a worked solution folded in a <details> block with its code inside as a
    fenced python block (GitHub and Colab show every code cell and its outputs, whatever JupyterLab's
    collapsed-cell metadata says: `tools/hide_solutions.py` folds solution cells in)."""
    book = cells(notebook)
    exercises = [i for i, c in enumerate(book) if c.cell_type == "markdown" and re.match(r"\*\*Exercise \d+", c.source)]
    assert len(exercises) >= 3, f"{notebook.name}: {len(exercises)} exercises, want at least 3"
    for n, i in enumerate(exercises, start=1):
        assert "<details>" in book[i].source and "Hint" in book[i].source, f"{notebook.name}: exercise {n} has no hint"
        assert "<details><summary>Solution</summary>" in book[i].source, \
            f"{notebook.name}: exercise {n} has no worked solution folded in a <details> block"
        assert solutions.solution_blocks(book[i].source), \
            f"{notebook.name}: exercise {n}'s solution holds no code; fix: python tools/hide_solutions.py"
