"""The exercises' worked solutions: folded into the exercise's markdown, and run back from there.

A solution is shown nowhere until the learner opens it: its prose *and its code* sit in the exercise's
markdown cell, inside

    <details><summary>Solution</summary>

    prose

    ```python
    code
    ```

    </details>

GitHub and Colab render a notebook's code cells and their outputs in full whatever JupyterLab's
collapsed-cell metadata says, so a solution kept as a code cell is read before it is tried. The blank lines
matter: CommonMark (GitHub, JupyterLab, Colab) ends the `<details><summary>...` HTML block at the first blank
line and parses what follows as markdown, so the code is a highlighted fenced block, and `</details>` after a
blank line closes the fold.

- `fold_solutions`: a notebook whose solutions are code cells tagged `solution` -> the same notebook with each
  such cell's code moved into the Solution block of the markdown cell just before it (`tools/hide_solutions.py`
  runs it on the .py of a jupytext pair, then `jupytext --sync`);
- `visible_solutions`: what still shows a solution's code (`--check`, tests/test_solutions.py);
- `executable`: the notebook with every folded block back as a code cell right after its markdown cell, so
  the solutions run with the notebook's state at that point (`execute` runs it with papermill; with
  `keep_outputs`, `tools/hide_solutions.py --unfold-into` writes what `make test` checks with nbval).
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

SOLUTION_TAG = "solution"
NBVAL_IGNORE_OUTPUT = "nbval-ignore-output"  # a solution has no committed output to compare
SUMMARY = "<details><summary>Solution</summary>"
SUMMARY_RE = re.compile(r"^[ ]{0,3}<details>\s*<summary>\s*Solution\s*</summary>(.*)$", re.I)
PYTHON_INFO = {"python", "python3", "py", "ipython", "ipython3"}
_FENCE_OPEN = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$")


class FoldError(ValueError):
    """A solution cell the converter cannot place (no markdown cell just before it)."""


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return (len(line) - len(line.lstrip(" ")) <= 3 and stripped.startswith(fence[0] * len(fence))
            and set(stripped) == {fence[0]})


def _depth(line: str) -> int:
    """How many <details> a line opens, less how many it closes."""
    return len(re.findall(r"<details[\s>]", line, re.I)) - len(re.findall(r"</details\s*>", line, re.I))


def _scan(lines: list[str], start: int, depth: int) -> tuple[int, list[tuple[str, str]]]:
    """From the line after a Solution summary: the index of its closing `</details>` (len(lines) when
    none) and the fenced blocks inside it as (info word, code), fences and nested <details> respected."""
    fence, info, body, blocks = None, "", [], []
    for n in range(start, len(lines)):
        line = lines[n]
        if fence is not None:
            if _closes(line, fence):
                blocks.append((info, "\n".join(body)))
                fence = None
            else:
                body.append(line)
            continue
        opened = _FENCE_OPEN.match(line)
        if opened:
            fence, info, body = opened.group(1), opened.group(2).lower(), []
            continue
        depth += _depth(line)
        if depth <= 0:
            return n, blocks
    return len(lines), blocks


def solution_spans(source: str) -> list[tuple[int, int, list[str]]]:
    """Each Solution block of a markdown source: (summary line, closing `</details>` line -- the same line
    for a one-line block, len(lines) for one never closed --, its python codes)."""
    lines, spans, n = source.split("\n"), [], 0
    while n < len(lines):
        summary = SUMMARY_RE.match(lines[n])
        if summary:
            depth = 1 + _depth(summary.group(1))
            end, blocks = (n, []) if depth <= 0 else _scan(lines, n + 1, depth)
            spans.append((n, end, [code for info, code in blocks if info in PYTHON_INFO]))
            n = end
        n += 1
    return spans


def solution_blocks(source: str) -> list[str]:
    """The python code of every fenced block inside the Solution blocks of a markdown source, in order."""
    return [code for _, _, codes in solution_spans(source) for code in codes]


def normalise(code: str) -> str:
    """Code compared line by line: trailing spaces and surrounding blank lines dropped."""
    return "\n".join(line.rstrip() for line in code.strip("\n").split("\n")).strip("\n")


def fenced(code: str) -> str:
    """`code` as a fenced python block, its fence longer than any backtick run inside it."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}python\n{normalise(code)}\n{fence}"


def add_to_solution(source: str, code: str) -> str:
    """`source` (a markdown cell) with `code` as a fenced block at the end of its last Solution block
    (after the prose, before `</details>`, blank lines around it), or in a new Solution block at its end.
    Code already there is not added twice. A blank line is made after the summary when there is none, so
    the prose renders as markdown too."""
    if normalise(code) in {normalise(c) for c in solution_blocks(source)}:
        return source
    spans = solution_spans(source)
    lines = source.split("\n")
    if not spans or spans[-1][1] >= len(lines):  # none, or one left open: a new block of our own
        return source.rstrip("\n") + f"\n\n{SUMMARY}\n\n{fenced(code)}\n\n</details>"
    start, end, _ = spans[-1]
    summary = SUMMARY_RE.match(lines[start])
    first, body, last = summary.group(1), lines[start + 1:end], lines[end]
    if end == start:  # <details><summary>Solution</summary>prose</details> on one line
        first, last = "", first
    closing = list(re.finditer(r"</details\s*>", last, re.I))
    inside, after = (last[:closing[-1].start()], last[closing[-1].end():]) if closing else (last, "")
    content = [first.strip()] + body + [inside.rstrip()]
    while content and not content[-1].strip():
        content.pop()
    while content and not content[0].strip():
        content.pop(0)
    block = [lines[start][:summary.start(1)], ""] + content + ([""] if content else [])
    return "\n".join(lines[:start] + block + [fenced(code), "", "</details>" + after] + lines[end + 1:])


