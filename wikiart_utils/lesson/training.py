"""What the training notebooks 03-06 share, written once so that each notebook shows only its model.

Every training notebook walks the same path: the shapes through the model, a run of `train.train`, its
learning curves beside the majority baseline, the validation table, and -- where the course has them --
the committed results on real paintings. Repeated in four notebooks, that scaffolding drifted apart (one
notebook fixed, three not); here a fix reaches all four, and a notebook's cells keep to what is
particular about its model. Nothing here is new machinery: these are short compositions of `models`,
`train`, `evaluate`, `metrics` and `results`, kept readable so a learner can open them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from .. import checkpoint, data, engine, evaluate, labels, losses, metrics, models, runtime, train
from ..speed import features
from ..speed.features import HeadOnly  # noqa: F401  (tokens -> logits: what a loop on cached tokens steps)
from .. import plots  # noqa: F401  (importing it makes every Figure display as a PNG in a notebook)
from ..config import REGIMES, TrainConfig, split_settings

__all__ = ["show", "show_shapes", "sample_batch", "HeadOnly", "profile_settings", "run_settings", "majority_baselines",
           "curves_figure", "train_and_report", "labelled_counts", "budget_table", "run_tokens", "fit_on_cache"]


def show(obj) -> None:
    """display() in a notebook (a Figure as a PNG: `plots.show_in_notebooks`), print() elsewhere.

    A helper that draws a figure and also returns values cannot rely on being the last line of a cell."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: nothing can show a figure
        get_ipython = None  # noqa: N806
    if get_ipython is not None and get_ipython() is not None:
        display(obj)
    elif not isinstance(obj, Figure):
        print(obj)


def show_shapes(variant: str, sizes=(64, 224), build_size: int = 224) -> models.MultitaskNet:
    """Print images -> tokens -> logits shapes at each size, and where the parameters are.

    Shapes are the quickest check that a model does what its prose says (how many tokens the LSTM reads,
    how long each is); a batch of zeros is enough, no data or training needed. Returns the model."""
    model = models.build_model(variant, pretrained=False, image_size=build_size).eval()
    for size in sizes:
        x = torch.zeros(2, 3, size, size)
        with torch.no_grad():
            tokens = model.tokens(x)
            logits = model.head(tokens)
        print(f"{size} px: images {tuple(x.shape)} -> tokens {tuple(tokens.shape)} -> "
              + ", ".join(f"{t} {tuple(v.shape)}" for t, v in logits.items()))
    head = "heads" if variant.endswith("_gap") else "LSTM + heads"
    print(f"parameters: backbone {sum(p.numel() for p in model.backbone.parameters()):,}, "
          f"{head} {sum(p.numel() for p in model.head_parameters()):,}")
    return model


def sample_batch(root: str | Path, image_size: int, n: int = 16, split: str = "train", with_rows: bool = False):
    """A real, fixed batch (images uint8 [n, 3, S, S], targets [n, 3]): n paintings evenly spaced through
    the split, without augmentation, so a notebook printing its labels or loss prints the same every run.
    `with_rows`: also their metadata rows (what `plots.image_grid(paintings=)` needs to show them)."""
    dataset = data.WikiArtDataset(root, split, image_size, train=False)
    rows = np.linspace(0, len(dataset) - 1, n).round().astype(int)
    images, targets = zip(*(dataset[int(i)][:2] for i in rows))
    batch = torch.stack(images), torch.stack(targets)
    return (*batch, dataset.meta.iloc[rows].reset_index(drop=True)) if with_rows else batch


def profile_settings(variant: str, settings: dict, caps: dict | None = None) -> dict:
    """A profile's settings for `variant` on this machine: `caps` (a quick check) put over them, then
    "auto" workers and batch size made numbers by `runtime.fit_to_machine`, which prints what it chose."""
    fitted, chosen = runtime.fit_to_machine(variant, {**settings, **(caps or {})})
    if chosen:
        print(chosen)
    return fitted


def run_settings(variant: str, settings: dict) -> TrainConfig:
    """The configuration `train.train(root, variant, **settings)` runs, regime values filled in (print it
    to see every setting): the learning rate and task weights a regime picks are otherwise invisible in the
    notebook. Session options in `settings` (workers, ...) are not part of it and are left out."""
    run, _ = split_settings({**settings, "variant": variant})
    return TrainConfig(**run).resolved()


def majority_baselines(root: str | Path) -> dict[str, float]:
    """Per task, the validation accuracy of always answering the most frequent *training* class, over the
    labelled validation rows: the line a curve must clear (the rule `evaluate` and `train`'s curves use)."""
    splits = {split: data.WikiArtDataset(root, split, 64, train=False).targets for split in ("train", "val")}
    return metrics.majority_baselines(splits["train"], splits["val"])


