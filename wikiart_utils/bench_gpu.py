"""GPU speed, measured side by side in one run: ``python -m wikiart_utils bench gpu [--compile]``.

Three rates answer "is the GPU or the loader the bottleneck?":

* model only   train-step images/s of each variant on synthetic uint8 batches already on the GPU, for
               fp32 (NCHW), fp32_cl (channels_last), bf16_cl and fp16_cl (autocast + channels_last;
               fp16 with a GradScaler) and, with --compile, bf16_cl_compile (torch.compile);
* loader only  images/s the DataLoader (train transform, pinned memory, persistent workers) delivers to
               the GPU with non-blocking copies, from 1280x1024 original JPEGs and from a `prepare`d
               256-px copy, with this machine's workers and with 2 (a Colab-class machine);
* end to end   real training steps (each variant's fastest AMP config) fed by that loader; end_to_end /
               model_only >= 0.9 means the loader keeps up, lower means the GPU waits for JPEG decoding.

Plus nvJPEG: `torchvision.io.decode_jpeg(..., device="cuda")` on the original files' bytes, then resize
and centre crop on the GPU -- the alternative to decoding in CPU workers.

Each config runs train.py's step with its flags: fp32 as ``--no-amp`` (torch's default precision flags,
no cuDNN autotuning), the AMP configs with cuDNN autotuning and TF32 on; AdamW over `train.param_groups`
(fused on CUDA here), `losses.MultitaskLoss`, zero_grad(set_to_none=True), gradient clipping at 1.0. Rates are wall clock,
bracketed by torch.cuda.synchronize(), after warm-up steps (cuDNN autotuning, compilation, worker start).
The JPEGs are generated photo-like images (`bench.make_photo`) held in the page cache: the loader is
decode-bound, not disk-bound. Random initialisation (no download). Without CUDA the bench refuses with
one line; ``--device cpu`` runs a tiny version of the first three parts, for tests.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import gc
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch
import torchvision
from torchvision.transforms.v2 import functional as TF

from . import bench, index, labels, losses, models
from . import data as wdata
from . import prepare as wprepare
from . import train as wtrain

GRAD_CLIP = 1.0
KEEPS_UP = 0.9  # end_to_end / model_only at or above this: the loader keeps the GPU busy


class NoCuda(RuntimeError):
    """No CUDA device: the CLI prints this one line and exits with status 2."""


@dataclass(frozen=True)
class StepConfig:
    name: str
    channels_last: bool
    amp_dtype: torch.dtype | None
    compile: bool = False


CONFIGS = {c.name: c for c in (
    StepConfig("fp32", False, None),
    StepConfig("fp32_cl", True, None),
    StepConfig("bf16_cl", True, torch.bfloat16),
    StepConfig("fp16_cl", True, torch.float16),
    StepConfig("bf16_cl_compile", True, torch.bfloat16, compile=True),
)}


def default_workers() -> int:
    """Loader workers for a GPU box: every core but one, at most 16."""
    return max(0, min(16, (os.cpu_count() or 1) - 1))


def sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".strip()


@contextlib.contextmanager
def precision(dev: torch.device, config: StepConfig) -> Iterator[None]:
    """The backend flags train.py sets for this config (AMP: cuDNN autotuning and TF32), restored after."""
    if dev.type != "cuda":
        yield
        return
    old = (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    if config.amp_dtype is not None:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32,
         torch.backends.cudnn.allow_tf32) = old


def free_memory(dev: torch.device) -> None:
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------------------------------
# Model only: the train step on synthetic batches already on the device

def make_step(model: models.MultitaskNet, dev: torch.device, config: StepConfig,
              lr: float = 1e-4) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """train.py's training step for `config` as a function (images, targets) -> detached loss."""
    criterion = losses.MultitaskLoss().to(dev)
    optimizer = torch.optim.AdamW(wtrain.param_groups(model, lr, lr, 0.05), lr=lr, fused=dev.type == "cuda")
    scaler = torch.amp.GradScaler(dev.type, enabled=config.amp_dtype == torch.float16)
    net = torch.compile(model) if config.compile else model
    params = [p for p in model.parameters() if p.requires_grad]

    def step(images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        with wtrain.autocast(dev, config.amp_dtype):
            logits = net(images)
        loss, _ = criterion(logits, targets)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)  # a no-op unless fp16
        torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP)
        scaler.step(optimizer)
        scaler.update()
        return loss.detach()
    return step


