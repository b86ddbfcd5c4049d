"""Figures of the course: label long tails, confusion matrices, per-class F1, image galleries, comparisons.

Every function builds a `matplotlib.figure.Figure` directly (no pyplot state), so it works under any
backend -- Agg in CI and scripts, inline in Jupyter -- and never leaks open figures. Each returns the
Figure (a notebook cell ending in the call displays it; otherwise use ``display(fig)``) and, when
``path`` is given, saves it with ``savefig(path, dpi=120, bbox_inches="tight")``. Functions drawing a
single panel also accept ``ax=`` to draw into an existing grid of axes.

Every figure is legible at notebook width: a notebook (and GitHub) shows an image at its own size up to
about DISPLAY_WIDTH_PX and scales a wider one down, so a figure's text is sized from the figure's width
(`legible_size`) to render at least MIN_TEXT_PX tall there (`text_px`, checked by `text_sizes`); grids of
paintings have at most MAX_GRID_COLUMNS columns; a plot that leaves classes out says how many and by
which rule in its title.
"""
from __future__ import annotations

import io
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
from matplotlib.text import Text
from matplotlib.ticker import LogFormatter

from . import labels, provenance

DPI = 120
MAX_TICK_LABELS = 40  # more class names than this on one axis become unreadable
GOOD, BAD = "#1a7f37", "#cf222e"  # caption colours for right / wrong predictions

DISPLAY_WIDTH_PX = 900  # about the width a notebook's output (or a README on GitHub) shows a figure at
INLINE_DPI = 100        # the dpi a Figure shows at inline (matplotlib's figure.dpi); saved PNGs use DPI
MIN_TEXT_PX = 10        # the smallest text that reads comfortably there: font size in px at display width
MAX_GRID_COLUMNS = 4    # paintings per row in `image_grid`: more become thumbnails with unreadable captions
CAPTION_PT = 9          # a grid caption's default size (raised where the figure's width needs more)
CHAR_EM = 0.6           # a DejaVu Sans character's mean width in em: how many fit a line (for wrapping)


def text_px(fontsize: float, figure_width: float, dpi: float = INLINE_DPI,
            display_px: float = DISPLAY_WIDTH_PX) -> float:
    """Height in screen px of `fontsize`-point text in a figure `figure_width` inches wide, shown at most
    `display_px` wide: fontsize * dpi / 72, scaled down by display_px / (figure_width * dpi) when the figure
    is wider than that (a notebook shrinks a wide image to its output width; it never enlarges a small one)."""
    return fontsize * dpi / 72 * min(1.0, display_px / (figure_width * dpi))


def legible_size(figure_width: float, min_px: float = MIN_TEXT_PX, dpi: float = INLINE_DPI,
                 display_px: float = DISPLAY_WIDTH_PX) -> float:
    """The smallest font size (points, rounded up to 0.1) whose `text_px` is min_px in a figure that wide,
    as shown (with the margin bbox_inches="tight" adds): 7.2 pt up to 8.8 inches, then 0.8 pt per inch
    (10 pt for a 12.3-inch figure)."""
    shown = figure_width + 2 * matplotlib.rcParams["savefig.pad_inches"]
    return math.ceil(min_px / text_px(1.0, shown, dpi, display_px) * 10 - 1e-9) / 10


def _tick_labels(ax: Axes) -> list[tuple[object, str, list]]:
    """(axis, which, ticks) of an Axes' four tick-label sets."""
    return [(axis, which, axis.get_major_ticks() if which == "major" else axis.get_minor_ticks())
            for axis in (ax.xaxis, ax.yaxis) for which in ("major", "minor")]


