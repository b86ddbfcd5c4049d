"""Stream the Hugging Face dataset `huggan/wikiart` into a dataset directory, resized on the fly.

Nothing of the 25 GB is stored at full size: each streamed painting is resized (short side = size)
and written atomically as ``<Style>/<artist>_hf-<row>.jpg``. A rerun after an interruption skips the
rows already on disk (the stream is fast-forwarded with `skip`). `limit` gives a quick real subset.
The same code reads a local parquet file with the hub's schema (used by the tests, and for mirrors).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from .. import fsutil, images, labels
from . import index, prepare

HF_DATASET = "huggan/wikiart"
LABELS_LOG = "hf_labels.csv"
STYLE_ALIASES = {"Art_Nouveau": "Art_Nouveau_Modern"}
UNKNOWN_NAMES = {"unknown artist", "unknown genre", ""}


class DownloadError(RuntimeError):
    """The dataset could not be reached or read; the message says what to do."""


@dataclass
class DownloadReport:
    out: Path
    n_written: int = 0
    n_skipped: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (f"downloaded into {self.out}: {self.n_written} new, {self.n_skipped} already there, "
                f"{len(self.refused)} refused")


def open_stream(dataset: str = HF_DATASET, split: str = "train"):
    """An iterable (streaming) dataset: the hub name, or a local .parquet file / folder of them."""
    try:
        from datasets import load_dataset  # imported here: heavy, and only this command needs it
    except ImportError:  # an optional extra: `pip install -e .` alone leaves it out
        raise DownloadError('the download command needs the `datasets` package, which is not installed: '
                            'pip install -e ".[hub]" (or: pip install datasets pyarrow)') from None
    local = Path(dataset)
    try:
        if local.exists():
            files = [str(p) for p in sorted(local.glob("*.parquet"))] if local.is_dir() else [str(local)]
            return load_dataset("parquet", data_files=files, split="train", streaming=True)
        return load_dataset(dataset, split=split, streaming=True)
    except Exception as exc:  # datasets raises many types when offline; all mean the same to a user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DownloadError(
            f"cannot open {dataset!r} from the Hugging Face hub ({first[:160]}). Check the internet "
            "connection (HF_HUB_OFFLINE must be unset), or download wikiart.zip and run `index`.") from None


def _names(features, column: str) -> list[str] | None:
    feature = features.get(column) if features is not None else None
    return list(feature.names) if hasattr(feature, "names") else None


def map_labels(artist: str, genre: str, style: str) -> tuple[str, str, str]:
    """Hub class names -> (painter slug, genre or '', style folder); unknowns become ''."""
    painter = "" if artist.strip().lower() in UNKNOWN_NAMES else labels.normalize_artist(artist)
    genre = "" if genre.strip().lower() in UNKNOWN_NAMES else genre
    return painter or "unknown-artist", genre, STYLE_ALIASES.get(style, style)


def _read_log(out: Path) -> dict[str, str]:
    """path -> genre for rows already written (a torn last line after kill -9 is ignored)."""
    log = out / LABELS_LOG
    if not log.is_file():
        return {}
    with open(log, encoding="utf-8", newline="") as handle:
        return {row[0]: row[1] for row in csv.reader(handle) if len(row) == 2 and row[0].endswith(".jpg")}


def _drop_torn_line(log: Path) -> None:
    """Cut a last line left without its newline by a kill, so the next append starts a fresh line."""
    if not log.is_file():
        return
    with open(log, "rb+") as handle:
        data = handle.read()  # small: one short line per painting (~5 MB for all of WikiArt)
        if data and not data.endswith(b"\n"):
            handle.truncate(data.rfind(b"\n") + 1)


def download(out: str | Path, dataset: str = HF_DATASET, split: str = "train", limit: int | None = None,
             size: int = 256, quality: int = 90) -> DownloadReport:
    """Stream `dataset` into `out` (resumable), then index it (metadata.csv with splits)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fsutil.remove_stale_parts(out)
    stream = open_stream(dataset, split)
    names = {c: _names(stream.features, c) for c in ("artist", "genre", "style")}
    from datasets import Image as HFImage
    stream = stream.cast_column("image", HFImage(decode=False))  # bytes: decoded by images.open_rgb
    _drop_torn_line(out / LABELS_LOG)
    genre_of = _read_log(out)
    report = DownloadReport(out)
    styles = set(labels.vocab("style"))
    done = len(genre_of)
    report.n_skipped = done
    if done:
        stream = stream.skip(done)
    total = None if limit is None else max(0, limit - done)
    try:
        with open(out / LABELS_LOG, "a", encoding="utf-8", newline="") as log:
            writer = csv.writer(log)
            progress = tqdm(total=total, desc="download", initial=0)
            for offset, row in enumerate(stream):
                if total is not None and offset >= total:
                    break
                i = done + offset
                decoded = {c: names[c][row[c]] if names[c] and isinstance(row[c], int) else str(row[c])
                           for c in ("artist", "genre", "style")}
                painter, genre, style = map_labels(decoded["artist"], decoded["genre"], decoded["style"])
                rel = f"{style}/{painter}_hf-{i:06d}.jpg"
                if style not in styles:
                    report.refused.append((i, f"unknown style {style!r}"))
                    rel = f"_refused/{i:06d}"
                else:
                    try:
                        _write_image(row["image"], out / rel, size, quality)
                        report.n_written += 1
                    except images.BadImage as exc:
                        report.refused.append((i, str(exc)))
                        rel = f"_refused/{i:06d}"
                writer.writerow([rel if rel.endswith(".jpg") else rel + ".jpg", genre])
                log.flush()
                progress.update(1)
            progress.close()
    except DownloadError:
        raise
    except (ConnectionError, TimeoutError, OSError) as exc:
        raise DownloadError(f"stream interrupted after {report.n_written} new images ({exc}); "
                            "rerun the same command to resume") from None
    genre_of = {p: g for p, g in _read_log(out).items() if not p.startswith("_refused/")}
    index.index_dataset(out, genre_of=genre_of)
    return report


def _write_image(value, dest: Path, size: int, quality: int) -> None:
    """A hub image value {'bytes', 'path'} -> resized RGB JPEG at `dest`, atomically (safe decoding)."""
    if dest.is_file():
        return
    data = value.get("bytes") if isinstance(value, dict) else None
    if not data:
        raise images.BadImage("row has no image bytes")
    image = images.open_rgb(data, min_side=size)
    image = prepare.resize_short_side(image, size)
    with fsutil.atomic_path(dest) as tmp:
        image.save(tmp, format="JPEG", quality=quality)
