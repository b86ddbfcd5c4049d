"""A GPU input path for machines with few CPU cores: workers read bytes, the GPU decodes and augments.

On a Colab-class machine (one GPU, ~2 CPU cores) two DataLoader workers cannot decode and augment JPEGs
as fast as the GPU trains on them. Here the workers only read each file's bytes (`EncodedDataset`), the
main process decodes a whole batch at once with nvJPEG (`decode_batch`: `torchvision.io.decode_jpeg` on
a list with device="cuda"), and the per-sample crop, flip and colour jitter run on the GPU as well
(`GpuTrainTransform`, `GpuEvalTransform`). `GpuBatches` yields ``(uint8 images, targets)`` batches like
`data.make_loader` does, already on the device, so the training loop does not change:

    loader = gpu_input.make_gpu_loader(train_set, 64, shuffle=True, workers=2, device="cuda", train=True)

Files nvJPEG should not decode -- not JPEGs (PNG, GIF...), EXIF-rotated, CMYK, headers claiming more
than `images.MAX_PIXELS` -- and any file the batched call refuses are decoded one by one on the CPU by
`images.decode`, the decoder of the CPU path, and a file that fails there too is dropped with a warning.
Images stay uint8: `data.normalize` runs inside the model, as on the CPU path. Nothing here needs CUDA to
import or run; on a CPU device everything works the same way (decode_jpeg on the CPU), which the tests use.
"""
from __future__ import annotations

import functools
import io
import logging
import math
import warnings
from pathlib import Path
from typing import Iterator, Sequence

import torch
import torchvision
from torch.utils.data import DataLoader, Dataset
from torchvision.io import ImageReadMode
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from .. import data, images
from ..config import DECODE_CHOICES, TrainConfig

log = logging.getLogger(__name__)
_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


# ----------------------------------------------------------------------------------------------------
# Workers: file bytes only

class EncodedDataset(Dataset):
    """A `data.WikiArtDataset` whose items are the files' raw bytes: ``(uint8 [n_bytes], targets, index)``.

    Reading a file costs a worker microseconds where decoding and augmenting it cost milliseconds, so
    two workers keep up with a GPU. A file that cannot be read yields None (`collate_encoded` drops it);
    one that reads but does not decode is dropped later by `decode_batch`, with the reason.
    """

    def __init__(self, dataset: data.WikiArtDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def path(self, i: int) -> Path:
        return Path(self.dataset.root) / self.dataset.paths[i]

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int] | None:
        try:
            with open(self.path(i), "rb", buffering=0) as handle:
                buffer = bytearray(handle.seek(0, io.SEEK_END))
                handle.seek(0)
                n = handle.readinto(buffer)  # straight into the tensor's memory: no copy of the bytes
        except OSError as exc:
            log.warning("skipping %s: cannot read file (%s)", self.dataset.paths[i], exc.strerror or exc)
            return None
        del buffer[n:]  # the file shrank since its size was read
        encoded = torch.frombuffer(buffer, dtype=torch.uint8) if n else torch.empty(0, dtype=torch.uint8)
        return encoded, self.dataset.targets[i], i


def collate_encoded(batch: Sequence) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor] | None:
    """(list of byte tensors, targets [B, 3], dataset indices [B]) without the unreadable items; None if
    none is left.

    The bytes are views of one buffer, built in shared memory inside a worker (as `data.stack_images`
    does): handing one buffer to the main process costs it ~4x less than one shared tensor per file.
    """
    batch = [item for item in batch if item is not None]
    if not batch:
        return None
    encoded, targets, index = zip(*batch)
    lengths = [len(x) for x in encoded]
    total = sum(lengths)
    if torch.utils.data.get_worker_info() is not None and total:
        flat = encoded[0].new(encoded[0]._typed_storage()._new_shared(total, device="cpu"))
    else:
        flat = torch.empty(total, dtype=torch.uint8)
    torch.cat(encoded, out=flat)
    return list(torch.split(flat, lengths)), torch.stack(targets), torch.tensor(index, dtype=torch.long)


# ----------------------------------------------------------------------------------------------------
# Decoding

