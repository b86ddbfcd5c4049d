"""Top-k artist, genre and style for image files, from a trained checkpoint.

    python -m wikiart_utils predict --checkpoint checkpoints/run/best.pt painting.jpg [--top-k 5] [--json]
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from . import data as wdata
from . import checkpoint as wcheckpoint
from . import images, labels


@torch.no_grad()
def predict_images(checkpoint: str | Path, paths: list[str | Path], top_k: int = 5
                   ) -> list[dict]:
    """One dict per path: {"path", "artist"/"genre"/"style": [(name, prob), ...]} or {"path", "error"}."""
    model, ckpt = wcheckpoint.load(checkpoint)
    size = ckpt["model_config"]["image_size"]
    transform = wdata.eval_transform(size)
    results = []
    for path in paths:
        try:
            image = images.decode(path, min_side=wdata.eval_resize(size))
        except images.BadImage as exc:
            results.append({"path": str(path), "error": str(exc)})
            continue
        logits = model(transform(image).unsqueeze(0))
        entry: dict = {"path": str(path)}
        for task in labels.TASKS:
            probs = F.softmax(logits[task][0].float(), dim=0)
            values, indices = probs.topk(min(top_k, probs.numel()))
            entry[task] = [(labels.decode(task, int(i)), round(float(v), 4)) for v, i in zip(values, indices)]
        results.append(entry)
    return results


def format_text(result: dict) -> str:
    if "error" in result:
        return f"{result['path']}: error: {result['error']}"
    lines = [result["path"]]
    for task in labels.TASKS:
        ranked = ", ".join(f"{name} {prob:.1%}" for name, prob in result[task])
        lines.append(f"  {task:<6} {ranked}")
    return "\n".join(lines)
