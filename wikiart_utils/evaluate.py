"""Evaluate a checkpoint on a split: metrics.json, predictions.csv, per-class reports, Grad-CAM.

    python -m wikiart_utils evaluate --data DIR --checkpoint checkpoints/run/best.pt --out reports/run

Scores are computed over *labelled* rows only (an unknown artist or genre is a missing label), each
with n, the majority baseline (most frequent training class) and 95% bootstrap intervals.
`--unknown-as-class NAME` reproduces a convention of an older project instead: every painting by an
artist outside the 128 is labelled as artist NAME (it used `albrecht-durer`), which inflates accuracy.
"""
from __future__ import annotations

import textwrap

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from torch.utils.data import Dataset

from . import checkpoint, data, fsutil, labels, metadata, metrics, models, plots, provenance, results, runtime, splits
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
MIN_CAM_CELLS = 7  # a Grad-CAM map coarser than 7x7 cells says little more than "the left half"


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
    model = model.to(device).eval()
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
                        unknown_as_class: str | None = None, n_boot: int = 1000, device: torch.device | None = None,
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


RESNET_STAGES = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")


def _cam_candidates(model: models.MultitaskNet) -> list[tuple[str, torch.nn.Module]]:
    """Modules whose output Grad-CAM may read, shallow to deep: every stage of a CNN backbone's `features`
    (ResNet-18, VGG-16), or a ViT's final token LayerNorm (its patch tokens)."""
    backbone = model.backbone
    if hasattr(backbone, "vit"):
        return [("patch tokens", backbone.vit.encoder.ln)]  # ViTTokens calls encoder.ln, not encoder()
    names = RESNET_STAGES if isinstance(backbone, models.ResNetTokens) else None
    return [(names[i] if names else f"features[{i}]", m) for i, m in enumerate(backbone.features)]


def _run_recording(model: models.MultitaskNet, x: torch.Tensor) -> tuple[dict, dict[str, torch.Tensor]]:
    """model(x) with the output of every Grad-CAM candidate kept (and its gradient retained)."""
    saved: dict[str, torch.Tensor] = {}

    def keep(name):
        def hook(_module, _inputs, output):
            if output.requires_grad:
                output.retain_grad()
            saved[name] = output
        return hook

    handles = [m.register_forward_hook(keep(name)) for name, m in _cam_candidates(model)]
    try:
        return model(x), saved
    finally:
        for handle in handles:
            handle.remove()


def _grid(output: torch.Tensor, image_hw: tuple[int, int], patch: int = 16) -> tuple[int, int]:
    """Cells of a saved map: [B, C, h, w] for a CNN, [B, 1 + h*w, D] tokens of a ViT (patch size 16)."""
    return (image_hw[0] // patch, image_hw[1] // patch) if output.dim() == 3 else tuple(output.shape[-2:])


def _pick_layer(model: models.MultitaskNet, saved: dict, image_hw: tuple[int, int], min_cells: int) -> str:
    """The deepest recorded map with at least min_cells x min_cells cells: deep enough to be about the
    classes, fine enough to say where (ResNet-18 at 64 px: layer4 is 2x2, layer2 8x8)."""
    fine = [name for name, out in saved.items() if min(_grid(out, image_hw)) >= min_cells]
    if not fine:
        variant, size = model.config["variant"], model.config["image_size"]
        best = max((_grid(out, image_hw) for out in saved.values()), key=min)
        raise ValueError(f"Grad-CAM of {variant} at {size} px: its finest usable map has {best[0]}x{best[1]} cells, "
                         f"fewer than {min_cells}x{min_cells}; explain a ResNet-18 or VGG-16 run, a ViT trained at "
                         f">= {16 * min_cells} px, or pass a smaller min_cells")
    return fine[-1]


def gradcam_layer(model: models.MultitaskNet, min_cells: int = MIN_CAM_CELLS) -> tuple[str, int, int]:
    """(layer, rows, columns) of the map `gradcam` reads at the model's own image size; ValueError when
    no map of at least min_cells x min_cells exists (a ViT at 64 px has 4x4 patches)."""
    size = model.config["image_size"]
    with torch.no_grad():
        _, saved = _run_recording(model.eval(), torch.zeros(1, 3, size, size))
    name = _pick_layer(model, saved, (size, size), min_cells)
    return (name, *_grid(saved[name], (size, size)))


def gradcam(model: models.MultitaskNet, image: torch.Tensor, task: str, class_index: int | None = None,
            min_cells: int = MIN_CAM_CELLS) -> np.ndarray:
    """Grad-CAM heat map [H, W] in 0..1 for one Dataset image [3, H, W] and one task's class (default: the
    predicted one).

    The map weights a backbone feature map by the gradient of the class logit, so it shows where the
    evidence for that class lies. It reads the deepest map with at least min_cells x min_cells cells
    (`gradcam_layer`): the last ResNet stage is 2x2 at 64 px, too coarse to point at anything. For a ViT
    it reads the patch tokens. Selvaraju et al., ICCV 2017.
    """
    model.eval()
    with torch.enable_grad():
        x = data.to_display(image).unsqueeze(0).requires_grad_(True)  # floats in [0, 1]: uint8 has no grad
        logits, saved = _run_recording(model, x)
        scores = logits[task][0]
        target = int(scores.argmax()) if class_index is None else class_index
        model.zero_grad(set_to_none=True)
        scores[target].backward()
    hw = tuple(image.shape[-2:])
    name = _pick_layer(model, saved, hw, min_cells)
    act, grad = saved[name].detach(), saved[name].grad
    if act.dim() == 3:  # ViT: [1, 1 + h*w, D] -> [1, D, h, w], CLS (first here) dropped
        side = _grid(act, hw)
        act = act[:, 1:].transpose(1, 2).reshape(1, -1, *side)
        grad = grad[:, 1:].transpose(1, 2).reshape(1, -1, *side)
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * act).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=hw, mode="bilinear", align_corners=False)[0, 0]
    cam = cam - cam.min()
    return (cam / cam.max()).numpy() if float(cam.max()) > 0 else cam.numpy()


