"""Train a multitask model on a dataset directory, in the style of torchvision's references/classification.

    python -m wikiart_utils train --data data/sample --variant resnet18_lstm_patch --out checkpoints/run

`--out` is a checkpoint directory: `last.pt` (everything needed to resume), `best.pt` (the epoch with the
best validation mean macro-F1 over the three tasks; weights only, no optimizer state), `history.csv` and
`curves.png`, all rewritten atomically after every epoch. Checkpoints hold only tensors and plain
Python data, so they load with `torch.load(weights_only=True)` -- the only way `load_checkpoint` reads them.

Resuming (`--resume`) continues from last.pt. On CPU with workers=0 a run split into sessions
(`stop_after`) ends with exactly the weights of the uninterrupted run: the sampler is reseeded with
seed + epoch at every epoch and all RNG states travel in the checkpoint. The learning-rate schedule
spans `epochs`, so resuming with a larger `epochs` extends the cosine from the current step instead.

Several GPUs or nodes: `torchrun --nproc_per_node=N -m wikiart_utils train ...` trains with
DistributedDataParallel (see `distributed`). `batch_size` is per process (global batch = N x batch_size,
the learning rate is not rescaled); each epoch is split among the processes by a DistributedSampler
reseeded with seed + epoch; validation is sharded and pooled, so its metrics cover the whole val set;
rank 0 alone writes the files, and its checkpoints load in one process like any other.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import pickle
import random
import re
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import f1_score
from tqdm.auto import tqdm

from . import data as wdata
from . import distributed, fsutil, labels, losses, models

FORMAT_VERSION = 1
REGIMES = {  # defaults that differ between fine-tuning ImageNet weights and training from scratch
    "pretrained": dict(lr=3e-4, backbone_lr_scale=0.1, warmup_epochs=1.0),
    "scratch": dict(lr=2e-3, backbone_lr_scale=1.0, warmup_epochs=2.0),
}


class CheckpointError(ValueError):
    """A checkpoint cannot be used; str() is a one-line reason naming the file."""


@dataclass
class TrainResult:
    out: Path
    best_epoch: int                      # 1-based epoch of best.pt (0 when no epoch has run)
    best_score: float                    # validation mean macro-F1 over the tasks
    best_metrics: dict[str, float]
    epochs_done: int
    stopped_early: bool
    history: list[dict] = field(repr=False, default_factory=list)

    @property
    def best_path(self) -> Path:
        return self.out / "best.pt"

    @property
    def last_path(self) -> Path:
        return self.out / "last.pt"

    @property
    def history_path(self) -> Path:
        return self.out / "history.csv"

    @property
    def curves_path(self) -> Path:
        return self.out / "curves.png"


# ----------------------------------------------------------------------------------------------------
# Devices, RNG, schedule

def pick_device(name: str | None = None) -> torch.device:
    """`name` if given, else CUDA > MPS > CPU."""
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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


def warmup_cosine(step: int, warmup_steps: int, total_steps: int) -> float:
    """LR factor: linear warmup from ~0 to 1, then cosine decay to 0 at `total_steps`."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def param_groups(model: models.MultitaskNet, lr: float, backbone_lr: float, weight_decay: float) -> list[dict]:
    """AdamW groups: backbone vs head (different LR) x matrices vs biases/norms (no weight decay)."""
    groups: dict[tuple[str, bool], list] = {}
    for name, p in model.named_parameters():
        groups.setdefault(("backbone" if name.startswith("backbone.") else "head", p.ndim >= 2), []).append(p)
    return [{"params": params, "name": part, "lr": backbone_lr if part == "backbone" else lr,
             "weight_decay": weight_decay if decay else 0.0}
            for (part, decay), params in sorted(groups.items())]


def set_backbone_trainable(model: models.MultitaskNet, trainable: bool) -> None:
    for p in model.backbone.parameters():
        p.requires_grad_(trainable)


# ----------------------------------------------------------------------------------------------------
# Checkpoints

