# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,jupyter,-papermill
#     formats: ipynb,py:percent
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/01_eda_class_imbalance.ipynb)
#
# # 01 · Exploring WikiArt: three tasks, one long tail
#
# Every painting in WikiArt carries up to three labels: its **style** (the art movement, from Early
# Renaissance to Pop Art), its **genre** (the subject: landscape, portrait, ...) and its **artist**. Before
# training anything we look at how these labels are distributed, because that decides which numbers mean
# anything. Everything runs on the embedded real sample in a few seconds; set `DATA_DIR` to run it on the
# full WikiArt.
#
# ## What you will learn
#
# 1. the dataset directory contract (`metadata.csv`) and how many labels each task really has;
# 2. what the embedded sample covers of WikiArt, and why;
# 3. the long tail: a few classes own most paintings (linear and log plots);
# 4. unknown labels — an artist outside the 128 most represented painters, a missing genre — are
#    *missing*, never a class of their own;
# 5. how styles and genres co-occur, image sizes, and paintings filed under two styles;
# 6. why plain accuracy flatters a model on such data, and what to report instead.

# %%
# Colab only: clone the course into /content, install it, work in its notebooks/ folder. Locally: nothing.
import os, subprocess, sys
if "google.colab" in sys.modules:
    COURSE_REPO = "wikiart-course/wikiart-lstm"  # owner/name on GitHub: tools/colab_badges.py sets it
    PROJECT_DIR = "/content/" + COURSE_REPO.split("/")[1]
    if not os.path.isdir(PROJECT_DIR):
        subprocess.run(["git", "clone", "-q", f"https://github.com/{COURSE_REPO}.git", PROJECT_DIR], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", PROJECT_DIR], check=True)
    sys.path.insert(0, PROJECT_DIR)  # the editable install is seen by new processes; this one needs the path
    os.chdir(f"{PROJECT_DIR}/notebooks")

# %% [markdown]
# **Parameters** (the cell below; change them to run elsewhere): `DATA_DIR=None` runs on the embedded real sample,
# `data/real-sample/`: 2,426 real WikiArt paintings by painters who died by 1926 (public domain).
# `DATA_DIR="synthetic"` uses a generated sample instead (labels drawn from WikiArt's frequencies, pixels
# made up: what the unit tests use); a path runs on your own dataset directory. `PROFILE` ("sample" or "full",
# the GPU settings) matters from notebook 03 on; this one does not use it.

# %% tags=["parameters"]
DATA_DIR = None      # a dataset directory with metadata.csv; None = the embedded real sample; "synthetic"
PROFILE = "sample"   # "sample" (CPU, minutes) or "full" (real WikiArt); unused in this notebook
FIGURES = "../figures"

# %%
# %matplotlib inline
from pathlib import Path
import pandas as pd
import matplotlib.pyplot as plt
import wikiart_utils as wu
from wikiart_utils import data, eda, evaluate, metadata, plots

pd.set_option("display.width", 140)
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)
full = wu.labels.stats()  # counts of the full WikiArt, from the ArtGAN label files (shipped with the package)

# %% [markdown]
# ## The dataset directory
#
# Whatever the source — the ArtGAN `wikiart.zip`, the Hugging Face stream, or this course's real sample — a
# dataset is a folder `<Style>/<artist-slug>_<title>.jpg` plus a `metadata.csv` with one row per usable
# image, written by `python -m wikiart_utils index`. An empty `artist` or `genre` means *unknown*.
# `painter` keeps every slug, so we can still count the less represented painters. The file names are
# wikiart.zip's own, mangled accents included (`joaquΓö£╨│Γö¼╨╜n-sorolla_…`): `index` repairs them
# (`labels.name_key`) before joining the ArtGAN label files, and counts any file it cannot join.

# %%
meta = metadata.read_metadata(root)
print(f"{len(meta):,} images, columns: {list(meta.columns)}")
meta[["path", "style", "genre", "artist", "painter", "width", "height", "split"]].head()

