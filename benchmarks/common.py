"""What the benchmark scripts share: machine info, timing helpers, synthetic originals, JSON output.

Every name here is public and every script imports only from here and from `wikiart_utils`' public API
(no underscore names), so a script can change without breaking another one.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image

from wikiart_utils import fsutil, images, labels, metadata
from wikiart_utils.ingest import index, sample

FULL_WIKIART_IMAGES = 81_446
REPO = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------------------
# The machine and the command beside every number

def load_avg() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def machine_info() -> dict:
    """CPU model, cores, library versions, load and date: what a benchmark number needs beside it."""
    cpu = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu or platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "torch": torch.__version__, "torchvision": torchvision.__version__, "pillow": PIL.__version__,
        "numpy": np.__version__, "python": platform.python_version(), "platform": platform.platform(),
        "load_avg": load_avg(),
        "date": now(),
    }


def finish(machine: dict) -> dict:
    """`machine` (taken when the bench started) plus the load average and time at its end."""
    return {**machine, "load_avg_after": load_avg(), "finished": now()}


def command_line(script: str | Path, argv: Sequence[str]) -> str:
    """The command that ran a benchmark script, as one would type it from the repository root (paths inside
    the repository relative to it, other folders of this machine as `portable` placeholders)."""
    return shlex.join(["python", f"benchmarks/{Path(script).name}",
                       *(portable(arg).replace("<repo>/", "") for arg in argv)])


def _machine_folders(places: dict[str, str | Path] | None) -> list[tuple[str, str]]:
    """(folder, placeholder) pairs, longest folder first so that the repository wins over a home around it."""
    folders = {**(places or {}), "<repo>": REPO, "<tmp>": tempfile.gettempdir(), "<home>": Path.home()}
    pairs = set()
    for placeholder, folder in folders.items():
        for form in {str(folder), os.path.realpath(folder)}:
            if len(form.rstrip("/\\")) > 1:  # never "/" itself
                pairs.add((form.rstrip("/\\"), placeholder))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def portable(obj: object, places: dict[str, str | Path] | None = None) -> object:
    """`obj` (a string or a JSON-ready result) with this machine's folders replaced in every string: the
    repository by `<repo>`, the temporary folder by `<tmp>`, the home folder by `<home>`, and each folder of
    `places` ({placeholder: folder}) by its placeholder. A committed record then says what ran, not where."""
    if isinstance(obj, dict):
        return {k: portable(v, places) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [portable(v, places) for v in obj]
    if not isinstance(obj, str):
        return obj
    for folder, placeholder in _machine_folders(places):
        obj = re.sub(r"(?<![\w.-])" + re.escape(folder) + r"(?![\w.-])", lambda _: placeholder, obj)
    return obj


def save_json(path: str | Path, result: dict, places: dict[str, str | Path] | None = None) -> None:
    """Write a result as the committed records are: indented JSON, machine folders as placeholders."""
    fsutil.atomic_write_text(path, json.dumps(portable(result, places), indent=1) + "\n")


# ----------------------------------------------------------------------------------------------------
# Timing

@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[int]:
    """Run with `n` intra-op threads (None or 0: leave torch's default); restored afterwards."""
    old = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(old)


class Clock:
    """Wall and process-CPU seconds of a block: `with Clock() as c: ...; c.wall, c.cpu`."""

    def __enter__(self) -> "Clock":
        self.start_wall, self.start_cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self.start_wall, time.process_time() - self.start_cpu


def rate(count: float, seconds: float) -> float:
    """count / seconds rounded to 0.01 (inf for a zero duration)."""
    return round(count / seconds, 2) if seconds > 0 else float("inf")


def geomean(values: Sequence[float]) -> float | None:
    return round(float(np.exp(np.mean(np.log(values)))), 2) if len(values) else None


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA); a no-op elsewhere."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".strip()


# ----------------------------------------------------------------------------------------------------
# Synthetic originals: photo-like JPEGs of WikiArt's typical size and byte count

