"""Train a multitask model on a dataset directory, in the style of torchvision's references/classification.

    python -m wikiart_utils train --data data/real-sample --variant resnet18_lstm_patch --out checkpoints/run

`train` composes the two functions of `engine` -- `train_one_epoch` and `validate` -- with what a real run
needs around them: the model (or the run to resume), the loaders, the loss, the optimizer and its schedule
(AdamW with warm-up and cosine decay unless `--optimizer` / `--schedule` say otherwise), checkpoints after
every epoch, and early stopping on the validation mean macro-F1. Its settings are one `config.TrainConfig`.

`--out` is a checkpoint directory: `last.pt` (everything needed to resume), `best.pt` (the epoch with the
best validation mean macro-F1 over the three tasks; weights only), `history.csv` and `curves.png`, all
rewritten atomically after every epoch (format: `checkpoint`).

Two ways to feed the model, one loop: images through the whole model, or -- with a frozen backbone and
`cached_features` -- the backbone's tokens, computed once per split (`features`), through `model.head`.
Every loss option, clipping, resuming and early stopping behave the same on both.

Resuming (`resume`) continues from last.pt after its last finished epoch with the saved settings (only
those given explicitly replace them, each named in one line), and says so. On CPU with
workers=0 a run split into sessions (`stop_after`) ends with exactly the weights of the uninterrupted run:
the shuffling is reseeded with seed + epoch at every epoch and all RNG states travel in the checkpoint.

Several GPUs: `torchrun --nproc_per_node=N -m wikiart_utils train ...` trains with DistributedDataParallel
(`distributed`): `batch_size` is per process, rank 0 alone writes files, validation covers the whole set.

The speed machinery is reached from here only, through three hooks: `gpu_input.image_loader` (where JPEGs
decode), `features.cached_split` (the token cache) and `distributed` (torchrun).
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from tqdm.auto import tqdm

from . import checkpoint, data, engine, fsutil, labels, losses, metrics, models, runtime
from .speed import distributed, features, gpu_input
from .config import Session, TrainConfig, split_settings

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
        groups.setdefault(("backbone" if model.is_pretrained(name) else "head", p.ndim >= 2), []).append(p)
    return [{"params": params, "name": part, "lr": backbone_lr if part == "backbone" else lr,
             "weight_decay": weight_decay if decay else 0.0}
            for (part, decay), params in sorted(groups.items())]


def make_optimizer(model: models.MultitaskNet, config: TrainConfig, steps_per_epoch: int, device: torch.device):
    """`config.optimizer` (AdamW, or SGD with Nesterov momentum) over `param_groups`, and its per-step
    `config.schedule` spanning all epochs (`make_scheduler`). Settings left None take the regime's value."""
    config = config.resolved()
    groups = param_groups(model, config.lr, config.lr * config.backbone_lr_scale, config.weight_decay)
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(groups, lr=config.lr, momentum=0.9, nesterov=True)
    else:
        optimizer = torch.optim.AdamW(groups, lr=config.lr, fused=device.type == "cuda")
    return optimizer, make_scheduler(optimizer, config, steps_per_epoch)


