"""The exercises' solutions are hidden until opened, and their code runs.

GitHub and Colab render every code cell and its outputs in full (JupyterLab's collapsed-cell metadata means
nothing to them), so a solution's code lives inside its exercise's `<details><summary>Solution</summary>`
block as a fenced python block (`tools/hide_solutions.py` folds solution cells in, `wikiart_utils.solutions`).

- fast: no committed notebook shows a solution's code (no code cell tagged `solution`, none repeating a Solution
  block's code), every notebook's exercises hold solution code; the converter and the extractor on small
  notebooks written here, the tool on a small jupytext pair;
- the run: `make test` writes every notebook with its solution blocks as cells right after their exercise
  (`tools/hide_solutions.py --unfold-into build`, committed outputs kept) and nbval executes those: one run
  per notebook compares its committed outputs and fails on the solution that raised. Checked here: the
  unfolding, the Makefile's wiring, and `solutions.execute` (papermill) naming the block that raised.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from wikiart_utils import reproduce, solutions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = reproduce.notebooks()
IDS = [nb.stem[:2] for nb in NOTEBOOKS]

spec = importlib.util.spec_from_file_location("hide_solutions", ROOT / "tools" / "hide_solutions.py")
hide_solutions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(hide_solutions)

EXERCISE = ("**Exercise 1 (quick).** How many?\n\n"
            "<details><summary>Hint</summary>Count them.</details>\n\n"
            "<details><summary>Solution</summary>\n\nFour, as the cell prints.\n\n</details>")


# --------------------------------------------------------------------------- the committed notebooks

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_no_committed_notebook_shows_a_solution(notebook):
    for path in (notebook, notebook.with_suffix(".py")):
        nb = nbformat.read(path, as_version=4) if path.suffix == ".ipynb" else jupytext.read(path)
        visible = solutions.visible_solutions(nb)
        assert not visible, (f"{path.name} shows solution code: {'; '.join(visible)}; "
                             f"fix: python tools/hide_solutions.py notebooks/{notebook.stem}.py")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_every_exercises_section_has_solution_code(notebook):
    found = solutions.exercises(nbformat.read(notebook, as_version=4))
    assert found, f"{notebook.name}: no '## Exercises' section"
    assert [name for _, name, codes in found if codes], \
        f"{notebook.name}: no Solution block of its exercises holds a ```python block"


# --------------------------------------------------------------------------- the converter

def exercise_notebook(*cells) -> nbformat.NotebookNode:
    nb = new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = list(cells)
    return nb


def solution_cell(code: str, **kwargs) -> nbformat.NotebookNode:
    return new_code_cell(code, metadata={"tags": ["solution"], "jupyter": {"source_hidden": True}}, **kwargs)


def test_fold_moves_the_code_inside_the_solution_block():
    nb = exercise_notebook(new_code_cell("x = 2"), new_markdown_cell(EXERCISE),
                           solution_cell("print(x * 2)", execution_count=3,
                                         outputs=[new_output("stream", name="stdout", text="4\n")]),
                           new_markdown_cell("## Further reading"))
    folded = solutions.fold_solutions(nb)
    assert [c.cell_type for c in folded.cells] == ["code", "markdown", "markdown"]
    assert folded.cells[1].source == EXERCISE.replace(
        "Four, as the cell prints.\n\n</details>",
        "Four, as the cell prints.\n\n```python\nprint(x * 2)\n```\n\n</details>")
    assert solutions.fold_solutions(folded) == folded  # idempotent
    assert len(nb.cells) == 4  # the input is left as it was
    assert solutions.visible_solutions(nb) == ["cell 2: a code cell tagged 'solution' (under 'Exercise 1 (quick)')"]
    assert solutions.visible_solutions(folded) == []


def test_fold_makes_a_solution_block_when_there_is_none():
    nb = exercise_notebook(new_markdown_cell("**Exercise 2.** Why?"), solution_cell("answer = 42\n\n"))
    folded = solutions.fold_solutions(nb)
    assert folded.cells[0].source == ("**Exercise 2.** Why?\n\n<details><summary>Solution</summary>\n\n"
                                      "```python\nanswer = 42\n```\n\n</details>")
    assert solutions.solution_blocks(folded.cells[0].source) == ["answer = 42"]


def test_fold_opens_a_one_line_solution_and_keeps_consecutive_cells_in_order():
    one_line = "<details><summary>Solution</summary>First, then second.</details>"
    nb = exercise_notebook(new_markdown_cell(f"**Exercise 3.** Two steps.\n\n{one_line}\n\nMore."),
                           solution_cell("first = 1"), solution_cell("second = first + 1"))
    source = solutions.fold_solutions(nb).cells[0].source
    assert source == ("**Exercise 3.** Two steps.\n\n<details><summary>Solution</summary>\n\nFirst, then second.\n\n"
                      "```python\nfirst = 1\n```\n\n```python\nsecond = first + 1\n```\n\n</details>\n\nMore.")
    assert solutions.solution_blocks(source) == ["first = 1", "second = first + 1"]


def test_code_with_fences_and_details_inside_survives_the_round_trip():
    code = 'text = """\n```python\nx\n```\n</details>\n"""\nprint(text)'
    folded = solutions.fold_solutions(exercise_notebook(new_markdown_cell(EXERCISE), solution_cell(code)))
    source = folded.cells[0].source
    assert "\n````python\n" in source and source.endswith("\n````\n\n</details>")
    assert solutions.solution_blocks(source) == [code]
    assert solutions.solution_spans(source)[0][1] == len(source.split("\n")) - 1  # the real </details>


def test_only_python_blocks_of_solution_blocks_are_extracted():
    source = ("```python\nnot_a_solution()\n```\n\n<details><summary>Hint</summary>\n\n```python\nhint()\n```\n\n"
              "</details>\n\n<details><summary>Solution</summary>\n\n```text\noutput\n```\n\n```py\nshort()\n```\n\n"
              "<details><summary>More</summary>\n\n```python\nnested()\n```\n\n</details>\n\n```python\nlast()\n```\n\n"
              "</details>\n\n```python\nafter()\n```")
    assert solutions.solution_blocks(source) == ["short()", "nested()", "last()"]


def test_a_solution_cell_without_its_exercise_is_refused():
    nb = exercise_notebook(new_markdown_cell(EXERCISE), new_code_cell("x = 1"), solution_cell("print(x)"))
    with pytest.raises(solutions.FoldError, match=r"cell 2 .* follows code, not the exercise's markdown cell"):
        solutions.fold_solutions(nb)
    with pytest.raises(solutions.FoldError, match="follows nothing"):
        solutions.fold_solutions(exercise_notebook(solution_cell("print(1)")))


def test_a_code_cell_repeating_a_solution_is_visible():
    folded = solutions.fold_solutions(exercise_notebook(new_markdown_cell(EXERCISE),
                                                        solution_cell("a = 1\nb = a + 1\nprint(b)")))
    folded.cells.append(new_code_cell("b = a + 1  \nprint(b)\n"))
    folded.cells.append(new_code_cell("print(a)"))  # not a solution's lines
    assert solutions.visible_solutions(folded) == [
        "cell 1: a code cell repeating a Solution block's code (under 'Exercise 1 (quick)')"]


@pytest.mark.parametrize("renderer", ["markdown_it", "mistune"])
def test_the_folded_exercise_renders_a_collapsed_block_of_highlighted_code(renderer):
    """As GitHub (CommonMark: markdown-it) and nbconvert (mistune) render it: the prose a paragraph and the code
    a python code block, both inside <details> (closed: no `open`)."""
    module = pytest.importorskip(renderer)
    folded = solutions.fold_solutions(exercise_notebook(new_markdown_cell(EXERCISE), solution_cell("x = 1 < 2")))
    source = folded.cells[0].source
    if renderer == "markdown_it":
        html = module.MarkdownIt("commonmark", {"html": True}).render(source)
    else:
        html = module.html(source)
    inside = html[html.index("<details><summary>Solution</summary>"):]
    inside = inside[:inside.index("</details>")]
    assert "<p>Four, as the cell prints.</p>" in inside
    assert '<pre><code class="language-python">x = 1 &lt; 2\n</code></pre>' in inside
    assert "<details open" not in html


# --------------------------------------------------------------------------- the executable notebook

def test_executable_puts_each_block_after_its_markdown_cell():
    nb = exercise_notebook(new_code_cell("x = 2", execution_count=1, outputs=[new_output("execute_result",
                                                                                         data={"text/plain": "2"})]),
                           new_markdown_cell(EXERCISE), solution_cell("print(x)"), solution_cell("print(x + 1)"),
                           new_markdown_cell("**Exercise 2.** And?"), solution_cell("y = x"),
                           new_markdown_cell("## Further reading"))
    folded = solutions.fold_solutions(nb)
    built = solutions.executable(folded)
    assert [(c.cell_type, c.source[:9]) for c in built.cells] == [
        ("code", "x = 2"), ("markdown", "**Exercis"), ("code", "print(x)"), ("code", "print(x +"),
        ("markdown", "**Exercis"), ("code", "y = x"), ("markdown", "## Furthe")]
    assert built.cells[3].metadata == {"tags": ["solution"], "solution": {"exercise": "Exercise 1 (quick)", "block": 2,
                                                                          "markdown_cell": 1}}
    assert built.cells[0].outputs == [] and folded.cells[0].outputs  # cleared in the copy only
    nbformat.validate(built)
    assert solutions.visible_solutions(built)  # what --check would refuse: it is a build, never committed


def test_first_error_names_the_solution_block():
    built = solutions.executable(solutions.fold_solutions(
        exercise_notebook(new_markdown_cell(EXERCISE), solution_cell("1 / 0"))))
    assert solutions.first_error(built) is None
    built.cells[1].outputs = [new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])]
    assert solutions.first_error(built) == ("the solution of 'Exercise 1 (quick)' (block 1 of markdown cell 0) "
                                            "raised ZeroDivisionError: division by zero")
    built.cells[1].metadata = {}
    assert solutions.first_error(built).startswith("cell 1, not a solution (the notebook itself), raised")


# --------------------------------------------------------------------------- the tool, on a jupytext pair

def write_pair(folder: Path) -> Path:
    nb = exercise_notebook(new_markdown_cell("# 99 · Small"),
                           new_code_cell("x = 2", execution_count=1,
                                         outputs=[new_output("stream", name="stdout", text="kept\n")]),
                           new_markdown_cell("## Exercises"), new_markdown_cell(EXERCISE),
                           solution_cell("print(x * 2)", execution_count=2,
                                         outputs=[new_output("stream", name="stdout", text="4\n")]))
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    ipynb = folder / "99_small.ipynb"
    nbformat.write(nb, ipynb)
    jupytext.write(nb, ipynb.with_suffix(".py"), fmt="py:percent")
    os.utime(ipynb.with_suffix(".py"), ns=(ipynb.stat().st_atime_ns, ipynb.stat().st_mtime_ns + 10**9))
    return ipynb


def test_the_tool_folds_a_pair_syncs_it_and_then_changes_nothing(tmp_path, capsys):
    ipynb = write_pair(tmp_path)
    py = ipynb.with_suffix(".py")
    assert hide_solutions.main(["--check", str(py)]) == 1
    report = capsys.readouterr().out
    assert f"{ipynb}: cell 4: a code cell tagged 'solution'" in report and f"{py}: cell 4" in report
    assert hide_solutions.main([str(ipynb)]) == 0  # either file of the pair names it
    assert "1 solution cell(s) folded" in capsys.readouterr().out
    nb, script = nbformat.read(ipynb, as_version=4), jupytext.read(py)
    assert [c.source for c in nb.cells] == [c.source for c in script.cells] and len(nb.cells) == 4
    assert nb.cells[1].outputs[0]["text"] == "kept\n"  # the other cells' outputs survive the sync
    assert solutions.solution_blocks(nb.cells[3].source) == ["print(x * 2)"]
    assert '# %% jupyter={"source_hidden": true} tags=["solution"]' not in py.read_text(encoding="utf-8")
    before = {p.name: p.read_bytes() for p in (ipynb, py)}
    assert hide_solutions.main([str(py)]) == 0
    assert {p.name: p.read_bytes() for p in (ipynb, py)} == before
    assert hide_solutions.main(["--check", str(py)]) == 0


def test_the_tool_keeps_an_edit_saved_in_the_ipynb_only(tmp_path):
    """The pair is synced before the .py is edited: the newer .ipynb's cells are the ones folded."""
    ipynb = write_pair(tmp_path)
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells[1].source = "x = 3"
    nbformat.write(nb, ipynb)
    py = ipynb.with_suffix(".py")
    os.utime(ipynb, ns=(py.stat().st_atime_ns, py.stat().st_mtime_ns + 10**9))
    assert hide_solutions.main([str(py)]) == 0
    for folded in (nbformat.read(ipynb, as_version=4), jupytext.read(py)):
        assert folded.cells[1].source == "x = 3" and not solutions.visible_solutions(folded)


