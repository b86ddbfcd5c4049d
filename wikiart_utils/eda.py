"""Dataset statistics for the EDA notebooks: counts, unknown shares, splits, the accuracy paradox.

All functions take the `metadata.csv` table (metadata.read_metadata) and return small DataFrames, so a
notebook cell is one call and one display.
"""
from __future__ import annotations

import math

import pandas as pd

from . import labels, splits

# The 11 styles of the embedded sample's source, the public subset jalpv1/wiki-art-selected-resized at
# commit f7db1e48 (data/real-sample/README.md; they are the styles with test rows in
# results/*/per_class_style.csv, which were scored on that subset).
SOURCE_SUBSET_STYLES = ("Abstract_Expressionism", "Baroque", "Cubism", "Fauvism", "Impressionism", "Minimalism",
                        "Naive_Art_Primitivism", "Pointillism", "Pop_Art", "Rococo", "Ukiyo_e")

# File names that sit in two style folders of the full WikiArt, counted on the ArtGAN label files
# (README.md, "Splits"; tests/test_artgan.py::test_double_filed_names).
DOUBLE_FILED_FULL = 1349


def label_counts(meta: pd.DataFrame, task: str) -> pd.Series:
    """Images per class of `task` (labelled rows only), most frequent first; zero-count classes kept."""
    counts = meta.loc[meta[task] != "", task].value_counts()
    return counts.reindex(labels.vocab(task), fill_value=0).sort_values(ascending=False, kind="stable")


def real_counts(task: str) -> pd.Series:
    """The same counts in the full WikiArt (ArtGAN label files, shipped with the package)."""
    key = {"artist": "artist_counts", "genre": "genre_counts", "style": "style_counts"}[task]
    return pd.Series(labels.stats()[key], name=task).sort_values(ascending=False, kind="stable")


def unknown_share(meta: pd.DataFrame) -> pd.DataFrame:
    """Labelled and unknown rows per task: unknowns are missing labels, not a class."""
    rows = []
    for task in labels.TASKS:
        unknown = int((meta[task] == "").sum())
        rows.append({"task": task, "classes": len(labels.vocab(task)), "labelled": len(meta) - unknown,
                     "unknown": unknown, "unknown_share": round(unknown / max(len(meta), 1), 3)})
    return pd.DataFrame(rows).set_index("task")


def accuracy_paradox(meta: pd.DataFrame) -> pd.DataFrame:
    """Per task: what always answering the most frequent class scores, against chance (1 / the classes
    present, as `metrics` counts it) and macro-F1.

    The majority baseline is the floor any reported accuracy must be read against; its macro-F1 is
    tiny, which is why macro-F1 and balanced accuracy are reported beside top-1.
    """
    rows = []
    for task in labels.TASKS:
        counts = label_counts(meta, task)
        n = int(counts.sum())
        present = counts[counts > 0]
        top = present.iloc[0] if len(present) else 0
        rows.append({
            "task": task, "n_labelled": n, "majority_class": present.index[0] if len(present) else "",
            "majority_accuracy": round(top / n, 3) if n else float("nan"),
            "majority_macro_f1": round((2 * top / (n + top)) / len(present), 4) if n else float("nan"),
            "chance": round(1 / len(present), 4) if len(present) else float("nan"),
            "imbalance_max_over_min": round(present.iloc[0] / present.iloc[-1], 1) if len(present) else float("nan"),
        })
    return pd.DataFrame(rows).set_index("task")


def double_filed(meta: pd.DataFrame) -> pd.DataFrame:
    """Paintings whose file name appears in more than one style folder, with their styles and splits."""
    names = meta["path"].str.rsplit("/", n=1).str[-1]
    grouped = meta.assign(name=names).groupby("name")
    multi = grouped.filter(lambda g: len(g) > 1)
    if multi.empty:
        return pd.DataFrame(columns=["styles", "splits", "same_bytes"])
    return multi.groupby("name").agg(
        styles=("style", lambda s: " + ".join(sorted(s))),
        splits=("split", lambda s: ",".join(sorted(set(s)))),
        same_bytes=("sha256", lambda h: h.nunique() == 1),
    )


def split_sizes(meta: pd.DataFrame) -> pd.DataFrame:
    """Rows and labelled rows per split and task."""
    table = {split: {"images": int((meta["split"] == split).sum()),
                     **{f"{task}_labelled": int(((meta["split"] == split) & (meta[task] != "")).sum())
                        for task in labels.TASKS}} for split in splits.SPLITS}
    return pd.DataFrame(table).T


