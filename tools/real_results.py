"""Train and score every variant on a real dataset directory; write what is committed under results/.

    python tools/real_results.py --data data/wikiart-subset-112 --train-limit 8000 --epochs 8 --image-size 96

For each run (RUNS): `train.train` into checkpoints/real/<run>/ (resumable: rerun the same command after an
interruption), then `evaluate.evaluate_checkpoint` on the whole test split into results/<run>/:
metrics.json, per_class_<task>.csv, history.csv (copied from the run), command.txt (the equivalent command
lines) and run.json (machine, torch, date, wall time). No checkpoint is committed. Every run trains from
scratch (no ImageNet weights can be downloaded here). `--only` picks runs; `--summary` only rewrites
results/summary.md and the comparison chart figures/real/07_comparison.png from the metrics already there;
`--paired` writes results/paired.md, the README's model-against-model questions answered on the same test
paintings (top-1 differences with paired bootstrap intervals, from the checkpoints).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from wikiart_utils import checkpoint, evaluate, labels, metrics, plots, train
from wikiart_utils import data as wdata

ROOT = Path(__file__).resolve().parents[1]
FROZEN = dict(freeze_backbone=True, cached_features=True)  # VGG-16 and ViT-B/16 on a 2-core CPU
RUNS = {  # variant -> its extra train arguments
    "resnet18_lstm_patch": {}, "resnet18_lstm_flatten": {}, "resnet18_gap": {}, "vgg16_lstm": FROZEN,
    "vit_b16_lstm": FROZEN,
}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_lines(data: Path, variant: str, kwargs: dict) -> str:
    flags = [f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in kwargs.items()
             if v not in (None, False) and k not in ("pretrained", "workers", "progress")]
    return (f"python -m wikiart_utils train --data {data} --variant {variant} --out checkpoints/real/{variant} "
            f"--no-pretrained {' '.join(flags)} --resume\n"
            f"python -m wikiart_utils evaluate --data {data} --checkpoint checkpoints/real/{variant}/best.pt "
            f"--out results/{variant}\n")


def relative_checkpoint(metrics_path: Path) -> None:
    """metrics.json names its checkpoint relative to the repository (committed files hold no machine paths)."""
    m = json.loads(metrics_path.read_text())
    if Path(m["meta"]["checkpoint"]).is_absolute():
        m["meta"]["checkpoint"] = os.path.relpath(m["meta"]["checkpoint"], ROOT)
        metrics_path.write_text(json.dumps(m, indent=2) + "\n")


def run_one(data: Path, variant: str, kwargs: dict) -> None:
    out, dest = ROOT / "checkpoints" / "real" / variant, ROOT / "results" / variant
    start = time.time()
    result = train.train(data, variant, out, pretrained=False, resume=True, progress=False, **kwargs)
    evaluate.evaluate_checkpoint(data, result.best_path, dest, split="test", workers=kwargs.get("workers"))
    (dest / "predictions.csv").unlink(missing_ok=True)  # 3,000+ rows of top-5s per run: kept out of git
    relative_checkpoint(dest / "metrics.json")
    shutil.copyfile(result.history_path, dest / "history.csv")
    (dest / "command.txt").write_text(command_lines(data, variant, kwargs))
    (dest / "run.json").write_text(json.dumps({
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": cpu_name(),
        "cores": os.cpu_count(), "gpu": None, "torch": torch.__version__, "pretrained": False,
        "wall_seconds_this_session": round(time.time() - start), "best_epoch": result.best_epoch,
        "epochs_done": result.epochs_done, "data": str(data)}, indent=1) + "\n")
    print(f"{variant}: done in {time.time() - start:.0f} s -> {dest}", flush=True)


def summary() -> str:
    """A markdown table of every results/<run>/metrics.json: top-1 [95% CI] (n, majority baseline)."""
    rows = ["| run | " + " | ".join(f"{t} top-1 [95% CI] (n; baseline)" for t in labels.TASKS) + " |",
            "| --- |" + " --- |" * len(labels.TASKS)]
    for path in sorted((ROOT / "results").glob("*/metrics.json")):
        m = json.loads(path.read_text())
        cells = []
        for task in labels.TASKS:
            t = m[task]
            cells.append("—" if not t.get("n") else f"{t['top1']:.3f} [{t['top1_ci'][0]:.3f}, {t['top1_ci'][1]:.3f}] "
                                                   f"(n = {t['n']}; {t['majority_baseline']:.3f})")
        rows.append(f"| `{path.parent.name}` | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def chart(data: Path) -> Path:
    """figures/real/07_comparison.png from every results/<run>/metrics.json (the same chart as notebook 07's),
    so a run that finishes after the notebook joins it without re-scoring the others."""
    scored = {path.parent.name: json.loads(path.read_text()) for path in sorted((ROOT / "results").glob("*/metrics.json"))
              if "_unknown_as_" not in path.parent.name}
    out = ROOT / "figures" / "real" / "07_comparison.png"
    plots.comparison_chart(evaluate.compare(scored), title=f"top-1 on the test split of {Path(data).name}", path=out)
    return out


PAIRS = (("resnet18_gap", "resnet18_lstm_patch"), ("resnet18_lstm_patch", "resnet18_lstm_flatten"))  # the README's questions


def paired(data: Path, pairs=PAIRS, checkpoints: Path = ROOT / "checkpoints" / "real", workers: int = 1) -> str:
    """A markdown table of top-1 differences between two runs on the same test paintings, per task, with
    paired bootstrap intervals (`metrics.paired_difference`), from checkpoints/real/<run>/best.pt."""
    right = {}
    for run in sorted({run for pair in pairs for run in pair}):
        model, ckpt = checkpoint.load(Path(checkpoints) / run / "best.pt")
        dataset = wdata.WikiArtDataset(data, "test", ckpt["model_config"]["image_size"], train=False)
        pred = evaluate.predict_dataset(model, dataset, workers=workers)
        right[run] = {t: (pred.probs[t].argmax(1) == pred.y(t), pred.y(t) >= 0, pred.rows) for t in labels.TASKS}
    rows = ["| A - B | " + " | ".join(f"{t} top-1 difference [95% CI] (n)" for t in labels.TASKS) + " |",
            "| --- |" + " --- |" * len(labels.TASKS)]
    for a, b in pairs:
        cells = []
        for task in labels.TASKS:
            (ra, known, rows_a), (rb, _, rows_b) = right[a][task], right[b][task]
            if not (rows_a == rows_b).all():
                raise SystemExit(f"{a} and {b} were scored on different test paintings")
            d = metrics.paired_difference(ra[known], rb[known])
            cells.append(f"{d['difference']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] (n = {d['n']})")
        rows.append(f"| `{a}` - `{b}` | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--frozen-epochs", type=int, default=15, help="epochs of the cached-token runs")
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None, choices=list(RUNS))
    parser.add_argument("--summary", action="store_true", help="only rewrite results/summary.md and figures/real/07_comparison.png")
    parser.add_argument("--paired", action="store_true",
                        help="only write results/paired.md: the README's comparisons on the same test paintings")
    args = parser.parse_args()
    if args.paired:
        header = (f"Top-1 differences between two runs on the same test paintings of `{args.data.name}`, paired bootstrap "
                  f"95% intervals (`python tools/real_results.py --data {args.data} --paired`, "
                  f"{datetime.now(timezone.utc):%Y-%m-%d}). Each run's settings: `results/<run>/command.txt`.\n\n")
        (ROOT / "results" / "paired.md").write_text(header + paired(args.data, workers=args.workers))
        print((ROOT / "results" / "paired.md").read_text())
        return
    if not args.summary:
        for variant in args.only or RUNS:
            extra = RUNS[variant]
            kwargs = dict(epochs=args.frozen_epochs if extra.get("cached_features") else args.epochs,
                          image_size=args.image_size, batch_size=args.batch_size, train_limit=args.train_limit,
                          workers=args.workers, seed=0, **extra)
            run_one(args.data, variant, kwargs)
    (ROOT / "results" / "summary.md").write_text(summary())
    print("wrote", chart(args.data))
    print(summary())


if __name__ == "__main__":
    main()
