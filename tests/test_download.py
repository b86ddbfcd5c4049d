"""download: a local parquet file with the hub's schema streams into a dataset directory, resumably.

The parquet mimics `huggan/wikiart`: an Image() column of {bytes, path} and ClassLabel artist/genre/style
columns whose names include "Unknown Artist", "Unknown Genre", ArtGAN-style mojibake and the hub's
"Art_Nouveau" (folder Art_Nouveau_Modern). Nothing touches the network.

`datasets` and `pyarrow` are the optional `hub` extra (`make setup` installs it): without them the
parquet tests skip, and the command's one-line "how to install" error is tested either way.
"""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest

from wikiart_utils import cli, images, metadata
from wikiart_utils.ingest import download

ARTISTS = ["Unknown Artist", "claude-monet", "joaquã\xadn-sorolla", "rembrandt", "Gustav Klimt"]
GENRES = ["landscape", "portrait", "Unknown Genre", "religious_painting"]
STYLES = ["Impressionism", "Art_Nouveau", "Baroque", "Outsider_Art"]  # Outsider_Art: not one of the 27
SIZE = 32

# (artist, genre, style, image kind) per row; "corrupt" rows carry bytes that are not an image
ROWS = [
    ("claude-monet", "landscape", "Impressionism", "jpeg"),
    ("Unknown Artist", "Unknown Genre", "Art_Nouveau", "jpeg"),
    ("joaquã\xadn-sorolla", "portrait", "Impressionism", "png"),
    ("rembrandt", "religious_painting", "Baroque", "corrupt"),
    ("Gustav Klimt", "portrait", "Art_Nouveau", "jpeg"),
    ("claude-monet", "Unknown Genre", "Outsider_Art", "jpeg"),
    ("rembrandt", "portrait", "Baroque", "small"),
    ("Unknown Artist", "landscape", "Impressionism", "jpeg"),
    ("joaquã\xadn-sorolla", "landscape", "Impressionism", "jpeg"),
    ("claude-monet", "portrait", "Impressionism", "jpeg"),
]
# what each row becomes: (folder, painter slug, artist label, genre label), or None when refused
EXPECTED = [
    ("Impressionism", "claude-monet", "claude-monet", "landscape"),
    ("Art_Nouveau_Modern", "unknown-artist", "", ""),
    ("Impressionism", "joaquin-sorolla", "joaquin-sorolla", "portrait"),
    None,
    ("Art_Nouveau_Modern", "gustav-klimt", "gustav-klimt", "portrait"),
    None,
    ("Baroque", "rembrandt", "rembrandt", "portrait"),
    ("Impressionism", "unknown-artist", "", "landscape"),
    ("Impressionism", "joaquin-sorolla", "joaquin-sorolla", "landscape"),
    ("Impressionism", "claude-monet", "claude-monet", "portrait"),
]