# %% [markdown]
# One row per image: the path doubles as the style (its folder) and the painter (the slug before `_`).
# The first rows already show a missing label: Adriaen van Ostade is not one of the 128 artists, so
# `artist` is empty while `painter` keeps his slug.

# %% [markdown]
# ## What we are classifying
#
# Two paintings of each style in the sample, captioned artist / genre / style (`?` = unknown). The
# grid also writes `figures/01_paintings_by_style.provenance.csv`: each painting's path, painter, the
# painter's year of death and its source.

# %%
picks = eda.examples(meta, "style", k=2)
plots.image_grid([wu.images.decode(root / p) for p in picks["path"]], eda.captions(picks),
                 path=f"{FIGURES}/01_paintings_by_style.png", cell_size=2.0, paintings=picks)

# %% [markdown]
# Telling the two dark Baroque genre scenes from the dark Rococo religious painting is already hard at this
# size, and 12 of the 16 captions start with `artist?`. The sample's source squashed every painting to a square, so some look stretched.

# %% [markdown]
# ## What the sample covers
#
# WikiArt has 27 styles. The sample is cut from a public subset of it (`jalpv1/wiki-art-selected-resized`
# at commit `f7db1e48`, see `data/real-sample/README.md`) that holds only 11 of them, and keeps only
# painters who died by 1926 (public domain). The table lists the 11 and counts every case:

# %%
coverage = eda.style_coverage(meta)
print(coverage["where"].value_counts().to_string())
coverage[coverage.in_source_subset]

# %% [markdown]
# Of the 11 styles in the source subset, 8 are in the sample; the 3 marked "source subset only"
# (Abstract Expressionism, Minimalism and Pop Art) have no painter in it who died by 1926, so none of their
# paintings can be shipped. The other 16 WikiArt styles are not in the source subset at all — it is not
# the painters' dates that leave them out.

# %% [markdown]
# ## How many labels does each task have?
#
# Style is always known (it is the folder). Genre and artist are not: for the artist task a painting by a
# painter outside the 128 most represented is **unknown**, excluded from its loss and its metrics — not
# folded into some class.

# %%
print(f"full WikiArt: {full['n_images']:,} paintings; genre unknown {full['genre_unknown'] / full['n_images']:.3f}, "
      f"artist unknown {full['artist_unknown'] / full['n_images']:.3f} (the 128 artists are the painters with at "
      f"least {full['min_paintings_per_artist']} paintings)")
eda.unknown_share(meta)

# %% [markdown]
# In the sample one painting in six has no genre (0.165) and four in ten (0.420) are by painters outside the
# 128; in the full WikiArt the shares are one in five (0.202) and 0.453. A model's artist accuracy is
# therefore measured on the 1,407 of 2,426 paintings (58%) that have a known artist.

# %% [markdown]
# ## The long tail
#
# Sorted class frequencies, on a linear and a log scale. Each title gives the ratio between the most and
# the least frequent class present and, when some classes have no image here, how many.

# %%
fig, axes = plt.subplots(3, 2, figsize=(11, 12))  # at most ~11 inches wide: text legible at notebook width
for row, task in zip(axes, wu.labels.TASKS):
    counts = eda.label_counts(meta, task)
    plots.long_tail(counts, title=f"{task} (linear)", ax=row[0])
    plots.long_tail(counts, title=f"{task} (log)", log=True, ax=row[1])
fig.tight_layout()
fig.savefig(f"{FIGURES}/01_long_tail.png", dpi=110, bbox_inches="tight")
plt.show()

# %% [markdown]
# The log scale shows the tail the linear one hides. Styles range 136× (Impressionism to Fauvism), genres
# 529× — one abstract painting in the whole sample (the last bar of the genre log plot) — and the artists
# present 12.5× (100 paintings to 8; the title rounds it to 12×). The ratios count only the classes present:
# as the titles say, 19 of the 27 styles and 90 of the 128 artist classes have no painting here at all — the
# empty right-hand part of their plots.
#
# The same plot for the **full WikiArt**, counted from the ArtGAN label files, one task under another (the 27
# style names need the width):

