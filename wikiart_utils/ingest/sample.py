"""The embedded sample: a synthetic, WikiArt-shaped dataset generated in seconds, no download.

Each painting draws its (artist, style, genre) from the joint counts of the real WikiArt label
files (shipped in `resources/wikiart_stats.json`), so class frequencies follow WikiArt's long tail and
unknown artists (45%) and genres (20%) appear at their real rates. Each label leaves a visible,
learnable trace:

* style  -> palette (hue, saturation, value) and brush texture (stripes, dots or blocks at a
  style-specific angle and frequency);
* genre  -> composition (horizon for landscapes, a vertical oval for portraits, towers for
  cityscapes, ...); a painting with an unknown genre still has some composition, only unlabelled;
* artist -> a signature: an 8-bit mark in the lower right corner and a slight tint.

A painting is also filed under a second style at the real rate (1,349 of 81,446), as in WikiArt.
Pixels come from NumPy's PCG64 seeded by (seed, painting), so the same arguments give the same
images on any machine; files are JPEG (quality 90) encoded by Pillow.
"""
from __future__ import annotations

import colorsys
import json
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from .. import fsutil, labels, metadata
from . import index

SAMPLE_VERSION = 1
DUPLICATE_RATE = 1349 / 81446
N_OTHER_PAINTERS = 991


def default_sample_dir() -> Path:
    """`data/sample` in the project checkout (or in the working directory for an installed package)."""
    project = Path(__file__).resolve().parents[2]
    base = project if (project / "pyproject.toml").is_file() else Path.cwd()
    return base / "data" / "sample"


def draw_labels(n: int, seed: int = 0) -> list[tuple[str, str, str, str]]:
    """(painter slug, artist or '', style, genre or '') for n paintings, from the real joint counts."""
    cells = labels.stats()["joint_counts"]
    weights = np.array([c[3] for c in cells], dtype=np.float64)
    rng = np.random.default_rng([seed, 1])
    picks = rng.choice(len(cells), size=n, p=weights / weights.sum())
    # painters outside the 128: a long tail over ~991 names, as in WikiArt
    other = rng.zipf(1.3, size=n) % N_OTHER_PAINTERS
    out = []
    for i, pick in enumerate(picks):
        artist, style, genre, _ = cells[pick]
        painter = artist or f"other-painter-{other[i]:03d}"
        out.append((painter, artist, style, genre))
    return out


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1)))


