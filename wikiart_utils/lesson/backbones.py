"""What notebooks 05 (VGG-16) and 06 (ViT-B/16) share: a backbone set beside the course's pretrained one.

Both notebooks ask one question of two backbones whose ImageNet weights are a download (torchvision's), which
the CPU profile never makes: what does the course's LSTM reader get from this backbone's tokens, frozen at
random initialisation -- the *control*: random features, same reader, same paintings -- and what from
EfficientNet-Lite0's ImageNet tokens, whose weights install with the course? `control_vs_pretrained` trains
the two runs with one set of settings, scores both on the same validation paintings with 95% intervals and
a paired difference, and sets them beside the majority baseline and the course model's committed scores.
Written once, the two notebooks cannot drift apart in how they run or report it, and each keeps its cells
for what is particular about its backbone. `backbone_cost` (parameters, multiply-accumulates per image) and
`token_similarity` (how alike a backbone's tokens are) measure two backbones side by side.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from torch.utils.flop_counter import FlopCounterMode

from .. import checkpoint, data, evaluate, labels, metrics, models, plots, provenance, train
from ..config import BY_REGIME
from .comparison import paired_against
from .training import HeadOnly, run_settings, run_tokens, show

__all__ = ["REFERENCE", "BACKBONES", "Comparison", "train_and_score", "score_on_tokens", "control_vs_pretrained",
           "side_by_side", "comparison_figure", "backbone_cost", "token_similarity", "receptive_field_figure"]

REFERENCE = "efficientnet_lite0_lstm"  # the same LSTM reader on the ImageNet tokens that install with the course
BACKBONES = {"vgg16_lstm": "VGG-16", "vit_b16_lstm": "ViT-B/16", "efficientnet_lite0_lstm": "EfficientNet-Lite0",
             "resnet18_lstm_patch": "ResNet-18"}
COURSE_METRICS = checkpoint.COURSE_MODEL.parent / "metrics.json"


@dataclass
class Comparison:
    """The two runs of `control_vs_pretrained`, by label: their `train.TrainResult`, their validation scores
    (`evaluate`'s metrics with 95% intervals), the table and figure shown, and the paired differences."""
    runs: dict[str, train.TrainResult]
    scores: dict[str, dict]
    table: pd.DataFrame
    paired: pd.DataFrame
    figure: Figure = field(repr=False)


def run_label(variant: str, settings: dict) -> str:
    """'VGG-16, random init, frozen (control)', 'EfficientNet-Lite0, ImageNet, frozen', '..., fine-tuned'."""
    config = run_settings(variant, settings)
    frozen = config.freeze_epochs >= config.epochs
    weights = "ImageNet" if config.pretrained else "random init"
    role = " (control)" if frozen and not config.pretrained else ""
    return f"{BACKBONES.get(variant, variant)}, {weights}, {'frozen' if frozen else 'fine-tuned'}{role}"


def train_and_score(root: str | Path, variant: str, settings: dict, out: str | Path,
                    features_dir: str | Path | None = None) -> tuple[train.TrainResult, dict, evaluate.Predictions]:
    """`train.train` into `out` (seed 0; with `features_dir` its token caches are shared there with every run
    over the same backbone and paintings), then its best epoch scored on the validation split from the
    split's tokens (`score_on_tokens`). Returns (run, scores, predictions)."""
    result = train.train(root, variant, out=out, overwrite=True, seed=0, features_dir=features_dir,
                         **{"progress": False, **settings})
    print(f"best epoch {result.best_epoch} of {result.epochs_done}: val mean macro-F1 {result.best_score:.3f}")
    return (result, *score_on_tokens(result, root, features_dir))


@torch.no_grad()
def score_on_tokens(result: train.TrainResult, root: str | Path, features_dir: str | Path | None = None,
                    split: str = "val") -> tuple[dict, evaluate.Predictions]:
    """(metrics, predictions) of a run's best epoch on `split`, as `evaluate.evaluate_checkpoint` computes them
    (top-1 and macro-F1 with 95% bootstrap intervals, majority baseline, chance), from the split's backbone
    tokens (`run_tokens`): a frozen backbone's cached tokens are not computed a second time."""
    loaded = checkpoint.load(result.best_path)
    cache = run_tokens(result, root, split, features_dir, loaded)
    head = HeadOnly(loaded[0]).eval()
    logits = [head(tokens) for tokens, _ in cache.loader(64)]
    probs = {t: torch.cat([F.softmax(b[t].float(), dim=1) for b in logits]).numpy() for t in labels.TASKS}
    targets = cache.targets.numpy()
    meta = data.WikiArtDataset(root, split, loaded[1]["model_config"]["image_size"]).meta
    pred = evaluate.Predictions(rows=cache.rows, targets=targets, probs=probs,
                                meta=meta.iloc[cache.rows].reset_index(drop=True))
    scores = metrics.task_scores({t: pred.y(t) for t in labels.TASKS}, probs, evaluate.train_counts(root))
    return metrics.to_jsonable(scores), pred


def control_vs_pretrained(root: str | Path, variant: str, settings: dict, checkpoints: str | Path,
                          figures: str | Path, figure_name: str, features_dir: str | Path | None = None,
                          reference: str = REFERENCE) -> Comparison:
    """`variant` (on the CPU profile: its backbone frozen at random initialisation, the control) and the same
    LSTM reader on `reference`'s ImageNet weights, trained with the same settings -- the control's learning
    rate, warm-up and task weights given to both, the same paintings, image size and epochs -- each scored on
    the validation split; shown as one figure (saved to figures/figure_name) and returned with the table
    beside the majority baseline and the course model's committed test scores (`side_by_side`).

    Why one helper: notebooks 05 and 06 make this comparison for VGG-16 and ViT-B/16; written once, the two runs
    of a notebook cannot differ in a setting by accident, and each notebook keeps to its own backbone.
    `features_dir` (default checkpoints/features) holds the token caches, shared by every run over the same
    backbone and paintings: an exercise training another reader on these tokens extracts nothing again."""
    features_dir = Path(checkpoints) / "features" if features_dir is None else features_dir
    shared = {k: getattr(run_settings(variant, settings), k) for k in BY_REGIME}
    both = {**settings, **shared}
    print("both runs:", {k: both[k] for k in ("image_size", "epochs", "batch_size", *BY_REGIME) if k in both},
          f"train_limit {both.get('train_limit')}")
    pairs = {run_label(variant, both): (variant, both, Path(checkpoints) / variant),
             run_label(reference, {**both, "pretrained": True}): (
                 reference, {**both, "pretrained": True}, Path(checkpoints) / f"{reference}_beside_{variant}")}
    runs, scores, preds = {}, {}, {}
    for label, (name, options, out) in pairs.items():
        print(f"--- {label}")
        runs[label], scores[label], preds[label] = train_and_score(root, name, options, out, features_dir)
    control = next(iter(pairs))
    figure = comparison_figure(runs, scores, Path(figures) / figure_name)
    show(figure)
    data_name = "sample" if Path(root).resolve() == data.REAL_SAMPLE.resolve() else Path(root).name
    return Comparison(runs, scores, side_by_side(scores, f"{data_name}, validation split"),
                      paired_against(preds, control), figure)


def _cell(m: dict, key: str = "top1") -> str:
    return f"{m[key]:.3f} [{m[f'{key}_ci'][0]:.3f}, {m[f'{key}_ci'][1]:.3f}]" if m.get("n") else "—"


def side_by_side(scores: dict[str, dict], where: str = "sample, validation split",
                 course: str | Path = COURSE_METRICS) -> pd.DataFrame:
    """Runs scored on a validation split (`where` says which data) beside the course model's committed scores
    on the test split of the 32,245-painting subset (another dataset, another split: each block has its own n
    and its own majority baseline). Per task top-1 [95% interval]; mean macro-F1 over the three tasks."""
    shipped = json.loads(Path(course).read_text("utf-8"))
    blocks = [(where, scores), ("subset, test split", {
        f"course model: {Path(shipped['meta']['checkpoint']).parent.name}": shipped})]
    rows = {}
    for where, block in blocks:
        first = next(iter(block.values()))
        rows[f"n ({where})"] = {"scored on": where, **{t: f"{first[t]['n']:,}" for t in labels.TASKS}}
        rows[f"majority baseline ({where})"] = {
            "scored on": where, **{t: f"{first[t]['majority_baseline']:.3f}" for t in labels.TASKS}}
        for label, m in block.items():
            rows[label] = {"scored on": where, **{t: _cell(m[t]) for t in labels.TASKS},
                           "mean macro-F1": f"{np.mean([m[t]['macro_f1'] for t in labels.TASKS]):.3f}"}
    table = pd.DataFrame.from_dict(rows, orient="index").fillna("—")
    return table.rename(columns={t: f"{t} top-1 [95% CI]" for t in labels.TASKS})


def comparison_figure(runs: dict[str, train.TrainResult], scores: dict[str, dict],
                      path: str | Path | None = None) -> Figure:
    """Left: each run's validation mean macro-F1 per epoch (its best epoch ringed). Right: validation top-1
    per task with 95% intervals, the majority baseline (dashed) and chance (dotted) (`plots.comparison_chart`)."""
    fig = Figure(figsize=(13, 5.2), layout="constrained")
    curves, bars = fig.subplots(1, 2, width_ratios=[1, 1.4])
    for i, (label, run) in enumerate(runs.items()):
        epochs = [row["epoch"] for row in run.history]
        curves.plot(epochs, [row["val_mean_f1"] for row in run.history], "o-", color=f"C{i}", label=label)
        curves.plot([run.best_epoch], [run.best_score], "o", ms=13, mfc="none", color=f"C{i}")
    curves.set(title="validation mean macro-F1 per epoch\n(ringed: the epoch kept)", xlabel="epoch",
               ylim=(0, max(0.1, 1.15 * max(r.best_score for r in runs.values()))))
    curves.xaxis.set_major_locator(MaxNLocator(integer=True))
    curves.grid(alpha=0.3)
    curves.legend(loc="lower right")
    plots.comparison_chart(evaluate.compare(scores), title="validation top-1, best epoch (95% intervals)", ax=bars)
    plots.make_legible(fig)
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=plots.DPI, bbox_inches="tight")
    return fig


