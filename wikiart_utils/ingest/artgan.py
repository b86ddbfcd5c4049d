"""Readers for the ArtGAN WikiArt release: class lists and ``path,class`` label CSVs.

The artist CSVs differ from the others: a header line ``(Path to image),, (Groundtruth class)``, a blank
line, then ``path,,class`` rows. Every malformed row raises LabelFileError naming file and line.
`extract_archive` unpacks the release's ``wikiart.zip`` safely (no zip-slip, no symlinks, resumable).
"""
from __future__ import annotations

import logging
import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Mapping

import pandas as pd
from tqdm.auto import tqdm

from .. import fsutil, labels

log = logging.getLogger(__name__)
_INDEX = re.compile(r"-?[0-9]+")
ARCHIVE_FOLDER = "wikiart"  # wikiart.zip holds wikiart/<Style>/<artist>_<title>.jpg


class LabelFileError(ValueError):
    """A label file that cannot be trusted; the message names the file and line."""


def read_class_names(path: str | Path) -> list[str]:
    """``index name`` per line -> names in index order (indices must be 0..n-1)."""
    path = Path(path)
    names: dict[int, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        idx, _, name = line.strip().partition(" ")
        if not idx.isdigit() or not name:
            raise LabelFileError(f"{path}:{lineno}: expected 'index name', got {line!r}")
        names[int(idx)] = name.strip()
    if sorted(names) != list(range(len(names))):
        raise LabelFileError(f"{path}: class indices are not 0..{len(names) - 1}")
    return [names[i] for i in range(len(names))]


def read_label_csv(path: str | Path, n_classes: int) -> list[tuple[str, int]]:
    """Rows of an ArtGAN label CSV as ``(relative image path, class index)``."""
    path = Path(path)
    rows: list[tuple[str, int]] = []
    with open(path, encoding="utf-8", newline="") as handle:
        for lineno, line in enumerate(handle, 1):
            line = line.rstrip("\r\n")
            if not line.strip() or (lineno == 1 and line.startswith("(Path to image)")):
                continue
            image, sep, index = line.rpartition(",")
            image = image[:-1] if image.endswith(",") else image  # artist files: path,,class
            index = index.strip()
            if not sep or not image or not _INDEX.fullmatch(index):  # ASCII digits only: int('²') fails
                raise LabelFileError(f"{path}:{lineno}: expected 'path,class_index', got {line[:80]!r}")
            value = int(index) if len(index) <= 12 else n_classes  # a huge number is simply out of range
            if not 0 <= value < n_classes:
                raise LabelFileError(f"{path}:{lineno}: class index {index[:20]} outside 0..{n_classes - 1}")
            if image.startswith("/") or ".." in image.split("/"):
                raise LabelFileError(f"{path}:{lineno}: path {image!r} escapes the dataset root")
            rows.append((image, value))
    return rows


def resolve_conflicts(rows) -> dict[str, int]:
    """Map path -> class; a path listed twice with different classes gets -1 (an untrustworthy label).

    The real genre CSVs list ``Post_Impressionism/maurice-de-vlaminck_the-village.jpg`` as both
    cityscape and landscape: such a painting counts as having no genre rather than a coin-flip one.
    """
    out: dict[str, int] = {}
    for path, index in rows:
        out[path] = index if out.get(path, index) == index else -1
    return out


def genre_by_name_key(genre_of: Mapping[str, str]) -> dict[str, str]:
    """{`labels.name_key`(path): genre}: the lookup that finds a file's row whatever mojibake either side has.

    Two rows whose names fold to one key with different genres would make the join ambiguous: that key
    maps to '' (no genre), like a conflicting row in `resolve_conflicts`.
    """
    out: dict[str, str] = {}
    for path, genre in genre_of.items():
        key = labels.name_key(path)
        out[key] = genre if out.get(key, genre) == genre else ""
    return out


def read_artgan_labels(csv_dir: str | Path) -> pd.DataFrame:
    """All style-labelled images with their style (folder name), genre ('' if none) and artist slug.

    The style CSVs list every image (train + val); genre comes from the genre CSVs where present and
    unambiguous. ArtGAN's own train/val split is not used: splits are made by `splits.assign_splits`.
    """
    csv_dir = Path(csv_dir)
    styles = read_class_names(csv_dir / "style_class.txt")
    genres = read_class_names(csv_dir / "genre_class.txt")
    style_rows = [r for part in ("train", "val") for r in read_label_csv(csv_dir / f"style_{part}.csv", len(styles))]
    genre_of = resolve_conflicts(r for part in ("train", "val")
                                 for r in read_label_csv(csv_dir / f"genre_{part}.csv", len(genres)))
    genre_of = {p: genres[i] if i >= 0 else "" for p, i in genre_of.items()}
    folder_of: dict[int, str] = {}
    for image, index in style_rows:  # class names (Art_Nouveau) and folders (Art_Nouveau_Modern) differ
        folder = image.split("/", 1)[0]
        if folder_of.setdefault(index, folder) != folder:
            raise LabelFileError(f"{csv_dir}: style {styles[index]} spans folders {folder_of[index]} and {folder}")
    return pd.DataFrame({
        "path": [p for p, _ in style_rows],
        "style": [folder_of[i] for _, i in style_rows],
        "genre": [genre_of.get(p, "") for p, _ in style_rows],
        "painter": [labels.artist_from_filename(p) for p, _ in style_rows],
    })


def member_path(name: str) -> str:
    """Where a zip member lands, relative to the destination ('/'-separated, leading ``wikiart/`` dropped).

    Raises ValueError with a one-line reason for a name that could escape the destination: an absolute
    path, a drive letter, or any ``..`` component (backslashes count as separators).
    """
    text = name.replace("\\", "/")
    if text.startswith("/"):
        raise ValueError("absolute path")
    if re.match(r"[A-Za-z]:", text):
        raise ValueError("drive letter in path")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("'..' in path (would escape the destination)")
    if len(parts) > 1 and parts[0] == ARCHIVE_FOLDER:
        parts = parts[1:]
    if not parts:
        raise ValueError("empty member name")
    return str(PurePosixPath(*parts))


def _member_kind(info: zipfile.ZipInfo) -> str | None:
    """None for a regular file; otherwise why the member is not extracted (symlink, device, ...)."""
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded no Unix file type
    if kind in (0, stat.S_IFREG):
        return None
    return "symlink member" if kind == stat.S_IFLNK else f"not a regular file (type {oct(kind)})"


def extract_archive(zip_path: str | Path, dest: str | Path, refused: list[tuple[str, str]] | None = None) -> int:
    """Extract ArtGAN's ``wikiart.zip`` into `dest` (``<Style>/<file>``); returns the number of files written.

    Members named ``wikiart/<Style>/<file>`` or ``<Style>/<file>`` are written under `dest`, each
    atomically, so a rerun after an interruption (even kill -9) skips every file already complete (same
    size) and rewrites the rest. Unsafe members are *skipped, not fatal*: a name that would land outside
    `dest` (``..``, absolute path, drive letter, or a folder inside `dest` that links outside), a
    symlink or special file, and a member that fails its CRC check are appended to `refused` as
    ``(member name, one-line reason)`` and logged; the legitimate members are still extracted.
    A missing or non-zip file raises FileNotFoundError / ValueError.
    """
    zip_path, dest = Path(zip_path), Path(dest)
    if not zip_path.is_file():
        raise FileNotFoundError(f"{zip_path} not found: download wikiart.zip (ArtGAN release) first")
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(f"{zip_path} is not a readable zip archive ({exc})") from None
    dest.mkdir(parents=True, exist_ok=True)
    fsutil.remove_stale_parts(dest)
    refused = refused if refused is not None else []
    written = 0

    def refuse(name: str, reason: str) -> None:
        refused.append((name, reason))
        log.warning("refused %r: %s", name, reason)

    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        for info in tqdm(members, desc="extract", unit="file"):
            kind = _member_kind(info)
            if kind:
                refuse(info.filename, kind)
                continue
            try:
                rel = member_path(info.filename)
            except ValueError as exc:
                refuse(info.filename, str(exc))
                continue
            target = dest / rel
            if not fsutil.inside(dest, target):
                refuse(info.filename, "resolves outside the destination (through a symlink)")
                continue
            if target.is_file() and target.stat().st_size == info.file_size:
                continue  # complete from an earlier run (files only ever appear whole: atomic writes)
            try:
                with fsutil.atomic_path(target) as tmp, archive.open(info) as source, open(tmp, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
                refuse(info.filename, f"corrupt or unreadable member ({exc})")
                continue
            written += 1
    return written
