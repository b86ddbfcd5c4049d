"""Training the head on cached backbone tokens: ``python benchmarks/bench_features.py [--variants ...] [--json]``.

Epoch time of the LSTM head trained on cached backbone tokens vs end to end through the same frozen
backbone, and both runs' validation metrics, per variant; single-threaded by default, process CPU time
(images/s per core) with the wall clock beside it. ``--json`` prints one JSON object instead of the
tables; ``--save FILE`` writes it to FILE too. It was ``python -m wikiart_utils bench features`` while the
benchmarks lived inside the package: same flags, same JSON.

Both runs are the package's own training loop, as `python -m wikiart_utils train --freeze-backbone` runs
it with and without `--cached-features`: `engine.train_one_epoch` with `train.make_optimizer` (AdamW over
`train.param_groups`, warm-up + cosine), the loss of `losses.build_criterion` and gradient clipping 1.0;
the cached run steps `features.HeadOnly(model)` over `CachedFeatureDataset.loader` batches, the end-to-end
run steps the whole model over image batches with its backbone frozen (`set_backbone_trainable(False)`:
no gradient, and `MultitaskNet.train()` keeps it in eval mode); `engine.validate` scores both.

Change of meaning against the rows in RESULTS.md measured with the in-package version (which had its own
head-only loop, `features.fit_head`): the end-to-end run now calls the whole model under autograd with a
frozen backbone (as `train` does) instead of computing the tokens under `torch.no_grad()` -- autograd
records nothing for the frozen backbone, so its cost is about the same; and both runs now use
`train.make_optimizer`, whose AdamW is fused only on CUDA (the old loop used fused AdamW on the CPU as well),
with `config.REGIMES`' warm-up. The head step therefore costs a little more in *both* runs, which lowers
`cached_vs_end_to_end` slightly; the ratio still compares the two ways `train` feeds a frozen backbone.
"""
from __future__ import annotations

import argparse
import copy
import gc
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Sequence

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root, not from here
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import numpy as np
import torch

from benchmarks import common
from wikiart_utils import data as wdata, engine, losses, models, train as wtrain
from wikiart_utils.ingest import sample
from wikiart_utils.speed import features
from wikiart_utils.config import REGIMES, TrainConfig

VARIANTS = ("resnet18_lstm_patch", "vgg16_lstm", "vit_b16_lstm")
TARGET = 20.0
GRAD_CLIP = 1.0     # train's default
WEIGHT_DECAY = 0.05  # train's default


