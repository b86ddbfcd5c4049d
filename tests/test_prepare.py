"""prepare: a resized copy of a dataset directory with the same labels and splits, resumable and safe."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from wikiart_utils import images, metadata
from wikiart_utils.ingest import index, prepare

SIZE = 32
CARRIED = ["style", "genre", "artist", "painter", "split"]


@pytest.fixture(scope="module")
def prepared(sample_dir, tmp_path_factory):
    """The session sample prepared at 32 px twice: serially and with two worker processes."""
    base = tmp_path_factory.mktemp("prepared")
    serial = prepare.prepare(sample_dir, base / "w1", size=SIZE, workers=1)
    pooled = prepare.prepare(sample_dir, base / "w2", size=SIZE, workers=2)
    return base, serial, pooled


def test_report_counts(prepared, sample_dir):
    base, serial, pooled = prepared
    n = len(metadata.read_metadata(sample_dir))
    for report, name in ((serial, "w1"), (pooled, "w2")):
        assert (report.n_written, report.n_skipped, report.refused) == (n, 0, [])
        assert report.summary() == f"prepared {base / name}: {n} resized, 0 already done, 0 refused"


def test_workers_give_identical_metadata(prepared):
    base, _, _ = prepared
    one = (base / "w1" / metadata.METADATA).read_text(encoding="utf-8")
    two = (base / "w2" / metadata.METADATA).read_text(encoding="utf-8")
    assert one == two
    assert (base / "w1" / metadata.REFUSED).read_text() == "path,reason\n"


def test_outputs_valid_at_short_side(prepared):
    base, _, _ = prepared
    meta = metadata.read_metadata(base / "w1")
    for row in meta.itertuples():
        full = base / "w1" / row.path
        width, height = images.probe(full)
        assert min(width, height) == SIZE, row.path
        assert (width, height) == (row.width, row.height)
        assert full.stat().st_size == row.bytes
        assert images.file_sha256(full) == row.sha256
    on_disk = sorted(p.relative_to(base / "w1").as_posix() for p in (base / "w1").rglob("*.jpg"))
    assert on_disk == sorted(meta["path"])


def test_labels_and_splits_carried_over(prepared, sample_dir):
    base, _, _ = prepared
    source = metadata.read_metadata(sample_dir)
    out = metadata.read_metadata(base / "w1")
    assert list(out["path"]) == [prepare.prepared_path(p) for p in source["path"]]
    pd.testing.assert_frame_equal(out[CARRIED], source[CARRIED])
    # the aspect ratio is kept (within rounding)
    ratio_in = source["width"] / source["height"]
    ratio_out = out["width"] / out["height"]
    assert ((ratio_in - ratio_out).abs() < 0.05).all()


def test_rerun_skips_everything(prepared, sample_dir):
    base, _, _ = prepared
    before = {p: p.stat().st_mtime_ns for p in (base / "w1").rglob("*.jpg")}
    meta_before = (base / "w1" / metadata.METADATA).read_text()
    report = prepare.prepare(sample_dir, base / "w1", size=SIZE, workers=1)
    assert report.n_written == 0 and report.n_skipped == len(before) and not report.refused
    assert {p: p.stat().st_mtime_ns for p in (base / "w1").rglob("*.jpg")} == before
    assert (base / "w1" / metadata.METADATA).read_text() == meta_before


def test_odd_images_upright_and_small_ones_kept(tmp_path, make_images):
    root = tmp_path / "odd"
    expected = make_images.valid(root / "Impressionism")
    index.index_dataset(root, workers=1)
    report = prepare.prepare(root, tmp_path / "out", size=SIZE, workers=1)
    assert not report.refused and report.n_written == len(expected)
    meta = metadata.read_metadata(tmp_path / "out").set_index("path")
    for name, (width, height) in expected.items():
        rel = prepare.prepared_path(f"Impressionism/{name}")
        got = images.probe(tmp_path / "out" / rel)
        assert (meta.loc[rel, "width"], meta.loc[rel, "height"]) == got
        if min(width, height) <= SIZE:
            assert got == (width, height), name  # never upscaled
        else:
            assert min(got) == SIZE, name
            assert (got[0] > got[1]) == (width > height), name  # EXIF rotation applied, not undone


def test_corrupted_after_indexing_is_refused(tmp_path, sample_dir):
    src = tmp_path / "src"
    shutil.copytree(sample_dir, src)
    meta = metadata.read_metadata(src)
    truncated, garbage = meta["path"][3], meta["path"][7]
    data = (src / truncated).read_bytes()
    (src / truncated).write_bytes(data[: len(data) // 3])
    (src / garbage).write_text("not a picture any more")
    report = prepare.prepare(src, tmp_path / "out", size=SIZE, workers=1)
    reasons = dict(report.refused)
    assert set(reasons) == {truncated, garbage}
    assert "truncated" in reasons[truncated]
    assert "not a readable image" in reasons[garbage]
    assert report.n_written == len(meta) - 2
    assert "2 refused" in report.summary()
    out = metadata.read_metadata(tmp_path / "out")
    assert len(out) == len(meta) - 2
    assert prepare.prepared_path(truncated) not in set(out["path"])
    refused_csv = pd.read_csv(tmp_path / "out" / metadata.REFUSED)
    assert set(refused_csv["path"]) == {truncated, garbage}
    assert not (tmp_path / "out" / prepare.prepared_path(truncated)).exists()


def test_damaged_output_is_redone(tmp_path, sample_dir):
    """An output that exists but does not decode (copied half, disk trouble) is rewritten, not trusted."""
    out = tmp_path / "out"
    prepare.prepare(sample_dir, out, size=SIZE, workers=1)
    victim = out / metadata.read_metadata(out)["path"][5]
    good = victim.read_bytes()
    victim.write_bytes(good[: len(good) // 2])
    report = prepare.prepare(sample_dir, out, size=SIZE, workers=1)
    assert report.n_written == 1 and not report.refused
    assert victim.read_bytes() == good


@pytest.mark.parametrize("same", ["identical", "dot", "trailing-slash"])
def test_out_equal_to_root_refused(sample_dir, same):
    out = {"identical": sample_dir, "dot": sample_dir / ".", "trailing-slash": Path(str(sample_dir) + "/")}[same]
    before = sorted(p.name for p in sample_dir.iterdir())
    with pytest.raises(ValueError, match="--out must differ from --root"):
        prepare.prepare(sample_dir, out, size=SIZE, workers=1)
    assert sorted(p.name for p in sample_dir.iterdir()) == before


def test_missing_metadata(tmp_path):
    (tmp_path / "src").mkdir()
    with pytest.raises(metadata.MetadataError, match="metadata.csv not found"):
        prepare.prepare(tmp_path / "src", tmp_path / "out", size=SIZE, workers=1)


def test_resize_short_side_never_upscales(make_images):
    image = make_images.noise(40, 10)
    assert prepare.resize_short_side(image, 32) is image
    assert prepare.resize_short_side(make_images.noise(300, 100), 50).size == (150, 50)
    assert prepare.resize_short_side(make_images.noise(100, 301), 50).size == (50, 150)


def test_limit_keeps_a_stratified_part_of_each_split(sample_dir, tmp_path):
    """--limit N: about N paintings of each split (rounded per style, every style kept), labels and splits
    unchanged."""
    source = metadata.read_metadata(sample_dir)
    report = prepare.prepare(sample_dir, tmp_path / "small", size=SIZE, workers=1, limit=20)
    out = metadata.read_metadata(tmp_path / "small")
    assert report.n_written == len(out)
    counts = out["split"].value_counts()
    assert set(counts.index) == set(source["split"])
    for split, part in out.groupby("split"):
        styles = source.loc[source["split"] == split, "style"].nunique()
        assert 20 - styles <= len(part) <= 20 + styles
        assert set(part["style"]) == set(source.loc[source["split"] == split, "style"])
    by_path = source.set_index(source["path"].map(prepare.prepared_path))
    assert (by_path.loc[out["path"], ["style", "genre", "split"]].to_numpy() == out[["style", "genre", "split"]].to_numpy()).all()