def test_the_tool_leaves_a_notebook_it_cannot_convert(tmp_path, capsys):
    nb = exercise_notebook(new_markdown_cell(EXERCISE), new_code_cell("x = 1"), solution_cell("print(x)"))
    ipynb = tmp_path / "98_orphan.ipynb"
    nbformat.write(nb, ipynb)
    before = ipynb.read_bytes()
    assert hide_solutions.main([str(ipynb)]) == 1
    assert "98_orphan.ipynb: not converted: cell 2" in capsys.readouterr().err
    assert ipynb.read_bytes() == before


# --------------------------------------------------------------------------- the solutions run

def test_unfold_into_keeps_the_committed_outputs_and_lets_nbval_ignore_the_solutions(tmp_path, monkeypatch):
    """What `make test` runs with nbval: the notebook's own cells as committed (outputs compared), its solution
    blocks as cells after their exercise whose outputs nbval does not compare (they have none committed)."""
    ipynb = write_pair(tmp_path)
    assert hide_solutions.main([str(ipynb)]) == 0
    monkeypatch.setattr(hide_solutions, "ROOT", tmp_path)
    assert hide_solutions.main(["--unfold-into", str(tmp_path / "run"), str(ipynb)]) == 0
    built = nbformat.read(tmp_path / "run" / ipynb.name, as_version=4)
    assert [c.source for c in built.cells] == ["# 99 · Small", "x = 2", "## Exercises", built.cells[3].source,
                                               "print(x * 2)"]
    assert built.cells[1].outputs[0]["text"] == "kept\n" and built.cells[1].execution_count == 1
    assert built.cells[4].metadata.tags == ["solution", "nbval-ignore-output"]
    assert nbformat.read(ipynb, as_version=4).cells[1].outputs  # the committed notebook is untouched
    with pytest.raises(SystemExit, match="not a folder directly in the repository"):
        hide_solutions.main(["--unfold-into", str(tmp_path / "run" / "deeper"), str(ipynb)])