def model_checkpoint(model: models.MultitaskNet, **extra) -> dict:
    """The part of a checkpoint that `load_checkpoint` needs: format, model config, vocabularies, weights."""
    return {"format_version": FORMAT_VERSION, "model_config": model.config,
            "vocab": {task: labels.vocab(task) for task in labels.TASKS}, "model": model.state_dict(), **extra}


def save_checkpoint(checkpoint: dict, path: str | Path) -> None:
    """torch.save through a temporary file, renamed into place: a crash never leaves half a file."""
    with fsutil.atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def load_checkpoint(path: str | Path, map_location: Any = "cpu") -> tuple[models.MultitaskNet, dict]:
    """(model in eval mode, checkpoint dict) from a checkpoint written by `train`.

    Reads with torch.load(weights_only=True) only, so a file carrying code (a hostile pickle) is
    refused before anything in it runs. Raises CheckpointError with a one-line reason.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with warnings.catch_warnings():  # torch warns about pickle protocols before refusing a foreign file
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            ckpt = torch.load(path, map_location=map_location, weights_only=True)
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
    try:
        model = models.build_from_config(ckpt["model_config"])
        model.load_state_dict(ckpt["model"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: model does not match its config ({str(exc).splitlines()[0]})") from None
    return model.eval(), ckpt


# ----------------------------------------------------------------------------------------------------
# Validation, history, curves

@torch.no_grad()
def validate(model: models.MultitaskNet, loader, device: torch.device, amp_dtype: torch.dtype | None = None,
             limit_batches: int | None = None, ddp: distributed.DDP | None = None) -> dict[str, float]:
    """Unweighted masked loss, per-task accuracy and macro-F1 (labelled rows only), and their mean F1.

    The loss is plain cross entropy whatever the training loss uses, so runs stay comparable.
    With `ddp`, each process passes the loader of its own shard; predictions, targets and loss sums
    are pooled over the processes, so every process returns the metrics of the whole set.
    """
    model.eval()
    criterion = losses.MultitaskLoss()
    preds: list[torch.Tensor] = []
    truth: list[torch.Tensor] = []
    total, seen = 0.0, 0
    for step, batch in enumerate(loader):
        if limit_batches is not None and step >= limit_batches:
            break
        if batch is None:
            continue
        images, targets = to_device(batch, device)
        with autocast(device, amp_dtype):
            logits = model(images)
        loss, _ = criterion(logits, targets)
        total += loss.item() * len(targets)
        seen += len(targets)
        preds.append(torch.stack([logits[t].argmax(1) for t in labels.TASKS], 1).cpu())
        truth.append(targets.cpu())
    pred = torch.cat(preds).numpy() if preds else np.zeros((0, len(labels.TASKS)), dtype=np.int64)
    true = torch.cat(truth).numpy() if truth else np.zeros((0, len(labels.TASKS)), dtype=np.int64)
    if ddp is not None:  # pool the shards: macro-F1 needs every prediction, not a mean of per-shard scores
        shards = distributed.gather((pred, true, total, seen), ddp)
        pred, true = np.concatenate([x[0] for x in shards]), np.concatenate([x[1] for x in shards])
        total, seen = sum(x[2] for x in shards), sum(x[3] for x in shards)
    metrics: dict[str, float] = {"val_loss": total / max(seen, 1)}
    f1s = []
    for i, task in enumerate(labels.TASKS):
        known = true[:, i] != labels.UNKNOWN
        if known.any():
            metrics[f"val_{task}_acc"] = float((pred[known, i] == true[known, i]).mean())
            metrics[f"val_{task}_f1"] = float(f1_score(true[known, i], pred[known, i], average="macro",
                                                       zero_division=0))
            f1s.append(metrics[f"val_{task}_f1"])
        else:
            metrics[f"val_{task}_acc"] = metrics[f"val_{task}_f1"] = float("nan")
    metrics["val_mean_f1"] = float(np.mean(f1s)) if f1s else 0.0
    return metrics


def autocast(device: torch.device, amp_dtype: torch.dtype | None):
    return torch.autocast(device.type, dtype=amp_dtype) if amp_dtype else contextlib.nullcontext()


def to_device(batch, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    images, targets = batch
    channels_last = device.type == "cuda" and images.ndim == 4  # cached tokens are 3-D
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    return (images.to(device, non_blocking=True, memory_format=memory_format),
            targets.to(device, non_blocking=True))


def plot_curves(history: list[dict]):
    """Loss, macro-F1 and accuracy per epoch as a matplotlib Figure (no pyplot: safe without a display)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(13, 3.6), layout="constrained")
    ax_loss, ax_f1, ax_acc = fig.subplots(1, 3)
    epochs = [row["epoch"] for row in history]
    ax_loss.plot(epochs, [row["train_loss"] for row in history], "o-", label="train")
    ax_loss.plot(epochs, [row["val_loss"] for row in history], "o-", label="val")
    ax_loss.set(title="loss (sum over tasks)", xlabel="epoch")
    for task in labels.TASKS:
        ax_f1.plot(epochs, [row[f"val_{task}_f1"] for row in history], "o-", label=task)
        ax_acc.plot(epochs, [row[f"val_{task}_acc"] for row in history], "o-", label=task)
    ax_f1.plot(epochs, [row["val_mean_f1"] for row in history], "k--", label="mean")
    ax_f1.set(title="validation macro-F1", xlabel="epoch", ylim=(0, 1))
    ax_acc.set(title="validation accuracy", xlabel="epoch", ylim=(0, 1))
    for ax in (ax_loss, ax_f1, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    return fig


def write_history(history: list[dict], out: Path) -> None:
    fsutil.atomic_write_text(out / "history.csv", pd.DataFrame(history).to_csv(index=False))
    fig = plot_curves(history)
    with fsutil.atomic_path(out / "curves.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)


# ----------------------------------------------------------------------------------------------------
# Training

@distributed.launched  # under torchrun (WORLD_SIZE > 1): one process group for the call, closed at the end
def train(data: str | Path, variant: str = "resnet18_lstm_patch", out: str | Path = "checkpoints/run",
          epochs: int = 10, image_size: int = 224, batch_size: int = 32, lr: float | None = None,
          pretrained: bool = True, freeze_backbone: bool | int = False, resume: bool = False, seed: int = 0,
          workers: int | None = None, *, backbone_lr_scale: float | None = None, weight_decay: float = 0.05,
          warmup_epochs: float | None = None, patience: int = 5, grad_clip: float = 1.0,
          label_smoothing: float = 0.0, class_weights: bool = False, logit_adjust: float = 0.0,
          model_options: dict | None = None, device: str | None = None, amp: bool = True, compile: bool = False,
          limit_batches: int | None = None, stop_after: int | None = None, overwrite: bool = False,
          progress: bool = True, unknown_as_class: str | None = None, cached_features: bool = False) -> TrainResult:
    """Train `variant` on `data` (a directory with metadata.csv) and write checkpoints into `out`.

    lr/backbone_lr_scale/warmup_epochs default by regime: fine-tuning pretrained weights uses lr 3e-4
    for the heads and 0.1x for the backbone; from scratch lr 2e-3 everywhere with a longer warmup.
    freeze_backbone: True freezes it for the whole run (train the heads only), an int K for the first
    K epochs (then it trains at the backbone LR). patience: epochs without a better validation mean
    macro-F1 before stopping (0 = never). class_weights: effective-number class weights from the
    training counts; logit_adjust: tau for the logit-adjusted loss (0 = off). limit_batches: cap
    batches per epoch (smoke runs). stop_after: end this call after that many epochs, as if
    interrupted; continue later with resume=True. cached_features: keep the backbone frozen and train
    the head on its cached tokens (`features.train_cached`): many times faster per epoch, no augmentation.
    compile: run the training and validation forward through `torch.compile` (fused kernels: faster steps
    on a GPU after a slow first one); checkpoints still hold the plain model's weights. Not used with
    cached_features. Under torchrun it trains with DistributedDataParallel (module docstring): `batch_size`
    per process.
    """
    ddp = distributed.current()  # None: one process, as always
    if cached_features and ddp is not None:
        raise ValueError("--cached-features trains in one process: run it without torchrun")
    if cached_features:  # frozen backbone: run it once per split, then train only the LSTM and heads
        from . import features
        return features.train_cached(data, variant, out, epochs=epochs, image_size=image_size,
                                     batch_size=batch_size, lr=lr, pretrained=pretrained, seed=seed,
                                     workers=workers, weight_decay=weight_decay, patience=patience,
                                     model_options=model_options, device=device, overwrite=overwrite or resume,
                                     progress=progress)
    out = Path(out)
    last_path = out / "last.pt"
    if last_path.exists() and not (resume or overwrite):
        raise FileExistsError(f"{out} already holds a run (last.pt): pass --resume to continue it, "
                              f"--overwrite to start again, or choose another --out")
    regime = REGIMES["pretrained" if pretrained else "scratch"]
    lr = regime["lr"] if lr is None else lr
    backbone_lr_scale = regime["backbone_lr_scale"] if backbone_lr_scale is None else backbone_lr_scale
    warmup_epochs = regime["warmup_epochs"] if warmup_epochs is None else warmup_epochs
    freeze_epochs = epochs if freeze_backbone is True else int(freeze_backbone)
    args = dict(data=str(data), variant=variant, epochs=epochs, image_size=image_size, batch_size=batch_size,
                lr=lr, backbone_lr_scale=backbone_lr_scale, weight_decay=weight_decay,
                warmup_epochs=warmup_epochs, pretrained=pretrained, freeze_epochs=freeze_epochs, seed=seed,
                patience=patience, grad_clip=grad_clip, label_smoothing=label_smoothing,
                class_weights=class_weights, logit_adjust=logit_adjust, model_options=dict(model_options or {}),
                unknown_as_class=unknown_as_class)
    main = ddp is None or ddp.main  # only rank 0 prints and writes files
    say = tqdm.write if main else (lambda *_, **__: None)
    progress = progress and main and not os.environ.get("TQDM_DISABLE")  # honour tqdm's own switch (nbval runs)

    # device and precision
    dev = pick_device(device)
    if ddp is not None:
        dev = distributed.device_for(ddp, dev)
    amp_dtype = None
    if amp and dev.type == "cuda":
        amp_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    seed_everything(seed + (ddp.rank if ddp else 0))  # DDP copies rank 0's initial weights to the others

    # data
    train_set = wdata.WikiArtDataset(data, "train", image_size, unknown_artist_as=unknown_as_class)
    val_set = wdata.WikiArtDataset(data, "val", image_size, unknown_artist_as=unknown_as_class)
    if not len(train_set) or not len(val_set):
        raise ValueError(f"{data}: metadata.csv has {len(train_set)} train and {len(val_set)} val images; "
                         f"training needs both")
    if ddp is None:
        train_sampler, val_shard, train_shard = None, None, len(train_set)
    else:  # an equal share of each epoch per process (padded by repeats); val split exactly, no repeats
        train_sampler = torch.utils.data.DistributedSampler(train_set, ddp.world_size, ddp.rank, shuffle=True,
                                                            seed=seed)
        val_shard, train_shard = range(ddp.rank, len(val_set), ddp.world_size), len(train_sampler)
    train_loader = wdata.make_loader(train_set, batch_size, shuffle=True, workers=workers, seed=seed,
                                     drop_last=train_shard > batch_size, sampler=train_sampler)
    val_loader = wdata.make_loader(val_set, batch_size, shuffle=False, workers=workers, seed=seed,
                                   sampler=val_shard)
    steps_per_epoch = len(train_loader) if limit_batches is None else min(len(train_loader), limit_batches)

    # model, or the run to resume
    if main and out.is_dir():  # temporary files of saves that kill -9 cut short: never read, only litter
        for part in out.glob(".*.part"):
            if part.name.split(".")[1] in ("last", "best", "history", "curves"):
                part.unlink(missing_ok=True)
    ckpt = None
    if resume and last_path.is_file():
        model, ckpt = load_checkpoint(last_path)
        config = ckpt["model_config"]
        if (config["variant"], config["image_size"]) != (variant, image_size):
            raise CheckpointError(f"{last_path}: --resume of a {config['variant']} run at {config['image_size']} px, "
                                  f"but asked for {variant} at {image_size} px")
    else:
        if resume:
            say(f"no {last_path} to resume: starting a new run")
        for name in ("last.pt", "best.pt", "history.csv", "curves.png"):  # never mix two runs' files
            if main:
                (out / name).unlink(missing_ok=True)
        model = models.build_model(variant, pretrained=pretrained, image_size=image_size, **(model_options or {}))
    model.to(dev)
    if dev.type == "cuda":
        model.to(memory_format=torch.channels_last)

    # loss
    counts = losses.class_counts(train_set.targets)
    criterion = losses.MultitaskLoss(
        class_weights={t: losses.class_balanced_weights(c) for t, c in counts.items()} if class_weights else None,
        label_smoothing=label_smoothing,
        logit_adjustment={t: losses.log_priors(c) for t, c in counts.items()} if logit_adjust else None,
        tau=logit_adjust,
    ).to(dev)

    # optimizer and per-step schedule
    total_steps = epochs * steps_per_epoch
    warmup_steps = min(round(warmup_epochs * steps_per_epoch), total_steps // 2)
    optimizer = torch.optim.AdamW(param_groups(model, lr, lr * backbone_lr_scale, weight_decay), lr=lr,
                                  fused=dev.type == "cuda")  # one kernel for all tensors, as bench gpu times it
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, warmup_steps, total_steps))

    # training state
    start_epoch, history, stopped = 0, [], False
    best = {"epoch": 0, "score": -math.inf, "metrics": {}}
    since_best = 0
    if ckpt is not None:
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        if ckpt["scaler"] is not None:
            scaler.load_state_dict(ckpt["scaler"])
        start_epoch, history, best = ckpt["epoch"], list(ckpt["history"]), dict(ckpt["best"])
        since_best, stopped = ckpt["since_best"], ckpt["stopped_early"]
        set_rng_state(ckpt["rng"])  # rank 0's: the other ranks draw their own streams again
        if ddp is not None and not ddp.main:
            seed_everything(seed + ddp.rank + 1_000_003 * start_epoch)
        say(f"resuming {variant} from {last_path} after epoch {start_epoch}")
        changed = [f"{k} {v!r} -> {args[k]!r}" for k, v in ckpt["train_args"].items()
                   if k not in ("data", "epochs") and args.get(k) != v]
        if changed:
            say(f"warning: resuming with other settings than the saved run ({'; '.join(changed)}): "
                f"the result will differ from an uninterrupted run")
        if stopped:
            say(f"{last_path}: that run stopped early at epoch {start_epoch}; nothing to do")

    # what the steps call: the model, or its compiled / DDP-wrapped forms; `model` itself is what is saved
    evaluator = torch.compile(model) if compile else model  # validation runs outside DDP, as rank 0's model
    net = evaluator
    if ddp is not None:  # wrap while every weight trains; a frozen backbone then leaves its weights unused
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[dev.index] if dev.type == "cuda" else None,
            find_unused_parameters=start_epoch < freeze_epochs)
        net = torch.compile(net) if compile else net  # compile the DDP wrapper: graphs split at its buckets
        distributed.barrier(ddp)  # every rank has read last.pt before rank 0 may rewrite it

    def checkpoint(epoch: int, metrics: dict, full: bool) -> dict:
        return model_checkpoint(
            model, epoch=epoch, metrics=metrics, best=best, train_args=args, history=history,
            since_best=since_best, stopped_early=stopped,
            # resume state only in last.pt: best.pt is for inference (an AdamW state is 2x the model)
            optimizer=optimizer.state_dict() if full else None,
            scheduler=scheduler.state_dict() if full else None,
            scaler=scaler.state_dict() if full and scaler.is_enabled() else None,
            rng=rng_state() if full else None,
        )

    say(f"training {variant} on {dev} ({'pretrained' if pretrained else 'from scratch'}, {image_size} px, "
        f"{len(train_set)} train / {len(val_set)} val images, {steps_per_epoch} steps/epoch"
        f"{', ' + str(amp_dtype).removeprefix('torch.') if amp_dtype else ''}"
        f"{f', DDP over {ddp.world_size} processes of batch {batch_size}' if ddp else ''})")
    if start_epoch >= epochs:
        say(f"{last_path} already holds {start_epoch} epochs: nothing to do (raise --epochs to train longer)")
    for epoch in range(start_epoch, epochs):
        if stopped or (stop_after is not None and epoch >= start_epoch + stop_after):
            break
        t0 = time.time()
        frozen = epoch < freeze_epochs
        set_backbone_trainable(model, not frozen)
        model.train()
        if frozen:
            model.backbone.eval()  # keep BatchNorm statistics of the frozen backbone as they are
        train_loader.generator.manual_seed(seed + epoch)  # same order whether resumed or not
        if ddp is not None:
            train_sampler.set_epoch(epoch)  # the sampler's order: seed + epoch, as above
            train_loader.generator.manual_seed(seed + epoch + 1_000_003 * ddp.rank)  # own augmentation per rank
        running = torch.zeros((), device=dev)
        n_steps = 0
        bar = tqdm(train_loader, total=steps_per_epoch, desc=f"epoch {epoch + 1}/{epochs}",
                   disable=not progress, leave=False)
        for step, batch in enumerate(bar):
            if step >= steps_per_epoch:
                break
            blank = batch is None and ddp is not None  # no image decoded, but the others all-reduce: join them
            if blank:
                batch = distributed.blank_batch(image_size)
                model.eval()  # keep BatchNorm statistics out of it
            if batch is not None:
                images, targets = to_device(batch, dev)
                with autocast(dev, amp_dtype):
                    logits = net(images)
                loss, _ = criterion(logits, targets)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if grad_clip:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                scaler.step(optimizer)
                scaler.update()
                running += loss.detach()
                n_steps += not blank
                if progress and step % 10 == 0:
                    bar.set_postfix(loss=f"{loss.item():.3f}")
            if blank:
                model.train()
                if frozen:
                    model.backbone.eval()
            scheduler.step()  # per step, even over an empty batch: the schedule follows the step count
        bar.close()

        if ddp is None:
            train_loss = (running / max(n_steps, 1)).item()
        else:  # mean over every process's steps; validate rank 0's model (the one it saves) everywhere
            running, n_steps = distributed.sum_over_ranks(torch.stack([running, torch.tensor(
                float(n_steps), device=dev)]), ddp).tolist()
            train_loss = running / max(n_steps, 1)
            distributed.broadcast_buffers(model, ddp)
        metrics = {"train_loss": train_loss, **validate(evaluator, val_loader, dev, amp_dtype, limit_batches, ddp)}
        lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
        row = {"epoch": epoch + 1, **metrics, "lr": lrs.get("head", lr), "backbone_lr": lrs.get("backbone", 0.0),
               "frozen_backbone": frozen, "seconds": round(time.time() - t0, 2)}
        history.append(row)
        improved = metrics["val_mean_f1"] > best["score"]
        if improved:
            best, since_best = {"epoch": epoch + 1, "score": metrics["val_mean_f1"], "metrics": metrics}, 0
        else:
            since_best += 1
        stopped = bool(patience) and since_best >= patience and epoch + 1 < epochs
        if main:
            if improved:
                save_checkpoint(checkpoint(epoch + 1, metrics, full=False), out / "best.pt")
            save_checkpoint(checkpoint(epoch + 1, metrics, full=True), last_path)
            write_history(history, out)
        distributed.barrier(ddp)  # the files are complete before any rank goes on (or ends)
        say(f"epoch {epoch + 1}/{epochs}  train loss {metrics['train_loss']:.3f}  val loss {metrics['val_loss']:.3f}  "
            + "  ".join(f"{t} F1 {metrics[f'val_{t}_f1']:.3f}" for t in labels.TASKS)
            + f"  ({row['seconds']:.0f}s){'  *best' if improved else ''}")
        if stopped:
            say(f"early stop: no better validation mean macro-F1 for {patience} epochs (best epoch {best['epoch']})")

    return TrainResult(out=out, best_epoch=best["epoch"], best_score=best["score"], best_metrics=best["metrics"],
                       epochs_done=len(history), stopped_early=stopped, history=history)


