"""Evaluate a checkpoint on a split: metrics.json, predictions.csv, per-class reports, Grad-CAM.

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

from . import data as wdata
from . import checkpoint as wcheckpoint
from . import fsutil, gpu_input, index, labels, metrics, models, runtime

OLDER_PROJECT = {  # reported by an earlier public CNN-LSTM WikiArt project on its own 6,109-row test list
    "reported_top1": {"artist": 0.6518, "genre": 0.6592, "style": 0.5770},
    "note": "its artist labels put every painting by a less represented artist into class 24 "
            "(albrecht-durer): 3,176 of 6,109 test rows (52.0%) carry that class, so always answering "
            "it scores 52.0% artist accuracy on that list",
    "majority_artist_share": 3176 / 6109,
}


class _Indexed(Dataset):
    """Adds the row index to each item so predictions stay aligned when a bad file is skipped."""

    def __init__(self, dataset: wdata.WikiArtDataset):
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
def predict_dataset(model: torch.nn.Module, dataset: wdata.WikiArtDataset, batch_size: int = 64,
                    workers: int | None = None, device: torch.device | None = None,
                    decode: str = "auto") -> Predictions:
    """Softmax probabilities of every task for every decodable image of `dataset` (decoded in the loader
    workers, or on the GPU: `gpu_input.use_gpu`)."""
    device = torch.device(device) if device is not None else runtime.pick_device()
    model = model.to(device).eval()
    if gpu_input.use_gpu(decode, device, workers):
        loader = gpu_input.make_gpu_loader(dataset, batch_size, workers=workers, device=device, with_index=True)
    else:
        loader = wdata.make_loader(_Indexed(dataset), batch_size=batch_size, workers=workers)
    rows, targets, probs = [], [], {task: [] for task in labels.TASKS}
    for batch in loader:
        if batch is None:
            continue
        images, target, index_ = batch
        logits = model(images.to(device))
        for task in labels.TASKS:
            probs[task].append(F.softmax(logits[task].float(), dim=1).cpu())
        rows.append(index_.cpu())
        targets.append(target.cpu())
    cat = lambda xs, width: torch.cat(xs).numpy() if xs else np.zeros((0, width))  # noqa: E731
    row_idx = cat(rows, 0).astype(int)
    return Predictions(rows=row_idx, targets=cat(targets, 3).astype(int),
                       probs={t: cat(probs[t], labels.num_classes()[t]) for t in labels.TASKS},
                       meta=dataset.meta.iloc[row_idx].reset_index(drop=True))


def train_counts(root: str | Path, unknown_as_class: str | None = None) -> dict[str, np.ndarray]:
    """Training-split class counts per task: the majority baseline is the most frequent *training* class."""
    meta = index.read_metadata(root, "train")
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


def evaluate_checkpoint(data: str | Path, checkpoint: str | Path, out: str | Path | None = None,
                        split: str = "test", batch_size: int = 64, workers: int | None = None,
                        unknown_as_class: str | None = None, n_boot: int = 1000,
                        device: torch.device | None = None, decode: str = "auto") -> tuple[dict, Predictions]:
    """Metrics of `checkpoint` on `split` of `data`; with `out`, writes metrics.json, predictions.csv
    and per_class_<task>.csv (for each task with labelled rows) there."""
    if unknown_as_class and unknown_as_class not in labels.vocab("artist"):
        raise ValueError(f"--unknown-as-class {unknown_as_class!r} is not one of the 128 artists")
    model, ckpt = wcheckpoint.load(checkpoint)
    dataset = wdata.WikiArtDataset(data, split, ckpt["model_config"]["image_size"], train=False)
    pred = predict_dataset(model, dataset, batch_size, workers, device, decode)
    if unknown_as_class:  # the older convention, measured
        pred.targets = labels.fold_unknown_artists(pred.targets, unknown_as_class)
    counts = train_counts(data, unknown_as_class)
    result = metrics.evaluate_tasks({t: pred.y(t) for t in labels.TASKS}, pred.probs, counts, n_boot=n_boot)
    result = metrics.to_jsonable(result)
    result["meta"] = {"checkpoint": str(checkpoint), "variant": ckpt["model_config"]["variant"],
                      "data": str(data), "split": split, "images": int(len(pred.rows)),
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


def gradcam(model: models.MultitaskNet, image: torch.Tensor, task: str,
            class_index: int | None = None) -> np.ndarray:
    """Grad-CAM heat map [H, W] in 0..1 for one Dataset image [3, H, W] and one task's class.

    The map weights the backbone's last spatial feature map (CNN: last conv block; ViT: patch tokens)
    by the gradient of the class logit, so it shows where the evidence for that class lies.
    """
    backbone = model.backbone
    layer = backbone.vit.encoder if hasattr(backbone, "vit") else backbone.features
    saved: dict[str, torch.Tensor] = {}

    def hook(_module, _inputs, output):
        output.retain_grad()
        saved["act"] = output

    handle = layer.register_forward_hook(hook)
    try:
        model.eval()
        with torch.enable_grad():
            x = wdata.to_display(image).unsqueeze(0).requires_grad_(True)  # floats in [0, 1]: uint8 has no grad
            logits = model(x)[task][0]
            target = int(logits.argmax()) if class_index is None else class_index
            model.zero_grad(set_to_none=True)
            logits[target].backward()
    finally:
        handle.remove()
    act, grad = saved["act"].detach(), saved["act"].grad
    if act.dim() == 3:  # ViT: [1, 1 + h*w, D] -> [1, D, h, w], CLS dropped
        side = image.shape[-2] // 16, image.shape[-1] // 16
        act = act[:, 1:].transpose(1, 2).reshape(1, -1, *side)
        grad = grad[:, 1:].transpose(1, 2).reshape(1, -1, *side)
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * act).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)[0, 0]
    cam = cam - cam.min()
    return (cam / cam.max()).numpy() if float(cam.max()) > 0 else cam.numpy()


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


def find_checkpoints(folder: str | Path) -> dict[str, Path]:
    """run name -> best.pt for every run folder under `folder` (sorted by name)."""
    return {p.parent.name: p for p in sorted(Path(folder).glob("*/best.pt"))}


def gallery(pred: Predictions, rows: np.ndarray, dataset: wdata.WikiArtDataset) -> tuple[list, list[str], list[str]]:
    """Images, 'true -> predicted' captions (one line per task) and colours for the given rows."""
    images_, captions, colours = [], [], []
    for r in rows:
        images_.append(dataset.load(int(pred.rows[r])))
        lines, right = [], []
        for i, task in enumerate(labels.TASKS):
            truth, guess = int(pred.targets[r, i]), int(pred.probs[task][r].argmax())
            lines.append(f"{labels.decode(task, truth)[:18] or '?'} -> {labels.decode(task, guess)[:18]}")
            right.append(truth < 0 or truth == guess)
        captions.append("\n".join(lines))
        colours.append("green" if all(right) else "red")
    return images_, captions, colours
