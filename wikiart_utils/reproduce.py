"""Run the numbered notebooks in order with papermill: every number and figure regenerated.

On the sample profile the executed notebooks replace those in `notebooks/` (that is how the
committed outputs are made); on another profile or dataset they go to `runs/<profile>/` instead, with
their figures and checkpoints in `runs/<profile>/figures` and `runs/<profile>/checkpoints`, so the
committed notebooks and figures that nbval and the README show stay untouched.

`caps` (e.g. ``{"epochs": 2}``) override the chosen profile's training settings in every notebook (its
`CAPS` parameter): the `full` profile's code paths, checked in minutes on a CPU (`tests/test_full_profile.py`).
"""
from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
# the kernel's start-up notice ("running over TCP without encryption") is not something a learner can act on
QUIET_KERNEL = ["--IPKernelApp.log_level=ERROR"]


def notebooks(folder: Path | None = None) -> list[Path]:
    folder = folder or PROJECT / "notebooks"
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def end_with_newline(path: Path) -> None:
    """papermill writes a notebook without the final newline that jupytext's `--sync` (run first by `make
    reproduce`) adds: ending it the same way keeps the next sync from touching the committed notebooks."""
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b"\n":
            f.write(b"\n")


def portable_path(value: str, root: Path = PROJECT, cwd: Path | None = None) -> str:
    """An absolute path as a committed file may hold it: relative to `cwd` (default: the repository) when it
    lies inside the repository, else `<outside-repo>/<name>`; anything else is returned as it is."""
    if not isinstance(value, str) or not os.path.isabs(value):
        return value
    path, root = Path(value).resolve(), Path(root).resolve()  # macOS: /var is /private/var
    if path == root or root in path.parents:
        return Path(os.path.relpath(path, cwd or root)).as_posix()
    return f"<outside-repo>/{path.name}"


NOTEBOOK_JSON = dict(indent=1, sort_keys=True, ensure_ascii=False)  # as nbformat, papermill and jupytext write


def portable_papermill_metadata(path: Path, root: Path = PROJECT) -> bool:
    """Drop the executing machine's paths from a notebook papermill wrote: its `metadata.papermill`
    input_path and output_path become repository-relative, and path parameters relative to notebooks/ (the
    kernel's working directory, where they were meant), so a committed notebook names no home or clone
    folder. Only those fields change; the file keeps nbformat's layout. Returns whether it was rewritten."""
    text = path.read_text(encoding="utf-8")
    notebook = json.loads(text)
    meta = notebook.get("metadata", {}).get("papermill")
    if not isinstance(meta, dict):
        return False
    for key in ("input_path", "output_path"):
        if key in meta:
            meta[key] = portable_path(meta[key], root)
    for key in ("parameters", "default_parameters"):
        if isinstance(meta.get(key), dict):
            meta[key] = {k: portable_path(v, root, root / "notebooks") for k, v in meta[key].items()}
    new = json.dumps(notebook, **NOTEBOOK_JSON) + "\n"
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def reproduce(data: str | None = None, profile: str = "sample", only: list[str] | None = None,
              output_dir: str | Path | None = None, kernel: str = "python3",
              parameters: dict | None = None, caps: dict | None = None) -> list[Path]:
    """Execute notebooks 01, 02, ... with parameters DATA_DIR, PROFILE and CAPS (plus any `parameters`,
    e.g. FIGURES or CHECKPOINTS); returns the written paths."""
    import papermill

    logging.getLogger("papermill").setLevel(logging.ERROR)  # its parameter-parsing notes are noise here

    sources = [nb for nb in notebooks() if not only or any(nb.name.startswith(o) for o in only)]
    if not sources:
        raise FileNotFoundError(f"no notebooks matched {only} in {PROJECT / 'notebooks'}")
    in_place = profile == "sample" and data is None and output_dir is None and not parameters and not caps
    out_dir = PROJECT / "notebooks" if in_place else Path(output_dir or PROJECT / "runs" / profile).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("TQDM_DISABLE", "1")  # progress bars would differ on every run (nbval)
    # in place, the notebooks' own defaults are the sample run: nothing to inject, so the committed
    # notebooks keep their single `parameters` cell (papermill adds an `injected-parameters` one otherwise)
    if not in_place:
        parameters = {"PROFILE": profile, "FIGURES": str(out_dir / "figures"), "CHECKPOINTS": str(out_dir / "checkpoints"),
                      **({"DATA_DIR": str(Path(data).resolve())} if data else {}), **({"CAPS": caps} if caps else {}),
                      **(parameters or {})}
    written = []
    for source in sources:
        start = time.perf_counter()
        target = out_dir / source.name
        papermill.execute_notebook(str(source), str(target), parameters=parameters or {}, kernel_name=kernel,
                                   cwd=str(PROJECT / "notebooks"), progress_bar=False,
                                   extra_arguments=QUIET_KERNEL)
        end_with_newline(target)
        portable_papermill_metadata(target)
        print(f"{source.name}: executed in {time.perf_counter() - start:.0f} s -> {os.path.relpath(target)}")
        written.append(target)
    return written