# ----------------------------------------------------------------------------------------------------
# Command line

def add_train_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The `train` sub-command's flags; each mirrors an argument of `train`."""
    p = parser
    p.add_argument("--data", required=True, help="dataset directory with metadata.csv")
    p.add_argument("--variant", default="resnet18_lstm_patch", choices=models.variant_names())
    p.add_argument("--out", required=True, help="checkpoint directory (best.pt, last.pt, history.csv, curves.png)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=None, help="head LR (default 3e-4 pretrained, 2e-3 from scratch)")
    p.add_argument("--backbone-lr-scale", type=float, default=None,
                   help="backbone LR = lr x this (default 0.1 pretrained, 1 from scratch)")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-epochs", type=float, default=None, help="default 1 pretrained, 2 from scratch")
    p.add_argument("--no-pretrained", dest="pretrained", action="store_false",
                   help="random initialisation instead of ImageNet weights (no download)")
    p.add_argument("--freeze-backbone", type=int, nargs="?", const=True, default=False, metavar="EPOCHS",
                   help="train only the LSTM and heads (for the first EPOCHS epochs if given)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from last.pt")
    p.add_argument("--overwrite", action="store_true", help="start again even if --out holds a run")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=None, help="DataLoader workers (default: CPUs - 1, at most 8)")
    p.add_argument("--patience", type=int, default=5, help="early-stopping patience in epochs (0 = off)")
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--class-weights", action="store_true", help="effective-number class weights in the loss")
    p.add_argument("--logit-adjust", type=float, default=0.0, metavar="TAU", help="logit-adjusted loss (0 = off)")
    p.add_argument("--lstm-layers", type=int, default=None)
    p.add_argument("--hidden-size", type=int, default=None)
    p.add_argument("--bidirectional", action="store_true", default=None)
    p.add_argument("--readout", choices=models.READOUTS, default=None)
    p.add_argument("--dropout", type=float, default=None)
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--no-amp", dest="amp", action="store_false", help="full precision on CUDA")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model for the steps (GPU: faster steps after a slow first one)")
    p.add_argument("--limit-batches", type=int, default=None, help="at most this many batches per epoch")
    p.add_argument("--stop-after", type=int, default=None, metavar="EPOCHS",
                   help="end after this many epochs in this session (continue later with --resume)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.add_argument("--cached-features", action="store_true",
                   help="frozen backbone: cache its tokens once per split, then train the LSTM and heads on them")
    p.add_argument("--unknown-as-class", default=None, metavar="ARTIST",
                   help="older convention, to measure its effect: train unknown artists as this artist")
    return p


