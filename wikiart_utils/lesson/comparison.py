"""What notebook 08 compares: runs read from their checkpoints (budget and validation score), the main model
chosen on validation, paired differences on the same test paintings, the committed real-paintings results,
and the older labelling convention reproduced.

Notebook 08 runs alone, in a fresh clone too: `comparison_runs` hands it the sample runs of notebooks 03-06
when they are there and include the pretrained average (the course's finding is about it), else nothing,
and one line saying that the committed real runs are compared instead (`committed_board`,
`committed_paired`: results/<run>/ history.csv and test_predictions.csv). Nothing printed names a path
outside the repository.
"""
from __future__ import annotations

from pathlib import Path

import json
import re
import shlex

import numpy as np
import pandas as pd
import torch

from .. import checkpoint, evaluate, labels, metadata, metrics, results, splits
from ..config import TrainConfig
from ..evaluate import Predictions

__all__ = ["find_checkpoints", "run_table", "choose_main", "budget_note", "budget_labels", "budget_and_scores",
           "paired_against", "paired_in_words", "older_convention_run", "real_table", "real_paired",
           "AVERAGE_VARIANT", "comparison_runs", "committed_board", "committed_paired", "course_run",
           "shown_path", "seed_protocol_line"]

REPOSITORY = Path(__file__).resolve().parents[2]
AVERAGE_VARIANT = "efficientnet_lite0_gap"  # the pretrained average: the course's sample choice must include it


def shown_path(path: str | Path) -> str:
    """`path` relative to the repository (a folder ends in /), or only its name when it lies outside: notebook
    outputs never print a machine's paths."""
    path = Path(path).resolve()
    try:
        shown = path.relative_to(REPOSITORY).as_posix()
    except ValueError:
        shown = path.name
    return shown + "/" if path.is_dir() else shown


def find_checkpoints(folder: str | Path, root: str | Path | None = None) -> dict[str, Path]:
    """run name -> best.pt for every run under `folder`, at any depth (notebook 04 keeps its readers in
    04_readers/<reader>/): the name is the run's folder relative to `folder`. With `root`, only the runs
    trained on a dataset directory of the same name (the sample's runs, not the real subset's kept beside
    them in checkpoints/real/)."""
    folder = Path(folder)
    found = {p.parent.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("best.pt"))}
    if root is not None:
        found = {name: path for name, path in found.items()
                 if Path(_checkpoint_info(path)["train_args"].get("data", "")).name == Path(root).name}
    return found


def comparison_runs(folder: str | Path, root: str | Path, required: str = AVERAGE_VARIANT
                    ) -> tuple[dict[str, Path], str]:
    """(runs, line): the runs of notebooks 03-06 trained on `root` found under `folder`, when one of them is
    `required` (the pretrained average, the course's answer to "does reading beat averaging?"); else no run,
    and the line says the committed real runs are compared instead. Either way the line names what is
    compared, with repository-relative paths only."""
    runs = find_checkpoints(folder, root) if Path(folder).is_dir() else {}
    variants = {name: _checkpoint_info(path)["train_args"].get("variant") for name, path in runs.items()}
    where = shown_path(folder)
    if runs and required in variants.values():
        return runs, (f"{len(runs)} sample runs of notebooks 03-06 in {where} (the pretrained average "
                      f"{required} among them), compared below: {', '.join(runs)}")
    why = (f"{len(runs)} sample run{'s' if len(runs) != 1 else ''} in {where}, "
           f"{'none of them' if len(runs) > 1 else 'not'} the pretrained average {required} (notebook 04)"
           if runs else f"no sample runs of notebooks 03-06 in {where}")
    return {}, (f"{why}: this notebook compares the committed real runs instead "
                f"(results/<run>/: history.csv, metrics.json, test_predictions.csv)")


BUDGET_COLUMNS = ("epochs", "image_size", "train_images", "train_limit", "backbone", "pretrained")


