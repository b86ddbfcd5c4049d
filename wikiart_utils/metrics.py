"""Evaluation of the three tasks: scores, bootstrap intervals, per-class reports, error analysis.

Pure numpy / scikit-learn, so it runs on saved predictions without torch. Conventions used everywhere:

* ``y_true`` holds class indices, ``-1`` (`labels.UNKNOWN`) where the label is missing; those rows are
  dropped before any score is computed (missing labels are never a class of their own).
* ``probs`` is an ``[N, C]`` array of class probabilities (softmax outputs). Ranking-based scores (top-1,
  top-5, F1) also accept logits; `outliers` and `predictive_entropy` need real probabilities.
* ``macro_f1`` follows scikit-learn's default: the mean F1 over the classes that occur in the labelled
  ``y_true`` *or* in the predictions. A class absent from both (common for rare artists in a small test
  split) is left out rather than counted as F1 = 0, so the score is not dragged down by classes that the
  split simply does not contain. `per_class_report` still lists all C classes.
* ``majority_baseline`` is the accuracy of always answering the most frequent *training* class when
  ``train_counts`` is given (an honest baseline: it does not peek at the test labels), otherwise the most
  frequent class of the evaluated ``y_true`` itself (an optimistic upper bound of that baseline);
  ``majority_source`` says which one was used.
* Every returned number is a plain Python ``int`` / ``float`` / ``list``, so results go straight to JSON.
"""
from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_recall_fscore_support,
)

from .labels import TASKS, UNKNOWN

BOOT_CHUNK_CELLS = 2_000_000  # resampled rows held in memory at once by the bootstrap (~16 MB of int64)
# The course's one bootstrap setting: every interval (evaluate's metrics.json, the paired differences of
# results/paired.md, the notebooks' intervals by hand) draws this many resamples from this seed, so the same
# difference is never quoted with two slightly different intervals. 1000 is what the committed
# results/*/metrics.json were computed with; tests/test_metrics.py rejects any other literal.
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


# ----------------------------------------------------------------------------------------------------------
# input handling


def _check(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate shapes and label range; return (int labels, float probs)."""
    y = np.asarray(y_true).astype(np.int64, copy=False).reshape(-1)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probs must be [N, C], got shape {p.shape}")
    if len(y) != len(p):
        raise ValueError(f"y_true has {len(y)} rows but probs has {len(p)}")
    n_classes = p.shape[1]
    bad = (y < UNKNOWN) | (y >= n_classes)
    if bad.any():
        raise ValueError(f"labels must be -1 or in [0, {n_classes}); got {np.unique(y[bad])[:5].tolist()}")
    return y, p


def _labelled(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose label is known."""
    y, p = _check(y_true, probs)
    keep = y != UNKNOWN
    return y[keep], p[keep]


def _predictions(probs_or_pred: np.ndarray) -> np.ndarray:
    """Class indices from a [N, C] score array (argmax) or pass a 1-D prediction array through."""
    a = np.asarray(probs_or_pred)
    return a.argmax(axis=1) if a.ndim == 2 else a.astype(np.int64, copy=False)


def top_k_correct(y: np.ndarray, probs: np.ndarray, k: int) -> np.ndarray:
    """Boolean per row: is the true class among the k highest scores? (ties: lower index first, as argmax)."""
    k = max(1, min(k, probs.shape[1]))
    top = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    return (top == y[:, None]).any(axis=1)


# ----------------------------------------------------------------------------------------------------------
# bootstrap


def bootstrap_ci(stat_fn: Callable[[np.ndarray], np.ndarray], n: int, n_boot: int = BOOTSTRAP_RESAMPLES,
                 seed: int = BOOTSTRAP_SEED, level: float = 0.95) -> np.ndarray:
    """Percentile bootstrap interval of a statistic over n rows, vectorised and deterministic for a seed.

    ``stat_fn`` receives a [B, n] array of resampled row indices and returns the statistic of each
    resample, shape [B] or [B, m] (several statistics on the *same* resamples). Returns [2] = (lo, hi),
    or [m, 2]. Resamples are drawn in chunks so memory stays bounded for large n.
    """
    if n < 1 or n_boot < 1:
        raise ValueError("bootstrap needs n >= 1 and n_boot >= 1")
    rng = np.random.default_rng(seed)
    chunk = max(1, BOOT_CHUNK_CELLS // n)
    values = []
    for start in range(0, n_boot, chunk):
        idx = rng.integers(0, n, size=(min(chunk, n_boot - start), n))
        values.append(np.asarray(stat_fn(idx), dtype=np.float64))
    values = np.concatenate(values, axis=0)
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha], axis=0)
    return np.stack([lo, hi], axis=-1)