def make_legible(target: Figure | Axes, min_px: float = MIN_TEXT_PX) -> Figure:
    """Raise every text of a Figure (or of one Axes in it) smaller than `legible_size` of the figure's width
    to that size -- titles, axis labels, tick labels, annotations, legends, colour bars -- and return the
    Figure. The figures of this module choose their sizes so; this is the net under them, and the tool for a
    figure of your own (e.g. `plt.subplots(3, 2, figsize=(14, 10))`, where 10-point text renders 9 px)."""
    fig = target if isinstance(target, Figure) else target.figure
    size = legible_size(fig.get_figwidth(), min_px)
    axes = fig.axes if isinstance(target, Figure) else [target] + [  # with the colour bar of a heatmap
        mappable.colorbar.ax for mappable in (*target.collections, *target.images)
        if getattr(mappable, "colorbar", None) is not None]
    seen: set[int] = set()
    for ax in axes:
        for axis, which, ticks in _tick_labels(ax):
            seen.update(id(label) for tick in ticks for label in (tick.label1, tick.label2))
            if ticks and ticks[0].label1.get_fontsize() < size:
                axis.set_tick_params(which=which, labelsize=size)
    texts = fig.findobj(Text) if isinstance(target, Figure) else [t for ax in axes for t in ax.findobj(Text)]
    for text in texts:
        if id(text) not in seen and text.get_text().strip() and text.get_fontsize() < size:
            text.set_fontsize(size)
    return fig


def text_sizes(fig: Figure, dpi: float = INLINE_DPI, display_px: float = DISPLAY_WIDTH_PX) -> pd.DataFrame:
    """Every text the figure draws, with its size in points and in px as a notebook shows it: the figure
    rendered as inline (`dpi`, bbox_inches="tight"), its width in px measured, `text_px` at display_px.
    One row per drawn text: text, fontsize (pt), px; sorted smallest first. The tests and the figure
    checks read it: `text_sizes(fig).px.min() >= MIN_TEXT_PX`."""
    drawn: dict[int, Text] = {}
    draw = Text.draw

    def spy(self, renderer):
        if self.get_visible() and self.get_text().strip():
            drawn[id(self)] = self
        return draw(self, renderer)

    buffer = io.BytesIO()
    Text.draw = spy
    try:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        Text.draw = draw
    width_px = int.from_bytes(buffer.getvalue()[16:20], "big")  # the PNG header's IHDR width
    rows = [{"text": t.get_text(), "fontsize": float(t.get_fontsize()),
             "px": float(t.get_fontsize()) * dpi / 72 * min(1.0, display_px / width_px)} for t in drawn.values()]
    return pd.DataFrame(rows, columns=["text", "fontsize", "px"]).sort_values("px", kind="stable",
                                                                              ignore_index=True)


def _wrap(text: str, width: float, fontsize: float, indent: str = "") -> str:
    """`text` with each line wrapped to what fits `width` inches at `fontsize` points (words kept whole
    where they fit, hyphenated names never split at a hyphen)."""
    chars = max(8, int(width * 72 / (CHAR_EM * fontsize)))
    return "\n".join("\n".join(textwrap.wrap(line, chars, subsequent_indent=indent, break_on_hyphens=False))
                     or line for line in str(text).splitlines()) if text else text


def _axes_width(ax: Axes) -> float:
    """An Axes' width in inches (from its position in the figure): what a title over it may span."""
    return ax.get_position().width * ax.figure.get_figwidth()


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


def _plain_log_labels(axis, size: float = 8) -> None:
    """Log-axis ticks as plain numbers ("600", not "6 x 10^2"), minor labels thinned by matplotlib."""
    axis.set_major_formatter(LogFormatter())
    axis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(1.5, 0.6)))
    axis.set_tick_params(which="both", labelsize=size)


def _ordinal(k: int) -> str:
    """2 -> '2nd', 3 -> '3rd', 4 -> '4th', 11 -> '11th', 21 -> '21st'."""
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _tick_step(n: int) -> int:
    """Label every k-th tick so that at most MAX_TICK_LABELS names appear on an axis."""
    return max(1, math.ceil(n / MAX_TICK_LABELS))


# ----------------------------------------------------------------------------------------------------------
# label distributions


