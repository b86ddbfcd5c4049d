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
# # 06 · ViT-B/16 → LSTM: patches, a class token, attention — and what they are worth untrained
#
# A Vision Transformer (Dosovitskiy et al., 2021) has no grid of convolutions to downsample: it cuts the
# painting into 16 × 16-pixel patches, turns each into a 768-value **token**, adds a learned **position
# embedding** to say where the patch was, prepends a **class token**, and lets 12 layers of **self-attention**
# mix every token with every other. Its output is a sequence from the start — one token per patch, plus the
# class token — and that sequence is what the course's LSTM reads.
#
# ViT-B/16's ImageNet weights are a download from torchvision, which the CPU profile never makes. So on a laptop
# we run what a random ViT allows and call it what it is: a **control** — random features, same reader, same
# paintings — beside the same reader on EfficientNet-Lite0's ImageNet tokens (whose weights install with the
# course). The `full` profile gives ViT-B/16 its ImageNet weights on a GPU.
#
# ## What you will learn
#
# - the **patch embedding**, shown to be a 16 × 16 convolution with stride 16, i.e. one linear map per patch;
# - the **class token** and the **position embeddings**, and how the embeddings are interpolated to another
#   image size;
# - **self-attention**: every token weighs every other, written out for one layer, and what a *random* ViT's
#   attention and tokens look like next to pretrained CNN tokens;
# - what the LSTM gets from a random ViT, measured as a control beside the same reader on pretrained tokens.

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
    # sample: 128 px, the sample's own size (8 x 8 = 64 patch tokens + the class token); ViT-B/16 frozen at random
    # initialisation (its ImageNet weights are a download the CPU profile never makes), its tokens cached once;
    # 1,000 of the 1,940 training paintings (style-stratified), so that a 2-core CPU extracts them in minutes
    "sample": dict(image_size=128, epochs=10, batch_size=32, pretrained=False, freeze_backbone=True,
                   cached_features=True, train_limit=1000, workers=0),
    # full: ImageNet weights (torchvision downloads them), 224 px (196 patch tokens + the class token), a GPU, AMP;
    # the backbone frozen for the first epoch, then fine-tuned; "auto": workers from the machine's cores, the
    # largest batch that fits its GPU (printed below)
    "full": dict(image_size=224, epochs=10, batch_size="auto", pretrained=True, freeze_backbone=1, workers="auto"),
}
CAPS = {}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

# %%
# %matplotlib inline
import math
from pathlib import Path
import torch
import torch.nn.functional as F
from wikiart_utils import data, lesson, models, plots, results

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = lesson.profile_settings(VARIANT, SETTINGS[PROFILE], CAPS)
root = data.dataset_dir(DATA_DIR)
FEATURES = Path(CHECKPOINTS) / "features"  # token caches, shared by every run over the same backbone and paintings
size, grid = settings["image_size"], settings["image_size"] // 16
print(f"{VARIANT} on {PROFILE} settings:", settings)

# %% [markdown]
# ## Shapes: (size/16)² patch tokens, then the class token
#
# `lesson.show_shapes` pushes two blank images through the model at this profile's size and at 224 px, the
# size ViT-B/16's ImageNet weights were trained at:

# %%
model = lesson.show_shapes(VARIANT, sizes=(size, 224) if size != 224 else (224,), build_size=size)
vit = model.backbone.vit

# %% [markdown]
# At 128 px the image holds 8 × 8 = 64 patches, so the LSTM reads **65 tokens** of 768 values: the 64 patch
# tokens row by row, then the class token, which this model puts last so that the LSTM's last step reads the
# encoder's own summary. At 224 px it is 14 × 14 + 1 = 197. The backbone holds 85.7 million parameters (built
# for 128 px: fewer position embeddings than at 224), the LSTM and heads 1.1 million.
#
# ## Idea 1 · The patch embedding is a 16 × 16 convolution with stride 16
#
# The first layer, `conv_proj`, is a convolution whose kernel is as large as its stride: its 16 × 16 windows
# do not overlap, so each output position sees exactly one patch. That makes it the same thing as cutting the
# image into patches, flattening each to 3 × 16 × 16 = 768 numbers and multiplying by one 768 × 768 matrix.
# By hand, on 16 real paintings (scaled with ImageNet's mean and standard deviation, as the model does):

