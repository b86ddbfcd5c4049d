"""Evaluate a checkpoint on a split: metrics.json, predictions.csv, per-class reports.

    python -m wikiart_utils evaluate --data DIR --checkpoint checkpoints/run/best.pt --out reports/run

Scores are computed over *labelled* rows only (an unknown artist or genre is a missing label), each
with n, the majority baseline (most frequent training class) and 95% bootstrap intervals.
`--unknown-as-class NAME` reproduces a convention of an older project instead: every painting by an
artist outside the 128 is labelled as artist NAME (it used `albrecht-durer`), which inflates accuracy.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from . import checkpoint, data, fsutil, labels, metadata, metrics, runtime
from .speed import gpu_input
from .config import TrainConfig

OLDER_PROJECT = {  # what we have of an earlier public CNN-LSTM WikiArt project: its test protocol (lists
    # kept outside the repository, in ../shared/seed-protocol, checked by tests/test_evaluate.py) and the
    # top-1 it reported on that list
    "reported_top1": {"artist": 0.6518, "genre": 0.6592, "style": 0.5770},
    "test_rows": 6109,
    "artist_classes": 128,
    "protocol_dir": "../shared/seed-protocol",
    "note": "its artist labels put every painting by a less represented artist into class 24 "
            "(albrecht-durer): 3,176 of 6,109 test rows (52.0%) carry that class, so always answering "
            "it scores 52.0% artist accuracy on that list",
    "majority_artist_share": 3176 / 6109,
}


class _Indexed(Dataset):
    """Adds the row index to each item so predictions stay aligned when a bad file is skipped."""

    def __init__(self, dataset: data.WikiArtDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int):
        item = self.dataset[i]
        return None if item is None else (*item, i)


@dataclass
class Predictions:
    rows: np.ndarray                  # indices into the split's metadata
    targets: np.ndarray               # [N, 3], -1 unknown
    probs: dict[str, np.ndarray]      # task -> [N, C]
    meta: pd.DataFrame                # the split's metadata rows, aligned with `rows`

    def y(self, task: str) -> np.ndarray:
        return self.targets[:, labels.TASKS.index(task)]


@torch.no_grad()
def predict_dataset(model: torch.nn.Module, dataset: data.WikiArtDataset, batch_size: int = 64,
                    workers: int | None = None, device: torch.device | None = None,
                    decode: str = TrainConfig.decode) -> Predictions:
    """Softmax probabilities of every task for every decodable image of `dataset` (decoded in the loader
    workers, or on the GPU: `gpu_input.use_gpu`)."""
    device = torch.device(device) if device is not None else runtime.pick_device()
    model = model.to(device, memory_format=torch.channels_last).eval()  # as the loader's batches (train.py)
    if gpu_input.use_gpu(decode, device, workers):
        loader = gpu_input.make_gpu_loader(dataset, batch_size, workers=workers, device=device, with_index=True)
    else:
        loader = data.make_loader(_Indexed(dataset), batch_size=batch_size, workers=workers)
    rows, targets, probs = [], [], {task: [] for task in labels.TASKS}
    for batch in loader:
        if batch is None:
            continue
        images, target, row = batch
        logits = model(images.to(device))
        for task in labels.TASKS:
            probs[task].append(F.softmax(logits[task].float(), dim=1).cpu())
        rows.append(row.cpu())
        targets.append(target.cpu())
    cat = lambda xs, width: torch.cat(xs).numpy() if xs else np.zeros((0, width))  # noqa: E731
    row_idx = cat(rows, 0).astype(int)
    return Predictions(rows=row_idx, targets=cat(targets, 3).astype(int),
                       probs={t: cat(probs[t], labels.num_classes()[t]) for t in labels.TASKS},
                       meta=dataset.meta.iloc[row_idx].reset_index(drop=True))


def train_counts(root: str | Path, unknown_as_class: str | None = None) -> dict[str, np.ndarray]:
    """Training-split class counts per task: the majority baseline is the most frequent *training* class."""
    meta = metadata.read_metadata(root, "train")
    targets = np.array([[labels.encode(t, name) for t, name in zip(labels.TASKS, row)]
                        for row in zip(*(meta[t] for t in labels.TASKS))]).reshape(-1, 3)
    targets = labels.fold_unknown_artists(targets, unknown_as_class) if unknown_as_class else targets
    return {task: np.bincount(targets[targets[:, i] >= 0, i], minlength=labels.num_classes()[task])
            for i, task in enumerate(labels.TASKS)}


def predictions_table(pred: Predictions, top_k: int = 5) -> pd.DataFrame:
    """Per image: path, true labels, and the top-k predictions with probabilities for each task."""
    table = pd.DataFrame({"path": pred.meta["path"]})
    for i, task in enumerate(labels.TASKS):
        names = labels.vocab(task)
        table[f"true_{task}"] = [labels.decode(task, int(v)) for v in pred.targets[:, i]]
        order = np.argsort(-pred.probs[task], axis=1, kind="stable")[:, :top_k]
        for k in range(order.shape[1]):
            table[f"{task}_pred{k + 1}"] = [names[j] for j in order[:, k]]
            table[f"{task}_prob{k + 1}"] = np.take_along_axis(pred.probs[task], order[:, k:k + 1], 1)[:, 0].round(4)
    return table


def evaluate_checkpoint(root: str | Path, checkpoint_path: str | Path, out: str | Path | None = None,
                        split: str = "test", batch_size: int = 64, workers: int | None = None,
                        unknown_as_class: str | None = None, n_boot: int = metrics.BOOTSTRAP_RESAMPLES,
                        device: torch.device | None = None,
                        decode: str = TrainConfig.decode) -> tuple[dict, Predictions]:
    """Metrics of `checkpoint_path` on `split` of `root`; with `out`, writes metrics.json, predictions.csv
    and per_class_<task>.csv (for each task with labelled rows) there."""
    if unknown_as_class and unknown_as_class not in labels.vocab("artist"):
        raise ValueError(f"--unknown-as-class {unknown_as_class!r} is not one of the 128 artists")
    model, ckpt = checkpoint.load(checkpoint_path)
    dataset = data.WikiArtDataset(root, split, ckpt["model_config"]["image_size"], train=False)
    pred = predict_dataset(model, dataset, batch_size, workers, device, decode)
    if unknown_as_class:  # the older convention, measured
        pred.targets = labels.fold_unknown_artists(pred.targets, unknown_as_class)
    counts = train_counts(root, unknown_as_class)
    result = metrics.task_scores({t: pred.y(t) for t in labels.TASKS}, pred.probs, counts, n_boot=n_boot)
    result = metrics.to_jsonable(result)
    result["meta"] = {"checkpoint": str(checkpoint_path), "variant": ckpt["model_config"]["variant"],
                      "data": str(root), "split": split, "images": int(len(pred.rows)),
                      "skipped_unreadable": int(len(dataset) - len(pred.rows)),
                      "unknown_as_class": unknown_as_class or None}
    if out is not None:
        out = Path(out)
        fsutil.atomic_write_text(out / "metrics.json", metrics.to_json(result))
        fsutil.atomic_write_text(out / "predictions.csv", predictions_table(pred).to_csv(index=False))
        for task in labels.TASKS:
            (out / f"per_class_{task}.csv").unlink(missing_ok=True)  # never leave an older run's report
            if result[task]["n"]:  # a task with no labelled row (a style-only folder) has no per-class report
                report = metrics.per_class_report(pred.y(task), pred.probs[task], labels.vocab(task), counts[task])
                fsutil.atomic_write_text(out / f"per_class_{task}.csv", report.to_csv(index=False))
    return result, pred


def summary_table(result: dict) -> pd.DataFrame:
    """One row per task: n, top-1 [95% CI], macro-F1 [95% CI], baseline, chance."""
    rows = []
    for task in labels.TASKS:
        m = result[task]
        if not m.get("n"):
            rows.append({"task": task, "n": 0})
            continue
        rows.append({"task": task, "n": m["n"], "top1": m["top1"], "top1_ci": _ci(m.get("top1_ci")),
                     "top5": m["top5"], "macro_f1": m["macro_f1"], "macro_f1_ci": _ci(m.get("macro_f1_ci")),
                     "balanced_acc": m["balanced_accuracy"], "majority_baseline": m["majority_baseline"],
                     "chance": m["chance"]})
    table = pd.DataFrame(rows).set_index("task").round(3)
    return table.astype(object).where(table.notna(), "—")  # a task with no labelled row has no scores


def _ci(pair) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]" if pair else ""


def compare(results: dict[str, dict]) -> pd.DataFrame:
    """Long table (model, task, n, top1, lo, hi, macro_f1, baseline) for `plots.comparison_chart`."""
    rows = []
    for name, result in results.items():
        for task in labels.TASKS:
            m = result[task]
            if m.get("n"):
                rows.append({"model": name, "task": task, "n": m["n"], "top1": m["top1"],
                             "top1_lo": m["top1_ci"][0], "top1_hi": m["top1_ci"][1], "macro_f1": m["macro_f1"],
                             "macro_f1_lo": m["macro_f1_ci"][0], "macro_f1_hi": m["macro_f1_ci"][1],
                             "majority_baseline": m["majority_baseline"], "chance": m["chance"]})
    return pd.DataFrame(rows)


def read_seed_protocol(csv_path: str | Path, artist_classes: str | Path) -> pd.DataFrame:
    """The older project's test list with its artist class names, and whether each row's artist label
    names the painter of the file (it does not for paintings folded into one class)."""
    table = pd.read_csv(csv_path)
    names = pd.read_csv(artist_classes, header=None, names=["index", "name"]).set_index("index")["name"]
    table["artist_name"] = table["artist"].map(names)
    table["painter"] = table["image_path"].map(labels.artist_from_filename)
    table["label_names_painter"] = table["artist_name"] == table["painter"]
    return table


def seed_protocol_summary(table: pd.DataFrame) -> dict:
    counts = table["artist"].value_counts()
    top = int(counts.index[0])
    return {"rows": int(len(table)), "majority_class": str(table.loc[table.artist == top, "artist_name"].iloc[0]),
            "majority_rows": int(counts.iloc[0]), "majority_share": round(float(counts.iloc[0] / len(table)), 4),
            "rows_labelled_with_another_painter": int((~table["label_names_painter"]).sum())}


# ----------------------------------------------------------------------------------------------------
# Several runs: which is the main model, what budget each had, and which differences the test split can tell


