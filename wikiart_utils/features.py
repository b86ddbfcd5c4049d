"""Feature caching for frozen backbones: run the backbone over a split once, then train only the head.

With a frozen backbone every epoch recomputes the same tokens; caching them makes a head epoch cost
the LSTM alone (`python -m wikiart_utils bench features` measures by how much):

    model = models.build_model("resnet18_lstm_patch", pretrained=True, image_size=224)
    for split in ("train", "val"):
        extract_features(model, WikiArtDataset(root, split, 224, train=False), f"features/{split}")
    history = train_on_features(model, "features/train", "features/val", epochs=10)

A cache is a directory holding

* ``tokens.npy``  float16 [N, T, D], the backbone's tokens (`model.tokens`), read as a memory map;
* ``targets.npy`` int64 [N, 3] class indices in `labels.TASKS` order, -1 = unknown;
* ``valid.npy``   bool [N], False where the image failed to decode (that row is all zeros, never served);
* ``meta.json``   shape, the model config, a hash of the backbone weights and of the dataset, the paths.

Rows follow the dataset's order. The cache is written under ``<out>.part/`` and renamed into place when
complete, so a reader never sees half a cache; an interrupted extraction (even kill -9) resumes from the
last flushed batch when rerun with the same model and dataset. Only the eval transform makes sense
here: an augmented view cached once would be frozen for every epoch, so random transforms are refused.
Size: N x T x D x 2 bytes -- ResNet-18 at 224 px is 50 KB per image (3.3 GB for WikiArt's train split),
ViT-B/16 at 224 px 300 KB per image.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm.auto import tqdm

from . import data as wdata
from . import fsutil, labels, losses
from . import train as wtrain

CACHE_VERSION = 2  # 2: images reach the model as uint8 and are normalised inside it
FP16_MAX = 65504.0
RANDOM_TRANSFORMS = {"ColorJitter", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix",
                     "ElasticTransform", "GaussianNoise", "MixUp", "CutMix"}


# ----------------------------------------------------------------------------------------------------
# Fingerprints: a cache is only reused (or resumed) for the same backbone weights and the same data

def backbone_fingerprint(model: nn.Module) -> str:
    """sha256 over the backbone's state dict (names, shapes, dtypes and bytes)."""
    digest = hashlib.sha256()
    for name, tensor in model.backbone.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def dataset_fingerprint(dataset: Dataset) -> dict:
    """What identifies a dataset's items: length, paths (hashed), image size and transform."""
    paths = getattr(dataset, "paths", None)
    return {
        "n": len(dataset),
        "paths_sha256": hashlib.sha256("\n".join(map(str, paths)).encode()).hexdigest() if paths is not None else None,
        "image_size": getattr(dataset, "image_size", None),
        "transform": repr(getattr(dataset, "transform", None)),
    }


def _check_no_augmentation(dataset: Dataset) -> None:
    transform = getattr(dataset, "transform", None)
    steps = getattr(transform, "transforms", [transform])
    random = [type(t).__name__ for t in steps
              if type(t).__name__.startswith("Random") or type(t).__name__ in RANDOM_TRANSFORMS]
    if random:
        raise ValueError(f"the dataset's transform is random ({', '.join(random)}): cache features of the eval "
                         f"transform, e.g. WikiArtDataset(root, split, image_size, train=False)")


# ----------------------------------------------------------------------------------------------------
# Extraction

def _collate_keep_positions(batch: list):
    """(images, targets, positions of the decoded items in the batch, batch length); bad items are None."""
    good = [i for i, item in enumerate(batch) if item is not None]
    if not good:
        return None, None, torch.empty(0, dtype=torch.long), len(batch)
    images, targets = wdata.collate_skip_bad([batch[i] for i in good])
    return images, targets, torch.tensor(good, dtype=torch.long), len(batch)


def _part_dir(out: Path) -> Path:
    return out.with_name(out.name + ".part")


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


