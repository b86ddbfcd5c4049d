"""`python -m wikiart_utils <command>`: the command line over the package, one subcommand per job.

Expected failures (bad data, missing files, offline hub, unsafe checkpoints) end with a one-line
`error: ...` and exit status 2, never a traceback; Ctrl-C says how to resume.
"""
from __future__ import annotations

import argparse
import errno
import json
import os
import logging
import sys
from pathlib import Path
from typing import Callable, Sequence

from . import config

USER_ERRORS: tuple[type[BaseException], ...] = (ValueError, FileNotFoundError, FileExistsError,
                                               NotADirectoryError, PermissionError, RuntimeError)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _caps(text: str) -> dict:
    """'epochs=2,train_limit=64' -> {"epochs": 2, "train_limit": 64}: values read as Python literals."""
    import ast
    try:
        pairs = (item.split("=", 1) for item in text.split(","))
        return {key.strip(): ast.literal_eval(value.strip()) for key, value in pairs}
    except (ValueError, SyntaxError):
        raise argparse.ArgumentTypeError("give setting=value pairs, e.g. epochs=2,train_limit=64") from None


def _fractions(text: str) -> tuple[float, float, float]:
    parts = [float(x) for x in text.split(",")]
    if len(parts) != 3:
        raise argparse.ArgumentTypeError("give three fractions train,val,test, e.g. 0.8,0.1,0.1")
    return tuple(parts)  # type: ignore[return-value]


def cmd_sample(args: argparse.Namespace) -> None:
    from .ingest import sample
    report = sample.generate_sample(args.out, n=args.n, size=args.size, seed=args.seed, workers=args.workers)
    print(report.summary())


def cmd_index(args: argparse.Namespace) -> None:
    from . import metadata
    from .ingest import index
    report = index.index_dataset(args.root, artgan_csv_dir=args.artgan_csv_dir, fractions=args.splits,
                                 seed=args.seed, workers=args.workers)
    print(report.summary())
    for path, reason in report.refused[:20]:
        print(f"  refused {path}: {reason}")
    if len(report.refused) > 20:
        print(f"  ... {len(report.refused) - 20} more in {Path(args.root) / metadata.REFUSED}")
    for path in report.unmatched[:10]:
        print(f"  no label row for {path}")


def cmd_prepare(args: argparse.Namespace) -> None:
    from .ingest import prepare
    report = prepare.prepare(args.root, args.out, size=args.size, workers=args.workers, quality=args.quality,
                             limit=args.limit)
    print(report.summary())
    for path, reason in report.refused[:20]:
        print(f"  refused {path}: {reason}")


def cmd_download(args: argparse.Namespace) -> None:
    from .ingest import download
    report = download.download(args.out, dataset=args.dataset, split=args.split, limit=args.limit,
                               size=args.size)
    print(report.summary())


def cmd_extract(args: argparse.Namespace) -> None:
    from .ingest import artgan
    refused: list[tuple[str, str]] = []
    written = artgan.extract_archive(args.zip, args.out, refused=refused)
    print(f"extracted {written} new files into {args.out}; {len(refused)} members refused"
          f"\nnext: python -m wikiart_utils index --root {args.out} --artgan-csv-dir <folder with the CSVs>")


def cmd_train(args: argparse.Namespace) -> None:
    from . import train
    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "verbose", "data", "out")}
    options = {k: given.pop(k) for k in config.MODEL_OPTIONS if k in given}
    if options:
        given["model_options"] = options
    result = train.train(args.data, out=args.out, **given)
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun, once
        print(f"best epoch {result.best_epoch}: val mean macro-F1 {result.best_score:.3f} -> {result.best_path}")


def cmd_evaluate(args: argparse.Namespace) -> None:
    from . import evaluate, metrics
    n_boot = metrics.BOOTSTRAP_RESAMPLES if args.n_boot is None else args.n_boot
    result, _ = evaluate.evaluate_checkpoint(args.data, args.checkpoint, args.out, args.split, args.batch_size,
                                             args.workers, args.unknown_as_class, n_boot, decode=args.decode)
    print(evaluate.summary_table(result).to_string())
    reports = ", ".join(f"per_class_{t}.csv" for t in result if t in ("artist", "genre", "style") and result[t]["n"])
    print(f"wrote {args.out}/metrics.json, predictions.csv{', ' + reports if reports else ''}")