def _app1_orientation(payload: memoryview) -> int:
    """The Orientation tag of IFD0 in an APP1 Exif payload (1 if it has none); 0 = unsure, let Pillow
    decide (XMP naming an orientation, another APP1, a damaged IFD). A TIFF header and one IFD to read:
    ~10x faster than opening the file with Pillow."""
    if bytes(payload[:29]) == b"http://ns.adobe.com/xap/1.0/\x00":
        return 0 if b"Orientation" in bytes(payload) else 1
    if bytes(payload[:6]) != b"Exif\x00\x00" or bytes(payload[6:8]) not in (b"II", b"MM"):
        return 0
    tiff = payload[6:]
    order = "little" if bytes(tiff[:2]) == b"II" else "big"
    ifd = int.from_bytes(tiff[4:8], order)
    if ifd + 2 > len(tiff):
        return 0
    for entry in range(ifd + 2, ifd + 2 + 12 * int.from_bytes(tiff[ifd:ifd + 2], order), 12):
        if entry + 12 > len(tiff):
            return 0
        if int.from_bytes(tiff[entry:entry + 2], order) == 0x0112:
            return int.from_bytes(tiff[entry + 8:entry + 10], order)
    return 1


def _jpeg_header(data: memoryview) -> tuple[int, int, int, int] | None:
    """(height, width, components, orientation) of a JPEG from its segment headers up to the first scan;
    orientation 0 = unsure. None if `data` is no JPEG, has no frame header before its scan, or has no end
    marker after it (a truncated file: the CPU path, which refuses it, decides)."""
    if len(data) < 4 or data[0] != 0xFF or data[1] != 0xD8:
        return None
    pos, frame, exif, unsure = 2, None, None, False
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF or marker == 0x01 or 0xD0 <= marker <= 0xD7:  # fill byte, standalone markers
            pos += 1 if marker == 0xFF else 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no more headers
            if frame is None or (bytes(data[-2:]) != b"\xff\xd9" and b"\xff\xd9" not in bytes(data[pos:])):
                return None  # no frame, or cut off before its end marker (nvJPEG decodes the rest as grey)
            return (*frame, 0 if unsure or exif == 0 else exif or 1)
        end = pos + 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker in _FRAME_MARKERS and pos + 10 <= len(data):
            frame = (int.from_bytes(data[pos + 5:pos + 7], "big"), int.from_bytes(data[pos + 7:pos + 9], "big"),
                     data[pos + 9])
        elif marker == 0xE1:
            found = _app1_orientation(data[pos + 4:end])
            if bytes(data[pos + 4:pos + 10]) == b"Exif\x00\x00":
                exif = found if exif is None else exif  # Pillow reads the first Exif segment
            else:
                unsure |= found == 0
        pos = end
    return None


def _nvjpeg_ready(encoded: torch.Tensor) -> bool:
    """Whether `encoded` is a plain JPEG the batched decoder gives the same pixels as the CPU path for:
    YCbCr or grey (CMYK goes to Pillow, whose conversion the CPU path uses), upright (nvJPEG ignores
    EXIF orientation), and within images.MAX_PIXELS (a bomb is refused before any pixel is allocated).
    A walk over the segment headers: microseconds, no decoding; Pillow only if the orientation is unclear."""
    view = memoryview(encoded.numpy()) if len(encoded) else memoryview(b"")
    header = _jpeg_header(view)
    if header is None:
        return False
    height, width, components, orientation = header
    if orientation == 0:
        orientation = images.orientation(view)
    return components in (1, 3) and 0 < height * width <= images.MAX_PIXELS and orientation == 1


def _decode_jpegs(encoded: list[torch.Tensor], device: torch.device) -> list[torch.Tensor]:
    """torchvision's decode_jpeg on a list (one nvJPEG batch on CUDA), always RGB (grey/CMYK too)."""
    if not encoded:
        return []
    with warnings.catch_warnings():  # torchvision 0.29 deprecates its decoders for TorchCodec; still here
        warnings.simplefilter("ignore", DeprecationWarning)
        return torchvision.io.decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device)


def _decode_one(encoded: torch.Tensor, device: torch.device, name: str, try_jpeg: bool) -> torch.Tensor | None:
    """One file on its own: decode_jpeg on the device if `try_jpeg`, else (or if that fails) the CPU
    path's decoder, `images.decode`, moved to the device; None, with a warning, if neither can."""
    if try_jpeg:
        try:
            return _decode_jpegs([encoded], device)[0]
        except (RuntimeError, ValueError):
            pass  # Pillow may still read it (and says why not if it cannot)
    try:
        return images.decode(encoded.numpy().tobytes()).to(device)
    except images.BadImage as exc:
        log.warning("skipping %s: %s", name, exc)
        return None


