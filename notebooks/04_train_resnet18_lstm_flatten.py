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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/04_train_resnet18_lstm_flatten.ipynb)
#
# # 04 · ResNet-18 → LSTM over channels, and the no-LSTM ablation
#
# Notebook 03's LSTM walked over **positions**. Here the same ResNet-18 feature map is read the other way:
# each of its **512 channels** becomes one token, holding that channel's spatial map (pooled to 7×7, so a
# 49-d token at any image size). The sequence now runs over feature detectors rather than over the canvas.
# Channel order carries no meaning, so this asks a real question: does recurrence help because it
# aggregates *where* things are, or merely because it is a learned pooling?
#
# To answer it we also train **`resnet18_gap`**: the same backbone, global average pooling, no LSTM at all.
# Notebook 07 compares all of them on the same test split.

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
VARIANT = "resnet18_lstm_flatten"
SETTINGS = {
    # sample: 3 epochs, not 6 as in 03 -- a 512-step LSTM is ~8x slower per batch than GAP on a CPU
    "sample": dict(image_size=64, epochs=3, batch_size=32, pretrained=False, freeze_backbone=0, workers=0),
    # full: ImageNet weights, 224 px, AMP (bf16/fp16, automatic on CUDA), backbone frozen for the first epoch
    "full": dict(image_size=224, epochs=15, batch_size=128, pretrained=True, freeze_backbone=1, workers=8),
}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"
ABLATION = "resnet18_gap"

# %%
# %matplotlib inline
from pathlib import Path
import pandas as pd
import torch
import wikiart_utils as wu
from wikiart_utils import data, evaluate, models, train

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = SETTINGS[PROFILE]
root = data.dataset_dir(DATA_DIR)
print(f"{VARIANT} on {PROFILE} settings:", settings)

# %% [markdown]
# ## Shapes: 512 tokens of 49 values, whatever the image size

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
# ## Training the channel-sequence model

# %%
# NBVAL_IGNORE_OUTPUT
result = train.train(root, VARIANT, out=f"{CHECKPOINTS}/{VARIANT}", overwrite=True, seed=0, **settings)
print(f"best epoch {result.best_epoch} of {result.epochs_done}: val mean macro-F1 {result.best_score:.3f}")

# %% [markdown]
# The learning curves (also saved as `curves.png` beside the checkpoint):

# %%
history = pd.read_csv(result.history_path)
fig = train.plot_curves(history.to_dict("records"))
fig.savefig(f"{FIGURES}/04_curves_{VARIANT}.png", dpi=110, bbox_inches="tight")
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
# ## The ablation: no recurrence
#
# Same backbone, same budget, global average pooling straight into the heads.

# %%
# NBVAL_IGNORE_OUTPUT
gap = train.train(root, ABLATION, out=f"{CHECKPOINTS}/{ABLATION}", overwrite=True, seed=0, **settings)
gap_result, _ = evaluate.evaluate_checkpoint(root, gap.best_path, split="val", workers=0)
pd.concat({VARIANT: evaluate.summary_table(val_result), ABLATION: evaluate.summary_table(gap_result)})

# %% [markdown]
# Read the two blocks against their intervals: where they overlap, this much data cannot separate the
# models; where they do not, the sequence over channels is a real difference — better or worse than plain
# pooling. On this sample (about 1,900 training paintings, 64 px, 3 epochs from scratch) neither model has
# learned much beyond the majority class, so the sample cannot answer the question; it only shows the
# pipeline. The answer on real paintings at scale is in the README's results table: the five variants
# trained from scratch on the 32,245-painting subset and scored on its whole test split
# (`tools/real_results.py`). Notebook 07 compares every sample run on the test split.
