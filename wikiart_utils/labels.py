"""Label vocabularies and name normalisation for WikiArt's three tasks.

Unknown artist (a painter outside the 128 with >=150 paintings) and unknown genre are *missing labels*,
encoded as -1 and excluded from losses and metrics -- never a class of their own.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import Mapping

TASKS: tuple[str, ...] = ("artist", "genre", "style")
UNKNOWN = -1

_MOJIBAKE = re.compile("([\u00e2-\u00f4])([\u0080-\u00bf])")


@functools.lru_cache(maxsize=1)
def stats() -> dict:
    """Counts taken from the real WikiArt label files (ArtGAN release), shipped as package data."""
    text = (Path(__file__).resolve().parent / "resources" / "wikiart_stats.json").read_text("utf-8")
    return json.loads(text)


def vocab(task: str) -> list[str]:
    """Class names of `task` in index order (styles: ArtGAN order; genres: ArtGAN order; artists: sorted)."""
    key = {"artist": "artists", "genre": "genres", "style": "styles"}[task]
    return list(stats()[key])


def num_classes() -> dict[str, int]:
    return {task: len(vocab(task)) for task in TASKS}


@functools.lru_cache(maxsize=None)
def _index(task: str) -> Mapping[str, int]:
    return {name: i for i, name in enumerate(vocab(task))}


def encode(task: str, name: str | None) -> int:
    """Class index of `name`, or UNKNOWN (-1) for an empty name or a name outside the vocabulary."""
    if not name:
        return UNKNOWN
    return _index(task).get(name, UNKNOWN)


def decode(task: str, index: int) -> str:
    return "" if index < 0 else vocab(task)[index]


def fold_unknown_artists(targets, artist: str):
    """An older project's convention, kept only to measure how it inflates artist accuracy: every painting
    whose artist is unknown (-1) labelled as one real artist (it used ``albrecht-durer``).

    `targets` is a [N, 3] tensor or array in TASKS order; a relabelled copy is returned.
    """
    if artist not in _index("artist"):
        raise ValueError(f"unknown-as-class {artist!r} is not one of the 128 artists")
    targets = targets.clone() if hasattr(targets, "clone") else targets.copy()
    column = targets[:, TASKS.index("artist")]
    column[column == UNKNOWN] = _index("artist")[artist]
    return targets


# Code pages that wikiart.zip's names went through: ArtGAN's already mangled names ("joaquã\xadn") were
# written as UTF-8 and read as Russian DOS (cp866), then written as UTF-8 again and read as US DOS (cp437),
# giving "joaquΓö£╨│Γö¼╨╜n". Each layer is undone by encoding with the code page and decoding as UTF-8.
_CODE_PAGES = ("cp437", "cp866", "cp1252", "latin-1")
_APOSTROPHES = re.compile("['\u2019`]")


def _undo_code_page_layers(text: str, max_layers: int = 4) -> str:
    """Peel layers of 'UTF-8 bytes read in a code page' off `text` while one decodes as valid UTF-8."""
    for _ in range(max_layers):
        if text.isascii():
            break
        for code_page in _CODE_PAGES:
            try:
                peeled = text.encode(code_page).decode("utf-8")
            except UnicodeError:
                continue
            if peeled != text:
                text = peeled
                break
        else:
            break
    return text


def repair_mojibake(text: str) -> str:
    """Undo the mojibake of WikiArt's file names, in the two forms the real files carry.

    * ArtGAN's CSVs: UTF-8 read as Latin-1 and lower-cased. ``joaquã\xadn`` was ``joaquÃ\xadn`` (bytes
      C3 AD = 'í') before lower-casing turned Ã into ã, so each lower-case Latin-1 letter followed by a
      continuation byte is shifted back (-0x20) and re-decoded.
    * wikiart.zip: that string again, through the DOS code pages cp866 then cp437
      (``joaquΓö£╨│Γö¼╨╜n``); those layers are peeled first.
    """
    def fix(m: re.Match) -> str:
        try:
            return bytes([ord(m.group(1)) - 0x20, ord(m.group(2))]).decode("utf-8")
        except UnicodeDecodeError:
            return m.group(0)
    return _MOJIBAKE.sub(fix, _undo_code_page_layers(text))


def _fold(text: str) -> str:
    """Mojibake repaired, accents folded to ASCII, apostrophes dropped, lower case."""
    text = unicodedata.normalize("NFKD", repair_mojibake(text))
    return _APOSTROPHES.sub("", text.encode("ascii", "ignore").decode("ascii")).lower()


def normalize_artist(name: str) -> str:
    """Canonical artist slug: mojibake repaired, accents folded to ASCII, no apostrophes or stray spaces.

    ``joaquã\xadn-sorolla`` and ``joaquΓö£╨│Γö¼╨╜n-sorolla`` -> ``joaquin-sorolla``;
    ``georgia-o'keeffe`` -> ``georgia-okeeffe`` (the zip drops the apostrophe);
    ``Vincent_van_Gogh`` -> ``vincent-van-gogh``.
    """
    return re.sub(r"[\s_]+", "-", _fold(name).strip()).strip("-")


def name_key(path: str) -> str:
    """The key that joins a file of wikiart.zip to its row in ArtGAN's CSVs: ``<Style>/<folded file name>``.

    Both sides spell the same painting differently (mojibake of two kinds, dropped apostrophes, a
    non-breaking space turned into a space); after `_fold` they are equal, and no two of the 81,446
    CSV paths share a key (tests/test_labels.py checks both on the real names).
    """
    folder, _, name = path.replace("\\", "/").rpartition("/")
    name = re.sub(r"\s+", "-", _fold(name).strip())
    return f"{folder}/{name}" if folder else name


def artist_from_filename(filename: str) -> str:
    """Artist slug from an ArtGAN file name ``<artist-slug>_<title>.<ext>`` (the part before the first _)."""
    stem = filename.rsplit("/", 1)[-1]
    return normalize_artist(stem.split("_", 1)[0]) if "_" in stem else ""