@torch.no_grad()
def extract_features(model: nn.Module, dataset: Dataset, out_path: str | Path, batch_size: int = 64,
                     device: str | torch.device | None = None, workers: int = 0, overwrite: bool = False,
                     flush_every_s: float = 30.0, progress: bool = True) -> Path:
    """Run `model.tokens` over every item of `dataset` once and write the cache directory `out_path`.

    The model is put in eval mode (frozen BatchNorm statistics, no dropout). On CUDA the backbone runs
    under float16 autocast (the cache is float16 anyway). Returns `out_path`. If `out_path` already
    holds the cache of this model and dataset it is returned as is; a cache of anything else raises
    FileExistsError unless `overwrite`. An interrupted run continues from `<out_path>.part/`.
    """
    _check_no_augmentation(dataset)
    out = Path(out_path)
    part = _part_dir(out)
    dev = torch.device(device) if device is not None else wtrain.pick_device()
    fingerprint = {"version": CACHE_VERSION, "model_config": getattr(model, "config", None),
                   "backbone_sha256": backbone_fingerprint(model), "dataset": dataset_fingerprint(dataset)}
    fingerprint = json.loads(json.dumps(fingerprint))  # tuples -> lists, as they come back from disk
    meta = _read_json(out / "meta.json")
    if meta is not None:
        if meta.get("fingerprint") == fingerprint:
            return out
        if not overwrite:
            raise FileExistsError(f"{out} holds features of another model or dataset: delete it, pass "
                                  f"overwrite=True, or choose another path")
    elif out.exists() and not overwrite and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not a feature cache; choose another path")

    n = len(dataset)
    if n == 0:
        raise ValueError("extract_features: the dataset is empty")
    progress_file = part / "progress.json"
    state = _read_json(progress_file)
    files = [part / name for name in ("targets.npy", "valid.npy", "tokens.npy")]
    if state is None or state.get("fingerprint") != fingerprint or not all(f.is_file() for f in files):
        # nothing to resume, another job's leftovers, or an incomplete one: start afresh
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir(parents=True)
        state = {"fingerprint": fingerprint, "done": 0, "token_shape": None}
    fsutil.remove_stale_parts(part)
    done = int(state["done"])
    mode = "r+" if done else "w+"
    targets = np.lib.format.open_memmap(part / "targets.npy", mode=mode, dtype=np.int64, shape=(n, len(labels.TASKS)))
    valid = np.lib.format.open_memmap(part / "valid.npy", mode=mode, dtype=np.bool_, shape=(n,))
    if not done:
        targets[:] = labels.UNKNOWN  # rows of undecodable items keep -1 targets, zero tokens, valid False
    tokens = (np.lib.format.open_memmap(part / "tokens.npy", mode="r+")
              if done and state["token_shape"] else None)

    def flush(upto: int) -> None:
        for array in (tokens, targets, valid):
            if array is not None:
                array.flush()
        state["done"] = upto
        fsutil.atomic_write_text(progress_file, json.dumps(state))

    model.to(dev).eval()
    cuda = dev.type == "cuda"
    if cuda:
        model.to(memory_format=torch.channels_last)
    loader = DataLoader(Subset(dataset, range(done, n)), batch_size=batch_size, shuffle=False, num_workers=workers,
                        collate_fn=_collate_keep_positions, pin_memory=cuda)
    start, last_flush, position = time.time(), time.time(), done
    bar = tqdm(total=n, initial=done, desc=f"features {out.name}", disable=not progress, leave=False)
    for images, batch_targets, good, count in loader:
        if images is not None:
            images = images.to(dev, non_blocking=True,
                                memory_format=torch.channels_last if cuda else torch.contiguous_format)
            with torch.autocast(dev.type, dtype=torch.float16, enabled=cuda):
                batch_tokens = model.tokens(images)
            batch_tokens = batch_tokens.float().clamp_(-FP16_MAX, FP16_MAX).half().cpu().numpy()
            if tokens is None:
                state["token_shape"] = list(batch_tokens.shape[1:])
                tokens = np.lib.format.open_memmap(part / "tokens.npy", mode="w+", dtype=np.float16,
                                                   shape=(n, *batch_tokens.shape[1:]))
            rows = position + good.numpy()
            tokens[rows] = batch_tokens
            targets[rows] = batch_targets.numpy()
            valid[rows] = True
        position += count
        bar.update(count)
        if tokens is not None and time.time() - last_flush > flush_every_s:
            flush(position)
            last_flush = time.time()
    bar.close()
    if tokens is None:
        raise ValueError("extract_features: no image of the dataset could be decoded")
    flush(position)
    meta = {"version": CACHE_VERSION, "shape": [n, *state["token_shape"]], "dtype": "float16",
            "n_valid": int(np.count_nonzero(valid)), "tasks": list(labels.TASKS), "fingerprint": fingerprint,
            "paths": [str(p) for p in getattr(dataset, "paths", [])],
            "seconds_this_session": round(time.time() - start, 2)}
    del tokens, targets, valid  # close the memory maps before the rename
    progress_file.unlink()
    fsutil.atomic_write_text(part / "meta.json", json.dumps(meta))
    if out.exists():
        shutil.rmtree(out)
    os.replace(part, out)
    return out


