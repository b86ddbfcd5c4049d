"""The training loop in plain sight: one epoch of training, one pass of validation.

    for epoch in range(epochs):
        train_loss = train_one_epoch(model, criterion, optimizer, train_loader, device, scheduler)
        scores = validate(model, val_loader, device)

as in torchvision's references/classification. `model` is whatever turns a batch's inputs into
{task: logits}: the whole `MultitaskNet` for images, or `features.HeadOnly(model)` for the tokens of a
feature cache -- the same two functions train and score both, with the same loss, clipping and metrics.
`train.train` composes them with checkpoints, resuming and early stopping.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import torch
from sklearn.metrics import f1_score
from tqdm.auto import tqdm

from . import labels, losses
from .runtime import autocast


def to_device(batch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs, targets) on `device`; image batches channels_last on CUDA (cached tokens are 3-D)."""
    inputs, targets = batch[0], batch[1]
    channels_last = device.type == "cuda" and inputs.ndim == 4
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return (inputs.to(device, non_blocking=True, memory_format=memory_format),
            targets.to(device, non_blocking=True))


def train_one_epoch(model: torch.nn.Module, criterion: losses.MultitaskLoss, optimizer: torch.optim.Optimizer,
                    loader: Iterable, device: torch.device, scheduler=None, *, grad_clip: float = 0.0,
                    scaler: torch.amp.GradScaler | None = None, amp_dtype: torch.dtype | None = None,
                    max_steps: int | None = None, desc: str = "train", progress: bool = False) -> dict[str, float]:
    """One pass over `loader`: forward, masked multitask loss, backward, clip, step. Returns the mean loss.

    A batch whose images all failed to decode arrives as None and is skipped (each bad file was logged);
    the learning-rate schedule still advances, so it follows the step count. `scaler` (fp16 on CUDA)
    scales the loss; without one the step is plain. `max_steps` caps the batches (smoke runs).
    """
    model.train()  # a frozen backbone stays in eval mode (see MultitaskNet.train)
    params = [p for group in optimizer.param_groups for p in group["params"]]
    scaler = scaler or torch.amp.GradScaler("cuda", enabled=False)
    total, steps = torch.zeros((), device=device), 0
    for step, batch in enumerate(tqdm(loader, desc=desc, disable=not progress, leave=False)):
        if max_steps is not None and step >= max_steps:
            break
        if batch is not None:
            inputs, targets = to_device(batch, device)
            with autocast(device, amp_dtype):
                logits = model(inputs)
            loss, _ = criterion(logits, targets)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if grad_clip:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, grad_clip)
            scaler.step(optimizer)
            scaler.update()
            total += loss.detach()
            steps += 1
        if scheduler is not None:
            scheduler.step()
    return {"train_loss": (total / max(steps, 1)).item(), "steps": steps}


@torch.no_grad()
def validate(model: torch.nn.Module, loader: Iterable, device: torch.device, amp_dtype: torch.dtype | None = None,
             gather: Callable[[Any], list] | None = None, max_steps: int | None = None) -> dict[str, float]:
    """Unweighted masked loss, per-task accuracy and macro-F1 (labelled rows only), and their mean F1.

    The loss is plain cross entropy whatever the training loss is, so runs stay comparable. A task with
    no labelled row scores NaN and is left out of the mean. Under DDP each process passes its own shard
    and `gather` (`distributed.gatherer`: an object -> that object of every process); predictions are
    pooled, so every process returns the metrics of the whole set.
    """
    model.eval()
    criterion, preds, truth, total = losses.MultitaskLoss(), [], [], 0.0
    for step, batch in enumerate(loader):
        if max_steps is not None and step >= max_steps:
            break
        if batch is None:
            continue
        inputs, targets = to_device(batch, device)
        with autocast(device, amp_dtype):
            logits = model(inputs)
        total += criterion(logits, targets)[0].item() * len(targets)
        preds.append(torch.stack([logits[t].argmax(1) for t in labels.TASKS], 1).cpu())
        truth.append(targets.cpu())
    empty = np.zeros((0, len(labels.TASKS)), dtype=np.int64)
    pred, true = (torch.cat(preds).numpy(), torch.cat(truth).numpy()) if preds else (empty, empty)
    if gather is not None:  # macro-F1 needs every prediction, not a mean of per-shard scores
        shards = gather((pred, true, total))
        pred, true = np.concatenate([s[0] for s in shards]), np.concatenate([s[1] for s in shards])
        total = sum(s[2] for s in shards)
    scores = {"val_loss": total / max(len(true), 1)}
    for i, task in enumerate(labels.TASKS):
        known = true[:, i] != labels.UNKNOWN
        scores[f"val_{task}_acc"] = float((pred[known, i] == true[known, i]).mean()) if known.any() else float("nan")
        scores[f"val_{task}_f1"] = float(f1_score(true[known, i], pred[known, i], average="macro", zero_division=0)
                                         ) if known.any() else float("nan")
    f1s = [scores[f"val_{t}_f1"] for t in labels.TASKS if not np.isnan(scores[f"val_{t}_f1"])]
    scores["val_mean_f1"] = float(np.mean(f1s)) if f1s else 0.0
    return scores