def backbone_cost(variants: dict[str, str], sizes=(128, 224)) -> pd.DataFrame:
    """Per backbone (name -> variant) and image size: its parameters, the tokens it gives the LSTM (T x D) and
    its multiply-accumulates per image (one MAC = one multiply and one add; FLOPs = 2 x MACs), counted by
    `torch.utils.flop_counter.FlopCounterMode` while one blank image runs through it (random weights: the
    count does not depend on them). The counter sees convolutions and matrix products; PyTorch's fused
    attention kernel it does not see, so a ViT's attention products (T x T) are not in the count."""
    rows = []
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)  # the fused encoder path would hide the q, k, v projections
    try:
        for name, variant in variants.items():
            for size in sizes:
                net = models.build_model(variant, pretrained=False, image_size=size).eval()
                with torch.no_grad(), FlopCounterMode(display=False) as counter:
                    tokens = net.backbone(torch.zeros(1, 3, size, size))
                rows.append({"backbone": name, "image px": size,
                             "parameters (M)": round(sum(p.numel() for p in net.backbone.parameters()) / 1e6, 1),
                             "tokens (T x D)": f"{tokens.shape[1]} x {tokens.shape[2]}",
                             "GMACs per image": round(counter.get_total_flops() / 2e9, 3)})
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return pd.DataFrame(rows).set_index(["backbone", "image px"])


