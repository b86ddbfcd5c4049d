"""index_dataset: every bad input refused with a one-line reason, odd valid files kept; read_metadata checks."""
from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from wikiart_utils import images, labels, metadata, splits
from wikiart_utils.ingest import index

COLUMNS = ["path", "style", "genre", "artist", "painter", "width", "height", "bytes", "sha256", "split"]
OUTSIDE_REASON = "symlink pointing outside the root"
FOLDER_REASON = "not in a known style folder"


@pytest.fixture(scope="module")
def messy(tmp_path_factory, make_images):
    """A dataset root holding every kind of bad input next to valid-but-odd files.

    Returns (root, expected sizes of kept files by path, expected reason fragment of refused files by path).
    """
    base = tmp_path_factory.mktemp("messy")
    root, outside = base / "root", base / "outside"
    kept = {f"Impressionism/{name}": size for name, size in make_images.valid(root / "Impressionism").items()}
    refused = {f"Realism/{name}": why for name, why in make_images.bad(root / "Realism").items()}
    (root / "Realism" / "notes.txt").write_text("not a painting")
    refused["Realism/notes.txt"] = "not an image file (.txt)"
    (root / "Realism" / "README").write_text("no extension")
    refused["Realism/README"] = "not an image file (no extension)"
    make_images.noise(10, 10).save(root / "root-painter_at-root.jpg")
    refused["root-painter_at-root.jpg"] = FOLDER_REASON
    (root / "NotAStyle").mkdir()
    make_images.noise(10, 10).save(root / "NotAStyle" / "someone_unknown-style.jpg")
    refused["NotAStyle/someone_unknown-style.jpg"] = FOLDER_REASON
    (root / "Impressionism" / "deeper" / "deepest").mkdir(parents=True)
    make_images.noise(10, 10).save(root / "Impressionism" / "deeper" / "painter_nested.jpg")
    make_images.noise(10, 10).save(root / "Impressionism" / "deeper" / "deepest" / "painter_nested2.jpg")
    refused["Impressionism/deeper/painter_nested.jpg"] = FOLDER_REASON
    refused["Impressionism/deeper/deepest/painter_nested2.jpg"] = FOLDER_REASON
    # symlinks leaving the root: a file and a whole (known-style) folder
    (outside / "Cubism").mkdir(parents=True)
    make_images.noise(12, 12).save(outside / "secret_file.jpg")
    make_images.noise(12, 12).save(outside / "Cubism" / "secret_in-folder.jpg")
    (root / "Baroque").mkdir()
    os.symlink(outside / "secret_file.jpg", root / "Baroque" / "link-painter_outside.jpg")
    os.symlink(outside / "Cubism", root / "Cubism", target_is_directory=True)
    refused["Baroque/link-painter_outside.jpg"] = OUTSIDE_REASON
    refused["Cubism"] = OUTSIDE_REASON
    # a symlink that stays inside the root is followed (a copy of a kept file: same bytes, same split)
    os.symlink("../Impressionism/tiny-painter_3x2.jpg", root / "Baroque" / "inside-link_copy.jpg")
    kept["Baroque/inside-link_copy.jpg"] = (3, 2)
    # hidden files (editor droppings, .DS_Store) are ignored, neither kept nor refused
    (root / "Baroque" / ".DS_Store").write_bytes(b"\0\1junk")
    report = index.index_dataset(root, workers=1)
    return root, kept, refused, report


def test_refused_each_with_one_line_reason(messy):
    root, _, refused, report = messy
    got = dict(report.refused)
    assert set(got) == set(refused)
    for path, fragment in refused.items():
        assert fragment in got[path], (path, got[path])
        assert "\n" not in got[path]
    raw = (root / metadata.REFUSED).read_text(encoding="utf-8")
    assert raw.splitlines()[0] == "path,reason"
    assert len(raw.splitlines()) == len(refused) + 1  # one line per refusal
    table = pd.read_csv(root / metadata.REFUSED, keep_default_na=False)
    assert dict(zip(table["path"], table["reason"])) == got


def test_summary_counts_refusals(messy):
    root, kept, refused, report = messy
    assert report.n_images == len(kept)
    summary = report.summary()
    assert f"indexed {len(kept)} images" in summary
    assert f"refused {len(refused)} (" in summary
    assert "\n" not in summary
    assert "2 symlink pointing outside the root" in summary
    assert "4 not in a known style folder" in summary