def long_tail(counts: pd.Series, title: str = "", log: bool = False, path: str | Path | None = None,
              ax: Axes | None = None, color: str = "#4c72b0") -> Figure:
    """Class frequencies sorted descending: how imbalanced a task is (max/min ratio in the title).

    Its text is sized for the width of the figure it is drawn in (`make_legible`), a given `ax` too."""
    counts = pd.Series(counts).sort_values(ascending=False)
    n = len(counts)
    fig, ax = _new_axes(ax, (min(4 + 0.12 * n, 12), 4))
    size = max(8.0, legible_size(fig.get_figwidth()))
    x = np.arange(1, n + 1)  # rank 1 = most frequent
    ax.bar(x, counts.to_numpy(), width=0.85 if n <= 60 else 1.0, color=color)
    if log:
        ax.set_yscale("log")
        _plain_log_labels(ax.yaxis, size)
    if n <= MAX_TICK_LABELS:
        step = max(1, math.ceil(size * 1.1 / (_axes_width(ax) * 72 / n)))  # names a legible line apart
        ax.set_xticks(x[::step], [str(name) for name in counts.index[::step]], rotation=70, ha="right",
                      fontsize=size)
        ax.set_xlabel("class" + (f" (every {_ordinal(step)} named)" if step > 1 else ""))
    else:
        ax.set_xlabel(f"class rank (1 = most frequent, {n} classes)")
    ax.set_xlim(0.4, n + 0.6)
    ax.set_ylabel("images" + (" (log scale)" if log else ""))
    positive = counts[counts > 0]
    ratio = f"max/min = {positive.iloc[0] / positive.iloc[-1]:.0f}x" if len(positive) else ""
    empty = f"{n - len(positive)} of {n} classes with no image" if len(positive) < n else ""  # bars of 0
    notes = "; ".join(note for note in (ratio, empty) if note)
    title_size = max(size, ax.title.get_fontsize())
    ax.set_title(_wrap(f"{title}  ({notes})" if notes else title, _axes_width(ax), title_size))
    ax.grid(axis="y", alpha=0.3)
    make_legible(ax)
    return _finish(fig, path)


