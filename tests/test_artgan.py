"""ArtGAN label-file readers: facts of the real files (../shared, skipped when absent) and bad-file errors."""
from __future__ import annotations

import collections
import re

import pytest

from wikiart_utils import labels
from wikiart_utils.ingest import artgan

CONFLICT = "Post_Impressionism/maurice-de-vlaminck_the-village.jpg"


# --------------------------------------------------------------------------- real files

def test_style_table_counts(artgan_table):
    table = artgan_table
    assert list(table.columns) == ["path", "style", "genre", "painter"]
    assert len(table) == 81446
    assert table["path"].is_unique
    counts = table["style"].value_counts()
    assert len(counts) == 27
    assert counts.index[0] == "Impressionism" and counts["Impressionism"] == 13060
    assert counts.index[-1] == "Action_painting" and counts["Action_painting"] == 98
    assert set(counts.index) == set(labels.vocab("style"))
    assert "Art_Nouveau_Modern" in counts and "Art_Nouveau" not in counts
    assert (table["path"].str.split("/").str[0] == table["style"]).all()


def test_style_class_order_matches_vocab(artgan_dir):
    names = artgan.read_class_names(artgan_dir / "style_class.txt")
    assert len(names) == 27
    folder = {"Art_Nouveau": "Art_Nouveau_Modern"}  # class name vs folder name
    assert [folder.get(n, n) for n in names] == labels.vocab("style")
    assert artgan.read_class_names(artgan_dir / "genre_class.txt") == labels.vocab("genre")


def test_genre_rows_and_conflict(artgan_dir, artgan_table):
    genre_rows = [row for part in ("train", "val")
                  for row in artgan.read_label_csv(artgan_dir / f"genre_{part}.csv", 10)]
    assert len(genre_rows) == 64995
    listed = [index for path, index in genre_rows if path == CONFLICT]
    assert len(listed) == 2 and listed[0] != listed[1]  # cityscape and landscape
    assert len({path for path, _ in genre_rows}) == 64994
    resolved = artgan.resolve_conflicts(genre_rows)
    assert resolved[CONFLICT] == -1
    # the conflicting painting has no genre in the table; every other genre-listed image has one
    table = artgan_table.set_index("path")
    assert table.loc[CONFLICT, "genre"] == ""
    assert (artgan_table["genre"] != "").sum() == 64993
    assert (artgan_table["genre"] == "").sum() == 81446 - 64993
    assert set(artgan_table["genre"]) - {""} == set(labels.vocab("genre"))


def test_artist_slugs(artgan_table):
    counts = collections.Counter(artgan_table["painter"])
    assert len(counts) == 1119
    assert "" not in counts
    assert all(slug == labels.normalize_artist(slug) and slug.isascii() for slug in counts)
    frequent = {slug: n for slug, n in counts.items() if n >= 150}
    assert len(frequent) == 128
    assert sum(frequent.values()) == 44591
    assert sorted(frequent) == labels.vocab("artist")
    # mojibake names were repaired before counting
    assert counts["joaquin-sorolla"] >= 150 and counts["gregoire-michonze"] > 0
    assert counts["georges-lacombe"] > 0


def test_double_filed_names(artgan_table):
    names = artgan_table["path"].str.rsplit("/", n=1).str[-1]
    per_name = names.value_counts()
    assert (per_name == 2).sum() == 1349
    assert per_name.max() == 2
    doubled = artgan_table[names.isin(per_name.index[per_name == 2])]
    # filed under two *different* style folders
    assert doubled.groupby(names[doubled.index])["style"].nunique().eq(2).all()


def test_artist_csv_format(artgan_dir):
    first = (artgan_dir / "artist_train.csv").read_text(encoding="utf-8").splitlines()[:3]
    assert first[0].startswith("(Path to image),,") and first[1] == "" and ",," in first[2]
    classes = artgan.read_class_names(artgan_dir / "artist_class.txt")
    assert len(classes) == 23
    train = artgan.read_label_csv(artgan_dir / "artist_train.csv", len(classes))
    val = artgan.read_label_csv(artgan_dir / "artist_val.csv", len(classes))
    assert (len(train), len(val)) == (13346, 5706)
    assert {i for _, i in train + val} == set(range(23))
    assert not any(path.endswith(",") for path, _ in train + val)
    assert train[0] == ("Realism/vincent-van-gogh_pine-trees-in-the-fen-1884.jpg", 22)
    # ArtGAN's 23 artist names normalise to slugs of the 128-artist vocabulary
    assert {labels.normalize_artist(c) for c in classes} <= set(labels.vocab("artist"))


def test_shipped_stats_equal_recount(artgan_dir, artgan_table):
    stats = labels.stats()
    table = artgan_table
    counts = collections.Counter(table["painter"])
    known = {slug for slug, n in counts.items() if n >= stats["min_paintings_per_artist"]}
    assert stats["n_images"] == len(table)
    assert stats["styles"] == sorted(table["style"].unique())
    assert stats["genres"] == artgan.read_class_names(artgan_dir / "genre_class.txt")
    assert stats["artists"] == sorted(known)
    assert stats["style_counts"] == table["style"].value_counts().to_dict()
    assert stats["genre_counts"] == {g: int((table["genre"] == g).sum()) for g in stats["genres"]}
    assert stats["genre_unknown"] == int((table["genre"] == "").sum())
    assert stats["artist_counts"] == {a: counts[a] for a in sorted(known)}
    assert stats["artist_unknown"] == sum(n for slug, n in counts.items() if slug not in known)
    assert stats["n_artist_slugs"] == len(counts)
    joint = collections.Counter(
        (p if p in known else "", s, g) for p, s, g in zip(table["painter"], table["style"], table["genre"]))
    assert stats["joint_counts"] == [[a, s, g, n] for (a, s, g), n in sorted(joint.items())]