# %%
fig, axes = plt.subplots(3, 1, figsize=(9, 11))  # one under another: 27 style names need the width
for ax, task in zip(axes, wu.labels.TASKS):
    plots.long_tail(eda.real_counts(task), title=f"full WikiArt: {task} (log)", log=True, ax=ax)
fig.tight_layout()
fig.savefig(f"{FIGURES}/01_long_tail_full_wikiart.png", dpi=110, bbox_inches="tight")
plt.show()

# %% [markdown]
# In the full WikiArt styles range 133×, about as steep as in the sample, while genres are much more even
# (7×): the sample's 529× comes from a genre it barely samples. Artists range 13×: every one of the 128 has
# at least 150 paintings by construction.

# %% [markdown]
# ## Most and least represented artists (here, and in the full WikiArt)

# %%
artists = eda.label_counts(meta, "artist")
print(f"{(artists > 0).sum()} of the 128 artists have paintings here; {(artists == 0).sum()} have none")
eda.class_extremes(meta, "artist", k=8)

# %% [markdown]
# Renoir and Monet lead here, with Pissarro and Rembrandt behind them; the least represented artists present
# have 8 or 9 paintings (`class_extremes` leaves out the 90 with none: their rows would all read 0). The
# full WikiArt's list differs because the sample keeps only painters dead by 1926 whose paintings are in
# its 11 source styles, and shrinks the big painters more than the small ones.

# %% [markdown]
# ## Which styles paint which genres?
#
# Row-normalised: each row shows what share of a style's (genre-labelled) paintings falls in each genre.

# %%
plots.cooccurrence_heatmap(meta, "style", "genre", normalize="row",
                           path=f"{FIGURES}/01_style_genre_heatmap.png")

# %% [markdown]
# The heatmap's rows are uneven. Its two largest cells per row, in numbers:

# %%
eda.top_classes(meta, "style", "genre", k=2)

# %% [markdown]
# Ukiyo-e here is first portrait (0.34), then genre painting (0.30); Baroque leans to religious painting
# (0.32) and portraits (0.27); Impressionism to landscapes (0.39); Rococo is half portraits (0.52). The
# small styles rest on few paintings (Fauvism: 8). Style and genre are far from independent, one reason a
# shared (multitask) representation helps.

# %% [markdown]
# ## Image sizes

# %%
eda.image_sizes(meta)

# %% [markdown]
# Every image of the sample is 128 × 128 (the table's min and max). Its source had squashed each painting
# to 224 × 224 and the sample was resized from there (`data/real-sample/README.md`). In wikiart.zip sizes
# vary, which is why `python -m wikiart_utils prepare` resizes a real dataset once before training.

# %% [markdown]
# ## Paintings filed under two styles
#
# In the full WikiArt some file names sit in two style folders: the same painting, labelled twice. The split
# function groups them (and byte-identical files) so that one painting never lands in both train and test.
# Here is how many there are in the full WikiArt (counted on the ArtGAN label files; README.md, "Splits"),
# and how many in this dataset:

# %%
twice = eda.double_filed(meta)
print(f"full WikiArt: {eda.DOUBLE_FILED_FULL:,} file names in two style folders")
print(f"here: {len(twice)} paintings filed under two styles; all in a single split: "
      f"{(~twice.splits.str.contains(',')).all()}")
twice.head()

# %% [markdown]
# The sample has none: it keeps a few paintings per painter out of its 32,245-painting source subset
# (`data/real-sample/README.md`), and no file name ended up in two of its style folders, so the table is
# empty. Run the notebook on the full WikiArt (`DATA_DIR`) to see the pairs, each kept within one split.

