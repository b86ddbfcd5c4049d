"""Reliability: kill -9 mid-run, a full disk, hostile zip archives and label files.

* kill -9 during `prepare` and during `download` (real `python -m wikiart_utils` processes): every file
  left behind is whole, and a rerun completes with no duplicates and no `.part` leftovers;
* ENOSPC while writing: one `error:` line and exit status 2, nothing half-written that a rerun would trust;
* zip-slip: `extract_archive` writes nothing outside its destination and still extracts the good members;
* `read_label_csv` on arbitrary text raises LabelFileError or nothing (hypothesis).

Escaping paths in metadata.csv (`../x.jpg`, `/etc/passwd`) are tested in test_index.py
(test_escaping_path_names_file_and_line) and, through the CLI, in test_cli.py.
"""
from __future__ import annotations

import csv
import errno
import io
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from wikiart_utils import cli, fsutil, images, metadata
from wikiart_utils.ingest import artgan, download, index, prepare, sample

REPO_ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- helpers

def spawn(*args: str) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "wikiart_utils", *args], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def visible_jpgs(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jpg") if not p.name.startswith("."))


def part_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.part"))


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROGRESS = re.compile(r"^[\w .-]+: +(\d+%\||\d+it \[)")  # a tqdm bar: "prepare:  5%|..." or "download: 7it [..."


def visible_lines(stderr: str) -> list[str]:
    """What a terminal shows: per line, the text after the last carriage return, without ANSI codes."""
    return [ANSI.sub("", line.split("\r")[-1]).strip() for line in stderr.split("\n")]


def one_error_line(stderr: str, *fragments: str) -> None:
    """Exactly one visible line besides progress bars, and it starts `error: ` (not glued to a bar)."""
    assert "Traceback" not in stderr, stderr
    lines = [line for line in visible_lines(stderr) if line and not PROGRESS.match(line)]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]


def enospc(path="") -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


# --------------------------------------------------------------------------- fixtures: bigger data

@pytest.fixture(scope="module")
def big_source(tmp_path_factory) -> Path:
    """~600 paintings of 256 px: 30 generated ones, each filed 20 times (copying is faster than rendering)."""
    root = tmp_path_factory.mktemp("big") / "wikiart"
    sample.generate_sample(root, n=30, size=256, seed=1, workers=1)
    for src in visible_jpgs(root):
        for k in range(1, 20):
            shutil.copyfile(src, src.with_name(f"{src.stem}-copy{k:02d}.jpg"))
    report = index.index_dataset(root, workers=1)
    assert report.n_images >= 600
    return root


