"""What notebook 04 asks: what does *reading* a painting's tokens buy over averaging them?

Every reader of the course (`readers`) is trained on the same cached tokens of one frozen backbone, with the
same budget and seed, so the only thing that differs between two runs is how the tokens are read:

    caches = token_caches(root, "efficientnet_lite0_gap", settings, features_dir)  # extracted once, shared
    runs = train_readers(root, {"average": ("efficientnet_lite0_gap", {}), ...}, settings, out, features_dir)
    scored = score_runs(runs, {"positions": caches, ...}, root)                  # validation, on the cache
    reader_table(scored)                                                         # n, top-1 [95% CI], ...

`ChannelLSTM` is the "flatten" reading on the same tokens (an LSTM over channels instead of positions) and
`fit_on_tokens` trains any such module on a cache. `reading_pairs` answers the same questions on the real
subset from the committed `results/<run>/test_predictions.csv`, painting by painting, for the runs that
exist; the pairs whose runs are not committed yet are named, never fatal.
"""
from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from torch import nn

from .. import checkpoint, data, engine, evaluate, labels, losses, metadata, metrics, models, plots, results, \
    runtime, train
from ..config import TrainConfig
from ..readers import shuffled_order
from ..speed import features
from .training import run_settings

__all__ = ["token_caches", "train_readers", "score_runs", "score_on_cache", "reader_table", "curves_chart",
           "order_grid", "gradient_share", "position_overlays", "ChannelLSTM", "fit_on_tokens", "AVERAGE", "BEST",
           "FROZEN_READERS", "READING_PAIRS", "best_on_validation", "reading_pairs", "paired_wide", "paired_chart",
           "short_name", "real_reader_runs"]


# ----------------------------------------------------------------------------------------------------
# One cache, many readers (the sample)

def token_caches(root: str | Path, variant: str, settings: dict, features_dir: str | Path,
                 ) -> dict[str, features.CachedFeatureDataset]:
    """{"train", "val"}: the frozen backbone tokens of `variant` (with `settings`' image size and training
    paintings) in `features_dir`, at the very paths `train.train(..., features_dir=features_dir)` uses: made
    here once, reused by every run over that backbone and those paintings (a reader is not part of the key)."""
    run = run_settings(variant, settings)
    model = models.build_model(variant, pretrained=run.pretrained, image_size=run.image_size)
    device = runtime.pick_device(settings.get("device"))
    caches = {}
    for split in ("train", "val"):
        limit = run.train_limit if split == "train" else None
        dataset = data.WikiArtDataset(root, split, run.image_size, train=False, limit=limit)  # as train.make_feeds
        path = features.shared_cache_path(features_dir, model, dataset, split)
        caches[split] = features.cached_split(model, dataset, path, device, settings.get("workers") or 0,
                                              progress=False)
    return caches


def _folder(name: str) -> str:
    """A reader's name as a folder name: "LSTM, shuffled order" -> lstm_shuffled_order."""
    return "_".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


def train_readers(root: str | Path, readers: dict[str, tuple[str, dict]], settings: dict, out: str | Path,
                  features_dir: str | Path) -> dict[str, train.TrainResult]:
    """Train each reader (name -> (variant, model options)) with the same `settings` and seed on the tokens
    cached in `features_dir`, into out/<name>/. Each run's log goes to its log.txt; one line per run here."""
    runs, width = {}, max(map(len, readers))
    for name, (variant, options) in readers.items():
        folder = Path(out) / _folder(name)
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            runs[name] = train.train(root, variant, out=folder, overwrite=True, seed=0, progress=False,
                                     features_dir=features_dir, model_options=dict(options), **settings)
        (folder / "log.txt").write_text(log.getvalue(), encoding="utf-8")
        run = runs[name]
        seconds = sum(row["seconds"] for row in run.history)
        print(f"{name:<{width}}  best epoch {run.best_epoch:>2} of {run.epochs_done}: val mean macro-F1 "
              f"{run.best_score:.3f} ({seconds:.0f} s of epochs)", flush=True)
    return runs


