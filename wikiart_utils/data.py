"""The torch Dataset over a dataset directory, its transforms and DataLoaders.

Items are ``(image, targets)``: a uint8 tensor [3, H, W] and a long tensor [3] of class indices in
`labels.TASKS` order (artist, genre, style), -1 where the label is unknown.

Images stay uint8 until they reach the model, which normalises them on its own device (`normalize`, as
the first step of `MultitaskNet.tokens`): the loader workers skip a float pass over every pixel, and a
batch is 4x fewer bytes in pinned memory and over the host-to-GPU link (the design of FFCV/DALI loaders).
"""
from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, default_collate
from torchvision.transforms import v2

from . import images, labels, metadata, splits
from .config import TrainConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)  # what torchvision's ImageNet weights were trained with
IMAGENET_STD = (0.229, 0.224, 0.225)
SIGNED_UNIT = ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # pixels to [-1, 1]: TensorFlow's EfficientNet-Lite models
EVAL_CROP = 224 / 256  # centre crop / resize, as torchvision's ImageNet weights' own eval transforms
log = logging.getLogger(__name__)


def eval_resize(image_size: int) -> int:
    """Short side before the centre crop: 256 for 224 px. `prepare --size 256` stores exactly this, so
    evaluation on a prepared directory resizes nothing, and originals draft-decode to it."""
    return round(image_size / EVAL_CROP)


# The training augmentation, measured on real paintings (benchmarks/RESULTS.md, "recipe"): crops keep at
# least half of the painting, and no colour jitter -- palette is evidence of style, not noise to hide.
CROP_SCALE = TrainConfig.crop_scale      # smallest share of the painting a training crop keeps
COLOR_JITTER = TrainConfig.color_jitter  # brightness and contrast jitter (0 = none)


def train_transform(image_size: int, crop_scale: float = CROP_SCALE, color_jitter: float = COLOR_JITTER) -> v2.Compose:
    """Random crop of `crop_scale`-100% of the painting, flip, brightness/contrast jitter if `color_jitter`;
    uint8 out (see `normalize`)."""
    steps = [v2.PILToTensor(), v2.RandomResizedCrop(image_size, scale=(crop_scale, 1.0), antialias=True),
             v2.RandomHorizontalFlip()]
    if color_jitter:
        steps.append(v2.ColorJitter(brightness=color_jitter, contrast=color_jitter))
    return v2.Compose(steps)


def eval_transform(image_size: int) -> v2.Compose:
    """Short side to eval_resize(image_size), centre crop: the painting's centre, no randomness; uint8 out."""
    return v2.Compose([
        v2.PILToTensor(),
        v2.Resize(eval_resize(image_size), antialias=True),
        v2.CenterCrop(image_size),
    ])


def _make_constants(device: torch.device, scale: float, repeat: int, mean: tuple = IMAGENET_MEAN,
                    std: tuple = IMAGENET_STD) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(mean, device=device) * scale
    inv_std = 1.0 / (torch.tensor(std, device=device) * scale)
    return mean.repeat(repeat), inv_std.repeat(repeat)


_cached_constants = functools.lru_cache(maxsize=64)(_make_constants)


def _normalize_constants(device: torch.device, scale: float, repeat: int, mean: tuple,
                         std: tuple) -> tuple[torch.Tensor, torch.Tensor]:
    """Cached per (device, dtype scale, width, mean, std) in eager mode (it is per image in the loader bench);
    built afresh under torch.compile, which folds them into the graph and cannot trace a cache."""
    if torch.compiler.is_compiling():
        return _make_constants(device, scale, repeat, mean, std)
    return _cached_constants(device, scale, repeat, tuple(mean), tuple(std))


def normalize(images: torch.Tensor, mean: tuple = IMAGENET_MEAN, std: tuple = IMAGENET_STD) -> torch.Tensor:
    """uint8 images (0-255) or floats in [0, 1] -> (x - mean) / std in float32, on the images' device.

    The default is the ImageNet mean/std of torchvision's weights; a backbone trained with another input
    scaling names its own (`models.MultitaskNet.tokens` passes the backbone's `mean` and `std`).

    The memory format is kept. A channels_last batch (what `collate_skip_bad` makes) is normalised as rows
    of interleaved RGB values against a per-row pattern of the constants: broadcasting (3, 1, 1) over
    that layout would be ~4x slower on a CPU.
    """
    if images.ndim not in (3, 4) or images.shape[-3] != 3:
        raise ValueError(f"normalize needs RGB images [3, H, W] or [B, 3, H, W], got {tuple(images.shape)}")
    scale = 255.0 if images.dtype == torch.uint8 else 1.0
    if images.ndim == 4 and images.is_contiguous(memory_format=torch.channels_last) and not images.is_contiguous():
        n, c, h, w = images.shape
        mean, inv_std = _normalize_constants(images.device, scale, w, mean, std)
        rows = images.permute(0, 2, 3, 1).reshape(n * h, w * c).to(torch.float32, copy=True)  # never the input
        return rows.sub_(mean).mul_(inv_std).view(n, h, w, c).permute(0, 3, 1, 2)
    mean, inv_std = _normalize_constants(images.device, scale, 1, mean, std)
    return (images.float() - mean.view(-1, 1, 1)) * inv_std.view(-1, 1, 1)


