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
# Every painting in WikiArt carries up to three labels: its **style** (27 movements, from Early Renaissance
# to Pop Art), its **genre** (10 subjects: landscape, portrait, ...) and its **artist**. Before training
# anything we look at how these labels are distributed, because that decides which numbers mean anything.
#
# You will see:
# 1. the dataset directory contract (`metadata.csv`) and how many labels each task really has;
# 2. the long tail: a few classes own most paintings (linear and log plots);
# 3. unknown labels — an artist outside the 128 most represented painters, a missing genre — which are
#    *missing*, never a class of their own;
# 4. how styles and genres co-occur, image sizes, and paintings filed under two styles;
# 5. why plain accuracy flatters a model on such data, and what to report instead.

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
# **Parameters** (papermill can override them): `DATA_DIR=None` runs on the embedded real sample,
# `data/real-sample/`: 2,426 real WikiArt paintings by painters who died by 1926 (public domain).

# %% tags=["parameters"]
DATA_DIR = None      # a dataset directory with metadata.csv; None = the embedded real sample; "synthetic"
PROFILE = "sample"   # "sample" (CPU, minutes) or "full" (real WikiArt)
FIGURES = "../figures"

# %%
# %matplotlib inline
# NBVAL_IGNORE_OUTPUT
from pathlib import Path
import pandas as pd
import matplotlib.pyplot as plt
import wikiart_utils as wu
from wikiart_utils import data, eda, index, plots

pd.set_option("display.width", 140)
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)

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
meta = index.read_metadata(root)
print(f"{len(meta):,} images, columns: {list(meta.columns)}")
meta[["path", "style", "genre", "artist", "painter", "width", "height", "split"]].head()

# %% [markdown]
# ## What we are classifying
#
# Two paintings of each style in the sample, captioned artist / genre / style (`?` = unknown). The
# sample's source squashed every painting to a square, so some look stretched.

# %%
picks = eda.examples(meta, "style", k=2)
plots.image_grid([wu.images.decode(root / p) for p in picks["path"]], eda.captions(picks), ncols=8,
                 path=f"{FIGURES}/01_paintings_by_style.png", cell_size=2.0)

# %% [markdown]
# ## How many labels does each task have?
#
# Style is always known (it is the folder). One painting in six here has no genre in the ArtGAN files
# (one in five in the full WikiArt), and about four in ten are by painters outside the 128 with at least
# 150 paintings in the full WikiArt: for the artist task these are **unknown**, excluded from its loss and
# its metrics — not folded into some class.

# %%
eda.unknown_share(meta)

# %% [markdown]
# ## The long tail
#
# Sorted class frequencies, on a linear and a log scale. The log scale shows the tail the linear one hides.

# %%
fig, axes = plt.subplots(3, 2, figsize=(14, 10))
for row, task in zip(axes, wu.labels.TASKS):
    counts = eda.label_counts(meta, task)
    plots.long_tail(counts, title=f"{task} (linear)", ax=row[0])
    plots.long_tail(counts, title=f"{task} (log)", log=True, ax=row[1])
fig.tight_layout()
fig.savefig(f"{FIGURES}/01_long_tail.png", dpi=110, bbox_inches="tight")

# %% [markdown]
# The same plot for the **full WikiArt** (81,446 paintings, counted from the ArtGAN label files and shipped
# with the package). The real sample keeps 8 of the 27 styles: the others (Abstract Expressionism, Pop
# Art, …) have no painter who died by 1926, so they cannot be shipped; its tail is shorter but as steep.

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
for ax, task in zip(axes, wu.labels.TASKS):
    plots.long_tail(eda.real_counts(task), title=f"full WikiArt: {task} (log)", log=True, ax=ax)
fig.tight_layout()
fig.savefig(f"{FIGURES}/01_long_tail_full_wikiart.png", dpi=110, bbox_inches="tight")

# %% [markdown]
# ## Most and least represented artists (here, and in the full WikiArt)

# %%
here, full = eda.label_counts(meta, "artist"), eda.real_counts("artist")
pd.DataFrame({"top artists": here.index[:8], "paintings": here.values[:8],
              "bottom artists": here.index[-8:], "paintings ": here.values[-8:],
              "full WikiArt top": full.index[:8], "full": full.values[:8]})

# %% [markdown]
# ## Which styles paint which genres?
#
# Row-normalised: each row shows what share of a style's (genre-labelled) paintings falls in each genre.
# Ukiyo-e is mostly genre painting and landscape, Baroque leans to portraits and religious painting,
# Impressionism to landscapes: style and genre are far from independent, one reason a shared (multitask)
# representation helps.

# %%
plots.cooccurrence_heatmap(meta, "style", "genre", normalize="row",
                           path=f"{FIGURES}/01_style_genre_heatmap.png")

# %% [markdown]
# ## Image sizes
#
# Every image of the sample is 128 × 128: its source squashed each painting to 224 × 224 and the sample
# was resized from there. In wikiart.zip sizes vary (a few hundred to several thousand pixels a side), which
# is why `python -m wikiart_utils prepare` resizes a real dataset once before training.

# %%
eda.image_sizes(meta)

# %% [markdown]
# ## Paintings filed under two styles
#
# In the real data 1,349 file names sit in two style folders: the same painting, labelled twice. The split
# function groups them (and byte-identical files) so that one painting never lands in both train and test.

# %%
twice = eda.double_filed(meta)
print(f"{len(twice)} paintings filed under two styles; all in a single split: {(~twice.splits.str.contains(',')).all()}")
twice.head()

# %% [markdown]
# ## What the imbalance means for accuracy
#
# A model that always answers the most frequent class scores the **majority baseline** on top-1 accuracy,
# with a macro-F1 near zero. Every accuracy in this course is therefore shown beside that baseline, with a
# 95% interval, and beside macro-F1 and balanced accuracy.
#
# A cautionary tale: an earlier CNN-LSTM WikiArt project put every painting by a less represented artist
# into one real artist's class (`albrecht-durer`). On its test list that class holds 52% of the rows — so
# "always answer Dürer" scores 52% artist accuracy there. Notebook 07 measures how much that convention
# inflates a model's artist score.

# %%
eda.accuracy_paradox(meta)

# %% [markdown]
# **Take-aways.** Report per-task metrics over *labelled* rows only; show `n`, the majority baseline and a
# confidence interval; prefer macro-F1 / balanced accuracy to compare models across the long tail.
# Next: `02_dataset_and_dataloaders.ipynb` turns this table into tensors.