def token_similarity(tokens: dict[str, torch.Tensor]) -> pd.DataFrame:
    """Per name, tokens [N, T, D] of N paintings: how alike they are, as mean cosine similarities -- between two
    tokens of the same painting, and between the average tokens of two different paintings. Near 1 between
    paintings, the backbone sees every painting alike, and what tells them apart is a small part of each
    token. (Tokens after a ReLU are never negative, which alone keeps their cosines above 0.)"""
    rows = {}
    for name, x in tokens.items():
        unit = F.normalize(x.float(), dim=-1)
        within = unit @ unit.transpose(1, 2)
        pairs = ~torch.eye(x.shape[1], dtype=torch.bool)
        mean = F.normalize(x.float().mean(dim=1), dim=-1)
        across = (mean @ mean.T)[~torch.eye(len(x), dtype=torch.bool)]
        rows[name] = {"paintings": len(x), "tokens (T x D)": f"{x.shape[1]} x {x.shape[2]}",
                      "same painting: token vs token": round(float(within[:, pairs].mean()), 2),
                      "different paintings: average token": round(float(across.mean()), 2)}
    return pd.DataFrame.from_dict(rows, orient="index")


def receptive_field_figure(image: torch.Tensor, grid: int, field: int, tokens=(1, 6),
                           paintings: pd.DataFrame | None = None, path: str | Path | None = None) -> Figure:
    """One panel per token in `tokens` (numbered in reading order, from 1): the painting (uint8 [3, S, S]) cut
    into the grid x grid cells whose tokens the LSTM reads, the token's own cell (filled) and its receptive
    field (dashed): the field x field square of input pixels that can reach it, centred on the cell. What
    falls outside the painting is the zero padding of the convolutions (grey). `paintings`: the painting's
    metadata row, as for `plots.image_grid` (its provenance is written beside the figure)."""
    if paintings is not None:
        sources = provenance.record(paintings)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            sources.to_csv(provenance.record_path(path), index=False)
    array = image.permute(1, 2, 0).numpy()
    side = array.shape[0]
    cell, margin = side / grid, max(0.0, (field - side / grid) / 2) + 4
    fig = Figure(figsize=(4.6 * len(tokens), 5.0), layout="constrained")
    for ax, token in zip(fig.subplots(1, len(tokens), squeeze=False).ravel(), tokens):
        row, col = divmod(token - 1, grid)
        ax.set_facecolor("0.85")
        ax.imshow(array, extent=(0, side, side, 0))
        lines = np.arange(1, grid) * cell
        ax.hlines(lines, 0, side, color="white", lw=0.6, alpha=0.7)
        ax.vlines(lines, 0, side, color="white", lw=0.6, alpha=0.7)
        ax.add_patch(Rectangle((col * cell, row * cell), cell, cell, color="yellow", alpha=0.55))
        centre = ((col + 0.5) * cell, (row + 0.5) * cell)
        ax.add_patch(Rectangle((centre[0] - field / 2, centre[1] - field / 2), field, field, fill=False,
                               ec="red", lw=2, ls="--"))
        ax.set(xlim=(-margin, side + margin), ylim=(side + margin, -margin), xticks=[], yticks=[])
        ax.set_title(f"token {token}: its {cell:.0f}-px cell (yellow)\nand {field}-px receptive field (red)")
    plots.make_legible(fig)
    if path is not None:
        fig.savefig(path, dpi=plots.DPI, bbox_inches="tight")
    return fig
