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


# ----------------------------------------------------------------------------------------------------------
# legible at notebook width (issue #33): at most 4 paintings a row, every text >= MIN_TEXT_PX px when the
# figure is shown DISPLAY_WIDTH_PX (900 px) wide, no class left out without the title saying so


def assert_legible(fig) -> None:
    """Every drawn text's size in points x dpi/72, scaled to a 900 px display width, is >= 10 px."""
    sizes = plots.text_sizes(fig)
    assert len(sizes)
    small = sizes[sizes.px < plots.MIN_TEXT_PX]
    assert small.empty, f"text under {plots.MIN_TEXT_PX} px at {plots.DISPLAY_WIDTH_PX} px:\n{small.head()}"


def test_text_px_is_the_size_a_notebook_shows():
    assert plots.DISPLAY_WIDTH_PX == 900 and plots.MIN_TEXT_PX == 10
    # the reviewer's grid: 8 columns of 2 inches, 7-point captions, shown 900 px wide -> ~5 px
    assert plots.text_px(7, 16) == pytest.approx(7 * 100 / 72 * 900 / 1600)
    assert plots.text_px(10, 6) == pytest.approx(10 * 100 / 72)  # narrower than 900 px: shown at its size
    for width in (4, 8, 9, 10, 12.5, 16):
        assert plots.text_px(plots.legible_size(width), width + 0.2) >= plots.MIN_TEXT_PX


def test_image_grid_has_at_most_four_columns_and_legible_captions(tmp_path):
    rng = np.random.default_rng(0)
    images = [(rng.random((48, 48, 3)) * 255).astype(np.uint8) for _ in range(8)]
    captions = [f"artist-{i}\nMannerism_Late_Renaissance\nbartolome-esteban-murillo -> peter-paul-rubens"
                for i in range(8)]
    fig = plots.image_grid(images, captions, ncols=8, cell_size=2.0, fontsize=7, title="eight paintings",
                           path=tmp_path / "grid.png")
    columns = {round(ax.get_position().x0, 3) for ax in fig.axes}
    rows = {round(ax.get_position().y0, 3) for ax in fig.axes}
    assert len(columns) == plots.MAX_GRID_COLUMNS == 4 and len(rows) == 2
    assert_legible(fig)
    titles = [ax.get_title() for ax in fig.axes]
    assert all("bartolome-esteban-murillo" in t for t in titles)  # wrapped, never cut
    assert all("\n" in t.split("Mannerism_Late_Renaissance")[1] for t in titles)  # the long line wrapped
    assert_png(tmp_path / "grid.png")


def test_image_grid_of_paintings_keeps_its_provenance(tmp_path):
    rows = showable_rows(8)
    images = [np.full((32, 32, 3), 30 * i, dtype=np.uint8) for i in range(8)]
    plots.image_grid(images, list(rows["painter"]), ncols=8, path=tmp_path / "p.png", paintings=rows)
    record = pd.read_csv(tmp_path / "p.provenance.csv")
    assert list(record["path"]) == list(rows["path"]) and (record["death_year"] <= 1926).all()


@pytest.mark.parametrize("n_classes, top_n", [(10, None), (27, None), (128, None), (128, 20)])
def test_confusion_matrix_is_legible(n_classes, top_n):
    y, pred = fake_predictions(n_classes, n=3000)
    names = [f"{'long-painter-name-' if n_classes == 128 else 'style_'}{i}" for i in range(n_classes)]
    cm = metrics.confusion(y, pred, n_classes, normalize=None)
    assert_legible(plots.confusion_matrix_plot(cm, names, "test", top_n=top_n))


def test_confusion_matrix_top_n_says_what_it_leaves_out():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 37, 400)  # 37 of 128 artists in the split
    cm = metrics.confusion(y, y, 128, normalize=None)
    title = plots.confusion_matrix_plot(cm, [f"a{i}" for i in range(128)], "artist", top_n=20).axes[0].get_title()
    assert "top 20 of 37 classes by test count" in title and "91 of 128 with no test painting" in title


def f1_reports():
    rng = np.random.default_rng(3)
    reports = {}
    for task, n, present in (("artist", 128, 37), ("genre", 10, 10), ("style", 27, 8)):
        names = [f"{task}_class_name_{i}" for i in range(n)]
        y = rng.integers(0, present, 300)
        pred = np.where(rng.random(300) < 0.6, y, rng.integers(0, n, 300))
        train = rng.integers(5, 500, n)
        train[present - 1] = 0  # a class in the test split with no training painting
        reports[task] = metrics.per_class_report(y, pred, names, train_counts=train)
    return reports


