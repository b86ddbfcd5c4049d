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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/05_train_vgg16_lstm.ipynb)
#
# # 05 · VGG-16 → LSTM
#
# VGG-16 is the classic "deep and plain" CNN: 13 convolutions in five blocks, each ending in a max-pool.
# Its convolutional part (we drop the 124M-parameter classifier) maps a 224-px painting to 7×7×512, the
# same grid shape as ResNet-18 — so the LSTM reads **49 spatial tokens of 512-d**, but each token costs
# several times the compute to produce. That cost is why this notebook trains with a frozen backbone and
# cached features on a CPU.
#
# ## What you will learn
#
# - VGG-16's tokens, shape by shape, and where its parameters are;
# - how **caching a frozen backbone's tokens** makes an epoch cost the LSTM alone, and what it gives up;
# - what an LSTM can read from a **frozen, randomly initialised** backbone — on the sample and on real paintings;
# - how to try other heads on the same cached tokens in seconds.

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
VARIANT = "vgg16_lstm"
SETTINGS = {
    "sample": dict(image_size=64, epochs=15, batch_size=32, pretrained=False, freeze_backbone=True, cached_features=True, workers=0),
    # full: ImageNet weights, 224 px, AMP (bf16/fp16, automatic on CUDA), backbone frozen for the first epoch;
    # "auto": workers from the machine's cores, the largest batch that fits its GPU (printed below)
    "full": dict(image_size=224, epochs=10, batch_size="auto", pretrained=True, freeze_backbone=1, workers="auto"),
}
CAPS = {}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

# %%
# %matplotlib inline
from pathlib import Path
import torch
import torch.nn.functional as F
from wikiart_utils import data, labels, lesson, models, results
from wikiart_utils.speed import features

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = lesson.profile_settings(VARIANT, SETTINGS[PROFILE], CAPS)
root = data.dataset_dir(DATA_DIR)
print(f"{VARIANT} on {PROFILE} settings:", settings)

# %% [markdown]
# ## Shapes: five pools, /32

# %%
model = lesson.show_shapes(VARIANT, sizes=(settings["image_size"], 224))

# %% [markdown]
# The same token grid as ResNet-18 — 49 tokens of 512 values at 224 px, 4 at 64 px — and the same LSTM and
# heads, so the LSTM + heads count is ResNet-18 patch's; the backbone is larger.
#
# ## Training on a budget: a frozen backbone and cached features
#
# A frozen backbone computes the same tokens for a painting every epoch, so we compute them **once** per
# split, store them as a float16 memory map, and train only the LSTM and heads on them
# (`cached_features=True`, or `train --freeze-backbone --cached-features` on the command line). An epoch
# then costs the LSTM alone. The price: no augmentation (a cached view is frozen too).
#
# Here the backbone is **randomly initialised and frozen** (torchvision's ImageNet VGG-16 weights are a
# download, which the CPU profile never makes): its weights never learn, only the LSTM and heads do. So this measures how much a sequence model can read from random
# convolutional features of real paintings — colour and texture survive them. With ImageNet weights (`full`
# profile) nothing is cached: the backbone is frozen for the first epoch only, then fine-tuned at a tenth
# of the heads' learning rate. When only the heads
# learn, `train.train` picks other defaults than from scratch:

# %%
run = lesson.run_settings(VARIANT, settings)
print({key: getattr(run, key) for key in ("lr", "warmup_epochs", "task_weights", "freeze_epochs", "cached_features")})

# %% [markdown]
# A higher learning rate (2e-3) and equal task weights (1 each, as printed), the backbone frozen for all epochs.
# The first line of the log says what learns.

# %% tags=["nbval-ignore-output"]
result, val_table = lesson.train_and_report(root, VARIANT, settings, CHECKPOINTS, FIGURES, f"05_curves_{VARIANT}.png")
val_table