def make_photo(width: int, height: int, seed: int, noise: float = 4.0) -> Image.Image:
    """A photo-like RGB image: smooth colour fields at four scales (1/f-like) plus sensor-like noise.

    Flat colour would compress to a few KB and decode unrealistically fast; this content gives ~300 KB
    for 1280x1024 at JPEG quality 90, the mean size of a WikiArt file (25 GB / 81,446).
    """
    rng = np.random.default_rng([seed, 7])
    canvas = np.full((height, width, 3), 128.0, np.float32)
    for cells, amplitude in ((4, 70.0), (16, 40.0), (64, 22.0), (256, 10.0)):
        grid = rng.normal(0, 1, (max(2, cells * height // width), cells, 3))
        small = Image.fromarray(np.uint8(np.clip(grid * 40 + 128, 0, 255)), "RGB")
        smooth = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC), np.float32)
        canvas += (smooth - 128) / 40 * amplitude
    canvas += rng.normal(0, noise, canvas.shape).astype(np.float32)
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")


def write_photo(job: tuple[str, int, int, int, int]) -> None:
    """Write one `make_photo` JPEG: job = (path, width, height, seed, quality)."""
    path, width, height, seed, quality = job
    with fsutil.atomic_path(path) as tmp:
        make_photo(width, height, seed).save(tmp, format="JPEG", quality=quality)


def make_originals(out: str | Path, n: int = 48, width: int = 1280, height: int = 1024, quality: int = 90,
                   seed: int = 0, workers: int = 1) -> Path:
    """n photo-like JPEGs (landscape and portrait alternately) in the ArtGAN layout, indexed. A 1280x1024
    image takes ~0.2 s to make: `workers` processes write them (the same files for any number)."""
    out = Path(out)
    genre_of, jobs = {}, []
    for i, (painter, _artist, style, genre) in enumerate(sample.draw_labels(n, seed)):
        w, h = (width, height) if i % 2 == 0 else (height, width)
        rel = f"{style}/{painter}_photo-{i:05d}.jpg"
        jobs.append((str(out / rel), w, h, seed * 100_003 + i, quality))
        genre_of[rel] = genre
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(write_photo, jobs, chunksize=4))
    else:
        for job in jobs:
            write_photo(job)
    index.index_dataset(out, genre_of=genre_of, seed=seed, workers=max(1, workers))
    return out


def copy_images(source: str | Path, out: str | Path, n: int, seed: int = 0) -> Path:
    """n images of `source` (a dataset directory, or any folder of images) copied into a new dataset
    directory `out`, so that preparing and indexing never write into `source`."""
    source, out = Path(source), Path(out)
    rng = np.random.default_rng(seed)
    genre_of = {}
    if (source / metadata.METADATA).is_file():
        meta = metadata.read_metadata(source)
        rows = meta.iloc[np.sort(rng.permutation(len(meta))[:n])]
        pairs = [(source / rel, rel, genre) for rel, genre in zip(rows["path"], rows["genre"])]
    else:
        found = sorted(p for p in source.rglob("*") if p.is_file() and images.is_image_name(p))
        picked = [found[i] for i in np.sort(rng.permutation(len(found))[:n])]
        style = labels.vocab("style")[0]
        pairs = [(p, f"{style}/unknown-painter_{i:05d}{p.suffix.lower()}", "") for i, p in enumerate(picked)]
    if not pairs:
        raise ValueError(f"{source}: no images found")
    for src, rel, genre in pairs:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / rel)
        genre_of[rel] = genre
    index.index_dataset(out, genre_of=genre_of, seed=seed, workers=1)
    return out


def random_targets(batch_size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random class indices [batch_size, 3] in `labels.TASKS` order, unknown (-1) included."""
    return torch.stack([torch.randint(-1, n, (batch_size,), generator=generator)
                        for n in labels.num_classes().values()], 1)


# ----------------------------------------------------------------------------------------------------
# Command line

def add_common_arguments(p: argparse.ArgumentParser, threads: bool = True) -> None:
    """--json, --save, --seed and (CPU benches) --threads."""
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
    if threads:
        p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: per-core rates; "
                                                              "0 = torch's default)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--save", type=Path, default=None, metavar="FILE", help="also write the JSON object to FILE")


def emit(result: dict, args: argparse.Namespace, formatter: Callable[[dict], str]) -> None:
    """Print the result (tables, or JSON with --json) and write its JSON to --save FILE if given."""
    if args.save:
        save_json(args.save, result)
    print(json.dumps(result, indent=1) if args.json else formatter(result))


def argv_or_sys(argv: Sequence[str] | None) -> list[str]:
    return list(sys.argv[1:] if argv is None else argv)
