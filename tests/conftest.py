"""Shared fixtures: a small generated sample dataset, the real ArtGAN label files, odd image writers.

Nothing here writes into the repository: every file goes under pytest's tmp_path(_factory).
"""
from __future__ import annotations

import signal
import struct
import subprocess
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from wikiart_utils.ingest import sample

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
SAMPLE_N, SAMPLE_SIZE, SAMPLE_SEED = 200, 64, 0  # test_sample.py repeats these numbers


# --------------------------------------------------------------------------- shared real data

@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the repository (real label files); skip the test when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"{SHARED_DIR} not found: the real-data tests need the shared folder beside the repo")
    return SHARED_DIR


@pytest.fixture(scope="session")
def artgan_dir(shared_dir: Path) -> Path:
    """`../shared/wikiart-artgan`: the ArtGAN label CSVs (no images)."""
    path = shared_dir / "wikiart-artgan"
    if not (path / "style_class.txt").is_file():
        pytest.skip(f"{path} not found or incomplete: ArtGAN label files are needed for this test")
    return path


@pytest.fixture(scope="session")
def artgan_table(artgan_dir: Path):
    """read_artgan_labels of the real files (read once per session, ~1.5 s)."""
    from wikiart_utils.ingest import artgan
    return artgan.read_artgan_labels(artgan_dir)


# --------------------------------------------------------------------------- generated sample

@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """A 200-painting sample (64 px) with metadata.csv: treat it as read-only (copy it to modify)."""
    out = tmp_path_factory.mktemp("sample") / "wikiart"
    report = sample.generate_sample(out, n=SAMPLE_N, size=SAMPLE_SIZE, seed=SAMPLE_SEED, workers=1)
    assert report.n_images >= SAMPLE_N and not report.refused, report.summary()
    return out


# --------------------------------------------------------------------------- odd image files

def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png_bytes(width: int = 60000, height: int = 60000) -> bytes:
    """A tiny, well-formed PNG whose header claims width x height RGB pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024)) + _png_chunk(b"IEND", b""))


def noise_image(width: int, height: int, seed: int = 0, mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels, "RGB").convert(mode)


def write_valid_odd_images(folder: Path) -> dict[str, tuple[int, int]]:
    """Write valid-but-unusual images into `folder`; returns file name -> expected upright (width, height)."""
    folder.mkdir(parents=True, exist_ok=True)
    expected: dict[str, tuple[int, int]] = {}

    def save(name: str, image: Image.Image, size: tuple[int, int], **kwargs) -> None:
        image.save(folder / name, **kwargs)
        expected[name] = size

    save("cmyk-painter_cmyk.jpg", noise_image(30, 20, 1, "CMYK"), (30, 20), format="JPEG", quality=90)
    save("grey-painter_grey.jpg", noise_image(25, 35, 2, "L"), (25, 35), format="JPEG")
    palette = Image.new("P", (12, 10), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    palette.putpixel((0, 0), 1)
    save("palette-painter_transparent.png", palette, (12, 10), format="PNG", transparency=0)
    rgba = Image.new("RGBA", (16, 9), (0, 0, 0, 0))
    rgba.putpixel((1, 1), (10, 200, 30, 255))
    save("rgba-painter_rgba.png", rgba, (16, 9), format="PNG")
    deep = np.tile(np.array([0, 32768, 65535], dtype=np.uint16), (4, 3))  # 9x4, 16-bit grey
    save("deep-painter_16bit.png", Image.fromarray(deep), (9, 4), format="PNG")
    save("tiny-painter_3x2.jpg", noise_image(3, 2, 3), (3, 2), format="JPEG")
    save("wide-painter_2000x60.jpg", noise_image(2000, 60, 4), (2000, 60), format="JPEG", quality=80)
    save("gif-painter_named-jpg.jpg", noise_image(20, 14, 5).convert("P"), (20, 14), format="GIF")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display: stored 40x20, shown 20x40
    save("rotated-painter_exif6.jpg", noise_image(40, 20, 6), (20, 40), format="JPEG", exif=exif)
    save("grã©goire-michonze_birds.jpg", noise_image(18, 24, 7), (18, 24), format="JPEG")
    save("joaquã\xadn-sorolla_study-of-vineyard.jpg", noise_image(26, 19, 8), (26, 19), format="JPEG")
    return expected


def truncated_jpeg_bytes(width: int = 120, height: int = 80) -> bytes:
    import io
    buffer = io.BytesIO()
    noise_image(width, height, 9).save(buffer, format="JPEG", quality=90)
    data = buffer.getvalue()
    return data[: len(data) // 2]


def write_bad_images(folder: Path) -> dict[str, str]:
    """Write damaged or hostile files named like images; returns file name -> expected reason fragment."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty-painter_zero-bytes.jpg").write_bytes(b"")
    (folder / "text-painter_not-a-jpeg.jpg").write_text("this is a text file, not a JPEG\n")
    (folder / "cut-painter_truncated.jpg").write_bytes(truncated_jpeg_bytes())
    (folder / "bomb-painter_60000px.png").write_bytes(bomb_png_bytes())
    return {
        "empty-painter_zero-bytes.jpg": "empty file",
        "text-painter_not-a-jpeg.jpg": "not a readable image",
        "cut-painter_truncated.jpg": "truncated",
        "bomb-painter_60000px.png": "decompression bomb",
    }


@pytest.fixture(scope="session")
def make_images():
    """Writers of odd-but-valid and bad image files (a namespace, so tests need no conftest import)."""
    from types import SimpleNamespace
    return SimpleNamespace(valid=write_valid_odd_images, bad=write_bad_images, bomb_png=bomb_png_bytes,
                           truncated_jpeg=truncated_jpeg_bytes, noise=noise_image)


@pytest.fixture
def kill_when():
    """kill_when(proc, ready): SIGKILL a subprocess as soon as ready() holds (fails if it ended first)."""
    return _kill_when


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 90) -> None:
    """SIGKILL `proc` as soon as ready() is true; fail if it ended (or timed out) first."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            if proc.poll() is not None:
                pytest.fail(f"the process ended before it could be killed mid-way (rc {proc.returncode}): "
                            f"{proc.stderr.read().decode(errors='replace')[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("the process made no progress in time")
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