# ----------------------------------------------------------------------------------------------------
# Reading a cache

class CachedFeatureDataset(Dataset):
    """A feature cache as a Dataset of (tokens float32 [T, D], targets long [3]); undecodable rows skipped.

    `loader(batch_size, shuffle)` serves whole batches with one memory-map read each, much faster than a
    DataLoader fetching item by item; `in_memory=True` reads the whole array into RAM first.
    """

    def __init__(self, path: str | Path, in_memory: bool = False):
        self.path = Path(path)
        meta = _read_json(self.path / "meta.json")
        if meta is None:
            hint = " (an extraction was interrupted: rerun it to finish)" if _part_dir(self.path).exists() else ""
            raise FileNotFoundError(f"{self.path} is not a feature cache (no meta.json){hint}")
        if meta.get("version") != CACHE_VERSION:
            raise ValueError(f"{self.path}: feature cache version {meta.get('version')}, this code reads "
                             f"{CACHE_VERSION}; extract the features again")
        self.meta = meta
        self.tokens = np.load(self.path / "tokens.npy", mmap_mode=None if in_memory else "r")
        valid = np.load(self.path / "valid.npy")
        self.rows = np.flatnonzero(valid)
        self.targets = torch.from_numpy(np.load(self.path / "targets.npy")[self.rows])

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def token_shape(self) -> tuple[int, int]:
        return tuple(self.tokens.shape[1:])

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(self.tokens[self.rows[i]].astype(np.float32)), self.targets[i]

    def batch(self, indices) -> tuple[torch.Tensor, torch.Tensor]:
        """Items `indices` (positions in this dataset) as one batch."""
        indices = np.asarray(indices, dtype=np.int64)
        return torch.from_numpy(self.tokens[self.rows[indices]].astype(np.float32)), self.targets[indices]

    def loader(self, batch_size: int = 64, shuffle: bool = False, seed: int = 0,
               drop_last: bool = False) -> "CachedBatches":
        return CachedBatches(self, batch_size, shuffle, seed, drop_last)


def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled order of epoch `epoch`: the same for a cache and an image loader given the same seed."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))


class CachedBatches:
    """An iterable of (tokens, targets) batches over a CachedFeatureDataset, reshuffled per epoch
    (`set_epoch`), usable wherever a DataLoader is iterated (e.g. `train.validate`)."""

    def __init__(self, dataset: CachedFeatureDataset, batch_size: int, shuffle: bool, seed: int, drop_last: bool):
        self.dataset, self.batch_size, self.shuffle, self.seed, self.drop_last = (
            dataset, batch_size, shuffle, seed, drop_last)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.dataset)
        order = epoch_order(n, self.seed, self.epoch) if self.shuffle else torch.arange(n)
        for i in range(len(self)):
            yield self.dataset.batch(order[i * self.batch_size:(i + 1) * self.batch_size].numpy())


# ----------------------------------------------------------------------------------------------------
# Training the head