def curves_figure(history: list[dict], root: str | Path, task_weights: dict | None,
                  path: str | Path | None = None):
    """`train.plot_curves` with the majority baselines drawn in, its text raised to what stays legible at
    notebook width (`plots.make_legible`: the four panels are 15 inches wide), saved to `path` when given."""
    fig = plots.make_legible(train.plot_curves(history, majority_baselines(root), task_weights))
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
    return fig


def train_and_report(root: str | Path, variant: str, settings: dict, checkpoints: str | Path,
                     figures: str | Path, figure_name: str) -> tuple[train.TrainResult, pd.DataFrame]:
    """Train `variant` into checkpoints/<variant>, show and save its curves, and score its best epoch on the
    validation split. Returns (the run, its validation table: n, top-1, macro-F1 with 95% intervals,
    majority baseline and chance per task) -- the four steps every training notebook takes."""
    result = train.train(root, variant, out=Path(checkpoints) / variant, overwrite=True, seed=0, **settings)
    print(f"best epoch {result.best_epoch} of {result.epochs_done}: val mean macro-F1 {result.best_score:.3f}")
    weights = run_settings(variant, settings).task_weights or dict.fromkeys(labels.TASKS, 1.0)  # None: 1 each
    show(curves_figure(result.history, root, weights, Path(figures) / figure_name))
    scores, _ = evaluate.evaluate_checkpoint(root, result.best_path, split="val", workers=0)
    return result, evaluate.summary_table(scores)


def labelled_counts(table: pd.DataFrame) -> dict[str, int]:
    """n per task from a validation table: the labelled rows each score is computed over (these counts
    do not depend on the machine, unlike the scores, so nbval checks them)."""
    return {task: int(n) for task, n in table["n"].items()}


def budget_table(root: str | Path, budgets: dict[str, dict]) -> pd.DataFrame:
    """run -> image size, training paintings, epochs and optimizer steps: runs trained on different
    budgets cannot be compared score for score, so a notebook that cuts one run's budget shows it."""
    rows = {}
    for run, options in budgets.items():
        n = len(data.WikiArtDataset(root, "train", options["image_size"], limit=options.get("train_limit")))
        batch = options.get("batch_size", TrainConfig.batch_size)
        rows[run] = {"image_size": options["image_size"], "train_paintings": n, "epochs": options["epochs"],
                     "steps": options["epochs"] * (n // batch if n > batch else 1)}
    return pd.DataFrame.from_dict(rows, orient="index")


def run_tokens(result: train.TrainResult, root: str | Path, split: str, features_dir: str | Path | None = None,
               loaded: tuple | None = None) -> features.CachedFeatureDataset:
    """The backbone tokens of a run's `split`: the cache a frozen-backbone run trained on, in
    run_dir/features/<split>, or -- for a run given `features_dir` (`train.train(..., features_dir=)`) -- in
    that shared folder under the fingerprint of its backbone and paintings; for a run whose backbone was
    fine-tuned (the `full` profile), the tokens of its best model, extracted once now (of the training
    paintings the run had: its `train_limit`). `loaded`: `checkpoint.load(result.best_path)`, when the
    caller holds it already (loading it again would load its weights again)."""
    path = Path(result.out) / "features" / split
    if features_dir is None and (path / "meta.json").is_file():
        return features.CachedFeatureDataset(path)
    model, ckpt = loaded or checkpoint.load(result.best_path)
    limit = TrainConfig.from_saved(ckpt["train_args"]).train_limit if split == "train" else None
    dataset = data.WikiArtDataset(root, split, ckpt["model_config"]["image_size"], train=False, limit=limit)
    if features_dir is not None:
        path = features.shared_cache_path(features_dir, model, dataset, split)
    return features.cached_split(model, dataset, path, runtime.pick_device(), progress=False)


def fit_on_cache(net: torch.nn.Module, result: train.TrainResult, root: str | Path, epochs: int = 1,
                 lr: float = REGIMES["scratch_heads"]["lr"], seed: int = 0,
                 features_dir: str | Path | None = None) -> dict[str, float]:
    """Train `net` (tokens -> {task: logits}) for a few epochs on the backbone tokens of a run
    (`run_tokens`; `features_dir` where the run shared its caches), and return its validation scores
    (`engine.validate`).

    A frozen backbone's tokens do not change, so any head -- the LSTM, a plain average, a linear probe --
    can be tried on them in seconds, with the same loss and metrics as `train.train`. Equal task weights,
    the default when only a head learns (`config.REGIMES['scratch_heads']`)."""
    torch.manual_seed(seed)
    caches = {split: run_tokens(result, root, split, features_dir) for split in ("train", "val")}
    criterion = losses.build_criterion(caches["train"].targets)
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=TrainConfig.weight_decay)
    batches, cpu = caches["train"].loader(32, shuffle=True, seed=seed), torch.device("cpu")
    for epoch in range(epochs):
        batches.set_epoch(epoch)
        engine.train_one_epoch(net, criterion, optimizer, batches, cpu)
    return engine.validate(net, caches["val"].loader(64), cpu)
