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
# # 05 · VGG-16 → LSTM: a deep, plain CNN, and what its tokens are worth untrained
#
# VGG-16 (Simonyan & Zisserman, 2015) is the network that showed depth alone pays: thirteen 3 × 3
# convolutions in five blocks, each block ending in a 2 × 2 max-pool, and nothing else — no shortcut
# connections, no BatchNorm. It is also expensive, as we will measure against the course's EfficientNet-Lite0.
# This notebook takes it apart shape by shape, then asks what its tokens give the course's LSTM reader.
#
# Its ImageNet weights are a download from torchvision, which the CPU profile never makes. So on a laptop we
# run the experiment a random backbone allows, and call it what it is: a **control** — random features, same
# reader, same paintings — set beside the same reader on EfficientNet-Lite0's ImageNet tokens (whose weights
# install with the course). The `full` profile gives VGG-16 its ImageNet weights on a GPU.
#
# ## What you will learn
#
# - VGG's design in code: 3 × 3 convolutions, five max-pools that divide each side by 32, no BatchNorm, and
#   why its initialisation then matters;
# - where its 138 million parameters are (mostly in the classifier we drop), and its compute per image,
#   counted in multiply-accumulates, against EfficientNet-Lite0;
# - the **receptive field** of a token: how much of the painting one of the LSTM's tokens can see;
# - how to run a **random-feature control** honestly: the same reader, settings and paintings on random and on
#   pretrained tokens, with intervals and a paired difference, beside the majority baseline.

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
    # sample: 128 px, the sample's own size (4 x 4 = 16 tokens); VGG-16 frozen at random initialisation (its
    # ImageNet weights are a download the CPU profile never makes), its tokens cached once; 1,000 of the 1,940
    # training paintings (style-stratified), so that a 2-core CPU extracts VGG-16's tokens in minutes
    "sample": dict(image_size=128, epochs=10, batch_size=32, pretrained=False, freeze_backbone=True,
                   cached_features=True, train_limit=1000, workers=0),
    # full: ImageNet weights (torchvision downloads them), 224 px (7 x 7 = 49 tokens), a GPU, AMP; the backbone
    # frozen for the first epoch, then fine-tuned; "auto": workers from the machine's cores, the largest batch
    # that fits its GPU (printed below)
    "full": dict(image_size=224, epochs=10, batch_size="auto", pretrained=True, freeze_backbone=1, workers="auto"),
}
CAPS = {}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

# %%
# %matplotlib inline
from pathlib import Path
import pandas as pd
import torch
import torchvision
from torch import nn
from wikiart_utils import data, lesson, models, results

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = lesson.profile_settings(VARIANT, SETTINGS[PROFILE], CAPS)
root = data.dataset_dir(DATA_DIR)
FEATURES = Path(CHECKPOINTS) / "features"  # token caches, shared by every run over the same backbone and paintings
size = settings["image_size"]
print(f"{VARIANT} on {PROFILE} settings:", settings)

# %% [markdown]
# ## Idea 1 · A plain stack: 3 × 3 convolutions and five max-pools
#
# A **3 × 3 convolution** (padding 1, stride 1) keeps the height and width of its input and mixes each pixel
# with its 8 neighbours; a **ReLU** after it sets negative values to 0; a **2 × 2 max-pool** with stride 2
# keeps the largest of each 2 × 2 block, halving height and width. VGG-16's feature extractor is those three
# layers and nothing else: two or three convolutions, then a pool, five times over, with the channels
# doubling from 64 to 512. Walking one painting-sized input through it block by block, we also follow the
# **receptive field** — the side of the square of input pixels that can influence one output position — with
# the usual recurrence: a layer with kernel $k$ widens it by $(k - 1)$ times the current **stride** $j$ (the
# input pixels between two neighbouring outputs), and a pool multiplies $j$ by 2.

# %%
x = torch.zeros(1, 3, size, size)
layers = models.build_model(VARIANT, pretrained=False, image_size=size).backbone.features
blocks, convs, field, stride = [], 0, 1, 1
for layer in layers:
    x = layer(x)
    if isinstance(layer, nn.Conv2d):                              # kernel 3, stride 1: the field grows by 2 strides
        field, convs = field + (layer.kernel_size[0] - 1) * stride, convs + 1
    elif isinstance(layer, nn.MaxPool2d):                         # kernel 2, stride 2: one more stride, doubled
        field, stride = field + (layer.kernel_size - 1) * stride, stride * layer.stride
        blocks.append({"block": len(blocks) + 1, "3x3 convs": convs, "output (C, h, w)": tuple(x.shape[1:]),
                       "receptive field (px)": field, "stride (px)": stride})
        convs = 0
kinds = [type(layer).__name__ for layer in layers]
print({kind: kinds.count(kind) for kind in dict.fromkeys(kinds)}, "| BatchNorm layers:", kinds.count("BatchNorm2d"))
print(f"tokens for the LSTM: {tuple(x.shape[1:])} -> {x.shape[2] * x.shape[3]} tokens of {x.shape[1]} values")
pd.DataFrame(blocks).set_index("block")

# %% [markdown]
# Thirteen convolutions, thirteen ReLUs, five pools, and no BatchNorm. Each pool halves the side, so the five
# divide it by $2^5 = 32$: at the sample's 128 px the last map is 4 × 4, and the LSTM reads **16 tokens of 512
# values** (at 224 px, in the `full` profile, 7 × 7 = 49). Stacking small kernels is VGG's central idea: two
# 3 × 3 convolutions see a 5 × 5 square, three see 7 × 7, with fewer weights than one large kernel and a ReLU
# between each. Read the last two columns: a token of block 5 sits 32 px from its neighbour, yet it can be
# reached by a 212-px square of the input — wider than the whole 128-px painting.
#
# ## Idea 2 · No BatchNorm: the initialisation has to keep the signal alive
#
# **BatchNorm** (Ioffe & Szegedy, 2015, the year VGG was published) rescales each channel's activations to
# zero mean and unit variance over a batch; networks since use it to keep activations at a workable scale
# however deep they are. Without it, each layer multiplies the scale of its input by a factor set by its
# random weights, and thirteen layers compound it. Here is the spread (standard deviation) of the
# activations of 16 real paintings at the end of each block, with PyTorch's default initialisation of a
# convolution (weights of variance $1/(3\,\text{fan}_\text{in})$, where the *fan in* is the number of inputs a
# unit sums: 64 × 9 for a 3 × 3 convolution over 64 channels) and with the **Kaiming** (He) initialisation
# torchvision gives VGG (variance $2/\text{fan}_\text{out}$, the outputs' count: six times larger where a layer
# keeps its channels, to make up for the ReLU zeroing about half of the values):

# %%
images, targets, rows = lesson.sample_batch(root, size, n=16, with_rows=True)
pixels = data.normalize(images, data.IMAGENET_MEAN, data.IMAGENET_STD)
spread = {}
for init in ("PyTorch default", "Kaiming (torchvision's)"):
    torch.manual_seed(0)
    net = models.build_model(VARIANT, pretrained=False, image_size=size).backbone.features
    if init == "PyTorch default":
        for conv in net.modules():
            if isinstance(conv, nn.Conv2d):
                conv.reset_parameters()                     # nn.Conv2d's own initialisation
    with torch.no_grad():
        h, spread[init] = pixels, []
        for layer in net:
            h = layer(h)
            if isinstance(layer, nn.MaxPool2d):
                spread[init].append(float(h.std()))
for init, values in spread.items():
    print(f"{init:<24} std after blocks 1-5:", "  ".join(f"{v:.2g}" for v in values))

# %% [markdown]
# With PyTorch's default the spread shrinks at every block, from 0.16 after the first to 0.0054 after the
# fifth: the tokens fade towards zero. With Kaiming's variance it stays within a factor of about two (0.21 to
# 0.1). The course builds VGG-16 with torchvision's Kaiming initialisation (`models.VGGTokens`), so the random
# control below reads tokens that still vary with the painting. (VGG's authors, before that initialisation was
# published, trained the 11-layer configuration first and started the first four convolutions and the fully
# connected layers of the deeper ones from it.)
#
# ## Idea 3 · Where the 138 million parameters are
#
# torchvision's full `vgg16` ends with a classifier for ImageNet's 1,000 classes: three fully connected layers
# on the flattened 7 × 7 × 512 map. The course keeps only the convolutions (`features`) and lets the LSTM
# read the map instead. Counting each part:

# %%
full = torchvision.models.vgg16(weights=None)   # the whole network, random weights, no download
count = lambda module: sum(p.numel() for p in module.parameters())
print(f"vgg16: {count(full):,} parameters")
print(f"  features (13 convolutions, kept):   {count(full.features):>12,}")
for i, layer in enumerate(full.classifier):
    if isinstance(layer, nn.Linear):
        print(f"  classifier {i}: Linear {layer.in_features:>5} -> {layer.out_features:<4} {count(layer):>12,}  (dropped)")
print(f"  classifier, all three (dropped):    {count(full.classifier):>12,}")
model = lesson.show_shapes(VARIANT, sizes=(size, 224) if size != 224 else (224,))

# %% [markdown]
# The first fully connected layer alone — 25,088 inputs (7 × 7 × 512) to 4,096 outputs — holds 102.8 of the
# 138.4 million parameters; the classifier together holds 123.6 million, the convolutions 14.7 million.
# Dropping the classifier is what makes VGG-16 usable here, and the LSTM needs nothing from it: it reads the
# map the classifier would have flattened. The LSTM and heads add 0.8 million (the last line).
#
# ## Idea 4 · Compute per image, against EfficientNet-Lite0
#
# Parameters are memory; the time a backbone takes is its arithmetic. A **multiply-accumulate (MAC)** is one
# multiplication and one addition, the unit of a convolution or matrix product (a FLOP count is twice the
# MACs). `lesson.backbone_cost` counts them with PyTorch's `FlopCounterMode` while one blank image runs through
# each backbone:

# %%
cost = lesson.backbone_cost({"VGG-16": VARIANT, "EfficientNet-Lite0": lesson.REFERENCE}, sizes=(128, 224))
cost

# %%
macs = cost["GMACs per image"]
print(f"VGG-16 / EfficientNet-Lite0: {macs['VGG-16', 128] / macs['EfficientNet-Lite0', 128]:.0f}x the MACs at 128 px; "
      f"{cost.loc[('VGG-16', 128), 'parameters (M)'] / cost.loc[('EfficientNet-Lite0', 128), 'parameters (M)']:.1f}x the parameters")

# %% [markdown]
# VGG-16's convolutions cost 40 times EfficientNet-Lite0's multiply-accumulates for the same painting, with
# 4.3 times the parameters: every one of its 3 × 3 convolutions runs over all channels at full resolution,
# where Lite0 mostly uses **depthwise** convolutions (one 3 × 3 filter per channel) joined by 1 × 1
# convolutions. Both give the LSTM a 4 × 4 grid at 128 px; VGG's tokens have 512 values, Lite0's 1,280. The
# counts grow with the pixels: 224 px has (224/128)² ≈ 3.1 times as many as 128 px, and VGG's MACs go from 5.011
# to 15.347 billion. That cost is why the CPU profile extracts the tokens once and caches them, and trains on
# 1,000 of the sample's training paintings.
#
# ## Idea 5 · What one token sees
#
# The receptive field says which pixels *can* reach a token. Drawn on a painting at 128 px for two of the 16
# tokens: its own 32-px cell, and its 212-px field, which hangs far over the edges of the painting into the
# convolutions' zero padding (grey):

# %%
lesson.receptive_field_figure(images[0], grid=size // 32, field=blocks[-1]["receptive field (px)"], tokens=(1, 6),
                              paintings=rows.iloc[:1], path=f"{FIGURES}/05_receptive_field.png")

# %% [markdown]
# At this size a token's field covers all or nearly all of the painting (token 1's ends just short of the right
# and bottom edges, token 6's covers it all); the tokens differ in where their field is centred, and so in how
# much weight nearby pixels get (the *effective* receptive field is concentrated
# near the centre: exercise 2 measures it). What the LSTM reads in order is therefore 16 overlapping views of
# the painting, each centred on one cell. (Adriaen van Ostade, *A Fight*, from the embedded sample, whose
# painters all died by 1926; the painting's provenance is saved beside the figure.)
#
# ## The control and the pretrained reader, side by side
#
# A randomly initialised network still computes something: averages of colours and textures, mixed by
# random filters. Random features can be surprisingly useful (Rahimi & Recht, 2007; Jarrett et al., 2009), so
# a score reached on them tells us what the *reader and the labels* can do without any learned vision. That is
# the control. Beside it, the same LSTM reader on EfficientNet-Lite0's ImageNet tokens. Both runs have the
# same settings — learning rate, warm-up, task weights, epochs, image size — and the same paintings; only the
# backbone and its weights differ (the first line prints the shared settings). Each backbone's tokens are
# extracted once into `FEATURES` (`train.train(..., features_dir=FEATURES)`), where any later run over the same
# backbone and paintings finds them. `lesson.control_vs_pretrained` trains both, scores each run's best epoch
# on the validation split, and draws the two:

# %% tags=["nbval-ignore-output"]
comparison = lesson.control_vs_pretrained(root, VARIANT, settings, CHECKPOINTS, FIGURES, "05_control_vs_pretrained.png",
                                          features_dir=FEATURES)

# %% [markdown]
# Read the left panel first. The pretrained reader's validation mean macro-F1 climbs within four epochs and
# then stays level (best 0.341, at epoch 6: printed above); the control's climbs slowly and ends far below it
# (best 0.104, at epoch 9).
# In the right panel (the dashed line is each task's majority baseline, the dotted one chance: 1 / the classes
# present among the labelled validation paintings) the control's bars reach above the majority baseline on all three tasks, and the
# pretrained bars are higher on every task.
#
# The table puts both runs beside the majority baseline of the same validation paintings, and beside the
# course model. The course model's row is **not** comparable score for score: it is the shipped
# `efficientnet_lite0_stats_frozen` (`checkpoints/course/`: notebook 04's stage statistics of EfficientNet-Lite0's
# frozen ImageNet features) scored on the test split of the 32,245-painting subset, another dataset with its own
# n and its own baseline; the sample's numbers are validation numbers.

# %% tags=["nbval-ignore-output"]
comparison.table

# %% [markdown]
# The control clears the majority baseline on every task, its whole interval included: artist 0.134
# [0.087, 0.188] over 0.074, genre 0.393 [0.332, 0.458] over 0.271, style 0.543 [0.477, 0.605] over 0.449. A
# random VGG-16 passes on something the reader can use: colour and texture statistics survive random filters.
# The ImageNet tokens give much more: 0.309, 0.617 and 0.630 top-1, and a mean macro-F1 of 0.341 against the
# control's 0.104. The course model's row (the stage statistics of frozen ImageNet features, at 224 px and on many
# more training paintings) is higher still, on its own test split with its own baselines: where the recipe lands with more
# paintings and pixels, not a third competitor in this race.
#
# Two tables' intervals overlapping or not is a weak test, because both runs were scored on the *same*
# paintings. The paired difference resamples the paintings once for both runs:

# %% tags=["nbval-ignore-output"]
print(lesson.paired_in_words(comparison.paired))

# %% [markdown]
# All three differences are positive with their whole interval above 0: on the same labelled validation
# paintings, the ImageNet tokens are better than the random ones on every task, by the most on genre
# (+0.224), then artist (+0.174), and the least on style (+0.086 [+0.025, +0.152]). Two caveats: this is a
# development check (the same validation split chose each run's best epoch, so the intervals are a little
# optimistic), and each run is one seed.
#
# The labelled validation paintings behind every score (these counts do not depend on the machine):

# %%
print("labelled validation paintings per task:", {task: m["n"] for task, m in next(iter(comparison.scores.values())).items()})

# %% [markdown]
# ## On real paintings
#
# The same control ran on the 32,245-painting WikiArt subset (`results/`): VGG-16 frozen at random
# initialisation, an LSTM trained on its cached tokens. Its pretrained counterpart there is
# `efficientnet_lite0_lstm_frozen_6k`: the same reader on EfficientNet-Lite0's frozen ImageNet tokens, trained on
# the **same 6,001 paintings**. Their budgets, then their test scores:

# %%
results.settings().loc[[VARIANT, "efficientnet_lite0_lstm_frozen_6k"], ["epochs", "image_size", "train_limit", "backbone", "pretrained"]]

# %%
lesson.real_table([VARIANT, "efficientnet_lite0_lstm_frozen_6k"])

# %% [markdown]
# The two runs had the same 6,001 training paintings (`train_limit` 6000: a style-stratified draw, described in
# `results/README.md`) and a budget of 15 epochs, but not the same image size: 96 px for the control
# (the CPU budget of the from-scratch runs) and 224 px for the pretrained one. On the subset's test split the
# picture is the sample's: the control clears every majority baseline (style 0.458 over 0.405), and the
# pretrained reader is far ahead on every task — artist 0.464 against 0.204, genre 0.690 against 0.426, style
# 0.718 against 0.458 — with the intervals well apart.
#
# **Full dataset on a GPU:** `PROFILE = "full"` gives VGG-16 its ImageNet weights (torchvision downloads them
# once, about 528 MB), 224 px (49 tokens), AMP; the backbone is frozen for the first epoch, then fine-tuned at a
# tenth of the heads' learning rate, and the comparison above becomes VGG-16 against EfficientNet-Lite0, both
# from ImageNet, with the same reader and settings. From the command line:
#
# ```bash
# python -m wikiart_utils train --data data/wikiart-256 --variant vgg16_lstm --out checkpoints/vgg-full \
#     --epochs 10 --image-size 224 --batch-size 128 --freeze-backbone 1 --workers 8
# ```
#
# ## Take-aways
#
# - VGG-16 is thirteen 3 × 3 convolutions and five 2 × 2 max-pools: each side is divided by 32, so 128 px gives
#   the LSTM 4 × 4 = 16 tokens of 512 values, and 224 px 49. Each token's receptive field is 212 px.
# - Without BatchNorm, a deep plain stack depends on its initialisation to keep activations at a usable
#   scale; Kaiming's variance does it, PyTorch's default lets them fade.
# - Most of VGG-16's 138 M parameters are in the classifier we drop (the first fully connected layer alone
#   holds 103 M); its convolutions cost 40 times EfficientNet-Lite0's MACs per image at 128 px.
# - A random backbone is a control, not a model: same reader, same settings, same paintings, and the
#   difference to the pretrained tokens is what learned features are worth. On the sample (and on the subset)
#   the random VGG-16 clears the majority baseline on every task, and the same reader on EfficientNet-Lite0's
#   ImageNet tokens is ahead of it on every task.
#
# ## Exercises

# %% [markdown]
# **Exercise 1 (quick).** The MAC count says VGG-16 needs 40 times EfficientNet-Lite0's arithmetic at 128 px. Time both backbones on the same 16 paintings. Is the time ratio the MAC ratio?
#
# <details><summary>Hint</summary><code>models.build_model(name, image_size=size).eval()</code>, then
# <code>time.perf_counter()</code> around <code>net.tokens(images)</code> under <code>torch.no_grad()</code>;
# run each once before timing (the first call allocates memory).</details>
#
# <details><summary>Solution</summary>
#
# The cell prints milliseconds per painting for each backbone and their ratio. The time ratio is far smaller
# than the MAC ratio (on the shared 2-core machine that ran this notebook: 9x against 40x; on a busy machine the
# measured ratio moves from run to run, so time it a few times). A MAC costs a different time in a large dense 3 × 3 convolution (VGG's, which vector units run
# close to their peak) than in a depthwise convolution (Lite0's, limited by memory traffic rather than
# arithmetic). MACs predict the order of magnitude, not the time; measure on the machine that will run it.
#
# ```python
# import time
# per_image = {}
# for name, variant in (("VGG-16", VARIANT), ("EfficientNet-Lite0", lesson.REFERENCE)):
#     net = models.build_model(variant, pretrained=False, image_size=size).eval()
#     with torch.no_grad():
#         net.tokens(images[:2])                                  # warm-up
#         start = time.perf_counter()
#         net.tokens(images)
#     per_image[name] = (time.perf_counter() - start) / len(images) * 1000
#     print(f"{name:<19} {per_image[name]:6.1f} ms per painting at {size} px")
# print(f"time ratio {per_image['VGG-16'] / per_image['EfficientNet-Lite0']:.0f}x; MAC ratio "
#       f"{macs['VGG-16', 128] / macs['EfficientNet-Lite0', 128]:.0f}x")
# ```
#
# </details>