class HeadOnly(nn.Module):
    """`model.head` as a module taking tokens, so `train.validate(HeadOnly(model), cache_loader, device)`
    scores a cached split with the same metric code as a normal run."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.model.head(tokens)


def fit_head(model: nn.Module, batches: Callable[[int], Iterable], epochs: int, lr: float = 1e-3,
             weight_decay: float = 0.05, grad_clip: float = 1.0, device: str | torch.device = "cpu",
             encode: Callable[[torch.Tensor], torch.Tensor] | None = None,
             criterion: nn.Module | None = None, on_epoch: Callable[[int], dict] | None = None,
             progress: bool = False, after_epoch: Callable[[dict], None] | None = None) -> list[dict]:
    """Train everything outside `model.backbone` (LSTM, readout, heads) with the backbone frozen.

    `batches(epoch)` yields (inputs, targets) -- or None for a batch whose images all failed. Inputs are
    tokens, or images when `encode` (e.g. `model.tokens`, run without gradients) turns them into tokens:
    the same loop serves the feature cache and the end-to-end comparison. AdamW on the head groups of
    `train.param_groups`, warmup + cosine of `train.warmup_cosine`. Returns one row per epoch: train_loss,
    seconds and cpu_seconds (the epoch's training only) plus whatever `on_epoch(epoch)` returns.
    """
    dev = torch.device(device)
    model.to(dev)
    wtrain.set_backbone_trainable(model, False)
    criterion = (criterion or losses.MultitaskLoss()).to(dev)
    groups = [g for g in wtrain.param_groups(model, lr, 0.0, weight_decay) if g["name"] == "head"]
    head_params = [p for g in groups for p in g["params"]]
    optimizer = torch.optim.AdamW(groups, lr=lr, fused=dev.type in ("cpu", "cuda"))  # one kernel, not one per tensor
    steps_per_epoch = max(1, len(batches(0)))
    total = epochs * steps_per_epoch
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: wtrain.warmup_cosine(step, min(steps_per_epoch, total // 10 or 1), total))
    history = []
    for epoch in range(epochs):
        model.train()
        model.backbone.eval()
        wall, cpu = time.perf_counter(), time.process_time()
        running, seen = 0.0, 0
        for batch in tqdm(batches(epoch), desc=f"head epoch {epoch + 1}/{epochs}", disable=not progress, leave=False):
            if batch is None:
                continue
            inputs, targets = batch[0].to(dev), batch[1].to(dev)
            if encode is not None:
                with torch.no_grad():
                    inputs = encode(inputs)
            loss, _ = criterion(model.head(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if grad_clip:
                torch.nn.utils.clip_grad_norm_(head_params, grad_clip)
            optimizer.step()
            scheduler.step()
            running += loss.item() * len(targets)
            seen += len(targets)
        row = {"epoch": epoch + 1, "train_loss": running / max(seen, 1),
               "seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}
        if on_epoch is not None:
            row.update(on_epoch(epoch) or {})
        history.append(row)
        if after_epoch is not None:  # e.g. write checkpoints; may raise StopIteration to end early
            try:
                after_epoch(row)
            except StopIteration:
                break
    return history


def _as_cache(cache: str | Path | CachedFeatureDataset) -> CachedFeatureDataset:
    return cache if isinstance(cache, CachedFeatureDataset) else CachedFeatureDataset(cache)


def check_cache_matches(model: nn.Module, cache: CachedFeatureDataset) -> None:
    """Raise ValueError when `cache` was not made by this model's backbone weights (same config and bytes)."""
    made_by = cache.meta["fingerprint"]
    config = getattr(model, "config", None)
    if made_by.get("model_config") not in (None, json.loads(json.dumps(config))):
        raise ValueError(f"{cache.path} was extracted with {made_by['model_config']}, not this model ({config})")
    if made_by.get("backbone_sha256") != backbone_fingerprint(model):
        raise ValueError(f"{cache.path} was extracted with other backbone weights than this model's")


def train_on_features(model: nn.Module, train_cache: str | Path | CachedFeatureDataset,
                      val_cache: str | Path | CachedFeatureDataset | None = None, epochs: int = 10,
                      lr: float = 1e-3, batch_size: int = 64, weight_decay: float = 0.05, grad_clip: float = 1.0,
                      device: str | torch.device | None = None, seed: int = 0, check: bool = True,
                      progress: bool = False) -> list[dict]:
    """Train `model`'s head on cached tokens (the backbone stays frozen and untouched); returns the history.

    Each row: epoch, train_loss, seconds, cpu_seconds, and with `val_cache` the metrics of
    `train.validate` (val_loss, val_<task>_acc / _f1, val_mean_f1) computed on the cached validation tokens.
    `check` verifies the caches were extracted with this model's backbone weights.
    """
    train_set = _as_cache(train_cache)
    val_set = _as_cache(val_cache) if val_cache is not None else None
    if check:
        for cache in (train_set, val_set):
            if cache is not None:
                check_cache_matches(model, cache)
    dev = torch.device(device) if device is not None else wtrain.pick_device()
    torch.manual_seed(seed)
    train_batches = train_set.loader(batch_size, shuffle=True, seed=seed, drop_last=len(train_set) > batch_size)

    def batches(epoch: int) -> CachedBatches:
        train_batches.set_epoch(epoch)
        return train_batches

    def on_epoch(epoch: int) -> dict:
        return wtrain.validate(HeadOnly(model), val_set.loader(batch_size), dev) if val_set is not None else {}

    return fit_head(model, batches, epochs, lr=lr, weight_decay=weight_decay, grad_clip=grad_clip, device=dev,
                    on_epoch=on_epoch, progress=progress)


def train_cached(data: str | Path, variant: str, out: str | Path, epochs: int = 10, image_size: int = 224,
                 batch_size: int = 64, lr: float | None = None, pretrained: bool = True, seed: int = 0,
                 workers: int | None = 0, weight_decay: float = 0.05, patience: int = 0,
                 model_options: dict | None = None, device: str | None = None, overwrite: bool = False,
                 progress: bool = True) -> "wtrain.TrainResult":
    """`train --freeze-backbone --cached-features`: cache the frozen backbone's tokens of the train and
    val splits under `out/features/`, train the LSTM and heads on them, and write the same files as
    `train.train` (best.pt, last.pt, history.csv, curves.png) so evaluate/predict treat the run alike.

    No augmentation (a cache holds one view). `patience` > 0 stops after that many epochs without a
    better validation mean macro-F1; best.pt keeps the best epoch either way.
    """
    from . import data as wdata
    from . import models

    out = Path(out)
    if (out / "last.pt").exists() and not overwrite:
        raise FileExistsError(f"{out} already holds a run (last.pt): pass --overwrite, or choose another --out")
    progress = progress and not os.environ.get("TQDM_DISABLE")
    wtrain.seed_everything(seed)
    dev = wtrain.pick_device(device)
    model = models.build_model(variant, pretrained=pretrained, image_size=image_size, **(model_options or {}))
    caches = {split: extract_features(model, wdata.WikiArtDataset(data, split, image_size, train=False),
                                      out / "features" / split, batch_size, dev, workers or 0, overwrite=True,
                                      progress=progress) for split in ("train", "val")}
    lr = wtrain.REGIMES["scratch"]["lr"] if lr is None else lr  # the heads start from scratch either way
    args = dict(data=str(data), variant=variant, epochs=epochs, image_size=image_size, batch_size=batch_size,
                lr=lr, pretrained=pretrained, freeze_epochs=epochs, seed=seed, weight_decay=weight_decay,
                cached_features=True, model_options=dict(model_options or {}))
    train_set, val_set = CachedFeatureDataset(caches["train"]), CachedFeatureDataset(caches["val"])
    train_batches = train_set.loader(batch_size, shuffle=True, seed=seed, drop_last=len(train_set) > batch_size)
    history: list[dict] = []
    best = {"epoch": 0, "score": -1.0, "metrics": {}}
    say = tqdm.write
    say(f"training {variant} head on cached {'pretrained' if pretrained else 'random-init'} backbone tokens "
        f"({image_size} px, {len(train_set)} train / {len(val_set)} val, cache {caches['train'].parent})")

    def batches(epoch: int) -> CachedBatches:
        train_batches.set_epoch(epoch)
        return train_batches

    def validate(epoch: int) -> dict:
        return wtrain.validate(HeadOnly(model), val_set.loader(batch_size), dev)

    def save(row: dict) -> None:
        history.append(row)
        improved = row["val_mean_f1"] > best["score"]
        if improved:
            best.update(epoch=row["epoch"], score=row["val_mean_f1"], metrics=row)
        checkpoint = wtrain.model_checkpoint(model, epoch=row["epoch"], metrics=row, best=best,
                                             train_args=args, history=history)
        if improved:
            wtrain.save_checkpoint(checkpoint, out / "best.pt")
        wtrain.save_checkpoint(checkpoint, out / "last.pt")
        wtrain.write_history(history, out)
        say(f"epoch {row['epoch']}/{epochs}  train loss {row['train_loss']:.3f}  val loss {row['val_loss']:.3f}  "
            + "  ".join(f"{t} F1 {row[f'val_{t}_f1']:.3f}" for t in labels.TASKS)
            + f"  ({row['seconds']:.1f}s){'  *best' if improved else ''}")
        if patience and row["epoch"] - best["epoch"] >= patience:
            raise StopIteration

    fit_head(model, batches, epochs, lr=lr, weight_decay=weight_decay, device=dev, progress=progress,
             on_epoch=validate, after_epoch=save)
    return wtrain.TrainResult(out=out, best_epoch=best["epoch"], best_score=best["score"],
                              best_metrics=best["metrics"], epochs_done=len(history),
                              stopped_early=len(history) < epochs, history=history)