# %% [markdown]
# ## What the imbalance means for accuracy
#
# A model that always answers the most frequent class scores the **majority baseline** on top-1 accuracy
# (the share of predictions that are right). Two metrics see through it:
#
# - **macro-F1**: compute F1 for each class separately, then average over the classes with equal weight, so
#   a rare class counts as much as a frequent one. A class's F1 is the harmonic mean of its *precision* (of
#   the paintings predicted as that class, the share that really are) and its *recall* (below);
# - **balanced accuracy**: the recall (share of a class's paintings predicted correctly) averaged over
#   classes. The majority model gets recall 1 on its class and 0 on all others: 1/8 = 0.125 on the
#   sample's 8 styles, whatever the class sizes.
#
# Columns of the table: `n_labelled` paintings with a known label, the `majority_class` and what always
# answering it scores (`majority_accuracy`, `majority_macro_f1` averaged over the classes present),
# `chance` = 1 / the number of classes *present* among the labelled paintings (uniform random guessing
# over the 8 styles the sample holds, not all 27: guessing among classes that never occur would flatter a
# model; the tables of notebooks 03-08 use the same rule), and the max/min ratio of the long-tail plots.

# %%
eda.accuracy_paradox(meta)

# %% [markdown]
# "Always Impressionism" scores 0.449 style accuracy here, 3.6 times chance (0.125), with a macro-F1 of 0.078;
# always answering portrait scores 0.261 on genre. So from notebook 03 on, each model's score table puts its
# top-1 beside `n`, this majority baseline and chance, with a 95% confidence interval (from the bootstrap:
# the scored paintings redrawn with replacement many times; notebook 07 builds it by hand), and beside
# macro-F1 and balanced accuracy. Tables that compare many runs at once keep top-1 with its interval, `n`
# and the baseline.
#
# **A cautionary tale.** What we have of an earlier public CNN-LSTM WikiArt project is its test protocol:
# a test list of 6,109 rows with 128 artist classes (the lists are kept outside this repository), and the
# top-1 it reported. Its artist labels put every painting by a less represented artist into one real
# artist's class. Its numbers, as `wikiart_utils.evaluate.OLDER_PROJECT` keeps them:

# %%
old = evaluate.OLDER_PROJECT
print("reported top-1:", old["reported_top1"])
print(f"share of its test rows in the artist majority class: {old['majority_artist_share']:.3f}")
print(old["note"])

# %% [markdown]
# On that list "always answer Dürer" already scores 0.520 artist accuracy, most of the 0.6518 it
# reported: a majority baseline that high hides how little a model learned about the other artists. Notebook 08
# measures how much that convention inflates a model's artist score.

# %% [markdown]
# ## Take-aways
#
# - The three tasks are imbalanced in different ways: style has a steep tail, genre a missing label for
#   one painting in six, artist a missing label for four in ten.
# - Unknown labels are missing, not a class: report per-task metrics over *labelled* rows only.
# - Show `n`, the majority baseline and a confidence interval beside every accuracy; prefer macro-F1 and
#   balanced accuracy to compare models across the long tail.
# - Know your sample: this one has 8 of 27 styles and 38 of 128 artists, so the course's sample numbers
#   are not full-WikiArt numbers.
#
# Next: `02_dataset_and_dataloaders.ipynb` turns this table into tensors.

# %% [markdown]
# ## Exercises
#
# Each solution is folded under its exercise: try first, then open it. It states the answer and holds the
# code that computes it, which you can paste into a cell and run.

# %% [markdown]
# **Exercise 1 (quick).** What share of the artist labels is unknown in the **train** split only? Is it
# close to the share over the whole sample?
#
# <details><summary>Hint</summary>Filter <code>meta[meta.split == "train"]</code> and pass it to
# <code>eda.unknown_share</code>.</details>
#
# <details><summary>Solution</summary>
#
# 0.422 in train against 0.420 overall (the `artist` row). The splits are stratified by style (each style
# is split in the same proportions, so every split has the same style shares), not by artist, yet the shares agree: the split hashes each file name, which is as good as random with respect to
# who painted it. The artist shares of the small val and test splits (243 paintings each) wander further
# (0.387 and 0.436): with 243 paintings a share of 0.42 has a standard error of about 0.03, so gaps of that
# size are what chance alone produces.
#
# ```python
# shares = {split: eda.unknown_share(meta[meta.split == split])["unknown_share"] for split in ("train", "val", "test")}
# pd.DataFrame({**shares, "whole sample": eda.unknown_share(meta)["unknown_share"]})
# ```
#
# </details>

