"""Feature caching for frozen backbones: run the backbone over a split once, then train only the head.

With a frozen backbone every epoch recomputes the same tokens; caching them makes a head epoch cost
the LSTM alone (`python benchmarks/bench_features.py` measures by how much):

    model = models.build_model("resnet18_lstm_patch", pretrained=True, image_size=224)
    cache = CachedFeatureDataset(extract_features(model, WikiArtDataset(root, "val", 224, train=False), "f/val"))
    logits = HeadOnly(model)(cache.batch([0, 1, 2])[0])       # the head alone, on cached tokens

`train.train(..., freeze_backbone=True, cached_features=True)` does this for the train and val splits
and runs the usual training loop (`engine`) on the cached tokens.

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
from typing import Iterator

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm.auto import tqdm

from .. import data, fsutil, labels, runtime
from . import onnx_tokens

CACHE_VERSION = 3  # 2: images reach the model as uint8 and are normalised inside it; 3: keyed by the backbone alone
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


def backbone_identity(model: nn.Module) -> dict:
    """What a backbone's tokens depend on besides its weights: its class, the image size it was built for and
    its own settings (`key`: e.g. EfficientNet-Lite0's summary and cut). Not the reader: runs with other
    readers over the same backbone share one cache."""
    backbone = getattr(model, "backbone", model)
    config = getattr(model, "config", None) or {}
    return {"backbone": type(backbone).__name__, "image_size": config.get("image_size"),
            **getattr(backbone, "key", {})}


def fingerprint(model: nn.Module, dataset: Dataset) -> dict:
    """What a cache is the cache of (meta.json's "fingerprint"): the backbone, its weights, the data."""
    found = {"version": CACHE_VERSION, "backbone": backbone_identity(model),
             "backbone_sha256": backbone_fingerprint(model), "dataset": dataset_fingerprint(dataset)}
    return json.loads(json.dumps(found))  # tuples -> lists, as they come back from disk


def shared_cache_path(folder: str | Path, model: nn.Module, dataset: Dataset, split: str) -> Path:
    """`folder/<split>-<12 hex>`: the cache of this backbone and these paintings inside a folder that runs share
    (`train --features-dir`), named by its fingerprint, so two backbones or two datasets never meet."""
    digest = hashlib.sha256(json.dumps(fingerprint(model, dataset), sort_keys=True).encode()).hexdigest()
    return Path(folder) / f"{split}-{digest[:12]}"


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
    images, targets = data.collate_skip_bad([batch[i] for i in good])
    return images, targets, torch.tensor(good, dtype=torch.long), len(batch)


def _part_dir(out: Path) -> Path:
    return out.with_name(out.name + ".part")


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None


class _PartialCache:
    """The arrays of a cache being written under `<out>.part/`, resumable after an interruption."""

    def __init__(self, part: Path, fingerprint: dict, n: int):
        self.part, self.progress_file = part, part / "progress.json"
        state = _read_json(self.progress_file)
        files = [part / name for name in ("targets.npy", "valid.npy", "tokens.npy")]
        if state is None or state.get("fingerprint") != fingerprint or not all(f.is_file() for f in files):
            # nothing to resume, another job's leftovers, or an incomplete one: start afresh
            shutil.rmtree(part, ignore_errors=True)
            part.mkdir(parents=True)
            state = {"fingerprint": fingerprint, "done": 0, "token_shape": None}
        fsutil.remove_stale_parts(part)
        self.state, self.n = state, n
        mode = "r+" if self.done else "w+"
        self.targets = np.lib.format.open_memmap(part / "targets.npy", mode=mode, dtype=np.int64,
                                                 shape=(n, len(labels.TASKS)))
        self.valid = np.lib.format.open_memmap(part / "valid.npy", mode=mode, dtype=np.bool_, shape=(n,))
        if not self.done:
            self.targets[:] = labels.UNKNOWN  # rows of undecodable items: -1 targets, zero tokens, valid False
        self.tokens = (np.lib.format.open_memmap(part / "tokens.npy", mode="r+")
                       if self.done and state["token_shape"] else None)

    @property
    def done(self) -> int:
        return int(self.state["done"])

    def write(self, rows: np.ndarray, tokens: np.ndarray, targets: np.ndarray) -> None:
        if self.tokens is None:
            self.state["token_shape"] = list(tokens.shape[1:])
            self.tokens = np.lib.format.open_memmap(self.part / "tokens.npy", mode="w+", dtype=np.float16,
                                                    shape=(self.n, *tokens.shape[1:]))
        self.tokens[rows], self.targets[rows], self.valid[rows] = tokens, targets, True

    def flush(self, upto: int) -> None:
        for array in (self.tokens, self.targets, self.valid):
            if array is not None:
                array.flush()
        self.state["done"] = upto
        fsutil.atomic_write_text(self.progress_file, json.dumps(self.state))

    def finish(self, out: Path, meta: dict) -> None:
        """Close the memory maps, write meta.json and rename the finished cache into place."""
        meta.update(shape=[self.n, *self.state["token_shape"]], n_valid=int(np.count_nonzero(self.valid)))
        self.tokens = self.targets = self.valid = None
        self.progress_file.unlink()
        fsutil.atomic_write_text(self.part / "meta.json", json.dumps(meta))
        if out.exists():
            shutil.rmtree(out)
        os.replace(self.part, out)


def _reuse_or_refuse(out: Path, fingerprint: dict, overwrite: bool) -> bool:
    """True when `out` already holds this cache; FileExistsError when it holds something else."""
    meta = _read_json(out / "meta.json")
    if meta is not None:
        if meta.get("fingerprint") == fingerprint:
            return True
        if not overwrite:
            raise FileExistsError(f"{out} holds features of another model or dataset: delete it, pass "
                                  f"overwrite=True, or choose another path")
    elif out.exists() and not overwrite and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not a feature cache; choose another path")
    return False


ENGINES = ("auto", "torch", "onnx")


def token_engine(model: nn.Module, dev: torch.device, engine: str, image_size: int | None,
                 first: torch.Tensor | None) -> tuple:
    """(images -> tokens as float32 numpy, the engine's name). On a CPU, "auto" is ONNX Runtime when it is
    installed, the backbone exports (not `onnx_exportable = False`, as ViT-B/16's) and its tokens equal
    PyTorch's on the first batch (`onnx_tokens`), else PyTorch; on a GPU PyTorch, under float16 autocast
    (the cache is float16 anyway)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    exportable = getattr(getattr(model, "backbone", model), "onnx_exportable", True)
    if engine == "auto" and not exportable:
        engine = "torch"
    if engine != "torch" and dev.type == "cpu" and image_size and first is not None:
        if engine == "onnx" and not onnx_tokens.available():
            raise ValueError("engine='onnx' needs onnxruntime and onnx: pip install onnxruntime onnx")
        if onnx_tokens.available():
            try:
                return onnx_tokens.OnnxTokens(model, image_size, check=first[:8]), "onnxruntime"
            except RuntimeError as exc:
                if engine == "onnx":
                    raise
                print(f"features: {exc}; extracting with PyTorch", flush=True)
    cuda = dev.type == "cuda"

    def run(images: torch.Tensor):
        images = images.to(dev, non_blocking=True,
                           memory_format=torch.channels_last if cuda else torch.contiguous_format)
        with torch.autocast(dev.type, dtype=torch.float16, enabled=cuda):
            return model.tokens(images).float().cpu().numpy()
    return run, "torch"


@torch.no_grad()
def extract_features(model: nn.Module, dataset: Dataset, out_path: str | Path, batch_size: int = 64,
                     device: str | torch.device | None = None, workers: int = 0, overwrite: bool = False,
                     flush_every_s: float = 30.0, progress: bool = True, engine: str = "auto") -> Path:
    """Run `model.tokens` over every item of `dataset` once and write the cache directory `out_path`.

    The model is put in eval mode (frozen BatchNorm statistics, no dropout). `engine` (`token_engine`):
    on a CPU ONNX Runtime by default, checked against PyTorch; on CUDA float16 autocast. Returns
    `out_path`. If `out_path` already holds the cache of this model and dataset it is returned as is; a
    cache of anything else raises FileExistsError unless `overwrite`. An interrupted run continues from
    `<out_path>.part/`.
    """
    _check_no_augmentation(dataset)
    out = Path(out_path)
    dev = torch.device(device) if device is not None else runtime.pick_device()
    made_by = fingerprint(model, dataset)
    if _reuse_or_refuse(out, made_by, overwrite):
        return out
    n = len(dataset)
    if n == 0:
        raise ValueError("extract_features: the dataset is empty")
    cache = _PartialCache(_part_dir(out), made_by, n)
    model.to(dev).eval()
    cuda = dev.type == "cuda"
    if cuda:
        model.to(memory_format=torch.channels_last)
    loader = DataLoader(Subset(dataset, range(cache.done, n)), batch_size=batch_size, shuffle=False,
                        num_workers=workers, collate_fn=_collate_keep_positions, pin_memory=cuda)
    start, last_flush, position = time.time(), time.time(), cache.done
    bar = tqdm(total=n, initial=cache.done, desc=f"features {out.name}", disable=not progress, leave=False)
    run, used = None, None
    for images, batch_targets, good, count in loader:
        if images is not None:
            if run is None:  # the first batch checks the engine against PyTorch
                run, used = token_engine(model, dev, engine, getattr(dataset, "image_size", None), images)
            tokens = np.clip(run(images), -FP16_MAX, FP16_MAX).astype(np.float16)
            cache.write(position + good.numpy(), tokens, batch_targets.numpy())
        position += count
        bar.update(count)
        if cache.tokens is not None and time.time() - last_flush > flush_every_s:
            cache.flush(position)
            last_flush = time.time()
    bar.close()
    if cache.tokens is None:
        raise ValueError("extract_features: no image of the dataset could be decoded")
    cache.flush(position)
    cache.finish(out, {"version": CACHE_VERSION, "dtype": "float16", "tasks": list(labels.TASKS),
                       "fingerprint": made_by, "paths": [str(p) for p in getattr(dataset, "paths", [])],
                       "seconds_this_session": round(time.time() - start, 2),
                       "engine_this_session": used})
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
# Training on a cache: `train.train(..., cached_features=True)` feeds these to `engine.train_one_epoch`

class HeadOnly(nn.Module):
    """`model.head` as a module taking tokens: what the training loop steps and evaluates on a cache,
    with the same loss and metric code as a run on images. `train()` keeps the frozen backbone in eval."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.model.head(tokens)


def check_cache_matches(model: nn.Module, cache: CachedFeatureDataset) -> None:
    """Raise ValueError when `cache` was not made by this model's backbone weights (same config and bytes)."""
    made_by = cache.meta["fingerprint"]
    identity = json.loads(json.dumps(backbone_identity(model)))
    if made_by.get("backbone") != identity:
        raise ValueError(f"{cache.path} was extracted with {made_by.get('backbone')}, not this backbone ({identity})")
    if made_by.get("backbone_sha256") != backbone_fingerprint(model):
        raise ValueError(f"{cache.path} was extracted with other backbone weights than this model's")


def cached_split(model: nn.Module, dataset: Dataset, path: str | Path, device: torch.device, workers: int = 0,
                 progress: bool = True) -> CachedFeatureDataset:
    """The feature cache of `dataset` (eval transform) under `path`: reused when this backbone made it (a
    resumed run), extracted afresh otherwise. Extracting draws from the global RNG (each DataLoader iterator
    takes a seed), so it runs on a forked RNG: a run trains the same whether its cache was made now or reused."""
    with torch.random.fork_rng(devices=[]):
        extract_features(model, dataset, path, device=device, workers=workers, overwrite=True, progress=progress)
    cache = CachedFeatureDataset(path)
    check_cache_matches(model, cache)
    return cache
