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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/02_dataset_and_dataloaders.ipynb)
#
# # 02 · From files to batches: splits, the Dataset and fast DataLoaders
#
# This notebook builds what every training notebook uses:
# 1. deterministic, style-stratified **splits** that never put one painting in two splits;
# 2. a torch **Dataset** that decodes any image safely (CMYK, grey, 16-bit, EXIF-rotated; damaged files
#    skipped, never crashing an epoch) and returns the three labels with `-1` where unknown;
# 3. `torchvision.transforms.v2` pipelines for training and evaluation;
# 4. a **DataLoader** and how many images per second it delivers.

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

# %% tags=["parameters"]
DATA_DIR = None      # a dataset directory with metadata.csv; None = the embedded real sample; "synthetic"
PROFILE = "sample"   # "sample" (CPU, minutes) or "full" (real WikiArt)
IMAGE_SIZE = 96      # 224 for the full dataset on a GPU
BATCH_SIZE = 32
WORKERS = 0          # DataLoader worker processes (Colab: 2)
FIGURES = "../figures"

# %%
# %matplotlib inline
from pathlib import Path
import pandas as pd
import torch
import wikiart_utils as wu
from wikiart_utils import data, eda, gpu_input, index, plots, splits

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)
meta = index.read_metadata(root)

# %% [markdown]
# ## Splits
#
# `index` assigned each painting to train / val / test (80/10/10) by hashing its file name with a seed:
# deterministic on any machine, stratified by style, and grouped so that a painting filed under two styles
# or two byte-identical files share one split. The counts per split and task:

# %%
eda.split_sizes(meta)

# %% [markdown]
# Stratification keeps each style's share nearly equal across splits (the ten most frequent styles):

# %%
eda.split_balance(meta, 'style').head(10).round(3)

# %% [markdown]
# A check worth keeping in any project: no painting (same file name or same bytes) in two splits.

# %%
groups = pd.Series(splits.painting_groups(meta.path.tolist(), meta.sha256.tolist()))
leaks = meta.groupby(groups.values).split.nunique().gt(1).sum()
print(f"{groups.nunique()} paintings in {len(meta)} files; paintings in more than one split: {leaks}")

# %% [markdown]
# ## The Dataset
#
# `WikiArtDataset(root, split, image_size)` returns `(image, targets)`: the image as a uint8 tensor
# `[3, H, W]` and the three class indices in the order artist, genre, style — `-1` where unknown.
# Images stay uint8 until the model: its first step, `data.normalize`, applies the ImageNet normalisation
# on the model's own device. The loader workers then skip a float pass over every pixel, and a batch
# crossing to the GPU is 4x smaller. JPEGs are decoded by libjpeg-turbo already scaled down in the DCT
# (a 1280x1024 painting comes out at 320x256 for 224 px), so no full-size image is ever built.

# %%
train_set = data.WikiArtDataset(root, "train", IMAGE_SIZE)
val_set = data.WikiArtDataset(root, "val", IMAGE_SIZE)
image, targets = train_set[0]
print(len(train_set), "train /", len(val_set), "val images")
print("image:", tuple(image.shape), image.dtype, "| targets (artist, genre, style):", targets.tolist())
print({task: wu.labels.decode(task, int(t)) or "(unknown)" for task, t in zip(wu.labels.TASKS, targets)})

# %% [markdown]
# ## Transforms
#
# Training: a random crop of 35–100% of the painting resized to `IMAGE_SIZE`, a horizontal flip and mild
# colour jitter (style lives in colour, so we jitter little). Evaluation: resize the short side to
# 256/224 of `IMAGE_SIZE` and take the centre crop, as torchvision's own eval transforms for its ImageNet
# weights do. On a copy made by `prepare --size 256` that resize is a no-op. Neither pipeline normalises
# (see above).

# %%
print(train_set.transform)
print(val_set.transform)

# %%
original = train_set.load(0)
views = [data.to_display(train_set.transform(original)) for _ in range(7)]
captions = ["original"] + [f"train view {i + 1}" for i in range(7)]
plots.image_grid([data.to_display(original)] + views, captions, ncols=8, path=f"{FIGURES}/02_augmentations.png")

# %% [markdown]
# ## A labelled batch

# %%
loader = data.make_loader(train_set, batch_size=BATCH_SIZE, shuffle=True, workers=WORKERS, seed=0)
images, targets = next(iter(loader))
captions = ["\n".join(wu.labels.decode(t, int(v))[:22] or f"({t}?)" for t, v in zip(wu.labels.TASKS, row))
            for row in targets[:16]]
grid = plots.image_grid(data.to_display(images[:16]), captions, ncols=8, path=f"{FIGURES}/02_batch_grid.png")
print("batch:", tuple(images.shape), "targets:", tuple(targets.shape),
      "| unknown per task:", dict(zip(wu.labels.TASKS, (targets == -1).sum(0).tolist())))
grid

# %% [markdown]
# ## Throughput
#
# How many images per second does the loader deliver? A GPU trains ResNet-18 at thousands of images per
# second; on the full dataset, decode the original JPEGs once into a prepared 256-px copy
# (`python -m wikiart_utils prepare`) and use 2+ workers. The numbers below depend on your machine;
# `python benchmarks/bench_loader.py` compares the pipelines side by side on photo-sized JPEGs
# (`benchmarks/RESULTS.md`).

# %%
# NBVAL_IGNORE_OUTPUT
for workers in (0, 2):
    loader = data.make_loader(train_set, batch_size=BATCH_SIZE, shuffle=True, workers=workers)
    print(f"workers={workers}:", data.measure_throughput(loader, max_batches=10))

# %% [markdown]
# ## Decoding on the GPU
#
# With two CPU cores (Colab) the workers cannot decode and augment JPEGs as fast as a GPU trains. With
# `--decode gpu` (the default on CUDA) the workers only read each file's bytes; the GPU decodes a whole
# batch at once (nvJPEG through `torchvision.io.decode_jpeg`) and draws the random crop, flip and jitter
# per painting there (`gpu_input`). The same functions run on CPU tensors, which is how they are tested —
# here on this CPU, a batch of the validation split comes out the same shape and type as before:

# %%
gpu_style = gpu_input.make_gpu_loader(val_set, batch_size=BATCH_SIZE, workers=0, device="cpu")
images, targets = next(iter(gpu_style))
print("GPU-path batch:", tuple(images.shape), images.dtype, "| targets:", tuple(targets.shape),
      "| channels_last:", images.is_contiguous(memory_format=torch.channels_last))

# %% [markdown]
# **Take-aways.** Splits are grouped by painting and stratified by style; the Dataset keeps unknown labels as
# `-1`, which the loss ignores; decoding, not the model, is usually the bottleneck on a 2-core machine —
# on a GPU, move it there.
# Next: `03_train_resnet18_lstm_patch.ipynb`.
