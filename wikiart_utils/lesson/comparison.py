"""What notebook 08 compares: runs read from their checkpoints (budget and validation score), the main model
chosen on validation, paired differences on the same test paintings, the committed real-paintings results,
and the older labelling convention reproduced.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .. import checkpoint, evaluate, labels, metadata, metrics, results, splits
from ..config import TrainConfig
from ..evaluate import Predictions

__all__ = ["find_checkpoints", "run_table", "choose_main", "budget_note", "budget_labels", "budget_and_scores",
           "paired_against", "paired_in_words", "older_convention_run", "real_table", "real_paired"]


def find_checkpoints(folder: str | Path) -> dict[str, Path]:
    """run name -> best.pt for every run folder under `folder` (sorted by name)."""
    return {p.parent.name: p for p in sorted(Path(folder).glob("*/best.pt"))}


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
    tell the two runs apart on that task (which is not the same as 'they are equal')."""
    lines = []
    for row in table.itertuples():
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


def real_paired() -> pd.DataFrame:
    """Top-1 of run a minus run b on the same real test paintings, with paired bootstrap 95% intervals
    (`results.paired`) and a verdict in words: an interval that excludes 0 is a difference this test
    split can see; one that includes 0 is not."""
    table = results.paired()
    table["verdict"] = table.apply(results.verdict, axis=1)
    return table.set_index(["a", "b", "task"])