def compare_cached(model: models.MultitaskNet, train_set, val_set, workdir: Path, epochs: int, batch_size: int,
                   lr: float, seed: int, pretrained: bool = False) -> dict:
    """One variant: extract its tokens, then train its head on the cache and end to end; timings + metrics."""
    device = torch.device("cpu")
    model.set_backbone_trainable(False)
    model.eval()
    initial = copy.deepcopy(model.state_dict())
    backbone_before = features.backbone_fingerprint(model)
    with common.Clock() as extract:
        features.extract_features(model, train_set, workdir / "cache-train", batch_size, device, progress=False)
        features.extract_features(model, val_set, workdir / "cache-val", batch_size, device, progress=False)
    train_cache = features.CachedFeatureDataset(workdir / "cache-train")
    val_cache = features.CachedFeatureDataset(workdir / "cache-val")
    drop_last = len(train_set) > batch_size
    cache_loader = train_cache.loader(batch_size, shuffle=True, seed=seed, drop_last=drop_last)
    criterion = losses.build_criterion(train_set.targets)
    regime = REGIMES["pretrained" if pretrained else "scratch"]
    optimizer_args = TrainConfig(epochs=epochs, lr=lr, backbone_lr_scale=regime["backbone_lr_scale"],
                                 warmup_epochs=regime["warmup_epochs"], weight_decay=WEIGHT_DECAY)

    def cached_batches(epoch: int):
        cache_loader.set_epoch(epoch)
        return cache_loader

    def image_batches(epoch: int):  # the same order as the cache's epoch (`features.epoch_order`)
        order = features.epoch_order(len(train_set), seed, epoch).tolist()
        return torch.utils.data.DataLoader(train_set, batch_size, sampler=order, drop_last=drop_last,
                                           num_workers=0, collate_fn=wdata.collate_skip_bad,
                                           generator=torch.Generator())  # leaves the global RNG alone

    runs = {}
    for name, net, batches in (("cached", features.HeadOnly(model), cached_batches),
                               ("end_to_end", model, image_batches)):
        model.load_state_dict(initial)
        optimizer, scheduler = wtrain.make_optimizer(model, optimizer_args, len(cache_loader), device)
        torch.manual_seed(seed)  # the same dropout masks in both runs
        history = []
        for epoch in range(epochs):
            loader = batches(epoch)
            with common.Clock() as clock:
                stats = engine.train_one_epoch(net, criterion, optimizer, loader, device, scheduler,
                                               grad_clip=GRAD_CLIP, desc=f"{name} epoch {epoch + 1}")
            history.append({"train_loss": stats["train_loss"], "seconds": clock.wall, "cpu_seconds": clock.cpu})
        if name == "cached":
            metrics = engine.validate(net, val_cache.loader(batch_size), device)
        else:
            metrics = engine.validate(net, torch.utils.data.DataLoader(
                val_set, batch_size, collate_fn=wdata.collate_skip_bad), device)
        cpu, wall = [row["cpu_seconds"] for row in history], [row["seconds"] for row in history]
        runs[name] = {"epoch_cpu_seconds": [round(x, 4) for x in cpu], "epoch_seconds": [round(x, 4) for x in wall],
                      "median_epoch_cpu_seconds": round(statistics.median(cpu), 4),
                      "median_epoch_seconds": round(statistics.median(wall), 4),
                      "images_per_s": common.rate(len(train_set), statistics.median(cpu)),
                      "train_loss": [round(row["train_loss"], 5) for row in history],
                      "metrics": {k: round(v, 5) for k, v in metrics.items()}}
    c, e = runs["cached"], runs["end_to_end"]
    total_cached = extract.cpu + sum(c["epoch_cpu_seconds"])
    cache_bytes = sum(f.stat().st_size for f in (workdir / "cache-train").iterdir())
    return {
        "token_shape": list(train_cache.token_shape),
        "extraction": {"cpu_seconds": round(extract.cpu, 3), "seconds": round(extract.wall, 3),
                       "images": len(train_set) + len(val_set), "train_cache_bytes": cache_bytes},
        "cached": c, "end_to_end": e,
        "ratios": {"cached_vs_end_to_end": round(e["median_epoch_cpu_seconds"] / c["median_epoch_cpu_seconds"], 2),
                   "cached_vs_end_to_end_wall": round(e["median_epoch_seconds"] / c["median_epoch_seconds"], 2),
                   "cached_incl_extraction_vs_end_to_end": round(sum(e["epoch_cpu_seconds"]) / total_cached, 2)},
        "metric_diff": {k: round(c["metrics"][k] - e["metrics"][k], 5) for k in c["metrics"]
                        if k in e["metrics"] and np.isfinite(c["metrics"][k]) and np.isfinite(e["metrics"][k])},
        "backbone_unchanged": backbone_before == features.backbone_fingerprint(model),
    }


def bench_features(data_dir: str | Path | None = None, n: int = 200, sample_size: int = 256, image_size: int = 224,
                   variants: Sequence[str] = VARIANTS, epochs: int = 2, batch_size: int = 32,
                   lr: float = 1e-3, threads: int | None = 1, pretrained: bool = False, seed: int = 0) -> dict:
    """Head epochs on cached tokens vs end to end through the same frozen backbone, per variant.

    Both runs start from the same weights, see the same batches in the same order (`epoch_order`), the
    same dropout masks (same seed), and the same *eval* transform (no augmentation: a cache holds one
    view per image, so the end-to-end run uses the eval transform too, for a like-for-like comparison).
    They differ only by float16 rounding of the cached tokens, so their metrics agree up to that.
    `ratios.cached_vs_end_to_end` is the first variant's; every variant's is in `ratios.by_variant`.
    """
    machine = common.machine_info()
    variants = list(variants)
    results = {}
    with tempfile.TemporaryDirectory(prefix="wikiart-bench-features-") as tmp, common.torch_threads(threads) as used:
        tmp = Path(tmp)
        root = Path(data_dir) if data_dir else tmp / "sample"
        if not data_dir:
            sample.generate_sample(root, n=n, size=sample_size, seed=seed, workers=1)
        train_set = wdata.WikiArtDataset(root, "train", image_size, train=False)
        val_set = wdata.WikiArtDataset(root, "val", image_size, train=False)
        if not len(train_set) or not len(val_set):
            raise ValueError(f"{root}: bench features needs train and val images")
        for variant in variants:
            torch.manual_seed(seed)
            model = models.build_model(variant, pretrained=pretrained, image_size=image_size)
            results[variant] = compare_cached(model, train_set, val_set, tmp / variant, epochs, batch_size, lr, seed,
                                              pretrained)
            del model
            gc.collect()
    by_variant = {v: r["ratios"]["cached_vs_end_to_end"] for v, r in results.items()}
    return {
        "bench": "features", "command": None, "machine": common.finish(machine),
        "settings": {"data": str(data_dir) if data_dir else f"generated sample n={n}, {sample_size} px",
                     "variants": variants, "pretrained": pretrained, "image_size": image_size, "epochs": epochs,
                     "batch_size": batch_size, "lr": lr, "threads": used, "train_images": len(train_set),
                     "val_images": len(val_set), "device": "cpu",
                     "transform": "eval transform for both runs (no augmentation)",
                     "step": "engine.train_one_epoch with train.make_optimizer, losses.build_criterion, grad clip "
                             f"{GRAD_CLIP:g}: features.HeadOnly(model) on the cache vs the whole model with a frozen "
                             "backbone on images",
                     "timing": "median epoch, process CPU time (training only, validation excluded)"},
        "variants": results,
        "ratios": {"cached_vs_end_to_end": by_variant[variants[0]], "by_variant": by_variant},
        "target": {"cached_vs_end_to_end": TARGET,
                   "met_by_variant": {v: x >= TARGET for v, x in by_variant.items()}},
    }