def test_per_class_f1_vs_count_is_legible_and_says_what_it_leaves_out(tmp_path):
    reports = f1_reports()
    fig = plots.per_class_f1_vs_count(reports, "per-class F1", path=tmp_path / "f1.png")
    assert_legible(fig)
    titles = [ax.get_title().replace("\n", " ") for ax in fig.axes if ax.get_title()]
    assert titles[0].startswith("artist: 36 of 128 classes") and "91 with no test painting" in titles[0]
    assert "1 with no training painting (artist_class_name_36)" in titles[0]
    assert titles[1].startswith("genre: 9 of 10 classes") and "no test painting" not in titles[1]
    assert titles[2].startswith("style: 7 of 27 classes") and "19 with no test painting" in titles[2]
    assert "Spearman rho" in titles[2]
    # six points named a panel (3 worst, 3 best), and no two names overlap (their text, not the joining line)
    from matplotlib.text import Text
    fig.draw_without_rendering()
    for ax in fig.axes:
        boxes = [Text.get_window_extent(t) for t in ax.texts]
        assert len(boxes) == 6
        assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert_png(tmp_path / "f1.png")
    one = plots.per_class_f1_vs_count(reports["style"], "style")
    assert_legible(one)
    assert "19 with no test painting" in one.axes[0].get_title()


def test_cooccurrence_heatmap_is_legible_and_counts_missing_classes():
    from wikiart_utils import labels
    rng = np.random.default_rng(4)
    styles, genres = labels.vocab("style")[:8], labels.vocab("genre")
    table = pd.DataFrame({"style": rng.choice(styles, 500), "genre": rng.choice(genres, 500)})
    fig = plots.cooccurrence_heatmap(table, "style", "genre", normalize="row")
    assert_legible(fig)
    assert "8 of 27 style classes" in fig.axes[0].get_title() and "genre classes" not in fig.axes[0].get_title()


def test_long_tail_is_legible_in_a_wide_figure_and_counts_empty_classes():
    counts = pd.Series([500, 30, 120, 0, 7, 0], index=list("abcdef"))
    fig = plots.long_tail(counts, "genre")
    assert_legible(fig)
    assert "2 of 6 classes with no image" in fig.axes[0].get_title().replace("\n", " ")
    wide = Figure(figsize=(14, 4))  # a notebook's own wide figure: the panels' text is raised for it
    for ax, log in zip(wide.subplots(1, 2), (False, True)):
        plots.long_tail(pd.Series(np.arange(27, 0, -1) * 10, index=[f"Style_name_{i}" for i in range(27)]),
                        "style", log=log, ax=ax)
    wide.tight_layout()
    assert_legible(wide)


def test_comparison_chart_and_reading_order_are_legible():
    table = pd.concat([comparison_table().assign(model=lambda t, i=i: t["model"] + f" run {i} (15 epochs, 224 px)")
                       for i in range(4)])
    assert_legible(plots.comparison_chart(table, title="a long budget note " * 12))
    image = np.random.default_rng(5).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    for grid in (7, 14):
        assert_legible(plots.reading_order(image, grid))


def test_make_legible_raises_small_text_of_any_figure():
    fig = Figure(figsize=(15, 3.6), layout="constrained")
    for ax in fig.subplots(1, 4):
        ax.plot([1, 2], [3, 4], label="artist")
        ax.legend(fontsize=7)
        ax.set_title("tiny", fontsize=6)
    assert plots.text_sizes(fig).px.min() < plots.MIN_TEXT_PX
    assert_legible(plots.make_legible(fig))


def showable_rows(n: int) -> pd.DataFrame:
    """n metadata rows of the embedded sample whose painter may be shown (`provenance.showable`)."""
    from wikiart_utils import provenance
    meta = pd.read_csv(provenance.PAINTERS_CSV.parent / "metadata.csv", dtype=str, keep_default_na=False)
    return meta[provenance.showable(meta)].head(n).reset_index(drop=True)


def test_lesson_gallery_defaults_are_legible(tmp_path):
    from wikiart_utils.lesson.evaluation import Gallery, verdict_line
    rng = np.random.default_rng(6)
    captions = ["\n".join(verdict_line(t, 0, 1) for t in ("artist", "genre", "style"))] * 8
    gallery = Gallery([rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)] * 8, captions, ["black"] * 8,
                      showable_rows(8))
    fig = gallery.grid(title="a gallery", path=tmp_path / "gallery.png")
    assert len({round(ax.get_position().x0, 3) for ax in fig.axes}) == 4
    assert_legible(fig)
    assert len(pd.read_csv(tmp_path / "gallery.provenance.csv")) == 8


def test_lesson_training_curves_are_legible(monkeypatch, tmp_path):
    from wikiart_utils.lesson import training
    monkeypatch.setattr(training, "majority_baselines", lambda root: {"artist": 0.07, "genre": 0.27, "style": 0.45})
    history = [{"epoch": e, "train_loss": 8 / e, "val_loss": 4 + 5 / e, "val_mean_f1": 0.1 * e ** 0.5,
                **{f"val_{t}_{m}": 0.1 * e ** 0.5 for t in ("artist", "genre", "style") for m in ("f1", "acc")}}
               for e in range(1, 6)]
    fig = training.curves_figure(history, tmp_path, {"artist": 1, "genre": 1, "style": 1}, path=tmp_path / "c.png")
    assert_legible(fig)
    assert_png(tmp_path / "c.png")
