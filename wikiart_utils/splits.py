"""Deterministic, style-stratified train/val/test splits that never put one painting in two splits.

Paintings are grouped before splitting: rows sharing a file name (the same painting filed under two
styles -- 1,349 names in the real data) or a content hash (byte-identical files) form one group, and
a group goes to one split as a whole. Groups are ordered by a keyed hash, so the split depends only
on the seed and the data, not on the machine, the file order or Python's hash randomisation.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Sequence

import pandas as pd

SPLITS: tuple[str, ...] = ("train", "val", "test")


def painting_groups(paths: Sequence[str], hashes: Sequence[str] | None = None) -> list[int]:
    """Group id per row: union of rows that share a file name or a content hash (union-find)."""
    parent = list(range(len(paths)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_by_key: dict[tuple[str, str], int] = {}
    keys = [("name", p.replace("\\", "/").rsplit("/", 1)[-1]) for p in paths]
    if hashes is not None:
        keys += [("sha", h) for h in hashes if h]
    owners = list(range(len(paths))) + ([i for i, h in enumerate(hashes) if h] if hashes is not None else [])
    for key, row in zip(keys, owners):
        other = first_by_key.setdefault(key, row)
        root_a, root_b = find(row), find(other)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return [find(i) for i in range(len(paths))]


def _rank(seed: int, key: str) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode("utf-8")).hexdigest()


def assign_splits(table: pd.DataFrame, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0,
                  stratify: str = "style") -> pd.Series:
    """Split name per row of `table` (needs `path`, optionally `sha256` and the `stratify` column).

    Within each stratum (a group's first style in path order) groups are ranked by hash and cut at
    the cumulative fractions, rounding so that val/test get their share even in small strata.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, got {fractions}")
    if table.empty:
        return pd.Series([], dtype=object, index=table.index)
    paths = table["path"].astype(str).tolist()
    # a missing hash (NaN/None, e.g. after a merge) means "no hash": astype(str) would turn every one of
    # them into the same 'nan'/'None' key and merge all those paintings into one group, hence one split
    hashes = ["" if pd.isna(h) else str(h) for h in table["sha256"]] if "sha256" in table else None
    group_of = painting_groups(paths, hashes)
    members: dict[int, list[int]] = defaultdict(list)
    for row, group in enumerate(group_of):
        members[group].append(row)
    strata: dict[str, list[tuple[str, int]]] = defaultdict(list)
    labels = table[stratify].astype(str).tolist() if stratify in table else [""] * len(paths)
    for group, rows in members.items():
        first = min(rows, key=lambda r: paths[r])
        strata[labels[first]].append((_rank(seed, paths[first].rsplit("/", 1)[-1]), group))
    split_of_group: dict[int, str] = {}
    for stratum in sorted(strata):
        ranked = [g for _, g in sorted(strata[stratum])]
        n = len(ranked)
        n_test = int(round(n * fractions[2]))
        n_val = int(round(n * fractions[1]))
        if n - n_test - n_val < 1 and n > 0:  # a stratum always keeps at least one training painting
            n_val = max(0, min(n_val, n - 1 - n_test))
            n_test = max(0, min(n_test, n - 1))
        for i, group in enumerate(ranked):
            split_of_group[group] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return pd.Series([split_of_group[g] for g in group_of], index=table.index, dtype=object)


def stratified_part(table: pd.DataFrame, n: int | None, seed: int = 0, stratify: str = "style") -> pd.DataFrame:
    """At most `n` rows of `table` with the same share of every `stratify` class (at least one each), for a
    training run on a stated part of a split when a whole epoch is too slow. Rows are picked by a keyed
    hash of the path, so the part depends only on the seed and the data; their order is kept."""
    if n is None or n >= len(table):
        return table
    if n < 1:
        raise ValueError(f"a part of a split needs at least one row, got n={n}")
    share = n / len(table)
    kept = []
    for _, group in table.groupby(stratify, sort=True):
        ranked = sorted(group.index, key=lambda i: _rank(seed, str(table.at[i, "path"])))
        kept += ranked[:max(1, round(len(group) * share))]
    return table.loc[sorted(kept, key=table.index.get_loc)]