def write_hub_parquet(path: Path, n_rows: int, corrupt_every: int = 0) -> Path:
    """A parquet file with huggan/wikiart's schema: 16 distinct 128-px paintings cycled over n_rows rows."""
    from datasets import ClassLabel, Dataset, Features, Image as HFImage

    styles, genres = ["Impressionism", "Art_Nouveau", "Baroque"], ["landscape", "Unknown Genre", "portrait"]
    artists = ["Unknown Artist", "claude-monet", "joaquã\xadn-sorolla"]
    encoded = []
    for k in range(16):
        buffer = io.BytesIO()
        Image.fromarray(sample.render(k % 27, k % 10, k, 128, (7, k))).save(buffer, format="JPEG", quality=85)
        encoded.append(buffer.getvalue())
    pictures = [b"corrupt bytes" if corrupt_every and i % corrupt_every == corrupt_every - 1 else encoded[i % 16]
                for i in range(n_rows)]
    features = Features({"image": HFImage(), "artist": ClassLabel(names=artists),
                         "genre": ClassLabel(names=genres), "style": ClassLabel(names=styles)})
    data = {"image": [{"bytes": b, "path": None} for b in pictures], "artist": [i % 3 for i in range(n_rows)],
            "genre": [(i // 3) % 3 for i in range(n_rows)], "style": [(i // 9) % 3 for i in range(n_rows)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(data, features=features).to_parquet(str(path))
    return path


@pytest.fixture(scope="module")
def big_parquet(tmp_path_factory) -> Path:
    return write_hub_parquet(tmp_path_factory.mktemp("hub") / "train.parquet", 600, corrupt_every=50)


def log_paths(out: Path) -> list[str]:
    with open(out / download.LABELS_LOG, encoding="utf-8", newline="") as handle:
        return [row[0] for row in csv.reader(handle)]


def assert_download_complete(out: Path, n_rows: int, corrupt_every: int) -> None:
    logged = log_paths(out)
    assert len(logged) == n_rows == len(set(logged))
    assert all(p.endswith(f"_hf-{i:06d}.jpg") or p == f"_refused/{i:06d}.jpg" for i, p in enumerate(logged))
    refused = [p for p in logged if p.startswith("_refused/")]
    assert len(refused) == n_rows // corrupt_every
    files = [p.relative_to(out).as_posix() for p in visible_jpgs(out)]
    assert sorted(files) == sorted(p for p in logged if not p.startswith("_refused/"))
    meta = metadata.read_metadata(out)
    assert sorted(meta["path"]) == sorted(files) and meta["path"].is_unique
    assert not part_files(out)
    for rel in files:
        images.probe(out / rel)


# --------------------------------------------------------------------------- (1) kill -9 during prepare

def test_kill_during_prepare_then_rerun(big_source, tmp_path, kill_when):
    out = tmp_path / "small"
    n_source = len(metadata.read_metadata(big_source))
    proc = spawn("prepare", "--root", str(big_source), "--out", str(out), "--size", "64", "--workers", "1")
    kill_when(proc, lambda: out.is_dir() and len(visible_jpgs(out)) >= 40)
    assert not (out / metadata.METADATA).exists(), "prepare finished before the kill: make the dataset bigger"
    survivors = visible_jpgs(out)
    assert 40 <= len(survivors) < n_source
    for path in survivors:  # atomic writes: whatever is there after kill -9 is a whole image
        images.probe(path)

    report = prepare.prepare(big_source, out, size=64, workers=1)
    assert not report.refused
    assert report.n_skipped == len(survivors) and report.n_written + report.n_skipped == n_source
    meta = metadata.read_metadata(out)
    assert len(meta) == n_source and meta["path"].is_unique
    files = [p.relative_to(out).as_posix() for p in visible_jpgs(out)]
    assert sorted(files) == sorted(meta["path"])
    assert not part_files(out)
    for rel in files:
        assert min(images.probe(out / rel)) == 64


# --------------------------------------------------------------------------- (2) kill -9 during download

def test_kill_during_download_then_rerun(big_parquet, tmp_path, kill_when):
    out = tmp_path / "hub-copy"

    def progressed() -> bool:
        log = out / download.LABELS_LOG
        return log.is_file() and log.read_bytes().count(b"\n") >= 40

    proc = spawn("download", "--dataset", str(big_parquet), "--out", str(out), "--size", "32")
    kill_when(proc, progressed)
    assert not (out / metadata.METADATA).exists(), "download finished before the kill: use a bigger parquet"
    logged_before = [p for p in log_paths(out) if p.endswith(".jpg")]
    assert 40 <= len(logged_before) < 600
    for path in visible_jpgs(out):
        images.probe(path)

    report = download.download(out, dataset=str(big_parquet), size=32)
    assert report.n_skipped >= len(logged_before)
    assert_download_complete(out, 600, corrupt_every=50)


# --------------------------------------------------------------------------- (3) disk full

@pytest.fixture
def full_disk_after(monkeypatch):
    """Make PIL's save write half a file and then fail with ENOSPC, from the (n+1)-th save on."""
    real_save = Image.Image.save
    calls = {"n": 0, "after": 0}

    def save(self, fp, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= calls["after"]:
            return real_save(self, fp, *args, **kwargs)
        buffer = io.BytesIO()
        real_save(self, buffer, *args, **kwargs)
        with open(fp, "wb") as handle:
            handle.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        raise enospc(fp)

    def arm(after: int) -> None:
        calls["after"] = after
        monkeypatch.setattr(Image.Image, "save", save)

    arm.undo = monkeypatch.undo
    return arm


def test_prepare_disk_full_one_line_then_rerun(sample_dir, tmp_path, capsys, full_disk_after):
    out = tmp_path / "small"
    full_disk_after(10)
    code = cli.main(["prepare", "--root", str(sample_dir), "--out", str(out), "--size", "32", "--workers", "1"])
    assert code == 2
    one_error_line(capsys.readouterr().err, "no space left")
    assert len(visible_jpgs(out)) == 10  # the 11th save failed: no file under its name
    assert not part_files(out)
    assert not (out / metadata.METADATA).exists()
    for path in visible_jpgs(out):
        images.probe(path)

    full_disk_after.undo()
    report = prepare.prepare(sample_dir, out, size=32, workers=1)
    assert (report.n_skipped, report.n_written) == (10, len(metadata.read_metadata(sample_dir)) - 10)
    assert not part_files(out)


def test_download_disk_full_one_line_then_rerun(tmp_path, capsys, full_disk_after):
    parquet = write_hub_parquet(tmp_path / "hub" / "train.parquet", 24, corrupt_every=10)
    out = tmp_path / "hub-copy"
    full_disk_after(5)
    code = cli.main(["download", "--dataset", str(parquet), "--out", str(out), "--size", "32"])
    assert code == 2
    one_error_line(capsys.readouterr().err, "no space left", "rerun")
    assert len(visible_jpgs(out)) == 5 and not part_files(out)
    assert len(log_paths(out)) == 5  # the failed row was not logged: the rerun redoes it

    full_disk_after.undo()
    download.download(out, dataset=str(parquet), size=32)
    assert_download_complete(out, 24, corrupt_every=10)


def test_atomic_write_fails_at_fsync_keeps_old_file(tmp_path, monkeypatch):
    """ENOSPC can surface only when the data is flushed: the old file stays, no .part is left."""
    dest = tmp_path / "metadata.csv"
    dest.write_text("old content\n")

    def no_space(fd):
        raise enospc()

    monkeypatch.setattr(fsutil.os, "fsync", no_space)
    with pytest.raises(OSError) as info:
        fsutil.atomic_write_text(dest, "new content\n" * 1000)
    assert info.value.errno == errno.ENOSPC
    assert dest.read_text() == "old content\n"
    assert list(tmp_path.iterdir()) == [dest]
    with pytest.raises(OSError):
        fsutil.atomic_write_text(tmp_path / "fresh.csv", "x")
    assert not (tmp_path / "fresh.csv").exists() and not part_files(tmp_path)


def test_stale_part_from_a_killed_run_is_not_trusted(sample_dir, tmp_path):
    """A `.part` left by kill -9 (mid-write) is removed by the next run, and its image is redone."""
    out = tmp_path / "small"
    rel = prepare.prepared_path(metadata.read_metadata(sample_dir)["path"][0])
    stale = (out / rel).with_name(f".{Path(rel).name}.x1y2z3.part")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"\xff\xd8\xff\xe0 half")
    prepare.prepare(sample_dir, out, size=32, workers=1)
    assert not part_files(out)
    assert min(images.probe(out / rel)) == 32


# --------------------------------------------------------------------------- (4) zip-slip

def _symlink_member(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def write_hostile_zip(path: Path) -> dict[str, bytes]:
    """A wikiart.zip with two good members and every classic escape; returns the good ones' contents."""
    good = {"Impressionism/claude-monet_water-lilies.jpg": b"monet" * 100,
            "Baroque/rembrandt_night-watch.jpg": b"rembrandt" * 50,
            "Ukiyo_e/hokusai_wave.jpg": b"hokusai"}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("wikiart/", b"")
        zf.writestr("wikiart/Impressionism/claude-monet_water-lilies.jpg",
                    good["Impressionism/claude-monet_water-lilies.jpg"])
        zf.writestr("Baroque/rembrandt_night-watch.jpg", good["Baroque/rembrandt_night-watch.jpg"])  # no prefix
        zf.writestr("./wikiart//Ukiyo_e/hokusai_wave.jpg", good["Ukiyo_e/hokusai_wave.jpg"])
        for name in ("../evil.jpg", "/abs.jpg", "wikiart/Impressionism/../../evil2.jpg",
                     "wikiart\\..\\..\\evil3.jpg", "C:/evil4.jpg", "c:evil5.jpg", "wikiart/../evil6.jpg"):
            zf.writestr(zipfile.ZipInfo(name), b"pwned")
        zf.writestr(*_symlink_member("wikiart/Impressionism/link-painter_passwd.jpg", "/etc/passwd"))
        zf.writestr(*_symlink_member("wikiart/Baroque", "../../.."))
    return good


def tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")}


def test_zip_slip_nothing_written_outside(tmp_path, caplog):
    archive = tmp_path / "wikiart.zip"
    good = write_hostile_zip(archive)
    dest = tmp_path / "deep" / "inside" / "dest"
    before = tree(tmp_path)
    refused: list[tuple[str, str]] = []
    written = artgan.extract_archive(archive, dest, refused=refused)

    assert written == len(good)
    new = tree(tmp_path) - before
    assert {p for p in new if p != "deep/inside/dest" and not p.startswith("deep/inside/dest/")} == {
        "deep", "deep/inside"}
    assert not list(tmp_path.rglob("evil*")) and not list(Path("/").glob("abs.jpg"))
    assert {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == good
    assert not [p for p in dest.rglob("*") if p.is_symlink()]

    reasons = dict(refused)
    assert len(refused) == 9
    assert reasons["../evil.jpg"].startswith("'..'") and reasons["/abs.jpg"] == "absolute path"
    assert "'..'" in reasons["wikiart/Impressionism/../../evil2.jpg"]
    assert "'..'" in reasons["wikiart\\..\\..\\evil3.jpg"]
    assert reasons["C:/evil4.jpg"] == reasons["c:evil5.jpg"] == "drive letter in path"
    assert reasons["wikiart/Impressionism/link-painter_passwd.jpg"] == "symlink member"
    assert reasons["wikiart/Baroque"] == "symlink member"
    assert all("\n" not in reason for reason in reasons.values())
    assert sum("refused" in r.getMessage() for r in caplog.records) == 9


def test_zip_member_through_symlinked_folder_refused(tmp_path):
    """A folder inside dest that links outside must not be written through."""
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    os.symlink(outside, dest / "Impressionism")
    archive = tmp_path / "wikiart.zip"
    write_hostile_zip(archive)
    refused: list[tuple[str, str]] = []
    artgan.extract_archive(archive, dest, refused=refused)
    assert list(outside.iterdir()) == []
    assert "resolves outside" in dict(refused)["wikiart/Impressionism/claude-monet_water-lilies.jpg"]


def test_extract_rerun_and_interrupted(tmp_path):
    archive = tmp_path / "wikiart.zip"
    good = write_hostile_zip(archive)
    dest = tmp_path / "dest"
    assert artgan.extract_archive(archive, dest) == len(good)
    assert artgan.extract_archive(archive, dest) == 0  # complete files (same size) are skipped

    # an interrupted run: one file cut short (by an earlier non-atomic tool), one stale .part
    cut = dest / "Impressionism" / "claude-monet_water-lilies.jpg"
    cut.write_bytes(cut.read_bytes()[:7])
    stale = dest / "Baroque" / ".rembrandt_night-watch.jpg.abcd.part"
    stale.write_bytes(b"half")
    (dest / "Ukiyo_e" / "hokusai_wave.jpg").unlink()
    assert artgan.extract_archive(archive, dest) == 2
    assert cut.read_bytes() == good["Impressionism/claude-monet_water-lilies.jpg"]
    assert (dest / "Ukiyo_e" / "hokusai_wave.jpg").read_bytes() == good["Ukiyo_e/hokusai_wave.jpg"]
    assert not part_files(dest)


def test_extract_corrupt_member_refused_not_left(tmp_path):
    archive = tmp_path / "wikiart.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("wikiart/Baroque/a_b.jpg", b"GOOD-GOOD-GOOD")
        zf.writestr("wikiart/Baroque/c_d.jpg", b"FINE-FINE-FINE")
    data = archive.read_bytes()
    archive.write_bytes(data.replace(b"GOOD-GOOD-GOOD", b"EVIL-EVIL-EVIL"))  # CRC no longer matches
    refused: list[tuple[str, str]] = []
    assert artgan.extract_archive(archive, tmp_path / "dest", refused=refused) == 1
    assert [name for name, _ in refused] == ["wikiart/Baroque/a_b.jpg"]
    assert "CRC" in refused[0][1] or "corrupt" in refused[0][1]
    assert not (tmp_path / "dest" / "Baroque" / "a_b.jpg").exists()
    assert not part_files(tmp_path / "dest")


def test_extract_disk_full_one_line(tmp_path, capsys, monkeypatch):
    archive = tmp_path / "wikiart.zip"
    write_hostile_zip(archive)

    def no_room(src, dst, length=0):
        dst.write(src.read(3))
        raise enospc(getattr(dst, "name", ""))

    monkeypatch.setattr(shutil, "copyfileobj", no_room)
    code = cli.main(["extract", "--zip", str(archive), "--out", str(tmp_path / "dest")])
    assert code == 2
    one_error_line(capsys.readouterr().err, "no space left")
    assert not [p for p in (tmp_path / "dest").rglob("*") if p.is_file()]


@pytest.mark.parametrize("name, expected", [
    ("wikiart/Impressionism/a_b.jpg", "Impressionism/a_b.jpg"),
    ("Impressionism/a_b.jpg", "Impressionism/a_b.jpg"),
    ("./wikiart/Impressionism//a_b.jpg", "Impressionism/a_b.jpg"),
    ("wikiart", "wikiart"),
])
def test_member_path_ok(name, expected):
    assert artgan.member_path(name) == expected


@pytest.mark.parametrize("name", ["../a.jpg", "/a.jpg", "\\a.jpg", "D:\\a.jpg", "x/../../a.jpg", ".", "./",
                                  "a/..", "wikiart\\..\\..\\a.jpg"])
def test_member_path_refused(name):
    with pytest.raises(ValueError):
        artgan.member_path(name)


# --------------------------------------------------------------------------- (6) label files, property-based

LABEL_SETTINGS = settings(max_examples=150, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
# path segments: no separators, line breaks or commas at the end; never '..' or '.'
SEGMENT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\r\n"), min_size=1,
                  max_size=12).filter(lambda s: s not in (".", "..") and not s.endswith(",") and s.strip())


ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
# lines that look like label rows: path, one or two commas, then an index-like word (odd digits included)
ROW_LIKE = st.builds(lambda p, sep, i: p + sep + i,
                     st.one_of(ANY_TEXT, st.from_regex(r"[A-Za-z_./-]{1,12}", fullmatch=True)),
                     st.sampled_from([",", ",,", ", ", ""]),
                     st.text(st.sampled_from("0123456789-+ \t.²٣١"), max_size=5))


@settings(LABEL_SETTINGS, max_examples=300)
@given(lines=st.lists(st.one_of(ANY_TEXT, ROW_LIKE, st.just("(Path to image),, (Groundtruth class)")), max_size=8),
       n_classes=st.integers(1, 200), crlf=st.booleans())
def test_label_csv_arbitrary_text_only_label_file_error(tmp_path, lines, n_classes, crlf):
    path = tmp_path / "labels.csv"
    path.write_text(("\r\n" if crlf else "\n").join(lines), encoding="utf-8", newline="")
    try:
        rows = artgan.read_label_csv(path, n_classes)
    except artgan.LabelFileError as exc:
        assert str(exc).startswith(f"{path}:") and "\n" not in str(exc)
        return
    for image, value in rows:
        assert image and 0 <= value < n_classes
        assert not image.startswith("/") and ".." not in image.split("/")


@LABEL_SETTINGS
@given(rows=st.lists(st.tuples(st.lists(SEGMENT, min_size=1, max_size=3).map("/".join), st.integers(0, 26)),
                     max_size=10),
       artist_format=st.booleans(), crlf=st.booleans())
def test_label_csv_valid_rows_roundtrip(tmp_path, rows, artist_format, crlf):
    end = "\r\n" if crlf else "\n"
    if artist_format:  # the artist files: a header, a blank line, then path,,class
        text = "(Path to image),, (Groundtruth class)" + end + end + "".join(f"{p},,{c}{end}" for p, c in rows)
    else:
        text = "".join(f"{p},{c}{end}" for p, c in rows)
    path = tmp_path / "labels.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert artgan.read_label_csv(path, 27) == rows


@pytest.mark.parametrize("index_text", ["²", "--3", "٣", "1" * 5000, "+1", "0x1", " "])
def test_label_csv_odd_index_is_a_label_file_error(tmp_path, index_text):
    path = tmp_path / "labels.csv"
    path.write_text(f"Baroque/a_b.jpg,1\nBaroque/c_d.jpg,{index_text}\n", encoding="utf-8")
    with pytest.raises(artgan.LabelFileError, match=f"{path}:2:"):
        artgan.read_label_csv(path, 27)