def _checkpoint_info(path: Path) -> dict:
    """A checkpoint's dict without building the model (memory-mapped: the weights are not read)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    return checkpoint.validate(ckpt, path)


def _backbone(config: TrainConfig) -> str:
    frozen = config.freeze_epochs
    origin = "ImageNet" if config.pretrained else "random"
    if frozen >= config.epochs:
        return f"frozen ({origin})"
    return f"frozen {frozen} epochs, then trained" if frozen else "trained"


def run_table(runs: dict[str, Path], root: str | Path) -> pd.DataFrame:
    """One row per run, read from its checkpoint (never assumed): the budget it was trained with (epochs,
    image size, training images of `root` it saw, backbone trained or frozen, ImageNet weights or not),
    epochs actually run, the epoch best.pt holds, and that epoch's validation mean macro-F1 -- the score
    best.pt was kept for, and the one the main model is chosen by. Sorted best first."""
    train_meta = metadata.read_metadata(root, "train")
    rows = []
    for name, path in runs.items():
        ckpt = _checkpoint_info(Path(path))
        config, best = TrainConfig.from_saved(ckpt["train_args"]), ckpt["best"]
        history = Path(path).with_name("history.csv")
        rows.append({"run": name, "variant": config.variant, "data": Path(ckpt["train_args"]["data"]).name,
                     "epochs": int(config.epochs),
                     "epochs_run": len(pd.read_csv(history)) if history.is_file() else int(ckpt["epoch"]),
                     "image_size": int(config.image_size),
                     "train_images": len(splits.stratified_part(train_meta, config.train_limit)),
                     "backbone": _backbone(config), "pretrained": bool(config.pretrained),
                     "best_epoch": int(best["epoch"]), "val_mean_f1": float(best["score"])})
    table = pd.DataFrame(rows).set_index("run")
    return table.sort_values("val_mean_f1", ascending=False, kind="stable")


def choose_main(table: pd.DataFrame) -> tuple[str, str]:
    """(run, reason): the run with the best validation mean macro-F1 in `run_table`. Chosen on the
    validation split, so that the test split has informed no choice and its scores stay honest."""
    ranked = table.sort_values("val_mean_f1", ascending=False, kind="stable")
    name, best = ranked.index[0], ranked.iloc[0]
    reason = (f"{name}: the highest validation mean macro-F1 of the {len(ranked)} runs found "
              f"({best.val_mean_f1:.3f}, epoch {best.best_epoch} of {best.epochs_run})")
    if len(ranked) > 1:
        reason += f"; next {ranked.index[1]} ({ranked.iloc[1].val_mean_f1:.3f})"
    return name, reason


def budget_note(settings: pd.DataFrame) -> str:
    """'same budget for every run', or what differs between the runs (for a table's or chart's title):
    a comparison of runs trained with different budgets measures the budgets as much as the models."""
    parts = []
    for column in [c for c in BUDGET_COLUMNS if c in settings]:
        values = settings[column]
        if values.nunique(dropna=False) < 2:
            continue
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            low, high = values.min(), values.max()
            span = f"{low:g}-{high:g}" if low != high else f"{low:g}"
            unset = ", ".join(str(run) for run, value in values.items() if pd.isna(value))
            parts.append(f"{column.replace('_', ' ')} {span}" + (f" (none for {unset})" if unset else ""))
        else:
            common = values.mode(dropna=False).iloc[0]
            odd = ", ".join(f"{run}: {value}" for run, value in values.items() if _differs(value, common))
            parts.append(f"{column.replace('_', ' ')} {common} except {odd}")
    return "budgets differ: " + "; ".join(parts) if parts else "same budget for every run"


def _differs(value, common) -> bool:
    """value != common, with two missing values (no train_limit) counted as equal."""
    return not (pd.isna(value) and pd.isna(common)) and value != common


def _budget_words(column: str, value) -> str:
    if column == "epochs":
        return f"{value} epochs"
    if column == "image_size":
        return f"{value} px"
    if column == "train_images":
        return f"{int(value):,} training images"
    if column == "train_limit":
        return f"at most {int(value):,} training images" if pd.notna(value) else "all training images"
    if column == "pretrained":
        return "ImageNet" if value else "from scratch"
    return f"{value} backbone"


def budget_labels(settings: pd.DataFrame) -> dict[str, str]:
    """run -> 'run (what differs from the most common budget)', for chart legends."""
    labels_ = {}
    for run, row in settings.iterrows():
        odd = [_budget_words(column, row[column]) for column in BUDGET_COLUMNS
               if column in settings and _differs(row[column], settings[column].mode(dropna=False).iloc[0])]
        labels_[run] = f"{run} ({', '.join(odd)})" if odd else str(run)
    return labels_


def budget_and_scores(settings: pd.DataFrame, scored: dict[str, dict]) -> pd.DataFrame:
    """Each run's budget next to its test top-1 [95% CI] per task; the headers carry n and the majority
    baseline, which every run shares when scored on the same paintings."""
    table = settings[[c for c in BUDGET_COLUMNS if c in settings]].copy()
    for task in labels.TASKS:
        scores = {run: scored[run][task] for run in table.index if run in scored}
        known = [m for m in scores.values() if m.get("n")]
        if not known:
            continue
        ns = {m["n"] for m in known}
        header = f"{task} top-1 (n = {known[0]['n']}, baseline {known[0]['majority_baseline']:.3f})" \
            if len(ns) == 1 else f"{task} top-1"
        table[header] = [_score_cell(scores.get(run, {}), len(ns) > 1) for run in table.index]
    return table


def _score_cell(m: dict, with_n: bool) -> str:
    if not m.get("n"):
        return "—"
    return f"{m['top1']:.3f} [{m['top1_ci'][0]:.3f}, {m['top1_ci'][1]:.3f}]" + (f" (n = {m['n']})" if with_n else "")


def paired_against(preds: dict[str, Predictions], reference: str,
                   n_boot: int = metrics.BOOTSTRAP_RESAMPLES) -> pd.DataFrame:
    """Top-1 of every run minus `reference`'s, per task, on the same labelled test paintings, with paired
    bootstrap 95% intervals (`metrics.paired_difference`) and `results.verdict` in words. Two runs' own
    intervals can overlap while their paired difference is clearly not 0: judge by this table."""
    base = preds[reference]
    rows = []
    for name, pred in preds.items():
        if name == reference:
            continue
        if not np.array_equal(pred.rows, base.rows):
            raise ValueError(f"{name} and {reference} were scored on different paintings (unreadable files?)")
        for task in labels.TASKS:
            y = base.y(task)
            known = y >= 0
            if not known.any():
                continue
            d = metrics.paired_difference((pred.probs[task].argmax(1) == y)[known],
                                          (base.probs[task].argmax(1) == y)[known], n_boot=n_boot)
            rows.append({"a": name, "b": reference, "task": task, "difference": d["difference"],
                         "lo": d["ci"][0], "hi": d["ci"][1], "n": d["n"],
                         "only_a_right": d["only_a_right"], "only_b_right": d["only_b_right"]})
    table = pd.DataFrame(rows, columns=["a", "b", "task", "difference", "lo", "hi", "n", "only_a_right",
                                        "only_b_right"])
    table["verdict"] = table.apply(results.verdict, axis=1) if len(table) else []
    return table


def paired_in_words(table: pd.DataFrame) -> str:
    """One line per paired difference, read aloud: an interval that includes 0 means this split cannot
    tell the two runs apart on that task (which is not the same as 'they are equal'). A table with a
    `question` column (`real_paired`) has each pair's question on a line of its own above its lines."""
    lines, asked = [], None
    for row in table.itertuples():
        question = getattr(row, "question", "") or ""
        if question and (question, row.a, row.b) != asked:   # a row that names its question: once per pair
            lines.append(f"{question}:")
            asked = (question, row.a, row.b)
        reading = ("the interval includes 0: this split cannot tell them apart" if row.verdict == "cannot tell apart"
                   else f"{row.verdict}: the whole interval is {'above' if row.lo > 0 else 'below'} 0")
        lines.append(f"{row.a} - {row.b}, {row.task}: {row.difference:+.3f} [{row.lo:+.3f}, {row.hi:+.3f}] "
                     f"(n = {row.n}) -> {reading}")
    return "\n".join(lines)


