"""Train a multitask model on a dataset directory, in the style of torchvision's references/classification.

    python -m wikiart_utils train --data data/real-sample --variant resnet18_lstm_patch --out checkpoints/run

`train` composes the two functions of `engine` -- `train_one_epoch` and `evaluate` -- with what a real run
needs around them: the model (or the run to resume), the loaders, the loss, AdamW with warm-up and cosine
decay, checkpoints after every epoch, and early stopping on the validation mean macro-F1.

`--out` is a checkpoint directory: `last.pt` (everything needed to resume), `best.pt` (the epoch with the
best validation mean macro-F1 over the three tasks; weights only), `history.csv` and `curves.png`, all
rewritten atomically after every epoch (format: `checkpoint`).

Two ways to feed the model, one loop: images through the whole model, or -- with a frozen backbone and
`cached_features` -- the backbone's tokens, computed once per split (`features`), through `model.head`.
Every loss option, clipping, resuming and early stopping behave the same on both.

Resuming (`resume`) continues from last.pt after its last finished epoch, and says so. On CPU with
workers=0 a run split into sessions (`stop_after`) ends with exactly the weights of the uninterrupted run:
the shuffling is reseeded with seed + epoch at every epoch and all RNG states travel in the checkpoint.

Several GPUs: `torchrun --nproc_per_node=N -m wikiart_utils train ...` trains with DistributedDataParallel
(`distributed`): `batch_size` is per process, rank 0 alone writes files, validation covers the whole set.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from . import checkpoint, distributed, engine, features, fsutil, gpu_input, labels, losses, models, runtime
from . import data as wdata

EQUAL = {"artist": 1.0, "genre": 1.0, "style": 1.0}
REGIMES = {  # defaults that differ between fine-tuning ImageNet weights and training from scratch
    "pretrained": dict(lr=3e-4, backbone_lr_scale=0.1, warmup_epochs=1.0, task_weights=EQUAL),
    # end to end from scratch: 2e-3 cost 2-4 points on every task on real paintings (benchmarks/RESULTS.md r22-r27);
    # artist and genre at half weight: resnet18_gap style +1 point on two seeds, the others unchanged (r32-r35)
    "scratch": dict(lr=2.5e-4, backbone_lr_scale=1.0, warmup_epochs=2.0,
                    task_weights={"artist": 0.5, "genre": 0.5, "style": 1.0}),
    # a random backbone frozen for the whole run (VGG-16 / ViT-B/16 on a CPU): only the heads learn
    "scratch_heads": dict(lr=2e-3, backbone_lr_scale=1.0, warmup_epochs=2.0, task_weights=EQUAL),
}
RUN_FILES = ("last.pt", "best.pt", "history.csv", "curves.png")


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
# The optimizer and its schedule

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


def make_optimizer(model: models.MultitaskNet, args: dict, steps_per_epoch: int, device: torch.device):
    """AdamW over `param_groups` and a per-step warm-up + cosine schedule spanning all epochs."""
    total_steps = args["epochs"] * steps_per_epoch
    warmup_steps = min(round(args["warmup_epochs"] * steps_per_epoch), total_steps // 2)
    groups = param_groups(model, args["lr"], args["lr"] * args["backbone_lr_scale"], args["weight_decay"])
    optimizer = torch.optim.AdamW(groups, lr=args["lr"], fused=device.type == "cuda")
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, warmup_steps, total_steps))
    return optimizer, scheduler


# ----------------------------------------------------------------------------------------------------
# History and curves

def _weights_words(task_weights: dict | None) -> str:
    if task_weights is None:
        return "weighted by the run's task weights"
    return "weighted: " + ", ".join(f"{t} {float(task_weights.get(t, 1.0)):g}" for t in labels.TASKS)


def plot_curves(history: list[dict], baselines: dict[str, float] | None = None,
                task_weights: dict | None = None):
    """Training loss, validation loss, macro-F1 and accuracy per epoch as a matplotlib Figure (no pyplot).

    The two losses get separate panels because they are not the same number: the training loss is the
    loss the optimizer minimised -- the sum over tasks with the run's `task_weights` (from scratch artist
    and genre count half), on augmented images with dropout on -- while the validation loss is the
    unweighted sum (`engine.evaluate`), so runs stay comparable. `baselines` (task -> accuracy of always
    answering the most frequent training class, on the labelled validation rows) are drawn as dashed
    lines in each task's colour: a curve under its line has learned less than the majority class.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(15, 3.6), layout="constrained")
    ax_train, ax_val, ax_f1, ax_acc = fig.subplots(1, 4)
    epochs = [row["epoch"] for row in history]
    ax_train.plot(epochs, [row["train_loss"] for row in history], "o-", color="C7", label="train")
    ax_train.set(title=f"training loss\n({_weights_words(task_weights)})", xlabel="epoch")
    ax_val.plot(epochs, [row["val_loss"] for row in history], "o-", color="k", label="validation")
    ax_val.set(title="validation loss\n(unweighted sum over tasks)", xlabel="epoch")
    for i, task in enumerate(labels.TASKS):
        ax_f1.plot(epochs, [row[f"val_{task}_f1"] for row in history], "o-", color=f"C{i}", label=task)
        ax_acc.plot(epochs, [row[f"val_{task}_acc"] for row in history], "o-", color=f"C{i}", label=task)
        if baselines and task in baselines:
            ax_acc.axhline(baselines[task], color=f"C{i}", ls="--", lw=1.2)
    ax_f1.plot(epochs, [row["val_mean_f1"] for row in history], "k--", label="mean")
    ax_f1.set(title="validation macro-F1", xlabel="epoch", ylim=(0, 1))
    ax_acc.set(title="validation accuracy" + ("\n(dashed: majority baseline)" if baselines else ""),
               xlabel="epoch", ylim=(0, 1))
    for ax in (ax_train, ax_val, ax_f1, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        handles = ax.get_legend_handles_labels()[0]
        if ax is ax_acc and baselines:
            handles.append(Line2D([], [], color="grey", ls="--", label="majority baseline"))
        ax.legend(handles=handles, fontsize=8)
    return fig


def write_history(history: list[dict], out: Path, baselines: dict[str, float] | None = None,
                  task_weights: dict | None = None) -> None:
    """history.csv and curves.png in `out`, each written atomically (a reader never sees half a file);
    `baselines` and `task_weights` as in `plot_curves` (optional: without them no dashed lines)."""
    fsutil.atomic_write_text(out / "history.csv", pd.DataFrame(history).to_csv(index=False))
    fig = plot_curves(history, baselines, task_weights)
    with fsutil.atomic_path(out / "curves.png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)


def epoch_line(row: dict, epochs: int, improved: bool) -> str:
    """One log line per epoch; a task with no labelled validation row shows '—', not nan."""
    def f1(task: str) -> str:
        value = row[f"val_{task}_f1"]
        return "—" if math.isnan(value) else f"{value:.3f}"
    return (f"epoch {row['epoch']}/{epochs}  train loss {row['train_loss']:.3f}  val loss {row['val_loss']:.3f}  "
            + "  ".join(f"{t} F1 {f1(t)}" for t in labels.TASKS)
            + f"  ({row['seconds']:.0f}s){'  *best' if improved else ''}")


# ----------------------------------------------------------------------------------------------------
# Setting a run up

def resolve_settings(options: dict) -> dict:
    """The run's settings as saved in its checkpoints: regime defaults filled in, paths as strings."""
    args = dict(options)
    freeze = args.pop("freeze_backbone")
    args["freeze_epochs"] = args["epochs"] if freeze is True else int(freeze)
    heads_only = args["freeze_epochs"] >= args["epochs"]
    regime = REGIMES["pretrained" if args["pretrained"] else "scratch_heads" if heads_only else "scratch"]
    for key in ("lr", "backbone_lr_scale", "warmup_epochs", "task_weights"):
        args[key] = regime[key] if args[key] is None else args[key]
    if args["cached_features"] and args["freeze_epochs"] < args["epochs"]:
        raise ValueError("--cached-features trains on the tokens of a frozen backbone: freeze it for the whole "
                         "run (--freeze-backbone without a number)")
    if args["unknown_as_class"] and args["unknown_as_class"] not in labels.vocab("artist"):
        raise ValueError(f"--unknown-as-class {args['unknown_as_class']!r} is not one of the 128 artists")
    args["data"], args["model_options"] = str(args["data"]), dict(args["model_options"] or {})
    for key in ("out", "resume", "overwrite", "device", "workers", "progress", "stop_after"):  # not "decode":
        args.pop(key)  # how this session runs, not what the run is
    return args


def settings_of(train_args: dict) -> dict:
    """The keyword arguments of `train` that repeat a run, from the `train_args` saved in its checkpoints
    (everything but the data and the variant, which are `train`'s first arguments)."""
    kwargs = {k: v for k, v in train_args.items() if k not in ("data", "variant", "freeze_epochs")}
    freeze = train_args["freeze_epochs"]
    kwargs["freeze_backbone"] = True if freeze >= train_args["epochs"] else freeze
    return kwargs


def open_run_dir(out: Path, resume: bool, overwrite: bool, main: bool) -> None:
    """Refuse to mix two runs' files; clear temporary files of saves cut short by kill -9."""
    if (out / "last.pt").exists() and not (resume or overwrite):
        raise FileExistsError(f"{out} already holds a run (last.pt): pass --resume to continue it, "
                              f"--overwrite to start again, or choose another --out")
    if main and out.is_dir():
        for part in out.glob(".*.part"):
            if part.name.split(".")[1] in ("last", "best", "history", "curves"):
                part.unlink(missing_ok=True)
        if not (resume and (out / "last.pt").exists()):
            for name in RUN_FILES:
                (out / name).unlink(missing_ok=True)


def build_or_resume(out: Path, args: dict, resume: bool, say) -> tuple[models.MultitaskNet, dict | None]:
    """A fresh model, or the model and checkpoint of last.pt when resuming the same variant and size."""
    last = out / "last.pt"
    if resume and last.is_file():
        model, ckpt = checkpoint.load(last)
        config = ckpt["model_config"]
        if (config["variant"], config["image_size"]) != (args["variant"], args["image_size"]):
            raise checkpoint.CheckpointError(
                f"{last}: --resume of a {config['variant']} run at {config['image_size']} px, "
                f"but asked for {args['variant']} at {args['image_size']} px")
        if "optimizer" not in ckpt:
            raise checkpoint.CheckpointError(f"{last}: holds no optimizer state (not a last.pt of train): "
                                             f"start a new run with --overwrite")
        return model, ckpt
    if resume:
        say(f"no {last} to resume: starting a new run")
    return models.build_model(args["variant"], pretrained=args["pretrained"], image_size=args["image_size"],
                              **args["model_options"]), None


@dataclass
class Feeds:
    """What the loop is fed and what it steps: images through the whole model, or cached tokens through
    `model.head` (`features.HeadOnly`). `set_epoch` reseeds the shuffling (and augmentation) of an epoch."""
    train_loader: Any
    val_loader: Any
    net: torch.nn.Module
    train_targets: torch.Tensor
    set_epoch: Any


def make_feeds(model: models.MultitaskNet, args: dict, out: Path, dev: torch.device, workers: int | None,
               ddp: distributed.DDP | None, progress: bool) -> Feeds:
    size, batch, seed = args["image_size"], args["batch_size"], args["seed"]
    cached = args["cached_features"]  # a cache holds one view of each painting: the eval transform
    augment = None if cached else wdata.train_transform(size, args["crop_scale"], args["color_jitter"])
    train_set = wdata.WikiArtDataset(args["data"], "train", size, transform=augment, train=not cached,
                                     limit=args["train_limit"])
    val_set = wdata.WikiArtDataset(args["data"], "val", size)
    if not len(train_set) or not len(val_set):
        raise ValueError(f"{args['data']}: metadata.csv has {len(train_set)} train and {len(val_set)} val images; "
                         f"training needs both")
    folded = args["unknown_as_class"]
    for dataset in (train_set, val_set):  # the older convention, only where it is measured
        dataset.targets = labels.fold_unknown_artists(dataset.targets, folded) if folded else dataset.targets
    if cached:
        caches = [features.cached_split(model, dataset, out / "features" / name, dev, workers or 0, progress)
                  for name, dataset in (("train", train_set), ("val", val_set))]
        for cache, dataset in zip(caches, (train_set, val_set)):
            cache.targets = dataset.targets[torch.from_numpy(cache.rows)]  # --unknown-as-class applies here too
        train_loader = caches[0].loader(batch, shuffle=True, seed=seed, drop_last=len(caches[0]) > batch)
        return Feeds(train_loader, caches[1].loader(batch), features.HeadOnly(model), train_set.targets,
                     train_loader.set_epoch)
    sampler, val_rows, shard = None, None, len(train_set)
    if ddp is not None:  # an equal share of each epoch per process (padded by repeats); val split exactly
        sampler = torch.utils.data.DistributedSampler(train_set, ddp.world_size, ddp.rank, shuffle=True, seed=seed)
        val_rows, shard = range(ddp.rank, len(val_set), ddp.world_size), len(sampler)
    common = dict(workers=workers, seed=seed, device=dev, decode=args["decode"])
    train_loader = gpu_input.image_loader(train_set, batch, shuffle=True, drop_last=shard > batch, sampler=sampler,
                                          train=True, crop_scale=args["crop_scale"],
                                          color_jitter=args["color_jitter"], **common)
    val_loader = gpu_input.image_loader(val_set, batch, sampler=val_rows, **common)

    def set_epoch(epoch: int) -> None:  # the same order whether resumed or not; own augmentation per rank
        train_loader.generator.manual_seed(seed + epoch + (1_000_003 * ddp.rank if ddp else 0))
        if sampler is not None:
            sampler.set_epoch(epoch)
    loader = distributed.NoEmptyBatches(train_loader, size) if ddp is not None else train_loader
    return Feeds(loader, val_loader, model, train_set.targets, set_epoch)


def wrap_for_steps(net: torch.nn.Module, ddp: distributed.DDP | None, compile: bool, dev: torch.device,
                   frozen_at_start: bool) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(what the training steps call, what validation calls): compiled and/or DDP-wrapped forms of `net`.
    The plain model is what is saved; validation runs outside DDP, as rank 0's model. DDP is built while
    every weight requires grad: it only ever synchronises the parameters that did when it was wrapped."""
    evaluator = torch.compile(net) if compile else net
    if ddp is None:
        return evaluator, evaluator
    wrapped = torch.nn.parallel.DistributedDataParallel(  # a frozen backbone leaves its weights unused
        net, device_ids=[dev.index] if dev.type == "cuda" else None, find_unused_parameters=frozen_at_start)
    return (torch.compile(wrapped) if compile else wrapped), evaluator


# ----------------------------------------------------------------------------------------------------
# The run

@dataclass
class Progress:
    """The run's state between epochs, saved in last.pt: epochs done, history, best epoch, early stopping."""
    epoch: int = 0
    history: list = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"epoch": 0, "score": -math.inf, "metrics": {}})
    since_best: int = 0
    stopped: bool = False

    def record(self, row: dict, patience: int, epochs: int) -> bool:
        """Add an epoch's row; returns whether it is the best so far (and sets `stopped` for early stopping)."""
        self.epoch = row["epoch"]
        self.history.append(row)
        improved = row["val_mean_f1"] > self.best["score"]
        if improved:
            self.best, self.since_best = {"epoch": row["epoch"], "score": row["val_mean_f1"], "metrics": row}, 0
        else:
            self.since_best += 1
        self.stopped = bool(patience) and self.since_best >= patience and self.epoch < epochs
        return improved


