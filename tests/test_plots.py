"""plots: every figure renders on small data, saves a PNG, and leaves no open pyplot figure behind."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from wikiart_utils import metrics, plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def no_figure_leak():
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


def assert_png(path) -> None:
    assert path.exists() and path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_MAGIC


def fake_predictions(n_classes: int, n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    pred = np.where(rng.random(n) < 0.6, y, rng.integers(0, n_classes, n))
    return y, pred


@pytest.mark.parametrize("log", [False, True])
def test_long_tail(tmp_path, log):
    counts = pd.Series([500, 30, 120, 0, 7], index=list("abcde"))
    fig = plots.long_tail(counts, "genre", log=log, path=tmp_path / "tail.png")
    assert isinstance(fig, Figure)
    assert_png(tmp_path / "tail.png")


def test_long_tail_many_classes_uses_rank_axis(tmp_path):
    counts = pd.Series(np.arange(128, 0, -1) * 10, index=[f"artist-{i}" for i in range(128)])
    fig = plots.long_tail(counts, "artist", log=True, path=tmp_path / "sub" / "tail.png")
    assert "rank" in fig.axes[0].get_xlabel()
    assert_png(tmp_path / "sub" / "tail.png")


@pytest.mark.parametrize("n_classes, top_n", [(10, None), (27, None), (128, None), (128, 20)])
def test_confusion_matrix_plot(tmp_path, n_classes, top_n):
    y, pred = fake_predictions(n_classes, n=2000)
    names = [f"class-{i}" for i in range(n_classes)]
    cm = metrics.confusion(y, pred, n_classes, normalize=None)
    path = tmp_path / f"cm_{n_classes}_{top_n}.png"
    fig = plots.confusion_matrix_plot(cm, names, "test", top_n=top_n, path=path)
    assert_png(path)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) <= plots.MAX_TICK_LABELS
    if top_n:
        assert len(labels) == top_n
        assert fig.axes[0].get_xticklabels()[-1].get_text() == "(other)"


def test_confusion_matrix_plot_accepts_normalized_matrix_with_counts(tmp_path):
    y, pred = fake_predictions(5)
    cm = metrics.confusion(y, pred, 5)
    counts = np.array([1, 50, 3, 20, 9])
    fig = plots.confusion_matrix_plot(cm, list("abcde"), counts=counts, top_n=3, path=tmp_path / "cm.png")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["b", "d", "e"]
    assert_png(tmp_path / "cm.png")


def test_per_class_f1_vs_count(tmp_path):
    y, pred = fake_predictions(27)
    names = [f"style-{i}" for i in range(27)]
    report = metrics.per_class_report(y, pred, names, train_counts=np.arange(27) * 10 + 5)
    plots.per_class_f1_vs_count(report, "style", path=tmp_path / "one.png")
    assert_png(tmp_path / "one.png")
    fig = plots.per_class_f1_vs_count({"genre": report.head(10), "style": report.drop(columns="train_count")},
                                      "all tasks", path=tmp_path / "many.png")
    assert len([ax for ax in fig.axes if ax.get_title()]) == 2
    assert_png(tmp_path / "many.png")


def test_image_grid(tmp_path):
    rng = np.random.default_rng(0)
    images = [
        (rng.random((40, 60, 3)) * 255).astype(np.uint8),
        Image.new("RGB", (30, 50), "orange"),
        rng.random((3, 32, 32)).astype(np.float32),  # CHW float, e.g. a denormalised tensor
        (rng.random((20, 20)) * 255).astype(np.uint8),  # grey
        rng.random((25, 25, 3)) * 2 - 0.5,  # out-of-range floats are clipped
    ]
    captions = [f"true: a{i}\npred: b{i}" for i in range(len(images))]
    colors = plots.caption_colors([True, False, True, False, True])
    assert colors[:2] == [plots.GOOD, plots.BAD]
    fig = plots.image_grid(images, captions, ncols=3, title="gallery", colors=colors, path=tmp_path / "grid.png")
    assert len(fig.axes) == 6
    assert_png(tmp_path / "grid.png")


def test_image_grid_empty(tmp_path):
    plots.image_grid([], title="nothing right on all three", path=tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 0


def comparison_table() -> pd.DataFrame:
    table = pd.DataFrame({"model": ["cnn"] * 3 + ["vit"] * 3, "task": ["artist", "genre", "style"] * 2,
                          "top1": [0.3, 0.6, 0.4, 0.5, 0.7, 0.55]})
    table["top1_lo"], table["top1_hi"] = table["top1"] - 0.03, table["top1"] + 0.03
    table["majority_baseline"] = [0.03, 0.3, 0.15] * 2
    return table


def test_comparison_chart(tmp_path):
    fig = plots.comparison_chart(comparison_table(), title="models", path=tmp_path / "cmp.png")
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"cnn", "vit", "majority baseline"} <= set(labels)
    assert_png(tmp_path / "cmp.png")


def test_comparison_chart_without_intervals(tmp_path):
    table = comparison_table().drop(columns=["top1_lo", "top1_hi", "majority_baseline"])
    plots.comparison_chart(table, path=tmp_path / "cmp.png")
    assert_png(tmp_path / "cmp.png")


@pytest.mark.parametrize("normalize", [None, "row", "col"])
def test_cooccurrence_heatmap(tmp_path, normalize):
    table = pd.DataFrame({"style": ["a", "a", "b", "c", "c", "c", "b"],
                          "genre": ["x", "y", "x", "", "y", "y", None]})
    fig = plots.cooccurrence_heatmap(table, "style", "genre", normalize=normalize, path=tmp_path / "co.png")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["y", "x"]  # "" and None dropped
    assert_png(tmp_path / "co.png")


def test_draws_into_given_axes(tmp_path):
    fig = Figure(figsize=(8, 3))
    left, right = fig.subplots(1, 2)
    assert plots.long_tail(pd.Series([3, 2, 1]), "a", ax=left) is fig
    assert plots.comparison_chart(comparison_table(), ax=right) is fig
    fig.savefig(tmp_path / "both.png")
    assert_png(tmp_path / "both.png")


def test_confusion_matrix_shows_only_classes_present_with_their_n(tmp_path):
    # 27 styles, 8 of them in the split: 8 rows (no empty ones), each labelled with its n, and "(other)"
    rng = np.random.default_rng(1)
    present = np.array([0, 3, 5, 8, 12, 20, 21, 26])
    y = rng.choice(present, 300)
    pred = np.where(rng.random(300) < 0.5, y, rng.integers(0, 27, 300))
    cm = metrics.confusion(y, pred, 27, normalize=None)
    names = [f"style-{i}" for i in range(27)]
    fig = plots.confusion_matrix_plot(cm, names, "style", path=tmp_path / "cm.png")
    rows = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(rows) == 8 and all(" (n=" in r for r in rows)
    assert sum(int(r.split("(n=")[1].rstrip(")")) for r in rows) == 300
    assert fig.axes[0].get_xticklabels()[-1].get_text() == "(other)"
    assert "8 of 27 classes present" in fig.axes[0].get_title()
    fig = plots.confusion_matrix_plot(cm, names, "style", top_n=3)
    assert len(fig.axes[0].get_yticklabels()) == 3 and "top 3 of 8 classes by test count" in fig.axes[0].get_title()


def test_notebook_display_charts_as_png_paintings_as_jpeg(monkeypatch):
    """In IPython every Figure displays as an image plus its `[figure]` titles: a chart as PNG, a figure
    of paintings as JPEG (a gallery as PNG cost ~1 MB in a committed notebook)."""
    from IPython.core.interactiveshell import InteractiveShell
    import IPython

    shell = InteractiveShell.instance()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    plots.show_in_notebooks()
    chart = plots.long_tail(pd.Series({"a": 30, "b": 3}), title="counts")
    gallery = plots.image_grid([np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)] * 2,
                               captions=["x", "y"], title="two pictures")
    chart_out, _ = shell.display_formatter.format(chart)
    gallery_out, _ = shell.display_formatter.format(gallery)
    assert "image/png" in chart_out and "image/jpeg" not in chart_out
    assert "image/jpeg" in gallery_out and "image/png" not in gallery_out
    assert gallery_out["text/plain"] == "[figure] two pictures | x | y"
    assert chart_out["text/plain"].startswith("[figure] counts")