@torch.no_grad()
def score_on_cache(net: nn.Module, cache: features.CachedFeatureDataset, root: str | Path, split: str = "val",
                   n_boot: int = metrics.BOOTSTRAP_RESAMPLES) -> tuple[dict, evaluate.Predictions]:
    """(scores, predictions) of `net` (tokens -> {task: logits}) on a cached split: the scores of
    `evaluate.evaluate_checkpoint` (n, top-1 and macro-F1 with 95% intervals, majority baseline of the
    training split), without running the frozen backbone again."""
    net = net.cpu().eval()
    probs: dict[str, list] = {task: [] for task in labels.TASKS}
    for tokens, _ in cache.loader(256):
        logits = net(tokens)
        for task in labels.TASKS:
            probs[task].append(F.softmax(logits[task].float(), dim=1))
    probs = {task: torch.cat(parts).numpy() for task, parts in probs.items()}
    targets = cache.targets.numpy()
    y = {task: targets[:, i] for i, task in enumerate(labels.TASKS)}
    scores = metrics.to_jsonable(metrics.task_scores(y, probs, evaluate.train_counts(root), n_boot=n_boot))
    meta = metadata.read_metadata(root, split).iloc[cache.rows].reset_index(drop=True)
    return scores, evaluate.Predictions(cache.rows, targets, probs, meta)


def score_runs(runs: dict[str, train.TrainResult], caches: dict[str, dict], root: str | Path
               ) -> tuple[dict[str, dict], dict[str, evaluate.Predictions]]:
    """Each run's best epoch scored on its validation cache (`caches`: the backbone's summary -- "positions"
    or "stages" -- to `token_caches`' result). Returns (scores, predictions), both by run name."""
    scored, preds = {}, {}
    for name, run in runs.items():
        model, _ = checkpoint.load(run.best_path)
        cache = caches[getattr(model.backbone, "summary", "positions")]["val"]
        scored[name], preds[name] = score_on_cache(features.HeadOnly(model), cache, root)
    return scored, preds


def reader_table(scored: dict[str, dict]) -> pd.DataFrame:
    """Readers as rows, per task top-1 [95% interval] and macro-F1; the first two rows give each task's
    labelled paintings n and majority baseline (the same for every reader: one split, one cache)."""
    first = next(iter(scored.values()))
    table = {}
    for task in labels.TASKS:
        if not first[task].get("n"):
            continue
        top1 = {"n (labelled paintings)": f"{first[task]['n']:,}",
                "majority baseline": f"{first[task]['majority_baseline']:.3f}"}
        f1 = {"n (labelled paintings)": "", "majority baseline": ""}
        for name, m in scored.items():
            lo, hi = m[task]["top1_ci"]
            top1[name] = f"{m[task]['top1']:.3f} [{lo:.3f}, {hi:.3f}]"
            f1[name] = f"{m[task]['macro_f1']:.3f}"
        table[f"{task} top-1 [95% CI]"], table[f"{task} macro-F1"] = top1, f1
    return pd.DataFrame(table).reindex(["n (labelled paintings)", "majority baseline", *scored])


