"""Readers for the ArtGAN WikiArt release: class lists and ``path,class`` label CSVs.

The artist CSVs differ from the others: a header line ``(Path to image),, (Groundtruth class)``, a blank
line, then ``path,,class`` rows. Every malformed row raises LabelFileError naming file and line.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import labels


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
            if not sep or not image or not index.strip().lstrip("-").isdigit():
                raise LabelFileError(f"{path}:{lineno}: expected 'path,class_index', got {line[:80]!r}")
            value = int(index)
            if not 0 <= value < n_classes:
                raise LabelFileError(f"{path}:{lineno}: class index {value} outside 0..{n_classes - 1}")
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
