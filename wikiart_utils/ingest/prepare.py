"""Resize a dataset directory once (short side = size) into a new one, for fast epochs.

Decoding a 1280x1024 JPEG costs far more than the GPU step it feeds; a 256-px copy decodes ~10x faster.
Each output file is written atomically, so after an interruption (even kill -9) a rerun skips what
is done and redoes only what is missing. Splits and labels are carried over unchanged.

`limit` keeps at most that many paintings of each split (a style-stratified part, `splits.stratified_part`):
a small real dataset for a quick end-to-end check of the GPU settings on a CPU (tests of the `full` profile).
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from .. import fsutil, images, metadata, splits


@dataclass
class PrepareReport:
    out: Path
    n_written: int = 0
    n_skipped: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"prepared {self.out}: {self.n_written} resized, {self.n_skipped} already done, "
                f"{len(self.refused)} refused")


def resize_short_side(image: Image.Image, size: int) -> Image.Image:
    """Downscale so the short side is `size` (never upscale)."""
    width, height = image.size
    scale = size / min(width, height)
    if scale >= 1:
        return image
    return image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BICUBIC)


def prepared_path(rel: str) -> str:
    return str(PurePosixPath(rel).with_suffix(".jpg"))


def _prepare_one(job: tuple[str, str, str, int, int]) -> tuple[str, str, tuple | str]:
    src_root, out_root, rel, size, quality = job
    dest = Path(out_root) / prepared_path(rel)
    status = "skipped"
    if dest.is_file():
        try:
            images.probe(dest)
        except images.BadImage:  # not one of ours (ours appear whole): a damaged copy, redo it
            dest.unlink()
    if not dest.is_file():
        try:
            image = resize_short_side(images.open_rgb(Path(src_root) / rel, min_side=size), size)
        except images.BadImage as exc:
            return rel, "refused", str(exc)
        with fsutil.atomic_path(dest) as tmp:
            image.save(tmp, format="JPEG", quality=quality)
        status = "written"
    width, height = images.probe(dest)
    return rel, status, (width, height, dest.stat().st_size, images.file_sha256(dest))


def prepare(root: str | Path, out: str | Path, size: int = 256, workers: int | None = None,
            quality: int = 90, limit: int | None = None) -> PrepareReport:
    """Resize every image of `root`'s metadata.csv (at most `limit` of each split) into `out` and write
    `out/metadata.csv`."""
    root, out = Path(root), Path(out)
    if root.resolve() == out.resolve():
        raise ValueError("prepare needs a new output directory (--out must differ from --root)")
    meta = metadata.read_metadata(root)
    if limit is not None:
        meta = pd.concat([splits.stratified_part(part, limit) for _, part in meta.groupby("split", sort=False)])
        meta = meta.sort_index()
    out.mkdir(parents=True, exist_ok=True)
    fsutil.remove_stale_parts(out)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    jobs = [(str(root), str(out), rel, size, quality) for rel in meta["path"]]
    report = PrepareReport(out)
    facts: dict[str, tuple] = {}
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = tqdm(pool.map(_prepare_one, jobs, chunksize=16), total=len(jobs), desc="prepare")
            outcomes = list(results)
    else:
        outcomes = [_prepare_one(job) for job in tqdm(jobs, desc="prepare")]
    for rel, status, outcome in outcomes:
        if status == "refused":
            report.refused.append((rel, outcome))
            continue
        report.n_written += status == "written"
        report.n_skipped += status == "skipped"
        facts[rel] = outcome
    kept = meta[meta["path"].isin(facts)].copy()
    new = pd.DataFrame([facts[p] for p in kept["path"]], columns=["width", "height", "bytes", "sha256"],
                       index=kept.index)
    kept[["width", "height", "bytes", "sha256"]] = new
    kept["path"] = kept["path"].map(prepared_path)
    metadata.write_metadata(out, kept[metadata.COLUMNS])
    fsutil.atomic_write_text(out / metadata.REFUSED,
                             pd.DataFrame(report.refused, columns=["path", "reason"]).to_csv(index=False))
    fsutil.atomic_write_text(out / "prepare.json", json.dumps(
        {"source": str(root.resolve()), "size": size, "quality": quality, "limit_per_split": limit,
         "images": len(kept)}, indent=1))
    return report