def paired_difference(right_a: np.ndarray, right_b: np.ndarray, n_boot: int = BOOTSTRAP_RESAMPLES,
                      seed: int = BOOTSTRAP_SEED) -> dict:
    """Top-1 of model A minus model B on the *same* labelled rows (boolean "was right" per row), with a
    paired 95% bootstrap interval (rows resampled once for both): two models' own intervals can overlap
    while the difference between them is clearly not zero."""
    right_a, right_b = np.asarray(right_a, dtype=bool), np.asarray(right_b, dtype=bool)
    if right_a.shape != right_b.shape or right_a.ndim != 1 or not len(right_a):
        raise ValueError(f"paired_difference needs two equally long 1-D arrays, got {right_a.shape} and {right_b.shape}")
    diff = right_a.astype(np.float64) - right_b
    lo, hi = bootstrap_ci(_accuracy_stat(diff), len(diff), n_boot=n_boot, seed=seed)
    return {"n": int(len(diff)), "difference": float(diff.mean()), "ci": [float(lo), float(hi)],
            "only_a_right": int((diff > 0).sum()), "only_b_right": int((diff < 0).sum())}


def _accuracy_stat(correct: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return lambda idx: correct[idx].mean(axis=1)


def _macro_f1_stat(y: np.ndarray, pred: np.ndarray, n_classes: int) -> Callable[[np.ndarray], np.ndarray]:
    """Macro F1 of each resample with sklearn's rule (classes present in truth or predictions)."""
    def stat(idx: np.ndarray) -> np.ndarray:
        n_rows = idx.shape[0]
        offset = (np.arange(n_rows) * n_classes)[:, None]
        yt, yp = y[idx] + offset, pred[idx] + offset
        size = n_rows * n_classes
        true_count = np.bincount(yt.ravel(), minlength=size)
        pred_count = np.bincount(yp.ravel(), minlength=size)
        tp = np.bincount(yt[yt == yp], minlength=size)
        denom = (true_count + pred_count).reshape(n_rows, n_classes)  # = 2 tp + fp + fn
        f1 = np.divide(2.0 * tp.reshape(n_rows, n_classes), denom,
                       out=np.zeros(denom.shape), where=denom > 0)
        return f1.sum(axis=1) / (denom > 0).sum(axis=1)
    return stat


# ----------------------------------------------------------------------------------------------------------
# task scores


def majority_baseline(y: np.ndarray, train_counts: np.ndarray | None = None) -> tuple[float, int, str]:
    """(accuracy, class, source) of always predicting the majority class: of training if counts given."""
    y = np.asarray(y, dtype=np.int64)
    y = y[y != UNKNOWN]
    if train_counts is not None:
        cls, source = int(np.argmax(train_counts)), "train"
    else:
        cls, source = int(np.bincount(y).argmax()) if len(y) else 0, "eval"
    acc = float(np.mean(y == cls)) if len(y) else 0.0
    return acc, cls, source


def majority_baselines(train_targets, eval_targets) -> dict[str, float]:
    """Per task with labelled evaluation rows: the accuracy of always answering the most frequent class of
    `train_targets` ([N, 3], -1 = unknown), over the labelled rows of `eval_targets`: the line a
    validation curve must clear."""
    train_targets, eval_targets = np.asarray(train_targets), np.asarray(eval_targets)
    baselines = {}
    for i, task in enumerate(TASKS):
        known = train_targets[:, i][train_targets[:, i] != UNKNOWN]
        if len(known) and (eval_targets[:, i] != UNKNOWN).any():
            baselines[task] = majority_baseline(eval_targets[:, i], np.bincount(known))[0]
    return baselines


def _balanced_accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Mean recall over the classes present in y (predicting an absent class is expected, not a warning)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        return float(balanced_accuracy_score(y, pred))


def task_metrics(y_true: np.ndarray, probs: np.ndarray, train_counts: np.ndarray | None = None,
                 n_boot: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> dict:
    """All scores of one task over its labelled rows, with 95% bootstrap intervals for top-1 and macro F1.

    Keys: n, n_classes, classes_present, chance, top1, top5 (k = top_k = min(5, C)), macro_f1,
    balanced_accuracy, precision / recall / f1 (support-weighted), majority_baseline, majority_class,
    majority_source, top1_ci and macro_f1_ci ([lo, hi]; omitted when n_boot == 0). With no labelled row
    the dict is just {n: 0, n_classes, chance = 1 / n_classes}: no score is invented and nothing is NaN.

    `chance` is 1 / classes_present, the top-1 of guessing uniformly among the classes the labelled rows
    hold: a split with 8 of the 27 styles makes chance 1/8, and quoting 1/27 there would flatter a model.
    """
    y, p = _labelled(y_true, probs)
    n_classes = p.shape[1]
    out: dict = {"n": int(len(y)), "n_classes": int(n_classes), "chance": 1.0 / n_classes}
    if len(y) == 0:
        return out
    present = int(len(np.unique(y)))
    out.update({"classes_present": present, "chance": 1.0 / present})
    if train_counts is not None and len(train_counts) != n_classes:
        raise ValueError(f"train_counts has {len(train_counts)} entries for {n_classes} classes")
    pred = p.argmax(axis=1)
    correct = pred == y
    k = min(5, n_classes)
    precision, recall, f1, _ = precision_recall_fscore_support(y, pred, average="weighted", zero_division=0)
    base_acc, base_cls, base_src = majority_baseline(y, train_counts)
    out.update({
        "top1": float(correct.mean()),
        "top5": float(top_k_correct(y, p, k).mean()),
        "top_k": int(k),
        "macro_f1": float(f1_score(y, pred, average="macro", zero_division=0)),
        "balanced_accuracy": _balanced_accuracy(y, pred),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "majority_baseline": base_acc,
        "majority_class": base_cls,
        "majority_source": base_src,
    })
    if n_boot > 0:
        acc_fn, f1_fn = _accuracy_stat(correct), _macro_f1_stat(y, pred, n_classes)
        ci = bootstrap_ci(lambda idx: np.stack([acc_fn(idx), f1_fn(idx)], axis=1), len(y), n_boot, seed)
        out["top1_ci"] = [float(v) for v in ci[0]]
        out["macro_f1_ci"] = [float(v) for v in ci[1]]
    return out


def task_scores(y_true: Mapping[str, np.ndarray], probs: Mapping[str, np.ndarray],
              train_counts: Mapping[str, np.ndarray] | None = None, n_boot: int = BOOTSTRAP_RESAMPLES,
              seed: int = BOOTSTRAP_SEED) -> dict[str, dict]:
    """`task_metrics` for every task in `probs` (TASKS order first); the result is JSON-ready."""
    order = [t for t in TASKS if t in probs] + [t for t in probs if t not in TASKS]
    counts = train_counts or {}
    return {task: task_metrics(y_true[task], probs[task], counts.get(task), n_boot, seed) for task in order}


def to_jsonable(obj: object) -> object:
    """Recursively turn numpy / pandas values into plain Python; NaN and inf become None (valid JSON)."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return to_jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, (list, tuple, np.ndarray, pd.Series)):
        return [to_jsonable(v) for v in (obj.tolist() if hasattr(obj, "tolist") else obj)]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def to_json(obj: object, path: str | Path | None = None, indent: int = 2) -> str:
    """JSON text of metrics (any nesting of dicts / arrays / numpy scalars); also written to `path` if given."""
    text = json.dumps(to_jsonable(obj), indent=indent, allow_nan=False)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n", encoding="utf-8")
    return text


# ----------------------------------------------------------------------------------------------------------
# per-class views


def per_class_report(y_true: np.ndarray, probs: np.ndarray, names: list[str],
                     train_counts: np.ndarray | None = None) -> pd.DataFrame:
    """One row per class (all C, index = class index): support, precision, recall, f1 [, train_count].

    `probs` may also be a 1-D array of predicted indices. Classes never predicted get precision 0.
    """
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred = _predictions(probs)
    keep = y != UNKNOWN
    n_classes = len(names)
    precision, recall, f1, support = precision_recall_fscore_support(
        y[keep], pred[keep], labels=np.arange(n_classes), average=None, zero_division=0)
    report = pd.DataFrame({"class": list(names), "support": support.astype(int),
                           "precision": precision, "recall": recall, "f1": f1})
    if train_counts is not None:
        report["train_count"] = np.asarray(train_counts).astype(int)
    return report


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int,
              normalize: str | None = "true") -> np.ndarray:
    """[C, C] confusion matrix (rows = truth) over labelled rows; `y_pred` may be [N, C] scores.

    normalize: "true" divides each row by its support (rows without support stay 0), "pred" each
    column, "all" the total, None keeps integer counts.
    """
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    pred = _predictions(y_pred)
    keep = y != UNKNOWN
    flat = y[keep] * n_classes + pred[keep]
    cm = np.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    if normalize is None:
        return cm
    if normalize == "true":
        total = cm.sum(axis=1, keepdims=True)
    elif normalize == "pred":
        total = cm.sum(axis=0, keepdims=True)
    elif normalize == "all":
        total = np.array(cm.sum())
    else:
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None, not {normalize!r}")
    return np.divide(cm, total, out=np.zeros(cm.shape), where=total > 0)


def most_confused_pairs(y_true: np.ndarray, y_pred: np.ndarray, names: list[str], k: int = 10) -> pd.DataFrame:
    """The k most frequent (true -> predicted) mistakes: count and share of the true class's rows."""
    cm = confusion(y_true, y_pred, len(names), normalize=None)
    support = cm.sum(axis=1)
    off = cm.copy()
    np.fill_diagonal(off, 0)
    rows, cols = np.nonzero(off)
    counts = off[rows, cols]
    share = counts / support[rows]
    order = np.lexsort((cols, rows, -share, -counts))[:k]  # most mistakes first, then largest share
    return pd.DataFrame({
        "true": [names[i] for i in rows[order]],
        "predicted": [names[j] for j in cols[order]],
        "count": counts[order].astype(int),
        "share": share[order],
    })


# ----------------------------------------------------------------------------------------------------------
# uncertainty and outliers


def predictive_entropy(probs: np.ndarray, normalized: bool = False) -> np.ndarray:
    """Shannon entropy (nats) of each row's distribution; normalized=True divides by log(C) -> [0, 1]."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    logp = np.log(p, out=np.zeros_like(p), where=p > 0)
    entropy = -(p * logp).sum(axis=1)
    return entropy / math.log(p.shape[1]) if normalized and p.shape[1] > 1 else entropy


def outliers(y_true: np.ndarray, probs: np.ndarray, k: int = 16, max_label_prob: float = 1.0,
             min_pred_prob: float = 0.0) -> np.ndarray:
    """Indices of confident contradictions: labelled rows whose prediction is another class, most confident first.

    Such rows are candidates for label noise (or for the model's blind spots). Optional filters keep only
    rows where the given label has probability <= max_label_prob and the prediction >= min_pred_prob.
    Ties in confidence are broken by the lower probability of the given label. Indices refer to the
    original rows (unknown-label rows are skipped, not removed).
    """
    y, p = _check(y_true, probs)
    pred = p.argmax(axis=1)
    p_pred = p.max(axis=1)
    p_label = p[np.arange(len(y)), np.where(y == UNKNOWN, 0, y)]
    mask = (y != UNKNOWN) & (pred != y) & (p_label <= max_label_prob) & (p_pred >= min_pred_prob)
    rows = np.flatnonzero(mask)
    order = np.lexsort((rows, p_label[rows], -p_pred[rows]))
    return rows[order][:k]


def most_uncertain(probs: np.ndarray, k: int = 16) -> np.ndarray:
    """Indices of the k rows with the highest predictive entropy (most uncertain first; ties: lower index)."""
    entropy = predictive_entropy(probs)
    return np.argsort(-entropy, kind="stable")[:k]


# ----------------------------------------------------------------------------------------------------------
# three tasks at once


def correct_matrix(y_true: Mapping[str, np.ndarray], probs: Mapping[str, np.ndarray],
                   tasks: tuple[str, ...] = TASKS) -> np.ndarray:
    """[N, len(tasks)] float: 1.0 right, 0.0 wrong, NaN where that task's label is unknown."""
    columns = []
    for task in tasks:
        y = np.asarray(y_true[task], dtype=np.int64)
        right = (_predictions(probs[task]) == y).astype(np.float64)
        right[y == UNKNOWN] = np.nan
        columns.append(right)
    return np.stack(columns, axis=1)


def correct_count_groups(correct: np.ndarray) -> np.ndarray:
    """Per row, how many tasks are right (0..3) -- only for rows where every task is labelled, else -1.

    Rows with a missing label are excluded (-1) so that "right on all three" always means three checked
    answers, and the galleries "all three / two / one / none" compare like with like.
    """
    c = np.asarray(correct, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"correct must be [N, tasks], got shape {c.shape}")
    complete = ~np.isnan(c).any(axis=1)
    counts = np.where(complete, np.nan_to_num(c).sum(axis=1), -1)
    return counts.astype(np.int64)


def gallery_groups(correct: np.ndarray) -> dict[int, np.ndarray]:
    """{number of tasks right: row indices} over fully labelled rows, highest count first (3, 2, 1, 0)."""
    counts = correct_count_groups(correct)
    n_tasks = np.asarray(correct).shape[1]
    return {m: np.flatnonzero(counts == m) for m in range(n_tasks, -1, -1)}
