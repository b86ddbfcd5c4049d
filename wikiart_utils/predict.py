"""Top-k artist, genre and style for image files, from a trained checkpoint (the notebook's version, with
Grad-CAM and an upload button, is `lesson.explain_painting`).

    python -m wikiart_utils predict painting.jpg my-folder/ [--checkpoint checkpoints/run/best.pt] [--top-k 5] [--json]

Without a checkpoint it uses the course's model, shipped in checkpoints/course/ (`checkpoint.COURSE_MODEL`).
A folder stands for the images inside it (`expand_paths`). With --json the standard output is one JSON
list and nothing else: what loading the model says goes to the standard error.
"""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from . import checkpoint, data, images, labels


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


def expand_paths(paths: list[str | Path]) -> list[Path]:
    """Each path as given, a folder replaced by the image files under it (recursively, by their extension,
    sorted by their path inside the folder, so the order is the same on every machine). A file that is not
    an image stays in the list: `predict_images` answers it with its own one-line error."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted((p for p in path.rglob("*") if p.is_file() and images.is_image_name(p)),
                                key=lambda p: p.relative_to(path).as_posix()))
        else:
            found.append(path)
    return found


@torch.no_grad()
def predict_images(checkpoint_path: str | Path | None, paths: list[str | Path], top_k: int = 5
                   ) -> list[dict]:
    """One dict per image: {"path", "artist"/"genre"/"style": [(name, prob), ...]} or {"path", "error"}; a
    folder in `paths` stands for its images (`expand_paths`). `checkpoint_path` None: the course's shipped
    model. What loading the model prints goes to the standard error: the standard output is the answer's."""
    with contextlib.redirect_stdout(sys.stderr):
        model, ckpt = checkpoint.load(checkpoint_path or checkpoint.COURSE_MODEL)
    size = ckpt["model_config"]["image_size"]
    results = []
    for path in expand_paths(paths):
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


