"""The join of real wikiart.zip file names to ArtGAN's label CSVs, on the 32,245 real names of the
subset `jalpv1/wiki-art-selected-resized` at commit f7db1e48 (tests/data: names only, no images).

The zip spells non-ASCII names through two extra code pages (``joaquΓö£╨│Γö¼╨╜n-sorolla``) where the CSVs
have ``joaquã\\xadn-sorolla``, and drops apostrophes (``georgia-okeeffe`` vs ``georgia-o'keeffe``); before
the fix 779 labels (2.4%) of this subset were lost without a word.
"""
from __future__ import annotations

import collections
import gzip
from pathlib import Path

import pytest

from wikiart_utils import labels, metadata
from wikiart_utils.ingest import artgan, index

NAMES_FILE = Path(__file__).parent / "data" / "wikiart_subset_f7db1e48_names.txt.gz"


@pytest.fixture(scope="module")
def real_names() -> list[str]:
    return gzip.decompress(NAMES_FILE.read_bytes()).decode("utf-8").splitlines()


@pytest.fixture(scope="module")
def csv_rows(artgan_table):
    """{name_key: (CSV path, genre)} over all 81,446 CSV rows; asserts that no two rows share a key."""
    rows: dict[str, tuple[str, str]] = {}
    for path, genre in zip(artgan_table["path"], artgan_table["genre"]):
        key = labels.name_key(path)
        assert rows.get(key, (path, genre))[0] == path or rows[key][1] == genre, f"{path} and {rows[key][0]}"
        rows[key] = (path, genre)
    return rows


def test_names_file_is_the_subset(real_names):
    assert len(real_names) == len(set(real_names)) == 32245
    styles = collections.Counter(name.split("/", 1)[0] for name in real_names)
    assert styles["Impressionism"] == 13060 and styles["Pointillism"] == 513 and len(styles) == 11
    assert sum(not name.isascii() for name in real_names) == 457


def test_no_two_csv_paths_share_a_key(artgan_table):
    keys = collections.Counter(labels.name_key(p) for p in set(artgan_table["path"]))
    assert max(keys.values()) == 1


def test_every_real_file_finds_its_csv_row(real_names, csv_rows):
    missing = [name for name in real_names if labels.name_key(name) not in csv_rows]
    assert not missing, f"{len(missing)} real files found no CSV row, e.g. {missing[:3]}"


def test_real_files_get_the_csv_labels(real_names, csv_rows, artgan_table):
    genre_by_key = artgan.genre_by_name_key(dict(zip(artgan_table["path"], artgan_table["genre"])))
    known = set(labels.vocab("artist"))
    n_genre = n_artist = 0
    artists = set()
    for name in real_names:
        csv_path, csv_genre = csv_rows[labels.name_key(name)]
        assert genre_by_key[labels.name_key(name)] == csv_genre
        # the artist from the zip's spelling equals the artist from the CSV's spelling
        slug = labels.artist_from_filename(name)
        assert slug == labels.artist_from_filename(csv_path), (name, csv_path)
        n_genre += bool(csv_genre)
        if slug in known:
            n_artist += 1
            artists.add(slug)
    assert (n_genre, n_artist, len(artists)) == (25631, 15913, 77)


@pytest.mark.parametrize("zip_slug,csv_slug,expected", [
    ("joaquΓö£╨│Γö¼╨╜n-sorolla", "joaquã\xadn-sorolla", "joaquin-sorolla"),
    ("grΓö£╨│Γö¼╨╣goire-michonze", "grã©goire-michonze", "gregoire-michonze"),
    ("andrΓö£╨│Γö¼╨╣-lhote", "andrã©-lhote", "andre-lhote"),
    ("mestre-ataΓö£╨│Γö¼╨╜de", "mestre-ataã\xadde", "mestre-ataide"),
    ("roger-bissiΓö£╨│Γö¼╨╕re", "roger-bissiã¨re", "roger-bissiere"),
    ("georges-lacombeΓö£╨▓Γö¼╨░", "georges-lacombeâ\xa0", "georges-lacombe"),
    ("georgia-okeeffe", "georgia-o'keeffe", "georgia-okeeffe"),
    ("allan-darcangelo", "allan-d'arcangelo", "allan-darcangelo"),
])
def test_both_spellings_give_one_slug(zip_slug, csv_slug, expected):
    assert labels.normalize_artist(zip_slug) == labels.normalize_artist(csv_slug) == expected
    assert labels.name_key(f"Baroque/{zip_slug}_a-title.jpg") == labels.name_key(f"Baroque/{csv_slug}_a-title.jpg")


def test_sorolla_in_the_subset_is_labelled(real_names, csv_rows):
    sorolla = [n for n in real_names if labels.artist_from_filename(n) == "joaquin-sorolla"]
    assert len(sorolla) == 350 and all(not n.isascii() for n in sorolla)
    assert sum(bool(csv_rows[labels.name_key(n)][1]) for n in sorolla) == 335


def test_index_joins_real_names_and_counts_the_unmatched(tmp_path, make_images, real_names, artgan_dir, csv_rows):
    """index on a tree of real names (tiny stand-in pixels) labels them all; a file with no CSV row is
    indexed with its style, counted and named in the summary."""
    picked = [n for n in real_names if not n.isascii()][::40] + [n for n in real_names if "okeeffe" in n]
    stranger = "Impressionism/nobody-known_a-painting-not-in-wikiart.jpg"
    for rel in picked + [stranger]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        make_images.noise(8, 8).save(tmp_path / rel, format="JPEG")
    report = index.index_dataset(tmp_path, artgan_csv_dir=artgan_dir, workers=1)
    assert report.n_images == len(picked) + 1 and report.unmatched == [stranger]
    assert "1 files found no row in the label files" in report.summary() and stranger in report.summary()
    meta = metadata.read_metadata(tmp_path).set_index("path")
    sorolla = [n for n in picked if "sorolla" in labels.artist_from_filename(n)]
    assert sorolla and (meta.loc[sorolla, "artist"] == "joaquin-sorolla").all()
    assert meta.loc[stranger, "genre"] == "" and meta.loc[stranger, "style"] == "Impressionism"
    for name in picked:
        assert meta.loc[name, "genre"] == csv_rows[labels.name_key(name)][1]