def test_make_test_runs_nbval_on_the_notebooks_with_their_solutions():
    """One execution per notebook in CI: nbval over the unfolded copies, not over notebooks/ and again elsewhere."""
    recipe = (ROOT / "Makefile").read_text(encoding="utf-8").split("\ntest:")[1].split("\n\n")[0]
    assert "tools/hide_solutions.py --unfold-into build" in recipe
    assert "pytest --nbval --nbval-current-env build" in recipe
    assert "/build/" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


@pytest.mark.slow
def test_execute_names_the_solution_that_raised(tmp_path):
    nb = exercise_notebook(new_code_cell("x = 0", metadata={"tags": ["parameters"]}), new_markdown_cell(EXERCISE),
                           solution_cell("y = 1 / x"), new_markdown_cell("**Exercise 2.** Fine."),
                           solution_cell("z = 1"))
    source = tmp_path / "99_small.ipynb"
    nbformat.write(solutions.fold_solutions(nb), source)
    error = solutions.execute(source, tmp_path / "out" / "99_small.ipynb", cwd=tmp_path)
    assert error == ("the solution of 'Exercise 1 (quick)' (block 1 of markdown cell 1) raised "
                     "ZeroDivisionError: division by zero")
    assert solutions.execute(source, tmp_path / "out" / "99_ok.ipynb", parameters={"x": 2}, cwd=tmp_path) is None