def run_from_args(args: argparse.Namespace) -> TrainResult:
    options = {k: getattr(args, k) for k in models.DEFAULT_OPTIONS if getattr(args, k, None) is not None}
    result = train(
        args.data, args.variant, args.out, args.epochs, args.image_size, args.batch_size, args.lr,
        args.pretrained, args.freeze_backbone, args.resume, args.seed, args.workers,
        backbone_lr_scale=args.backbone_lr_scale, weight_decay=args.weight_decay,
        warmup_epochs=args.warmup_epochs, patience=args.patience, grad_clip=args.grad_clip,
        label_smoothing=args.label_smoothing, class_weights=args.class_weights, logit_adjust=args.logit_adjust,
        model_options=options, device=args.device, amp=args.amp, compile=args.compile,
        limit_batches=args.limit_batches, stop_after=args.stop_after, overwrite=args.overwrite, progress=args.progress,
        unknown_as_class=args.unknown_as_class, cached_features=args.cached_features)
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, once
        print(f"best epoch {result.best_epoch}: val mean macro-F1 {result.best_score:.3f} -> {result.best_path}")
    return result


def register_cli(subparsers) -> None:
    """Hook for `python -m wikiart_utils train` (cli.py registers the subcommands it finds)."""
    parser = subparsers.add_parser("train", help="train a multitask model; writes checkpoints into --out",
                                   description=__doc__.split("\n\n")[0])
    add_train_arguments(parser)
    parser.set_defaults(func=run_from_args)
