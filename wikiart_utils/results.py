"""The committed results on real paintings (`results/`), read for the notebooks and the README.

`tools/real_results.py` trains the course's runs on the 32,245-painting WikiArt subset -- five variants
from scratch, and EfficientNet-Lite0 from its ImageNet weights (frozen or fine-tuned) -- and scores each on
its whole test split: `results/<run>/metrics.json` (per task: n, top-1 with a 95% bootstrap interval,
majority baseline, ...), `command.txt` (how it was trained), `run.json` (weights, machine, date),
`test_predictions.csv` (for the newer runs: each test painting's true and predicted classes) and
`results/paired.md` (top-1 of run A minus run B on the same test paintings, with paired bootstrap
intervals). Nothing here is retyped: the notebooks read these files through this module.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).resolve().parents[1] / "results"
TASKS = ("artist", "genre", "style")
_PAIR_ROW = re.compile(r"^\| `(?P<a>[^`]+)` - `(?P<b>[^`]+)` \|(?P<cells>.*)\|$")
_CELL = re.compile(r"(?P<d>[+-]\d+\.\d+) \[(?P<lo>[+-]\d+\.\d+), (?P<hi>[+-]\d+\.\d+)\] \(n = (?P<n>\d+)\)")


def run_names(folder: str | Path = RESULTS, older_convention: bool = False) -> list[str]:
    """Runs with a metrics.json; the older 'unknown = Durer' run only when asked for."""
    names = sorted(p.parent.name for p in Path(folder).glob("*/metrics.json"))
    return [n for n in names if older_convention or "_unknown_as_" not in n]


def metrics(folder: str | Path = RESULTS, older_convention: bool = False) -> dict[str, dict]:
    """run -> its metrics.json (the input of `evaluate.compare`)."""
    return {name: json.loads((Path(folder) / name / "metrics.json").read_text("utf-8"))
            for name in run_names(folder, older_convention)}


def metrics_with_chance_present(folder: str | Path = RESULTS) -> dict[str, dict]:
    """`metrics()` with each task's `chance` = 1 / (classes with test paintings), from per_class_<task>.csv.

    The committed metrics.json files were written when chance was 1 / (all classes of the task); guessing
    among the 27 styles or 128 artists when the test split holds 11 or 72 of them would flatter a model."""
    scored = metrics(folder)
    for name, result in scored.items():
        for task in TASKS:
            support = pd.read_csv(Path(folder) / name / f"per_class_{task}.csv")["support"]
            result[task]["chance"] = 1.0 / max(int((support > 0).sum()), 1)
    return scored


def older_convention_reference(folder: str | Path = RESULTS) -> dict:
    """The honest scores (unknown = missing) of the run the older-convention run repeats, kept beside it
    (`resnet18_gap_unknown_as_durer/honest_reference.json`): the run it repeats was retrained since."""
    return json.loads((Path(folder) / "resnet18_gap_unknown_as_durer" / "honest_reference.json").read_text("utf-8"))


def settings(folder: str | Path = RESULTS) -> pd.DataFrame:
    """How each run was trained, read from its command.txt and run.json: one row per run."""
    rows = []
    for name in run_names(folder):
        command = shlex.split((Path(folder) / name / "command.txt").read_text("utf-8").splitlines()[0])
        flags = {command[i][2:]: (command[i + 1] if i + 1 < len(command) and not command[i + 1].startswith("--")
                                  else True) for i in range(len(command)) if command[i].startswith("--")}
        run = json.loads((Path(folder) / name / "run.json").read_text("utf-8"))
        start = "ImageNet" if run.get("pretrained") else "random"
        frozen = flags.get("freeze-backbone")
        rows.append({"run": name, "epochs": int(flags["epochs"]), "image_size": int(flags["image-size"]),
                     "train_limit": int(flags.get("train-limit", 0)) or None,
                     "backbone": f"last {flags['tuned-stages']} stages fine-tuned ({start})" if "tuned-stages" in flags
                                 else f"frozen ({start})" if frozen is True else
                                 "fine-tuned (ImageNet)" if run.get("pretrained") else "trained",
                     "pretrained": bool(run.get("pretrained")), "data": run.get("data"),
                     "machine": f"{run.get('machine')}, {run.get('cores')} cores, gpu: {run.get('gpu')}",
                     "date": str(run.get("date", ""))[:10]})
    return pd.DataFrame(rows).set_index("run")


def paired(folder: str | Path = RESULTS) -> pd.DataFrame:
    """results/paired.md as a table: a, b, task, difference (top-1 of a minus b), lo, hi (95%), n."""
    lines = (Path(folder) / "paired.md").read_text("utf-8").splitlines()
    header = next(line for line in lines if line.startswith("| A - B |"))
    tasks = [t for t in re.findall(r"\| (\w+) top-1 difference", header)]
    rows = []
    for match in filter(None, map(_PAIR_ROW.match, lines)):
        cells = [_CELL.search(c) for c in match["cells"].split("|")]
        if None in cells or len(cells) != len(tasks):
            raise ValueError(f"results/paired.md: cannot read the row for {match['a']} - {match['b']}")
        for task, cell in zip(tasks, cells):
            rows.append({"a": match["a"], "b": match["b"], "task": task, "difference": float(cell["d"]),
                         "lo": float(cell["lo"]), "hi": float(cell["hi"]), "n": int(cell["n"])})
    return pd.DataFrame(rows)


def verdict(row: pd.Series) -> str:
    """Plain words for one paired difference: which run is better, or that the interval includes 0."""
    if row["lo"] > 0:
        return f"{row['a']} better"
    if row["hi"] < 0:
        return f"{row['b']} better"
    return "cannot tell apart"
