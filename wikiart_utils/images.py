"""Safe image decoding: refuse damaged or hostile files with a one-line reason, keep odd valid ones.

Every reader in the project (index, prepare, the Dataset, predict) opens images through `open_rgb`,
so a decompression bomb is refused from its header before any pixel buffer is allocated, and CMYK,
grey, palette, RGBA, 16-bit and EXIF-rotated files all come out as upright 8-bit RGB.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

try:  # libjpeg-turbo straight into a NumPy array; optional, open_rgb (Pillow) does everything without it
    import simplejpeg
except ImportError:  # pragma: no cover - exercised by monkeypatching in tests
    simplejpeg = None

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"})
MAX_PIXELS = 180_000_000  # largest real WikiArt scans are ~100 MP; a 60000x60000 header is 3.6 GP


class BadImage(ValueError):
    """An image that cannot be used; str() is a one-line reason."""


def is_image_name(path: str | Path) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _open_checked(source: str | Path | bytes) -> Image.Image:
    """Open lazily (header only) and refuse empty files and oversized headers before any decoding."""
    if isinstance(source, (bytes, bytearray)):
        size, handle = len(source), io.BytesIO(source)
    else:
        try:
            size, handle = Path(source).stat().st_size, Path(source)
        except OSError as exc:
            raise BadImage(f"cannot read file ({exc.strerror})") from None
    if size == 0:
        raise BadImage("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit below
            image = Image.open(handle)
    except Image.DecompressionBombError as exc:
        raise BadImage(f"decompression bomb refused: {str(exc).split(', could')[0]}") from None
    except UnidentifiedImageError:
        raise BadImage("not a readable image (unknown format or corrupt header)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadImage(f"corrupt image header ({exc})") from None
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise BadImage(f"decompression bomb refused: header claims {width}x{height} px "
                       f"(> {MAX_PIXELS:,} px)")
    if width < 1 or height < 1:
        image.close()
        raise BadImage(f"invalid size {width}x{height}")
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> 8-bit RGB; transparency is composited on white, 16-bit is scaled down."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array * (255.0 / peak), 0, 255).round().astype(np.uint8), "L")
    elif image.mode == "F":
        image = Image.fromarray(np.clip(np.asarray(image), 0, 255).astype(np.uint8), "L")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB") if image.mode != "RGB" else image


def open_rgb(path: str | Path | bytes, min_side: int | None = None) -> Image.Image:
    """Decode `path` (a file, or its bytes) to upright 8-bit RGB, or raise BadImage.

    With `min_side`, large JPEGs are decoded with PIL's draft mode (DCT scaling by 1/2, 1/4 or 1/8)
    to the smallest scale whose short side is still >= min_side: several times faster than a full decode.
    """
    image = _open_checked(path)
    try:
        if min_side and image.format == "JPEG":
            w, h = image.size
            scale = max(1.0, min(w, h) / min_side)
            image.draft("RGB", (int(w / scale), int(h / scale)))
        image.load()
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
    except BadImage:
        raise
    except (OSError, SyntaxError, ValueError, MemoryError) as exc:
        reason = "truncated image" if "truncated" in str(exc).lower() else f"cannot decode ({exc})"
        raise BadImage(reason) from None


def _read_bytes(source: str | Path | bytes) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise BadImage(f"cannot read file ({exc.strerror})") from None


def orientation(data: bytes) -> int:
    """Orientation of a JPEG (1 = upright; 0 = unknown: let `open_rgb` decide), from a walk over its
    segment headers. Pillow reads it only when an APP1 segment (Exif, or XMP, which can carry a
    tiff:Orientation too) exists, so a plain file costs microseconds."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return 0  # not a segment header: an unusual file, leave it to Pillow
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: no more metadata segments
            return 1
        if marker == 0xE1:
            try:
                with Image.open(io.BytesIO(data)) as image:
                    return int(image.getexif().get(0x0112, 1))
            except Exception:  # damaged metadata: open_rgb says what is wrong
                return 0
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return 0


def _decode_jpeg_fast(data: bytes, min_side: int | None) -> np.ndarray | None:
    """simplejpeg's decode for the common case (YCbCr or grey, upright); None -> use open_rgb."""
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None  # let Pillow give the precise reason
    if width * height > MAX_PIXELS:
        raise BadImage(f"decompression bomb refused: header claims {width}x{height} px (> {MAX_PIXELS:,} px)")
    if colorspace not in ("YCbCr", "Gray") or orientation(data) != 1:
        return None
    # DCT scaling to the smallest size whose short side is still >= min_side; none for smaller images
    small = not min_side or min(width, height) <= min_side
    min_height, min_width = (height, width) if small else (min_side, min_side)
    try:  # strict: any libjpeg warning (truncation, corrupt data) raises instead of grey pixels
        return simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=min_height, min_width=min_width,
                                      strict=True)
    except ValueError:
        return None  # Pillow decides: it accepts harmless warnings (extraneous bytes), refuses truncation


def decode(source: str | Path | bytes, min_side: int | None = None) -> torch.Tensor:
    """`open_rgb` as a uint8 tensor [3, H, W] (HWC in memory, as decoded), the Dataset's input.

    Plain JPEGs (YCbCr or grey, no EXIF rotation: nearly all of WikiArt) are decoded by libjpeg-turbo
    through simplejpeg, straight into the array: the same pixels as Pillow at full size, ~0.3 ms less work
    per image (`bench loader`). Its DCT scaling also has eighths (3/8, 5/8, ...) besides Pillow's 1/2, 1/4,
    1/8, so a drafted image can be smaller than Pillow's, never below min_side. Anything else, or a
    machine without simplejpeg, goes through `open_rgb`. Raises BadImage like `open_rgb`.
    """
    data = _read_bytes(source)
    array = None
    if simplejpeg is not None and data[:2] == b"\xff\xd8":
        array = _decode_jpeg_fast(data, min_side)
    if array is None:
        array = np.array(open_rgb(data, min_side))
    return torch.from_numpy(array).permute(2, 0, 1)


def probe(path: str | Path) -> tuple[int, int]:
    """Verify `path` decodes completely and return its upright (width, height).

    JPEGs are decoded at 1/8 scale (every byte is still read, so truncation is caught), others fully.
    """
    image = _open_checked(path)
    try:
        width, height = image.size
        orientation = image.getexif().get(0x0112, 1) if hasattr(image, "getexif") else 1
        if image.format == "JPEG":
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
        image.load()
        if getattr(image, "n_frames", 1) < 1:
            raise BadImage("no frames")
    except BadImage:
        raise
    except (OSError, SyntaxError, ValueError, MemoryError) as exc:
        reason = "truncated image" if "truncated" in str(exc).lower() else f"cannot decode ({exc})"
        raise BadImage(reason) from None
    finally:
        image.close()
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Content hash: byte-identical files share it, whatever their names (used to group splits)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
