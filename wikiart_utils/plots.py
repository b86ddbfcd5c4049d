"""Figures of the course: label long tails, confusion matrices, per-class F1, image galleries, comparisons.

Every function builds a `matplotlib.figure.Figure` directly (no pyplot state), so it works under any
backend -- Agg in CI and scripts, inline in Jupyter -- and never leaks open figures. Each returns the
Figure (a notebook cell ending in the call displays it; otherwise use ``display(fig)``) and, when
``path`` is given, saves it with ``savefig(path, dpi=120, bbox_inches="tight")``. Functions drawing a
single panel also accept ``ax=`` to draw into an existing grid of axes.
"""
from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter

from . import provenance

DPI = 120
MAX_TICK_LABELS = 40  # more class names than this on one axis become unreadable
GOOD, BAD = "#1a7f37", "#cf222e"  # caption colours for right / wrong predictions


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _finish(fig: Figure, path: str | Path | None) -> Figure:
    """Save the figure when a path is given (parent folders created) and hand it back."""
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return fig


def figure_text(fig: Figure) -> str:
    """A figure's plain-text form in a notebook: what it shows (its titles), not `<Figure size ...>`.

    Text-only views of a notebook (a terminal, a diff, nbval's comparison) read this line; Jupyter shows
    the PNG beside it."""
    titles = [fig._suptitle.get_text()] if getattr(fig, "_suptitle", None) else []
    titles += [ax.get_title() for ax in fig.axes if ax.get_title()][:3]
    return "[figure] " + (" | ".join(t.replace("\n", " ") for t in titles) or f"{len(fig.axes)} panel(s)")


def shows_pictures(fig: Figure) -> bool:
    """Whether a figure holds raster pictures (paintings, Grad-CAM overlays) rather than only a chart."""
    return any(ax.images for ax in fig.axes)


INLINE_JPEG_QUALITY = 85  # paintings as PNG cost ~1 MB a gallery in the committed notebooks; JPEG ~5x less


