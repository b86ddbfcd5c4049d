"""Top-k artist, genre and style for image files, from a trained checkpoint; and the same for one painting
in a notebook, with Grad-CAM (`explain_painting`).

    python -m wikiart_utils predict painting.jpg [--checkpoint checkpoints/run/best.pt] [--top-k 5] [--json]

Without a checkpoint it uses the course's model, shipped in checkpoints/course/ (`checkpoint.COURSE_MODEL`).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from . import checkpoint, data, evaluate, images, labels, metadata, plots, provenance


def load_image(path: str | Path, image_size: int) -> torch.Tensor:
    """A file as the model sees it at evaluation: decoded, resized and centre-cropped, uint8 [3, S, S]."""
    return data.eval_transform(image_size)(images.decode(path, min_side=data.eval_resize(image_size)))


def top_classes(logits: dict[str, torch.Tensor], k: int) -> dict[str, list[tuple[str, float]]]:
    """task -> [(class name, probability), ...] of one image's logits, most probable first."""
    ranked = {}
    for task in labels.TASKS:
        probs = F.softmax(logits[task][0].float(), dim=0)
        values, indices = probs.topk(min(k, probs.numel()))
        ranked[task] = [(labels.decode(task, int(i)), round(float(v), 4)) for v, i in zip(values, indices)]
    return ranked


@torch.no_grad()
def predict_images(checkpoint_path: str | Path | None, paths: list[str | Path], top_k: int = 5
                   ) -> list[dict]:
    """One dict per path: {"path", "artist"/"genre"/"style": [(name, prob), ...]} or {"path", "error"}.
    `checkpoint_path` None: the course's shipped model."""
    model, ckpt = checkpoint.load(checkpoint_path or checkpoint.COURSE_MODEL)
    size = ckpt["model_config"]["image_size"]
    results = []
    for path in paths:
        try:
            image = load_image(path, size)
        except images.BadImage as exc:
            results.append({"path": str(path), "error": str(exc)})
            continue
        results.append({"path": str(path), **top_classes(model(image.unsqueeze(0)), top_k)})
    return results



def format_text(result: dict) -> str:
    if "error" in result:
        return f"{result['path']}: error: {result['error']}"
    lines = [result["path"]]
    for task in labels.TASKS:
        ranked = ", ".join(f"{name} {prob:.1%}" for name, prob in result[task])
        lines.append(f"  {task:<6} {ranked}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# One painting in a notebook: the learner's own file, or a sample painting by a public-domain painter


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
                     cam_tasks=("style", "genre"), min_cells: int = evaluate.MIN_CAM_CELLS) -> dict:
    """Top-k of every task for one image file, and the Grad-CAM of the top class of each of `cam_tasks`.

    Returns {"path", "image" (what the model saw, uint8 [3, S, S]), "top": {task: [(name, prob), ...]},
    "cams": {task: heat map}, "layer": the map Grad-CAM read}. `checkpoint_path` None: the course's model."""
    model, ckpt = checkpoint.load(checkpoint_path or checkpoint.COURSE_MODEL)
    image = load_image(path, ckpt["model_config"]["image_size"])
    with torch.no_grad():
        ranked = top_classes(model(image.unsqueeze(0)), k)
    layer, h, w = evaluate.gradcam_layer(model, min_cells)
    cams = {task: evaluate.gradcam(model, image, task, min_cells=min_cells) for task in cam_tasks}
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
    overlay per task with that task's top-k."""
    shown = data.to_display(report["image"])
    listing = lambda task: "\n".join(f"{name[:24]} {p:.0%}" for name, p in report["top"][task])  # noqa: E731
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
