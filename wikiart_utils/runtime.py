"""Where and how a run computes: the device, mixed precision, and every random number generator.

Kept apart from the training loop so the loop reads as the algorithm: `pick_device` (CUDA > MPS > CPU),
`precision` (bf16 autocast where the GPU has it, else fp16 with a gradient scaler; full precision on a
CPU), `seed_everything`, and `rng_state` / `set_rng_state`, which carry every RNG through a checkpoint
so a resumed run continues exactly where it stopped.
"""
from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


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
