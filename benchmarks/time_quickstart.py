"""Time the README's two Quickstart commands as a new user runs them: ``python benchmarks/time_quickstart.py
[--save benchmarks/results/quickstart-<date>.json]``.

In fresh clones of this repository (sibling folders, so that ../shared resolves as it does in CI), with no
virtual environment: ``make reproduce`` (set-up included) and whether it left the committed files as they were
(``git status``); then, in another fresh clone, ``bash .ci/run`` (what CI runs: a new venv, the pinned torch,
``make test``; ``--skip-ci`` leaves it out). Prints and saves one JSON object with each command's wall time, exit
status and the tail of its output, the machine, and per notebook what ``make reproduce`` changed (``notebook_changes``: unchanged,
execution metadata only, or which code cells' outputs changed), so "every output as committed except ..."
can be checked. The README quotes these numbers; run it on a quiet machine (``load_avg`` is recorded).
Folders of the machine (the clones, the temporary folder, home) are saved as placeholders (``<clone>``,
``<tmp>``, ...).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root, not from here
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from benchmarks import common

ROOT = Path(__file__).resolve().parents[1]


def timed(command: str, cwd: Path, env: dict) -> dict:
    start = time.perf_counter()
    # one stream, in the order it was written: the tail is the command's last words, not its last warnings
    proc = subprocess.run(command, shell=True, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    output = proc.stdout.strip().splitlines()
    return {"command": command, "seconds": round(time.perf_counter() - start), "exit_status": proc.returncode,
            "output_tail": output[-12:]}


EXECUTION_KEYS = ("papermill", "execution")  # cell and notebook metadata that only say when and how long it ran


def _without_execution(notebook: dict) -> dict:
    """A notebook with what every execution changes removed: run times, execution counts."""
    nb = copy.deepcopy(notebook)
    for key in EXECUTION_KEYS:
        nb.get("metadata", {}).pop(key, None)
    for cell in nb.get("cells", []):
        for key in EXECUTION_KEYS:
            cell.get("metadata", {}).pop(key, None)
        if "execution_count" in cell:
            cell["execution_count"] = None
        for output in cell.get("outputs", []):
            output.pop("execution_count", None)
    return nb


def _first_line(cell: dict) -> str:
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    return next((line for line in source.splitlines() if line.strip()), "")


def _output_kinds(outputs: list[dict]) -> list[str]:
    """What an output list holds: stream names, MIME types, error."""
    kinds = set()
    for output in outputs:
        if output.get("output_type") == "stream":
            kinds.add(output.get("name", "stream"))
        elif output.get("output_type") == "error":
            kinds.add("error")
        kinds.update(output.get("data", {}))
    return sorted(kinds)


def notebook_changes(before: dict, after: dict) -> dict:
    """What an execution changed in a notebook (nbformat-4 JSON, as committed -> as written), classified:
    {"change": "unchanged" | "execution metadata only" | "metadata changed" | "outputs changed" |
    "sources changed", ...}.
    "outputs changed" lists each code cell whose outputs differ: its index, first source line, whether nbval
    ignores its output (tag `nbval-ignore-output`: expected to differ between machines) and which kinds of
    output differ; any other notebook metadata that changed is named under "metadata"."""
    if before == after:
        return {"change": "unchanged"}
    b, a = _without_execution(before), _without_execution(after)
    if b == a:
        return {"change": "execution metadata only"}
    result: dict = {}
    metadata = sorted(k for k in set(b.get("metadata", {})) | set(a.get("metadata", {}))
                      if b["metadata"].get(k) != a["metadata"].get(k))
    if metadata:
        result["metadata"] = metadata
    b_cells, a_cells = b.get("cells", []), a.get("cells", [])
    shape = [(c.get("cell_type"), c.get("source")) for c in b_cells]
    if shape != [(c.get("cell_type"), c.get("source")) for c in a_cells]:
        changed = [i for i in range(max(len(b_cells), len(a_cells)))
                   if i >= len(b_cells) or i >= len(a_cells) or shape[i] != (a_cells[i].get("cell_type"),
                                                                              a_cells[i].get("source"))]
        return {"change": "sources changed", "cells": changed, **result}
    cells = []
    for i, (old, new) in enumerate(zip(b_cells, a_cells)):
        if old.get("cell_type") != "code" or old.get("outputs") == new.get("outputs"):
            continue
        old_out, new_out = old.get("outputs", []), new.get("outputs", [])
        if len(old_out) == len(new_out):  # the kinds of the outputs that differ, else of them all
            kinds = {k for o, n in zip(old_out, new_out) if o != n for k in _output_kinds([o, n])}
        else:
            kinds = set(_output_kinds(old_out + new_out))
        cells.append({"index": i, "first_line": _first_line(new),
                      "nbval_ignore_output": "nbval-ignore-output" in new.get("metadata", {}).get("tags", []),
                      "outputs": sorted(kinds)})
    if not cells:
        return {"change": "metadata changed", **result}
    return {"change": "outputs changed", "cells": cells, **result}


def reproduce_changes(clone: Path) -> dict:
    """`notebook_changes` for every numbered notebook of a clone, its committed version against its file."""
    changes = {}
    for path in sorted((clone / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        rel = path.relative_to(clone).as_posix()
        committed = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=clone, capture_output=True, text=True)
        if committed.returncode:
            changes[path.name] = {"change": "not committed"}
            continue
        written = json.loads(path.read_text(encoding="utf-8"))
        changes[path.name] = notebook_changes(json.loads(committed.stdout), written)
    return changes


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clone", type=Path, default=ROOT.parent / "quickstart-clone")
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--skip-ci", action="store_true", help="time make reproduce only (no second clone, no CI)")
    args = parser.parse_args(argv)
    machine = common.machine_info()
    shutil.rmtree(args.clone, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(args.clone)], check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=args.clone, capture_output=True, text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    reproduce = timed("make reproduce", args.clone, env)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=args.clone, capture_output=True, text=True).stdout
    changes = reproduce_changes(args.clone)
    ci_clone = args.clone.with_name(args.clone.name + "-ci")
    ci = None
    if not args.skip_ci:
        shutil.rmtree(ci_clone, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", str(ROOT), str(ci_clone)], check=True)
        ci = timed("CI=true bash .ci/run", ci_clone, env)
    result = {"commit": commit, "machine": common.finish(machine), "make_reproduce": reproduce,
              "committed_files_changed_by_reproduce": status.splitlines(), "notebook_changes": changes, "ci": ci}
    places = {"<clone>": args.clone, "<ci-clone>": ci_clone}
    result = common.portable(result, places)
    print(json.dumps(result, indent=1))
    if args.save:
        common.save_json(args.save, result, places)
    return result


if __name__ == "__main__":
    main()