def restore(ckpt: dict, optimizer, scheduler, scaler, args: dict, say) -> Progress:
    """Optimizer, schedule, scaler, RNG and progress from last.pt; says what differs from the saved run."""
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    if ckpt.get("scaler") is not None:
        scaler.load_state_dict(ckpt["scaler"])
    runtime.set_rng_state(ckpt["rng"])
    state = Progress(ckpt["epoch"], list(ckpt["history"]), dict(ckpt["best"]), ckpt["since_best"],
                     ckpt["stopped_early"])
    say(f"resuming {args['variant']} after epoch {state.epoch} of {ckpt['train_args'].get('epochs')} "
        f"(best so far: epoch {state.best['epoch']}, val mean macro-F1 {state.best['score']:.3f})")
    changed = [f"{k} {v!r} -> {args.get(k)!r}" for k, v in ckpt["train_args"].items()
               if k not in ("data", "epochs") and args.get(k) != v]
    if changed:
        say(f"warning: resuming with other settings than the saved run ({'; '.join(changed)}): "
            f"the result will differ from an uninterrupted run")
    return state


@distributed.launched  # under torchrun (WORLD_SIZE > 1): one process group for the call, closed at the end
def train(data: str | Path, variant: str = "resnet18_lstm_patch", out: str | Path = "checkpoints/run", *,
          epochs: int = 10, image_size: int = 224, batch_size: int = 32, lr: float | None = None,
          pretrained: bool = True, freeze_backbone: bool | int = False, cached_features: bool = False,
          backbone_lr_scale: float | None = None, weight_decay: float = 0.05, warmup_epochs: float | None = None,
          crop_scale: float = wdata.CROP_SCALE, color_jitter: float = wdata.COLOR_JITTER,
          grad_clip: float = 0.0, label_smoothing: float = 0.0, class_weights: bool = False,
          logit_adjust: float = 0.0, task_weights: dict | None = None, model_options: dict | None = None,
          unknown_as_class: str | None = None,
          train_limit: int | None = None, patience: int = 5, seed: int = 0, resume: bool = False,
          overwrite: bool = False, stop_after: int | None = None, limit_batches: int | None = None,
          device: str | None = None, amp: bool = True, compile: bool = False, decode: str = "auto",
          workers: int | None = None, progress: bool = True) -> TrainResult:
    """Train `variant` on `data` (a directory with metadata.csv) and write checkpoints into `out`.

    lr / backbone_lr_scale / warmup_epochs / task_weights default by regime (`REGIMES`): fine-tuning pretrained
    weights uses lr 3e-4 for the heads, 0.1x for the backbone; from scratch 2.5e-4 with artist and genre at half
    weight (2e-3, equal weights for heads alone). freeze_backbone: True for the whole run, an int K for the first K
    epochs. cached_features: with the backbone frozen for the whole run, train the head on its tokens, computed once.
    crop_scale / color_jitter: training augmentation (random crops of crop_scale-100%, brightness/contrast).
    grad_clip: clip the gradient norm (0 = off: clipping at 1.0 cost ~2 points of style accuracy on real
    paintings from scratch; benchmarks/RESULTS.md).
    task_weights / class_weights / label_smoothing / logit_adjust: the loss (`losses.build_criterion`). unknown_as_class:
    the older convention, to measure it. train_limit: a style-stratified part of the train split.
    patience: epochs without a better validation mean macro-F1 before stopping (0 = never).
    stop_after: end this session after that many epochs; continue later with resume=True.
    decode: where JPEGs are decoded and augmented -- 'gpu' (nvJPEG, augmentation on the GPU: `gpu_input`),
    'cpu' (in the DataLoader workers), 'auto' (gpu on CUDA with few workers: `gpu_input.use_gpu`).
    """
    args = resolve_settings(locals())
    out = Path(out)
    ddp = distributed.current()  # None: one process, as always
    if cached_features and ddp is not None:
        raise ValueError("--cached-features trains in one process: run it without torchrun")
    main = ddp is None or ddp.main  # only rank 0 prints and writes files
    say = tqdm.write if main else (lambda *_, **__: None)
    progress = progress and main and not os.environ.get("TQDM_DISABLE")
    open_run_dir(out, resume, overwrite, main)

    dev = runtime.pick_device(device) if ddp is None else distributed.device_for(ddp, runtime.pick_device(device))
    amp_dtype, scaler = runtime.precision(dev, amp)
    runtime.seed_everything(seed + (ddp.rank if ddp else 0))  # DDP copies rank 0's initial weights to the others
    model, ckpt = build_or_resume(out, args, resume, say)
    model.to(dev, memory_format=torch.channels_last if dev.type == "cuda" else torch.preserve_format)
    feeds = make_feeds(model, args, out, dev, workers, ddp, progress)
    criterion = losses.build_criterion(feeds.train_targets, label_smoothing, class_weights, logit_adjust,
                                       args["task_weights"]).to(dev)
    steps_per_epoch = min(len(feeds.train_loader), limit_batches or len(feeds.train_loader))
    optimizer, scheduler = make_optimizer(model, args, steps_per_epoch, dev)
    state = restore(ckpt, optimizer, scheduler, scaler, args, say) if ckpt else Progress()
    if ddp is not None and not main and ckpt:
        runtime.seed_everything(seed + ddp.rank + 1_000_003 * state.epoch)  # own streams on the other ranks
    net, evaluator = wrap_for_steps(feeds.net, ddp, compile, dev, state.epoch < args["freeze_epochs"])
    distributed.barrier(ddp)  # every rank has read last.pt before rank 0 may rewrite it

    say(run_banner(args, dev, len(feeds.train_targets), steps_per_epoch, amp_dtype, ddp, workers))
    if state.stopped or state.epoch >= epochs:
        say(f"{out / 'last.pt'} already holds {state.epoch} epochs{' (stopped early)' if state.stopped else ''}: "
            f"nothing to do (raise --epochs to train longer)")
    first = state.epoch
    while not state.stopped and state.epoch < epochs and (stop_after is None or state.epoch < first + stop_after):
        t0, epoch = time.time(), state.epoch
        model.set_backbone_trainable(epoch >= args["freeze_epochs"])
        feeds.set_epoch(epoch)
        stats = engine.train_one_epoch(net, criterion, optimizer, feeds.train_loader, dev, scheduler,
                                       grad_clip=grad_clip, scaler=scaler, amp_dtype=amp_dtype,
                                       max_steps=limit_batches, desc=f"epoch {epoch + 1}/{epochs}", progress=progress)
        train_loss = distributed.mean_over_ranks(stats["train_loss"], stats["steps"], ddp)
        distributed.broadcast_buffers(model, ddp)  # validate rank 0's model (the one it saves) everywhere
        scores = engine.evaluate(evaluator, feeds.val_loader, dev, amp_dtype, ddp, limit_batches)
        row = history_row(epoch, train_loss, scores, optimizer, args, time.time() - t0)
        improved = state.record(row, patience, epochs)
        if main:
            save_run(out, model, state, args, improved, optimizer, scheduler, scaler)
        distributed.barrier(ddp)  # the files are complete before any rank goes on (or ends)
        say(epoch_line(row, epochs, improved))
        if state.stopped:
            say(f"early stop: no better validation mean macro-F1 for {patience} epochs (best epoch {state.best['epoch']})")
    return TrainResult(out=out, best_epoch=state.best["epoch"], best_score=state.best["score"],
                       best_metrics=state.best["metrics"], epochs_done=len(state.history), stopped_early=state.stopped,
                       history=state.history)


