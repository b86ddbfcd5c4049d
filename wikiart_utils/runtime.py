"""Where and how a run computes: the device, mixed precision, and every random number generator.

Kept apart from the training loop so the loop reads as the algorithm: `pick_device` (CUDA > MPS > CPU),
`precision` (bf16 autocast where the GPU has it, else fp16 with a gradient scaler; full precision on a
CPU), `seed_everything`, and `rng_state` / `set_rng_state`, which carry every RNG through a checkpoint
so a resumed run continues exactly where it stopped. `fit_to_machine` turns a profile's "auto" workers
and batch size into numbers for the machine at hand (cores, GPU memory), and says what it chose.
"""
from __future__ import annotations

import contextlib
import os
import random

import numpy as np
import torch

from .config import TrainConfig


def pick_device(name: str | None = None) -> torch.device:
    """`name` if given, else CUDA > MPS > CPU."""
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def precision(device: torch.device, amp: bool = True) -> tuple[torch.dtype | None, torch.amp.GradScaler]:
    """(autocast dtype or None, gradient scaler) for `device`. On CUDA with `amp`: bf16 where supported (no
    scaler needed), else fp16 with an enabled scaler; cuDNN autotuning and TF32 are switched on. Elsewhere
    full precision and a disabled scaler, which passes `backward`/`step` through unchanged."""
    amp_dtype = None
    if amp and device.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return amp_dtype, torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)


def autocast(device: torch.device, amp_dtype: torch.dtype | None):
    """Mixed precision for the forward pass when `amp_dtype` is set; a no-op context otherwise."""
    return torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA and MPS too


def rng_state() -> dict:
    """Every RNG state as tensors / lists / numbers, so it survives torch.load(weights_only=True)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, state, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {"name": name, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": {"version": version, "state": list(state), "gauss_next": gauss_next},
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))


# Peak GPU memory of one end-to-end training step at 224 px, batch 64, mixed precision, channels_last
# (benchmarks/RESULTS.md, bench_gpu.py on an H200, 2026-11-26), in GiB; it grows about linearly with the
# batch and with the pixels of an image.
STEP_GIB_AT_64 = {"resnet18_lstm_patch": 1.0, "resnet18_lstm_flatten": 1.3, "vgg16_lstm": 2.9,
                  "vit_b16_lstm": 5.8, "resnet18_gap": 0.9,
                  # not measured (no GPU lent since they were added): a cautious guess, EfficientNet's
                  # depthwise blocks keep about 3x ResNet-18's activations per image for the backward pass
                  "efficientnet_lite0_lstm": 3.0, "efficientnet_lite0_gap": 3.0}
MAX_WORKERS = 8
BATCH_CHOICES = (128, 64, 32, 16, 8)
GPU_SHARE = 0.5  # of the GPU's memory a step may take by the estimate: room for the allocator, eval, fp32


def cpu_cores() -> int:
    """The cores this process may run on (a container's share, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def gpu_memory_gib() -> float | None:
    """Total memory of the first CUDA GPU in GiB, None without one."""
    if not torch.cuda.is_available():
        return None
    return torch.cuda.get_device_properties(0).total_memory / 2**30


def fit_to_machine(variant: str, settings: dict, cores: int | None = None,
                   gpu_gib: float | None | str = "detect") -> tuple[dict, str]:
    """(settings with "auto" `workers` and `batch_size` made numbers, one line saying what was chosen).

    workers: one DataLoader process per core, at most MAX_WORKERS (Colab's 2 cores: 2). batch_size: the
    largest of BATCH_CHOICES whose estimated step (STEP_GIB_AT_64, scaled by batch and image size) takes
    at most GPU_SHARE of the GPU's memory -- 128 for the ResNets and VGG-16 on a 16 GB T4, 64 for
    ViT-B/16; without a GPU, 32. Settings given as numbers are kept as they are."""
    cores = cpu_cores() if cores is None else cores
    gpu_gib = gpu_memory_gib() if gpu_gib == "detect" else gpu_gib
    fitted, said = dict(settings), []
    if fitted.get("workers") == "auto":
        fitted["workers"] = min(MAX_WORKERS, cores)
        said.append(f"workers {fitted['workers']} ({cores} cores)")
    size = fitted.get("image_size", TrainConfig.image_size)
    if fitted.get("batch_size") == "auto":
        per_image = STEP_GIB_AT_64[variant] / 64 * (size / 224) ** 2  # measured at 224 px
        if gpu_gib is None:
            fitted["batch_size"] = TrainConfig.batch_size
            said.append(f"batch {fitted['batch_size']} (no GPU)")
        else:
            fits = [b for b in BATCH_CHOICES if b * per_image <= GPU_SHARE * gpu_gib]
            fitted["batch_size"] = fits[0] if fits else BATCH_CHOICES[-1]
            said.append(f"batch {fitted['batch_size']} (a step of {variant} at {size} px "
                        f"~{fitted['batch_size'] * per_image:.1f} GiB of the GPU's {gpu_gib:.0f} GiB)")
    return fitted, ("this machine: " + ", ".join(said)) if said else ""
