"""Splits: deterministic, order-independent, stratified, and never one painting in two splits."""
from __future__ import annotations

import collections

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wikiart_utils import labels, splits

STYLES = labels.vocab("style")


def _table(paths, hashes=None, styles=None) -> pd.DataFrame:
    table = pd.DataFrame({"path": list(paths)})
    table["style"] = list(styles) if styles is not None else [p.split("/", 1)[0] for p in paths]
    if hashes is not None:
        table["sha256"] = list(hashes)
    return table


def _mapping(table: pd.DataFrame, result: pd.Series) -> dict[str, str]:
    return dict(zip(table["path"], result))


def _assert_groups_share_split(table: pd.DataFrame, result: pd.Series) -> None:
    names = table["path"].astype(str).str.replace("\\", "/", regex=False).str.rsplit("/", n=1).str[-1]
    for key in [names] + ([table["sha256"].where(table["sha256"] != "")] if "sha256" in table else []):
        per_key = result.groupby(key.to_numpy(), dropna=True).nunique()
        assert (per_key <= 1).all(), per_key[per_key > 1]


# --------------------------------------------------------------------------- strategies

_names = st.text(alphabet="abcdefg-", min_size=1, max_size=4).map(lambda s: f"painter_{s}.jpg")
_hashes = st.sampled_from(["", "", "", "h1", "h2", "h3", "h4"])


@st.composite
def _unique_rows(draw, max_size=80):
    """Unique paths '<Style>/<name>', names and hashes drawn from small sets so that collisions are common."""
    rows = draw(st.lists(st.tuples(st.sampled_from(STYLES[:5]), _names), max_size=max_size,
                         unique_by=lambda r: f"{r[0]}/{r[1]}"))
    hashes = draw(st.lists(_hashes, min_size=len(rows), max_size=len(rows)))
    return _table([f"{s}/{n}" for s, n in rows], hashes)


_fractions = st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)).filter(
    lambda t: sum(t) > 0).map(lambda t: tuple(x / sum(t) for x in t))


# --------------------------------------------------------------------------- properties

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=_unique_rows(), seed=st.integers(0, 2**32 - 1), fractions=_fractions, data=st.data())
def test_deterministic_and_order_independent(table, seed, fractions, data):
    first = splits.assign_splits(table, fractions, seed)
    assert first.tolist() == splits.assign_splits(table.copy(), fractions, seed).tolist()
    assert list(first.index) == list(table.index)
    order = data.draw(st.permutations(range(len(table))))
    shuffled = table.iloc[list(order)].reset_index(drop=True)
    assert _mapping(shuffled, splits.assign_splits(shuffled, fractions, seed)) == _mapping(table, first)


@settings(max_examples=80, deadline=None)
@given(table=_unique_rows(), seed=st.integers(0, 1000), fractions=_fractions)
def test_no_painting_in_two_splits(table, seed, fractions):
    result = splits.assign_splits(table, fractions, seed)
    assert set(result) <= set(splits.SPLITS)
    _assert_groups_share_split(table, result)
    # every non-empty stratum keeps at least one painting for training
    if len(table):
        strata = collections.defaultdict(set)
        groups = splits.painting_groups(table["path"].tolist(), table["sha256"].tolist())
        for row, group in enumerate(groups):
            first = min((r for r, g in enumerate(groups) if g == group), key=lambda r: table["path"][r])
            strata[table["style"][first]].add(result.iloc[row])
        assert all("train" in s for s in strata.values())


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.text(max_size=12), st.text(max_size=6),
                               st.one_of(st.none(), st.text(max_size=3))), max_size=40),
       seed=st.integers(-5, 5))
def test_no_crash_on_arbitrary_rows(rows, seed):
    table = pd.DataFrame(rows, columns=["path", "style", "sha256"], index=[f"r{i}" for i in range(len(rows))])
    result = splits.assign_splits(table, seed=seed)
    assert list(result.index) == list(table.index)
    assert set(result) <= set(splits.SPLITS)
    assert len(result) == len(table)


def test_missing_hashes_do_not_merge_paintings():
    """NaN/None content hashes (e.g. after a merge) mean 'no hash', not one shared hash for all rows."""
    paths = [f"Impressionism/painter_{i}.jpg" for i in range(100)]
    for missing in (np.nan, None, ""):
        table = _table(paths, [missing] * 100)
        counts = splits.assign_splits(table).value_counts().to_dict()
        assert counts == {"train": 80, "val": 10, "test": 10}, (missing, counts)