def curves_chart(histories: dict[str, list[dict]], title: str = "", path: str | Path | None = None) -> Figure:
    """Training loss and validation mean macro-F1 per epoch, one line per reader, on shared axes."""
    fig = Figure(figsize=(12, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    palette = sns.color_palette("colorblind", len(histories))
    for colour, (name, history) in zip(palette, histories.items()):
        epochs = [row["epoch"] for row in history]
        axes[0].plot(epochs, [row["train_loss"] for row in history], marker="o", ms=3, color=colour, label=name)
        axes[1].plot(epochs, [row["val_mean_f1"] for row in history], marker="o", ms=3, color=colour, label=name)
    for ax, label in zip(axes, ("training loss (the three tasks, summed)", "validation mean macro-F1")):
        ax.set_xlabel("epoch")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    axes[1].legend(loc="lower right", fontsize=9)
    if title:
        fig.suptitle(title)
    plots.make_legible(fig)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def order_grid(side: int) -> pd.DataFrame:
    """The step (1 = first) at which the shuffled order reads each position of a side x side map, laid out
    as the map: `readers.shuffled_order`, the fixed permutation every `order="shuffled"` run uses."""
    steps = torch.empty(side * side, dtype=torch.long)
    steps[shuffled_order(side * side)] = torch.arange(1, side * side + 1)
    return pd.DataFrame(steps.reshape(side, side).numpy())


def gradient_share(lstm: nn.LSTM, sequence: torch.Tensor) -> torch.Tensor:
    """[B, T]: how strongly each step of `sequence` [B, T, D] moves the LSTM's last hidden state -- the norm of
    the gradient of sum |h_T| with respect to x_t, as a share of all T steps (each row sums to 1). The average
    gives every step 1/T; an LSTM whose memory fades hears its last steps most."""
    x = sequence.detach().float().requires_grad_(True)
    with torch.enable_grad():
        _, (h_n, _) = lstm(x)
        (grad,) = torch.autograd.grad(h_n[-1].abs().sum(), x)
    norms = grad.norm(dim=2)
    return norms / norms.sum(dim=1, keepdim=True)


@torch.no_grad()
def position_overlays(maps: torch.Tensor, image: torch.Tensor) -> list[np.ndarray]:
    """One painting with each map over its positions ([k, T], T a square grid: attention weights, gradient
    shares) drawn over it, on one colour scale for the k maps (0 to their largest value)."""
    side = round(maps.shape[-1] ** 0.5)
    grids = F.interpolate(maps.reshape(-1, 1, side, side).float(), size=image.shape[-2:], mode="nearest")[:, 0]
    grids = (grids / grids.max()).numpy()
    return [plots.overlay_heatmap(image, heat, alpha=0.5) for heat in grids]


# ----------------------------------------------------------------------------------------------------
# The flatten reading on pretrained tokens: an LSTM over channels

class ChannelLSTM(nn.Module):
    """The "flatten" reader on positions tokens [B, T, C]: transposed to C channel tokens of T values (one
    channel's map over the painting each), read by an LSTM channel 1 to C, last state -> the three heads.

    Each channel is standardised across paintings (BatchNorm1d over the C channels), not within its token:
    LayerNorm over a token's T values would subtract that channel's mean over the painting -- the very number
    the average reader keeps."""

    def __init__(self, channels: int, positions: int, hidden_size: int = 32, dropout: float = 0.2,
                 readout: str = "last"):
        super().__init__()
        if readout not in ("last", "mean"):
            raise ValueError(f"readout must be last or mean, got {readout!r}")
        self.readout = readout
        self.norm = nn.BatchNorm1d(channels)
        self.lstm = nn.LSTM(positions, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({task: nn.Linear(hidden_size, n) for task, n in labels.num_classes().items()})

    def channel_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """[B, T, C] -> [B, C, T]: the sequence the LSTM reads, one standardised channel a step."""
        return self.norm(tokens.transpose(1, 2).float())

    def forward(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        out, (h_n, _) = self.lstm(self.channel_tokens(tokens))
        summary = self.dropout(h_n[-1] if self.readout == "last" else out.mean(dim=1))
        return {task: head(summary) for task, head in self.heads.items()}


def fit_on_tokens(net: nn.Module, caches: dict, epochs: int, lr: float, batch_size: int = TrainConfig.batch_size,
                  seed: int = 0, verbose: bool = True) -> list[dict]:
    """Train `net` (tokens -> {task: logits}) on cached tokens ({"train", "val"}) with the course's masked
    multitask loss (equal task weights) and AdamW at a constant `lr`; validate after each epoch (a line each
    when `verbose`). Returns the history: epoch, train_loss, `engine.validate`'s scores, seconds."""
    torch.manual_seed(seed)
    cpu = torch.device("cpu")
    criterion = losses.build_criterion(caches["train"].targets)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=TrainConfig.weight_decay)
    batches = caches["train"].loader(batch_size, shuffle=True, seed=seed)
    history = []
    for epoch in range(epochs):
        start = time.time()
        batches.set_epoch(epoch)
        loss = engine.train_one_epoch(net, criterion, optimizer, batches, cpu)["train_loss"]
        scores = engine.validate(net, caches["val"].loader(64), cpu)
        history.append({"epoch": epoch + 1, "train_loss": loss, **scores, "seconds": round(time.time() - start, 1)})
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: train loss {loss:.3f}, val mean macro-F1 {scores['val_mean_f1']:.3f} "
                  f"({history[-1]['seconds']:.0f} s)", flush=True)
    return history


# ----------------------------------------------------------------------------------------------------
# The real subset's answers, painting by painting, from the committed results

AVERAGE = "efficientnet_lite0_gap_frozen"
BEST = "best reader (on validation)"  # stands for the frozen reader with the best validation mean macro-F1
FROZEN_READERS = ("efficientnet_lite0_lstm_frozen", "efficientnet_lite0_attention_frozen",
                  "efficientnet_lite0_stats_frozen", "efficientnet_lite0_depth_lstm_frozen"
                  )  # the candidates for BEST: notebook 04's readers (order controls excluded)
READING_PAIRS = (  # (question, a, b): top-1 of a minus b on the same test paintings
    ("does any reader beat the average?", BEST, AVERAGE),
    ("does the LSTM beat the average?", "efficientnet_lite0_lstm_frozen", AVERAGE),
    ("does the order of positions matter to the LSTM?", "efficientnet_lite0_lstm_frozen",
     "efficientnet_lite0_lstm_shuffled_frozen"),
    ("does attention beat the average?", "efficientnet_lite0_attention_frozen", AVERAGE),
    ("do the stage statistics beat the average?", "efficientnet_lite0_stats_frozen", AVERAGE),
    ("does an LSTM over depth beat the average?", "efficientnet_lite0_depth_lstm_frozen", AVERAGE),
    ("does an LSTM over depth beat the statistics side by side?", "efficientnet_lite0_depth_lstm_frozen",
     "efficientnet_lite0_stats_frozen"),
    ("does the order of depth matter to its LSTM?", "efficientnet_lite0_depth_lstm_frozen",
     "efficientnet_lite0_depth_lstm_shuffled_frozen"),
    ("do fine-tuned last stages beat frozen ones (the same 6,001 paintings)?", "efficientnet_lite0_stats_tuned",
     "efficientnet_lite0_stats_frozen_6k"),
)


def _committed(run: str, folder: Path) -> bool:
    return (folder / run / "test_predictions.csv").is_file()


def best_on_validation(candidates=FROZEN_READERS, folder: str | Path = results.RESULTS) -> tuple[str | None, dict]:
    """(the committed run with the best validation mean macro-F1 in its history.csv -- the rule the course
    model was chosen by, before any test score is read --, every committed candidate's best score)."""
    folder = Path(folder)
    scores = {run: float(pd.read_csv(folder / run / "history.csv")["val_mean_f1"].max())
              for run in candidates if _committed(run, folder) and (folder / run / "history.csv").is_file()}
    return (max(scores, key=scores.get) if scores else None), scores


def reading_pairs(pairs=READING_PAIRS, folder: str | Path = results.RESULTS,
                  n_boot: int = metrics.BOOTSTRAP_RESAMPLES) -> tuple[pd.DataFrame, list[str]]:
    """(table, missing): for each pair whose two runs are committed, per task the top-1 of a minus b on the
    same labelled test paintings with a paired bootstrap 95% interval (`metrics.paired_difference`) and its
    verdict; `missing` names each other pair with the runs it still needs. BEST becomes the best frozen
    reader on validation; a later pair that repeats an earlier one is left out."""
    folder = Path(folder)
    best, _ = best_on_validation(folder=folder)
    rows, missing, seen = [], [], set()
    for question, a, b in pairs:
        a = best if a == BEST else a
        if a is not None and (a, b) in seen:
            continue
        absent = [run for run in (a, b) if run is None or not _committed(run, folder)]
        if absent:
            missing.append(f"{question} ({', '.join(r or 'no committed candidate' for r in absent)})")
            continue
        seen.add((a, b))
        pa, pb = (pd.read_csv(folder / run / "test_predictions.csv") for run in (a, b))
        if not pa["path"].equals(pb["path"]):
            raise ValueError(f"{a} and {b} were scored on different test paintings")
        for task in labels.TASKS:
            known = (pa[task] >= 0).to_numpy()
            d = metrics.paired_difference((pa[f"{task}_pred"] == pa[task]).to_numpy()[known],
                                          (pb[f"{task}_pred"] == pb[task]).to_numpy()[known], n_boot=n_boot)
            rows.append({"question": question, "a": a, "b": b, "task": task, "difference": d["difference"],
                         "lo": d["ci"][0], "hi": d["ci"][1], "n": d["n"]})
    table = pd.DataFrame(rows, columns=["question", "a", "b", "task", "difference", "lo", "hi", "n"])
    table["verdict"] = table.apply(results.verdict, axis=1) if len(table) else []
    return table, missing


def short_name(run: str) -> str:
    """efficientnet_lite0_lstm_shuffled_frozen -> lstm_shuffled: the part that differs between these runs."""
    name = run.removeprefix("efficientnet_lite0_")
    return name.removesuffix("_frozen") if name.endswith("_frozen") else name


def paired_wide(table: pd.DataFrame) -> pd.DataFrame:
    """One row per pair ("a − b" in short names, after its question when the table has one), per task the
    top-1 difference [paired 95% CI]; the labelled paintings n of each task in its column's name."""
    if table.empty:
        return pd.DataFrame()
    asked = "question" in table
    wide = {}
    for task, part in table.groupby("task", sort=False):
        cells = {}
        for row in part.itertuples():
            pair = f"{short_name(row.a)} − {short_name(row.b)}"
            cells[(row.question, pair) if asked else pair] = f"{row.difference:+.3f} [{row.lo:+.3f}, {row.hi:+.3f}]"
        wide[f"{task} (n = {part['n'].iloc[0]:,})"] = cells
    frame = pd.DataFrame(wide)
    frame.index.names = ["question", "a − b"] if asked else ["a − b"]
    return frame


def real_reader_runs(runs, folder: str | Path = results.RESULTS) -> pd.DataFrame:
    """The committed runs among `runs`: how each reads its tokens and what trained (run.json), its best
    validation mean macro-F1 and epochs (history.csv), where and when it ran. A run not committed is left out."""
    folder = Path(folder)
    rows = {}
    for run in runs:
        if not (folder / run / "metrics.json").is_file():
            continue
        info = json.loads((folder / run / "run.json").read_text("utf-8"))
        history = pd.read_csv(folder / run / "history.csv")
        rows[run] = {"reader": info.get("reader", "—"), "trains": info.get("trainable", "—"),
                     "val mean macro-F1": round(float(history["val_mean_f1"].max()), 3),
                     "epochs": len(history), "machine": f"{info.get('machine')}, {info.get('cores')} cores, "
                                                      f"gpu: {info.get('gpu')}", "date": str(info.get("date"))[:10]}
    return pd.DataFrame.from_dict(rows, orient="index")


def paired_chart(table: pd.DataFrame, title: str = "", path: str | Path | None = None) -> Figure:
    """Each pair's top-1 difference with its paired 95% interval, one panel per task on one shared scale; the line at 0 is "no
    difference". Green: a better, red: b better, grey: the interval includes 0."""
    pairs = list(dict.fromkeys(zip(table["a"], table["b"])))
    tasks = list(dict.fromkeys(table["task"]))
    fig = Figure(figsize=(12, 1.2 + 0.45 * len(pairs)), layout="constrained")
    axes = fig.subplots(1, len(tasks), sharex=True, sharey=True, squeeze=False)[0]
    for ax, task in zip(axes, tasks):
        part = table[table["task"] == task].set_index(["a", "b"]).reindex(pairs)
        for y, row in enumerate(part.itertuples()):
            colour = plots.GOOD if row.lo > 0 else plots.BAD if row.hi < 0 else "grey"
            ax.errorbar(row.difference, y, xerr=[[row.difference - row.lo], [row.hi - row.difference]], fmt="o",
                        color=colour, capsize=3)
        ax.axvline(0, color="black", lw=1)
        ax.set_title(f"{task} (n = {int(part['n'].iloc[0]):,})")
        ax.set_xlabel("top-1 difference, a − b")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))        # tick labels that never run into each other
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(pairs)), [f"{short_name(a)} − {short_name(b)}" for a, b in pairs])
    axes[0].invert_yaxis()
    if title:
        fig.suptitle(title)
    plots.make_legible(fig)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig
