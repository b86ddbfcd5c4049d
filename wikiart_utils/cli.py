"""`python -m wikiart_utils <command>`: the command line over the package, one subcommand per job.

Expected failures (bad data, missing files, offline hub, unsafe checkpoints) end with a one-line
`error: ...` and exit status 2, never a traceback; Ctrl-C says how to resume.
"""
from __future__ import annotations

import argparse
import importlib
import errno
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, FileExistsError,
                                               NotADirectoryError, PermissionError, RuntimeError)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _fractions(text: str) -> tuple[float, float, float]:
    parts = [float(x) for x in text.split(",")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("give three fractions train,val,test, e.g. 0.8,0.1,0.1")
    return tuple(parts)  # type: ignore[return-value]


def cmd_sample(args: argparse.Namespace) -> None:
    from . import sample
    report = sample.generate_sample(args.out, n=args.n, size=args.size, seed=args.seed, workers=args.workers)
    print(report.summary())


def cmd_index(args: argparse.Namespace) -> None:
    from . import index
    report = index.index_dataset(args.root, artgan_csv_dir=args.artgan_csv_dir, fractions=args.splits,
                                 seed=args.seed, workers=args.workers)
    print(report.summary())
    for path, reason in report.refused[:20]:
        print(f"  refused {path}: {reason}")
    if len(report.refused) > 20:
        print(f"  ... {len(report.refused) - 20} more in {Path(args.root) / index.REFUSED}")
    for path in report.unmatched[:10]:
        print(f"  no label row for {path}")


def cmd_prepare(args: argparse.Namespace) -> None:
    from . import prepare
    report = prepare.prepare(args.root, args.out, size=args.size, workers=args.workers, quality=args.quality)
    print(report.summary())
    for path, reason in report.refused[:20]:
        print(f"  refused {path}: {reason}")


def cmd_download(args: argparse.Namespace) -> None:
    from . import download
    report = download.download(args.out, dataset=args.dataset, split=args.split, limit=args.limit,
                               size=args.size)
    print(report.summary())


def cmd_extract(args: argparse.Namespace) -> None:
    from . import artgan
    refused: list[tuple[str, str]] = []
    written = artgan.extract_archive(args.zip, args.out, refused=refused)
    print(f"extracted {written} new files into {args.out}; {len(refused)} members refused"
          f"\nnext: python -m wikiart_utils index --root {args.out} --artgan-csv-dir <folder with the CSVs>")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; `command` (the chosen subcommand) decides which heavy module is imported."""
    parser = argparse.ArgumentParser(prog="python -m wikiart_utils", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    def add(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        parser_ = sub.add_parser(name, help=help_text, description=help_text)
        parser_.set_defaults(func=func)
        return parser_

    p = add("sample", cmd_sample, "generate the embedded synthetic WikiArt-like sample (seconds, no download)")
    p.add_argument("--out", type=Path, default=None, help="output directory (default: data/sample)")
    p.add_argument("--n", type=int, default=2000, help="number of paintings")
    p.add_argument("--size", type=int, default=96, help="short side in pixels")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=0, help="processes for the image check (0 = auto)")

    p = add("index", cmd_index, "scan an ArtGAN-layout folder <Style>/<artist>_<title>.jpg and write metadata.csv")
    p.add_argument("--root", type=Path, required=True, help="dataset directory")
    p.add_argument("--artgan-csv-dir", type=Path, default=None, help="folder with the ArtGAN genre/style CSVs")
    p.add_argument("--splits", type=_fractions, default=(0.8, 0.1, 0.1), help="train,val,test fractions")
    p.add_argument("--seed", type=int, default=0, help="split seed")
    p.add_argument("--workers", type=int, default=0, help="processes (0 = auto)")

    p = add("prepare", cmd_prepare, "resize a dataset directory once (short side) into a new one for fast epochs")
    p.add_argument("--root", type=Path, required=True, help="source dataset directory (with metadata.csv)")
    p.add_argument("--out", type=Path, required=True, help="new dataset directory")
    p.add_argument("--size", type=int, default=256, help="short side in pixels")
    p.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    p.add_argument("--quality", type=int, default=90, help="JPEG quality")

    p = add("download", cmd_download, "stream huggan/wikiart from the Hugging Face hub into a dataset directory")
    p.add_argument("--out", type=Path, required=True, help="dataset directory to fill")
    p.add_argument("--dataset", default="huggan/wikiart", help="hub name, or a local .parquet file/folder")
    p.add_argument("--split", default="train", help="hub split to stream")
    p.add_argument("--limit", type=int, default=None, help="stop after N paintings (a quick real subset)")
    p.add_argument("--size", type=int, default=256, help="short side in pixels")

    p = add("extract", cmd_extract, "unpack ArtGAN's wikiart.zip safely (resumable) into a dataset directory")
    p.add_argument("--zip", type=Path, required=True, help="the wikiart.zip of the ArtGAN release")
    p.add_argument("--out", type=Path, required=True, help="dataset directory (<Style>/<file> inside)")

    for name, help_text in HEAVY_COMMANDS.items():
        if name == command:  # import torch & co. only for the command that needs them
            importlib.import_module(f"wikiart_utils.{name}").register_cli(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


HEAVY_COMMANDS = {  # subcommands whose modules import torch; registered by the module's register_cli
    "train": "train a model variant on a dataset directory (checkpoints, history, curves)",
    "evaluate": "metrics.json, predictions.csv and per-class reports of a checkpoint",
    "predict": "top-k artist, genre and style for image files",
    "reproduce": "execute notebooks 01..07 in order (papermill), regenerating figures/",
    "bench": "benchmarks: loader, features, train, gpu (ratios measured side by side)",
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        args.func(args)
    except KeyboardInterrupt:
        _close_progress_bars()
        print("interrupted: rerun the same command to continue (train: add --resume)", file=sys.stderr)
        return 130
    except USER_ERRORS as exc:
        _close_progress_bars()
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        if exc.errno not in DISK_FULL:
            raise
        _close_progress_bars()
        where = f" writing into {Path(exc.filename).parent}" if exc.filename else ""
        print(f"error: {exc.strerror or 'disk full'}{where}: free some space, then rerun the same command "
              "to resume (finished files are kept, the unfinished one was removed)", file=sys.stderr)
        return 2
    return 0


def _close_progress_bars() -> None:
    """Close the progress bars a failure left open, so the message starts on a line of its own."""
    from tqdm.std import tqdm
    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()