def cmd_predict(args: argparse.Namespace) -> None:
    from . import predict
    if not predict.expand_paths(args.images):
        raise FileNotFoundError(f"no image files in {', '.join(map(str, args.images))}")
    results = predict.predict_images(args.checkpoint, args.images, args.top_k)
    if args.json:
        print(json.dumps(results, indent=1))
    else:
        for result in results:
            print(predict.format_text(result), file=sys.stderr if "error" in result else sys.stdout)
    if any("error" in r for r in results):
        raise SystemExit(2)


def cmd_reproduce(args: argparse.Namespace) -> None:
    from . import reproduce
    reproduce.reproduce(args.data, args.profile, args.only, args.output_dir, caps=args.caps)


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The `train` flags: --data and --out, then one per setting of `config.TrainConfig` and `config.Session`
    and one per model option, generated from their declarations (defaults and help live there)."""
    p.add_argument("--data", required=True, help="dataset directory with metadata.csv")
    p.add_argument("--out", required=True, help="checkpoint directory (best.pt, last.pt, history.csv, curves.png)")
    config.add_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and its flags, declared here; a command imports its module (and torch) only when run."""
    parser = argparse.ArgumentParser(prog="python -m wikiart_utils", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    def add(name: str, func: Callable, help_text: str) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(func=func)
        return command
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
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="keep at most N paintings of each split (style-stratified): a small real dataset")

    p = add("download", cmd_download, "stream huggan/wikiart from the Hugging Face hub into a dataset directory")
    p.add_argument("--out", type=Path, required=True, help="dataset directory to fill")
    p.add_argument("--dataset", default="huggan/wikiart", help="hub name, or a local .parquet file/folder")
    p.add_argument("--split", default="train", help="hub split to stream")
    p.add_argument("--limit", type=int, default=None, help="stop after N paintings (a quick real subset)")
    p.add_argument("--size", type=int, default=256, help="short side in pixels")

    p = add("extract", cmd_extract, "unpack ArtGAN's wikiart.zip safely (resumable) into a dataset directory")
    p.add_argument("--zip", type=Path, required=True, help="the wikiart.zip of the ArtGAN release")
    p.add_argument("--out", type=Path, required=True, help="dataset directory (<Style>/<file> inside)")

    add_train_arguments(add("train", cmd_train, "train a model variant on a dataset directory (checkpoints, history, curves)"))

    p = add("evaluate", cmd_evaluate, "metrics.json, predictions.csv and per-class reports of a checkpoint")
    p.add_argument("--data", required=True, type=Path, help="dataset directory (metadata.csv)")
    p.add_argument("--checkpoint", required=True, type=Path, help="best.pt or last.pt written by train")
    p.add_argument("--out", required=True, type=Path, help="folder for metrics.json, predictions.csv, ...")
    p.add_argument("--split", default="test", choices=["train", "val", "test"])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--unknown-as-class", default=None, metavar="ARTIST",
                   help="older convention: label unknown artists as this artist (e.g. albrecht-durer)")
    # None, not the number: metrics.py (scikit-learn) is imported only when a command needs it
    p.add_argument("--n-boot", type=int, default=None,
                   help="bootstrap resamples for the 95%% intervals (default: metrics.BOOTSTRAP_RESAMPLES, the "
                        "course's one setting for every interval)")
    p.add_argument("--decode", choices=config.DECODE_CHOICES, default=config.TrainConfig.decode,
                   help="as for train")

    p = add("predict", cmd_predict, "top-k artist, genre and style for image files")
    p.add_argument("--checkpoint", default=None, type=Path,
                   help="best.pt written by train (default: the course's model, checkpoints/course/model.pt)")
    p.add_argument("images", nargs="+", type=Path, help="image files, or folders of them (searched recursively)")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--json", action="store_true", help="print one JSON list and nothing else on stdout")

    p = add("reproduce", cmd_reproduce, "execute notebooks 01..08 in order (papermill), regenerating figures/")
    p.add_argument("--data", default=None, help="dataset directory (default: the embedded real sample)")
    p.add_argument("--profile", default="sample", choices=["sample", "full"],
                   help="sample: CPU minutes; full: the GPU settings given in each notebook")
    p.add_argument("--only", nargs="*", default=None, help="notebook number prefixes, e.g. 01 02")
    p.add_argument("--output-dir", default=None, help="where executed notebooks go (default: in place for sample)")
    p.add_argument("--caps", type=_caps, default=None, metavar="SETTING=VALUE,...",
                   help="training settings put over the profile's in every notebook, for a quick check "
                        "(e.g. epochs=2); the executed notebooks then go to runs/<profile>/")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
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
