"""The shipped real sample data/real-sample/: public-domain painters only, within its size limits,
labels and splits as `index` gives them, and rebuilt byte for byte by tools/build_real_sample.py."""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image

from wikiart_utils import labels, metadata, splits

from conftest import REPO_ROOT

SAMPLE = REPO_ROOT / "data" / "real-sample"
SUBSET = REPO_ROOT / "data" / "wikiart-subset"  # the f7db1e48 subset, when a developer has extracted it


@pytest.fixture(scope="module")
def meta() -> pd.DataFrame:
    return metadata.read_metadata(SAMPLE)


def test_every_painter_is_listed_and_died_by_1926(meta):
    painters = pd.read_csv(SAMPLE / "painters.csv")
    assert list(painters.columns) == ["painter", "death_year", "source"]
    assert not painters["painter"].duplicated().any()
    assert set(meta["painter"]) == set(painters["painter"])
    assert (painters["death_year"] <= 1926).all()
    assert painters["source"].str.startswith("https://").all()


def test_size_limits(meta):
    assert 1500 <= len(meta) <= 3000
    files = [p for p in SAMPLE.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 20e6
    assert len([p for p in files if p.suffix == ".jpg"]) == len(meta)
    assert (meta[["width", "height"]].min(axis=1) <= 128).all()
    for rel in meta["path"][::97]:
        with Image.open(SAMPLE / rel) as image:
            assert min(image.size) <= 128 and image.mode == "RGB"


def test_labels_and_imbalance(meta):
    styles, genres = meta["style"].value_counts(), meta["genre"].value_counts()
    artists = meta.loc[meta["artist"] != "", "artist"].value_counts()
    assert len(styles) == 8 and styles.iloc[0] > 10 * styles.iloc[-1]          # the long tail stays visible
    assert set(genres.index) - {""} == set(labels.vocab("genre"))                # all 10 genres
    assert len(artists) == 38 and artists.iloc[0] > 5 * artists.iloc[-1]
    assert 0.3 < (meta["artist"] == "").mean() < 0.5                             # missing artists, as in WikiArt
    # names as in wikiart.zip: the mangled Sorolla files are joined to their artist
    sorolla = meta[meta["painter"] == "joaquin-sorolla"]
    assert len(sorolla) and all(not p.isascii() for p in sorolla["path"]) and (sorolla["artist"] != "").all()


def test_splits_are_the_index_splits(meta):
    assert (meta["split"] == splits.assign_splits(meta, (0.8, 0.1, 0.1), 0)).all()
    assert set(meta["split"]) == {"train", "val", "test"}
    assert (meta["split"] == "test").sum() >= 200


@pytest.mark.skipif(not (SUBSET / "metadata.csv").is_file(), reason="needs the f7db1e48 subset in data/wikiart-subset")
def test_rebuild_is_identical(tmp_path, artgan_dir):
    out = tmp_path / "real-sample"
    out.mkdir()
    (out / "painters.csv").write_bytes((SAMPLE / "painters.csv").read_bytes())
    subprocess.run([sys.executable, str(REPO_ROOT / "tools" / "build_real_sample.py"), "--subset", str(SUBSET),
                    "--artgan-csv-dir", str(artgan_dir), "--out", str(out)], check=True, capture_output=True)

    def digest(root: Path) -> dict[str, str]:
        return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in root.rglob("*") if p.is_file() and p.name != "README.md"}
    assert digest(out) == digest(SAMPLE)
