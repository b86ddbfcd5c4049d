"""GPU speed, measured side by side in one run: ``python benchmarks/bench_gpu.py [--compile] [--json]``.

It was ``python -m wikiart_utils bench gpu`` while the benchmarks lived inside the package: same flags
(plus ``--input-path``, ``--min-seconds``), the same JSON keys for the first input path, plus one set per
path and the 2-worker summary (benchmarks/README.md). Three rates answer "is the GPU or the loader the
bottleneck?":

* model only   train-step images/s of each variant on synthetic uint8 batches already on the GPU, for
               fp32 (NCHW model), fp32_cl (channels_last), bf16_cl and fp16_cl (autocast + channels_last;
               fp16 with a GradScaler) and, with --compile, bf16_cl_compile (torch.compile);
* loader only  images/s an input path delivers to the GPU, for each input path (`INPUT_PATHS`,
               ``--input-path``, default all): ``cpu_workers`` is the DataLoader that decodes and augments
               in its workers (train transform, pinned memory, persistent workers) with non-blocking
               copies; ``gpu_decode`` is `wikiart_utils.speed.gpu_input` (workers read bytes, nvJPEG decodes each
               batch, crop/flip/jitter on the GPU); each from 1280x1024 original JPEGs and from a
               `prepare`d 256-px copy, with this machine's workers and with 2 (a Colab-class machine);
* end to end   real training steps (each variant's fastest AMP config) fed by each input path, data dir
               and worker count; end_to_end / model_only >= 0.9 means the loader keeps up, lower means
               the GPU waits for its input. `e2e_2workers_vs_model_only` sums up the Colab question: with
               2 workers, does some input path keep each model >= 0.9 busy on the prepared files?

Every loader is closed (its workers exit) before the next one is built, so no idle workers hold memory
or CPU during another measurement.

Plus nvJPEG: `torchvision.io.decode_jpeg(..., device="cuda")` on the original files' bytes, then resize
and centre crop on the GPU -- decoding alone, the first half of a GPU input path.

Every step is the package's: `engine.train_one_epoch` (set_to_none, gradient clipping at 1.0, the scaler
for fp16) with `train.make_optimizer` (AdamW over `train.param_groups`, fused on CUDA) and the loss of
`losses.build_criterion`; the backend flags are `runtime.precision`'s -- fp32 as ``train --no-amp`` (torch's
defaults, no cuDNN autotuning), the AMP configs with cuDNN autotuning and TF32 on. Rates are wall clock,
bracketed by torch.cuda.synchronize(), after warm-up steps (cuDNN autotuning, compilation, worker start).
The JPEGs are generated photo-like images (`common.make_photo`) held in the page cache: the loader is
decode-bound, not disk-bound. Random initialisation (no download). Without CUDA the bench refuses with
one line and exit status 2; ``--device cpu`` runs a tiny version of the first three parts, for tests
(the gpu_decode path then runs gpu_input's functions on CPU tensors). `benchmarks/gpu_check.sh` is the
short run for a lent GPU machine: gpu_input's CUDA tests, then this bench at small settings.

Change of meaning against the rows in RESULTS.md measured with the in-package version (which wrote its own
copy of the step): `engine.to_device` makes every 4-D batch channels_last on CUDA, so ``fp32`` is now an
NCHW *model* fed channels_last batches (converted once per step) rather than an all-NCHW path, and
``fp32`` vs ``fp32_cl`` compares weight layouts only; the step also advances the LR schedule. The AMP and
compile configs, the loader and end-to-end rates are measured as before.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import gc
import itertools
import math
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root, not from here
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import torch
import torchvision
from torchvision.transforms.v2 import functional as TF

from benchmarks import common
from wikiart_utils import data as wdata, engine, images as wimages, losses, metadata, models, runtime, train as wtrain
from wikiart_utils.speed import gpu_input
from wikiart_utils.ingest import prepare as wprepare
from wikiart_utils.config import TrainConfig

GRAD_CLIP = 1.0
KEEPS_UP = 0.9  # end_to_end / model_only at or above this: the loader keeps the GPU busy
SCHEDULE_STEPS = 1_000_000  # the LR schedule's length: timing runs never reach its end (LR 0)


class NoCuda(RuntimeError):
    """No CUDA device: `main` prints this one line and returns status 2."""


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


@contextlib.contextmanager
def backend_flags(dev: torch.device, config: StepConfig) -> Iterator[None]:
    """The backend flags `runtime.precision` sets for this config (AMP on CUDA: cuDNN autotuning and TF32;
    fp32: torch's defaults), restored afterwards so configs do not leak into one another."""
    if dev.type != "cuda":
        yield
        return
    old = (torch.backends.cudnn.benchmark, torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    runtime.precision(dev, amp=config.amp_dtype is not None)
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
# The step: the package's, set up for one config

@dataclass
class Trainer:
    """Everything `engine.train_one_epoch` needs for one model and config; `epoch(batches)` runs it."""
    net: torch.nn.Module          # what the steps call: the model, or its torch.compile'd form
    criterion: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object
    scaler: torch.amp.GradScaler
    amp_dtype: torch.dtype | None
    device: torch.device

    def epoch(self, batches: Iterable) -> dict:
        return engine.train_one_epoch(self.net, self.criterion, self.optimizer, batches, self.device,
                                      self.scheduler, grad_clip=GRAD_CLIP, scaler=self.scaler,
                                      amp_dtype=self.amp_dtype)


def make_trainer(model: models.MultitaskNet, dev: torch.device, config: StepConfig, targets: torch.Tensor,
                 lr: float = 1e-4) -> Trainer:
    """`train`'s optimizer, loss and scaler around `model` (already on `dev`) for `config`."""
    optimizer, scheduler = wtrain.make_optimizer(
        model, TrainConfig(epochs=1, lr=lr, backbone_lr_scale=1.0, warmup_epochs=0.0, weight_decay=0.05),
        SCHEDULE_STEPS, dev)
    scaler = torch.amp.GradScaler("cuda", enabled=dev.type == "cuda" and config.amp_dtype == torch.float16)
    net = torch.compile(model) if config.compile else model
    return Trainer(net, losses.build_criterion(targets).to(dev), optimizer, scheduler, scaler, config.amp_dtype, dev)


# ----------------------------------------------------------------------------------------------------
# Model only: the step on synthetic batches already on the device

def synthetic_batch(batch_size: int, image_size: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random uint8 images and targets (with unknown labels) on the CPU: the step's cost ignores the pixels."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (batch_size, 3, image_size, image_size), dtype=torch.uint8, generator=g)
    return images, common.random_targets(batch_size, g)


def time_model(trainer: Trainer, images: torch.Tensor, targets: torch.Tensor, dev: torch.device,
               warmup: int, steps: int, min_seconds: float = 0.0) -> dict:
    """`warmup` untimed steps (autotuning, compilation), then rounds of `steps` timed steps (one
    `engine.train_one_epoch` over a list of the batch each) until `min_seconds` have passed: a fast model's
    20 steps take a quarter second, too short to trust."""
    batch = (images, targets)
    common.sync(dev)
    t0 = time.perf_counter()
    trainer.epoch([batch] * warmup)
    common.sync(dev)
    t1 = time.perf_counter()
    done, seconds, loss = 0, 0.0, math.nan
    while done == 0 or seconds < min_seconds:
        loss = trainer.epoch([batch] * steps)["train_loss"]
        common.sync(dev)
        done, seconds = done + steps, time.perf_counter() - t1
    return {"images_per_s": common.rate(len(images) * done, seconds), "ms_per_step": round(1000 * seconds / done, 2),
            "warmup_s": round(t1 - t0, 2), "steps": done, "loss_finite": math.isfinite(loss)}


# ----------------------------------------------------------------------------------------------------
# Input paths: one function each, (root, image_size, batch_size, workers, batches, seed, device) -> an
# iterable of (uint8 images, targets) batches whose epoch is `batches` full batches of the train transform

def cpu_workers_loader(root: Path, image_size: int, batch_size: int, workers: int, batches: int, seed: int,
                       device: torch.device) -> Iterable:
    """Today's input path: `data.make_loader` over `root` (decode + augment in CPU workers, pinned memory),
    whose every epoch is `batches` full batches drawn without replacement across reshuffled passes: a few
    hundred files then stream like a large dataset, with no epoch boundary (where the workers' queue
    drains) inside a timed run. `device` is unused: the batches are copied by the training step."""
    dataset = wdata.WikiArtDataset(root, None, image_size, train=True)
    sampler = torch.utils.data.RandomSampler(dataset, num_samples=batches * batch_size,
                                             generator=torch.Generator().manual_seed(seed))
    return wdata.make_loader(dataset, batch_size, shuffle=True, workers=workers, seed=seed, drop_last=True,
                             sampler=sampler)


def gpu_decode_loader(root: Path, image_size: int, batch_size: int, workers: int, batches: int, seed: int,
                      device: torch.device) -> Iterable:
    """The GPU input path, `gpu_input.make_gpu_loader` over `root`: the workers only read each file's bytes,
    the main process decodes a batch at once with nvJPEG and augments it per sample on `device`
    (RandomResizedCrop, flip, brightness/contrast jitter: `gpu_input.GpuTrainTransform`); batches arrive
    on `device`, uint8 channels_last. Epochs as in `cpu_workers_loader`: `batches` full batches from a
    RandomSampler. On a CPU device the same functions run on CPU tensors (the smoke run, the tests)."""
    dataset = wdata.WikiArtDataset(root, None, image_size, train=True)
    sampler = torch.utils.data.RandomSampler(dataset, num_samples=batches * batch_size,
                                             generator=torch.Generator().manual_seed(seed))
    return gpu_input.make_gpu_loader(dataset, batch_size, shuffle=True, workers=workers, seed=seed, drop_last=True,
                                     device=device, train=True, sampler=sampler)


INPUT_PATHS: dict[str, Callable[..., Iterable]] = {
    "cpu_workers": cpu_workers_loader,
    "gpu_decode": gpu_decode_loader,
}


def input_path_unavailable(name: str, dev: torch.device) -> str | None:
    """Why input path `name` cannot run on `dev` (None if it can): gpu_decode on a CUDA device needs a
    torchvision that decodes JPEGs there; on a CPU device it runs on CPU tensors."""
    if name == "gpu_decode" and dev.type == "cuda" and not gpu_input.available(dev):
        return "this torchvision cannot decode JPEGs on the GPU (gpu_input.available is False)"
    return None


def close_loader(loader: Iterable) -> None:
    """Stop `loader`'s worker processes (and pin-memory thread) now. A DataLoader with persistent workers
    keeps them, idle but holding memory, for as long as the loader object lives; the bench closes every
    loader before it builds the next so that no measurement shares the CPU or memory with them. Works
    for a DataLoader and for a wrapper of one in `.loader` (`gpu_input.GpuBatches`)."""
    inner = getattr(loader, "loader", loader)
    iterator = getattr(inner, "_iterator", None)
    if iterator is not None:
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if shutdown is not None:
            shutdown()
        inner._iterator = None


def skip_batches(workers: int) -> int:
    """Untimed batches at the start of an epoch: the first round, one batch per worker, arrives as a burst
    after the workers' start-up latency; timing begins once it is consumed."""
    return max(2, workers + 1)


def timed_batches(workers: int, at_least: int) -> int:
    """Timed batches per loader run: at least 8 rounds of the workers, which finish their batches nearly
    in step, so a round that was ready before the clock started inflates the rate by at most ~1/8."""
    return max(at_least, 8 * workers)


class TimedBatches:
    """The batches of `loader`, with a clock: it starts (after a sync) once the first `skip` batches have
    been consumed -- by a training step, when a step consumes them -- and `result()` stops it."""

    def __init__(self, loader: Iterable, dev: torch.device, skip: int):
        self.loader, self.dev, self.skip = loader, dev, skip
        self.t0: float | None = None
        self.images = 0

    def __iter__(self) -> Iterator:
        self.t0, self.images = None, 0
        batches = iter(self.loader)
        for i in itertools.count():
            if i == self.skip:
                common.sync(self.dev)
                self.t0 = time.perf_counter()
            batch = next(batches, StopIteration)
            if batch is StopIteration:
                return
            if self.t0 is not None and batch is not None:
                self.images += len(batch[0])
            yield batch

    def result(self) -> dict:
        common.sync(self.dev)
        if self.t0 is None or not self.images:
            raise ValueError(f"the loader gave no batch after the first {self.skip}: raise --n or the timed batches")
        seconds = time.perf_counter() - self.t0
        return {"images_per_s": common.rate(self.images, seconds), "images": self.images, "seconds": round(seconds, 3)}


def time_loader(loader: Iterable, dev: torch.device, skip: int, trainer: Trainer | None = None) -> dict:
    """One epoch of `loader`: each batch copied to `dev` (`engine.to_device`: pinned -> non_blocking) or,
    given a `trainer`, trained on by the package's step; images/s over the batches after the first `skip`."""
    timed = TimedBatches(loader, dev, skip)
    if trainer is None:
        for batch in timed:
            if batch is not None:
                engine.to_device(batch, dev)
    else:
        trainer.epoch(timed)
    return timed.result()


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
        common.sync(dev)
    except Exception as exc:  # an old torchvision or a build without nvJPEG: say why, measure the rest
        return {"skipped": f"decode_jpeg(device={str(dev)!r}) unavailable: {common.one_line(exc)}"}
    result = {"output_shape": list(out.shape), "passes": passes, "batch_size": batch_size}
    for name, work in (("decode", decode), ("decode_resize_crop", lambda b: resize_crop(decode(b)))):
        common.sync(dev)
        t0, count = time.perf_counter(), 0
        for _ in range(passes):
            for batch in batches:
                work(batch)
                count += len(batch)
        common.sync(dev)
        result[name] = {"images_per_s": common.rate(count, time.perf_counter() - t0), "images": count}
    return result


# ----------------------------------------------------------------------------------------------------
# The bench

def machine(dev: torch.device) -> dict:
    """`common.machine_info` plus the GPU, CUDA and cuDNN versions and the UTC date."""
    info = common.machine_info()
    info["date_utc"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    info["device"] = str(dev)
    if dev.type == "cuda":
        props = torch.cuda.get_device_properties(dev)
        info.update(gpu=torch.cuda.get_device_name(dev), gpu_memory_gb=round(props.total_memory / 2**30, 1),
                    gpu_capability=f"{props.major}.{props.minor}", cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(), bf16_supported=torch.cuda.is_bf16_supported())
    return info


def mean_kb(root: Path) -> float:
    return round(float(metadata.read_metadata(root)["bytes"].mean()) / 1e3, 1)


def make_data(tmp: Path, n: int, seed: int, workers: int, say: Callable[[str], None]) -> tuple[dict, dict]:
    """({"originals": dir, "prepared": dir}, their description): n originals (1280x1024 q90, ~300 KB)
    generated under `tmp` and their 256-px `prepare`d copy."""
    with common.Clock() as made:
        originals = common.make_originals(tmp / "originals", n, seed=seed, workers=workers)
    with common.Clock() as prepped:
        wprepare.prepare(originals, tmp / "prepared", size=256, workers=workers)
    say(f"{n} originals generated in {made.wall:.0f} s, prepared in {prepped.wall:.0f} s")
    dirs = {"originals": originals, "prepared": tmp / "prepared"}
    info = {"originals": {"images": len(metadata.read_metadata(originals)), "size": "1280x1024 (portrait every other)",
                          "quality": 90, "mean_kb": mean_kb(originals), "generate_s": round(made.wall, 1)},
            "prepared": {"images": len(metadata.read_metadata(dirs["prepared"])), "size": "short side 256",
                         "mean_kb": mean_kb(dirs["prepared"]), "prepare_s": round(prepped.wall, 1)}}
    return dirs, info


def run_input(make_input: Callable[..., Iterable], root: Path, image_size: int, batch_size: int, workers: int,
              loader_batches: int, seed: int, dev: torch.device, trainer: Trainer | None = None) -> dict:
    """One timed epoch of a fresh loader from `make_input` with `workers` workers (`skip_batches` untimed,
    then `timed_batches`), copied to the device or, given a `trainer`, trained on; the loader is closed
    (its workers exit) before this returns. A failure (out of memory, a decoder error) is one cell,
    {"workers": w, "error": one line}, not the end of a run on a lent GPU."""
    skip, loader = skip_batches(workers), None
    try:
        loader = make_input(root, image_size, batch_size, workers, skip + timed_batches(workers, loader_batches),
                            seed, dev)
        return {"workers": workers, **time_loader(loader, dev, skip, trainer)}
    except Exception as exc:
        return {"workers": workers, "error": common.one_line(exc)}
    finally:
        if loader is not None:
            close_loader(loader)


def describe_run(row: dict) -> str:
    return f"{row['images_per_s']:.0f} images/s" if "images_per_s" in row else f"failed: {row['error']}"


def measure_loader_only(dirs: dict[str, Path], paths: dict[str, Callable[..., Iterable]], image_size: int,
                        batch_size: int, worker_counts: Sequence[int], loader_batches: int, seed: int,
                        dev: torch.device, say: Callable[[str], None]) -> dict:
    """Loader-only rates {input path: {data dir: {"workers_N": row}}} for each worker count (this machine's
    and a 2-core machine's), before any model is on the device; one loader at a time."""
    result: dict[str, dict] = {}
    for path, make_input in paths.items():
        result[path] = {name: {} for name in dirs}
        for name, root in dirs.items():
            for w in worker_counts:
                row = run_input(make_input, root, image_size, batch_size, w, loader_batches, seed, dev)
                result[path][name][f"workers_{w}"] = row
                say(f"loader only, {path}, {name}, {w} workers: {describe_run(row)}")
    return result


def time_config(base: models.MultitaskNet, config: StepConfig, images_cpu: torch.Tensor, targets_cpu: torch.Tensor,
                dev: torch.device, warmup: int, steps: int, min_seconds: float) -> tuple[dict, Trainer | None]:
    """(model-only row, its trainer) of one config on a copy of `base`; a failed cell (out of memory, a
    compiler error) gives {"error": one line} and no trainer."""
    fmt = torch.channels_last if config.channels_last else torch.contiguous_format
    free_memory(dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    before = torch.cuda.memory_allocated(dev) if dev.type == "cuda" else 0
    try:
        with backend_flags(dev, config):
            model = copy.deepcopy(base).to(dev, memory_format=fmt).train()
            images = images_cpu.to(dev).contiguous(memory_format=fmt)
            trainer = make_trainer(model, dev, config, targets_cpu)
            row = time_model(trainer, images, targets_cpu.to(dev), dev, warmup, steps, min_seconds)
    except Exception as exc:
        return {"error": common.one_line(exc)}, None
    if dev.type == "cuda":  # what this config added (a kept best trainer is not counted)
        row["peak_gb"] = round((torch.cuda.max_memory_allocated(dev) - before) / 2**30, 2)
    return row, trainer




def measure_variant(variant: str, names: Sequence[str], dirs: dict[str, Path],
                    paths: dict[str, Callable[..., Iterable]], images_cpu: torch.Tensor, targets_cpu: torch.Tensor,
                    dev: torch.device, warmup: int, steps: int, min_seconds: float, worker_counts: Sequence[int],
                    loader_batches: int, seed: int, image_size: int,
                    say: Callable[[str], None]) -> tuple[dict, dict | None]:
    """(model-only rows per config, end to end with the fastest AMP config's trainer or None) of a variant.

    End to end: {"config", "model_only_images_per_s", "input_paths": {path: {data dir: {"workers_N": row}}}}
    for every input path, data dir and worker count, each row from a fresh loader closed after it; plus,
    as before, "originals" and "prepared": the first input path with this machine's workers."""
    torch.manual_seed(seed)
    base = models.build_model(variant, pretrained=False, image_size=image_size)
    rows: dict[str, dict] = {}
    best: tuple[float, str, Trainer] | None = None  # (images/s, config, trainer) of the fastest AMP run
    for name in names:
        row, trainer = time_config(base, CONFIGS[name], images_cpu, targets_cpu, dev, warmup, steps, min_seconds)
        rows[name] = row
        if trainer is not None and CONFIGS[name].amp_dtype is not None and (best is None or row["images_per_s"] > best[0]):
            best = (row["images_per_s"], name, trainer)  # kept (compiled too) for end to end
        say(f"model only, {variant} {name}: " + (f"{row['images_per_s']:.0f} images/s (warm-up {row['warmup_s']:.0f} s)"
                                                 if "error" not in row else row["error"]))
        del trainer
    if best is None:
        return rows, None
    rate, name, best_trainer = best
    by_path: dict[str, dict] = {}
    for path, make_input in paths.items():
        by_path[path] = {dir_name: {} for dir_name in dirs}
        for dir_name, root in dirs.items():
            for w in worker_counts:
                with backend_flags(dev, CONFIGS[name]):
                    r = run_input(make_input, root, image_size, len(images_cpu), w, loader_batches, seed, dev,
                                  best_trainer)
                if "images_per_s" in r:
                    r["vs_model_only"] = round(r["images_per_s"] / rate, 3)
                    r["keeps_up"] = r["vs_model_only"] >= KEEPS_UP
                by_path[path][dir_name][f"workers_{w}"] = r
                say(f"end to end, {variant} {name}, {path}, {dir_name}, {w} workers: {describe_run(r)}"
                    + (f" ({r['vs_model_only']:.2f} of model only)" if "vs_model_only" in r else ""))
    e2e: dict = {"config": name, "model_only_images_per_s": rate}
    if by_path:  # the earlier layout: the first input path with this machine's workers
        first = next(iter(by_path.values()))
        e2e.update({dir_name: runs[f"workers_{worker_counts[0]}"] for dir_name, runs in first.items()})
    e2e["input_paths"] = by_path
    return rows, e2e


def bench_gpu(device: str | None = None, variants: Sequence[str] | None = None, image_size: int = 224,
              batch_size: int = 64, steps: int = 20, compile: bool = False, workers: int | None = None,
              n: int = 512, warmup: int = 5, loader_batches: int | None = None, colab_workers: int = 2,
              seed: int = 0, progress: bool = False, min_seconds: float | None = None,
              input_path: str | Sequence[str] | None = None) -> dict:
    """Model-only, loader-only and end-to-end images/s, and nvJPEG decoding, in one run (module doc).

    device: "cuda" (default; NoCuda without one) or "cpu" for a tiny smoke run (no fp16 or compile
    configs, no nvJPEG). n: generated originals. loader_batches: timed batches per loader run
    (default max(8, 2 x steps); at least 8 per worker). min_seconds: model-only timing repeats the
    `steps` until this long (default 1 s on CUDA, 0 on CPU). workers: loader workers (default: cores - 1, at
    most 16); loader only and end to end also run with `colab_workers`. input_path: one key of INPUT_PATHS
    or several, what feeds loader only and end to end (default: all; gpu_decode is skipped, with the
    reason, on a CUDA device whose torchvision cannot decode there). progress: one line per measurement
    on stderr (a long run shows where it is).
    """
    if device is None or torch.device(device).type == "cuda":
        if not torch.cuda.is_available():
            raise NoCuda("bench gpu: no CUDA GPU here (torch.cuda.is_available() is False); run it on a GPU "
                         "machine, or pass --device cpu for a tiny smoke run")
    wanted = list(INPUT_PATHS) if input_path is None else [input_path] if isinstance(input_path, str) \
        else list(dict.fromkeys(input_path))
    unknown = [p for p in wanted if p not in INPUT_PATHS]
    if unknown or not wanted:
        raise ValueError(f"input path {', '.join(map(repr, unknown)) or '(none)'}: "
                         f"choose from {', '.join(INPUT_PATHS)}")
    dev = torch.device(device or "cuda")
    say = (lambda text: print(f"bench gpu: {text}", file=sys.stderr, flush=True)) if progress else (lambda _: None)
    info = machine(dev)
    variants = list(variants or models.variant_names())
    workers = default_workers() if workers is None else workers
    worker_counts = tuple(dict.fromkeys((workers, colab_workers)))
    loader_batches = loader_batches or max(8, 2 * steps)
    min_seconds = (1.0 if dev.type == "cuda" else 0.0) if min_seconds is None else min_seconds
    names = [c for c in CONFIGS if compile or not CONFIGS[c].compile]
    skipped = {}
    if dev.type != "cuda":  # the CPU smoke run: CPU autocast is bf16; Inductor would compile for minutes
        skipped = {c: "CUDA only in this bench" for c in names if c == "fp16_cl" or CONFIGS[c].compile}
    elif not torch.cuda.is_bf16_supported():
        skipped = {c: "this GPU has no bf16" for c in names if CONFIGS[c].amp_dtype == torch.bfloat16}
    names = [c for c in names if c not in skipped]
    skipped_paths = {p: why for p in wanted if (why := input_path_unavailable(p, dev))}
    paths = {p: INPUT_PATHS[p] for p in wanted if p not in skipped_paths}
    for p, why in skipped_paths.items():
        say(f"input path {p} skipped: {why}")

    with tempfile.TemporaryDirectory(prefix="wikiart-bench-gpu-") as tmp, warnings.catch_warnings():
        # torch.compile notes once per compilation that it traces through data.normalize's lru_cache
        # (constants for the device): expected here, and noise in a bench's output
        warnings.filterwarnings("ignore", message="Dynamo detected a call to a `functools.lru_cache`")
        gen_workers = max(1, min(16, os.cpu_count() or 1)) if dev.type == "cuda" else 1
        dirs, data_info = make_data(Path(tmp), n, seed, gen_workers, say)
        loader_only = measure_loader_only(dirs, paths, image_size, batch_size, worker_counts, loader_batches, seed,
                                          dev, say)
        model_only: dict[str, dict] = {}
        end_to_end: dict[str, dict] = {}
        images_cpu, targets_cpu = synthetic_batch(batch_size, image_size, seed)
        for variant in variants:
            model_only[variant], e2e = measure_variant(variant, names, dirs, paths, images_cpu, targets_cpu, dev,
                                                       warmup, steps, min_seconds, worker_counts, loader_batches,
                                                       seed, image_size, say)
            if e2e is not None:
                end_to_end[variant] = e2e
            free_memory(dev)  # nothing of this variant stays allocated into the next one's memory peaks
            torch._dynamo.reset()
        if dev.type == "cuda":
            files = [dirs["originals"] / rel for rel in metadata.read_metadata(dirs["originals"])["path"]]
            gpu_decode = time_gpu_decode(files, dev, image_size, batch_size)
            say(f"GPU JPEG decoding: {gpu_decode}")
        else:
            gpu_decode = {"skipped": "needs CUDA (nvJPEG)"}

    first = next(iter(paths), None)
    settings = {"device": str(dev), "variants": variants, "image_size": image_size, "batch_size": batch_size,
                "warmup_steps": warmup, "timed_steps": steps, "min_timed_seconds": min_seconds,
                "configs": names, "skipped_configs": skipped, "compile": compile, "workers": workers,
                "colab_workers": colab_workers,
                "loader_timed_batches": {f"workers_{w}": timed_batches(w, loader_batches) for w in worker_counts},
                "pretrained": False, "seed": seed, "input_path": first, "input_paths": list(paths),
                "skipped_input_paths": skipped_paths,
                "cpu_jpeg_decoder": "simplejpeg" if wimages.simplejpeg is not None else "Pillow"}
    legacy_loader_only = loader_only.get(first, {})
    return {"bench": "gpu", "command": None, "machine": common.finish(info), "settings": {**settings, **NOTES},
            "data": data_info, "model_only": model_only, "loader_only": legacy_loader_only,
            "loader_only_by_path": loader_only, "end_to_end": end_to_end,
            "e2e_2workers_vs_model_only": e2e_vs_model_only(end_to_end, colab_workers),
            "loader_vs_fastest_model": loader_vs_fastest(model_only, legacy_loader_only),
            "loader_vs_fastest_model_by_path": {path: loader_vs_fastest(model_only, runs)
                                                for path, runs in loader_only.items()},
            "gpu_decode": gpu_decode}


NOTES = {  # what the settings of every run say about how it measures
    "step": "engine.train_one_epoch with train.make_optimizer (AdamW over train.param_groups, fused on CUDA), "
            "losses.build_criterion, zero_grad(set_to_none=True), clip_grad_norm 1.0, GradScaler for fp16",
    "precision_flags": "fp32 configs: torch defaults, as train --no-amp; AMP configs: cudnn.benchmark and TF32 on, "
                       "as runtime.precision",
    "loader": "cpu_workers: data.make_loader (decode + train transform in the workers), reshuffled sampler, "
              "pin_memory (CUDA), persistent workers, prefetch 4; batches copied by engine.to_device (non_blocking, "
              "channels_last on CUDA). gpu_decode: gpu_input.make_gpu_loader (workers read bytes; nvJPEG batch "
              "decoding and per-sample RandomResizedCrop/flip/jitter on the device, in the main process). "
              "Every loader is closed (workers exit) before the next is built",
    "end_to_end": "each variant's fastest AMP config (model only) trained on batches of every input path x data "
                  "dir x worker count (this machine's and colab_workers), a fresh loader per run",
    "e2e_2workers_vs_model_only": "{variant: {input path: {data dir: end-to-end images/s with colab_workers "
                                  "workers / model-only images/s of the same config}}, best: the best ratio "
                                  "over input paths on the prepared dir, best_input_path, target_met: "
                                  "best >= keeps_up_threshold}",
    "timing": "wall clock between torch.cuda.synchronize() calls, after warm-up; loader runs skip the first "
              "workers+1 batches and time at least 8 per worker",
    "keeps_up_threshold": KEEPS_UP,
}


def e2e_vs_model_only(end_to_end: dict, workers: int, best_dir: str = "prepared") -> dict:
    """{variant: {input path: {data dir: ratio}, "best", "best_input_path", "target_met"}}: end-to-end
    images/s with `workers` workers over the variant's model-only images/s at the config end to end ran
    with (None for a failed run); best = the highest ratio over input paths on `best_dir`."""
    out = {}
    for variant, e in end_to_end.items():
        entry: dict = {}
        for path, by_dir in e.get("input_paths", {}).items():
            entry[path] = {d: runs.get(f"workers_{workers}", {}).get("vs_model_only") for d, runs in by_dir.items()}
        on_best_dir = {p: r[best_dir] for p, r in entry.items() if r.get(best_dir) is not None}
        best_path = max(on_best_dir, key=on_best_dir.get, default=None)
        best = on_best_dir.get(best_path)
        entry.update(best=best, best_input_path=best_path, target_met=best is not None and best >= KEEPS_UP)
        out[variant] = entry
    return out


def loader_vs_fastest(model_only: dict, loader_only: dict) -> dict:
    """Each loader-only rate over each variant's fastest model-only rate (failed runs left out)."""
    fastest = {v: max((r["images_per_s"] for r in rows.values() if "images_per_s" in r), default=None)
               for v, rows in model_only.items()}
    return {v: {f"{d}_workers_{w['workers']}": round(w["images_per_s"] / top, 3)
                for d, runs in loader_only.items() for w in runs.values() if "images_per_s" in w}
            for v, top in fastest.items() if top}


def format_gpu(result: dict) -> str:
    """The result as tables: model only, loader only, end to end, the 2-worker summary, nvJPEG."""
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
    for path, why in s.get("skipped_input_paths", {}).items():
        lines.append(f"  input path {path} skipped: {why}")
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
    lines += [""] + format_loader_only(result) + [""] + format_end_to_end(result) + [""] + format_2workers(result)

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


def worker_labels(result: dict) -> list[str]:
    s = result["settings"]
    return [f"workers_{w}" for w in dict.fromkeys((s["workers"], s["colab_workers"]))]


def rate_cell(row: dict | None, ratio: bool = False) -> str:
    if not row:
        return "-"
    if "images_per_s" not in row:
        return "failed"
    return f"{row['images_per_s']:.0f}" + (f" ({row['vs_model_only']:.2f})" if ratio else "")


def run_errors(where: str, runs: dict) -> list[str]:
    return [f"  {where}, {w.replace('workers_', '')} workers failed: {r['error']}" for w, r in runs.items()
            if "error" in r]


def format_loader_only(result: dict) -> list[str]:
    s, d = result["settings"], result["data"]
    o, p = d["originals"], d["prepared"]
    labels_ = {"originals": f"originals ({o['size'].split(' ')[0]}, {o['mean_kb']:.0f} KB)",
               "prepared": f"prepared (256 px, {p['mean_kb']:.0f} KB)"}
    by_path = result.get("loader_only_by_path") or {s.get("input_path") or "cpu_workers": result["loader_only"]}
    runs = worker_labels(result)
    lines = [f"loader only: images/s delivered to {s['device']} (cpu_workers: decode + train transform in the "
             f"workers, pinned, non_blocking copies; gpu_decode: workers read bytes, nvJPEG + augmentation on the "
             f"device); {o['images']} files generated in {o['generate_s']:.0f} s, prepared in {p['prepare_s']:.0f} s "
             f"(CPU JPEG decoder: {s.get('cpu_jpeg_decoder', '?')})",
             f"{'input path':<13}{'data':<32}" + "".join(f"{r.replace('workers_', '') + ' workers':>14}" for r in runs)]
    errors = []
    for path, by_dir in by_path.items():
        for name, by_workers in by_dir.items():
            cells = "".join(f"{rate_cell(by_workers.get(r)):>14}" for r in runs)
            lines.append(f"{path:<13}{labels_[name]:<32}{cells}")
            errors += run_errors(f"{path}, {name}", by_workers)
    if not by_path:
        lines.append("  (no input path measured)")
    return lines + errors


def format_end_to_end(result: dict) -> list[str]:
    s = result["settings"]
    runs = worker_labels(result)
    columns = [(d, r) for d in ("originals", "prepared") for r in runs]
    lines = [f"end to end (real steps of each variant's fastest AMP config fed by each input path): images/s "
             f"(/ model only; keeps up if >= {s['keeps_up_threshold']})",
             f"{'variant':<23}{'config':>16}{'model only':>11}  {'input path':<12}"
             + "".join(f"{d + ' ' + r.replace('workers_', '') + 'w':>17}" for d, r in columns)]
    errors = []
    for variant, e in result["end_to_end"].items():
        by_path = e.get("input_paths") or {s.get("input_path") or "cpu_workers":
                                           {d: {runs[0]: e[d]} for d in ("originals", "prepared") if d in e}}
        for i, (path, by_dir) in enumerate(by_path.items()):
            head = (f"{variant:<23}{e['config']:>16}{e['model_only_images_per_s']:>11.0f}" if i == 0
                    else " " * 50)
            lines.append(f"{head}  {path:<12}"
                         + "".join(f"{rate_cell(by_dir.get(dd, {}).get(r), ratio=True):>17}" for dd, r in columns))
            for dd, by_workers in by_dir.items():
                errors += run_errors(f"{variant}, {path}, {dd}", by_workers)
    return lines + errors


def format_2workers(result: dict) -> list[str]:
    s = result["settings"]
    summary = result.get("e2e_2workers_vs_model_only", {})
    paths = s.get("input_paths") or []
    columns = [(p, d) for p in paths for d in ("originals", "prepared")]
    lines = [f"with {s['colab_workers']} workers (a Colab-class machine): end to end / model only; target: the best "
             f"input path >= {s['keeps_up_threshold']} on prepared files",
             f"{'variant':<23}" + "".join(f"{p + ' ' + d:>23}" for p, d in columns) + f"{'best':>7}  {'path':<12}met"]
    for variant, entry in summary.items():
        cells = "".join(f"{'-' if entry.get(p, {}).get(d) is None else format(entry[p][d], '.2f'):>23}"
                        for p, d in columns)
        best = "-" if entry["best"] is None else f"{entry['best']:.2f}"
        lines.append(f"{variant:<23}{cells}{best:>7}  {entry['best_input_path'] or '-':<12}"
                     f"{'yes' if entry['target_met'] else 'no'}")
    return lines


# ----------------------------------------------------------------------------------------------------
# Command line

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benchmarks/bench_gpu.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default=None, help="cuda (default) or cpu (a tiny smoke run)")
    p.add_argument("--variants", nargs="+", default=None, choices=models.variant_names(), help="default: all")
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20, help="timed train steps per config (after the warm-up)")
    p.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps per config")
    p.add_argument("--min-seconds", type=float, default=None,
                   help="model only repeats --steps until this long (default: 1 on CUDA, 0 on CPU)")
    p.add_argument("--compile", action="store_true", help="also time bf16_cl_compile (torch.compile)")
    p.add_argument("--workers", type=int, default=None, help="loader workers (default: cores - 1, at most 16); "
                                                             "loader only and end to end also run with 2")
    p.add_argument("--n", type=int, default=512, help="original JPEGs to generate")
    p.add_argument("--loader-batches", type=int, default=None, help="timed batches per loader run (default: "
                                                                    "max(8, 2 x steps); at least 8 per worker)")
    p.add_argument("--input-path", nargs="+", default=None, choices=list(INPUT_PATHS), metavar="PATH",
                   help=f"what feeds loader only and end to end: one or more of {', '.join(INPUT_PATHS)} "
                        f"(default: all; cpu_workers = decode + augment in DataLoader workers, gpu_decode = "
                        f"workers read bytes, nvJPEG + augmentation on the GPU)")
    common.add_common_arguments(p, threads=False)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bench from command-line arguments; 2 (one line on stderr) without CUDA."""
    argv = common.argv_or_sys(argv)
    args = build_parser().parse_args(argv)
    try:
        result = bench_gpu(args.device, args.variants, args.image_size, args.batch_size, args.steps, args.compile,
                           args.workers, args.n, args.warmup, args.loader_batches, seed=args.seed, progress=True,
                           min_seconds=args.min_seconds, input_path=args.input_path)
    except NoCuda as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["command"] = common.command_line(__file__, argv)
    common.emit(result, args, format_gpu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