def to_display(images: torch.Tensor) -> torch.Tensor:
    """Dataset images (uint8) as floats in [0, 1], for plotting."""
    return images.float() / 255.0 if images.dtype == torch.uint8 else images.float().clamp(0, 1)


def encode_targets(row) -> torch.Tensor:
    return torch.tensor([labels.encode(task, row[task]) for task in labels.TASKS], dtype=torch.long)


class WikiArtDataset(Dataset):
    """One split of a dataset directory. A file that fails to decode yields None (see `collate_skip_bad`).

    `limit` keeps a style-stratified part of the split (`splits.stratified_part`), for runs on a stated
    part of the data when whole epochs are too slow.
    """

    def __init__(self, root: str | Path, split: str | None = "train", image_size: int = TrainConfig.image_size,
                 transform=None, train: bool | None = None, limit: int | None = None):
        self.root = Path(root)
        self.meta = splits.stratified_part(metadata.read_metadata(self.root, split), limit).reset_index(drop=True)
        self.image_size = image_size
        train = (split == "train") if train is None else train
        self.transform = transform or (train_transform if train else eval_transform)(image_size)
        self.paths = self.meta["path"].tolist()
        self.targets = torch.stack([encode_targets(r) for _, r in self.meta.iterrows()]) if len(self.meta) \
            else torch.empty(0, len(labels.TASKS), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.paths)

    def load(self, i: int) -> torch.Tensor:
        """Item i decoded to uint8 [3, H, W] with a short side >= eval_resize(image_size): a 1280x1024 JPEG
        is DCT-scaled by 1/4 to 320x256 for 224 px, the size `prepare` stores."""
        return images.decode(self.root / self.paths[i], min_side=eval_resize(self.image_size))

    def __getitem__(self, i: int):
        try:
            image = self.load(i)
        except images.BadImage as exc:
            log.warning("skipping %s: %s", self.paths[i], exc)
            return None
        return self.transform(image), self.targets[i]


def stack_images(images: list[torch.Tensor]) -> torch.Tensor:
    """[3, H, W] images of one size -> a channels_last batch [B, 3, H, W], the layout the CNNs run fastest
    in on a GPU. Eval items are HWC views of the decoded array, so each is a plain copy (a contiguous NCHW
    stack would transpose it). In a DataLoader worker the batch is built in shared memory, as
    default_collate does, so passing it to the main process copies nothing."""
    shape = images[0].shape
    if len(shape) != 3 or any(image.shape != shape for image in images):
        raise ValueError(f"stack_images needs [C, H, W] images of one size, got {[tuple(i.shape) for i in images]}")
    (c, h, w), n = shape, len(images)
    if torch.utils.data.get_worker_info() is not None:
        storage = images[0]._typed_storage()._new_shared(n * c * h * w, device=images[0].device)
        nhwc = images[0].new(storage).view(n, h, w, c)
    else:
        nhwc = torch.empty((n, h, w, c), dtype=images[0].dtype)
    batch = nhwc.permute(0, 3, 1, 2)
    for row, image in zip(batch, images):
        row.copy_(image)
    return batch


def collate_skip_bad(batch):
    """Batches of (image, *fields) items without those that failed to decode, so one bad file never ends
    an epoch; images stacked by `stack_images`, the other fields by default_collate."""
    batch = [item for item in batch if item is not None]
    if not batch:
        return None
    images, *fields = zip(*batch)
    return (stack_images(list(images)), *(default_collate(list(field)) for field in fields))


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


REAL_SAMPLE = Path(__file__).resolve().parents[1] / "data" / "real-sample"
SYNTHETIC = "synthetic"


def dataset_dir(data_dir: str | Path | None = None) -> Path:
    """The dataset directory a notebook runs on, announced so every notebook says what data it shows:

    * None: the embedded real sample `data/real-sample/` (2,426 public-domain WikiArt paintings, 128 px);
    * "synthetic": the synthetic sample (pixels made up, labels drawn from WikiArt's frequencies), made on
      first use into data/sample -- what the unit tests use;
    * anything else: a dataset directory with metadata.csv (e.g. the real WikiArt, prepared).
    """
    from .ingest import sample

    if data_dir is None:
        if not (REAL_SAMPLE / metadata.METADATA).is_file():
            raise FileNotFoundError(f"{REAL_SAMPLE} is missing: it ships with the course repository "
                                    f"(git clone it), or pass a dataset directory")
        root, what = REAL_SAMPLE, "the embedded real sample data/real-sample/ (public-domain WikiArt paintings)"
    elif str(data_dir) == SYNTHETIC:
        root = sample.ensure_sample(None)
        what = "the synthetic sample data/sample/ (labels drawn from WikiArt's frequencies, pixels synthetic)"
    else:
        root, what = Path(data_dir), f"{Path(data_dir).name}/ (a dataset directory)"
    meta = metadata.read_metadata(root)
    sizes = f"{meta['width'].median():.0f}x{meta['height'].median():.0f} px median" if "width" in meta else ""
    print(f"Data: {what}: {len(meta):,} images{', ' + sizes if sizes else ''}")
    return root