def decode_batch(encoded: list[torch.Tensor], device: torch.device | str,
                 names: Sequence[str] | None = None) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Decode JPEG byte tensors (on the CPU) to uint8 RGB [3, H, W] images on `device`, all plain JPEGs
    in one batched call (nvJPEG on CUDA). Returns the images and a bool mask [len(encoded)] of the inputs
    they come from: an undecodable file is dropped with a logged warning (naming it by `names`, else by
    its position) and never fails the batch. If the batched call raises, its files are decoded one by
    one to find the bad ones; other files (see `_nvjpeg_ready`) go one by one to `images.decode`.
    """
    device = torch.device(device)
    names = list(names) if names is not None else [f"item {i}" for i in range(len(encoded))]
    fast = [i for i, x in enumerate(encoded) if _nvjpeg_ready(x)]
    decoded: dict[int, torch.Tensor | None] = {}
    try:
        decoded.update(zip(fast, _decode_jpegs([encoded[i] for i in fast], device)))
    except (RuntimeError, ValueError) as exc:
        log.info("batched decode_jpeg failed (%s): decoding %d files one by one", str(exc).splitlines()[0],
                 len(fast))
        decoded.update((i, _decode_one(encoded[i], device, names[i], True)) for i in fast)
    ready = set(fast)
    decoded.update((i, _decode_one(x, device, names[i], False)) for i, x in enumerate(encoded) if i not in ready)
    kept = torch.tensor([decoded[i] is not None for i in range(len(encoded))], dtype=torch.bool)
    return [decoded[i] for i in range(len(encoded)) if decoded[i] is not None], kept


@functools.lru_cache(maxsize=8)
def _decodes_on(device: torch.device) -> bool:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 30, 60)).save(buffer, format="JPEG")
    try:
        out = _decode_jpegs([torch.frombuffer(bytearray(buffer.getvalue()), dtype=torch.uint8)], device)
        return out[0].shape == (3, 16, 16) and out[0].device.type == device.type
    except Exception:  # an old torchvision (no lists, no CUDA decoding) or a build without nvJPEG
        return False


def available(device: torch.device | str = "cuda") -> bool:
    """Whether the GPU path can run on `device`: a CUDA device, and a torchvision whose decode_jpeg
    decodes there (built with nvJPEG), checked once per device on a 16x16 JPEG."""
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    if device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return _decodes_on(device)


# ----------------------------------------------------------------------------------------------------
# Transforms on the device: a list of [3, H, W] uint8 images of any sizes -> one uint8 batch

def _empty_batch(n: int, size: int, like: torch.Tensor) -> torch.Tensor:
    """An uninitialised channels_last uint8 batch [n, 3, size, size] on `like`'s device."""
    return torch.empty((n, size, size, 3), dtype=torch.uint8, device=like.device).permute(0, 3, 1, 2)


def crop_params(sizes: torch.Tensor, scale: tuple[float, float], ratio: tuple[float, float],
                generator: torch.Generator | None = None, tries: int = 10) -> torch.Tensor:
    """RandomResizedCrop boxes (top, left, height, width) [B, 4] for images of `sizes` (height, width)
    [B, 2], by the rule of torchvision's `RandomResizedCrop.get_params`, for the whole batch at once:
    up to `tries` draws of an area fraction in `scale` and a log-uniform aspect ratio in `ratio`, the
    first that fits wins, at a uniform position; if none fits, the largest centred crop whose aspect
    ratio is clamped into `ratio`. Drawn on the CPU from `generator`, so a seed reproduces them."""
    n = len(sizes)
    height, width = sizes[:, :1].double(), sizes[:, 1:].double()
    area = torch.empty(n, tries, dtype=torch.float64).uniform_(scale[0], scale[1], generator=generator)
    area = area * height * width
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(torch.empty(n, tries, dtype=torch.float64).uniform_(log_lo, log_hi, generator=generator))
    w, h = torch.sqrt(area * aspect).round(), torch.sqrt(area / aspect).round()
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = fits.to(torch.uint8).argmax(dim=1, keepdim=True)
    h, w = h.gather(1, first).squeeze(1), w.gather(1, first).squeeze(1)
    height, width = height.squeeze(1), width.squeeze(1)
    position = torch.rand(n, 2, dtype=torch.float64, generator=generator)
    top = (position[:, 0] * (height - h + 1)).floor()
    left = (position[:, 1] * (width - w + 1)).floor()
    # fallback: the whole image, its aspect ratio clamped into `ratio`, centred
    in_ratio = width / height
    low, high = min(ratio), max(ratio)
    fb_w = torch.where(in_ratio > high, (height * high).round(), width)
    fb_h = torch.where(in_ratio < low, (width / low).round(), height)
    found = fits.any(dim=1)
    h, w = torch.where(found, h, fb_h), torch.where(found, w, fb_w)
    top = torch.where(found, top, ((height - h) / 2).floor())
    left = torch.where(found, left, ((width - w) / 2).floor())
    return torch.stack([top, left, h, w], dim=1).long()