def show_in_notebooks() -> None:
    """In IPython, display every Figure inline with `figure_text` as its text: charts as PNG (sharp lines
    and text), figures of paintings as JPEG (a photograph compresses ~5x better so). The package's
    figures are built without pyplot, and without this they would show as `<Figure size ...>` text."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from IPython.core.pylabtools import print_figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401  (registers the png canvas)

    formatters = shell.display_formatter.formatters
    formatters["image/png"].for_type(
        Figure, lambda fig: None if shows_pictures(fig) else print_figure(fig, "png", bbox_inches="tight"))
    formatters["image/jpeg"].for_type(
        Figure, lambda fig: print_figure(fig, "jpeg", bbox_inches="tight",
                                         pil_kwargs={"quality": INLINE_JPEG_QUALITY}) if shows_pictures(fig) else None)
    formatters["text/plain"].for_type(Figure, lambda fig, printer, cycle: printer.text(figure_text(fig)))


def _plain_log_labels(axis) -> None:
    """Log-axis ticks as plain numbers ("600", not "6 x 10^2"), minor labels thinned by matplotlib."""
    axis.set_major_formatter(LogFormatter())
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1.5, 0.6)))
    axis.set_tick_params(which="both", labelsize=8)


def _tick_step(n: int) -> int:
    """Label every k-th tick so that at most MAX_TICK_LABELS names appear on an axis."""
    return max(1, math.ceil(n / MAX_TICK_LABELS))


# ----------------------------------------------------------------------------------------------------------
# label distributions


def long_tail(counts: pd.Series, title: str = "", log: bool = False, path: str | Path | None = None,
              ax: Axes | None = None, color: str = "#4c72b0") -> Figure:
    """Class frequencies sorted descending: how imbalanced a task is (max/min ratio in the title)."""
    counts = pd.Series(counts).sort_values(ascending=False)
    n = len(counts)
    fig, ax = _new_axes(ax, (min(4 + 0.12 * n, 12), 4))
    x = np.arange(1, n + 1)  # rank 1 = most frequent
    ax.bar(x, counts.to_numpy(), width=0.85 if n <= 60 else 1.0, color=color)
    if log:
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis)
    if n <= MAX_TICK_LABELS:
        ax.set_xticks(x, [str(name) for name in counts.index], rotation=70, ha="right", fontsize=8)
        ax.set_xlabel("class")
    else:
        ax.set_xlabel(f"class rank (1 = most frequent, {n} classes)")
    ax.set_xlim(0.4, n + 0.6)
    ax.set_ylabel("images" + (" (log scale)" if log else ""))
    positive = counts[counts > 0]
    ratio = f"  (max/min = {positive.iloc[0] / positive.iloc[-1]:.0f}x)" if len(positive) else ""
    ax.set_title(f"{title}{ratio}")
    ax.grid(axis="y", alpha=0.3)
    return _finish(fig, path)


def cooccurrence_heatmap(table: pd.DataFrame, row: str, col: str, normalize: str | None = None,
                         title: str | None = None, path: str | Path | None = None,
                         ax: Axes | None = None) -> Figure:
    """Counts of `row` x `col` label pairs (e.g. style x genre), both sorted by frequency.

    Missing labels (NaN, "" or -1) are dropped. normalize="row" shows each row's shares (what genres a
    style paints), "col" each column's; None shows raw counts.
    """
    pairs = table[[row, col]].dropna()
    for name in (row, col):
        pairs = pairs[~pairs[name].isin(["", -1])]
    counts = pd.crosstab(pairs[row], pairs[col])
    counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index,
                        counts.sum(axis=0).sort_values(ascending=False).index]
    values, fmt = counts, "d"
    if normalize == "row":
        values, fmt = counts.div(counts.sum(axis=1).replace(0, 1), axis=0), ".2f"
    elif normalize == "col":
        values, fmt = counts.div(counts.sum(axis=0).replace(0, 1), axis=1), ".2f"
    elif normalize is not None:
        raise ValueError(f"normalize must be 'row', 'col' or None, not {normalize!r}")
    n_rows, n_cols = values.shape
    fig, ax = _new_axes(ax, (min(3 + 0.7 * n_cols, 18), min(2 + 0.32 * n_rows, 20)))
    annotate = n_rows * n_cols <= 400
    sns.heatmap(values, ax=ax, cmap="viridis", annot=annotate, fmt=fmt, annot_kws={"fontsize": 6},
                cbar_kws={"label": "share" if normalize else "images"}, linewidths=0.2 if annotate else 0)
    ax.set_xlabel(col)
    ax.set_ylabel(row)
    ax.tick_params(labelsize=7)
    suffix = {"row": " (share of each row)", "col": " (share of each column)"}.get(normalize or "", "")
    ax.set_title(title if title is not None else f"{row} x {col}{suffix}")
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------------------------
# confusion


def _reorder_confusion(cm: np.ndarray, names: Sequence[str], counts: np.ndarray | None, top_n: int | None,
                       present_only: bool = True) -> tuple[np.ndarray, list[str], bool, int]:
    """Row-normalise, sort classes by frequency, drop classes without a true row (a count matrix only),
    keep top_n, and add an "(other)" column when any class is left out.

    Returns (matrix, row names, cut, classes present). With counts in `cm`, a row name carries its n:
    a share of 1.00 over n = 2 paintings reads differently from one over n = 200."""
    cm = np.asarray(cm, dtype=np.float64)
    support = cm.sum(axis=1)
    is_counts = bool((support > 1 + 1e-6).any())
    norm = np.divide(cm, support[:, None], out=np.zeros_like(cm), where=support[:, None] > 0) if is_counts else cm
    key = counts if counts is not None else (support if is_counts else None)
    order = np.arange(len(names)) if key is None else np.argsort(-np.asarray(key), kind="stable")
    if present_only and is_counts:
        order = order[support[order] > 0]
    keep = order if top_n is None else order[:top_n]
    shown = [f"{names[i]} (n={support[i]:.0f})" if is_counts else names[i] for i in keep]
    sub = norm[np.ix_(keep, keep)]
    if len(keep) == len(names):
        return sub, shown, False, len(order)
    other = np.clip(norm[keep].sum(axis=1) - sub.sum(axis=1), 0.0, None)
    return np.column_stack([sub, other]), shown, True, len(order)


def confusion_matrix_plot(cm: np.ndarray, names: Sequence[str], title: str = "", top_n: int | None = None,
                          counts: np.ndarray | None = None, path: str | Path | None = None,
                          ax: Axes | None = None, present_only: bool = True) -> Figure:
    """Row-normalised confusion heatmap (row = true class, each row's share of predictions).

    `cm` may hold counts: then rows are normalised here, classes sorted by their number of true rows
    (the test count), each row labelled with its n, and -- `present_only` -- classes with no true row
    dropped, so a split holding 8 of 27 styles shows 8 rows, not 19 empty ones. `cm` may also be
    row-normalised already (pass `counts`, e.g. training counts, to sort by frequency). With top_n only
    the top_n most frequent classes are shown. Whenever classes are left out, a last column "(other)"
    holds the share predicted as any of them. More than MAX_TICK_LABELS classes are labelled every k-th.
    """
    names = list(names)
    values, shown, cut, present = _reorder_confusion(cm, names, counts, top_n, present_only)
    n = len(shown)
    col_names = [s.rsplit(" (n=", 1)[0] for s in shown] + (["(other)"] if cut else [])
    side = min(3 + 0.28 * n, 14)
    fig, ax = _new_axes(ax, (side + 1.5, side))
    annotate = n <= 12
    sns.heatmap(values, ax=ax, cmap="Blues", vmin=0.0, vmax=1.0, square=n <= 60, annot=annotate, fmt=".2f",
                annot_kws={"fontsize": 7}, cbar_kws={"label": "share of true class", "shrink": 0.7},
                xticklabels=False, yticklabels=False)
    step = _tick_step(n)
    fontsize = 8 if n <= 30 else 6
    ticks = np.arange(0, n, step)
    ax.set_yticks(ticks + 0.5, [shown[i] for i in ticks], fontsize=fontsize, rotation=0)
    xticks = list(ticks) + ([n] if cut else [])
    ax.set_xticks(np.array(xticks) + 0.5, [col_names[i] for i in xticks], fontsize=fontsize,
                  rotation=90 if n > 12 else 45, ha="center" if n > 12 else "right")
    ax.set_xlabel("predicted" + (" ((other) = any class not shown)" if cut else ""))
    ax.set_ylabel("true" + (f" (every {step}th class named)" if step > 1 else ""))
    detail = ""
    if cut and top_n is not None and n < present:
        detail = f" - top {n} of {present} classes by {'test count' if counts is None else 'count'}"
    elif cut:
        detail = f" - the {n} of {len(names)} classes present"
    ax.set_title(f"{title}{detail}")
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------------------------
# per-class quality


def _f1_vs_count_panel(ax: Axes, report: pd.DataFrame, title: str, n_named: int) -> None:
    count_col = "train_count" if "train_count" in report else "support"
    data = report[report[count_col] > 0]
    ax.scatter(data[count_col], data["f1"], s=18, alpha=0.75, color="#4c72b0", edgecolor="none")
    ax.set_xscale("log")
    _plain_log_labels(ax.xaxis)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"{count_col.replace('_', ' ')} (log scale)")
    ax.set_ylabel("F1")
    ax.grid(alpha=0.3)
    rho = data[count_col].corr(data["f1"], method="spearman") if len(data) > 2 else float("nan")
    ax.set_title(f"{title}  (Spearman rho = {rho:.2f})" if np.isfinite(rho) else title)
    if n_named and len(data) > 2 * n_named:
        ranked = data.sort_values("f1", kind="stable")
        for rows, sign in ((ranked.head(n_named), 1), (ranked.tail(n_named).iloc[::-1], -1)):
            for j, (_, r) in enumerate(rows.iterrows()):  # staggered so near-equal points stay legible
                ax.annotate(str(r["class"]), (r[count_col], r["f1"]), fontsize=6, alpha=0.85,
                            xytext=(4, sign * (3 + 8 * j)), textcoords="offset points",
                            arrowprops={"arrowstyle": "-", "lw": 0.4, "alpha": 0.5})


def per_class_f1_vs_count(report_df: pd.DataFrame | Mapping[str, pd.DataFrame], title: str = "",
                          path: str | Path | None = None, n_named: int = 3, ax: Axes | None = None) -> Figure:
    """F1 of each class against its training count (log x): do rare classes fail?

    Takes one `metrics.per_class_report` (uses train_count, else support) or a dict task -> report for
    side-by-side panels. The n_named best and worst classes are labelled.
    """
    if isinstance(report_df, pd.DataFrame):
        fig, ax = _new_axes(ax, (6, 4.2))
        _f1_vs_count_panel(ax, report_df, title, n_named)
        return _finish(fig, path)
    reports = dict(report_df)
    fig = Figure(figsize=(5.2 * len(reports), 4.2), layout="constrained")
    axes = fig.subplots(1, len(reports), squeeze=False)[0]
    for panel, (task, report) in zip(axes, reports.items()):
        _f1_vs_count_panel(panel, report, task, n_named)
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------------------------
# images


def _to_image_array(image) -> np.ndarray:
    """HxWx3 display array from a PIL image, uint8 array, float array in [0, 1], or CHW tensor/array."""
    if hasattr(image, "detach"):  # torch tensor, without importing torch
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = np.transpose(array, (1, 2, 0))
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.dtype != np.uint8:
        array = np.clip(array, 0.0, 1.0) if np.issubdtype(array.dtype, np.floating) else np.clip(array, 0, 255)
    return array


def image_grid(images: Sequence, captions: Sequence[str] | None = None, ncols: int = 4,
               title: str | None = None, colors: Sequence[str] | None = None, path: str | Path | None = None,
               cell_size: float = 2.6, fontsize: float = 7, paintings: pd.DataFrame | None = None) -> Figure:
    """Images in a grid with optional (multi-line) captions, each in its own colour.

    `paintings`: the metadata rows (`path`, `painter`) of the paintings shown. Give it whenever the images
    are paintings: with `path` it writes `provenance.record(paintings)` beside the figure, and it refuses
    a painter not known to be in the public domain (see `provenance`) before anything is drawn.

    Use `caption_colors` to colour "true vs pred" captions green when right and red when wrong.
    Accepts PIL images, HxWx3 uint8 or [0, 1] float arrays, and CHW arrays/tensors (e.g. a denormalised
    batch). An empty list gives a small figure saying so instead of failing.
    """
    images = list(images)
    sources = provenance.record(paintings) if paintings is not None else None
    if path is not None and sources is not None:
        sources.to_csv(provenance.record_path(path), index=False)
    if not images:
        fig = Figure(figsize=(4, 1), layout="constrained")
        fig.text(0.5, 0.5, "(no images)", ha="center", va="center")
        if title:
            fig.suptitle(title)
        return _finish(fig, path)
    ncols = max(1, min(ncols, len(images)))
    nrows = math.ceil(len(images) / ncols)
    n_lines = max((str(c).count("\n") + 1 for c in captions), default=0) if captions is not None else 0
    caption_h = 0.16 * n_lines * fontsize / 7
    fig = Figure(figsize=(cell_size * ncols, (cell_size + caption_h) * nrows + (0.4 if title else 0)),
                 layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= len(images):
            continue
        array = _to_image_array(images[i])
        grey = {"cmap": "gray", "vmin": 0, "vmax": 255 if array.dtype == np.uint8 else 1} if array.ndim == 2 else {}
        ax.imshow(array, **grey)
        if captions is not None and i < len(captions):
            ax.set_title(str(captions[i]), fontsize=fontsize, color=colors[i] if colors is not None else "black")
    if title:
        fig.suptitle(title)
    return _finish(fig, path)


def reading_order(image, grid: int, title: str = "", path: str | Path | None = None,
                  paintings: pd.DataFrame | None = None) -> Figure:
    """The painting with the `grid` x `grid` positions of its feature map numbered in the order the LSTM reads
    them (row by row, as `tokens = fmap.flatten(2).transpose(1, 2)` lays them out), joined by the path.

    `paintings`: the painting's metadata row, as for `image_grid` (provenance beside the figure)."""
    if paintings is not None:
        sources = provenance.record(paintings)
        if path is not None:
            sources.to_csv(provenance.record_path(path), index=False)
    array = _to_image_array(image)
    h, w = array.shape[:2]
    fig, ax = _new_axes(None, (4.6, 4.6))
    ax.imshow(array)
    ys, xs = (np.arange(grid) + 0.5) * h / grid, (np.arange(grid) + 0.5) * w / grid
    for k in range(1, grid):
        ax.axhline(k * h / grid, color="white", lw=0.6, alpha=0.7)
        ax.axvline(k * w / grid, color="white", lw=0.6, alpha=0.7)
    path_x = np.tile(xs, grid)
    path_y = np.repeat(ys, grid)
    ax.plot(path_x, path_y, color="yellow", lw=1.2, alpha=0.9)
    for step, (x, y) in enumerate(zip(path_x, path_y), start=1):
        ax.text(x, y, str(step), ha="center", va="center", fontsize=8 if grid <= 7 else 6, color="black",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    ax.set_axis_off()
    ax.set_title(title or f"the LSTM reads {grid * grid} positions, 1 -> {grid * grid}", fontsize=10)
    return _finish(fig, path)


def caption_colors(correct: Sequence[bool]) -> list[str]:
    """Green for right, red for wrong: the `colors` argument of `image_grid`."""
    return [GOOD if ok else BAD for ok in correct]


# ----------------------------------------------------------------------------------------------------------
# model comparison


def comparison_chart(table: pd.DataFrame, metric: str = "top1", title: str = "",
                     path: str | Path | None = None, ax: Axes | None = None) -> Figure:
    """Grouped bars (task groups, one bar per model) with bootstrap error bars and baseline markers.

    Needs columns model, task, `metric`; uses `metric`_lo / `metric`_hi for error bars and
    majority_baseline (dashed black) / chance (dotted grey) for per-task markers when present.
    """
    tasks = list(dict.fromkeys(table["task"]))
    models = list(dict.fromkeys(table["model"]))
    width = 0.8 / max(len(models), 1)
    fig, ax = _new_axes(ax, (max(5.0, 1.2 + len(tasks) * (0.5 + 0.35 * len(models))), 4.2))
    palette = sns.color_palette("colorblind", len(models))
    x = np.arange(len(tasks))
    for m, model in enumerate(models):
        rows = table[table["model"] == model].set_index("task").reindex(tasks)
        values = rows[metric].to_numpy(dtype=float)
        yerr = None
        if {f"{metric}_lo", f"{metric}_hi"} <= set(rows.columns):
            lo, hi = rows[f"{metric}_lo"].to_numpy(dtype=float), rows[f"{metric}_hi"].to_numpy(dtype=float)
            yerr = np.clip(np.vstack([values - lo, hi - values]), 0.0, None)
        ax.bar(x - 0.4 + width * (m + 0.5), values, width * 0.92, yerr=yerr, capsize=3,
               label=model, color=palette[m], error_kw={"elinewidth": 1})
    for column, style, label in (("majority_baseline", dict(color="black", ls="--"), "majority baseline"),
                                 ("chance", dict(color="grey", ls=":"), "chance")):
        if column not in table:
            continue
        per_task = table.groupby("task", sort=False)[column].first().reindex(tasks).to_numpy(dtype=float)
        labelled = False
        for i, value in enumerate(per_task):
            if np.isfinite(value):
                ax.hlines(value, i - 0.45, i + 0.45, lw=1.6, label=None if labelled else label, **style)
                labelled = True
    ax.set_xticks(x, tasks)
    ax.set_ylabel(metric.replace("_", " "))
    tops = [c for c in (metric, f"{metric}_hi", "majority_baseline") if c in table]
    highest = float(np.nanmax(table[tops].to_numpy(dtype=float)))
    ax.set_ylim(0, min(1.05, max(0.1, highest * 1.2)))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside the bars
    ax.set_title("\n".join(textwrap.fill(line, 90) for line in title.splitlines()))  # a budget note can be long
    return _finish(fig, path)


def overlay_heatmap(image, heat: np.ndarray, alpha: float = 0.45, cmap: str = "jet") -> np.ndarray:
    """An HxWx3 uint8 image with a 0..1 heat map (e.g. Grad-CAM) blended over it."""
    base = _to_image_array(image).astype(np.float32)
    if base.max() > 1.0:
        base = base / 255.0
    if base.ndim == 2:
        base = np.repeat(base[..., None], 3, axis=2)
    colours = matplotlib.colormaps[cmap](np.clip(heat, 0, 1))[..., :3]
    return (np.clip((1 - alpha) * base + alpha * colours, 0, 1) * 255).astype(np.uint8)


show_in_notebooks()
