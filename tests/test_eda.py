"""eda: the tables notebook 01 reads its prose from."""
from pathlib import Path

import pandas as pd
import pytest

from wikiart_utils import data, eda, labels, metadata

ROOT = Path(__file__).resolve().parents[1]


def toy_meta() -> pd.DataFrame:
    rows = [("Baroque", "portrait", "rembrandt"), ("Baroque", "portrait", ""), ("Baroque", "religious_painting", ""),
            ("Baroque", "", "rembrandt"), ("Rococo", "portrait", "claude-monet"), ("Rococo", "landscape", "")]
    meta = pd.DataFrame(rows, columns=["style", "genre", "artist"])
    meta["path"] = [f"{s}/p{i}_x.jpg" for i, s in enumerate(meta["style"])]
    meta["split"] = "train"
    return meta


@pytest.fixture(scope="module")
def real_sample() -> pd.DataFrame:
    return metadata.read_metadata(data.dataset_dir(None))


def test_source_subset_styles_are_wikiart_styles():
    assert len(eda.SOURCE_SUBSET_STYLES) == 11
    assert set(eda.SOURCE_SUBSET_STYLES) <= set(labels.vocab("style"))


def test_source_subset_styles_match_the_subset_results():
    """The subset runs' per-class tables have test rows for exactly these styles."""
    table = ROOT / "results" / "resnet18_lstm_patch" / "per_class_style.csv"
    if not table.is_file():
        pytest.skip(f"{table} not found")
    per_class = pd.read_csv(table)
    assert sorted(per_class.loc[per_class["support"] > 0, "class"]) == sorted(eda.SOURCE_SUBSET_STYLES)


def test_style_coverage_of_the_real_sample(real_sample):
    coverage = eda.style_coverage(real_sample)
    assert len(coverage) == 27
    assert coverage["where"].value_counts().to_dict() == {
        "not in the source subset": 16, "here": 8, "source subset only": 3}
    assert sorted(coverage.index[coverage["where"] == "source subset only"]) == [
        "Abstract_Expressionism", "Minimalism", "Pop_Art"]
    assert coverage["here"].sum() == len(real_sample)


def test_top_classes():
    top = eda.top_classes(toy_meta(), "style", "genre", k=2)
    assert list(top.index) == ["Baroque", "Rococo"]  # most genre-labelled first
    assert top.loc["Baroque", "n_genre_labelled"] == 3
    assert (top.loc["Baroque", "genre_1"], top.loc["Baroque", "share_1"]) == ("portrait", 0.67)
    assert (top.loc["Baroque", "genre_2"], top.loc["Baroque", "share_2"]) == ("religious_painting", 0.33)


def test_class_extremes_leaves_out_absent_classes():
    table = eda.class_extremes(toy_meta(), "artist", k=2)
    assert list(table["most here"]) == ["rembrandt", "claude-monet"]
    assert list(table["paintings "]) == [2, 1]  # the least represented present, never a zero
    assert len(table) == 2
    assert len(eda.class_extremes(toy_meta(), "artist", k=5)) == 2  # never more rows than classes present


def test_effective_classes():
    assert eda.effective_classes(pd.Series([5, 5, 5, 5])) == pytest.approx(4)
    assert eda.effective_classes(pd.Series([7, 0, 0])) == pytest.approx(1)
    assert 1 < eda.effective_classes(pd.Series([90, 5, 5])) < 3
