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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/03_train_resnet18_lstm_patch.ipynb)
#
# # 03 · ResNet-18 → LSTM over image patches
#
# The first model: a ResNet-18 turns the painting into a grid of feature vectors, and an LSTM reads that
# grid **position by position** (row-major), like a viewer scanning the canvas. Its final state feeds three
# linear heads — artist (128), genre (10), style (27) — trained together with one masked loss: an unknown
# artist or genre contributes nothing, it is not a class.
#
# This notebook: the shapes through the model, training on the sample (from scratch, a CPU, ~2 minutes),
# learning curves, and validation metrics against the majority baseline. The `full` profile in the
# parameters cell holds the settings we recommend for the real WikiArt on a GPU.

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
DATA_DIR = None        # a dataset directory with metadata.csv; None = the embedded real sample; "synthetic"
PROFILE = "sample"     # "sample": CPU minutes on the sample | "full": recommended on the real WikiArt + a GPU
VARIANT = "resnet18_lstm_patch"
SETTINGS = {
    "sample": dict(image_size=64, epochs=6, batch_size=32, pretrained=False, freeze_backbone=0, workers=0),
    # full: ImageNet weights, 224 px, AMP (bf16/fp16, automatic on CUDA), backbone frozen for the first epoch
    "full": dict(image_size=224, epochs=15, batch_size=128, pretrained=True, freeze_backbone=1, workers=8),
}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

# %%
# %matplotlib inline
from pathlib import Path
import pandas as pd
import torch
import inspect
import wikiart_utils as wu
from wikiart_utils import data, engine, evaluate, losses, models, train

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = SETTINGS[PROFILE]
root = data.dataset_dir(DATA_DIR)
print(f"{VARIANT} on {PROFILE} settings:", settings)

# %% [markdown]
# ## Shapes
#
# ResNet-18 downsamples by 32: a 224-px painting becomes a 7×7 grid of 512-d vectors, i.e. **49 tokens**;
# at the sample's 64 px it is 2×2 = 4 tokens. The LSTM (hidden size 256) reads them in order; the heads
# read its last hidden state.

# %%
model = models.build_model(VARIANT, pretrained=False, image_size=224)
for size in (64, 224):
    x = torch.zeros(2, 3, size, size)
    with torch.no_grad():
        tokens = model.tokens(x)
        logits = model.head(tokens)
    print(f"{size} px: images {tuple(x.shape)} -> tokens {tuple(tokens.shape)} -> "
          + ", ".join(f"{t} {tuple(v.shape)}" for t, v in logits.items()))
print(f"parameters: backbone {sum(p.numel() for p in model.backbone.parameters()):,}, "
      f"LSTM + heads {sum(p.numel() for p in model.head_parameters()):,}")

# %% [markdown]
# ## The training loop
#
# Training is two functions of `wikiart_utils.engine`, short enough to read in full: `train_one_epoch`
# (forward, the masked multitask loss, backward, clip, step) and `evaluate` (loss, accuracy and macro-F1
# per task over the labelled rows). Here is the first:

# %%
print(inspect.getsource(engine.train_one_epoch))

# %% [markdown]
# Run by hand for two epochs on 256 training paintings — the whole recipe is these few lines. An unknown
# artist or genre is `-1` in `targets`, and `MultitaskLoss` leaves those rows out of that task's loss.

# %%
# NBVAL_IGNORE_OUTPUT
size, cpu = settings["image_size"], torch.device("cpu")
small = data.WikiArtDataset(root, "train", size, limit=256)
loader = data.make_loader(small, batch_size=32, shuffle=True, workers=0)
val_loader = data.make_loader(data.WikiArtDataset(root, "val", size), batch_size=64, workers=0)
net = models.build_model(VARIANT, pretrained=False, image_size=size)
criterion = losses.build_criterion(small.targets)
optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.05)
for epoch in range(2):
    stats = engine.train_one_epoch(net, criterion, optimizer, loader, cpu)
    scores = engine.evaluate(net, val_loader, cpu)
    print(f"epoch {epoch + 1}: train loss {stats['train_loss']:.3f}, val loss {scores['val_loss']:.3f}, "
          f"val style accuracy {scores['val_style_acc']:.3f}")

# %% [markdown]
# `train.train` runs this same loop for every epoch of a real run and adds what a run needs around it:
# a warm-up + cosine learning-rate schedule, checkpoints after every epoch (`last.pt` to resume,
# `best.pt` for the best validation mean macro-F1), early stopping, mixed precision and `torch.compile`
# on a GPU, DistributedDataParallel under `torchrun`, and — with a frozen backbone — the same loop over
# cached backbone tokens instead of images (notebook 05).

# %% [markdown]
# ## Training
#
# `train.train` is the same function as `python -m wikiart_utils train`. From scratch it uses one
# learning rate, 2.5e-4, for every layer, with warm-up and cosine decay (on real paintings 2e-3 cost 2-4
# points on every task: `benchmarks/RESULTS.md`), and weighs the artist and genre losses half as much as
# style's (on real paintings a point of style for `resnet18_gap`, at no cost to the other two); 2e-3 and
# equal weights when only the heads learn on a frozen backbone (notebooks 05-06); with ImageNet weights,
# 3e-4 for the LSTM and heads and a tenth of it for the backbone. It keeps the best epoch by validation
# mean macro-F1 (`best.pt`),
# and `last.pt` for `--resume`. Timings depend on your machine, so the log is not compared by nbval.

# %%
# NBVAL_IGNORE_OUTPUT
result = train.train(root, VARIANT, out=f"{CHECKPOINTS}/{VARIANT}", overwrite=True, seed=0, **settings)
print(f"best epoch {result.best_epoch} of {result.epochs_done}: val mean macro-F1 {result.best_score:.3f}")

# %% [markdown]
# The learning curves (also saved as `curves.png` beside the checkpoint):

# %%
history = pd.read_csv(result.history_path)
fig = train.plot_curves(history.to_dict("records"))
fig.savefig(f"{FIGURES}/03_curves_{VARIANT}.png", dpi=110, bbox_inches="tight")
print("history columns:", list(history.columns))
fig

# %% [markdown]
# Validation metrics of the best checkpoint, over labelled rows only, each beside the **majority baseline**
# (always answer the most frequent training class) and chance, with 95% bootstrap intervals. The exact
# values move a little between machines (floating-point order), so the table is not compared by nbval;
# the counts below it are.

# %%
# NBVAL_IGNORE_OUTPUT
val_result, _ = evaluate.evaluate_checkpoint(root, result.best_path, split="val", workers=0)
evaluate.summary_table(val_result)

# %%
print("labelled validation paintings per task:", {task: val_result[task]["n"] for task in wu.labels.TASKS})

# %% [markdown]
# **Same run from the command line:**
#
# ```bash
# python -m wikiart_utils train --data data/sample --variant resnet18_lstm_patch --out checkpoints/resnet18_lstm_patch \
#     --epochs 6 --image-size 64 --batch-size 32 --no-pretrained --workers 0
# # real WikiArt on a GPU (the "full" profile):
# python -m wikiart_utils train --data data/wikiart-256 --variant resnet18_lstm_patch --out checkpoints/patch-full \
#     --epochs 15 --image-size 224 --batch-size 128 --freeze-backbone 1 --workers 8
# ```
#
# Next: `04` asks whether the LSTM should read space at all.
