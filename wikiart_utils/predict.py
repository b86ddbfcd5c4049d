"""Top-k artist, genre and style for image files, from a trained checkpoint.

    python -m wikiart_utils predict --checkpoint checkpoints/run/best.pt painting.jpg [--top-k 5] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from . import data as wdata
from . import images, labels, train


@torch.no_grad()
def predict_images(checkpoint: str | Path, paths: list[str | Path], top_k: int = 5
                   ) -> list[dict]:
    """One dict per path: {"path", "artist"/"genre"/"style": [(name, prob), ...]} or {"path", "error"}."""
    model, ckpt = train.load_checkpoint(checkpoint)
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


def register_cli(sub) -> None:
    p = sub.add_parser("predict", help="top-k artist, genre and style for image files",
                       description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, type=Path, help="best.pt written by train")
    p.add_argument("images", nargs="+", type=Path, help="image files")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true", help="print one JSON list")

    def run(args: argparse.Namespace) -> None:
        results = predict_images(args.checkpoint, args.images, args.top_k)
        if args.json:
            print(json.dumps(results, indent=1))
        else:
            for result in results:
                print(format_text(result), file=sys.stderr if "error" in result else sys.stdout)
        if any("error" in r for r in results):
            raise SystemExit(2)

    p.set_defaults(func=run)