def _brightness(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """v2.functional.adjust_brightness of uint8 images, on integer-valued floats: x * factor, clamped
    and truncated as its cast back to uint8 does."""
    return x.mul(factor).clamp_(0, 255).floor_()


def _contrast(x: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
    """v2.functional.adjust_contrast of uint8 images: a blend with the mean of the floored grayscale
    image (ITU-R 601 weights), clamped and truncated."""
    r, g, b = x.unbind(dim=1)
    gray = r.mul(0.2989).add_(g, alpha=0.587).add_(b, alpha=0.114).floor_()
    mean = gray.mean(dim=(1, 2)).view(-1, 1, 1, 1)
    return x.mul(factor).add_(mean * (1.0 - factor)).clamp_(0, 255).floor_()


def color_jitter(batch: torch.Tensor, brightness: float, contrast: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample v2.ColorJitter(brightness, contrast) on a uint8 batch [B, 3, H, W]: factors uniform in
    [1 - b, 1 + b] and [1 - c, 1 + c], applied in a random order per sample, as ColorJitter's random
    permutation does; uint8 out, in the batch's memory format. Parameters drawn on the CPU."""
    n = len(batch)
    b = torch.empty(n, dtype=torch.float32).uniform_(1 - brightness, 1 + brightness, generator=generator)
    c = torch.empty(n, dtype=torch.float32).uniform_(1 - contrast, 1 + contrast, generator=generator)
    brightness_first = torch.rand(n, generator=generator) < 0.5
    b, c, brightness_first = (t.to(batch.device, non_blocking=True).view(-1, 1, 1, 1)
                              for t in (b, c, brightness_first))
    x = batch.float()
    x = torch.where(brightness_first, _brightness(x, b), _contrast(x, c))
    x = torch.where(brightness_first, _contrast(x, c), _brightness(x, b))
    memory_format = torch.channels_last if batch.is_contiguous(memory_format=torch.channels_last) \
        else torch.contiguous_format
    return x.to(torch.uint8).contiguous(memory_format=memory_format)


class GpuTrainTransform:
    """`data.train_transform` on the device, for a list of decoded images of different sizes: per
    sample a RandomResizedCrop (antialiased, as v2's), a horizontal flip with probability 1/2 and a
    brightness/contrast jitter; one channels_last uint8 batch [B, 3, S, S] out. Every random parameter
    comes from the `generator` passed in (the global CPU one if None), so a seed replays an epoch."""

    def __init__(self, image_size: int, scale: tuple[float, float] = (data.CROP_SCALE, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3), flip: bool = True,
                 jitter: tuple[float, float] | None = (data.COLOR_JITTER, data.COLOR_JITTER)):
        self.image_size, self.scale, self.ratio, self.flip = image_size, scale, ratio, flip
        self.jitter = jitter if jitter and any(jitter) else None

    def __call__(self, decoded: Sequence[torch.Tensor], generator: torch.Generator | None = None) -> torch.Tensor:
        size, n = self.image_size, len(decoded)
        sizes = torch.tensor([tuple(x.shape[-2:]) for x in decoded], dtype=torch.long).view(n, 2)
        boxes = crop_params(sizes, self.scale, self.ratio, generator).tolist()
        flips = (torch.rand(n, generator=generator) < 0.5).tolist() if self.flip else [False] * n
        batch = _empty_batch(n, size, decoded[0])
        for row, image, (top, left, h, w), flip in zip(batch, decoded, boxes, flips):
            crop = TF.resized_crop(image, top, left, h, w, [size, size], antialias=True)
            row.copy_(crop.flip(-1) if flip else crop)
        if self.jitter is not None:
            batch = color_jitter(batch, *self.jitter, generator=generator)
        return batch

    def __repr__(self) -> str:
        return (f"GpuTrainTransform(image_size={self.image_size}, scale={self.scale}, ratio={self.ratio}, "
                f"flip={self.flip}, jitter={self.jitter})")


class GpuEvalTransform:
    """`data.eval_transform` on the device: short side to `data.eval_resize(image_size)` (antialiased
    bilinear), centre crop; one channels_last uint8 batch [B, 3, S, S] out. No randomness."""

    def __init__(self, image_size: int):
        self.image_size = image_size
        self.resize = data.eval_resize(image_size)

    def __call__(self, decoded: Sequence[torch.Tensor], generator: torch.Generator | None = None) -> torch.Tensor:
        size = self.image_size
        batch = _empty_batch(len(decoded), size, decoded[0])
        for row, image in zip(batch, decoded):
            row.copy_(TF.center_crop(TF.resize(image, [self.resize], antialias=True), [size, size]))
        return batch

    def __repr__(self) -> str:
        return f"GpuEvalTransform(image_size={self.image_size})"


# ----------------------------------------------------------------------------------------------------
# The loader

class GpuBatches:
    """Batches of a DataLoader over an `EncodedDataset` (collate_encoded), decoded and transformed on
    `device`: yields ``(uint8 images [B, 3, S, S] channels_last, targets [B, 3])`` on the device, or None
    when no file of a batch decoded -- what `data.make_loader`'s loader yields, so a training loop that
    moves batches with ``.to(device)`` runs unchanged (the move is then a no-op).

    `generator` (CPU) draws the augmentation and, at the start of each pass, seeds the DataLoader's own
    generator (its shuffle order): ``batches.generator.manual_seed(seed + epoch)``, what train.py does
    to a plain loader, replays both. `seed(value)` does the same.
    """

    def __init__(self, loader: DataLoader, device: torch.device | str, transform,
                 generator: torch.Generator | None = None, with_index: bool = False):
        self.loader, self.device, self.transform = loader, torch.device(device), transform
        self.generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.with_index = with_index  # also yield each kept item's dataset index (evaluation aligns rows)

    def __len__(self) -> int:
        return len(self.loader)

    @property
    def dataset(self) -> Dataset:
        """The wrapped dataset (a `data.WikiArtDataset`), as a plain loader's `.dataset` would be."""
        encoded = self.loader.dataset
        return encoded.dataset if isinstance(encoded, EncodedDataset) else encoded

    def seed(self, value: int) -> GpuBatches:
        self.generator.manual_seed(value)
        return self

    def set_epoch(self, epoch: int) -> None:
        """Passed to the loader's sampler if it has one that takes it (a DistributedSampler)."""
        if hasattr(self.loader.sampler, "set_epoch"):
            self.loader.sampler.set_epoch(epoch)

    def _names(self, index: torch.Tensor) -> list[str]:
        dataset = self.dataset
        paths = getattr(dataset, "paths", None)
        return [str(paths[i]) if paths is not None else f"item {i}" for i in index.tolist()]

    def process(self, batch) -> tuple[torch.Tensor, ...] | None:
        """One collated batch of bytes -> (images, targets) on the device, or None if nothing decoded."""
        if batch is None:
            return None
        encoded, targets, index = batch
        decoded, kept = decode_batch(encoded, self.device, self._names(index))
        if not decoded:
            return None
        images = self.transform(decoded, self.generator)
        out = images, targets[kept].to(self.device, non_blocking=True)
        return (*out, index[kept]) if self.with_index else out

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor] | None]:
        if self.loader.generator is not None:  # this pass's shuffle order, from our seed
            self.loader.generator.manual_seed(int(torch.randint(2 ** 62, (1,), generator=self.generator)))
        for batch in self.loader:
            yield self.process(batch)


def augmentation(transform) -> tuple[float, float]:
    """(crop_scale, color_jitter) of a `data.train_transform`: the GPU path augments exactly as the
    dataset's own CPU transform says, so the two settings travel once, inside the dataset."""
    crop_scale, jitter = 1.0, 0.0
    for step in getattr(transform, "transforms", ()):
        if isinstance(step, v2.RandomResizedCrop):
            crop_scale = float(step.scale[0])
        elif isinstance(step, v2.ColorJitter) and step.brightness is not None:
            jitter = float(step.brightness[1]) - 1.0
    return crop_scale, jitter


def make_gpu_loader(dataset: data.WikiArtDataset, batch_size: int = 64, shuffle: bool = False,
                    workers: int | None = None, seed: int = 0, drop_last: bool = False,
                    device: torch.device | str = "cuda", train: bool = False, sampler=None,
                    with_index: bool = False) -> GpuBatches:
    """`data.make_loader`'s counterpart for the GPU path: a DataLoader over `EncodedDataset(dataset)`
    (pinned memory on CUDA, persistent workers, prefetch), wrapped in `GpuBatches` with
    `GpuTrainTransform` (train, with the crop and jitter of the dataset's own transform: `augmentation`) or
    `GpuEvalTransform` at `dataset.image_size`. Check `available(device)`
    first on CUDA; on a CPU device it runs too (slowly: the tests use it)."""
    device = torch.device(device)
    workers = data.default_workers() if workers is None else workers
    loader = DataLoader(
        EncodedDataset(dataset), batch_size=batch_size, shuffle=shuffle and sampler is None, sampler=sampler,
        num_workers=workers, collate_fn=collate_encoded, pin_memory=device.type == "cuda",
        persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None, drop_last=drop_last,
        generator=torch.Generator().manual_seed(seed),
    )
    size = dataset.image_size
    if train:
        crop_scale, jitter = augmentation(dataset.transform)
        transform = GpuTrainTransform(size, scale=(crop_scale, 1.0), jitter=(jitter, jitter))
    else:
        transform = GpuEvalTransform(size)
    return GpuBatches(loader, device, transform, with_index=with_index).seed(seed)


# 'auto' takes the GPU path with this many loader workers or fewer. Measured on an H200 with 224-px
# prepared files (benchmarks/RESULTS.md, "gpu_check.sh"): with 2 workers the GPU path fed every variant
# faster end to end (0.43-0.75 of model-only speed, against 0.23-0.71), with 15 workers the CPU workers did
# (0.79-1.06, against 0.46-0.78). A CPU worker delivers ~460 augmented images/s, the GPU path 900-2,200
# end to end, so the two cross at 2-5 workers; 4 is interpolated, not measured.
AUTO_GPU_MAX_WORKERS = 4


def use_gpu(decode: str, device: torch.device | str, workers: int | None = None) -> bool:
    """Whether images are decoded and augmented on the GPU: `decode` 'gpu' (an error without one), 'cpu',
    or 'auto' -- the GPU path on a CUDA device whose torchvision decodes JPEGs there, when the loader has
    few CPU workers (`workers`, None = data.default_workers(); at most AUTO_GPU_MAX_WORKERS, a Colab-class
    machine): with more, the CPU workers keep a GPU fed better."""
    if decode not in DECODE_CHOICES:
        raise ValueError(f"decode must be one of {', '.join(DECODE_CHOICES)}, got {decode!r}")
    if decode == "gpu" and not available(device):
        raise ValueError(f"--decode gpu needs a CUDA device whose torchvision decodes JPEGs (device: {device})")
    if decode != "auto":
        return decode == "gpu"
    few_workers = (data.default_workers() if workers is None else workers) <= AUTO_GPU_MAX_WORKERS
    return few_workers and torch.device(device).type == "cuda" and available(device)


def image_loader(dataset: data.WikiArtDataset, batch_size: int, *, shuffle: bool = False, workers: int | None = None,
                 seed: int = 0, drop_last: bool = False, sampler=None, device: torch.device | str = "cpu",
                 decode: str = TrainConfig.decode, train: bool = False):
    """The loader a run uses: `make_gpu_loader` when `use_gpu(decode, device)` (with `train`, its GPU
    augmentation mirrors `dataset.transform`), else `data.make_loader` over `dataset` as it is
    (decoding and its own transform in the DataLoader workers). Both yield (uint8 images, targets)."""
    if use_gpu(decode, device, workers):
        return make_gpu_loader(dataset, batch_size, shuffle, workers, seed, drop_last, device, train, sampler)
    return data.make_loader(dataset, batch_size, shuffle=shuffle, workers=workers, seed=seed, drop_last=drop_last,
                            sampler=sampler)