def format_features(result: dict) -> str:
    s = result["settings"]
    lines = [f"bench features: frozen backbones ({'pretrained' if s['pretrained'] else 'random init'}, eval mode) at "
             f"{s['image_size']} px; {s['train_images']} train / {s['val_images']} val images ({s['data']}); "
             f"{s['epochs']} epoch{'s' * (s['epochs'] != 1)}, batch {s['batch_size']}, {s['threads']} thread; "
             "eval transform for both runs",
             f"{'variant':<22}{'tokens':>10}{'run':>12}{'epoch CPU s':>12}{'img/s/core':>11}{'val loss':>10}"
             f"{'mean F1':>9}{'style acc':>10}"]
    for variant, v in result["variants"].items():
        tokens = "x".join(map(str, v["token_shape"]))
        for name, r in (("cached", v["cached"]), ("end to end", v["end_to_end"])):
            m = r["metrics"]
            first = name == "cached"
            lines.append(f"{variant if first else '':<22}{tokens if first else '':>10}{name:>12}"
                         f"{r['median_epoch_cpu_seconds']:>12.3f}{r['images_per_s']:>11.1f}{m['val_loss']:>10.4f}"
                         f"{m['val_mean_f1']:>9.4f}{m['val_style_acc']:>10.4f}")
    lines.append("")
    lines.append(f"{'variant':<22}{'cached vs e2e':>14}{'(wall)':>8}{'incl. extraction':>18}{'extract CPU s':>15}"
                 f"{'|dF1|':>8}{'|dloss|':>9}  backbone unchanged")
    for variant, v in result["variants"].items():
        r, d = v["ratios"], v["metric_diff"]
        lines.append(f"{variant:<22}{r['cached_vs_end_to_end']:>13.1f}x{r['cached_vs_end_to_end_wall']:>7.1f}x"
                     f"{r['cached_incl_extraction_vs_end_to_end']:>17.1f}x{v['extraction']['cpu_seconds']:>15.2f}"
                     f"{abs(d.get('val_mean_f1', 0)):>8.4f}{abs(d.get('val_loss', 0)):>9.4f}"
                     f"  {v['backbone_unchanged']}")
    met = result["target"]["met_by_variant"]
    lines.append(f"target cached >= {result['target']['cached_vs_end_to_end']:g}x per epoch: "
                 + ", ".join(f"{v} {'met' if ok else 'MISSED'}" for v, ok in met.items()))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benchmarks/bench_features.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=None, help="dataset directory (default: generate a sample)")
    p.add_argument("--n", type=int, default=200, help="sample size when generating")
    p.add_argument("--sample-size", type=int, default=256,
                   help="sample image short side when generating (256: what `prepare` makes for 224 px)")
    p.add_argument("--image-size", type=int, default=224, help="model input size (224: the course's full profile)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=models.variant_names(),
                   help="backbones to compare (the first one's ratio is ratios.cached_vs_end_to_end)")
    p.add_argument("--pretrained", action="store_true", help="ImageNet weights (needs them downloaded once)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    common.add_common_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = common.argv_or_sys(argv)
    args = build_parser().parse_args(argv)
    result = bench_features(args.data, args.n, args.sample_size, args.image_size, args.variants, args.epochs,
                            args.batch_size, args.lr, args.threads, args.pretrained, args.seed)
    result["command"] = common.command_line(__file__, argv)
    common.emit(result, args, format_features)
    return 0


if __name__ == "__main__":
    sys.exit(main())
