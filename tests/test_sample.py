"""The synthetic sample: reproducible to the byte, WikiArt-like label rates, double-filed paintings."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from wikiart_utils import labels, metadata, splits
from wikiart_utils.ingest import sample

SAMPLE_N, SAMPLE_SIZE, SAMPLE_SEED = 200, 64, 0  # as in conftest's sample_dir fixture


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_same_bytes(sample_dir, tmp_path):
    again = tmp_path / "again"
    sample.generate_sample(again, n=SAMPLE_N, size=SAMPLE_SIZE, seed=SAMPLE_SEED, workers=1)
    first, second = _files(sample_dir), _files(again)
    assert first.keys() == second.keys()
    assert {"metadata.csv", "refused.csv", "sample.json"} <= first.keys()
    for rel in first:
        assert first[rel] == second[rel], rel


def test_different_seed_differs(tmp_path):
    a = sample.generate_sample(tmp_path / "a", n=30, size=24, seed=1, workers=1)
    b = sample.generate_sample(tmp_path / "b", n=30, size=24, seed=2, workers=1)
    assert a.n_images >= 30 and b.n_images >= 30
    meta_a = pd.read_csv(tmp_path / "a" / metadata.METADATA, keep_default_na=False)
    meta_b = pd.read_csv(tmp_path / "b" / metadata.METADATA, keep_default_na=False)
    assert not set(meta_a["sha256"]) & set(meta_b["sha256"])
    assert meta_a["path"].tolist() != meta_b["path"].tolist()


def test_render_golden_hash():
    """Pixels come from NumPy's PCG64 only: any change to the generator changes this hash.

    If the change is intended, bump sample.SAMPLE_VERSION (so cached samples are regenerated) and
    update the hashes here.
    """
    golden = {
        (12, 4, 77, 48, (0, 0, 5)): ((48, 52, 3), "5cd512b1969797eaaef7ae08414f9b6fc8e5fdb0e05f929989ddbebd595751c2"),
        (3, 6, 200, 32, (1, 0, 0)): ((32, 36, 3), "e67d22727ed741d5c43ce60c08e756845048287c15b6c3d27789845271ec6a8f"),
    }
    for args, (shape, digest) in golden.items():
        pixels = sample.render(*args)
        assert pixels.dtype == np.uint8 and pixels.shape == shape
        assert hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest() == digest, args
    assert sample.SAMPLE_VERSION == 1


def test_render_labels_leave_traces():
    base = sample.render(5, 4, 10, 40, (0, 0, 1))
    assert not np.array_equal(base, sample.render(6, 4, 10, 40, (0, 0, 1)))   # style
    assert not np.array_equal(base, sample.render(5, 6, 10, 40, (0, 0, 1)))   # genre
    signature = np.s_[-6:, -10:]  # lower-right corner: the artist's 8-bit mark
    assert not np.array_equal(base[signature], sample.render(5, 4, 11, 40, (0, 0, 1))[signature])
    assert min(base.shape[:2]) == 40


def test_draw_labels_rates_and_vocabularies():
    stats = labels.stats()
    drawn = sample.draw_labels(20000, seed=0)
    assert drawn == sample.draw_labels(20000, seed=0)
    assert drawn[:50] != sample.draw_labels(50, seed=1)
    painters, artists, styles, genres = map(np.array, zip(*drawn))
    unknown_artist = (artists == "").mean()
    unknown_genre = (genres == "").mean()
    assert abs(unknown_artist - stats["artist_unknown"] / stats["n_images"]) < 0.015  # ~0.45
    assert abs(unknown_genre - stats["genre_unknown"] / stats["n_images"]) < 0.015  # ~0.20
    assert abs((styles == "Impressionism").mean() - 13060 / 81446) < 0.015
    assert set(styles) <= set(labels.vocab("style")) and len(set(styles)) == 27
    assert set(genres) - {""} == set(labels.vocab("genre"))
    assert set(artists) - {""} <= set(labels.vocab("artist")) and len(set(artists) - {""}) > 100
    known = artists != ""
    assert (painters[known] == artists[known]).all()
    assert all(p.startswith("other-painter-") for p in painters[~known])
    assert len(set(painters[~known])) > 200  # a long tail of less represented painters


def test_sample_metadata(sample_dir):
    meta = metadata.read_metadata(sample_dir)
    raw = pd.read_csv(sample_dir / metadata.METADATA, keep_default_na=False)
    assert list(raw.columns) == metadata.COLUMNS
    assert len(meta) == len(raw) >= SAMPLE_N  # nothing fell outside the vocabularies
    assert (raw[["style", "genre", "artist"]] == meta[["style", "genre", "artist"]]).all().all()
    assert set(meta["style"]) <= set(labels.vocab("style"))
    assert set(meta["genre"]) <= set(labels.vocab("genre")) | {""}
    assert set(meta["artist"]) <= set(labels.vocab("artist")) | {""}
    assert 0.35 < (meta["artist"] == "").mean() < 0.55
    assert 0.12 < (meta["genre"] == "").mean() < 0.28
    assert set(meta["split"]) == set(splits.SPLITS)
    assert (np.minimum(raw["width"], raw["height"]) == SAMPLE_SIZE).all()
    assert (np.maximum(raw["width"], raw["height"]) <= 1.5 * SAMPLE_SIZE + 1).all()
    assert not pd.read_csv(sample_dir / metadata.REFUSED).shape[0]
    assert json.loads((sample_dir / "sample.json").read_text()) == {
        "version": sample.SAMPLE_VERSION, "n": SAMPLE_N, "size": SAMPLE_SIZE, "seed": SAMPLE_SEED}


def test_double_filed_paintings_share_hash_and_split(sample_dir):
    meta = metadata.read_metadata(sample_dir)
    names = meta["path"].str.rsplit("/", n=1).str[-1]
    doubled = meta[names.duplicated(keep=False)]
    assert len(doubled) >= 2  # the real rate (1.7%) gives a few at n=200
    for _, pair in doubled.groupby(names[doubled.index]):
        assert len(pair) == 2
        assert pair["style"].nunique() == 2
        assert pair["sha256"].nunique() == 1
        assert pair["split"].nunique() == 1
        assert pair["genre"].nunique() == 1 and pair["artist"].nunique() == 1


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="n >= 1"):
        sample.generate_sample(tmp_path / "x", n=0)
    with pytest.raises(ValueError, match="size >= 16"):
        sample.generate_sample(tmp_path / "x", n=5, size=8)


def test_ensure_sample(tmp_path):
    out = tmp_path / "sample"
    assert sample.ensure_sample(out, n=12, size=16, seed=4) == out
    stamp = (out / metadata.METADATA).stat().st_mtime_ns
    sample.ensure_sample(out, n=12, size=16, seed=4)  # up to date: not regenerated
    assert (out / metadata.METADATA).stat().st_mtime_ns == stamp
    sample.ensure_sample(out, n=10, size=16, seed=4)  # other arguments: regenerated from scratch
    assert json.loads((out / "sample.json").read_text())["n"] == 10
    assert not any(p.name.endswith("-00011.jpg") for p in out.rglob("*.jpg"))
    foreign = tmp_path / "my-photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(FileExistsError):
        sample.ensure_sample(foreign, n=5, size=16)
    assert (foreign / "holiday.jpg").read_bytes() == b"x"
