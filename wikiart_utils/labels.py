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


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 read as Latin-1 and then lower-cased, as in ArtGAN's file names.

    ``joaquã\\xadn`` was ``joaquÃ\\xadn`` (bytes C3 AD = 'í') before lower-casing turned Ã into ã, so each
    lower-case Latin-1 letter followed by a continuation byte is shifted back (-0x20) and re-decoded.
    """
    def fix(m: re.Match) -> str:
        try:
            return bytes([ord(m.group(1)) - 0x20, ord(m.group(2))]).decode("utf-8")
        except UnicodeDecodeError:
            return m.group(0)
    return _MOJIBAKE.sub(fix, text)


def normalize_artist(name: str) -> str:
    """Canonical artist slug: mojibake repaired, accents folded to ASCII, no stray spaces.

    ``joaquã­n-sorolla`` -> ``joaquin-sorolla``; ``Vincent_van_Gogh`` -> ``vincent-van-gogh``.
    """
    text = unicodedata.normalize("NFKD", repair_mojibake(name))
    text = text.encode("ascii", "ignore").decode("ascii").strip().lower()
    return re.sub(r"[\s_]+", "-", text).strip("-")


def artist_from_filename(filename: str) -> str:
    """Artist slug from an ArtGAN file name ``<artist-slug>_<title>.<ext>`` (the part before the first _)."""
    stem = filename.rsplit("/", 1)[-1]
    return normalize_artist(stem.split("_", 1)[0]) if "_" in stem else ""