def split_balance(meta: pd.DataFrame, task: str = "style") -> pd.DataFrame:
    """Share of each class within each split: stratification keeps the columns alike."""
    labelled = meta[meta[task] != ""]
    share = pd.crosstab(labelled[task], labelled["split"], normalize="columns")
    return share.reindex(columns=[s for s in splits.SPLITS if s in share.columns]).sort_values(
        "train", ascending=False)


def image_sizes(meta: pd.DataFrame) -> pd.DataFrame:
    """Width, height, short side, aspect ratio and file size quantiles."""
    sizes = pd.DataFrame({"width": meta["width"], "height": meta["height"],
                          "short_side": meta[["width", "height"]].min(axis=1),
                          "aspect": (meta["width"] / meta["height"]).round(3), "kB": meta["bytes"] / 1000})
    return sizes.describe(percentiles=[0.05, 0.5, 0.95]).T.round(2)


def examples(meta: pd.DataFrame, by: str = "style", k: int = 2) -> pd.DataFrame:
    """The first `k` paintings of each `by` class in path order (deterministic): something to look at."""
    return meta.sort_values("path").groupby(by, sort=True).head(k).sort_values([by, "path"])


def captions(rows: pd.DataFrame, width: int | None = None) -> list[str]:
    """'artist / genre / style' per row, '?' for an unknown label; names whole (`plots.image_grid` wraps a
    line too long for its cell), or each cut to `width` characters when given."""
    return ["\n".join((row[task] or f"{task}?")[:width] for task in ("artist", "genre", "style"))
            for _, row in rows.iterrows()]


def style_coverage(meta: pd.DataFrame) -> pd.DataFrame:
    """Each of WikiArt's 27 styles: paintings in the full WikiArt, in the sample's source subset or not,
    and paintings in `meta`; `where` says which of the three cases it is."""
    full = real_counts("style")
    here = meta["style"].value_counts().reindex(full.index, fill_value=0)
    in_subset = full.index.isin(SOURCE_SUBSET_STYLES)
    where = ["here" if n else ("source subset only" if sub else "not in the source subset")
             for n, sub in zip(here, in_subset)]
    return pd.DataFrame({"full_wikiart": full.values, "in_source_subset": in_subset, "here": here.values,
                         "where": where}, index=full.index.rename("style"))


def top_classes(meta: pd.DataFrame, by: str = "style", of: str = "genre", k: int = 2) -> pd.DataFrame:
    """For each `by` class (most frequent first): how many of its rows have an `of` label, and its `k`
    most frequent `of` classes with their shares of those rows -- the heatmap's row maxima, in numbers."""
    known = meta[(meta[by] != "") & (meta[of] != "")]
    shares = pd.crosstab(known[by], known[of], normalize="index")
    sizes = known[by].value_counts()
    rows = []
    for name in sizes.index:
        top = shares.loc[name].sort_values(ascending=False, kind="stable").head(k)
        row = {by: name, f"n_{of}_labelled": int(sizes[name])}
        for i, (cls, share) in enumerate(top.items(), 1):
            row[f"{of}_{i}"], row[f"share_{i}"] = cls, round(float(share), 2)
        rows.append(row)
    return pd.DataFrame(rows).set_index(by)


def class_extremes(meta: pd.DataFrame, task: str = "artist", k: int = 8) -> pd.DataFrame:
    """The `k` most and the `k` least represented classes of `task` that have rows in `meta`, beside the
    `k` most represented in the full WikiArt. Classes with no row here are left out of "least"."""
    here, full = label_counts(meta, task), real_counts(task)
    present = here[here > 0]
    k = min(k, len(present), len(full))
    return pd.DataFrame({"most here": present.index[:k], "paintings": present.values[:k],
                         "least here (>= 1)": present.index[-k:], "paintings ": present.values[-k:],
                         "most in full WikiArt": full.index[:k], "paintings  ": full.values[:k]})


def effective_classes(counts: pd.Series) -> float:
    """exp(entropy) of a class distribution: the number of equally frequent classes with the same
    entropy. Equals the number of classes when balanced, approaches 1 when one class dominates."""
    p = pd.Series(counts, dtype=float)
    p = p[p > 0] / p.sum()
    return float(math.exp(-(p * p.apply(math.log)).sum())) if len(p) else float("nan")