def run_banner(args: dict, dev: torch.device, n_train: int, steps_per_epoch: int, amp_dtype, ddp,
               workers: int | None = None) -> str:
    """The run's first line: what trains, where, on how much, in which precision, and where JPEGs decode."""
    regime = regime_words(args)
    cached = " as cached backbone tokens" if args["cached_features"] else ""
    precision = ", " + str(amp_dtype).removeprefix("torch.") if amp_dtype else ""
    spread = f", DDP over {ddp.world_size} processes of batch {args['batch_size']}" if ddp else ""
    on_gpu = not args["cached_features"] and gpu_input.use_gpu(args["decode"], dev, workers)
    decoded = ", JPEGs decoded on the GPU" if on_gpu else ""
    return (f"training {args['variant']} on {dev} ({regime}, {args['image_size']} px, {n_train} train images"
            f"{cached}, {steps_per_epoch} steps/epoch{precision}{spread}{decoded})")


def regime_words(args: dict) -> str:
    """What learns in this run, in words for the log: a frozen random backbone is not "from scratch"."""
    start = "ImageNet weights" if args["pretrained"] else "randomly initialised backbone"
    learners = "the heads" if args["variant"].endswith("_gap") else "the LSTM and heads"
    frozen = args.get("freeze_epochs", 0)
    if frozen >= args["epochs"]:
        return f"{start}, frozen: only {learners} learn"
    if frozen:
        return f"{start}, frozen for the first {frozen} epoch{'s' * (frozen > 1)}, then trained end to end"
    return "ImageNet weights, fine-tuned end to end" if args["pretrained"] else "from scratch: every weight learns"


