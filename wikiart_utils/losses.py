"""The multitask loss: one cross entropy per task over the rows whose label is known.

Unknown labels (-1: an artist outside the 128, a missing genre) are excluded, never a class. A task
with no labelled row in the batch contributes exactly 0 (not NaN), so rare-label batches are safe.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import labels

Counts = Sequence[int] | np.ndarray | torch.Tensor


def class_counts(targets: torch.Tensor) -> dict[str, torch.Tensor]:
    """Labelled rows per class for each task, from a [N, 3] target tensor (e.g. `dataset.targets`)."""
    return {task: torch.bincount(targets[:, i][targets[:, i] >= 0], minlength=n).float()
            for i, (task, n) in enumerate(labels.num_classes().items())}


def class_balanced_weights(counts: Counts, beta: float = 0.999) -> torch.Tensor:
    """Per-class loss weights from the effective number of samples (Cui et al., CVPR 2019).

    w_c = (1 - beta) / (1 - beta**n_c), scaled so the classes that occur average to 1; a class with
    no sample gets weight 0 (it can never be a target anyway). beta -> 0 gives uniform weights,
    beta -> 1 inverse-frequency weights.
    """
    counts = torch.as_tensor(counts, dtype=torch.float64)
    present = counts > 0
    weights = torch.zeros_like(counts)
    weights[present] = (1 - beta) / (1 - beta ** counts[present])
    if present.any():
        weights *= present.sum() / weights.sum()
    return weights.float()


def log_priors(counts: Counts) -> torch.Tensor:
    """log p(class) from class counts, for logit adjustment. Empty classes count as 1 (finite logs)."""
    counts = torch.as_tensor(counts, dtype=torch.float64).clamp_min(1)
    return (counts / counts.sum()).log().float()


class MultitaskLoss(nn.Module):
    """Weighted sum of per-task masked cross entropies; forward returns (total, {task: loss}).

    task_weights: multiplier per task (default 1 each). class_weights: {task: [C] tensor}.
    logit_adjustment: {task: log-prior [C]}; adds tau * log-prior to the logits inside the loss only
    (Menon et al., ICLR 2021), which trains the raw logits to be balanced across classes -- predict
    with the plain logits.
    """

    def __init__(self, task_weights: Mapping[str, float] | None = None,
                 class_weights: Mapping[str, torch.Tensor] | None = None, label_smoothing: float = 0.0,
                 logit_adjustment: Mapping[str, torch.Tensor] | None = None, tau: float = 1.0):
        super().__init__()
        self.tasks = labels.TASKS
        unknown = set(task_weights or {}) | set(class_weights or {}) | set(logit_adjustment or {})
        unknown -= set(self.tasks)
        if unknown:
            raise ValueError(f"unknown task(s) {', '.join(sorted(unknown))}: tasks are {', '.join(self.tasks)}")
        self.task_weights = {task: float((task_weights or {}).get(task, 1.0)) for task in self.tasks}
        self.label_smoothing = label_smoothing
        self.tau = tau
        # buffers follow the module to the GPU and into state_dict
        for task in self.tasks:
            weight = (class_weights or {}).get(task)
            prior = (logit_adjustment or {}).get(task)
            self.register_buffer(f"weight_{task}", None if weight is None else torch.as_tensor(weight).float())
            self.register_buffer(f"prior_{task}", None if prior is None else torch.as_tensor(prior).float())

    def task_loss(self, task: str, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean cross entropy over labelled rows (class-weighted mean when weights are set), 0 if none.

        Summing and dividing by the (weighted) count of labelled rows equals F.cross_entropy's mean
        reduction, without its 0/0 = NaN on an all-unknown batch and without a host sync.
        """
        logits = logits.float()
        prior = getattr(self, f"prior_{task}")
        if prior is not None:
            logits = logits + self.tau * prior
        weight = getattr(self, f"weight_{task}")
        total = F.cross_entropy(logits, target, weight=weight, ignore_index=labels.UNKNOWN,
                                label_smoothing=self.label_smoothing, reduction="sum")
        known = target != labels.UNKNOWN
        norm = weight[target.clamp_min(0)][known].sum() if weight is not None else known.sum().float()
        return total / norm.clamp_min(1e-12)

    def forward(self, logits: Mapping[str, torch.Tensor],
                targets: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        per_task = {task: self.task_loss(task, logits[task], targets[:, i]) for i, task in enumerate(self.tasks)}
        total = sum(self.task_weights[task] * loss for task, loss in per_task.items())
        return total, per_task


def build_criterion(train_targets: torch.Tensor, label_smoothing: float = 0.0, class_weights: bool = False,
                    logit_adjust: float = 0.0, task_weights: Mapping[str, float] | None = None) -> MultitaskLoss:
    """The training loss of a run, from its training targets [N, 3]: a weight per task (`task_weights`,
    default 1 each), effective-number class weights (`class_weights`), label smoothing, and logit
    adjustment with tau = `logit_adjust` (0 = off)."""
    counts = class_counts(train_targets)
    return MultitaskLoss(
        task_weights=task_weights,
        class_weights={t: class_balanced_weights(c) for t, c in counts.items()} if class_weights else None,
        label_smoothing=label_smoothing,
        logit_adjustment={t: log_priors(c) for t, c in counts.items()} if logit_adjust else None,
        tau=logit_adjust)
