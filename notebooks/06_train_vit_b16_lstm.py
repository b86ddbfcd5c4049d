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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/06_train_vit_b16_lstm.ipynb)
#
# # 06 · ViT-B/16 → LSTM over patch tokens
#
# A Vision Transformer cuts the painting into 16×16-px patches, embeds each as a 768-d token and lets 12
# self-attention layers mix them. Here the LSTM reads **every patch token** of the encoder's output (196 at
# 224 px, 16 at 64 px) followed by the class token — not a sequence of length one made of the class token
# alone, which would leave the LSTM nothing to read.
#
# Other image sizes work: the model is built for `image_size` (a multiple of 16) and interpolates its
# position embeddings, both when loading ImageNet weights made for 224 px and on the fly for other inputs.
# With 86M backbone parameters, the CPU run again uses a frozen, cached backbone.

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
VARIANT = "vit_b16_lstm"
SETTINGS = {
    "sample": dict(image_size=64, epochs=15, batch_size=32, pretrained=False, freeze_backbone=True, cached_features=True, workers=0),
    # full: ImageNet weights, 224 px, AMP (bf16/fp16, automatic on CUDA), backbone frozen for the first epoch
    "full": dict(image_size=224, epochs=10, batch_size=64, pretrained=True, freeze_backbone=1, workers=8),
}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

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
# ## Shapes: (size/16)² patch tokens + the class token

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
# ## Training on a budget: a frozen backbone and cached features
#
# A frozen backbone computes the same tokens for a painting every epoch, so we compute them **once** per
# split, store them as a float16 memory map, and train only the LSTM and heads on them
# (`cached_features=True`, or `train --freeze-backbone --cached-features` on the command line). An epoch
# then costs the LSTM alone. The price: no augmentation (a cached view is frozen too).
#
# Here the backbone is *randomly initialised* (the course runs with no download), so this shows how much a
# sequence model can read from random convolutional features of real paintings — colour and texture
# survive them. With ImageNet
# weights (`full` profile) you would cache pretrained features first and fine-tune end to end after.

# %%
# NBVAL_IGNORE_OUTPUT
result = train.train(root, VARIANT, out=f"{CHECKPOINTS}/{VARIANT}", overwrite=True, seed=0, **settings)
print(f"best epoch {result.best_epoch} of {result.epochs_done}: val mean macro-F1 {result.best_score:.3f}")

# %% [markdown]
# The learning curves (also saved as `curves.png` beside the checkpoint):

# %%
history = pd.read_csv(result.history_path)
fig = train.plot_curves(history.to_dict("records"))
fig.savefig(f"{FIGURES}/06_curves_{VARIANT}.png", dpi=110, bbox_inches="tight")
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
# **Full dataset on a GPU:** `PROFILE="full"` (ImageNet weights, 224 px, AMP, batch 64 fits a 16-GB GPU with
# bf16/fp16). Consider `--lr 1e-4` when fine-tuning the whole transformer.
#
# ```bash
# python -m wikiart_utils train --data data/wikiart-256 --variant vit_b16_lstm --out checkpoints/vit-full \
#     --epochs 10 --image-size 224 --batch-size 64 --freeze-backbone 1 --workers 8
# ```
#
# Next: `07` evaluates and compares every run.