def history_row(epoch: int, train_loss: float, scores: dict, optimizer, args: dict, seconds: float) -> dict:
    """One line of history.csv: the epoch's losses, validation scores, learning rates and time."""
    lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
    return {"epoch": epoch + 1, "train_loss": train_loss, **scores, "lr": lrs.get("head", args["lr"]),
            "backbone_lr": lrs.get("backbone", 0.0), "frozen_backbone": epoch < args["freeze_epochs"],
            "seconds": round(seconds, 2)}


def save_run(out: Path, model: models.MultitaskNet, state: Progress, args: dict, improved: bool,
             optimizer, scheduler, scaler) -> None:
    """best.pt (weights, when the epoch improved), last.pt (everything to resume), history and curves."""
    common = dict(epoch=state.epoch, metrics=state.history[-1], best=state.best, train_args=args,
                  history=state.history, since_best=state.since_best, stopped_early=state.stopped)
    if improved:  # best.pt is for inference: no optimizer state (an AdamW state is 2x the model)
        checkpoint.save(checkpoint.model_checkpoint(model, **common), out / "best.pt")
    checkpoint.save(checkpoint.model_checkpoint(
        model, **common, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
        scaler=scaler.state_dict() if scaler.is_enabled() else None, rng=runtime.rng_state()), out / "last.pt")
    write_history(state.history, out)
