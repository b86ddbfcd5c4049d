"""The torch Dataset over a dataset directory, its transforms and DataLoaders.

Items are ``(image, targets)``: a normalised float tensor [3, H, W] and a long tensor [3] of class
indices in `labels.TASKS` order (artist, genre, style), -1 where the label is unknown.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, default_collate
from torchvision.transforms import v2

from . import images, index, labels

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
log = logging.getLogger(__name__)


def train_transform(image_size: int) -> v2.Compose:
    """Random crop of 35-100% of the painting, flip, mild colour jitter, ImageNet normalisation."""
    return v2.Compose([
        v2.PILToTensor(),
        v2.RandomResizedCrop(image_size, scale=(0.35, 1.0), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.ColorJitter(brightness=0.1, contrast=0.1),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def eval_transform(image_size: int) -> v2.Compose:
    """Short side to image_size, centre crop: the whole painting's centre, no randomness."""
    return v2.Compose([
        v2.PILToTensor(),
        v2.Resize(image_size, antialias=True),
        v2.CenterCrop(image_size),
        v2.ToDtype(torch.float32, scale=True),
        v2.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])


def denormalize(batch: torch.Tensor) -> torch.Tensor:
    """Undo ImageNet normalisation for display (values clipped to [0, 1])."""
    mean = torch.tensor(IMAGENET_MEAN, device=batch.device).view(-1, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=batch.device).view(-1, 1, 1)
    return (batch * std + mean).clamp(0, 1)


def encode_targets(row) -> torch.Tensor:
    return torch.tensor([labels.encode(task, row[task]) for task in labels.TASKS], dtype=torch.long)


class WikiArtDataset(Dataset):
    """One split of a dataset directory. A file that fails to decode yields None (see `collate_skip_bad`).

    `unknown_artist_as` relabels unknown artists as one real artist, the convention of an older project
    (it used albrecht-durer); only for measuring how much that inflates artist accuracy.
    """

    def __init__(self, root: str | Path, split: str | None = "train", image_size: int = 224,
                 transform=None, train: bool | None = None, unknown_artist_as: str | None = None):
        self.root = Path(root)
        self.meta = index.read_metadata(self.root, split)
        self.image_size = image_size
        train = (split == "train") if train is None else train
        self.transform = transform or (train_transform if train else eval_transform)(image_size)
        self.paths = self.meta["path"].tolist()
        self.targets = torch.stack([encode_targets(r) for _, r in self.meta.iterrows()]) if len(self.meta) \
            else torch.empty(0, len(labels.TASKS), dtype=torch.long)
        if unknown_artist_as:  # an older project's convention, kept only to measure how it inflates scores
            column = self.targets[:, labels.TASKS.index("artist")]
            column[column == labels.UNKNOWN] = labels.vocab("artist").index(unknown_artist_as)

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, i: int):
        """The decoded RGB PIL image of item i (draft-decoded to about 1.15x the training size)."""
        return images.open_rgb(self.root / self.paths[i], min_side=int(self.image_size * 1.15))

    def __getitem__(self, i: int):
        try:
            image = self.load(i)
        except images.BadImage as exc:
            log.warning("skipping %s: %s", self.paths[i], exc)
            return None
        return self.transform(image), self.targets[i]


def collate_skip_bad(batch):
    """default_collate without the items that failed to decode, so one bad file never ends an epoch."""
    batch = [item for item in batch if item is not None]
    if not batch:
        return None
    return default_collate(batch)


def default_workers() -> int:
    return min(8, max(0, (os.cpu_count() or 1) - 1))


def make_loader(dataset: Dataset, batch_size: int = 64, shuffle: bool = False, workers: int | None = None,
                seed: int = 0, drop_last: bool = False, sampler=None) -> DataLoader:
    """DataLoader with the settings that keep a GPU fed: pinned memory, persistent workers, prefetch."""
    workers = default_workers() if workers is None else workers
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset, batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
        num_workers=workers, collate_fn=collate_skip_bad, pin_memory=torch.cuda.is_available(),
        persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None,
        drop_last=drop_last, generator=generator,
    )


def measure_throughput(loader: DataLoader, max_batches: int = 10) -> dict[str, float]:
    """Images per second a DataLoader delivers (after one warm-up batch), to see if it can feed a GPU."""
    import time

    iterator = iter(loader)
    next(iterator)  # warm-up: worker start, first decode
    images_seen, start = 0, time.perf_counter()
    for _, batch in zip(range(max_batches), iterator):
        if batch is not None:
            images_seen += len(batch[0])
    seconds = time.perf_counter() - start
    return {"images": images_seen, "seconds": round(seconds, 3),
            "images_per_s": round(images_seen / seconds, 1) if seconds else float("nan")}


def dataset_dir(data_dir: str | Path | None = None, sample_n: int = 2000, sample_size: int = 96) -> Path:
    """The dataset directory a notebook runs on: `data_dir` if given, else the embedded sample
    (generated on first use into data/sample). Prints which, so every notebook says what data it shows."""
    from . import sample

    if data_dir:
        root = Path(data_dir)
        meta = index.read_metadata(root)
        print(f"Data: {root.name}/ ({len(meta):,} images, a real dataset directory)")
    else:
        root = sample.ensure_sample(None, n=sample_n, size=sample_size)
        meta = index.read_metadata(root)
        print(f"Data: the embedded synthetic sample data/sample/ ({len(meta):,} images, {sample_size} px): "
              "labels drawn from WikiArt's real frequencies, pixels synthetic")
    return root
