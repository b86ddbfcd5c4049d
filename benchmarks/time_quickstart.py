"""Time the README's two Quickstart commands as a new user runs them: ``python benchmarks/time_quickstart.py
[--save benchmarks/results/quickstart-<date>.json]``.

In fresh clones of this repository (sibling folders, so that ../shared resolves as it does in CI), with no
virtual environment: ``make reproduce`` (set-up included) and whether it left the committed files as they were
(``git status``); then, in another fresh clone, ``bash .ci/run`` (what CI runs: a new venv, the pinned torch,
``make test``). Prints
and saves one JSON object with each command's wall time, exit status and the tail of its output, and the
machine. The README quotes these numbers; run it on a quiet machine (``load_avg`` is recorded).
"""
from __future__ import annotations

import argparse
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
    proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    output = (proc.stdout + proc.stderr).strip().splitlines()
    return {"command": command, "seconds": round(time.perf_counter() - start), "exit_status": proc.returncode,
            "output_tail": output[-12:]}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clone", type=Path, default=ROOT.parent / "quickstart-clone")
    parser.add_argument("--save", type=Path, default=None)
    args = parser.parse_args(argv)
    machine = common.machine_info()
    shutil.rmtree(args.clone, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(args.clone)], check=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=args.clone, capture_output=True, text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    reproduce = timed("make reproduce", args.clone, env)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=args.clone, capture_output=True, text=True).stdout
    ci_clone = args.clone.with_name(args.clone.name + "-ci")
    shutil.rmtree(ci_clone, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(ci_clone)], check=True)
    ci = timed("CI=true bash .ci/run", ci_clone, env)
    result = {"commit": commit, "machine": common.finish(machine), "make_reproduce": reproduce,
              "committed_files_changed_by_reproduce": status.splitlines(), "ci": ci}
    print(json.dumps(result, indent=1))
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
