"""One training step: ``python benchmarks/bench_train.py [--sizes 112 224] [--variants ...] [--ablate] [--json]``.

Train-step images/s per model variant and image size: the package's step vs a plain fp32 loop, side by
side in one process, single-threaded by default, images/s *per core* from the process CPU time with the
wall clock beside it. ``--json`` prints one JSON object instead of the tables; ``--save FILE`` writes it to
FILE too. It was ``python -m wikiart_utils bench train`` while the benchmarks lived inside the package: same
flags, same JSON.

* ``plain``     the textbook fp32 loop, written out here on purpose (it is the baseline): NCHW, AdamW with
                its defaults, ``zero_grad()``, no clipping;
* ``ours``      the package's step, `engine.train_one_epoch(..., max_steps=N)` over a list of batches, with
                `train.make_optimizer` (AdamW over `train.param_groups` + warm-up/cosine schedule), the
                loss of `losses.build_criterion`, gradient clipping 1.0, a channels_last model for the CNN
                backbones, and bf16 autocast (`amp_dtype=torch.bfloat16`) where the CPU computes bf16
                natively (AVX512-BF16 or AMX);
* ``ours_fp32`` (``--ablate``) the same without bf16 autocast: the precision `train` itself picks on a
                CPU (`runtime.precision` gives no autocast there).

Change of meaning against the rows in RESULTS.md measured with the in-package version (which wrote its own
copy of the step): ``ours`` is now the package's `engine` step, so its AdamW is the one `train.make_optimizer`
builds -- fused only on CUDA, the multi-tensor (foreach) AdamW on a CPU, where the old copy used the fused
one -- and it steps the LR schedule; `engine.to_device` hands the CPU model NCHW batches (channels_last is
what it makes on CUDA), so a channels_last model converts them in its first layer. The speed-ups are
"what the package's step gains over a plain loop", and no longer comparable to the older rows.
"""
from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root, not from here
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import torch

from benchmarks import common
from wikiart_utils import engine, losses, models
from wikiart_utils import train as wtrain
from wikiart_utils.config import TrainConfig

GRAD_CLIP = 1.0  # train's default
LR = 1e-4