def is_solution_cell(cell) -> bool:
    return cell.get("cell_type") == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def label(source: str) -> str:
    """How a message names an exercise: its bold lead ("Exercise 2 (medium).") or its first line."""
    first = next((line for line in source.split("\n") if line.strip()), "").strip()
    bold = re.match(r"\*\*(.+?)\*\*", first)
    text = (bold.group(1) if bold else first).rstrip(".")
    return text if len(text) <= 60 else text[:57] + "..."


def fold_solutions(nb):
    """A copy of `nb` in which every code cell tagged `solution` is gone, its code a fenced block in the
    Solution block of the markdown cell before it (consecutive solution cells go to the same one).
    Running it again changes nothing. Raises FoldError naming any solution cell with no markdown before it."""
    nb = copy.deepcopy(nb)
    cells, target = [], None
    for index, cell in enumerate(nb.cells):
        if not is_solution_cell(cell):
            cells.append(cell)
            target = cell if cell.cell_type == "markdown" else None
            continue
        if target is None:
            before = nb.cells[index - 1].cell_type if index else "nothing"
            raise FoldError(f"cell {index} (tagged {SOLUTION_TAG!r}: {label(cell.source)!r}) follows {before}, "
                            f"not the exercise's markdown cell: move it under its exercise")
        target.source = add_to_solution(target.source, cell.source)
    nb.cells = cells
    return nb


def visible_solutions(nb) -> list[str]:
    """Where `nb` shows a solution's code: code cells tagged `solution`, and code cells whose code is also
    inside a Solution block (as whole lines); [] when none."""
    blocks = [normalise(code).split("\n") for cell in nb.cells if cell.cell_type == "markdown"
              for code in solution_blocks(cell.source)]
    found, under = [], "the notebook's start"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            under = repr(label(cell.source))
        if cell.cell_type != "code":
            continue
        lines = normalise(cell.source).split("\n")
        if is_solution_cell(cell):
            found.append(f"cell {index}: a code cell tagged {SOLUTION_TAG!r} (under {under})")
        elif lines != [""] and any(block[k:k + len(lines)] == lines for block in blocks
                                   for k in range(len(block) - len(lines) + 1)):
            found.append(f"cell {index}: a code cell repeating a Solution block's code (under {under})")
    return found


def exercises(nb) -> list[tuple[int, str, list[str]]]:
    """The markdown cells of the "## Exercises" section (up to the next "## " heading) as
    (cell index, label, python codes of their Solution blocks)."""
    found, inside = [], False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        headings = re.findall(r"^## +(.+?)\s*$", cell.source, re.M)
        if headings:
            inside = headings[-1].lower().startswith("exercises")
            if not inside:
                continue
        if inside:
            found.append((index, label(cell.source), solution_blocks(cell.source)))
    return found


def executable(nb, keep_outputs: bool = False):
    """A copy of `nb` in which each python block of a Solution block is a code cell right after its markdown
    cell (tagged `solution`, its metadata naming the exercise and the block). Outputs of every cell cleared, or
    with `keep_outputs` the committed ones kept and each solution cell also tagged `nbval-ignore-output`: what
    `pytest --nbval` runs, so one execution checks the notebook's outputs and that its solutions run."""
    import nbformat

    nb = copy.deepcopy(nb)
    tags = [SOLUTION_TAG, NBVAL_IGNORE_OUTPUT] if keep_outputs else [SOLUTION_TAG]
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and not keep_outputs:
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        if cell.cell_type != "markdown":
            continue
        for k, code in enumerate(solution_blocks(cell.source), start=1):
            meta = {"tags": list(tags), SOLUTION_TAG: {"exercise": label(cell.source), "block": k,
                                                       "markdown_cell": index}}
            cells.append(nbformat.v4.new_code_cell(code, metadata=meta))
    nb.cells = cells
    return nb


def first_error(nb) -> str | None:
    """The first cell of an executed notebook with an error output, as a message naming the solution block
    (or the notebook's own cell) and the exception; None when no cell failed."""
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            continue
        error = f"{errors[0].get('ename')}: {errors[0].get('evalue')}"
        where = cell.get("metadata", {}).get(SOLUTION_TAG)
        if where:
            return (f"the solution of {where['exercise']!r} (block {where['block']} of markdown cell "
                    f"{where['markdown_cell']}) raised {error}")
        return f"cell {index}, not a solution (the notebook itself), raised {error}"
    return None


def execute(source: str | Path, target: str | Path, parameters: dict | None = None, cwd: str | Path | None = None,
            kernel: str = "python3") -> str | None:
    """Run `source` with its solution blocks as cells (papermill, in `cwd`: default the course's notebooks/,
    where relative paths such as ../figures are meant) into `target`; returns `first_error` of the result."""
    import logging

    import nbformat
    import papermill

    from . import reproduce

    logging.getLogger("papermill").setLevel(logging.ERROR)  # as reproduce: its parameter-parsing notes are noise
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    built = target.with_name(target.stem + ".in.ipynb")
    nbformat.write(executable(nbformat.read(source, as_version=4)), built)
    try:
        papermill.execute_notebook(str(built), str(target), parameters=parameters or {}, kernel_name=kernel,
                                   cwd=str(cwd or reproduce.PROJECT / "notebooks"), progress_bar=False,
                                   extra_arguments=reproduce.QUIET_KERNEL)
    except papermill.PapermillExecutionError:
        pass  # the written notebook holds the error output: first_error names the cell
    return first_error(nbformat.read(target, as_version=4))