@pytest.mark.parametrize("fractions", [(0.8, 0.1, 0.1), (0.7, 0.15, 0.15), (0.6, 0.2, 0.2)])
def test_stratified_within_bounds(fractions):
    rng = np.random.default_rng(7)
    sizes = {style: int(n) for style, n in zip(STYLES, rng.integers(20, 400, size=len(STYLES)))}
    paths = [f"{style}/painter-{i % 13}_{style.lower()}-{i}.jpg" for style, n in sizes.items() for i in range(n)]
    table = _table(paths, [f"sha-{i}" for i in range(len(paths))])
    result = splits.assign_splits(table, fractions, seed=3)
    for style, n in sizes.items():
        share = result[table["style"] == style].value_counts(normalize=True)
        assert abs(share.get("val", 0) - fractions[1]) <= 0.03, (style, n, share.to_dict())
        assert abs(share.get("test", 0) - fractions[2]) <= 0.03, (style, n, share.to_dict())


def test_small_strata_still_get_val_and_test():
    paths = [f"Action_painting/p_{i}.jpg" for i in range(20)]
    counts = splits.assign_splits(_table(paths)).value_counts().to_dict()
    assert counts == {"train": 16, "val": 2, "test": 2}
    assert splits.assign_splits(_table(["Ukiyo_e/p_a.jpg"])).tolist() == ["train"]


def test_seed_changes_assignment():
    paths = [f"Impressionism/painter_{i}.jpg" for i in range(200)]
    a = splits.assign_splits(_table(paths), seed=0)
    b = splits.assign_splits(_table(paths), seed=1)
    assert a.value_counts().to_dict() == b.value_counts().to_dict()
    assert (a != b).any()


def test_same_name_in_two_styles_and_identical_bytes_grouped():
    table = _table(
        ["Impressionism/monet_a.jpg", "Realism/monet_a.jpg",       # same painting, two style folders
         "Baroque/x_b.jpg", "Rococo/y_c.jpg", "Cubism/z_d.jpg",   # byte-identical files, different names
         "Cubism/q_e.jpg"],
        ["h1", "h2", "same", "same", "same", "h3"])
    groups = splits.painting_groups(table["path"].tolist(), table["sha256"].tolist())
    assert groups[0] == groups[1] and groups[2] == groups[3] == groups[4]
    assert len({groups[0], groups[2], groups[5]}) == 3
    # chained: names link rows 0-1, hashes link 1-2
    chained = splits.painting_groups(["A/n_1.jpg", "B/n_1.jpg", "C/m_2.jpg"], ["", "hx", "hx"])
    assert len(set(chained)) == 1
    assert splits.painting_groups(["A\\w_1.jpg", "B/w_1.jpg"]) == [0, 0]


def test_empty_table():
    result = splits.assign_splits(pd.DataFrame({"path": [], "style": []}))
    assert result.empty


@pytest.mark.parametrize("fractions", [(0.5, 0.5), (0.8, 0.1, 0.2), (1.1, -0.05, -0.05), (0.8, 0.1, 0.05, 0.05),
                                       (0.0, 0.0, 0.0)])
def test_bad_fractions(fractions):
    with pytest.raises(ValueError, match="split fractions"):
        splits.assign_splits(_table(["Baroque/a_b.jpg"]), fractions)


# --------------------------------------------------------------------------- real ArtGAN table

def test_real_double_filed_names_land_in_one_split(artgan_table):
    table = artgan_table
    result = splits.assign_splits(table, seed=0)
    names = table["path"].str.rsplit("/", n=1).str[-1]
    doubled = names.duplicated(keep=False)
    assert doubled.sum() == 2 * 1349
    assert result[doubled].groupby(names[doubled]).nunique().eq(1).all()
    shares = result.value_counts(normalize=True)
    for split, target in zip(splits.SPLITS, (0.8, 0.1, 0.1)):
        assert abs(shares[split] - target) < 0.005
    # stratified: every style's val/test share within 2 points of 10% (styles have >= 98 paintings)
    per_style = pd.crosstab(table["style"], result, normalize="index")
    assert (per_style[["val", "test"]].sub(0.1).abs() < 0.02).all().all()
    assert result.tolist() == splits.assign_splits(table.iloc[::-1], seed=0).iloc[::-1].tolist()
