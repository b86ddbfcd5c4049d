"""Benchmarks behind the course's speed claims: ``python -m wikiart_utils bench loader|features|train|gpu``.

* ``loader``   images/s of the older CNN-LSTM project's loader (full-size decode, resize of a float tensor)
               vs our Dataset on the original JPEGs (draft decoding) and on a `prepare --size 256` copy;
* ``features`` epoch time of the LSTM head trained on cached backbone tokens vs end to end through the
               same frozen backbone, and both runs' validation metrics;
* ``train``    train-step images/s per model variant and image size: our CPU step vs a plain fp32 loop;
* ``gpu``      (needs CUDA; `bench_gpu.py`) model-only vs loader-only vs end-to-end images/s, AMP, compile.

Each bench runs the pipelines it compares side by side in one process, interleaved, single-threaded by
default (``torch.set_num_threads(1)``), and reports images/s *per core* from the process CPU time --
robust to other jobs sharing the machine -- with the wall-clock rates beside them, and their ratios.
``--json`` prints one JSON object (machine, date, command, settings, rates, ratios) instead of tables.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import gc
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image

from . import data as wdata
from . import features, fsutil, images, index, labels, losses, models, sample
from . import prepare as wprepare
from . import train as wtrain

FULL_WIKIART_IMAGES = 81_446
LOADER_TARGETS = {"prepared_vs_older": (15.0, 30.0), "originals_vs_older": (3.0, 5.0)}  # (target, aim)
FEATURES_TARGET = 20.0


# ----------------------------------------------------------------------------------------------------
# Shared helpers

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
        "load_avg": _load_avg(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _load_avg() -> list[float] | None:
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _finish(machine: dict) -> dict:
    """`machine` (taken when the bench started) plus the load average and time at its end."""
    return {**machine, "load_avg_after": _load_avg(),
            "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds")}


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
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu


def _rate(count: float, seconds: float) -> float:
    return round(count / seconds, 2) if seconds > 0 else float("inf")


def _command() -> str | None:
    """The command line of a CLI run (None when called from Python)."""
    argv = sys.argv[1:]
    return "python -m wikiart_utils " + " ".join(argv) if "bench" in argv else None


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


def _write_photo(job: tuple[str, int, int, int, int]) -> None:
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
            list(pool.map(_write_photo, jobs, chunksize=4))
    else:
        for job in jobs:
            _write_photo(job)
    index.index_dataset(out, genre_of=genre_of, seed=seed, workers=max(1, workers))
    return out


def copy_images(source: str | Path, out: str | Path, n: int, seed: int = 0) -> Path:
    """n images of `source` (a dataset directory, or any folder of images) copied into a new dataset
    directory `out`, so that preparing and indexing never write into `source`."""
    source, out = Path(source), Path(out)
    rng = np.random.default_rng(seed)
    genre_of = {}
    if (source / index.METADATA).is_file():
        meta = index.read_metadata(source)
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


# ----------------------------------------------------------------------------------------------------
# bench loader

def older_load(path: str | Path, image_size: int = 224) -> torch.Tensor:
    """The older CNN-LSTM project's loader, every epoch: full-size decode, to float, resize the float
    tensor to image_size x image_size, normalise. (torchvision 0.29 deprecates its image decoders in favour
    of TorchCodec; the warning is silenced here because this is deliberately the old code path.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        image = torchvision.io.read_image(str(path)).float()
    image = torchvision.transforms.functional.resize(image, [image_size, image_size])
    return torchvision.transforms.functional.normalize(image / 255.0, wdata.IMAGENET_MEAN, wdata.IMAGENET_STD)


Pipeline = Callable[[int], object]


def _to_model_input(dataset: wdata.WikiArtDataset) -> Pipeline:
    """Item i as the model consumes it: Dataset item -> collated (channels_last) -> normalised float."""
    return lambda i: wdata.normalize(wdata.collate_skip_bad([dataset[i]])[0])


def time_pipelines(pipelines: dict[str, Pipeline | tuple[Pipeline, Callable[[], contextlib.AbstractContextManager]]],
                   n: int, rounds: int = 5) -> dict[str, dict]:
    """Interleaved timing: after one warm-up pass each, `rounds` rounds in which every pipeline loads
    items 0..n-1 (the order of pipelines rotates per round). A pipeline given as (load, context) runs its
    passes inside `context()`. Best round per pipeline, CPU and wall."""
    names = list(pipelines)
    loads = {name: p if callable(p) else p[0] for name, p in pipelines.items()}
    contexts = {name: contextlib.nullcontext if callable(p) else p[1] for name, p in pipelines.items()}
    for name in names:  # warm-up: page cache, lazy initialisation
        with contexts[name]():
            for i in range(n):
                loads[name](i)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            load = loads[name]
            gc.collect()
            with contexts[name](), Clock() as clock:
                for i in range(n):
                    load(i)
            times[name].append((clock.wall, clock.cpu))
    out = {}
    for name, runs in times.items():
        cpu, wall = min(c for _, c in runs), min(w for w, _ in runs)
        out[name] = {"images_per_s": _rate(n, cpu), "images_per_s_wall": _rate(n, wall),
                     "ms_per_image": round(1000 * cpu / n, 3), "rounds": len(runs)}
    return out


def bench_loader(images_dir: str | Path | None = None, n: int = 48, image_size: int = 224, rounds: int = 5,
                 prepare_size: int = 256, threads: int | None = 1,
                 seed: int = 0, width: int = 1280, height: int = 1024) -> dict:
    """Images/s per core of the older loader vs ours on originals and on a prepared copy (see module doc).

    Without `images_dir`, n photo-like width x height JPEGs (quality 90) are generated into a temporary
    directory. Ours is timed up to a normalised float tensor, as the older loader's: the Dataset item,
    its collation (a channels_last copy) and `data.normalize` (which in training runs on the model's device).
    """
    machine = machine_info()
    with tempfile.TemporaryDirectory(prefix="wikiart-bench-loader-") as tmp, torch_threads(threads) as used:
        tmp = Path(tmp)
        with Clock() as made:
            root = (copy_images(images_dir, tmp / "originals", n, seed) if images_dir
                    else make_originals(tmp / "originals", n, width, height, seed=seed))
        prepared = tmp / f"prepared-{prepare_size}"
        with Clock() as prep:
            report = wprepare.prepare(root, prepared, size=prepare_size, workers=1)
        meta_o, meta_p = index.read_metadata(root), index.read_metadata(prepared)
        datasets = {
            "ours_originals": wdata.WikiArtDataset(root, None, image_size, train=False),
            "ours_originals_train": wdata.WikiArtDataset(root, None, image_size, train=True),
            "ours_prepared": wdata.WikiArtDataset(prepared, None, image_size, train=False),
            "ours_prepared_train": wdata.WikiArtDataset(prepared, None, image_size, train=True),
        }
        paths = [root / rel for rel in datasets["ours_originals"].paths]
        count = min(len(paths), len(datasets["ours_prepared"]))  # prepare may refuse a file index kept
        pipelines: dict = {"older": lambda i: older_load(paths[i], image_size)}
        pipelines.update({name: _to_model_input(ds) for name, ds in datasets.items()})
        # decoding alone (no transform), to see how much of each pipeline is the JPEG decoder's floor
        components = {
            "decode_full": lambda i: images.decode(paths[i]),
            "decode_draft_dataset": datasets["ours_originals"].load,
            "decode_prepared": datasets["ours_prepared"].load,
        }
        pipelines.update(components)
        torch.manual_seed(seed)
        rates = time_pipelines(pipelines, count, rounds)
        decode = {name: rates.pop(name) for name in components}

    def ratio(name: str, key: str = "images_per_s") -> float:
        return round(rates[name][key] / rates["older"][key], 2)

    ratios = {"prepared_vs_older": ratio("ours_prepared"), "originals_vs_older": ratio("ours_originals"),
              "prepared_train_vs_older": ratio("ours_prepared_train"),
              "originals_train_vs_older": ratio("ours_originals_train")}
    bytes_o, bytes_p = float(meta_o["bytes"].mean()), float(meta_p["bytes"].mean())
    per_image_cpu = prep.cpu / max(report.n_written, 1)
    return {
        "bench": "loader", "command": _command(), "machine": _finish(machine),
        "settings": {"images": count, "source": str(images_dir) if images_dir else f"generated {width}x{height} "
                     "photo-like JPEGs, quality 90",
                     "mean_long_side": round(float(meta_o[["width", "height"]].max(axis=1).mean())),
                     "mean_short_side": round(float(meta_o[["width", "height"]].min(axis=1).mean())),
                     "image_size": image_size,
                     "prepare_size": prepare_size, "threads": used, "rounds": rounds,
                     "decoder": "simplejpeg" if images.simplejpeg else "Pillow",
                     "timing": "best round, process CPU time (images/s per core); _wall = wall clock",
                     "generate_seconds": round(made.wall, 2)},
        "pipelines": rates,
        "decode_only": decode,
        "ratios": ratios,
        "ratios_wall": {k: round(rates[a]["images_per_s_wall"] / rates["older"]["images_per_s_wall"], 2)
                        for k, a in (("prepared_vs_older", "ours_prepared"), ("originals_vs_older", "ours_originals"))},
        "targets": {k: {"target": t, "aim": a, "measured": ratios[k], "met": ratios[k] >= t}
                    for k, (t, a) in LOADER_TARGETS.items()},
        "prepare": {
            "images": report.n_written, "refused": len(report.refused), "seconds": round(prep.wall, 3),
            "cpu_seconds": round(prep.cpu, 3), "ms_per_image": round(1000 * per_image_cpu, 2),
            "images_per_s_per_core": _rate(report.n_written, prep.cpu),
            "bytes_per_image_original": round(bytes_o), "bytes_per_image_prepared": round(bytes_p),
            "size_ratio": round(bytes_o / bytes_p, 2) if bytes_p else None,
            "full_wikiart": {"images": FULL_WIKIART_IMAGES,
                             "prepare_core_hours": round(FULL_WIKIART_IMAGES * per_image_cpu / 3600, 3),
                             "prepared_gb": round(FULL_WIKIART_IMAGES * bytes_p / 1e9, 2),
                             "note": "extrapolated from these images; real WikiArt files vary in size"},
        },
    }


LOADER_LABELS = {
    "older": "older: read_image + float resize",
    "ours_originals": "ours on originals (eval)",
    "ours_originals_train": "ours on originals (train aug)",
    "ours_prepared": "ours on prepared (eval)",
    "ours_prepared_train": "ours on prepared (train aug)",
}


def format_loader(result: dict) -> str:
    s, p = result["settings"], result["prepare"]
    older = result["pipelines"]["older"]["images_per_s"]
    lines = [f"bench loader: {s['images']} images ({s['source']}; mean {s['mean_long_side']}x{s['mean_short_side']}, "
             f"{p['bytes_per_image_original'] / 1e3:.0f} KB) -> {s['image_size']} px; {s['threads']} thread, "
             f"best of {s['rounds']} interleaved rounds",
             f"{'pipeline':<34}{'img/s/core':>11}{'ms/img':>9}{'img/s wall':>12}{'vs older':>10}"]
    for name, r in result["pipelines"].items():
        label = LOADER_LABELS.get(name, name)
        lines.append(f"{label:<34}{r['images_per_s']:>11.1f}{r['ms_per_image']:>9.2f}"
                     f"{r['images_per_s_wall']:>12.1f}{r['images_per_s'] / older:>9.1f}x")
    full = p["full_wikiart"]
    d = result.get("decode_only")
    if d:
        lines.append(f"decode only ({result['settings']['decoder']}, no transform), ms/img: full "
                     f"{d['decode_full']['ms_per_image']:.2f}, "
                     f"draft as the Dataset {d['decode_draft_dataset']['ms_per_image']:.2f}, prepared file "
                     f"{d['decode_prepared']['ms_per_image']:.2f}")
    lines += [f"prepare --size {s['prepare_size']} (1 process): {p['images']} images in {p['cpu_seconds']:.2f} CPU s "
              f"= {p['ms_per_image']:.1f} ms/image; {p['bytes_per_image_original'] / 1e3:.0f} KB -> "
              f"{p['bytes_per_image_prepared'] / 1e3:.1f} KB per image ({p['size_ratio']}x smaller)",
              f"  extrapolated to the full WikiArt ({full['images']:,} images): {full['prepare_core_hours']:.2f} "
              f"core-hours, {full['prepared_gb']:.2f} GB",
              "targets: " + "; ".join(f"{k} {v['measured']}x (target >= {v['target']:g}x, aim {v['aim']:g}x: "
                                      f"{'met' if v['met'] else 'MISSED'})" for k, v in result["targets"].items())]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# bench features

FEATURES_VARIANTS = ("resnet18_lstm_patch", "vgg16_lstm", "vit_b16_lstm")


def _compare_cached(model: models.MultitaskNet, train_set, val_set, workdir: Path, epochs: int, batch_size: int,
                    lr: float, seed: int) -> dict:
    """One variant: extract its tokens, then train its head on the cache and end to end; timings + metrics."""
    device = torch.device("cpu")
    wtrain.set_backbone_trainable(model, False)
    model.eval()
    initial = copy.deepcopy(model.state_dict())
    backbone_before = features.backbone_fingerprint(model)
    with Clock() as extract:
        features.extract_features(model, train_set, workdir / "cache-train", batch_size, device, progress=False)
        features.extract_features(model, val_set, workdir / "cache-val", batch_size, device, progress=False)
    train_cache = features.CachedFeatureDataset(workdir / "cache-train")
    val_cache = features.CachedFeatureDataset(workdir / "cache-val")
    drop_last = len(train_set) > batch_size

    def cached_batches(epoch: int):
        loader = train_cache.loader(batch_size, shuffle=True, seed=seed, drop_last=drop_last)
        loader.set_epoch(epoch)
        return loader

    def image_batches(epoch: int):
        order = features.epoch_order(len(train_set), seed, epoch).tolist()
        return torch.utils.data.DataLoader(train_set, batch_size, sampler=order, drop_last=drop_last,
                                           num_workers=0, collate_fn=wdata.collate_skip_bad,
                                           generator=torch.Generator())  # leaves the global RNG alone

    runs = {}
    for name, batches, encode in (("cached", cached_batches, None), ("end_to_end", image_batches, model.tokens)):
        model.load_state_dict(initial)
        torch.manual_seed(seed)
        history = features.fit_head(model, batches, epochs, lr=lr, device=device, encode=encode)
        if name == "cached":
            metrics = wtrain.validate(features.HeadOnly(model), val_cache.loader(batch_size), device)
        else:
            metrics = wtrain.validate(model, torch.utils.data.DataLoader(
                val_set, batch_size, collate_fn=wdata.collate_skip_bad), device)
        cpu, wall = [row["cpu_seconds"] for row in history], [row["seconds"] for row in history]
        runs[name] = {"epoch_cpu_seconds": [round(x, 4) for x in cpu], "epoch_seconds": [round(x, 4) for x in wall],
                      "median_epoch_cpu_seconds": round(statistics.median(cpu), 4),
                      "median_epoch_seconds": round(statistics.median(wall), 4),
                      "images_per_s": _rate(len(train_set), statistics.median(cpu)),
                      "train_loss": [round(row["train_loss"], 5) for row in history],
                      "metrics": {k: round(v, 5) for k, v in metrics.items()}}
    c, e = runs["cached"], runs["end_to_end"]
    total_cached = extract.cpu + sum(c["epoch_cpu_seconds"])
    cache_bytes = sum(f.stat().st_size for f in (workdir / "cache-train").iterdir())
    return {
        "token_shape": list(train_cache.token_shape),
        "extraction": {"cpu_seconds": round(extract.cpu, 3), "seconds": round(extract.wall, 3),
                       "images": len(train_set) + len(val_set), "train_cache_bytes": cache_bytes},
        "cached": c, "end_to_end": e,
        "ratios": {"cached_vs_end_to_end": round(e["median_epoch_cpu_seconds"] / c["median_epoch_cpu_seconds"], 2),
                   "cached_vs_end_to_end_wall": round(e["median_epoch_seconds"] / c["median_epoch_seconds"], 2),
                   "cached_incl_extraction_vs_end_to_end": round(sum(e["epoch_cpu_seconds"]) / total_cached, 2)},
        "metric_diff": {k: round(c["metrics"][k] - e["metrics"][k], 5) for k in c["metrics"]
                        if k in e["metrics"] and np.isfinite(c["metrics"][k]) and np.isfinite(e["metrics"][k])},
        "backbone_unchanged": backbone_before == features.backbone_fingerprint(model),
    }


def bench_features(data_dir: str | Path | None = None, n: int = 200, sample_size: int = 256, image_size: int = 224,
                   variants: Sequence[str] = FEATURES_VARIANTS, epochs: int = 2, batch_size: int = 32,
                   lr: float = 1e-3, threads: int | None = 1, pretrained: bool = False, seed: int = 0) -> dict:
    """Head epochs on cached tokens vs end to end through the same frozen backbone, per variant.

    Both runs start from the same head weights, see the same batches in the same order (`epoch_order`),
    the same dropout masks (same seed), and the same *eval* transform (no augmentation: a cache holds one
    view per image, so the end-to-end run uses the eval transform too, for a like-for-like comparison).
    They differ only by float16 rounding of the cached tokens, so their metrics agree up to that.
    `ratios.cached_vs_end_to_end` is the first variant's; every variant's is in `ratios.by_variant`.
    """
    machine = machine_info()
    variants = list(variants)
    results = {}
    with tempfile.TemporaryDirectory(prefix="wikiart-bench-features-") as tmp, torch_threads(threads) as used:
        tmp = Path(tmp)
        root = Path(data_dir) if data_dir else tmp / "sample"
        if not data_dir:
            sample.generate_sample(root, n=n, size=sample_size, seed=seed, workers=1)
        train_set = wdata.WikiArtDataset(root, "train", image_size, train=False)
        val_set = wdata.WikiArtDataset(root, "val", image_size, train=False)
        if not len(train_set) or not len(val_set):
            raise ValueError(f"{root}: bench features needs train and val images")
        for variant in variants:
            torch.manual_seed(seed)
            model = models.build_model(variant, pretrained=pretrained, image_size=image_size)
            results[variant] = _compare_cached(model, train_set, val_set, tmp / variant, epochs, batch_size, lr, seed)
            del model
            gc.collect()
    by_variant = {v: r["ratios"]["cached_vs_end_to_end"] for v, r in results.items()}
    return {
        "bench": "features", "command": _command(), "machine": _finish(machine),
        "settings": {"data": str(data_dir) if data_dir else f"generated sample n={n}, {sample_size} px",
                     "variants": variants, "pretrained": pretrained, "image_size": image_size, "epochs": epochs,
                     "batch_size": batch_size, "lr": lr, "threads": used, "train_images": len(train_set),
                     "val_images": len(val_set), "device": "cpu",
                     "transform": "eval transform for both runs (no augmentation)",
                     "timing": "median epoch, process CPU time (training only, validation excluded)"},
        "variants": results,
        "ratios": {"cached_vs_end_to_end": by_variant[variants[0]], "by_variant": by_variant},
        "target": {"cached_vs_end_to_end": FEATURES_TARGET,
                   "met_by_variant": {v: x >= FEATURES_TARGET for v, x in by_variant.items()}},
    }


def format_features(result: dict) -> str:
    s = result["settings"]
    lines = [f"bench features: frozen backbones ({'pretrained' if s['pretrained'] else 'random init'}, eval mode) at "
             f"{s['image_size']} px; {s['train_images']} train / {s['val_images']} val images ({s['data']}); "
             f"{s['epochs']} epoch{'s' * (s['epochs'] != 1)}, batch {s['batch_size']}, {s['threads']} thread; "
             "eval transform for both runs",
             f"{'variant':<22}{'tokens':>10}{'run':>12}{'epoch CPU s':>12}{'img/s/core':>11}{'val loss':>10}"
             f"{'mean F1':>9}{'style acc':>10}"]
    for variant, v in result["variants"].items():
        tokens = "x".join(map(str, v["token_shape"]))
        for name, r in (("cached", v["cached"]), ("end to end", v["end_to_end"])):
            m = r["metrics"]
            first = name == "cached"
            lines.append(f"{variant if first else '':<22}{tokens if first else '':>10}{name:>12}"
                         f"{r['median_epoch_cpu_seconds']:>12.3f}{r['images_per_s']:>11.1f}{m['val_loss']:>10.4f}"
                         f"{m['val_mean_f1']:>9.4f}{m['val_style_acc']:>10.4f}")
    lines.append("")
    lines.append(f"{'variant':<22}{'cached vs e2e':>14}{'(wall)':>8}{'incl. extraction':>18}{'extract CPU s':>15}"
                 f"{'|dF1|':>8}{'|dloss|':>9}  backbone unchanged")
    for variant, v in result["variants"].items():
        r, d = v["ratios"], v["metric_diff"]
        lines.append(f"{variant:<22}{r['cached_vs_end_to_end']:>13.1f}x{r['cached_vs_end_to_end_wall']:>7.1f}x"
                     f"{r['cached_incl_extraction_vs_end_to_end']:>17.1f}x{v['extraction']['cpu_seconds']:>15.2f}"
                     f"{abs(d.get('val_mean_f1', 0)):>8.4f}{abs(d.get('val_loss', 0)):>9.4f}"
                     f"  {v['backbone_unchanged']}")
    met = result["target"]["met_by_variant"]
    lines.append(f"target cached >= {result['target']['cached_vs_end_to_end']:g}x per epoch: "
                 + ", ".join(f"{v} {'met' if ok else 'MISSED'}" for v, ok in met.items()))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# bench train

def cpu_bf16_native() -> bool:
    """True when this CPU computes bfloat16 natively (AVX512-BF16 or AMX), where bf16 autocast pays."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def ours_settings(variant: str, device: torch.device, bf16: bool = True) -> dict:
    """Our train-step settings for `variant`: channels_last for CNN backbones (oneDNN's fast layout; ViT has
    a single conv), bf16 autocast where the CPU has native bf16, fused AdamW, set_to_none, grad clipping."""
    return {"channels_last": not variant.startswith("vit"),
            "bf16_autocast": bf16 and device.type == "cpu" and cpu_bf16_native(),
            "fused_adamw": True, "set_to_none": True, "grad_clip": 1.0}


def make_step(model: models.MultitaskNet, config: str, x: torch.Tensor, y: torch.Tensor, lr: float = 1e-4):
    """A zero-argument train step: "plain" (textbook fp32 loop), "ours" (`ours_settings`) or "ours_fp32"
    (ours without bf16 autocast: what a CPU without native bf16 gets)."""
    criterion = losses.MultitaskLoss()
    model.train()
    if config == "plain":
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)

        def step() -> float:
            loss, _ = criterion(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            return loss.item()
        return step, {}
    settings = ours_settings(model.config["variant"], x.device, bf16=config == "ours")
    if settings["channels_last"]:
        model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(wtrain.param_groups(model, lr, lr, 0.05), lr=lr, fused=settings["fused_adamw"])
    params = [p for p in model.parameters() if p.requires_grad]

    def step() -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings["bf16_autocast"]):
            logits = model(x)
        loss, _ = criterion(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, settings["grad_clip"])
        optimizer.step()
        return loss.item()
    return step, settings


def time_steps(step: Callable[[], float], steps: int, budget_s: float, warmup: int = 1) -> dict:
    """`warmup` untimed steps, then up to `steps` timed ones (at least one; no new one after budget_s)."""
    for _ in range(warmup):
        step()
    cpu, wall, done, losses_seen = 0.0, 0.0, 0, []
    while done < steps and (done == 0 or wall < budget_s):
        with Clock() as clock:
            losses_seen.append(step())
        cpu, wall, done = cpu + clock.cpu, wall + clock.wall, done + 1
    return {"steps": done, "cpu_seconds": cpu, "seconds": wall, "finite_loss": bool(np.isfinite(losses_seen).all())}


def bench_train(sizes: Sequence[int] = (112, 224), variants: Sequence[str] | None = None, batch_size: int = 8,
                steps: int = 2, budget_s: float = 5.0, threads: int | None = 1, seed: int = 0,
                ablate: bool = False) -> dict:
    """Train-step images/s (per core by default) of each variant at each size: ours vs a plain fp32 loop.

    Random images and labels (the step cost does not depend on the pixels); random initialisation.
    `ablate` adds "ours_fp32" (ours without bf16 autocast) to split the gain of bf16 from the rest.
    """
    machine = machine_info()
    variants = list(variants or models.variant_names())
    configs = ("plain", "ours_fp32", "ours") if ablate else ("plain", "ours")
    rows = []
    with torch_threads(threads) as used:
        for size in sizes:
            for variant in variants:
                row = {"variant": variant, "image_size": size}
                for config in configs:
                    torch.manual_seed(seed)
                    model = models.build_model(variant, pretrained=False, image_size=size)
                    x = torch.randn(batch_size, 3, size, size)
                    y = torch.stack([torch.randint(-1, n, (batch_size,)) for n in labels.num_classes().values()], 1)
                    step, settings = make_step(model, config, x, y)
                    timing = time_steps(step, steps, budget_s)
                    row[config] = {"images_per_s": _rate(batch_size * timing["steps"], timing["cpu_seconds"]),
                                   "images_per_s_wall": _rate(batch_size * timing["steps"], timing["seconds"]),
                                   "steps": timing["steps"], "finite_loss": timing["finite_loss"]}
                    if config == "ours":
                        row["ours_settings"] = settings
                    del model, step
                    gc.collect()
                row["speedup"] = round(row["ours"]["images_per_s"] / row["plain"]["images_per_s"], 2)
                if ablate:
                    row["speedup_fp32"] = round(row["ours_fp32"]["images_per_s"] / row["plain"]["images_per_s"], 2)
                rows.append(row)
    speedups = [r["speedup"] for r in rows]
    return {
        "bench": "train", "command": _command(), "machine": _finish(machine),
        "settings": {"sizes": list(sizes), "variants": variants, "configs": list(configs), "batch_size": batch_size,
                     "max_timed_steps": steps,
                     "budget_s": budget_s, "warmup_steps": 1, "threads": used, "pretrained": False,
                     "plain": "fp32, NCHW, AdamW with its defaults (a per-tensor loop on CPU), zero_grad(), "
                              "no clipping",
                     "ours": "channels_last (CNN backbones), bf16 autocast where the CPU has native bf16, fused "
                             "AdamW with train.param_groups, zero_grad(set_to_none=True), grad clipping 1.0",
                     "ours_fp32": "ours without bf16 autocast (with --ablate)",
                     "cpu_bf16_native": cpu_bf16_native(),
                     "timing": "process CPU time of the timed steps (images/s per core); _wall = wall clock"},
        "rows": rows,
        "ratios": {"ours_vs_plain": {f"{r['variant']}@{r['image_size']}": r["speedup"] for r in rows},
                   "ours_vs_plain_geomean": _geomean(speedups),
                   **({"ours_fp32_vs_plain_geomean": _geomean([r["speedup_fp32"] for r in rows])} if ablate else {})},
    }


def _geomean(values: Sequence[float]) -> float | None:
    return round(float(np.exp(np.mean(np.log(values)))), 2) if len(values) else None


def format_train(result: dict) -> str:
    s = result["settings"]
    ablated = "ours_fp32" in s.get("configs", [])
    lines = [f"bench train: batch {s['batch_size']}, 1 warm-up + up to {s['max_timed_steps']} timed steps "
             f"(budget {s['budget_s']:g} s) per cell, {s['threads']} thread, random init",
             f"  plain: {s['plain']}", f"  ours:  {s['ours']}",
             f"{'variant':<24}{'px':>5}{'plain img/s':>13}" + (f"{'ours fp32':>11}{'x':>7}" if ablated else "")
             + f"{'ours img/s':>12}{'speedup':>9}{'steps':>7}  ours settings"]
    for r in result["rows"]:
        o = r.get("ours_settings", {})
        flags = ", ".join(k for k in ("channels_last", "bf16_autocast", "fused_adamw") if o.get(k))
        fp32 = f"{r['ours_fp32']['images_per_s']:>11.2f}{r['speedup_fp32']:>6.2f}x" if ablated else ""
        lines.append(f"{r['variant']:<24}{r['image_size']:>5}{r['plain']['images_per_s']:>13.2f}{fp32}"
                     f"{r['ours']['images_per_s']:>12.2f}{r['speedup']:>8.2f}x"
                     f"{r['plain']['steps']:>3}/{r['ours']['steps']:<3}"
                     f"  {flags}")
    lines.append(f"geometric mean speedup: {result['ratios']['ours_vs_plain_geomean']}x"
                 + (f" (without bf16: {result['ratios']['ours_fp32_vs_plain_geomean']}x)" if ablated else ""))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------------
# Command line

def _emit(result: dict, args: argparse.Namespace, formatter: Callable[[dict], str]) -> None:
    if args.save:
        fsutil.atomic_write_text(args.save, json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1) if args.json else formatter(result))


def _cmd_loader(args: argparse.Namespace) -> None:
    _emit(bench_loader(args.images, args.n, args.image_size, args.rounds, args.prepare_size, args.threads,
                       args.seed, args.width, args.height), args, format_loader)


def _cmd_features(args: argparse.Namespace) -> None:
    _emit(bench_features(args.data, args.n, args.sample_size, args.image_size, args.variants, args.epochs,
                         args.batch_size, args.lr, args.threads, args.pretrained, args.seed), args, format_features)


def _cmd_train(args: argparse.Namespace) -> None:
    _emit(bench_train(args.sizes, args.variants, args.batch_size, args.steps, args.budget_s, args.threads, args.seed,
                      args.ablate),
          args, format_train)


def register_cli(subparsers) -> None:
    """Hook for `python -m wikiart_utils bench <loader|features|train|gpu>` (cli.py registers it)."""
    parser = subparsers.add_parser("bench", help="speed benchmarks: loader, feature cache, train step (ratios)",
                                   description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="bench", required=True, metavar="<bench>")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON object instead of the tables")
        p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1: per-core rates; "
                                                              "0 = torch's default)")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--save", type=Path, default=None, metavar="FILE", help="also write the JSON object to FILE")

    p = sub.add_parser("loader", help="images/s: older loader vs ours on originals vs ours on a prepared copy",
                       description=bench_loader.__doc__.splitlines()[0])
    p.add_argument("--images", type=Path, default=None,
                   help="dataset directory or folder of images to sample from (default: generate photo-like JPEGs)")
    p.add_argument("--n", type=int, default=48, help="number of images")
    p.add_argument("--width", type=int, default=1280, help="width of the generated images (portrait ones swap)")
    p.add_argument("--height", type=int, default=1024, help="height of the generated images")
    p.add_argument("--image-size", type=int, default=224, help="training image size")
    p.add_argument("--prepare-size", type=int, default=256, help="short side of the prepared copy")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (best one counts)")
    common(p)
    p.set_defaults(func=_cmd_loader)

    p = sub.add_parser("features", help="head epoch time on cached tokens vs end to end with the frozen backbone",
                       description=bench_features.__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=None, help="dataset directory (default: generate a sample)")
    p.add_argument("--n", type=int, default=200, help="sample size when generating")
    p.add_argument("--sample-size", type=int, default=256,
                   help="sample image short side when generating (256: what `prepare` makes for 224 px)")
    p.add_argument("--image-size", type=int, default=224, help="model input size (224: the course's full profile)")
    p.add_argument("--variants", nargs="+", default=list(FEATURES_VARIANTS), choices=models.variant_names(),
                   help="backbones to compare (the first one's ratio is ratios.cached_vs_end_to_end)")
    p.add_argument("--pretrained", action="store_true", help="ImageNet weights (needs them downloaded once)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    common(p)
    p.set_defaults(func=_cmd_features)

    p = sub.add_parser("train", help="train-step images/s per variant and size: ours vs a plain fp32 loop",
                       description=bench_train.__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[112, 224])
    p.add_argument("--variants", nargs="+", default=None, choices=models.variant_names(), help="default: all")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--steps", type=int, default=2, help="timed steps per cell at most (after 1 warm-up)")
    p.add_argument("--budget-s", type=float, default=5.0, help="no new timed step after this many seconds")
    p.add_argument("--ablate", action="store_true", help="also time ours without bf16 autocast (ours_fp32)")
    common(p)
    p.set_defaults(func=_cmd_train)

    from . import bench_gpu  # here, not at the top: bench_gpu imports this module
    p = sub.add_parser("gpu", help="GPU: model-only vs loader-only vs end-to-end images/s, AMP, compile, nvJPEG",
                       description=bench_gpu.bench_gpu.__doc__.splitlines()[0])
    bench_gpu.add_arguments(p)
    p.set_defaults(func=bench_gpu.run_from_args)