def cpu_bf16_native() -> bool:
    """True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX), where bf16 autocast pays."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def ours_settings(variant: str, device: torch.device, bf16: bool = True) -> dict:
    """What `ours` sets around the package's step for `variant`: channels_last for CNN backbones (oneDNN's
    fast layout; ViT has a single conv) and bf16 autocast where the CPU has native bf16; the rest is
    `train.make_optimizer`'s (fused AdamW on CUDA only) and `engine.train_one_epoch`'s (set_to_none, clipping)."""
    return {"channels_last": not variant.startswith("vit"),
            "bf16_autocast": bf16 and device.type == "cpu" and cpu_bf16_native(),
            "fused_adamw": device.type == "cuda", "set_to_none": True, "grad_clip": GRAD_CLIP}


class Budgeted:
    """An iterable that serves `batch` up to `steps` times, starting no new one once `budget_s` seconds have
    passed since iteration began (the first is always served): a fixed number of steps, or fewer for a
    model whose steps take seconds."""

    def __init__(self, batch, steps: int, budget_s: float = math.inf):
        self.batch, self.steps, self.budget_s = batch, steps, budget_s

    def __iter__(self) -> Iterator:
        start = time.perf_counter()
        for i in range(self.steps):
            if i and time.perf_counter() - start >= self.budget_s:
                return
            yield self.batch


def plain_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer, criterion: torch.nn.Module,
                batches: Iterable) -> dict:
    """The textbook fp32 loop over `batches`: forward, loss, zero_grad(), backward, step."""
    model.train()
    total, steps = 0.0, 0
    for x, y in batches:
        loss, _ = criterion(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total, steps = total + loss.item(), steps + 1
    return {"train_loss": total / max(steps, 1), "steps": steps}


def make_epoch(model: models.MultitaskNet, config: str, x: torch.Tensor, y: torch.Tensor,
               steps: int) -> tuple[Callable[[Iterable], dict], dict]:
    """(epoch, settings): `epoch(batches)` trains `model` on `batches` with config "plain" (`plain_epoch`),
    "ours" (the package's step, `ours_settings`) or "ours_fp32" (ours without bf16 autocast) and returns
    {"train_loss", "steps"}."""
    device = torch.device("cpu")
    criterion = losses.build_criterion(y)  # train's default loss: MultitaskLoss, unweighted
    if config == "plain":
        optimizer = torch.optim.AdamW(model.parameters(), lr=LR)
        return (lambda batches: plain_epoch(model, optimizer, criterion, batches)), {}
    settings = ours_settings(model.config["variant"], device, bf16=config == "ours")
    if settings["channels_last"]:
        model.to(memory_format=torch.channels_last)
    optimizer, scheduler = wtrain.make_optimizer(
        model, TrainConfig(epochs=1, lr=LR, backbone_lr_scale=1.0, warmup_epochs=0.0, weight_decay=0.05), steps, device)
    amp_dtype = torch.bfloat16 if settings["bf16_autocast"] else None

    def epoch(batches: Iterable) -> dict:
        return engine.train_one_epoch(model, criterion, optimizer, batches, device, scheduler,
                                      grad_clip=settings["grad_clip"], amp_dtype=amp_dtype)
    return epoch, settings


def time_steps(epoch: Callable[[Iterable], dict], batch, steps: int, budget_s: float, warmup: int = 1) -> dict:
    """`warmup` untimed steps, then up to `steps` timed ones (at least one; no new one after budget_s)."""
    epoch(Budgeted(batch, warmup))
    with common.Clock() as clock:
        stats = epoch(Budgeted(batch, steps, budget_s))
    return {"steps": stats["steps"], "cpu_seconds": clock.cpu, "seconds": clock.wall,
            "finite_loss": math.isfinite(stats["train_loss"])}


def bench_train(sizes: Sequence[int] = (112, 224), variants: Sequence[str] | None = None, batch_size: int = 8,
                steps: int = 2, budget_s: float = 5.0, threads: int | None = 1, seed: int = 0,
                ablate: bool = False) -> dict:
    """Train-step images/s (per core by default) of each variant at each size: ours vs a plain fp32 loop.

    Random images and labels (the step cost does not depend on the pixels); random initialisation.
    `ablate` adds "ours_fp32" (ours without bf16 autocast) to split the gain of bf16 from the rest.
    """
    machine = common.machine_info()
    variants = list(variants or models.variant_names())
    configs = ("plain", "ours_fp32", "ours") if ablate else ("plain", "ours")
    rows = []
    with common.torch_threads(threads) as used:
        for size in sizes:
            for variant in variants:
                row = {"variant": variant, "image_size": size}
                for config in configs:
                    torch.manual_seed(seed)
                    model = models.build_model(variant, pretrained=False, image_size=size)
                    x = torch.randn(batch_size, 3, size, size)
                    y = common.random_targets(batch_size)
                    epoch, settings = make_epoch(model, config, x, y, 1 + steps)
                    timing = time_steps(epoch, (x, y), steps, budget_s)
                    row[config] = {"images_per_s": common.rate(batch_size * timing["steps"], timing["cpu_seconds"]),
                                   "images_per_s_wall": common.rate(batch_size * timing["steps"], timing["seconds"]),
                                   "steps": timing["steps"], "finite_loss": timing["finite_loss"]}
                    if config == "ours":
                        row["ours_settings"] = settings
                    del model, epoch
                    gc.collect()
                row["speedup"] = round(row["ours"]["images_per_s"] / row["plain"]["images_per_s"], 2)
                if ablate:
                    row["speedup_fp32"] = round(row["ours_fp32"]["images_per_s"] / row["plain"]["images_per_s"], 2)
                rows.append(row)
    speedups = [r["speedup"] for r in rows]
    return {
        "bench": "train", "command": None, "machine": common.finish(machine),
        "settings": {"sizes": list(sizes), "variants": variants, "configs": list(configs), "batch_size": batch_size,
                     "max_timed_steps": steps,
                     "budget_s": budget_s, "warmup_steps": 1, "threads": used, "pretrained": False,
                     "plain": "fp32, NCHW, AdamW with its defaults (a per-tensor loop on CPU), zero_grad(), "
                              "no clipping",
                     "ours": "engine.train_one_epoch with train.make_optimizer (AdamW over train.param_groups, fused "
                             "on CUDA only; LR schedule), losses.build_criterion, zero_grad(set_to_none=True), grad "
                             "clipping 1.0; channels_last model (CNN backbones), bf16 autocast where the CPU has "
                             "native bf16",
                     "ours_fp32": "ours without bf16 autocast (with --ablate): the precision train uses on a CPU",
                     "cpu_bf16_native": cpu_bf16_native(),
                     "timing": "process CPU time of the timed steps (images/s per core); _wall = wall clock"},
        "rows": rows,
        "ratios": {"ours_vs_plain": {f"{r['variant']}@{r['image_size']}": r["speedup"] for r in rows},
                   "ours_vs_plain_geomean": common.geomean(speedups),
                   **({"ours_fp32_vs_plain_geomean": common.geomean([r["speedup_fp32"] for r in rows])}
                      if ablate else {})},
    }


def format_train(result: dict) -> str:
    s = result["settings"]
    ablated = "ours_fp32" in s.get("configs", [])
    lines = [f"bench train: batch {s['batch_size']}, 1 warm-up + up to {s['max_timed_steps']} timed steps "
             f"(budget {s['budget_s']:g} s) per cell, {s['threads']} thread, random init",
             f"  plain: {s['plain']}", f"  ours:  {s['ours']}",
             f"{'variant':<24}{'px':>5}{'plain img/s':>13}" + (f"{'ours fp32':>11}{'x':>7}" if ablated else "")
             + f"{'ours img/s':>12}{'speedup':>9}{'steps':>7}  ours settings"]
    for r in result["rows"]:
        o = r.get("ours_settings", {})
        flags = ", ".join(k for k in ("channels_last", "bf16_autocast", "fused_adamw") if o.get(k))
        fp32 = f"{r['ours_fp32']['images_per_s']:>11.2f}{r['speedup_fp32']:>6.2f}x" if ablated else ""
        lines.append(f"{r['variant']:<24}{r['image_size']:>5}{r['plain']['images_per_s']:>13.2f}{fp32}"
                     f"{r['ours']['images_per_s']:>12.2f}{r['speedup']:>8.2f}x"
                     f"{r['plain']['steps']:>3}/{r['ours']['steps']:<3}"
                     f"  {flags}")
    lines.append(f"geometric mean speedup: {result['ratios']['ours_vs_plain_geomean']}x"
                 + (f" (without bf16: {result['ratios']['ours_fp32_vs_plain_geomean']}x)" if ablated else ""))
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benchmarks/bench_train.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[112, 224])
    p.add_argument("--variants", nargs="+", default=None, choices=models.variant_names(), help="default: all")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=2, help="timed steps per cell at most (after 1 warm-up)")
    p.add_argument("--budget-s", type=float, default=5.0, help="no new timed step after this many seconds")
    p.add_argument("--ablate", action="store_true", help="also time ours without bf16 autocast (ours_fp32)")
    common.add_common_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = common.argv_or_sys(argv)
    args = build_parser().parse_args(argv)
    result = bench_train(args.sizes, args.variants, args.batch_size, args.steps, args.budget_s, args.threads,
                         args.seed, args.ablate)
    result["command"] = common.command_line(__file__, argv)
    common.emit(result, args, format_train)
    return 0


if __name__ == "__main__":
    sys.exit(main())