def explainable_run(runs: dict[str, Path], order: list[str], min_cells: int = MIN_CAM_CELLS
                    ) -> tuple[str, str]:
    """(run, 'layer (h x w cells at S px)') of the first run in `order` that Grad-CAM can explain with a map
    of at least min_cells per side; the notebook passes the main model first."""
    reasons = []
    for name in order:
        model, _ = checkpoint.load(runs[name])
        try:
            layer, h, w = gradcam_layer(model, min_cells)
        except ValueError as exc:
            reasons.append(str(exc))
            continue
        return name, f"{layer} ({h}x{w} cells at {model.config['image_size']} px)"
    raise ValueError("no run can be explained: " + "; ".join(reasons))


def gradcam_panels(model: models.MultitaskNet, dataset: data.WikiArtDataset, rows, tasks=("style", "genre"),
                   min_cells: int = MIN_CAM_CELLS) -> tuple[list[np.ndarray], list[str], list[str], pd.DataFrame]:
    """For each dataset row and task: the Grad-CAM overlay of the predicted class, a caption
    (`verdict_line` and the probability), its colour (green right, red wrong, black unknown truth),
    and the metadata rows of the paintings shown (one per overlay, for `plots.image_grid(paintings=)`)."""
    overlays, captions, colours = [], [], []
    for r in rows:
        image, target = dataset[int(r)]
        with torch.no_grad():
            probs = {t: F.softmax(v[0].float(), 0) for t, v in model.eval()(image[None]).items()}
        for task in tasks:
            truth, guess = int(target[labels.TASKS.index(task)]), int(probs[task].argmax())
            overlays.append(plots.overlay_heatmap(data.to_display(image), gradcam(model, image, task,
                                                                                  min_cells=min_cells)))
            captions.append(f"{verdict_line(task, truth, guess)}\n({float(probs[task][guess]):.0%} sure)")
            colours.append("black" if truth < 0 else plots.caption_colors([truth == guess])[0])
    shown = dataset.meta.iloc[np.repeat(np.asarray(rows, dtype=int), len(tasks))].reset_index(drop=True)
    return overlays, captions, colours, shown

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


@dataclass
class Gallery:
    """Paintings with 'true -> predicted' captions, ready for `plots.image_grid` (with their provenance)."""
    images: list
    captions: list[str]
    colors: list[str]
    paintings: pd.DataFrame           # metadata rows (path, painter) of the paintings shown, in order

    def grid(self, **kwargs) -> Figure:
        """`plots.image_grid` of the gallery, 4 per row with captions legible at notebook width (override with
        ncols, cell_size, fontsize); `paintings` goes with it, so the provenance record is written."""
        kwargs = {"ncols": 4, "cell_size": 3.2, "fontsize": 10, **kwargs}
        return plots.image_grid(self.images, self.captions, colors=self.colors, paintings=self.paintings, **kwargs)


def verdict_line(task: str, truth: int, guess: int, width: int = 30) -> str:
    """One caption line: "✓ style: Baroque" when right, "✗ style: Rococo -> Baroque" (true -> predicted) when
    wrong, "? genre: -> portrait" when the label is unknown; long names wrap instead of being cut."""
    if truth < 0:
        text = f"? {task}: -> {labels.decode(task, guess)}"
    elif truth == guess:
        text = f"\u2713 {task}: {labels.decode(task, truth)}"
    else:
        text = f"\u2717 {task}: {labels.decode(task, truth)} -> {labels.decode(task, guess)}"
    return "\n".join(textwrap.wrap(text, width, subsequent_indent="   ", break_on_hyphens=False))


def gallery(pred: Predictions, rows: np.ndarray, dataset: data.WikiArtDataset, k: int | None = None,
            showable_only: bool = True) -> Gallery:
    """The first k of `rows` (indices into `pred`) whose painter may be shown (`provenance.showable`), with
    one caption line per task marked right (✓) or wrong (✗, true -> predicted), and a colour as well:
    green when every known label is predicted, else red.

    Filtering here, before the k are taken, is what lets a dataset with modern painters (the 32,245-painting
    subset) still fill a gallery: the rows skipped are those a figure must not show."""
    rows = np.asarray(rows, dtype=int)
    if showable_only and len(rows):
        rows = rows[provenance.showable(pred.meta.iloc[rows]).to_numpy()]
    rows = rows[:k]
    images_, captions, colours = [], [], []
    for r in rows:
        images_.append(dataset.load(int(pred.rows[r])))
        lines, right = [], []
        for i, task in enumerate(labels.TASKS):
            truth, guess = int(pred.targets[r, i]), int(pred.probs[task][r].argmax())
            lines.append(verdict_line(task, truth, guess))
            right.append(truth < 0 or truth == guess)
        captions.append("\n".join(lines))
        colours.append(plots.caption_colors([all(right)])[0])
    return Gallery(images_, captions, colours, pred.meta.iloc[rows].reset_index(drop=True))


# ----------------------------------------------------------------------------------------------------
# Several runs: which is the main model, what budget each had, and which differences the test split can tell

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


def paired_against(preds: dict[str, Predictions], reference: str, n_boot: int = 2000) -> pd.DataFrame:
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
    from . import train  # here, not at the top: only this function trains

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
