"""What feeding the model costs: ``python benchmarks/bench_loader.py [--images DIR] [--n 48] [--json]``.

Images/s of the older CNN-LSTM project's loader (full-size decode, resize of a float tensor) vs our
Dataset on the original JPEGs (draft decoding) and on a `prepare --size 256` copy, side by side in one
process, interleaved, single-threaded by default (``torch.set_num_threads(1)``). Rates are images/s *per
core* from the process CPU time -- robust to other jobs sharing the machine -- with the wall-clock rates
beside them, and their ratios. ``--json`` prints one JSON object (machine, date, command, settings, rates,
ratios) instead of the tables; ``--save FILE`` writes it to FILE too. It was ``python -m wikiart_utils
bench loader`` while the benchmarks lived inside the package: same flags, same JSON, same measurement.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Sequence

if __package__ in (None, ""):  # run as a script: import `benchmarks` from the repository root, not from here
    sys.path[0] = str(Path(__file__).resolve().parents[1])

import torch
import torchvision

from benchmarks import common
from wikiart_utils import data as wdata, images, metadata
from wikiart_utils.ingest import prepare as wprepare

TARGETS = {"prepared_vs_older": (15.0, 30.0), "originals_vs_older": (3.0, 5.0)}  # (target, aim)

Pipeline = Callable[[int], object]


def older_load(path: str | Path, image_size: int = 224) -> torch.Tensor:
    """The older CNN-LSTM project's loader, every epoch: full-size decode, to float, resize the float
    tensor to image_size x image_size, normalise. (torchvision 0.29 deprecates its image decoders in favour
    of TorchCodec; the warning is silenced here because this is deliberately the old code path.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        image = torchvision.io.read_image(str(path)).float()
    image = torchvision.transforms.functional.resize(image, [image_size, image_size])
    return torchvision.transforms.functional.normalize(image / 255.0, wdata.IMAGENET_MEAN, wdata.IMAGENET_STD)


def to_model_input(dataset: wdata.WikiArtDataset) -> Pipeline:
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
            with contexts[name](), common.Clock() as clock:
                for i in range(n):
                    load(i)
            times[name].append((clock.wall, clock.cpu))
    out = {}
    for name, runs in times.items():
        cpu, wall = min(c for _, c in runs), min(w for w, _ in runs)
        out[name] = {"images_per_s": common.rate(n, cpu), "images_per_s_wall": common.rate(n, wall),
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
    machine = common.machine_info()
    with tempfile.TemporaryDirectory(prefix="wikiart-bench-loader-") as tmp, common.torch_threads(threads) as used:
        tmp = Path(tmp)
        with common.Clock() as made:
            root = (common.copy_images(images_dir, tmp / "originals", n, seed) if images_dir
                    else common.make_originals(tmp / "originals", n, width, height, seed=seed))
        prepared = tmp / f"prepared-{prepare_size}"
        with common.Clock() as prep:
            report = wprepare.prepare(root, prepared, size=prepare_size, workers=1)
        meta_o, meta_p = metadata.read_metadata(root), metadata.read_metadata(prepared)
        datasets = {
            "ours_originals": wdata.WikiArtDataset(root, None, image_size, train=False),
            "ours_originals_train": wdata.WikiArtDataset(root, None, image_size, train=True),
            "ours_prepared": wdata.WikiArtDataset(prepared, None, image_size, train=False),
            "ours_prepared_train": wdata.WikiArtDataset(prepared, None, image_size, train=True),
        }
        paths = [root / rel for rel in datasets["ours_originals"].paths]
        count = min(len(paths), len(datasets["ours_prepared"]))  # prepare may refuse a file index kept
        pipelines: dict = {"older": lambda i: older_load(paths[i], image_size)}
        pipelines.update({name: to_model_input(ds) for name, ds in datasets.items()})
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
        "bench": "loader", "command": None, "machine": common.finish(machine),
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
                    for k, (t, a) in TARGETS.items()},
        "prepare": {
            "images": report.n_written, "refused": len(report.refused), "seconds": round(prep.wall, 3),
            "cpu_seconds": round(prep.cpu, 3), "ms_per_image": round(1000 * per_image_cpu, 2),
            "images_per_s_per_core": common.rate(report.n_written, prep.cpu),
            "bytes_per_image_original": round(bytes_o), "bytes_per_image_prepared": round(bytes_p),
            "size_ratio": round(bytes_o / bytes_p, 2) if bytes_p else None,
            "full_wikiart": {"images": common.FULL_WIKIART_IMAGES,
                             "prepare_core_hours": round(common.FULL_WIKIART_IMAGES * per_image_cpu / 3600, 3),
                             "prepared_gb": round(common.FULL_WIKIART_IMAGES * bytes_p / 1e9, 2),
                             "note": "extrapolated from these images; real WikiArt files vary in size"},
        },
    }


LABELS = {
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
        label = LABELS.get(name, name)
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python benchmarks/bench_loader.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=Path, default=None,
                   help="dataset directory or folder of images to sample from (default: generate photo-like JPEGs)")
    p.add_argument("--n", type=int, default=48, help="number of images")
    p.add_argument("--width", type=int, default=1280, help="width of the generated images (portrait ones swap)")
    p.add_argument("--height", type=int, default=1024, help="height of the generated images")
    p.add_argument("--image-size", type=int, default=224, help="training image size")
    p.add_argument("--prepare-size", type=int, default=256, help="short side of the prepared copy")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds (best one counts)")
    common.add_common_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = common.argv_or_sys(argv)
    args = build_parser().parse_args(argv)
    result = bench_loader(args.images, args.n, args.image_size, args.rounds, args.prepare_size, args.threads,
                          args.seed, args.width, args.height)
    result["command"] = common.command_line(__file__, argv)
    common.emit(result, args, format_loader)
    return 0


if __name__ == "__main__":
    sys.exit(main())