# %% [markdown]
# **Exercise 2 (medium).** The receptive field is the square of pixels that *can* reach a token. How much do
# they actually? Take token 6 of the random VGG-16, compute the gradient of its 512 values (summed) with respect
# to the input pixels, and measure which share of the gradient's magnitude falls inside the token's own 32-px
# cell.
#
# <details><summary>Hint</summary>Give the normalised images <code>requires_grad_()</code>, run
# <code>model.backbone</code>, take <code>tokens[:, 5].sum().backward()</code> and sum
# <code>images.grad.abs()</code> over the channels and the batch. The cell of token 6 is rows 32-63, columns
# 32-63.</details>
#
# <details><summary>Solution</summary>
#
# The cell prints the share of the gradient inside the token's 32 × 32 cell, 1/16 of the painting's area, and
# inside the 64 × 64 square around it, a quarter of the area: 15% and 48%, each far above its share of the
# area: most of what reaches a token comes from near its own cell, although every pixel of the painting
# is inside its 212-px field. This is the *effective* receptive field of Luo et al. (2016): roughly Gaussian,
# concentrated at the centre of the theoretical one. So the 16 tokens, although their fields all cover the
# painting, are 16 different views of it.
#
# ```python
# torch.manual_seed(0)
# vgg = models.build_model(VARIANT, pretrained=False, image_size=size).eval()
# inputs = pixels.clone().requires_grad_()
# vgg.backbone(inputs)[:, 5].sum().backward()                   # token 6: row 2, column 2 of the 4 x 4 grid
# heat = inputs.grad.abs().sum(dim=(0, 1))                       # [size, size]: how much each pixel reaches it
# inside, around = heat[32:64, 32:64].sum() / heat.sum(), heat[16:80, 16:80].sum() / heat.sum()
# print(f"share of the gradient inside token 6's 32 x 32 cell: {inside:.0%} (1/16 = 6% of the area)")
# print(f"share inside the 64 x 64 square around it:            {around:.0%} (1/4 = 25% of the area)")
# ```
#
# </details>

# %% [markdown]
# **Exercise 3 (open-ended).** The pretrained reader beats the control, but two things differ between them:
# the architecture (VGG-16 or EfficientNet-Lite0) and the weights (random or ImageNet). Train the missing
# corner of that 2 × 2 table — a **random** EfficientNet-Lite0 with the same reader and settings — and say how
# much of the difference is the weights.
#
# <details><summary>Hint</summary><code>lesson.train_and_score(root, lesson.REFERENCE, options, out, FEATURES)</code>
# trains and scores one run; give it the control's settings with <code>pretrained=False</code> and the
# control's learning rate, warm-up and task weights (<code>lesson.run_settings(VARIANT, settings)</code>), as
# the comparison above did.</details>
#
# <details><summary>Solution</summary>
#
# The cell trains the random EfficientNet-Lite0 control with the same settings (its tokens are new, so they are
# extracted once into `FEATURES`) and prints the mean macro-F1 of the three runs. Random Lite0 lands near random
# VGG-16 (mean macro-F1 0.102 against random VGG-16's 0.104), and both far below ImageNet Lite0 (0.341): on these paintings the
# weights, not the architecture, make the difference. One seed and one validation split: for a verdict,
# repeat over seeds and compare on the same test paintings with paired intervals, as notebook 08 does.
#
# ```python
# run = lesson.run_settings(VARIANT, settings)
# shared = {**settings, "pretrained": False, "lr": run.lr, "warmup_epochs": run.warmup_epochs, "task_weights": run.task_weights}
# _, random_lite0, _ = lesson.train_and_score(root, lesson.REFERENCE, shared, Path(CHECKPOINTS) / "efficientnet_lite0_lstm_random",
#                                             FEATURES)
# for label, scores in {**comparison.scores, "EfficientNet-Lite0, random init, frozen": random_lite0}.items():
#     print(f"{label:<42} val mean macro-F1 {sum(scores[t]['macro_f1'] for t in scores) / 3:.3f}")
# ```
#
# </details>

# %% [markdown]
# ## Further reading
#
# - Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition", ICLR 2015 — VGG,
#   and the argument for stacks of 3 × 3 convolutions.
# - He, Zhang, Ren & Sun, "Delving Deep into Rectifiers", ICCV 2015 — the Kaiming initialisation; Ioffe &
#   Szegedy, "Batch Normalization", ICML 2015.
# - Rahimi & Recht, "Random Features for Large-Scale Kernel Machines", NeurIPS 2007; Jarrett, Kavukcuoglu,
#   Ranzato & LeCun, "What is the Best Multi-Stage Architecture for Object Recognition?", ICCV 2009; Saxe et al.,
#   "On Random Weights and Unsupervised Feature Learning", ICML 2011 — how far random features go.
# - Luo, Li, Urtasun & Zemel, "Understanding the Effective Receptive Field in Deep Convolutional Neural
#   Networks", NeurIPS 2016.
# - Tan & Le, "EfficientNet", ICML 2019 — depthwise convolutions and compound scaling, the reference backbone.
#
# Next: `06` replaces the CNN by a Vision Transformer, whose tokens are patches from the start.