def image_bytes(kind: str, seed: int, make_images) -> bytes:
    if kind == "corrupt":
        return b"\xff\xd8\xff\xe0 this is not really a JPEG"
    buffer = io.BytesIO()
    if kind == "small":
        make_images.noise(20, 28, seed).save(buffer, format="JPEG")
    elif kind == "png":
        make_images.noise(64, 48, seed).save(buffer, format="PNG")
    else:
        make_images.noise(90 + seed, 60, seed).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def write_hub_parquet(path: Path, rows, make_images) -> Path:
    """A parquet file with the huggan/wikiart schema (Image + three ClassLabel columns)."""
    from datasets import ClassLabel, Dataset, Features, Image

    features = Features({"image": Image(), "artist": ClassLabel(names=ARTISTS), "genre": ClassLabel(names=GENRES),
                         "style": ClassLabel(names=STYLES)})
    data = {
        "image": [{"bytes": image_bytes(kind, i, make_images), "path": None} for i, (*_, kind) in enumerate(rows)],
        "artist": [ARTISTS.index(a) for a, *_ in rows],
        "genre": [GENRES.index(g) for _, g, *_ in rows],
        "style": [STYLES.index(s) for _, _, s, _ in rows],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(data, features=features).to_parquet(str(path))
    return path


def expected_path(i: int) -> str | None:
    if EXPECTED[i] is None:
        return None
    folder, painter, _, _ = EXPECTED[i]
    return f"{folder}/{painter}_hf-{i:06d}.jpg"


def log_rows(out: Path) -> list[list[str]]:
    with open(out / download.LABELS_LOG, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def image_files(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg"))


@pytest.fixture(scope="module", autouse=True)
def hub_offline():
    """Belt and braces: even a mistaken hub name here must not reach the network."""
    try:
        import datasets.config
        import huggingface_hub.constants
    except ImportError:  # no hub extra: nothing here can reach the hub anyway
        yield
        return
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        patch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
        patch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
        yield


@pytest.fixture(scope="module")
def parquet(tmp_path_factory, make_images) -> Path:
    pytest.importorskip("datasets", reason='the hub extra is not installed: pip install -e ".[hub]"')
    return write_hub_parquet(tmp_path_factory.mktemp("hub") / "train-00000.parquet", ROWS, make_images)


@pytest.fixture(scope="module")
def downloaded(parquet, tmp_path_factory):
    """download(limit=4), then download() again: the second call resumes and completes."""
    out = tmp_path_factory.mktemp("dl") / "wikiart"
    first = download.download(out, dataset=str(parquet), limit=4, size=SIZE)
    after_first = (image_files(out), log_rows(out))
    second = download.download(out, dataset=str(parquet), size=SIZE)
    return out, first, after_first, second


def test_limit_then_resume_counts(downloaded):
    out, first, (files_first, log_first), second = downloaded
    assert (first.n_written, first.n_skipped) == (3, 0)
    assert [i for i, _ in first.refused] == [3]
    assert len(log_first) == 4 and len(files_first) == 3
    assert second.n_skipped == 4
    assert second.n_written == 5
    assert [i for i, _ in second.refused] == [5]
    assert second.summary().endswith("5 new, 4 already there, 1 refused")


def test_complete_without_duplicates(downloaded):
    out, *_ = downloaded
    wanted = sorted(p for p in map(expected_path, range(len(ROWS))) if p)
    assert image_files(out) == wanted
    logged = [row[0] for row in log_rows(out)]
    assert len(logged) == len(ROWS) == len(set(logged))
    meta = metadata.read_metadata(out)
    assert sorted(meta["path"]) == wanted
    assert meta["path"].is_unique and meta["sha256"].notna().all()


def test_labels_mapped(downloaded):
    out, *_ = downloaded
    meta = metadata.read_metadata(out).set_index("path")
    for i, expected in enumerate(EXPECTED):
        if expected is None:
            continue
        folder, painter, artist, genre = expected
        row = meta.loc[expected_path(i)]
        assert (row["style"], row["painter"], row["artist"], row["genre"]) == (folder, painter, artist, genre), i


def test_images_resized_and_valid(downloaded):
    out, *_ = downloaded
    meta = metadata.read_metadata(out).set_index("path")
    for rel in image_files(out):
        width, height = images.probe(out / rel)
        assert (meta.loc[rel, "width"], meta.loc[rel, "height"]) == (width, height)
        if "_hf-000006" in rel:  # the 20x28 source is kept as is
            assert (width, height) == (20, 28)
        else:
            assert min(width, height) == SIZE, rel


def test_refused_rows_reasons(downloaded):
    out, first, _, second = downloaded
    assert "not a readable image" in dict(first.refused)[3] or "corrupt" in dict(first.refused)[3]
    assert dict(second.refused)[5] == "unknown style 'Outsider_Art'"
    logged = [row[0] for row in log_rows(out)]
    assert logged[3] == "_refused/000003.jpg" and logged[5] == "_refused/000005.jpg"
    assert not (out / "_refused").exists()


def test_third_run_does_nothing(downloaded, parquet):
    out, *_ = downloaded
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")}
    report = download.download(out, dataset=str(parquet), size=SIZE)
    assert (report.n_written, report.n_skipped, report.refused) == (0, len(ROWS), [])
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.jpg")} == before
    assert len(log_rows(out)) == len(ROWS)


def test_resume_after_torn_log_line(parquet, tmp_path):
    """kill -9 (or a power cut) mid-append can leave a torn last line: the rerun must not glue onto it."""
    out = tmp_path / "wikiart"
    download.download(out, dataset=str(parquet), limit=3, size=SIZE)
    with open(out / download.LABELS_LOG, "a", encoding="utf-8", newline="") as log:
        log.write("Impressionism/joaquin-sor")  # row 3 was being logged when the process died
    download.download(out, dataset=str(parquet), size=SIZE)
    logged = [row[0] for row in log_rows(out)]
    assert logged == [expected_path(i) or f"_refused/{i:06d}.jpg" for i in range(len(ROWS))]
    meta = metadata.read_metadata(out).set_index("path")
    assert meta.loc[expected_path(8), "genre"] == "landscape"
    assert meta.loc[expected_path(2), "genre"] == "portrait"


def test_resume_when_image_written_but_not_logged(parquet, tmp_path):
    """Killed between the image's rename and its log line: the rerun keeps the file and logs it once."""
    out = tmp_path / "wikiart"
    download.download(out, dataset=str(parquet), limit=3, size=SIZE)
    lines = (out / download.LABELS_LOG).read_text(encoding="utf-8").splitlines(keepends=True)
    (out / download.LABELS_LOG).write_text("".join(lines[:2]), encoding="utf-8")  # row 2's line lost
    assert (out / expected_path(2)).is_file()
    report = download.download(out, dataset=str(parquet), size=SIZE)
    assert report.n_skipped == 2
    assert image_files(out) == sorted(p for p in map(expected_path, range(len(ROWS))) if p)
    assert len(log_rows(out)) == len(ROWS)
    assert len(metadata.read_metadata(out)) == len(ROWS) - 2


def test_stale_part_files_removed(parquet, tmp_path):
    out = tmp_path / "wikiart"
    stale = out / "Impressionism" / ".claude-monet_hf-000000.jpg.abc123.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"\xff\xd8half a jpeg")
    download.download(out, dataset=str(parquet), limit=2, size=SIZE)
    assert not list(out.rglob("*.part"))
    assert images.probe(out / expected_path(0))


def test_map_labels():
    assert download.map_labels("Unknown Artist", "Unknown Genre", "Art_Nouveau") == (
        "unknown-artist", "", "Art_Nouveau_Modern")
    assert download.map_labels("joaquã\xadn-sorolla", "portrait", "Baroque") == (
        "joaquin-sorolla", "portrait", "Baroque")
    assert download.map_labels("  ", "", "Ukiyo_e") == ("unknown-artist", "", "Ukiyo_e")


def test_missing_datasets_one_line_error(tmp_path, monkeypatch, capsys):
    """Without the optional hub extra, `download` ends in one `error:` line that says how to install it."""
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` raises ImportError, as if not installed
    code = cli.main(["download", "--out", str(tmp_path / "wikiart"), "--limit", "1"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "`datasets`" in lines[0] and 'pip install -e ".[hub]"' in lines[0], lines[0]
