"""Build `metadata.csv` (read by `metadata.read_metadata`), the contract every dataset directory fulfils.

A dataset directory is ``<root>/<Style>/<artist-slug>_<title>.<ext>`` plus ``<root>/metadata.csv`` with one
row per usable image: path (relative, '/'), style, genre, artist (names; '' = unknown), painter (every
slug, for EDA), width, height, bytes, sha256 and split. Unusable files are listed in ``refused.csv``
with a one-line reason each, and counted in the summary; nothing crashes the run.
"""
from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Mapping, Sequence

import pandas as pd
from tqdm.auto import tqdm

from .. import fsutil, images, labels, metadata, splits
from . import artgan

@dataclass
class IndexReport:
    root: Path
    n_images: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # indexed files that found no row in the label source
    n_artist: int = 0                                   # images whose artist is one of the 128
    n_genre: int = 0                                    # images with a genre

    def summary(self) -> str:
        reasons = Counter(reason.split(":")[0].split(" (")[0] for _, reason in self.refused)
        detail = ", ".join(f"{n} {r}" for r, n in reasons.most_common())
        text = (f"indexed {self.n_images} images in {self.root} (artist known for {self.n_artist}, genre for "
                f"{self.n_genre}); refused {len(self.refused)}" + (f" ({detail})" if detail else ""))
        if self.unmatched:
            examples = ", ".join(self.unmatched[:3])
            text += (f"; {len(self.unmatched)} files found no row in the label files, so they have no genre "
                     f"(e.g. {examples})")
        return text


def scan(root: str | Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Candidate image paths under `root` in the ArtGAN layout, and (path, reason) for everything else.

    Symlinks are followed only when they stay inside `root`.
    """
    root = Path(root)
    known_styles = set(labels.vocab("style"))
    found: list[str] = []
    refused: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        here = Path(dirpath)
        for name in list(dirnames):
            if (here / name).is_symlink() and not fsutil.inside(root, here / name):
                dirnames.remove(name)
                refused.append(((here / name).relative_to(root).as_posix(), "symlink pointing outside the root"))
        dirnames.sort()
        for name in sorted(filenames):
            full = here / name
            rel = full.relative_to(root).as_posix()
            if here == root and name in metadata.BOOKKEEPING or name.startswith("."):
                continue
            parts = PurePosixPath(rel).parts
            if full.is_symlink() and not fsutil.inside(root, full):
                refused.append((rel, "symlink pointing outside the root"))
            elif not images.is_image_name(name):
                refused.append((rel, f"not an image file ({PurePosixPath(name).suffix or 'no extension'})"))
            elif len(parts) != 2 or parts[0] not in known_styles:
                refused.append((rel, "not in a known style folder (<Style>/<artist>_<title>.<ext>)"))
            else:
                found.append(rel)
    return found, refused


def _inspect(args: tuple[str, str]) -> tuple[str, tuple[int, int, int, str] | str]:
    root, rel = args
    full = Path(root) / rel
    try:
        width, height = images.probe(full)
        return rel, (width, height, full.stat().st_size, images.file_sha256(full))
    except images.BadImage as exc:
        return rel, str(exc)


def inspect_files(root: str | Path, paths: Sequence[str], workers: int = 0,
                  desc: str = "checking images") -> tuple[dict[str, tuple], list[tuple[str, str]]]:
    """Decode-check and hash each path (in `workers` processes); returns good facts and refusals."""
    jobs = [(str(root), p) for p in paths]
    workers = workers or min(4, os.cpu_count() or 1)
    good: dict[str, tuple] = {}
    bad: list[tuple[str, str]] = []
    if workers > 1 and len(jobs) > 256:
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_inspect, jobs, chunksize=64)
            results = list(tqdm(results, total=len(jobs), desc=desc, leave=False))
    else:
        results = [_inspect(job) for job in tqdm(jobs, desc=desc, leave=False)]
    for rel, outcome in results:
        if isinstance(outcome, str):
            bad.append((rel, outcome))
        else:
            good[rel] = outcome
    return good, bad


def index_dataset(root: str | Path, artgan_csv_dir: str | Path | None = None,
                  genre_of: Mapping[str, str] | None = None, fractions: Sequence[float] = (0.8, 0.1, 0.1),
                  seed: int = 0, workers: int = 0) -> IndexReport:
    """Scan `root`, verify every image, assign splits and write `root/metadata.csv` (+ refused.csv).

    Genre comes from the ArtGAN genre CSVs in `artgan_csv_dir`, or from `genre_of` (path -> name), joined
    on `labels.name_key` so that the archive's and the CSVs' spellings of one name meet; files that find
    no row are counted in the report (`unmatched`), never dropped silently. The artist is the file
    name's slug (`labels.artist_from_filename`) when it is one of the 128 painters.
    """
    root = Path(root)
    if not root.is_dir():
        raise metadata.MetadataError(f"dataset root {root} is not a directory")
    if artgan_csv_dir is not None:
        table = artgan.read_artgan_labels(artgan_csv_dir)
        genre_of = dict(zip(table["path"], table["genre"]))
    genre_by_key = artgan.genre_by_name_key(genre_of or {})
    paths, refused = scan(root)
    facts, bad = inspect_files(root, paths, workers)
    refused += bad
    keys = {rel: labels.name_key(rel) for rel in paths}
    unmatched = [rel for rel in paths if rel in facts and keys[rel] not in genre_by_key] if genre_of is not None else []
    rows = [{
        "path": rel, "style": rel.split("/", 1)[0], "genre": genre_by_key.get(keys[rel], ""),
        "painter": labels.artist_from_filename(rel), "width": facts[rel][0], "height": facts[rel][1],
        "bytes": facts[rel][2], "sha256": facts[rel][3],
    } for rel in paths if rel in facts]
    meta = pd.DataFrame(rows, columns=[c for c in metadata.COLUMNS if c not in ("artist", "split")])
    meta.loc[~meta["genre"].isin(labels.vocab("genre")), "genre"] = ""
    known = set(labels.vocab("artist"))
    meta["artist"] = [p if p in known else "" for p in meta["painter"]]
    meta["split"] = splits.assign_splits(meta, fractions, seed)
    metadata.write_metadata(root, meta[metadata.COLUMNS])
    fsutil.atomic_write_text(root / metadata.REFUSED, pd.DataFrame(refused, columns=["path", "reason"]).to_csv(index=False))
    return IndexReport(root, len(meta), refused, unmatched, n_artist=int((meta["artist"] != "").sum()),
                       n_genre=int((meta["genre"] != "").sum()))
