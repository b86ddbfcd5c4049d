"""Only public-domain paintings are shown: every committed figure that shows paintings has a provenance
record beside it (`plots.image_grid(..., paintings=rows)` writes it), and every painter in a record died
in 1926 or earlier according to data/real-sample/painters.csv (year and source per painter)."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from wikiart_utils import plots, provenance

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"
# figures whose pixels are paintings (thumbnails, overlays); charts (curves, matrices, bars) are not listed
PAINTING_FIGURES = re.compile(r"^(01_paintings_by_style|02_augmentations|02_batch_grid|03_imagenet_sees|03_reading_order|"
                              r"05_receptive_field|06_patches|"
                              r"07_gallery_.*|07_outliers_.*|"
                              r"07_gradcam.*|07_your_painting.*)\.png$")
RECORDS = sorted(FIGURES.rglob("*.provenance.csv"))


def painting_figures() -> list[Path]:
    return sorted(p for p in FIGURES.rglob("*.png") if PAINTING_FIGURES.match(p.name))


def test_the_course_figures_that_show_paintings_are_found():
    names = {p.name for p in painting_figures()}
    assert {"01_paintings_by_style.png", "02_batch_grid.png"} <= names


@pytest.mark.parametrize("figure", painting_figures(), ids=lambda p: str(p.relative_to(FIGURES)))
def test_every_figure_showing_paintings_has_a_provenance_record(figure):
    record = provenance.record_path(figure)
    assert record.is_file(), f"{figure.relative_to(ROOT)} shows paintings but has no {record.name}"
    assert len(pd.read_csv(record)) >= 1


@pytest.mark.parametrize("record", RECORDS, ids=lambda p: str(p.relative_to(FIGURES)))
def test_every_painter_shown_died_by_1926(record):
    table = pd.read_csv(record)
    assert list(table.columns) == provenance.COLUMNS
    known = provenance.painters()
    for row in table.itertuples():
        assert row.painter in known.index, f"{record.name}: {row.painter} is not on the vetted painters list"
        assert known.loc[row.painter, "death_year"] == row.death_year <= provenance.LAST_DEATH_YEAR, row.painter
        assert str(row.source).startswith("https://"), f"{record.name}: no source for {row.painter}"


def test_readme_shows_no_painting_without_a_record():
    shown = re.findall(r"!\[[^\]]*\]\((figures/[^)]+\.png)\)", (ROOT / "README.md").read_text("utf-8"))
    for figure in map(Path, shown):
        if PAINTING_FIGURES.match(figure.name):
            assert provenance.record_path(ROOT / figure).is_file(), f"README shows {figure} without provenance"


def test_image_grid_refuses_a_painter_not_known_to_be_public_domain(tmp_path):
    rows = pd.DataFrame({"path": ["Pop_Art/andy-warhol_x.jpg"], "painter": ["andy-warhol"]})
    with pytest.raises(ValueError, match="not known to have died by 1926"):
        plots.image_grid([[[0, 0, 0]]], path=tmp_path / "x.png", paintings=rows)
    assert not list(tmp_path.iterdir()), "nothing is written for a refused figure"


def test_image_grid_writes_the_record_beside_the_figure(tmp_path):
    painters = provenance.painters()
    rows = pd.DataFrame({"path": ["Impressionism/claude-monet_x.jpg"], "painter": ["claude-monet"]})
    plots.image_grid([[[0, 0, 0]]], path=tmp_path / "grid.png", paintings=rows)
    record = pd.read_csv(tmp_path / "grid.provenance.csv")
    assert record.to_dict("records") == [{"path": "Impressionism/claude-monet_x.jpg", "painter": "claude-monet",
                                          "death_year": int(painters.loc["claude-monet", "death_year"]),
                                          "source": painters.loc["claude-monet", "source"]}]


def test_showable_is_false_for_unknown_and_late_painters():
    rows = pd.DataFrame({"painter": ["claude-monet", "andy-warhol", None]})
    assert provenance.showable(rows).tolist() == [True, False, False]