# --------------------------------------------------------------------------- bad files

def _write(path, text: str):
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_reads_crlf_and_artist_format(tmp_path):
    style = _write(tmp_path / "style.csv", "Impressionism/a_b.jpg,12\r\nRealism/c_d.jpg,21\r\n\r\n")
    assert artgan.read_label_csv(style, 27) == [("Impressionism/a_b.jpg", 12), ("Realism/c_d.jpg", 21)]
    artist = _write(tmp_path / "artist.csv",
                    "(Path to image),, (Groundtruth class) \n\nRealism/x_y.jpg,,22\n\nBaroque/r_s,t.jpg,,3\n")
    assert artgan.read_label_csv(artist, 23) == [("Realism/x_y.jpg", 22), ("Baroque/r_s,t.jpg", 3)]


@pytest.mark.parametrize("body,bad_line,fragment", [
    ("Impressionism/a_b.jpg,12\nno-comma-here\n", 2, "expected 'path,class_index'"),
    ("Impressionism/a_b.jpg,12\nRealism/c_d.jpg,twelve\n", 2, "expected 'path,class_index'"),
    ("Impressionism/a_b.jpg,12\n\nRealism/c_d.jpg,\n", 3, "expected 'path,class_index'"),
    (",5\n", 1, "expected 'path,class_index'"),
    ("Impressionism/a_b.jpg,12\nRealism/c_d.jpg,27\n", 2, "outside 0..26"),
    ("Impressionism/a_b.jpg,-1\n", 1, "outside 0..26"),
    ("ok/a_b.jpg,1\nok/c_d.jpg,2\n../etc/passwd,3\n", 3, "escapes the dataset root"),
    ("/abs/a_b.jpg,3\n", 1, "escapes the dataset root"),
])
def test_bad_label_csv_names_file_and_line(tmp_path, body, bad_line, fragment):
    path = _write(tmp_path / "style_train.csv", body)
    with pytest.raises(artgan.LabelFileError) as info:
        artgan.read_label_csv(path, 27)
    message = str(info.value)
    assert f"{path}:{bad_line}:" in message
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize("body,fragment", [
    ("0 a\n1\n", ":2: expected 'index name'"),
    ("0 a\nx b\n", ":2: expected 'index name'"),
    ("0 a\n2 c\n", "class indices are not 0..1"),
])
def test_bad_class_names(tmp_path, body, fragment):
    path = _write(tmp_path / "style_class.txt", body)
    with pytest.raises(artgan.LabelFileError, match=re.escape(fragment)) as info:
        artgan.read_class_names(path)
    assert str(path) in str(info.value)


def test_class_names_ok(tmp_path):
    path = _write(tmp_path / "genre_class.txt", "1 cityscape\n0 abstract_painting\n\n")
    assert artgan.read_class_names(path) == ["abstract_painting", "cityscape"]


def _mini_artgan(folder, style_rows: str, genre_rows: str = ""):
    folder.mkdir(parents=True, exist_ok=True)
    _write(folder / "style_class.txt", "".join(f"{i} {n}\n" for i, n in enumerate(labels.vocab("style"))))
    _write(folder / "genre_class.txt", "".join(f"{i} {n}\n" for i, n in enumerate(labels.vocab("genre"))))
    _write(folder / "style_train.csv", style_rows)
    _write(folder / "style_val.csv", "")
    _write(folder / "genre_train.csv", genre_rows)
    _write(folder / "genre_val.csv", "")
    return folder


def test_read_artgan_labels_small(tmp_path):
    folder = _mini_artgan(tmp_path / "labels",
                          "Impressionism/claude-monet_a.jpg,12\nRealism/nobody_b.jpg,21\nRealism/c.jpg,21\n",
                          "Impressionism/claude-monet_a.jpg,4\nRealism/nobody_b.jpg,6\nRealism/nobody_b.jpg,4\n")
    table = artgan.read_artgan_labels(folder)
    assert table.to_dict("records") == [
        {"path": "Impressionism/claude-monet_a.jpg", "style": "Impressionism", "genre": "landscape",
         "painter": "claude-monet"},
        {"path": "Realism/nobody_b.jpg", "style": "Realism", "genre": "", "painter": "nobody"},  # conflict
        {"path": "Realism/c.jpg", "style": "Realism", "genre": "", "painter": ""},
    ]


def test_style_spanning_two_folders_is_an_error(tmp_path):
    folder = _mini_artgan(tmp_path / "labels", "Impressionism/a_b.jpg,12\nRealism/c_d.jpg,12\n")
    with pytest.raises(artgan.LabelFileError, match="spans folders Impressionism and Realism"):
        artgan.read_artgan_labels(folder)


def test_resolve_conflicts():
    rows = [("a", 1), ("b", 2), ("a", 1), ("b", 3), ("b", 2), ("c", 0)]
    assert artgan.resolve_conflicts(rows) == {"a": 1, "b": -1, "c": 0}