def older_convention_run(root: str | Path, main_checkpoint: str | Path, out: str | Path,
                         artist: str = "albrecht-durer", workers: int | None = None) -> tuple[Path, str]:
    """(best.pt, what was done) of the main run's variant trained with the main run's own settings (read
    from its checkpoint) and every unknown artist labelled `artist`: the older convention, measured.

    A finished run in `out` with exactly those settings (data included) is reused rather than retrained:
    on a CPU with workers=0 `train` is deterministic, so retraining would give the same weights again."""
    from .. import train  # here, not at the top: only this function trains

    main_args = _checkpoint_info(Path(main_checkpoint))["train_args"]
    wanted = TrainConfig.from_saved(main_args).replace(unknown_as_class=artist)
    last, out = Path(out) / "last.pt", Path(out)
    if last.is_file() and (out / "best.pt").is_file():
        done = _checkpoint_info(last)
        same = (TrainConfig.from_saved(done["train_args"]) == wanted
                and done["train_args"]["data"] == main_args["data"])
        if same and (done["epoch"] >= wanted.epochs or done.get("stopped_early")):
            return out / "best.pt", (f"reused {out}: finished earlier with the main run's settings and unknown "
                                     f"artists labelled {artist} ({done['epoch']} epochs)")
    result = train.train(root, out=out, config=wanted, workers=workers, overwrite=True, progress=False)
    return result.best_path, f"trained {out}: the main run's settings, unknown artists labelled {artist}"