def cooccurrence_heatmap(table: pd.DataFrame, row: str, col: str, normalize: str | None = None,
                         title: str | None = None, path: str | Path | None = None,
                         ax: Axes | None = None) -> Figure:
    """Counts of `row` x `col` label pairs (e.g. style x genre), both sorted by frequency.

    Missing labels (NaN, "" or -1) are dropped. normalize="row" shows each row's shares (what genres a
    style paints), "col" each column's; None shows raw counts. A class of a task (artist, genre, style)
    with no painting labelled with both has no row or column: the title counts them.
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
    fig, ax = _new_axes(ax, (min(3.5 + 0.75 * n_cols, 12), min(2 + 0.42 * n_rows, 20)))
    size = max(10.0, legible_size(fig.get_figwidth()))
    # a number per cell when the cells have room for it at a legible size (a 400-cell table would not)
    annotate = n_rows * n_cols <= 400
    sns.heatmap(values, ax=ax, cmap="viridis", annot=annotate, fmt=fmt, annot_kws={"fontsize": size},
                cbar_kws={"label": "share" if normalize else "images"}, linewidths=0.2 if annotate else 0,
                xticklabels=False, yticklabels=False)
    named = []
    for axis, names, n, rotation in ((ax.xaxis, values.columns, n_cols, 90), (ax.yaxis, values.index, n_rows, 0)):
        step = _tick_step(n)
        ticks = np.arange(0, n, step)
        axis.set_ticks(ticks + 0.5, [str(names[i]) for i in ticks], fontsize=size, rotation=rotation)
        if step > 1:
            named.append(f"every {_ordinal(step)} {'column' if axis is ax.xaxis else 'row'} named")
    ax.set_xlabel(col)
    ax.set_ylabel(row)
    suffix = {"row": " (share of each row)", "col": " (share of each column)"}.get(normalize or "", "")
    heading = title if title is not None else f"{row} x {col}{suffix}"
    missing = [f"{n} of {len(labels.vocab(task))} {task} classes" for task, n in ((row, n_rows), (col, n_cols))
               if task in labels.TASKS and n < len(labels.vocab(task))]
    if missing:  # classes without a pair are no row or column: say how many
        heading += f"\nthe {' and '.join(missing)} with a painting labelled with both"
    ax.set_title(_wrap(heading + (f" ({'; '.join(named)})" if named else ""), fig.get_figwidth(), 12))
    make_legible(ax)
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
    side = min(3 + 0.28 * n, 11)
    fig, ax = _new_axes(ax, (side + 1.5, side))
    fontsize = max(8.0, legible_size(fig.get_figwidth()))
    annotate = n <= 12
    sns.heatmap(values, ax=ax, cmap="Blues", vmin=0.0, vmax=1.0, square=n <= 60, annot=annotate, fmt=".2f",
                annot_kws={"fontsize": fontsize}, cbar_kws={"label": "share of true class", "shrink": 0.7},
                xticklabels=False, yticklabels=False)
    step = _tick_step(n)
    ticks = np.arange(0, n, step)
    ax.set_yticks(ticks + 0.5, [shown[i] for i in ticks], fontsize=fontsize, rotation=0)
    xticks = list(ticks) + ([n] if cut else [])
    ax.set_xticks(np.array(xticks) + 0.5, [col_names[i] for i in xticks], fontsize=fontsize,
                  rotation=90 if n > 12 else 45, ha="center" if n > 12 else "right")
    ax.set_xlabel("predicted" + (" ((other) = any class not shown)" if cut else ""))
    ax.set_ylabel("true" + (f" (every {_ordinal(step)} class named)" if step > 1 else ""))
    detail = ""  # what is left out, and by which rule
    if cut and top_n is not None and n < present:
        detail = f"top {n} of {present} classes by {'test count' if counts is None else 'count'}"
        if present < len(names):
            detail += f" ({len(names) - present} of {len(names)} with no test painting)"
    elif cut:
        detail = f"the {n} of {len(names)} classes present"
    ax.set_title(_wrap("\n".join(part for part in (title, detail) if part), fig.get_figwidth(), 12))
    make_legible(ax)
    return _finish(fig, path)


# ----------------------------------------------------------------------------------------------------------
# per-class quality


def _named(names: Sequence[str], limit: int = 3) -> str:
    """'a, b, c' or 'a, b, c, ...' after `limit` names."""
    names = [str(n) for n in names]
    return ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")


def _label_points(ax: Axes, points: Sequence[tuple[float, float, str]], fontsize: float) -> None:
    """Name each (x, y, name) point of `ax` with a label beside it that overlaps neither a label placed
    before it nor a marker of the axes' scatter plots: the first free slot of a few, moving away from the
    point line by line (joined to it by a thin line), on the left of points in the right third of the axes.
    Call it once the figure's layout is done (`draw_without_rendering`): it reads the axes' place on the
    canvas."""
    to_pt = 72 / ax.figure.dpi
    frame = ax.get_window_extent()
    left, right = frame.x0 * to_pt, frame.x1 * to_pt
    bottom, top = frame.y0 * to_pt, frame.y1 * to_pt
    line = fontsize * 1.25
    markers = [(mx * to_pt, my * to_pt) for c in ax.collections
               for mx, my in ax.transData.transform(np.asarray(c.get_offsets(), dtype=float))]
    placed: list[tuple[float, float, float, float]] = [(mx - 3, my - 3, mx + 3, my + 3) for mx, my in markers]
    for x, y, name in points:
        px, py = (v * to_pt for v in ax.transData.transform((x, y)))
        width = len(name) * CHAR_EM * fontsize
        on_left = px > left + 0.67 * (right - left)
        x0 = px - 6 - width if on_left else px + 6
        for k in (0, -1, 1, -2, 2, -3, 3, -4, 4, -5, 5):
            y0 = py + k * line - line / 2
            box = (x0, y0, x0 + width, y0 + line)
            if box[1] < bottom or box[3] > top:
                continue
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                break
        placed.append(box)
        label = ax.annotate(name, (x, y), xytext=((box[2] if on_left else box[0]) - px, box[1] + line / 2 - py),
                            textcoords="offset points", ha="right" if on_left else "left", va="center",
                            fontsize=fontsize, alpha=0.9,
                            arrowprops={"arrowstyle": "-", "lw": 0.4, "alpha": 0.5, "shrinkA": 0, "shrinkB": 2})
        label.set_in_layout(False)  # placed after the layout: it must not move the axes it was placed in


def _f1_vs_count_panel(ax: Axes, report: pd.DataFrame, title: str, n_named: int, fontsize: float
                       ) -> list[tuple[float, float, str]]:
    """Draw one task's panel; return the points to name (the n_named worst and best classes)."""
    count_col = "train_count" if "train_count" in report else "support"
    tested = report[report["support"] > 0] if "support" in report else report
    data = tested[tested[count_col] > 0]
    left_out = []  # every class of the report that has no point, by rule: the title says how many
    if len(tested) < len(report):
        left_out.append(f"{len(report) - len(tested)} with no test painting")
    if len(data) < len(tested):  # e.g. a class in the test split that the training split lacks
        missing = tested.loc[tested[count_col] <= 0, "class"]
        left_out.append(f"{len(missing)} with no training painting ({_named(missing)})")
    ax.scatter(data[count_col], data["f1"], s=22, alpha=0.75, color="#4c72b0", edgecolor="none")
    ax.set_xscale("log")
    _plain_log_labels(ax.xaxis, fontsize)
    ax.tick_params(axis="y", labelsize=fontsize)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"{count_col.replace('_', ' ')} (log scale)")
    ax.set_ylabel("F1")
    ax.grid(alpha=0.3)
    rho = data[count_col].corr(data["f1"], method="spearman") if len(data) > 2 else float("nan")
    heading = f"{title}: {len(data)} of {len(report)} classes"
    if np.isfinite(rho):
        heading += f" (Spearman rho = {rho:.2f})"
    if left_out:
        heading += "\nleft out: " + "; ".join(left_out)
    ax.set_title(_wrap(heading, _axes_width(ax), fontsize + 1), fontsize=fontsize + 1)
    if not n_named or len(data) <= 2 * n_named:
        return []
    ranked = data.sort_values("f1", kind="stable")
    named = pd.concat([ranked.tail(n_named).iloc[::-1], ranked.head(n_named)])
    return [(float(r[count_col]), float(r["f1"]), str(r["class"])) for _, r in named.iterrows()]