# %% [markdown]
# The log's first line says what trained: the LSTM and heads only, on cached tokens of a random backbone. The
# training loss panel has no half weights this time (equal task weights when only the heads learn). Even so,
# every task's top-1 ends above its majority baseline on the validation split; macro-F1 stays low, as in
# notebook 03, and with a couple of hundred labelled paintings per task the intervals are wide.

# %%
print("labelled validation paintings per task:", lesson.labelled_counts(val_table))

# %% [markdown]
# ## On real paintings
#
# The same recipe ran on a 32,245-painting WikiArt subset (`results/`, read by `wikiart_utils.results`):
# VGG-16 frozen at random initialisation, beside the two ResNet-18 runs trained end to end. Their budgets
# differ — read them first:

# %%
results.settings().loc[["resnet18_gap", "resnet18_lstm_patch", VARIANT], ["epochs", "image_size", "train_limit", "backbone", "pretrained"]]

# %%
lesson.real_table(["resnet18_gap", "resnet18_lstm_patch", VARIANT])

# %% [markdown]
# These three runs start from random weights (`pretrained` False) and clear the majority baseline on every
# task. `vgg16_lstm` — a random VGG-16 that never learned, read by a trained LSTM — sits below both ResNet-18
# runs on every task, and its intervals do not overlap theirs. That is the cost of a backbone that never
# learns, not a verdict on VGG-16. What ImageNet features change is measured in the course with
# EfficientNet-Lite0, whose weights install with it: the same kind of frozen, cached run reads ImageNet tokens
# instead of random ones (`efficientnet_lite0_lstm_frozen` in `results/`, notebook 08).
#
# **Full dataset on a GPU:** `PROFILE="full"` — ImageNet weights, 224 px, the backbone frozen for the first
# epoch and then fine-tuned at a tenth of the head's learning rate, AMP on. From the command line:
#
# ```bash
# python -m wikiart_utils train --data data/wikiart-256 --variant vgg16_lstm --out checkpoints/vgg-full \
#     --epochs 10 --image-size 224 --batch-size 64 --freeze-backbone 1 --workers 8
# ```
#
# ## Take-aways
#
# - VGG-16's convolutions give the same 7×7×512 grid as ResNet-18 at 224 px, at a higher cost per token.
# - A frozen backbone's tokens can be computed once and cached: epochs then cost the LSTM alone, without
#   augmentation.
# - A frozen *random* backbone is not training "from scratch": only the LSTM and heads learn, and on real
#   paintings that scored below trained backbones while still beating the majority baseline.
# - On cached tokens, any head can be tried in seconds (exercises 2 and 3).
#
# ## Exercises

# %% [markdown]
# **Exercise 1 (quick).** How many megabytes do this run's cached tokens take, and how many would the
# training split of the sample take at 224 px?
#
# <details><summary>Hint</summary>A cache stores N × T × D float16 values (2 bytes each) in
# <code>tokens.npy</code>; <code>lesson.run_tokens(result, root, "train")</code> (the run's cache) gives N
# and (T, D).</details>
#
# <details><summary>Solution</summary>
#
# N × T × D × 2 bytes: at 64 px VGG-16's map is 2 × 2, so T = 4 tokens of D = 512 values. The cell prints each
# split's size by that formula beside the size of its `tokens.npy`, which agree (the file adds a header of a
# few bytes). At 224 px the same paintings would have 49 tokens each, about 12 times as much.
#
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
for split in ("train", "val"):
    cache = lesson.run_tokens(result, root, split)
    (t, d), n = cache.token_shape, len(cache)
    on_disk = (cache.path / "tokens.npy").stat().st_size
    print(f"{split}: {n} paintings x {t} tokens x {d} values x 2 bytes = {n * t * d * 2 / 1e6:.2f} MB "
          f"(tokens.npy: {on_disk / 1e6:.2f} MB)")