def course_run(path: str | Path = checkpoint.COURSE_MODEL) -> str:
    """The committed run the course ships in checkpoints/course/ (its run.json names it)."""
    return json.loads((Path(path).parent / "run.json").read_text("utf-8"))["run"]


def committed_board(folder: str | Path = results.RESULTS) -> pd.DataFrame:
    """The committed real runs as `run_table` shows runs of the sample: the variant and budget each was
    trained with (command.txt, run.json: `results.settings`), epochs run, the epoch its checkpoint kept and
    that epoch's validation mean macro-F1 (history.csv) -- the score the main model is chosen by. The test
    split plays no part. Sorted best first."""
    folder = Path(folder)
    settings = results.settings(folder)
    rows = []
    for run in settings.index:
        history = pd.read_csv(folder / run / "history.csv")
        command = shlex.split((folder / run / "command.txt").read_text("utf-8").splitlines()[0])
        best = int(history["val_mean_f1"].idxmax())
        rows.append({"run": run, "variant": command[command.index("--variant") + 1],
                     "data": Path(str(settings.loc[run, "data"])).name, "epochs": int(settings.loc[run, "epochs"]),
                     "epochs_run": len(history), "image_size": int(settings.loc[run, "image_size"]),
                     "train_limit": settings.loc[run, "train_limit"], "backbone": settings.loc[run, "backbone"],
                     "pretrained": bool(settings.loc[run, "pretrained"]),
                     "best_epoch": int(history["epoch"].iloc[best]),
                     "val_mean_f1": float(history["val_mean_f1"].iloc[best])})
    table = pd.DataFrame(rows).set_index("run")
    return table.sort_values("val_mean_f1", ascending=False, kind="stable")


def committed_paired(reference: str, runs: list[str] | None = None, folder: str | Path = results.RESULTS,
                     n_boot: int = metrics.BOOTSTRAP_RESAMPLES) -> tuple[pd.DataFrame, list[str]]:
    """(table, without): the top-1 of every committed run (or of `runs`) minus `reference`'s on the same
    labelled test paintings, per task, with paired bootstrap 95% intervals and verdicts (the columns of
    `paired_against`), from results/<run>/test_predictions.csv; `without` names the runs committed without
    per-painting predictions (the oldest), which no paired interval can include."""
    folder = Path(folder)
    runs = list(runs) if runs is not None else results.run_names(folder)
    with_predictions = [r for r in runs if (folder / r / "test_predictions.csv").is_file()]
    if reference not in with_predictions:
        raise ValueError(f"{reference} has no committed test_predictions.csv to pair against")
    base = pd.read_csv(folder / reference / "test_predictions.csv")
    rows = []
    for run in with_predictions:
        if run == reference:
            continue
        other = pd.read_csv(folder / run / "test_predictions.csv")
        if not other["path"].equals(base["path"]):
            raise ValueError(f"{run} and {reference} were scored on different test paintings")
        for task in labels.TASKS:
            known = (base[task] >= 0).to_numpy()
            d = metrics.paired_difference((other[f"{task}_pred"] == other[task]).to_numpy()[known],
                                          (base[f"{task}_pred"] == base[task]).to_numpy()[known], n_boot=n_boot)
            rows.append({"a": run, "b": reference, "task": task, "difference": d["difference"], "lo": d["ci"][0],
                         "hi": d["ci"][1], "n": d["n"], "only_a_right": d["only_a_right"],
                         "only_b_right": d["only_b_right"]})
    table = pd.DataFrame(rows, columns=["a", "b", "task", "difference", "lo", "hi", "n", "only_a_right",
                                        "only_b_right"])
    table["verdict"] = table.apply(results.verdict, axis=1) if len(table) else []
    return table, [r for r in runs if r not in with_predictions]