def per_class_f1_vs_count(report_df: pd.DataFrame | Mapping[str, pd.DataFrame], title: str = "",
                          path: str | Path | None = None, n_named: int = 3, ax: Axes | None = None,
                          ncols: int = 1) -> Figure:
    """F1 of each class against its training count (log x): do rare classes fail?

    Takes one `metrics.per_class_report` (uses train_count, else support) or a dict task -> report for
    one panel per task, `ncols` panels a row (one: each panel as wide as a notebook shows it). Pass whole
    reports: a class with no test painting (no F1) or no training painting (no place on a log axis) has no
    point, and each panel's title counts the classes shown and says how many were left out, and why. The
    n_named best and worst classes are labelled.
    """
    if isinstance(report_df, pd.DataFrame):
        fig, ax = _new_axes(ax, (7, 4.4))
        fontsize = max(8.0, legible_size(fig.get_figwidth()))
        points = _f1_vs_count_panel(ax, report_df, title, n_named, fontsize)
        make_legible(ax)
        fig.draw_without_rendering()
        _label_points(ax, points, fontsize)
        return _finish(fig, path)
    reports = dict(report_df)
    ncols = max(1, min(ncols, len(reports)))
    nrows = math.ceil(len(reports) / ncols)
    width = 8 if ncols == 1 else 5.2 * ncols
    fig = Figure(figsize=(width, 3.9 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    fontsize = max(8.0, legible_size(width))
    points = [_f1_vs_count_panel(panel, report, task, n_named, fontsize)
              for panel, (task, report) in zip(axes, reports.items())]
    for panel in axes[len(reports):]:
        panel.set_axis_off()
    if title:
        fig.suptitle(_wrap(title, width, 12))
    make_legible(fig)
    fig.draw_without_rendering()
    for panel, named in zip(axes, points):
        _label_points(panel, named, fontsize)
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


def image_grid(images: Sequence, captions: Sequence[str] | None = None, ncols: int = MAX_GRID_COLUMNS,
               title: str | None = None, colors: Sequence[str] | None = None, path: str | Path | None = None,
               cell_size: float = 2.6, fontsize: float | None = None,
               paintings: pd.DataFrame | None = None) -> Figure:
    """Images in a grid with optional (multi-line) captions, each in its own colour.

    At most MAX_GRID_COLUMNS images a row (a larger `ncols` gives more rows instead), and captions legible
    at notebook width: `fontsize` (default CAPTION_PT) is raised to `legible_size` of the grid's width when
    smaller, and a caption line wider than its cell wraps (nothing is cut).

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
    ncols = max(1, min(ncols, MAX_GRID_COLUMNS, len(images)))
    nrows = math.ceil(len(images) / ncols)
    width = cell_size * ncols
    fontsize = max(CAPTION_PT if fontsize is None else fontsize, legible_size(width))
    if captions is not None:
        captions = [_wrap(str(c), cell_size * 0.95, fontsize, indent="  ") for c in captions]
    n_lines = max((c.count("\n") + 1 for c in captions), default=0) if captions is not None else 0
    caption_h = 0.16 * n_lines * fontsize / 7
    title_size = max(12.0, legible_size(width))
    if title:
        title = _wrap(title, width, title_size)
    title_h = (title.count("\n") + 1) * title_size * 1.4 / 72 if title else 0
    fig = Figure(figsize=(width, (cell_size + caption_h) * nrows + title_h), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= len(images):
            continue
        array = _to_image_array(images[i])
        grey = {"cmap": "gray", "vmin": 0, "vmax": 255 if array.dtype == np.uint8 else 1} if array.ndim == 2 else {}
        ax.imshow(array, **grey)
        if captions is not None and i < len(captions):
            ax.set_title(captions[i], fontsize=fontsize, color=colors[i] if colors is not None else "black")
    if title:
        fig.suptitle(title, fontsize=title_size)
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
    side = min(max(4.6, 0.5 * grid), 9.0)  # a cell holds its number at a legible size
    fig, ax = _new_axes(None, (side, side))
    ax.imshow(array)
    ys, xs = (np.arange(grid) + 0.5) * h / grid, (np.arange(grid) + 0.5) * w / grid
    for k in range(1, grid):
        ax.axhline(k * h / grid, color="white", lw=0.6, alpha=0.7)
        ax.axvline(k * w / grid, color="white", lw=0.6, alpha=0.7)
    path_x = np.tile(xs, grid)
    path_y = np.repeat(ys, grid)
    ax.plot(path_x, path_y, color="yellow", lw=1.2, alpha=0.9)
    for step, (x, y) in enumerate(zip(path_x, path_y), start=1):
        ax.text(x, y, str(step), ha="center", va="center", fontsize=max(8.0, legible_size(side)), color="black",
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    ax.set_axis_off()
    ax.set_title(_wrap(title or f"the LSTM reads {grid * grid} positions, 1 -> {grid * grid}", side, 10), fontsize=10)
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
    fig_width = min(max(7.0, 1.2 + len(tasks) * (0.5 + 0.35 * len(models))), 11.0)
    legend_rows = len(models) + sum(c in table for c in ("majority_baseline", "chance"))
    fig, ax = _new_axes(ax, (fig_width, 4.2 + 0.2 * legend_rows))  # the legend goes under the bars
    size = max(9.0, legible_size(fig.get_figwidth()))
    palette = sns.color_palette("colorblind" if len(models) <= 10 else "tab20", len(models))  # no colour twice
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
    ax.set_xticks(x, tasks, fontsize=size)
    ax.tick_params(axis="y", labelsize=size)
    ax.set_ylabel(metric.replace("_", " "))
    tops = [c for c in (metric, f"{metric}_hi", "majority_baseline") if c in table]
    highest = float(np.nanmax(table[tops].to_numpy(dtype=float)))
    ax.set_ylim(0, min(1.05, max(0.1, highest * 1.2)))
    ax.grid(axis="y", alpha=0.3)
    handles, names = ax.get_legend_handles_labels()  # under the bars, so the bars keep the figure's width
    longest = max(map(len, names), default=0) * CHAR_EM * size / 72  # inches
    ax.legend(handles, [_wrap(n, fig.get_figwidth() * 0.9, size, indent="  ") for n in names], fontsize=size,
              loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False,
              ncols=2 if longest < 0.42 * fig.get_figwidth() else 1)
    ax.set_title(_wrap(title, fig.get_figwidth(), 12))  # a budget note can be long
    make_legible(ax)
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