def make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int):
    """warmup_cosine: linear warm-up over `warmup_epochs` (at most half the run), cosine decay to 0;
    onecycle: torch's OneCycleLR up to each group's rate and down again (cycling the momentum), as the
    plain torchvision loop of benchmarks/recipe_vs_plain.py. Both step once per optimizer step."""
    total_steps = config.epochs * steps_per_epoch
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                                                   total_steps=max(total_steps, 1))
    warmup_steps = min(round(config.warmup_epochs * steps_per_epoch), total_steps // 2)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: warmup_cosine(s, warmup_steps, total_steps))


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
    unweighted sum (`engine.validate`), so runs stay comparable. `baselines` (task -> accuracy of always
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


# Drawing curves.png costs about 0.4 s on a CPU, as much as an epoch on cached tokens: during a run it is redrawn
# when the last drawing is this old, and always after the run's (or the session's) last epoch.
CURVES_EVERY_S = 60.0


def curves_due(path: Path, now: float | None = None) -> bool:
    """Whether curves.png at `path` is missing or older than CURVES_EVERY_S."""
    try:
        return (now or time.time()) - path.stat().st_mtime >= CURVES_EVERY_S
    except OSError:
        return True


def write_history(history: list[dict], out: Path, baselines: dict[str, float] | None = None,
                  task_weights: dict | None = None, curves: bool = True) -> None:
    """history.csv and (unless `curves` is False) curves.png in `out`, each written atomically (a reader never
    sees half a file); `baselines` and `task_weights` as in `plot_curves` (optional: without them no dashed
    lines)."""
    fsutil.atomic_write_text(out / "history.csv", pd.DataFrame(history).to_csv(index=False))
    if not curves:
        return
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

def settle_config(given: dict, saved: dict | None, data_dir: str | Path, say) -> TrainConfig:
    """The run's configuration, regime values filled in: the `given` settings over the declared defaults,
    or -- resuming -- over the saved run's `train_args`, each given setting that differs (and another data
    directory) named in one line."""
    if saved is None:
        return check_config(TrainConfig(**given).resolved())
    base = TrainConfig.from_saved(saved)
    changed = {k: (getattr(base, k), v) for k, v in given.items() if getattr(base, k) != v}
    if Path(saved.get("data", data_dir)).resolve() != Path(data_dir).resolve():
        changed["data"] = (saved["data"], str(data_dir))
    for key in ("schedule", "optimizer"):
        if key in changed:
            raise ValueError(f"--resume continues a run with --{key} {changed[key][0]}: a new {key} needs a new run "
                             f"(--overwrite, or another --out)")
    if changed:
        words = "; ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items())
        longer = set(changed) <= {"epochs"}  # training a run longer is what --epochs N --resume is for
        say(f"resuming with {words}" + ("" if longer else " (not the saved run's settings: the result will "
                                                          "differ from an uninterrupted run)"))
    return check_config(base.replace(**given).resolved())


def check_config(config: TrainConfig) -> TrainConfig:
    """ValueError for settings that cannot go together."""
    if config.cached_features and config.freeze_epochs < config.epochs:
        raise ValueError("--cached-features trains on the tokens of a frozen backbone: freeze it for the whole "
                         "run (--freeze-backbone without a number)")
    if config.unknown_as_class and config.unknown_as_class not in labels.vocab("artist"):
        raise ValueError(f"--unknown-as-class {config.unknown_as_class!r} is not one of the 128 artists")
    return config


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


def read_last(out: Path, resume: bool, say) -> tuple[models.MultitaskNet, dict] | None:
    """(model, checkpoint) of out/last.pt when resuming and it exists (else None, said when resuming)."""
    last = out / "last.pt"
    if not resume:
        return None
    if not last.is_file():
        say(f"no {last} to resume: starting a new run")
        return None
    model, ckpt = checkpoint.load(last)
    if "optimizer" not in ckpt or "train_args" not in ckpt:
        raise checkpoint.CheckpointError(f"{last}: holds no optimizer state (not a last.pt of train): "
                                         f"start a new run with --overwrite")
    return model, ckpt


def build_model(config: TrainConfig, resumed: tuple | None, path: Path) -> models.MultitaskNet:
    """A fresh model, or the resumed one when it is the variant and size the configuration asks for."""
    if resumed is None:
        return models.build_model(config.variant, pretrained=config.pretrained, image_size=config.image_size,
                                  **config.model_options)
    saved = resumed[1]["model_config"]
    if (saved["variant"], saved["image_size"]) != (config.variant, config.image_size):
        raise checkpoint.CheckpointError(
            f"{path}: --resume of a {saved['variant']} run at {saved['image_size']} px, "
            f"but asked for {config.variant} at {config.image_size} px")
    if {**models.DEFAULT_OPTIONS, **config.model_options} != {**models.DEFAULT_OPTIONS, **saved["options"]}:
        raise checkpoint.CheckpointError(f"{path}: --resume of a model with options {saved['options']}, but asked "
                                         f"for {config.model_options}: the model's shape cannot change on resume")
    return resumed[0]


@dataclass
class Feeds:
    """What the loop is fed and what it steps: images through the whole model, or cached tokens through
    `model.head` (`features.HeadOnly`). `set_epoch` reseeds the shuffling (and augmentation) of an epoch."""
    train_loader: Any
    val_loader: Any
    net: torch.nn.Module
    train_targets: torch.Tensor
    set_epoch: Any
    baselines: dict[str, float]  # majority-class validation accuracy per task (dashed lines in curves.png)


def make_feeds(model: models.MultitaskNet, config: TrainConfig, root: str | Path, out: Path, dev: torch.device,
               workers: int | None, ddp: distributed.DDP | None, progress: bool,
               features_dir: str | Path | None = None) -> Feeds:
    size, batch, seed = config.image_size, config.batch_size, config.seed
    cached = config.cached_features  # a cache holds one view of each painting: the eval transform
    augment = None if cached else data.train_transform(size, config.crop_scale, config.color_jitter)
    train_set = data.WikiArtDataset(root, "train", size, transform=augment, train=not cached,
                                    limit=config.train_limit)
    val_set = data.WikiArtDataset(root, "val", size)
    if not len(train_set) or not len(val_set):
        raise ValueError(f"{root}: metadata.csv has {len(train_set)} train and {len(val_set)} val images; "
                         f"training needs both")
    folded = config.unknown_as_class
    for dataset in (train_set, val_set):  # the older convention, only where it is measured
        dataset.targets = labels.fold_unknown_artists(dataset.targets, folded) if folded else dataset.targets
    baselines = metrics.majority_baselines(train_set.targets, val_set.targets)
    if cached:
        where = {name: features.shared_cache_path(features_dir, model, dataset, name) if features_dir
                 else out / "features" / name for name, dataset in (("train", train_set), ("val", val_set))}
        caches = [features.cached_split(model, dataset, where[name], dev, workers or 0, progress)
                  for name, dataset in (("train", train_set), ("val", val_set))]
        for cache, dataset in zip(caches, (train_set, val_set)):
            cache.targets = dataset.targets[torch.from_numpy(cache.rows)]  # --unknown-as-class applies here too
        train_loader = caches[0].loader(batch, shuffle=True, seed=seed, drop_last=len(caches[0]) > batch)
        return Feeds(train_loader, caches[1].loader(batch), features.HeadOnly(model), train_set.targets,
                     train_loader.set_epoch, baselines)
    sampler, val_rows, shard = None, None, len(train_set)
    if ddp is not None:  # an equal share of each epoch per process (padded by repeats); val split exactly
        sampler = torch.utils.data.DistributedSampler(train_set, ddp.world_size, ddp.rank, shuffle=True, seed=seed)
        val_rows, shard = range(ddp.rank, len(val_set), ddp.world_size), len(sampler)
    common = dict(workers=workers, seed=seed, device=dev, decode=config.decode)
    train_loader = gpu_input.image_loader(train_set, batch, shuffle=True, drop_last=shard > batch, sampler=sampler,
                                          train=True, **common)  # augments as train_set.transform says
    val_loader = gpu_input.image_loader(val_set, batch, sampler=val_rows, **common)

    def set_epoch(epoch: int) -> None:  # the same order whether resumed or not; own augmentation per rank
        train_loader.generator.manual_seed(seed + epoch + (1_000_003 * ddp.rank if ddp else 0))
        if sampler is not None:
            sampler.set_epoch(epoch)
    loader = distributed.NoEmptyBatches(train_loader, size) if ddp is not None else train_loader
    return Feeds(loader, val_loader, model, train_set.targets, set_epoch, baselines)


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
class RunState:
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


SCHEDULE_SHAPE = ("total_steps", "_schedule_phases")  # OneCycleLR's length: the current run's, not the saved one


def restore(ckpt: dict, optimizer, scheduler, scaler, config: TrainConfig, say) -> RunState:
    """Optimizer, schedule, scaler, RNG and run state from last.pt (a longer run stretches the schedule)."""
    optimizer.load_state_dict(ckpt["optimizer"])
    own = scheduler.state_dict()
    scheduler.load_state_dict({**ckpt["scheduler"], **{k: own[k] for k in SCHEDULE_SHAPE if k in own}})
    if ckpt.get("scaler") is not None:
        scaler.load_state_dict(ckpt["scaler"])
    runtime.set_rng_state(ckpt["rng"])
    state = RunState(ckpt["epoch"], list(ckpt["history"]), dict(ckpt["best"]), ckpt["since_best"],
                     ckpt["stopped_early"])
    say(f"resuming {config.variant} after epoch {state.epoch} of {ckpt['train_args'].get('epochs')} "
        f"(best so far: epoch {state.best['epoch']}, val mean macro-F1 {state.best['score']:.3f})")
    return state


@distributed.launched  # under torchrun (WORLD_SIZE > 1): one process group for the call, closed at the end
def train(data_dir: str | Path, variant: str | None = None, out: str | Path = "checkpoints/run",
          config: TrainConfig | None = None, session: Session | None = None, **settings) -> TrainResult:
    """Train on `data_dir` (a directory with metadata.csv) and write checkpoints into `out`.

    The run is `config` (`config.TrainConfig`: every setting, its default and its help) with `settings`
    applied -- keyword arguments named as its fields, or as `config.Session`'s (resume, overwrite,
    stop_after, device, workers, progress); `variant` is the setting of that name. Resuming
    (`resume=True`), the run is the saved one: only the settings given here (in `settings`, or differing
    from the defaults in `config`) replace saved values, and each that differs is named in one line.
    """
    run, session_settings = split_settings(settings)
    given = {**(config.changes() if config else {}), **run, **({"variant": variant} if variant else {})}
    session = dataclasses.replace(session or Session(), **session_settings)
    out, ddp = Path(out), distributed.current()  # ddp None: one process, as always
    main = ddp is None or ddp.main  # only rank 0 prints and writes files
    say = tqdm.write if main else (lambda *_, **__: None)
    open_run_dir(out, session.resume, session.overwrite, main)
    resumed = read_last(out, session.resume, say)
    config = settle_config(given, resumed[1]["train_args"] if resumed else None, data_dir, say)
    if config.cached_features and ddp is not None and "cached_features" not in given:
        config = config.replace(cached_features=False)  # the default under torchrun: every process decodes images
    if config.cached_features and ddp is not None:
        raise ValueError("--cached-features trains in one process: run it without torchrun")
    progress = session.progress and main and not os.environ.get("TQDM_DISABLE")
    dev = runtime.pick_device(session.device)
    dev = dev if ddp is None else distributed.device_for(ddp, dev)
    runtime.seed_everything(config.seed + (ddp.rank if ddp else 0))  # DDP copies rank 0's initial weights
    model = build_model(config, resumed, out / "last.pt")
    # weights channels_last like the batches the loaders make, on a CPU too (oneDNN): a training step of
    # EfficientNet-Lite0 at 224 px ran ~1.7x faster on the 2-core CPU (15 against 9 images/s)
    model.to(dev, memory_format=torch.channels_last)
    feeds = make_feeds(model, config, data_dir, out, dev, session.workers, ddp, progress, session.features_dir)
    loop = Loop(config, session, data_dir, out, model, feeds, dev, ddp, say, progress)
    state = loop.start(resumed[1] if resumed else None)
    return loop.run(state)


class Loop:
    """The epochs of a run: its loss, optimizer and schedule, then per epoch the steps (`engine.train_one_epoch`),
    validation (`engine.validate`), the checkpoint files and the log line."""

    def __init__(self, config: TrainConfig, session: Session, data_dir: str | Path, out: Path,
                 model: models.MultitaskNet, feeds: Feeds, dev: torch.device, ddp: distributed.DDP | None, say,
                 progress: bool):
        self.config, self.session, self.data_dir, self.out = config, session, data_dir, out
        self.model, self.feeds = model, feeds
        self.dev, self.ddp, self.say, self.progress = dev, ddp, say, progress
        self.main = ddp is None or ddp.main
        self.curves_drawn = 0  # how many epochs curves.png shows (it is not redrawn after every epoch)
        self.amp_dtype, self.scaler = runtime.precision(dev, config.amp)
        self.criterion = losses.build_criterion(feeds.train_targets, config.label_smoothing, config.class_weights,
                                                config.logit_adjust, config.task_weights).to(dev)
        batches = len(feeds.train_loader)
        self.steps_per_epoch = min(batches, config.limit_batches or batches)
        self.optimizer, self.scheduler = make_optimizer(model, config, self.steps_per_epoch, dev)

    def start(self, ckpt: dict | None) -> RunState:
        """A new run's state, or the resumed one's (optimizer, schedule, RNG); the run's first log line."""
        config, ddp = self.config, self.ddp
        state = restore(ckpt, self.optimizer, self.scheduler, self.scaler, config, self.say) if ckpt else RunState()
        if ddp is not None and not self.main and ckpt:
            runtime.seed_everything(config.seed + ddp.rank + 1_000_003 * state.epoch)  # own streams on the others
        self.net, self.evaluator = wrap_for_steps(self.feeds.net, ddp, config.compile, self.dev,
                                                  state.epoch < config.freeze_epochs)
        distributed.barrier(ddp)  # every rank has read last.pt before rank 0 may rewrite it
        self.say(run_banner(config, self.dev, len(self.feeds.train_targets), self.steps_per_epoch, self.amp_dtype,
                            ddp, self.session.workers))
        if state.stopped or state.epoch >= config.epochs:
            self.say(f"{self.out / 'last.pt'} already holds {state.epoch} epochs"
                     f"{' (stopped early)' if state.stopped else ''}: nothing to do (raise --epochs to train longer)")
        return state

    def run(self, state: RunState) -> TrainResult:
        """Epochs until the last, early stopping, or `stop_after` epochs in this session; curves.png then shows
        every epoch (it is redrawn at most every CURVES_EVERY_S during the run)."""
        first, stop_after = state.epoch, self.session.stop_after
        while (not state.stopped and state.epoch < self.config.epochs
               and (stop_after is None or state.epoch < first + stop_after)):
            self.epoch(state)
        if self.main and state.history and self.curves_drawn != len(state.history):
            write_history(state.history, self.out, self.feeds.baselines, self.config.task_weights)
            self.curves_drawn = len(state.history)
        return TrainResult(out=self.out, best_epoch=state.best["epoch"], best_score=state.best["score"],
                           best_metrics=state.best["metrics"], epochs_done=len(state.history),
                           stopped_early=state.stopped, history=state.history)

    def epoch(self, state: RunState) -> None:
        config, ddp, epoch, t0 = self.config, self.ddp, state.epoch, time.time()
        self.model.set_backbone_trainable(epoch >= config.freeze_epochs)
        self.feeds.set_epoch(epoch)
        stats = engine.train_one_epoch(self.net, self.criterion, self.optimizer, self.feeds.train_loader, self.dev,
                                       self.scheduler, grad_clip=config.grad_clip, scaler=self.scaler,
                                       amp_dtype=self.amp_dtype, max_steps=config.limit_batches,
                                       desc=f"epoch {epoch + 1}/{config.epochs}", progress=self.progress)
        train_loss = distributed.mean_over_ranks(stats["train_loss"], stats["steps"], ddp)
        distributed.broadcast_buffers(self.model, ddp)  # validate rank 0's model (the one it saves) everywhere
        scores = engine.validate(self.evaluator, self.feeds.val_loader, self.dev, self.amp_dtype,
                                 distributed.gatherer(ddp), config.limit_batches)
        row = history_row(epoch, train_loss, scores, self.optimizer, config, time.time() - t0)
        improved = state.record(row, config.patience, config.epochs)
        if self.main:
            draw = state.stopped or state.epoch >= config.epochs or curves_due(self.out / "curves.png")
            save_run(self.out, self.model, state, config, self.data_dir, improved, self.optimizer, self.scheduler,
                     self.scaler, self.feeds.baselines, draw)
            self.curves_drawn = len(state.history) if draw else self.curves_drawn
        distributed.barrier(ddp)  # the files are complete before any rank goes on (or ends)
        self.say(epoch_line(row, config.epochs, improved))
        if state.stopped:
            self.say(f"early stop: no better validation mean macro-F1 for {config.patience} epochs "
                     f"(best epoch {state.best['epoch']})")


def run_banner(config: TrainConfig, dev: torch.device, n_train: int, steps_per_epoch: int, amp_dtype, ddp,
               workers: int | None = None) -> str:
    """The run's first line: what trains, where, on how much, in which precision, and where JPEGs decode."""
    cached = " as cached backbone tokens" if config.cached_features else ""
    precision = ", " + str(amp_dtype).removeprefix("torch.") if amp_dtype else ""
    spread = f", DDP over {ddp.world_size} processes of batch {config.batch_size}" if ddp else ""
    on_gpu = not config.cached_features and gpu_input.use_gpu(config.decode, dev, workers)
    decoded = ", JPEGs decoded on the GPU" if on_gpu else ""
    chosen = config.changes().keys() & {"optimizer", "schedule"}
    schedule = f", {config.optimizer} with {config.schedule}" if chosen else ""
    return (f"training {config.variant} on {dev} ({regime_words(config)}, {config.image_size} px, {n_train} train "
            f"images{cached}, {steps_per_epoch} steps/epoch{precision}{spread}{decoded}{schedule})")


def regime_words(config: TrainConfig) -> str:
    """What learns in this run, in words for the log: a frozen random backbone is not "from scratch"."""
    start = "ImageNet weights" if config.pretrained else "randomly initialised backbone"
    reader = {"gap": "", "stats": "the statistics' standardisation and ",
              "attention": "the attention pooling and "}.get(config.variant.rsplit("_", 1)[-1], "the LSTM and ")
    learners = f"{reader}heads" if reader else "the heads"
    tuned = config.model_options.get("tuned_stages")
    if tuned:
        return f"{start}: its last {tuned} stages (from their cached input), {reader}the heads learn, the rest frozen"
    frozen = config.freeze_epochs
    if frozen >= config.epochs:
        return f"{start}, frozen: only {learners} learn"
    if frozen:
        return f"{start}, frozen for the first {frozen} epoch{'s' * (frozen > 1)}, then trained end to end"
    return "ImageNet weights, fine-tuned end to end" if config.pretrained else "from scratch: every weight learns"


def history_row(epoch: int, train_loss: float, scores: dict, optimizer, config: TrainConfig, seconds: float) -> dict:
    """One line of history.csv: the epoch's losses, validation scores, learning rates and time."""
    lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
    return {"epoch": epoch + 1, "train_loss": train_loss, **scores, "lr": lrs.get("head", config.lr),
            "backbone_lr": lrs.get("backbone", 0.0), "frozen_backbone": epoch < config.freeze_epochs,
            "seconds": round(seconds, 2)}


def save_run(out: Path, model: models.MultitaskNet, state: RunState, config: TrainConfig, data_dir: str | Path,
             improved: bool, optimizer, scheduler, scaler, baselines: dict[str, float] | None = None,
             curves: bool = True) -> None:
    """best.pt (weights, when the epoch improved), last.pt (everything to resume), history and (when `curves`)
    curves.png (with the majority baselines and the run's task weights)."""
    common = dict(epoch=state.epoch, metrics=state.history[-1], best=state.best, train_args=config.to_saved(data_dir),
                  history=state.history, since_best=state.since_best, stopped_early=state.stopped)
    if improved:  # best.pt is for inference: no optimizer state (an AdamW state is 2x the model)
        checkpoint.save(checkpoint.model_checkpoint(model, **common), out / "best.pt")
    checkpoint.save(checkpoint.model_checkpoint(
        model, **common, optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(),
        scaler=scaler.state_dict() if scaler.is_enabled() else None, rng=runtime.rng_state()), out / "last.pt")
    write_history(state.history, out, baselines, config.task_weights, curves)