def _composition(genre: int, yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 0..1 mask laying out the picture plane the way paintings of `genre` tend to."""
    j = lambda scale=0.06: rng.normal(0, scale)  # noqa: E731 - per-image jitter
    if genre == 0:  # abstract: diagonal colour fields
        return (xx * (1 + j(0.3)) + yy > 1 + j(0.1)).astype(float)
    if genre == 1:  # cityscape: towers against the sky
        cols = np.floor(xx * 7).astype(int)
        heights = 0.25 + 0.5 * rng.random(8)
        return (yy > 1 - heights[cols]).astype(float)
    if genre == 2:  # genre painting: a row of small figures
        mask = np.zeros_like(xx)
        for cx in np.linspace(0.15, 0.85, 4) + rng.normal(0, 0.03, 4):
            mask += ((xx - cx) ** 2 / 0.004 + (yy - 0.62 - j(0.03)) ** 2 / 0.02) < 1
        return np.clip(mask, 0, 1)
    if genre == 3:  # illustration: outlined cells
        return ((np.abs(np.sin(xx * 9 + j())) < 0.25) | (np.abs(np.sin(yy * 9 + j())) < 0.25)).astype(float)
    if genre == 4:  # landscape: horizon
        return (yy > 0.55 + j() + 0.05 * np.sin(xx * 6 + j(1))).astype(float)
    if genre == 5:  # nude: a large reclining oval
        return (((xx - 0.5) / (0.42 + j(0.03))) ** 2 + ((yy - 0.6) / 0.18) ** 2 < 1).astype(float)
    if genre == 6:  # portrait: head and shoulders
        head = ((xx - 0.5 - j(0.02)) / 0.17) ** 2 + ((yy - 0.38) / 0.23) ** 2 < 1
        body = ((xx - 0.5) / 0.38) ** 2 + ((yy - 1.0) / 0.32) ** 2 < 1
        return (head | body).astype(float)
    if genre == 7:  # religious: an arch with a halo
        arch = (np.abs(xx - 0.5) < 0.22) & (yy > 0.3) | (((xx - 0.5) / 0.22) ** 2 + ((yy - 0.3) / 0.2) ** 2 < 1)
        halo = np.abs(np.hypot(xx - 0.5, yy - 0.27) - 0.1) < 0.025
        return np.clip(arch * 0.6 + halo, 0, 1)
    if genre == 8:  # sketch: sparse lines on a light ground
        return (np.abs(np.sin((xx + yy * rng.uniform(0.5, 1.5)) * 14 + j(1))) < 0.08).astype(float)
    # still life: fruit on a table
    mask = (yy > 0.7).astype(float) * 0.5
    for cx in np.linspace(0.25, 0.75, 3) + rng.normal(0, 0.04, 3):
        mask = np.maximum(mask, (np.hypot(xx - cx, yy - 0.6) < 0.11).astype(float))
    return mask


def _texture(style: int, yy: np.ndarray, xx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brush texture in -1..1: stripes, dots or blocks at a style-specific angle and frequency."""
    angle = (style * 0.73) % np.pi + rng.normal(0, 0.12)
    freq = 5 + (style % 5) * 4 * rng.uniform(0.9, 1.1)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    phase = rng.uniform(0, 2 * np.pi)
    kind = style % 3
    if kind == 0:
        return np.sin(2 * np.pi * freq * u + phase)
    if kind == 1:
        return np.sin(2 * np.pi * freq * u + phase) * np.sin(2 * np.pi * freq * v)
    return np.sign(np.sin(2 * np.pi * freq * u + phase)) * np.sign(np.sin(np.pi * freq * v)) * 0.8


def render(style: int, genre: int, artist_code: int, size: int, seed: tuple[int, ...]) -> np.ndarray:
    """One synthetic painting as an HxWx3 uint8 array (short side = size)."""
    rng = np.random.default_rng(list(seed))
    aspect = float(np.clip(rng.lognormal(0.05, 0.2), 0.7, 1.5))
    height, width = (size, int(round(size * aspect))) if aspect >= 1 else (int(round(size / aspect)), size)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    yy, xx = yy / height, xx / width
    hue = style * 0.618034 + rng.normal(0, 0.02) + (artist_code % 7 - 3) * 0.008
    sat, val = 0.35 + 0.3 * (style % 3), 0.55 + 0.2 * ((style // 3) % 3)
    base, accent, dark = _hsv(hue, sat, val), _hsv(hue + 0.45, sat * 0.9, val * 0.9), _hsv(hue + 0.1, sat, 0.2)
    mask = _composition(genre, yy, xx, rng)[..., None]
    texture = _texture(style, yy, xx, rng)[..., None]
    canvas = base * (1 - mask) + accent * mask
    canvas = canvas * (1 + 0.22 * texture) + dark * 0.15 * (texture < -0.7)
    if genre == 8:  # sketches are nearly colourless
        canvas = 0.25 * canvas + 0.75 * canvas.mean(axis=-1, keepdims=True)
    canvas += rng.normal(0, 0.04, canvas.shape)
    cell = max(2, size // 20)  # the signature: 2 rows x 4 cells in the lower right corner
    for bit in range(8):
        y0 = height - 3 * cell + (bit // 4) * cell
        x0 = width - 5 * cell + (bit % 4) * cell
        canvas[y0:y0 + cell, x0:x0 + cell] = 0.08 if (artist_code >> bit) & 1 else 0.92
    return np.clip(canvas * 255 + 0.5, 0, 255).astype(np.uint8)


def _artist_code(painter: str, artist: str) -> int:
    if artist:
        return labels.vocab("artist").index(artist)
    return 128 + int(painter.rsplit("-", 1)[-1]) % 128


def generate_sample(out: str | Path | None = None, n: int = 2000, size: int = 96, seed: int = 0,
                    workers: int = 0) -> index.IndexReport:
    """Write n synthetic paintings in the ArtGAN layout under `out`, then index them (metadata.csv)."""
    out = Path(out) if out is not None else default_sample_dir()
    if n < 1 or size < 16:
        raise ValueError(f"sample needs n >= 1 and size >= 16 (got n={n}, size={size})")
    out.mkdir(parents=True, exist_ok=True)
    fsutil.remove_stale_parts(out)
    styles, genres = labels.vocab("style"), labels.vocab("genre")
    dup_rng = np.random.default_rng([seed, 2])
    genre_of: dict[str, str] = {}
    for i, (painter, artist, style, genre) in enumerate(tqdm(draw_labels(n, seed), desc="sample", leave=False)):
        shown_genre = genres.index(genre) if genre else int(np.random.default_rng([seed, 3, i]).integers(10))
        pixels = render(styles.index(style), shown_genre, _artist_code(painter, artist), size, (seed, 0, i))
        title = f"{(genre or 'untitled').replace('_', '-')}-{i:05d}"
        folders = [style]
        if dup_rng.random() < DUPLICATE_RATE:  # the same painting filed under a second style
            folders.append(styles[int(dup_rng.integers(len(styles)))])
        for folder in dict.fromkeys(folders):
            rel = f"{folder}/{painter}_{title}.jpg"
            dest = out / rel
            if not dest.exists():
                with fsutil.atomic_path(dest) as tmp:
                    Image.fromarray(pixels).save(tmp, format="JPEG", quality=90)
            genre_of[rel] = genre
    report = index.index_dataset(out, genre_of=genre_of, seed=seed, workers=workers)
    fsutil.atomic_write_text(out / "sample.json", json.dumps(
        {"version": SAMPLE_VERSION, "n": n, "size": size, "seed": seed}, indent=1) + "\n")
    return report


def ensure_sample(out: str | Path | None = None, n: int = 2000, size: int = 96, seed: int = 0) -> Path:
    """The sample directory, generated on first use (or when its arguments changed)."""
    out = Path(out) if out is not None else default_sample_dir()
    stamp = out / "sample.json"
    wanted = {"version": SAMPLE_VERSION, "n": n, "size": size, "seed": seed}
    if not (stamp.is_file() and json.loads(stamp.read_text()) == wanted and (out / metadata.METADATA).is_file()):
        if out.exists() and any(out.iterdir()) and not stamp.is_file():
            raise FileExistsError(f"{out} exists and is not a sample directory; choose another --out")
        if stamp.is_file():  # other arguments: start clean rather than mixing two samples
            import shutil
            shutil.rmtree(out)
        generate_sample(out, n, size, seed)
    return out
