"""Read and write `metadata.csv`, the contract every dataset directory fulfils.

A dataset directory is ``<root>/<Style>/<artist-slug>_<title>.<ext>`` plus ``<root>/metadata.csv`` with one
row per usable image: path (relative, '/'), style, genre, artist (names; '' = unknown), painter (every
slug, for EDA), width, height, bytes, sha256 and split. Unusable files are listed in ``refused.csv``.
Building it from a folder of images is ingestion (`ingest.index`); reading it is what the course does.
"""
from __future__ import annotations

from pathlib import Path, PurePosixPath

import pandas as pd

from . import fsutil, labels, splits

METADATA = "metadata.csv"
REFUSED = "refused.csv"
COLUMNS = ["path", "style", "genre", "artist", "painter", "width", "height", "bytes", "sha256", "split"]
BOOKKEEPING = frozenset({METADATA, REFUSED, "sample.json", "prepare.json", "hf_labels.csv",  # at the root
                         "README.md", "painters.csv"})
LABEL_COLUMNS = ["path", "style", "genre", "artist", "painter", "sha256", "split"]


class MetadataError(ValueError):
    """metadata.csv is missing or cannot be trusted; the message says which file and why."""


def write_metadata(root: str | Path, meta: pd.DataFrame) -> None:
    fsutil.atomic_write_text(Path(root) / METADATA, meta.to_csv(index=False))


def read_metadata(root: str | Path, split: str | None = None) -> pd.DataFrame:
    """metadata.csv of a dataset directory (optionally one split), validated.

    Labels outside the vocabularies become '' (unknown); a path that escapes the root is an error.
    """
    root = Path(root)
    file = root / METADATA
    if not file.is_file():
        raise MetadataError(f"{file} not found: run `python -m wikiart_utils index --root {root}` "
                            f"(or `sample --out {root}`) first")
    try:
        meta = pd.read_csv(file, dtype={c: str for c in LABEL_COLUMNS}, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise MetadataError(f"{file}: cannot parse ({str(exc).splitlines()[0]})") from None
    missing = [c for c in ("path", "style", "genre", "artist", "split") if c not in meta]
    if missing:
        raise MetadataError(f"{file}: missing column(s) {', '.join(missing)}")
    for lineno, rel in enumerate(meta["path"], 2):
        pure = PurePosixPath(rel)
        if not rel or pure.is_absolute() or ".." in pure.parts or "\\" in rel:
            raise MetadataError(f"{file}:{lineno}: path {rel!r} escapes the dataset root")
    bad_split = ~meta["split"].isin(splits.SPLITS)
    if bad_split.any():
        lineno = int(bad_split.to_numpy().argmax()) + 2
        raise MetadataError(f"{file}:{lineno}: split {meta['split'][bad_split].iloc[0]!r} is not train/val/test")
    for task in labels.TASKS:
        meta.loc[~meta[task].isin(labels.vocab(task)), task] = ""
    if split is not None:
        if split not in splits.SPLITS:
            raise MetadataError(f"unknown split {split!r}: choose train, val or test")
        meta = meta[meta["split"] == split].reset_index(drop=True)
    return meta