def test_odd_valid_files_kept_with_sizes(messy):
    root, kept, _, _ = messy
    meta = pd.read_csv(root / metadata.METADATA, keep_default_na=False)
    assert list(meta.columns) == COLUMNS == metadata.COLUMNS
    assert set(meta["path"]) == set(kept)
    for row in meta.itertuples():
        assert (row.width, row.height) == kept[row.path], row.path
        assert row.bytes == (root / row.path).stat().st_size
        assert row.sha256 == images.file_sha256(root / row.path)
        assert row.style == row.path.split("/")[0]
        assert row.split in splits.SPLITS
    by_path = meta.set_index("path")
    assert (by_path.loc["Impressionism/rotated-painter_exif6.jpg", ["width", "height"]] == [20, 40]).all()
    sorolla = by_path.loc["Impressionism/joaquã\xadn-sorolla_study-of-vineyard.jpg"]
    assert (sorolla["painter"], sorolla["artist"]) == ("joaquin-sorolla", "joaquin-sorolla")
    michonze = by_path.loc["Impressionism/grã©goire-michonze_birds.jpg"]
    assert (michonze["painter"], michonze["artist"]) == ("gregoire-michonze", "")  # < 150 paintings
    # the inside symlink is byte-identical to its target: one painting, one split
    assert by_path.loc["Baroque/inside-link_copy.jpg", "split"] == by_path.loc[
        "Impressionism/tiny-painter_3x2.jpg", "split"]


def test_read_metadata_roundtrip(messy):
    root, kept, _, _ = messy
    meta = metadata.read_metadata(root)
    assert len(meta) == len(kept)
    assert all((root / p).is_file() for p in meta["path"])
    parts = [metadata.read_metadata(root, s) for s in splits.SPLITS]
    assert sum(len(p) for p in parts) == len(meta)
    assert all((p["split"] == s).all() for p, s in zip(parts, splits.SPLITS))


def test_reindex_is_idempotent(messy, tmp_path):
    root, _, _, _ = messy
    copy = tmp_path / "copy"
    shutil.copytree(root, copy, symlinks=True)
    first = (copy / metadata.METADATA).read_bytes()
    report = index.index_dataset(copy, workers=1)  # metadata.csv / refused.csv are not scanned themselves
    assert (copy / metadata.METADATA).read_bytes() == first
    assert metadata.METADATA not in dict(report.refused) and metadata.REFUSED not in dict(report.refused)
    assert not list(copy.rglob("*.part"))


def test_process_pool_matches_serial(tmp_path, make_images):
    root = tmp_path / "many"
    (root / "Baroque").mkdir(parents=True)
    picture = make_images.noise(4, 3)
    for i in range(300):  # > 256 files: inspect_files uses worker processes
        picture.save(root / "Baroque" / f"painter-{i % 7}_p{i:03d}.jpg", quality=50 + i % 40)
    (root / "Baroque" / "broken_zero.jpg").write_bytes(b"")
    serial = index.index_dataset(root, workers=1)
    serial_csv = (root / metadata.METADATA).read_bytes()
    parallel = index.index_dataset(root, workers=2)
    assert (root / metadata.METADATA).read_bytes() == serial_csv
    assert serial.refused == parallel.refused == [("Baroque/broken_zero.jpg", "empty file (0 bytes)")]
    assert parallel.n_images == 300


# --------------------------------------------------------------------------- genres

def _two_paintings(root, make_images):
    for rel in ("Impressionism/claude-monet_water-lilies.jpg", "Realism/nobody_field.jpg"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        make_images.noise(8, 8).save(root / rel)


def test_genre_of_mapping(tmp_path, make_images):
    _two_paintings(tmp_path, make_images)
    index.index_dataset(tmp_path, genre_of={"Impressionism/claude-monet_water-lilies.jpg": "landscape",
                                            "Realism/nobody_field.jpg": "not-a-genre"}, workers=1)
    meta = metadata.read_metadata(tmp_path).set_index("path")
    assert meta.loc["Impressionism/claude-monet_water-lilies.jpg", "genre"] == "landscape"
    assert meta.loc["Impressionism/claude-monet_water-lilies.jpg", "artist"] == "claude-monet"
    assert meta.loc["Realism/nobody_field.jpg", "genre"] == ""  # outside the vocabulary -> unknown
    assert meta.loc["Realism/nobody_field.jpg", "artist"] == ""


def test_artgan_csv_dir_genre_lookup(tmp_path, make_images):
    root, csv_dir = tmp_path / "root", tmp_path / "labels"
    _two_paintings(root, make_images)
    csv_dir.mkdir()
    (csv_dir / "style_class.txt").write_text("".join(f"{i} {s}\n" for i, s in enumerate(labels.vocab("style"))))
    (csv_dir / "genre_class.txt").write_text("".join(f"{i} {g}\n" for i, g in enumerate(labels.vocab("genre"))))
    (csv_dir / "style_train.csv").write_text("Impressionism/claude-monet_water-lilies.jpg,12\r\n")
    (csv_dir / "style_val.csv").write_text("Realism/nobody_field.jpg,21\r\n")
    (csv_dir / "genre_train.csv").write_text("Impressionism/claude-monet_water-lilies.jpg,4\r\n")
    (csv_dir / "genre_val.csv").write_text("Realism/nobody_field.jpg,6\r\n")
    index.index_dataset(root, artgan_csv_dir=csv_dir, workers=1)
    meta = metadata.read_metadata(root).set_index("path")
    assert meta.loc["Impressionism/claude-monet_water-lilies.jpg", "genre"] == "landscape"
    assert meta.loc["Realism/nobody_field.jpg", "genre"] == "portrait"


def test_real_artgan_genre_lookup(tmp_path, make_images, artgan_dir):
    rels = {"Impressionism/edgar-degas_dancers-on-set-1880.jpg": "genre_painting",
            "Post_Impressionism/maurice-de-vlaminck_the-village.jpg": "",  # listed twice, conflicting
            "Naive_Art_Primitivism/grã©goire-michonze_village-street.jpg": "genre_painting"}  # mojibake name
    for rel in rels:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        make_images.noise(8, 8).save(tmp_path / rel, format="JPEG")
    index.index_dataset(tmp_path, artgan_csv_dir=artgan_dir, workers=1)
    meta = metadata.read_metadata(tmp_path).set_index("path")
    assert meta.loc["Impressionism/edgar-degas_dancers-on-set-1880.jpg", "genre"] == "genre_painting"
    assert meta.loc["Impressionism/edgar-degas_dancers-on-set-1880.jpg", "artist"] == "edgar-degas"
    assert meta["genre"].to_dict() == rels
    assert meta.loc["Naive_Art_Primitivism/grã©goire-michonze_village-street.jpg", "painter"] == "gregoire-michonze"


# --------------------------------------------------------------------------- read_metadata errors

def _write_meta(root, rows, columns=COLUMNS):
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_csv(root / metadata.METADATA, index=False)
    return root / metadata.METADATA


_GOOD = ["Baroque/rembrandt_a.jpg", "Baroque", "portrait", "rembrandt", "rembrandt", 10, 12, 100, "ab", "train"]


def test_missing_metadata(tmp_path):
    with pytest.raises(metadata.MetadataError, match="metadata.csv not found"):
        metadata.read_metadata(tmp_path)
    with pytest.raises(metadata.MetadataError, match="is not a directory"):
        index.index_dataset(tmp_path / "nope")


def test_missing_column(tmp_path):
    file = _write_meta(tmp_path, [_GOOD[:-1]], COLUMNS[:-1])
    with pytest.raises(metadata.MetadataError, match="missing column.*split") as info:
        metadata.read_metadata(tmp_path)
    assert str(file) in str(info.value)


@pytest.mark.parametrize("bad_path", ["../outside/x_y.jpg", "Baroque/../../etc/passwd", "/etc/passwd",
                                      "Baroque\\..\\..\\x.jpg", ""])
def test_escaping_path_names_file_and_line(tmp_path, bad_path):
    bad = [bad_path] + _GOOD[1:]
    file = _write_meta(tmp_path, [_GOOD, _GOOD, bad])
    with pytest.raises(metadata.MetadataError) as info:
        metadata.read_metadata(tmp_path)
    assert f"{file}:4:" in str(info.value)  # header is line 1, the bad row is the third data row
    assert "escapes the dataset root" in str(info.value)


def test_bad_split_value(tmp_path):
    file = _write_meta(tmp_path, [_GOOD, _GOOD[:-1] + ["training"]])
    with pytest.raises(metadata.MetadataError, match=f"{file}:3: split 'training'"):
        metadata.read_metadata(tmp_path)
    _write_meta(tmp_path, [_GOOD])
    with pytest.raises(metadata.MetadataError, match="unknown split"):
        metadata.read_metadata(tmp_path, split="validation")


def test_unparseable_metadata(tmp_path):
    (tmp_path / metadata.METADATA).write_bytes(b"path,style\n\xff\xfe\x00bad,\"x\n")
    with pytest.raises(metadata.MetadataError, match="metadata.csv"):
        metadata.read_metadata(tmp_path)


def test_labels_outside_vocabulary_become_unknown(tmp_path):
    row = ["Baroque/x_a.jpg", "Baroque", "Portrait", "x", "x", 1, 1, 1, "", "val"]
    odd_style = ["Gothic/y_b.jpg", "Gothic", "", "claude-monet", "claude-monet", 1, 1, 1, "", "test"]
    _write_meta(tmp_path, [_GOOD, row, odd_style])
    meta = metadata.read_metadata(tmp_path)
    assert meta["genre"].tolist() == ["portrait", "", ""]
    assert meta["artist"].tolist() == ["rembrandt", "", "claude-monet"]
    assert meta["style"].tolist() == ["Baroque", "Baroque", ""]
    assert meta["sha256"].tolist() == ["ab", "", ""]  # empty stays '' (no NaN)