# %% [markdown]
# **Exercise 2 (medium).** Compute the majority baseline of each task on the **full WikiArt**
# (`eda.real_counts`) and compare it with the sample's (`eda.accuracy_paradox`). Which task's baseline
# changes most, and why?
#
# <details><summary>Hint</summary>The majority baseline is <code>counts.max() / counts.sum()</code>; for
# artist and genre, <code>real_counts</code> counts labelled paintings only.</details>
#
# <details><summary>Solution</summary>
#
# Style changes most: 0.449 in the sample against 0.160 in the full WikiArt. With only 8 styles, Impressionism
# holds almost half of the sample, while among the full WikiArt's 27 styles it is a much smaller share. Genre
# (0.261 against 0.217) and artist (0.071 against 0.042) move far less. A baseline belongs to a dataset, never
# to a task.
#
# ```python
# sample_base = eda.accuracy_paradox(meta)["majority_accuracy"]
# full_base = pd.Series({t: eda.real_counts(t).max() / eda.real_counts(t).sum() for t in wu.labels.TASKS})
# pd.DataFrame({"sample": sample_base, "full WikiArt": full_base.round(3)})
# ```
#
# </details>

# %% [markdown]
# **Exercise 3 (open-ended).** Max/min ratios depend on the rarest class alone. Find a measure of
# imbalance that uses the whole distribution, e.g. the *effective number of classes* exp(entropy), and
# compare the tasks in the sample and in the full WikiArt. What other measure would you report?
#
# <details><summary>Hint</summary><code>eda.effective_classes(counts)</code> computes exp(−Σ p log p);
# compare it with the number of classes present. Also try the Gini coefficient or the share of paintings
# in the largest 10% of classes.</details>
#
# <details><summary>Solution</summary>
#
# The effective number of classes is well below the number present in every case: the sample's 8 styles
# behave like 4.2 equally frequent ones, its 10 genres like 6.2, its 38 artists like 33. Relative to its
# number of classes (the last two columns), style is the most uneven task both here (0.52, against 0.62 for
# genre and 0.87 for artist) and in the full WikiArt (0.62, against 0.80 and 0.78). Another measure worth
# reporting is the smallest class's *test* support: a class with a handful of test paintings gets a per-class score too
# noisy to read, whatever the global ratios say. The Gini coefficient of the counts is a third option.
#
# ```python
# rows = {}
# for task in wu.labels.TASKS:
#     here, whole = eda.label_counts(meta, task), eda.real_counts(task)
#     rows[task] = {"present here": int((here > 0).sum()), "effective here": round(eda.effective_classes(here), 1),
#                   "present full": int((whole > 0).sum()), "effective full": round(eda.effective_classes(whole), 1)}
# table = pd.DataFrame.from_dict(rows, orient="index")
# table["effective/present here"] = (table["effective here"] / table["present here"]).round(2)
# table["effective/present full"] = (table["effective full"] / table["present full"]).round(2)
# table
# ```
#
# </details>

# %% [markdown]
# ## Further reading
#
# - W. R. Tan, C. S. Chan, H. E. Aguirre and K. Tanaka, "Ceci n'est pas une pipe: A deep convolutional network for fine-art paintings classification", ICIP 2016 — the WikiArt style / genre / artist tasks and the label files this course uses.
# - W. R. Tan, C. S. Chan, H. E. Aguirre and K. Tanaka, "Improved ArtGAN for Conditional Synthesis of Natural Image and Artwork", IEEE Transactions on Image Processing, 2019 — the ArtGAN release of `wikiart.zip` and its CSVs.
# - N. Japkowicz and S. Stephen, "The class imbalance problem: A systematic study", Intelligent Data Analysis, 2002.
# - H. He and E. A. Garcia, "Learning from imbalanced data", IEEE Transactions on Knowledge and Data Engineering, 2009.
# - B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall, 1993 — the confidence intervals reported beside every accuracy.
