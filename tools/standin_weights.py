"""Write STAND-IN ImageNet weight files (random tensors) into a torch hub cache, for offline tests.

With `pretrained=True` the course loads ImageNet weights through torchvision's weight enums
(`ResNet18_Weights.IMAGENET1K_V1`, ...), which read `<hub dir>/checkpoints/<file name of the URL>` and
download it only when it is missing. No download is possible on the project's machines, so the tests
put random state dicts of the right shapes under those names and the very same loading code runs.

These files are NOT ImageNet weights: a model loaded from them has random features. Never commit them
and never report numbers obtained with them as pretrained results.

    python tools/standin_weights.py --hub-dir /tmp/standin-hub [--only resnet18]
    TORCH_HOME=... or torch.hub.set_dir(...) then points torchvision at them.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torchvision
from torchvision.models import ResNet18_Weights, VGG16_Weights, ViT_B_16_Weights

STANDINS = {
    "resnet18": (ResNet18_Weights.IMAGENET1K_V1, torchvision.models.resnet18),
    "vgg16": (VGG16_Weights.IMAGENET1K_V1, torchvision.models.vgg16),
    "vit_b16": (ViT_B_16_Weights.IMAGENET1K_V1, torchvision.models.vit_b_16),
}


def cache_file(weights: torchvision.models.WeightsEnum, hub_dir: str | Path) -> Path:
    """Where torchvision looks for `weights` in the hub cache `hub_dir`."""
    return Path(hub_dir) / "checkpoints" / os.path.basename(weights.url)


def write(hub_dir: str | Path, only: list[str] | None = None, seed: int = 0) -> list[Path]:
    """Random state dicts of each architecture under the file names torchvision's enums expect."""
    written = []
    for name, (weights, build) in STANDINS.items():
        if only and name not in only:
            continue
        torch.manual_seed(seed)
        path = cache_file(weights, hub_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(build(weights=None).state_dict(), path)
        written.append(path)
        print(f"stand-in (random, NOT ImageNet) {type(weights).__name__}.{weights.name} -> {path}")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-dir", required=True, help="a torch hub folder (not your real cache)")
    parser.add_argument("--only", nargs="*", choices=list(STANDINS), default=None)
    args = parser.parse_args(argv)
    if Path(args.hub_dir).resolve() == Path(torch.hub.get_dir()).resolve():
        raise SystemExit(f"refusing to write stand-ins into your real torch hub cache {args.hub_dir}")
    write(args.hub_dir, args.only)


if __name__ == "__main__":
    main()