def synthetic_batch(batch_size: int, image_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random uint8 images and targets (with unknown labels) on the CPU: the step's cost ignores the pixels."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch_size, 3, image_size, image_size), dtype=torch.uint8, generator=g)
    targets = torch.stack([torch.randint(-1, n, (batch_size,), generator=g) for n in labels.num_classes().values()], 1)
    return images, targets


def time_model(step: Callable, images: torch.Tensor, targets: torch.Tensor, dev: torch.device,
               warmup: int, steps: int, min_seconds: float = 0.0) -> dict:
    """`warmup` untimed steps (autotuning, compilation), then rounds of `steps` timed steps between syncs
    until `min_seconds` have passed: a fast model's 20 steps take a quarter second, too short to trust."""
    sync(dev)
    t0 = time.perf_counter()
    for _ in range(warmup):
        step(images, targets)
    sync(dev)
    t1 = time.perf_counter()
    done, seconds = 0, 0.0
    while done == 0 or seconds < min_seconds:
        for _ in range(steps):
            loss = step(images, targets)
        sync(dev)
        done, seconds = done + steps, time.perf_counter() - t1
    return {"images_per_s": bench._rate(len(images) * done, seconds), "ms_per_step": round(1000 * seconds / done, 2),
            "warmup_s": round(t1 - t0, 2), "steps": done, "loss_finite": bool(torch.isfinite(loss))}


# ----------------------------------------------------------------------------------------------------
# Loader only and end to end: the DataLoader feeding the device

def make_train_loader(root: Path, image_size: int, batch_size: int, workers: int, batches: int,
                      seed: int = 0) -> torch.utils.data.DataLoader:
    """`data.make_loader` over `root` with the train transform, whose every epoch is `batches` full batches
    drawn without replacement across reshuffled passes: a few hundred files then stream like a large
    dataset, with no epoch boundary (where the workers' queue drains) inside a timed run."""
    dataset = wdata.WikiArtDataset(root, None, image_size, train=True)
    sampler = torch.utils.data.RandomSampler(dataset, num_samples=batches * batch_size,
                                             generator=torch.Generator().manual_seed(seed))
    return wdata.make_loader(dataset, batch_size, shuffle=True, workers=workers, seed=seed, drop_last=True,
                             sampler=sampler)


def skip_batches(workers: int) -> int:
    """Untimed batches at the start of an epoch: the first round, one batch per worker, arrives as a burst
    after the workers' start-up latency; timing begins once it is consumed."""
    return max(2, workers + 1)


def timed_batches(workers: int, at_least: int) -> int:
    """Timed batches per loader run: at least 8 rounds of the workers, which finish their batches nearly
    in step, so a round that was ready before the clock started inflates the rate by at most ~1/8."""
    return max(at_least, 8 * workers)


def time_loader(loader, dev: torch.device, skip: int,
                step: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None) -> dict:
    """One epoch of `loader`, each batch copied to `dev` (pinned -> non_blocking) and, given a `step`,
    trained on; images/s over the batches after the first `skip`, between two syncs."""
    images_seen, t0 = 0, None
    for i, batch in enumerate(loader):
        if batch is not None:
            images, targets = wtrain.to_device(batch, dev)
            if step is not None:
                step(images, targets)
            if t0 is not None:
                images_seen += len(images)
        if i == skip - 1:
            sync(dev)
            t0 = time.perf_counter()
    sync(dev)
    if t0 is None or not images_seen:
        raise ValueError(f"the loader gave no batch after the first {skip}: raise --n or the timed batches")
    seconds = time.perf_counter() - t0
    return {"images_per_s": bench._rate(images_seen, seconds), "images": images_seen, "seconds": round(seconds, 3)}


# ----------------------------------------------------------------------------------------------------
# GPU JPEG decoding

def time_gpu_decode(paths: Sequence[Path], dev: torch.device, image_size: int, batch_size: int,
                    passes: int = 2) -> dict:
    """nvJPEG batch decoding of the files' bytes on `dev` (decode only, and + resize + centre crop to
    image_size on the GPU), images/s after one warm-up batch; the file reads are timed too.
    Returns {"skipped": reason} when this torchvision cannot decode on the device."""
    short = wdata.eval_resize(image_size)

    def decode(batch: Sequence[Path]) -> list[torch.Tensor]:
        data = [torch.frombuffer(bytearray(p.read_bytes()), dtype=torch.uint8) for p in batch]
        # torchvision 0.29 deprecates its decoders in favour of TorchCodec; this bench measures them
        # deliberately, so their DeprecationWarning is silenced around this call only
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return torchvision.io.decode_jpeg(data, mode=torchvision.io.ImageReadMode.RGB, device=dev)

    def resize_crop(decoded: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack([TF.center_crop(TF.resize(x, [short], antialias=True), [image_size, image_size])
                            for x in decoded])

    batches = [paths[i:i + batch_size] for i in range(0, len(paths), batch_size)]
    try:
        out = resize_crop(decode(batches[0]))  # warm-up: nvJPEG handles, kernels
        sync(dev)
    except Exception as exc:  # an old torchvision or a build without nvJPEG: say why, measure the rest
        return {"skipped": f"decode_jpeg(device={str(dev)!r}) unavailable: {_one_line(exc)}"}
    result = {"output_shape": list(out.shape), "passes": passes, "batch_size": batch_size}
    for name, work in (("decode", decode), ("decode_resize_crop", lambda b: resize_crop(decode(b)))):
        sync(dev)
        t0, count = time.perf_counter(), 0
        for _ in range(passes):
            for batch in batches:
                work(batch)
                count += len(batch)
        sync(dev)
        result[name] = {"images_per_s": bench._rate(count, time.perf_counter() - t0), "images": count}
    return result


# ----------------------------------------------------------------------------------------------------
# The bench

def machine(dev: torch.device) -> dict:
    """`bench.machine_info` plus the GPU, CUDA and cuDNN versions and the UTC date."""
    info = bench.machine_info()
    info["date_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    info["device"] = str(dev)
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        info.update(gpu=torch.cuda.get_device_name(dev), gpu_memory_gb=round(props.total_memory / 2**30, 1),
                    gpu_capability=f"{props.major}.{props.minor}", cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(), bf16_supported=torch.cuda.is_bf16_supported())
    return info


def _mean_kb(root: Path) -> float:
    return round(float(index.read_metadata(root)["bytes"].mean()) / 1e3, 1)


def bench_gpu(device: str | None = None, variants: Sequence[str] | None = None, image_size: int = 224,
              batch_size: int = 64, steps: int = 20, compile: bool = False, workers: int | None = None,
              n: int = 512, warmup: int = 5, loader_batches: int | None = None, colab_workers: int = 2,
              seed: int = 0, progress: bool = False, min_seconds: float | None = None) -> dict:
    """Model-only, loader-only and end-to-end images/s, and nvJPEG decoding, in one run (module doc).

    device: "cuda" (default; NoCuda without one) or "cpu" for a tiny smoke run (no fp16 or compile
    configs, no nvJPEG). n: generated originals. loader_batches: timed batches per loader run
    (default max(8, 2 x steps); at least 8 per worker). min_seconds: model-only timing repeats the
    `steps` until this long (default 1 s on CUDA, 0 on CPU). workers: loader workers (default: cores - 1, at
    most 16). progress: one line per measurement on stderr (a long run shows where it is).
    """
    if device is None or torch.device(device).type == "cuda":
        if not torch.cuda.is_available():
            raise NoCuda("bench gpu: no CUDA GPU here (torch.cuda.is_available() is False); run it on a GPU "
                         "machine, or pass --device cpu for a tiny smoke run")
    dev = torch.device(device or "cuda")
    say = (lambda text: print(f"bench gpu: {text}", file=sys.stderr, flush=True)) if progress else (lambda _: None)
    info = machine(dev)
    variants = list(variants or models.variant_names())
    workers = default_workers() if workers is None else workers
    loader_batches = loader_batches or max(8, 2 * steps)
    min_seconds = (1.0 if dev.type == "cuda" else 0.0) if min_seconds is None else min_seconds
    names = [c for c in CONFIGS if compile or not CONFIGS[c].compile]
    skipped = {}
    if dev.type != "cuda":  # the CPU smoke run: CPU autocast is bf16; Inductor would compile for minutes
        skipped = {c: "CUDA only in this bench" for c in names if c == "fp16_cl" or CONFIGS[c].compile}
    elif not torch.cuda.is_bf16_supported():
        skipped = {c: "this GPU has no bf16" for c in names if CONFIGS[c].amp_dtype == torch.bfloat16}
    names = [c for c in names if c not in skipped]
    gen_workers = max(1, min(16, os.cpu_count() or 1)) if dev.type == "cuda" else 1

    with tempfile.TemporaryDirectory(prefix="wikiart-bench-gpu-") as tmp, warnings.catch_warnings():
        # torch.compile notes once per compilation that it traces through data.normalize's lru_cache
        # (constants for the device): expected here, and noise in a bench's output
        warnings.filterwarnings("ignore", message="Dynamo detected a call to a `functools.lru_cache`")
        tmp = Path(tmp)
        # data: originals (1280x1024 q90, ~300 KB) and their 256-px copy
        with bench.Clock() as made:
            originals = bench.make_originals(tmp / "originals", n, seed=seed, workers=gen_workers)
        with bench.Clock() as prepped:
            wprepare.prepare(originals, tmp / "prepared", size=256, workers=gen_workers)
        say(f"{n} originals generated in {made.wall:.0f} s, prepared in {prepped.wall:.0f} s")
        dirs = {"originals": originals, "prepared": tmp / "prepared"}
        data_info = {"originals": {"images": len(index.read_metadata(originals)), "size": "1280x1024 (portrait "
                                   "every other)", "quality": 90, "mean_kb": _mean_kb(originals),
                                   "generate_s": round(made.wall, 1)},
                     "prepared": {"images": len(index.read_metadata(dirs["prepared"])), "size": "short side 256",
                                  "mean_kb": _mean_kb(dirs["prepared"]), "prepare_s": round(prepped.wall, 1)}}

        # loader only, before any model: this machine's workers (kept for end to end) and a 2-core machine's
        loaders = {}
        loader_only: dict[str, dict] = {name: {} for name in dirs}
        for name, root in dirs.items():
            for w in dict.fromkeys((workers, colab_workers)):
                skip = skip_batches(w)
                loader = make_train_loader(root, image_size, batch_size, w, skip + timed_batches(w, loader_batches),
                                           seed)
                loader_only[name][f"workers_{w}"] = r = {"workers": w, **time_loader(loader, dev, skip)}
                say(f"loader only, {name}, {w} workers: {r['images_per_s']:.0f} images/s")
                if w == workers:
                    loaders[name] = loader
                else:
                    del loader  # its workers exit

        # model only per config, then end to end with the variant's fastest AMP config (its step reused)
        model_only: dict[str, dict] = {}
        end_to_end: dict[str, dict] = {}
        images_cpu, targets_cpu = synthetic_batch(batch_size, image_size, seed)
        for variant in variants:
            torch.manual_seed(seed)
            base = models.build_model(variant, pretrained=False, image_size=image_size)
            rows: dict[str, dict] = {}
            best: tuple[float, str, Callable] | None = None  # (images/s, config, step) of the fastest AMP run
            for name in names:
                config = CONFIGS[name]
                fmt = torch.channels_last if config.channels_last else torch.contiguous_format
                free_memory(dev)
                if dev.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(dev)
                before = torch.cuda.memory_allocated(dev) if dev.type == "cuda" else 0
                model = step = images = None
                try:
                    with precision(dev, config):
                        model = copy.deepcopy(base).to(dev, memory_format=fmt).train()
                        images = images_cpu.to(dev).contiguous(memory_format=fmt)
                        step = make_step(model, dev, config)
                        row = time_model(step, images, targets_cpu.to(dev), dev, warmup, steps, min_seconds)
                    if dev.type == "cuda":  # what this config added (a kept best step is not counted)
                        row["peak_gb"] = round((torch.cuda.max_memory_allocated(dev) - before) / 2**30, 2)
                    if config.amp_dtype is not None and (best is None or row["images_per_s"] > best[0]):
                        best = (row["images_per_s"], name, step)  # kept (compiled too) for end to end
                except Exception as exc:  # one failed cell (out of memory, a compiler error) is reported
                    row = {"error": _one_line(exc)}
                rows[name] = row
                say(f"model only, {variant} {name}: " + (f"{row['images_per_s']:.0f} images/s (warm-up "
                                                         f"{row['warmup_s']:.0f} s)" if "error" not in row
                                                         else row["error"]))
                del model, step, images
            model_only[variant] = rows
            if best is not None:
                rate, name, best_step = best
                e2e = {"config": name, "model_only_images_per_s": rate}
                for dir_name, loader in loaders.items():
                    with precision(dev, CONFIGS[name]):
                        r = time_loader(loader, dev, skip_batches(workers), best_step)
                    r["vs_model_only"] = round(r["images_per_s"] / rate, 3)
                    r["keeps_up"] = r["vs_model_only"] >= KEEPS_UP
                    e2e[dir_name] = r
                    say(f"end to end, {variant} {name}, {dir_name}: {r['images_per_s']:.0f} images/s "
                        f"({r['vs_model_only']:.2f} of model only)")
                end_to_end[variant] = e2e
            best = best_step = None  # nothing of this variant stays allocated into the next one's memory peaks
            del base
            free_memory(dev)
            torch._dynamo.reset()
        loaders = loader = None  # their workers exit

        # GPU JPEG decoding
        if dev.type == "cuda":
            paths = [originals / rel for rel in index.read_metadata(originals)["path"]]
            gpu_decode = time_gpu_decode(paths, dev, image_size, batch_size)
            say(f"GPU JPEG decoding: {gpu_decode}")
        else:
            gpu_decode = {"skipped": "needs CUDA (nvJPEG)"}

    fastest = {v: max((r["images_per_s"] for r in rows.values() if "images_per_s" in r), default=None)
               for v, rows in model_only.items()}
    loader_vs_fastest = {
        v: {f"{d}_workers_{w['workers']}": round(w["images_per_s"] / top, 3)
            for d, runs in loader_only.items() for w in runs.values()}
        for v, top in fastest.items() if top}
    return {
        "bench": "gpu", "command": bench._command(), "machine": bench._finish(info),
        "settings": {"device": str(dev), "variants": variants, "image_size": image_size, "batch_size": batch_size,
                     "warmup_steps": warmup, "timed_steps": steps, "min_timed_seconds": min_seconds,
                     "configs": names, "skipped_configs": skipped, "compile": compile, "workers": workers, "colab_workers": colab_workers,
                     "loader_timed_batches": {f"workers_{w}": timed_batches(w, loader_batches)
                                              for w in dict.fromkeys((workers, colab_workers))},
                     "pretrained": False, "seed": seed,
                     "step": "train.py's, with AdamW fused on CUDA: train.param_groups, MultitaskLoss, "
                             "zero_grad(set_to_none=True), clip_grad_norm 1.0, GradScaler for fp16",
                     "precision_flags": "fp32 configs: torch defaults, as train --no-amp; AMP configs: "
                                        "cudnn.benchmark and TF32 on, as train.py",
                     "loader": "data.make_loader: train transform, reshuffled sampler, pin_memory (CUDA), "
                               "persistent workers, prefetch 4; batches copied with non_blocking=True",
                     "timing": "wall clock between torch.cuda.synchronize() calls, after warm-up; loader runs "
                               "skip the first workers+1 batches and time at least 8 per worker",
                     "keeps_up_threshold": KEEPS_UP},
        "data": data_info,
        "model_only": model_only,
        "loader_only": loader_only,
        "end_to_end": end_to_end,
        "loader_vs_fastest_model": loader_vs_fastest,
        "gpu_decode": gpu_decode,
    }


def format_gpu(result: dict) -> str:
    """The result as tables: model only, loader only, end to end, nvJPEG."""
    m, s, d = result["machine"], result["settings"], result["data"]
    names = s["configs"]
    where = (f"{m.get('gpu')}, CUDA {m.get('cuda')}, cuDNN {m.get('cudnn')}" if m.get("gpu") and s["device"] != "cpu"
             else f"CPU ({m.get('cpu')})")
    lines = [f"bench gpu: {where}; torch {m['torch']}, torchvision {m['torchvision']}; {m['cores']} CPU cores; "
             f"{m.get('date_utc', m['date'])}",
             f"  command: {result['command'] or '(from Python)'}",
             f"  batch {s['batch_size']}, {s['image_size']} px, random init; model only: {s['warmup_steps']} warm-up + "
             f"rounds of {s['timed_steps']} timed steps for >= {s.get('min_timed_seconds', 0):g} s; "
             f"{s['precision_flags']}"]
    if s["skipped_configs"]:
        lines.append("  skipped: " + "; ".join(f"{c} ({why})" for c, why in s["skipped_configs"].items()))
    lines += ["", "model only (synthetic uint8 batches on the device): train-step images/s [peak GB this config]",
              f"{'variant':<23}" + "".join(f"{c:>18}" for c in names)]
    for variant, rows in result["model_only"].items():
        cells = []
        for c in names:
            r = rows.get(c, {})
            if "images_per_s" in r:
                peak = f" [{r['peak_gb']:.1f}]" if "peak_gb" in r else ""
                cells.append(f"{r['images_per_s']:>.0f}{peak}" + ("" if r["loss_finite"] else " NaN"))
            else:
                cells.append("failed")
        lines.append(f"{variant:<23}" + "".join(f"{cell:>18}" for cell in cells))
    for variant, rows in result["model_only"].items():
        for c, r in rows.items():
            if "error" in r:
                lines.append(f"  {variant} {c} failed: {r['error']}")
    compiled = [(v, r[c]["warmup_s"]) for v, r in result["model_only"].items() for c in names
                if CONFIGS[c].compile and "warmup_s" in r.get(c, {})]
    if compiled:
        lines.append("  torch.compile warm-up (compilation + steps), s: "
                     + ", ".join(f"{v} {sec:.0f}" for v, sec in compiled))

    o, p = d["originals"], d["prepared"]
    labels_ = {"originals": f"originals ({o['size'].split(' ')[0]}, {o['mean_kb']:.0f} KB)",
               "prepared": f"prepared (256 px, {p['mean_kb']:.0f} KB)"}
    runs = list(next(iter(result["loader_only"].values())))
    lines += ["", f"loader only (train transform, pinned, non_blocking copies to {s['device']}): images/s; "
                  f"{o['images']} files generated in {o['generate_s']:.0f} s, prepared in {p['prepare_s']:.0f} s",
              f"{'data':<32}" + "".join(f"{r.replace('workers_', '') + ' workers':>14}" for r in runs)]
    for name, by_workers in result["loader_only"].items():
        lines.append(f"{labels_[name]:<32}" + "".join(f"{by_workers[r]['images_per_s']:>14.0f}" for r in runs))

    lines += ["", f"end to end (real steps fed by the {s['workers']}-worker loader): images/s (/ model only; "
                  f"keeps up if >= {s['keeps_up_threshold']})",
              f"{'variant':<23}{'config':>17}{'model only':>12}{'originals':>24}{'prepared':>24}"]
    for variant, e in result["end_to_end"].items():
        cells = "".join(f"{e[k]['images_per_s']:>.0f} ({e[k]['vs_model_only']:.2f} "
                        f"{'yes' if e[k]['keeps_up'] else 'no'})".rjust(24) for k in ("originals", "prepared"))
        lines.append(f"{variant:<23}{e['config']:>17}{e['model_only_images_per_s']:>12.0f}{cells}")

    g = result["gpu_decode"]
    lines.append("")
    if "skipped" in g:
        lines.append(f"GPU JPEG decoding: skipped ({g['skipped']})")
    else:
        lines.append(f"GPU JPEG decoding (torchvision.io.decode_jpeg on {s['device']}, batches of {g['batch_size']} "
                     f"originals, file reads included): decode {g['decode']['images_per_s']:.0f} images/s; "
                     f"+ resize {wdata.eval_resize(s['image_size'])} + centre crop {s['image_size']} on the GPU "
                     f"{g['decode_resize_crop']['images_per_s']:.0f} images/s")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# Command line (registered by bench.register_cli)

def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=None, help="cuda (default) or cpu (a tiny smoke run)")
    p.add_argument("--variants", nargs="+", default=None, choices=models.variant_names(), help="default: all")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20, help="timed train steps per config (after the warm-up)")
    p.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps per config")
    p.add_argument("--compile", action="store_true", help="also time bf16_cl_compile (torch.compile)")
    p.add_argument("--workers", type=int, default=None, help="loader workers (default: cores - 1, at most 16)")
    p.add_argument("--n", type=int, default=512, help="original JPEGs to generate")
    p.add_argument("--loader-batches", type=int, default=None, help="timed batches per loader run (default: "
                                                                    "max(8, 2 x steps); at least 8 per worker)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    p.add_argument("--save", type=Path, default=None, metavar="FILE", help="also write the JSON object to FILE")


def run_from_args(args: argparse.Namespace) -> None:
    result = bench_gpu(args.device, args.variants, args.image_size, args.batch_size, args.steps, args.compile,
                       args.workers, args.n, args.warmup, args.loader_batches, seed=args.seed, progress=True)
    bench._emit(result, args, format_gpu)
