"""benchmarks/time_quickstart.py's record: what `make reproduce` changed in each notebook, classified so the
README's "every output as committed except 02's loader timing" can be checked, and no machine folder in it."""
from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `benchmarks` is a folder of scripts beside the package, not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import common, time_quickstart  # noqa: E402


def committed_notebook() -> dict:
    """A small executed notebook as JSON: a markdown cell, a checked cell, a timing cell nbval ignores."""
    nb = new_notebook(cells=[
        new_markdown_cell("# Title"),
        new_code_cell("\n# the shapes\nprint(x.shape)", execution_count=1,
                      outputs=[new_output("stream", name="stdout", text="(2, 3)\n")]),
        new_code_cell("t = time_loader()\nt", execution_count=2, metadata={"tags": ["nbval-ignore-output"]},
                      outputs=[new_output("execute_result", data={"text/plain": "12.5"}, execution_count=2)]),
    ])
    nb.metadata["papermill"] = {"duration": 15.1, "input_path": "notebooks/x.ipynb"}
    for cell in nb.cells[1:]:
        cell.metadata["papermill"] = {"duration": 0.5}
    return json.loads(nbformat.writes(nb))  # plain nested dicts, as time_quickstart reads the files


def rerun(nb: dict) -> dict:
    """The same notebook executed again: new run times and execution counts, nothing else."""
    again = copy.deepcopy(nb)
    again["metadata"]["papermill"]["duration"] = 16.9
    for n, cell in enumerate(again["cells"][1:], start=7):
        cell["metadata"]["papermill"]["duration"] = 0.7
        cell["execution_count"] = n
        for output in cell["outputs"]:
            if "execution_count" in output:
                output["execution_count"] = n
    return again


def test_a_rerun_with_the_same_outputs_is_execution_metadata_only():
    before = committed_notebook()
    assert time_quickstart.notebook_changes(before, copy.deepcopy(before)) == {"change": "unchanged"}
    assert time_quickstart.notebook_changes(before, rerun(before)) == {"change": "execution metadata only"}


def test_changed_outputs_are_named_by_cell_first_line_and_nbval_tag():
    before = committed_notebook()
    after = rerun(before)
    after["cells"][2]["outputs"][0]["data"]["text/plain"] = "9.8"  # the loader timing moved
    assert time_quickstart.notebook_changes(before, after) == {"change": "outputs changed", "cells": [
        {"index": 2, "first_line": "t = time_loader()", "nbval_ignore_output": True, "outputs": ["text/plain"]}]}
    after["cells"][1]["outputs"][0]["text"] = "(2, 4)\n"  # and a checked output too
    after["metadata"]["language_info"] = {"version": "3.12.0"}
    changes = time_quickstart.notebook_changes(before, after)
    assert [(c["index"], c["first_line"], c["nbval_ignore_output"], c["outputs"]) for c in changes["cells"]] == [
        (1, "# the shapes", False, ["stdout"]), (2, "t = time_loader()", True, ["text/plain"])]
    assert changes["metadata"] == ["language_info"]


def test_edited_sources_are_reported_as_such():
    before = committed_notebook()
    after = rerun(before)
    after["cells"][0]["source"] = "# Another title"
    assert time_quickstart.notebook_changes(before, after) == {"change": "sources changed", "cells": [0]}
    after["cells"].append(new_markdown_cell("more"))
    assert time_quickstart.notebook_changes(before, after)["cells"] == [0, 3]


def test_portable_replaces_machine_folders_in_every_string():
    tmp, home = tempfile.gettempdir(), str(Path.home())
    record = {"tail": [f"  {tmp}/pip-build-env-x/overlay/setuptools.py:354: warning", "plain line"],
              "clone": "/somewhere/quickstart-clone/notebooks", "n": 3,
              "repo": str(common.REPO / "benchmarks" / "results" / "x.json")}
    out = common.portable(record, {"<clone>": "/somewhere/quickstart-clone"})
    assert out["tail"] == ["  <tmp>/pip-build-env-x/overlay/setuptools.py:354: warning", "plain line"]
    assert out["clone"] == "<clone>/notebooks" and out["n"] == 3
    assert out["repo"] == "<repo>/benchmarks/results/x.json"
    assert common.portable(f"{tmp}x/y") == f"{tmp}x/y"  # a longer name is another folder, left as it is
    if len(home) > 1 and not str(common.REPO).startswith(home):
        assert common.portable(f"{home}/out/gpu.json") == "<home>/out/gpu.json"


def test_command_line_names_no_machine_folder():
    repo_file = str(common.REPO / "benchmarks" / "results" / "gpu.json")
    tmp_file = str(Path(tempfile.gettempdir()) / "out" / "gpu.json")
    line = common.command_line("benchmarks/bench_gpu.py", ["--n", "8", "--save", repo_file, f"--out={tmp_file}"])
    assert line == "python benchmarks/bench_gpu.py --n 8 --save benchmarks/results/gpu.json '--out=<tmp>/out/gpu.json'"