n_train = len(lesson.run_tokens(result, root, "train"))
print(f"at 224 px (49 tokens): {n_train * 49 * 512 * 2 / 1e6:.1f} MB for the same {n_train} paintings")

# %% [markdown]
# **Exercise 2 (medium).** Train **only linear heads** for one epoch on the cached tokens — no LSTM: the
# average of the tokens, normalised, into three Linear layers. How does it compare with the LSTM run's first
# epoch?
#
# <details><summary>Hint</summary>Write a module taking tokens (B, T, D) to <code>{task: logits}</code> and give
# it to <code>lesson.fit_on_cache(module, result, root, epochs=1)</code>; the LSTM run's epochs are in
# <code>result.history</code>.</details>
#
# <details><summary>Solution</summary>
#
# One epoch each, and not quite the same schedule (the run warms its learning rate up): a first look,
# not a verdict. On 4 tokens per painting (64 px) an LSTM has little sequence to exploit, so expect the
# two to be close, each ahead on some task. Exercise 3 compares heads on equal terms.
#
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["nbval-ignore-output", "solution"]
class LinearProbe(torch.nn.Module):
    """The average of the tokens, layer-normalised, into one Linear per task: no LSTM."""
    def __init__(self, dim: int):
        super().__init__()
        self.heads = torch.nn.ModuleDict({t: torch.nn.Linear(dim, n) for t, n in labels.num_classes().items()})

    def forward(self, tokens):
        pooled = F.layer_norm(tokens.float().mean(dim=1), tokens.shape[-1:])
        return {task: head(pooled) for task, head in self.heads.items()}

probe = lesson.fit_on_cache(LinearProbe(512), result, root, epochs=1)
first = result.history[0]
for task in labels.TASKS:
    print(f"{task:<6} macro-F1: linear heads {probe[f'val_{task}_f1']:.3f} | LSTM run, epoch 1 {first[f'val_{task}_f1']:.3f}")

# %% [markdown]
# **Exercise 3 (open-ended).** The LSTM's summary is its **last** hidden state. Would the **mean** of its
# outputs over the tokens, or an **attention**-weighted sum, read random VGG features better? Train each for
# the same few epochs on the cache and compare; what would make the comparison trustworthy?
#
# <details><summary>Hint</summary><code>models.build_model(VARIANT, image_size=..., readout="mean")</code> builds
# the same model with another readout; <code>features.HeadOnly(model)</code> turns it into a tokens → logits
# module for <code>lesson.fit_on_cache</code>.</details>
#
# <details><summary>Solution</summary>
#
# At 64 px the LSTM reads only 4 tokens, so the readouts have little room to differ. A trustworthy answer
# needs full runs on several seeds, scored on the same test paintings with paired intervals (notebook 04).
#
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["nbval-ignore-output", "solution"]
for readout in ("last", "mean", "attention"):
    torch.manual_seed(0)
    head = features.HeadOnly(models.build_model(VARIANT, image_size=settings["image_size"], readout=readout))
    scores = lesson.fit_on_cache(head, result, root, epochs=3)
    print(f"{readout:<9} val mean macro-F1 {scores['val_mean_f1']:.3f}, style accuracy {scores['val_style_acc']:.3f}")

# %% [markdown]
# ## Further reading
#
# - Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition", ICLR 2015 — VGG.
# - Jarrett, Kavukcuoglu, Ranzato & LeCun, "What is the Best Multi-Stage Architecture for Object
#   Recognition?", ICCV 2009, and Saxe, Koh, Chen, Bhand, Suresh & Ng, "On Random Weights and Unsupervised
#   Feature Learning", ICML 2011 — how far random convolutional features go.
# - Yosinski, Clune, Bengio & Lipson, "How transferable are features in deep neural networks?", NeurIPS 2014 —
#   frozen versus fine-tuned features.
# - Hochreiter & Schmidhuber, "Long Short-Term Memory", *Neural Computation*, 1997.
#
# Next: `06` replaces the CNN by a Vision Transformer.