# %%
images, targets, rows = lesson.sample_batch(root, size, n=16, with_rows=True)
pixels = data.normalize(images, data.IMAGENET_MEAN, data.IMAGENET_STD)
with torch.no_grad():
    conv = vit.conv_proj(pixels)                                   # [B, 768, h, w]
    patches = F.unfold(pixels, kernel_size=16, stride=16)          # [B, 3*16*16, h*w]: one column per patch
    weight = vit.conv_proj.weight.flatten(1)                       # [768 out, 768 in]
    by_hand = (weight @ patches + vit.conv_proj.bias[:, None]).reshape(conv.shape)
print(f"conv_proj: {vit.conv_proj}")
print(f"images {tuple(pixels.shape)} -> patches {tuple(patches.shape)} -> tokens {tuple(conv.flatten(2).transpose(1, 2).shape)}")
print("one matrix per patch == the convolution:", torch.allclose(by_hand, conv, atol=1e-4))

# %% [markdown]
# The same numbers, so a ViT's first step is linear: a patch's token is a weighted sum of its 768 pixel values,
# nothing more. Everything that relates a patch to its neighbours happens later, in attention. Here are the 64
# patches of one painting, numbered in the order the LSTM reads their tokens (the class token comes after 64):

# %%
plots.reading_order(images[1], grid, title=f"{grid * grid} patches of 16 x 16 px, read 1 -> {grid * grid}, "
                           f"then the class token", paintings=rows.iloc[1:2], path=f"{FIGURES}/06_patches.png")

# %% [markdown]
# (Claude Lorrain, *Landscape with an Imaginary View of Tivoli*, from the embedded sample, whose painters all died by 1926;
# the painting's provenance is saved beside the figure.) Where a CNN's token at this
# size can see far beyond its cell (notebook 05: 212 px for VGG-16), a patch token starts with its own 16 × 16
# pixels only.
#
# ## Idea 2 · The class token and the position embeddings
#
# Two learned tensors are added before the first layer. The **class token** (CLS) is one extra 768-value
# vector, the same for every image, put in front of the patches; it belongs to no patch, so whatever it holds
# at the end, attention gathered from the patches: ViT's classifier reads it alone. The **position
# embeddings** are one learned vector per position (CLS included), added to the tokens: attention by itself
# does not know where a token came from, and these vectors tell it. They are learned for one grid, 14 × 14 at
# 224 px; at another size the model resizes that grid by **bicubic interpolation** (a smooth fit through each
# 4 × 4 neighbourhood of embeddings), leaving the class token's embedding as it is:

# %%
built = vit.encoder.pos_embedding                                 # learned for the size the model was built at
at_224 = models.build_model(VARIANT, pretrained=False, image_size=224).backbone
print(f"class token {tuple(vit.class_token.shape)}, largest |value| at initialisation: {vit.class_token.abs().max():.1f}")
print(f"position embeddings built at 224 px: {tuple(at_224.vit.encoder.pos_embedding.shape)} = 1 + 14 x 14")
resized = at_224.position_embedding(grid, grid)
print(f"interpolated to {grid} x {grid}:        {tuple(resized.shape)} = 1 + {grid} x {grid}")
print("class token's embedding kept as it is:", torch.equal(resized[:, :1], at_224.vit.encoder.pos_embedding[:, :1]))
print("a 14 x 14 grid comes back unchanged:  ", torch.equal(at_224.position_embedding(14, 14), at_224.vit.encoder.pos_embedding))
print(f"this model, built at {size} px:        {tuple(built.shape)}, standard deviation {built.std():.3f}")

# %% [markdown]
# At initialisation torchvision sets the class token to zeros and draws the position embeddings at random
# (standard deviation 0.02): a random ViT has a class token that starts empty and position embeddings that
# say nothing yet about where a patch is. With the ImageNet weights the embeddings carry the 2-D layout
# (neighbouring patches get similar vectors: Dosovitskiy et al., Fig. 7), and the class token is a learned
# query. `models.ViTTokens` interpolates when it loads the 224-px weights for another size (`full` profile at
# 224 px uses them as they are), and on the fly for an input of another size.
#
# ## Idea 3 · Attention: every token sees every other
#
# Each of the 12 layers first normalises every token with a **LayerNorm** (subtract the token's mean over its
# 768 values, divide by their standard deviation, then a learned scale and shift). Then **self-attention**:
# every token $i$ makes a query $q_i$, every token $j$ a key $k_j$ and a value $v_j$ (three learned linear
# maps), and token $i$'s output is a weighted average of all the values, with weights
# $\text{softmax}_j(q_i \cdot k_j / \sqrt{d})$ — a row of weights that sum to 1 over all 65 tokens. ViT-B runs 12
# such **heads** side by side, each on 64 of the 768 values. Running the encoder layer by layer, we can read
# each layer's weights, and check at the end that we computed the model's own tokens:

# %%
with torch.no_grad():
    seq = torch.cat([vit.class_token.expand(len(conv), -1, -1), conv.flatten(2).transpose(1, 2)], dim=1)
    seq = seq + model.backbone.position_embedding(grid, grid)          # [B, 1 + h*w, 768]: CLS first inside the ViT
    for i, layer in enumerate(vit.encoder.layers, start=1):
        normed = layer.ln_1(seq)
        _, weights = layer.self_attention(normed, normed, normed, need_weights=True, average_attn_weights=False)
        if i in (1, 6, 12):
            entropy = -(weights * weights.clamp_min(1e-12).log()).sum(-1).mean()
            print(f"layer {i:>2}: weights {tuple(weights.shape)} (B, heads, query, key); rows sum to 1: "
                  f"{torch.allclose(weights.sum(-1), torch.ones(1))}; entropy {entropy:.2f} of log {seq.shape[1]} = "
                  f"{math.log(seq.shape[1]):.2f}; largest weight {weights.max(-1).values.mean():.3f} (1/{seq.shape[1]} = "
                  f"{1 / seq.shape[1]:.3f})")
        seq = layer(seq)
    out = vit.encoder.ln(seq)
    tokens = model.backbone(pixels)                                   # [B, h*w + 1, 768]: CLS last, for the LSTM
print("by hand == model.backbone (CLS moved last):", torch.allclose(torch.cat([out[:, 1:], out[:, :1]], 1), tokens, atol=1e-4))

# %% [markdown]
# The **entropy** of a row of weights measures how spread out it is: $\log 65$ when a token weighs all 65
# tokens equally, 0 when it looks at one. In the random ViT every layer's rows are close to uniform: entropy
# 4.06 to 4.12 against the 4.17 of equal weights, and the largest weight of a row is on average 0.032 to 0.039,
# where equal weights would give 0.015. With random queries and keys no token prefers another, so each layer
# adds to every token a near-average of all the tokens. The last line checks the loop: it reproduces the
# model's own tokens (with the class token moved last, as the LSTM reads it).
#
# ## Idea 4 · What a random ViT gives the LSTM
#
# If attention averages nearly uniformly, every output token is close to the painting's average token, and the
# tokens of one painting should look alike. `lesson.token_similarity` measures it with cosine similarities
# (1: the same direction, 0: unrelated), within a painting and between paintings, for this random ViT and for
# EfficientNet-Lite0's ImageNet tokens of the same 16 paintings at the same size; the last line compares the
# class token's output with the average of the patch tokens:

# %%
lite0 = models.build_model(lesson.REFERENCE, pretrained=True, image_size=size).eval()
with torch.no_grad():
    lite0_tokens = lite0.tokens(images)
print(lesson.token_similarity({"ViT-B/16, random init (patch tokens)": tokens[:, :-1],
                               "EfficientNet-Lite0, ImageNet": lite0_tokens}).to_string())
cls_vs_mean = F.cosine_similarity(tokens[:, -1], tokens[:, :-1].mean(dim=1), dim=-1)
print(f"\nrandom ViT: cosine(class token's output, average patch token) = {cls_vs_mean.mean():.2f} "
      f"(over the {len(tokens)} paintings: {cls_vs_mean.min():.2f} to {cls_vs_mean.max():.2f})")

# %% [markdown]
# Within one painting, the random ViT's patch tokens are no more alike than EfficientNet-Lite0's (0.51
# against 0.52): although attention mixes nearly uniformly, each layer *adds* its output to the token it
# updates (a **residual connection**), so every patch token keeps its own patch's embedding through all 12
# layers. Between paintings the difference shows: the average tokens of two different paintings have a cosine
# of 0.64 for the random ViT and 0.32 for the pretrained CNN — to the random ViT, paintings look more alike,
# and what tells them apart is a smaller part of each token. The class token's output, which started as
# zeros, has a cosine of 0.61 with the average patch token: an attention-weighted mixture of the patches,
# close to their average but not the same. Exercise 2 asks whether the LSTM gains anything from reading the
# 64 patch tokens as well.
#
# ## Idea 5 · Compute: linear in the tokens, and attention's T²
#
# A **multiply-accumulate (MAC)** is one multiplication and one addition (a FLOP count is twice the MACs).
# `lesson.backbone_cost` counts them with PyTorch's `FlopCounterMode` while one blank image runs through each
# backbone. It sees the patch embedding and every linear layer (queries, keys, values, the attention output,
# the two-layer MLP) but not PyTorch's fused attention kernel, so the two products that grow with $T^2$ — the
# $T \times T$ weights $QK^\top$ and their sum over the values — are added by hand: $2 \cdot T^2 \cdot 768$ MACs
# per layer.

# %%
cost = lesson.backbone_cost({"ViT-B/16": VARIANT, "EfficientNet-Lite0": lesson.REFERENCE}, sizes=(128, 224))
T = [(s // 16) ** 2 + 1 if name == "ViT-B/16" else 0 for name, s in cost.index]   # a CNN has no attention
cost["attention T x T, by hand"] = [round(12 * 2 * t * t * 768 / 1e9, 3) for t in T]  # 12 layers x 2 T^2 D
cost["total GMACs"] = (cost["GMACs per image"] + cost["attention T x T, by hand"]).round(3)
total, vit_rows = cost["total GMACs"], cost.loc["ViT-B/16"]
print(f"ViT-B/16 / EfficientNet-Lite0 at 128 px: {total['ViT-B/16', 128] / total['EfficientNet-Lite0', 128]:.0f}x the MACs, "
      f"{vit_rows.loc[128, 'parameters (M)'] / cost.loc[('EfficientNet-Lite0', 128), 'parameters (M)']:.0f}x the parameters")
print("attention's T x T share of ViT-B/16's total:",
      ", ".join(f"{vit_rows.loc[s, 'attention T x T, by hand'] / vit_rows.loc[s, 'total GMACs']:.0%} at {s} px" for s in (128, 224)))
cost

# %% [markdown]
# At 128 px ViT-B/16 costs 45 times EfficientNet-Lite0's multiply-accumulates per painting (5.637 against 0.125
# billion in the table's last column), with 25 times its parameters. Nearly all of it is the linear layers, which run
# once per token: from 128 to 224 px the tokens triple (65 to 197) and so do those MACs (5.559 to 16.848 billion).
# Attention's $T \times T$ part grows with the square, from 0.078 to 0.715 billion, but it is 1% of the total at
# 128 px and 4% at 224 px: at these sizes a ViT-B's cost is its linear layers, and it grows in proportion to the
# tokens, as a CNN's grows with the pixels.
#
# ## The control and the pretrained reader, side by side
#
# A random ViT still computes something: random linear projections of each patch, mixed across the painting.
# Random features can be surprisingly useful (Rahimi & Recht, 2007), so a score reached on them tells us what
# the *reader and the labels* can do without any learned vision: the control. Beside it, the same LSTM reader on
# EfficientNet-Lite0's ImageNet tokens, with the same settings (printed first) and paintings; only the backbone
# and its weights differ. Each backbone's tokens are extracted once into `FEATURES`
# (`train.train(..., features_dir=FEATURES)`), where a later run over the same backbone and paintings — notebook
# 05's EfficientNet-Lite0 run, or the exercises below — finds them. `lesson.control_vs_pretrained` trains both,
# scores each run's best epoch on the validation split, and draws them:

# %% tags=["nbval-ignore-output"]
comparison = lesson.control_vs_pretrained(root, VARIANT, settings, CHECKPOINTS, FIGURES, "06_control_vs_pretrained.png",
                                          features_dir=FEATURES)

# %% [markdown]
# Read the left panel first. The pretrained reader's validation mean macro-F1 climbs within four epochs and
# then stays level (best 0.341, at epoch 6: printed above); the control's starts near 0.10 and barely moves
# (best 0.130, at epoch 9). In the right panel (dashed: each task's majority baseline; dotted: chance, 1 / the
# classes present among the labelled validation paintings) the control's bars reach above the majority baseline on
# all three tasks, and the pretrained bars are higher on every task.
#
# In the table, the course model's row is **not** comparable score for score: it is the shipped
# `efficientnet_lite0_stats_frozen` (`checkpoints/course/`: notebook 04's stage statistics of EfficientNet-Lite0's
# frozen ImageNet features) on the test split of the 32,245-painting subset, another dataset with its own n and
# majority baseline; the sample's numbers are validation numbers.

# %% tags=["nbval-ignore-output"]
comparison.table

# %% [markdown]
# The control clears the majority baseline on every task, its whole interval included: artist 0.161
# [0.101, 0.222] over 0.074, genre 0.407 [0.341, 0.472] over 0.271, style 0.560 [0.498, 0.621] over 0.449. A
# random ViT passes on something the reader can use: random linear projections of each patch keep its colours
# and textures. The ImageNet tokens give more: 0.309, 0.617 and 0.630 top-1, and a mean macro-F1 of 0.341
# against the control's 0.130. The course model's row (the stage statistics of frozen ImageNet features, at
# 224 px and on many more training paintings) is higher still, on its own test split with its own baselines:
# where the recipe lands with more paintings and pixels, not a third competitor in this race.
#
# Two tables' intervals overlapping or not is a weak test, because both runs were scored on the *same*
# paintings. The paired difference resamples the paintings once for both runs:

# %% tags=["nbval-ignore-output"]
print(lesson.paired_in_words(comparison.paired))

# %% [markdown]
# All three differences are positive with their whole interval above 0: on the same labelled validation
# paintings, the ImageNet tokens are better than the random ViT's on every task, by the most on genre (+0.210
# [+0.126, +0.290]) and the least on style (+0.070 [+0.004, +0.136]), the interval that comes closest to 0. Two
# caveats, as in notebook 05: this is a development check (the same validation split chose each run's best
# epoch, so the intervals are a little optimistic), and each run is one seed.
#
# The labelled validation paintings behind every score (these counts do not depend on the machine):

# %%
print("labelled validation paintings per task:", {task: m["n"] for task, m in next(iter(comparison.scores.values())).items()})

# %% [markdown]
# ## On real paintings
#
# The same control ran on the 32,245-painting WikiArt subset (`results/`): ViT-B/16 frozen at random
# initialisation, an LSTM trained on its cached tokens. Its pretrained counterpart there is
# `efficientnet_lite0_lstm_frozen_6k`, the same reader on EfficientNet-Lite0's frozen ImageNet tokens and the **same
# 6,001 training paintings**. Their budgets, then their test scores:

# %%
results.settings().loc[[VARIANT, "efficientnet_lite0_lstm_frozen_6k"], ["epochs", "image_size", "train_limit", "backbone", "pretrained"]]

# %%
lesson.real_table([VARIANT, "efficientnet_lite0_lstm_frozen_6k"])

# %% [markdown]
# The two runs had the same 6,001 training paintings (`train_limit` 6000: a style-stratified draw, described in
# `results/README.md`) and a budget of 15 epochs, but not the same image size: 96 px for the control (6 × 6 + 1 =
# 37 tokens, the CPU budget of the from-scratch runs) and 224 px for the pretrained one. On the subset's test split
# the picture is the sample's: the control clears every majority baseline (artist 0.227 over 0.068, genre 0.413
# over 0.210, style 0.499 over 0.405), and the pretrained reader is far ahead on every task — artist 0.464, genre
# 0.690, style 0.718 — with the intervals well apart.
#
# **Full dataset on a GPU:** `PROFILE = "full"` gives ViT-B/16 its ImageNet weights (torchvision downloads them
# once, about 330 MB), 224 px (197 tokens), AMP; the backbone is frozen for the first epoch, then fine-tuned at a
# tenth of the heads' learning rate (consider `--lr 1e-4` for the whole transformer), and the comparison above
# becomes ViT-B/16 against EfficientNet-Lite0, both from ImageNet, with the same reader and settings:
#
# ```bash
# python -m wikiart_utils train --data data/wikiart-256 --variant vit_b16_lstm --out checkpoints/vit-full \
#     --epochs 10 --image-size 224 --batch-size 64 --freeze-backbone 1 --workers 8
# ```
#
# ## Take-aways
#
# - A ViT's patch embedding is a 16 × 16 convolution with stride 16: one linear map per patch. At 128 px the
#   LSTM reads 64 patch tokens and the class token, 65 tokens of 768 values; at 224 px 197.
# - The class token is a learned vector that collects from the patches through attention; the position
#   embeddings say where each patch was, and are interpolated (bicubic) to other grid sizes.
# - Self-attention lets every token weigh every other; its cost grows with $T^2$, the linear layers with $T$.
# - A random ViT is a control, not a model: its attention is close to uniform, and to it different paintings
#   look more alike than to a pretrained CNN. Still, on the sample and on the subset the LSTM over its tokens
#   clears the majority baseline on every task, and the same reader on EfficientNet-Lite0's ImageNet tokens is
#   ahead of it on every task.
#
# ## Exercises

# %% [markdown]
# **Exercise 1 (quick).** How many tokens does the LSTM read at 96, 160 and 384 px, how large is the grid of
# position embeddings the model interpolates to, and how many MACs does attention's $T \times T$ part cost per
# image at each size? Predict, then check.
#
# <details><summary>Hint</summary>(S/16)² patches plus one class token;
# <code>model.backbone.position_embedding(h, w)</code> returns the embeddings for an h × w grid (plus the class
# token's); attention costs 12 layers × 2 · T² · 768 MACs.</details>
#
# <details><summary>Solution</summary>
#
# 96 px: 6 × 6 + 1 = 37 tokens; 160 px: 10 × 10 + 1 = 101; 384 px: 24 × 24 + 1 = 577. The position embeddings come
# out with the same number of rows (1 + the grid), each an interpolation of the grid the model was built with.
# From 96 to 384 px the tokens grow about 16-fold (37 to 577) and the linear layers' MACs with them (3.164 to
# 49.347 billion, counted), while attention's $T \times T$ part grows with the square, about 240-fold (0.025 to
# 6.137 billion). Its share of the total rises from 1% to 11%: still a minority at 384 px, but growing with every
# step in size — at a few times that resolution, attention would be most of the cost.
#
# ```python
# counted = lesson.backbone_cost({"ViT-B/16": VARIANT}, sizes=(96, 160, 384))   # the linear layers
# for s in (96, 160, 384):
#     side = s // 16
#     T = side * side + 1
#     pos = tuple(model.backbone.position_embedding(side, side).shape)
#     linear, attention = counted.loc[("ViT-B/16", s), "GMACs per image"], 12 * 2 * T * T * 768 / 1e9
#     print(f"{s:>3} px: {side}x{side} + 1 = {T:>3} tokens; position embeddings {pos}; linear layers {linear:.3f} "
#           f"GMACs, attention T x T {attention:.3f} GMACs ({attention / (linear + attention):.0%} of the total)")
# ```
#
# </details>

# %% [markdown]
# **Exercise 2 (medium).** The class token comes last. What do the heads get from it **alone**? Train the LSTM
# and heads on a one-token sequence (the class token only) and on all 65 tokens, on the control's cached tokens,
# for the same epochs from the same seed, and compare.
#
# <details><summary>Hint</summary>A module whose forward is <code>net.head(tokens[:, -1:])</code> reads only the
# class token; wrap a fresh <code>models.build_model(...)</code> and give it to
# <code>lesson.fit_on_cache(module, run, root, epochs=3, features_dir=FEATURES)</code>, where <code>run</code> is
# the control's run in <code>comparison.runs</code>.</details>
#
# <details><summary>Solution</summary>
#
# The cell trains both for 3 epochs from the same seed (fewer than the control's 10, so both end below its
# 0.130) and prints their validation mean macro-F1 and style accuracy: 0.108 and 0.539 for the class token
# alone, 0.106 and 0.531 with all 65 tokens, within a point of each other. Reading the 64 patch tokens before
# the class token adds nothing measurable here. Two things
# point that way: the random ViT's class token is already an attention-weighted mixture of the patches
# (cosine 0.61 with their average, above), and an LSTM's memory fades, so its last state hears mostly its last
# steps (notebook 04 measured it) — here, the class token. With ImageNet weights the class token is trained to
# summarise the painting, and the question is worth asking again; a verdict would need several seeds and a
# paired comparison on the same paintings.
#
# ```python
# class LastTokens(torch.nn.Module):
#     """The LSTM + heads reading only the last `keep` tokens (None: all of them)."""
#     def __init__(self, keep):
#         super().__init__()
#         self.net, self.keep = models.build_model(VARIANT, image_size=size), keep
#
#     def forward(self, tokens):
#         return self.net.head(tokens if self.keep is None else tokens[:, -self.keep:])
#
# control_run = next(iter(comparison.runs.values()))
# for name, keep in (("class token only", 1), ("all tokens", None)):
#     torch.manual_seed(0)
#     scores = lesson.fit_on_cache(LastTokens(keep), control_run, root, epochs=3, features_dir=FEATURES)
#     print(f"{name:<17} val mean macro-F1 {scores['val_mean_f1']:.3f}, style accuracy {scores['val_style_acc']:.3f}")
# ```
#
# </details>

# %% [markdown]
# **Exercise 3 (open-ended).** Attention does not care about the order of its tokens (the position embeddings
# carry where they were); an LSTM reads them in order. Does the LSTM use the order of the 65 tokens it reads from
# the random ViT? On the control's cached tokens, train the same LSTM and heads reading them in their natural
# order and in one fixed **shuffled** order, for the same epochs from the same seed, and compare. What would make
# the answer trustworthy?
#
# <details><summary>Hint</summary><code>models.build_model(VARIANT, image_size=size, order="shuffled")</code> reads
# the tokens in a fixed random permutation (`readers.reorder`); <code>lesson.HeadOnly(model)</code> makes it a
# tokens → logits module for <code>lesson.fit_on_cache(..., features_dir=FEATURES)</code>, which finds the tokens
# already extracted.</details>
#
# <details><summary>Solution</summary>
#
# The cell trains the same LSTM and heads on the control's tokens in their natural order and in one fixed
# shuffled order, 3 epochs from the same seed: mean macro-F1 0.106 against 0.109, style accuracy 0.531 against
# 0.527. (The natural order is exercise 2's "all tokens" run — same model, seed and tokens — and prints the same
# scores.) A point or two on 243 validation paintings is well within what another seed could move, so this
# says nothing yet; note also that in the shuffled order the class token is no longer read last. A trustworthy
# answer needs what notebook 04 does on the subset: both orders trained on many paintings, several seeds, and a
# paired interval on the same test paintings — one that includes 0 would say the order gives the LSTM nothing
# it can use.
#
# ```python
# control_run = next(iter(comparison.runs.values()))
# for order in ("natural", "shuffled"):
#     torch.manual_seed(0)
#     reader = lesson.HeadOnly(models.build_model(VARIANT, image_size=size, order=order))
#     scores = lesson.fit_on_cache(reader, control_run, root, epochs=3, features_dir=FEATURES)
#     print(f"{order:<8} order: val mean macro-F1 {scores['val_mean_f1']:.3f}, style accuracy {scores['val_style_acc']:.3f}")
# ```
#
# </details>

# %% [markdown]
# ## Further reading
#
# - Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for Image Recognition at Scale", ICLR 2021 —
#   ViT, its patch embedding, class token and position embeddings (Fig. 7: what trained embeddings learn).
# - Vaswani et al., "Attention Is All You Need", NeurIPS 2017 — self-attention and multi-head attention.
# - Ba, Kiros & Hinton, "Layer Normalization", 2016.
# - Rahimi & Recht, "Random Features for Large-Scale Kernel Machines", NeurIPS 2007; Saxe et al., "On Random
#   Weights and Unsupervised Feature Learning", ICML 2011 — how far random features go.
# - Raghu, Unterthiner, Kornblith, Zhang & Dosovitskiy, "Do Vision Transformers See Like Convolutional Neural
#   Networks?", NeurIPS 2021 — how ViT and CNN representations differ.
#
# Next: `07` evaluates one model on the test split (the course's shipped one, or yours); `08` compares every run.