def seed_protocol_line(protocol_dir: str | None = None) -> str:
    """Where the older project's test list is: in ../shared beside the repository on the course's own machines
    and in CI, absent from a learner's clone. Either way one line, and no machine path."""
    relative = protocol_dir or evaluate.OLDER_PROJECT["protocol_dir"]   # relative to the repository
    if (REPOSITORY / relative).is_dir():
        return "the seed protocol's test list is here, on this machine (kept beside the repository, not in it)"
    return ("the seed protocol's test list is not on this machine (it is kept beside the repository, not in "
            "it); the numbers above are the ones `evaluate.OLDER_PROJECT` keeps")


def real_table(runs: list[str] | None = None) -> pd.DataFrame:
    """The committed real-paintings test results (`results`): per task the labelled test paintings n, the
    majority baseline and each run's top-1 [95% bootstrap interval]. Read from metrics.json, never retyped."""
    long = evaluate.compare(results.metrics())
    long = long[long["model"].isin(runs)] if runs else long
    order = list(runs) if runs else list(dict.fromkeys(long["model"]))
    table = {}
    for task, part in long.groupby("task", sort=False):
        column = {"n (labelled test paintings)": f"{part['n'].iloc[0]:,}",
                  "majority baseline": f"{part['majority_baseline'].iloc[0]:.3f}"}
        for row in part.itertuples():
            column[row.model] = f"{row.top1:.3f} [{row.top1_lo:.3f}, {row.top1_hi:.3f}]"
        table[f"{task} top-1"] = column
    return pd.DataFrame(table).reindex(["n (labelled test paintings)", "majority baseline", *order])


_PAIRED_ROW = re.compile(r"^\| (?:(?P<question>[^`|]+?): )?`(?P<a>[^`]+)` - `(?P<b>[^`]+)` \|(?P<cells>.*)\|$")
FIRST_SECTION = "the course's questions"  # results/paired.md's first table, before any ## heading


def real_paired(folder: str | Path = results.RESULTS) -> pd.DataFrame:
    """Top-1 of run a minus run b on the same real test paintings, with paired bootstrap 95% intervals
    (results/paired.md, as `results.paired` reads it) and a verdict in words: an interval that excludes 0 is
    a difference this test split can see; one that includes 0 is not. Every table of the file is read,
    the rows that lead with their question too ("best reader (chosen on validation) - average: `a` - `b`",
    the "What reading buys" section): columns section (the ## heading above the row; FIRST_SECTION for
    the first table) and question ("" when the row names none). A pair asked in two sections has a row in
    each. Indexed by (a, b, task)."""
    section, rows = FIRST_SECTION, []
    for line in (Path(folder) / "paired.md").read_text("utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        match = _PAIRED_ROW.match(line)
        if not match:
            continue
        cells = [results._CELL.search(c) for c in match["cells"].split("|")]
        if None in cells or len(cells) != len(labels.TASKS):
            raise ValueError(f"results/paired.md: cannot read the row for {match['a']} - {match['b']}")
        for task, cell in zip(labels.TASKS, cells):
            rows.append({"a": match["a"], "b": match["b"], "task": task, "difference": float(cell["d"]),
                         "lo": float(cell["lo"]), "hi": float(cell["hi"]), "n": int(cell["n"]),
                         "section": section, "question": (match["question"] or "").strip()})
    table = pd.DataFrame(rows, columns=["a", "b", "task", "difference", "lo", "hi", "n", "section", "question"])
    table["verdict"] = table.apply(results.verdict, axis=1) if len(table) else []
    return table.set_index(["a", "b", "task"])
