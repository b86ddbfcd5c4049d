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
# ## What you will learn
#
# - how a CNN feature map becomes a **sequence of tokens** an LSTM can read, shape by shape, on a real batch;
# - how **one masked multitask loss** trains three heads at once when some labels are unknown;
# - the training loop in full (`engine.train_one_epoch`), then a real run with `train.train`;
# - how to read learning curves and a validation table against the **majority baseline**.
#
# Everything runs from scratch on a CPU on the embedded real sample. The `full` profile in the parameters
# cell holds the settings we recommend for the real WikiArt on a GPU.

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
    # full: ImageNet weights, 224 px, AMP (bf16/fp16, automatic on CUDA), backbone frozen for the first epoch;
    # "auto": workers from the machine's cores, the largest batch that fits its GPU (printed below)
    "full": dict(image_size=224, epochs=15, batch_size="auto", pretrained=True, freeze_backbone=1, workers="auto"),
}
CAPS = {}              # settings put over the profile's for a quick check of its code paths, e.g. {"epochs": 2}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

# %%
# %matplotlib inline
from pathlib import Path
import inspect
import torch
import torch.nn.functional as F
from wikiart_utils import data, engine, labels, lesson, losses, models

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = lesson.profile_settings(VARIANT, SETTINGS[PROFILE], CAPS)
root = data.dataset_dir(DATA_DIR)
print(f"{VARIANT} on {PROFILE} settings:", settings)

# %% [markdown]
# ## Shapes
#
# `lesson.show_shapes` pushes a batch of two blank images through the model at two sizes and prints what
# comes out of the backbone (the tokens) and of the three heads (the logits).

# %%
model = lesson.show_shapes(VARIANT, sizes=(settings["image_size"], 224))

# %% [markdown]
# ResNet-18 divides each side by 32: at 224 px the LSTM reads 49 tokens of 512 values, at the sample's
# 64 px only 4. The heads' shapes do not depend on the image size, and almost all parameters sit in the
# backbone, not in the LSTM and heads.
#
# ## Idea 1 · The LSTM reader, step by step on a real batch
#
# Now the same path on 16 real paintings of the training split, using the model's own parts: the backbone's
# convolutions (`model.backbone.features`), the LayerNorm and LSTM of its reader (`model.reader`), and the
# heads (`model.heads`). The network is untrained; only the shapes matter here.

# %%
size = settings["image_size"]
images, targets = lesson.sample_batch(root, size, n=16)       # uint8 images, targets with -1 = unknown
net = models.build_model(VARIANT, pretrained=False, image_size=size).eval()
with torch.no_grad():
    fmap = net.backbone.features(data.normalize(images))       # the last convolutional feature map
    tokens = fmap.flatten(2).transpose(1, 2)                   # one token per position, row by row
    outputs, (h_n, c_n) = net.reader.lstm(net.reader.norm(tokens))  # the LSTM reads the tokens in order
    last = h_n[-1]                                             # its hidden state after the last token
    logits = {task: head(last) for task, head in net.heads.items()}
    same = all(torch.allclose(logits[t], net(images)[t], atol=1e-5) for t in labels.TASKS)
print(f"images        {tuple(images.shape)}   (B, 3, H, W)")
print(f"feature map   {tuple(fmap.shape)}   (B, C, h, w)")
print(f"tokens        {tuple(tokens.shape)}      (B, T = h*w, C)")
print(f"LSTM outputs  {tuple(outputs.shape)}      (B, T, hidden): one state per token read")
print(f"last hidden   {tuple(last.shape)}         (B, hidden); equals the last output: "
      f"{torch.allclose(last, outputs[:, -1])}")
for task, value in logits.items():
    print(f"{task + ' logits':<13} {tuple(value.shape)}")
print("by hand == net(images):", same)

# %% [markdown]
# The 2×2 feature map becomes 4 tokens of 512 values; the LSTM returns one 256-d state per token, and the
# last one — which has seen the whole painting — is all the heads read. The hand-made path gives the same
# logits as the model's own forward pass, so this *is* the model.
#
# ## Idea 2 · The masked multitask loss, on the same batch
#
# Many paintings have no known artist (a painter outside the 128) or genre: their target is `-1`. Each task's
# cross-entropy is taken over **its labelled rows only**, then the three are summed with task weights —
# the weights `train.train` uses from scratch (`lesson.run_settings` shows them). The last line checks the
# hand computation against the loss the course trains with, `losses.build_criterion`.

# %%
weights = lesson.run_settings(VARIANT, settings).task_weights
criterion = losses.build_criterion(data.WikiArtDataset(root, "train", size).targets, task_weights=weights)
print("targets of the 16 paintings, one row per task (-1 = unknown):")
for i, task in enumerate(labels.TASKS):
    print(f"  {task:<6}", targets[:, i].tolist())
total = torch.zeros(())
for i, task in enumerate(labels.TASKS):
    known = targets[:, i] != labels.UNKNOWN                     # the mask: rows that count for this task
    ce = F.cross_entropy(logits[task][known], targets[known, i])
    total = total + weights[task] * ce
    print(f"{task:<6} {int(known.sum()):2d} of {len(targets)} rows labelled, cross-entropy {ce:.3f}, weight {weights[task]}")
course_loss, per_task = criterion(logits, targets)
print(f"weighted sum by hand {total:.3f} | losses.build_criterion {course_loss:.3f} | "
      f"equal: {torch.allclose(total, course_loss)}")

# %% [markdown]
# Each task counts only the rows the mask keeps, so an unknown artist is never learned as a class of its
# own; artist and genre enter at half weight. The hand computation and `build_criterion` agree, so this is
# the training loss, nothing more.
#
# ## The training loop
#
# Training is two functions of `wikiart_utils.engine`, short enough to read in full: `train_one_epoch`
# (forward, the masked multitask loss, backward, clip, step) and `evaluate` (loss, accuracy and macro-F1
# per task over the labelled rows). Here is the first:

# %%
print(inspect.getsource(engine.train_one_epoch))

# %% [markdown]
# Run by hand for two epochs on 256 training paintings — the whole recipe is these few lines. The validation
# loss is the *unweighted* sum over tasks (`engine.validate`), so it is not on the same scale as the
# weighted training loss printed beside it. Timings and scores move between machines, so nbval skips them.

# %%
# NBVAL_IGNORE_OUTPUT
cpu = torch.device("cpu")
small = data.WikiArtDataset(root, "train", size, limit=256)
loader = data.make_loader(small, batch_size=32, shuffle=True, workers=0)
val_loader = data.make_loader(data.WikiArtDataset(root, "val", size), batch_size=64, workers=0)
hand = models.build_model(VARIANT, pretrained=False, image_size=size)
loss_fn = losses.build_criterion(small.targets, task_weights=weights)
optimizer = torch.optim.AdamW(hand.parameters(), lr=1e-3, weight_decay=0.05)
for epoch in range(2):
    stats = engine.train_one_epoch(hand, loss_fn, optimizer, loader, cpu)
    scores = engine.validate(hand, val_loader, cpu)
    print(f"epoch {epoch + 1}: train loss (weighted) {stats['train_loss']:.3f}, "
          f"val loss (unweighted) {scores['val_loss']:.3f}, val style accuracy {scores['val_style_acc']:.3f}")

# %% [markdown]
# Both losses fall from the first epoch to the second, but on 256 paintings and two epochs the style
# accuracy says little yet. `train.train` runs this same loop for every epoch of a real run and adds what a
# run needs around it: a warm-up + cosine learning-rate schedule, checkpoints after every epoch (`last.pt`
# to resume, `best.pt` for the best validation mean macro-F1), early stopping, mixed precision and
# `torch.compile` on a GPU, DistributedDataParallel under `torchrun`, and — with a frozen backbone — the
# same loop over cached backbone tokens instead of images (notebook 05).
#
# ## Training
#
# `train.train` is the same function as `python -m wikiart_utils train`. Its defaults depend on what learns;
# `lesson.run_settings` shows the ones this run gets:

# %%
run = lesson.run_settings(VARIANT, settings)
print({key: getattr(run, key) for key in ("lr", "backbone_lr_scale", "warmup_epochs", "task_weights", "freeze_epochs")})

# %% [markdown]
# From scratch: one learning rate, 2.5e-4, for every layer, with warm-up and cosine decay (on real paintings
# 2e-3 cost this patch model about 4 points on every task: r27 in `benchmarks/RESULTS.md`), and artist and
# genre at half the weight of
# style. With ImageNet weights (`full`) the defaults change: 3e-4 for the LSTM and heads, a tenth of it for
# the backbone. `lesson.train_and_report` trains, draws the learning curves (also saved as `curves.png`
# beside the checkpoint, without the baselines) and scores the best epoch on the validation split.

# %%
# NBVAL_IGNORE_OUTPUT
result, val_table = lesson.train_and_report(root, VARIANT, settings, CHECKPOINTS, FIGURES, f"03_curves_{VARIANT}.png")
val_table

# %% [markdown]
# Read the curves left to right. Both losses fall, each in its own panel: the training loss is the weighted
# sum the optimizer minimises, the validation loss the unweighted one, so their values are not comparable.
# In the accuracy panel each task's curve ends above its dashed majority baseline, and the table agrees: top-1
# is above `majority_baseline` on every task. Macro-F1 stays far below top-1: the model gets the frequent
# classes right and most rare ones wrong. The intervals are wide because each task has only a couple of
# hundred labelled validation paintings. `balanced_acc` is the recall averaged over classes (notebook 01);
# `chance` is 1 / the classes present among the labelled validation paintings (the sample's 8 styles give
# 1/8), not 1 / all 27 styles or 128 artists as in notebook 01's table, which would flatter the model.
#
# The counts of labelled validation paintings behind each score (these do not depend on the machine):

# %%
print("labelled validation paintings per task:", lesson.labelled_counts(val_table))

# %% [markdown]
# **Same run from the command line** (`data/real-sample` is the embedded real sample, the notebooks'
# default; `data/sample` would be the synthetic one):
#
# ```bash
# python -m wikiart_utils train --data data/real-sample --variant resnet18_lstm_patch --out checkpoints/resnet18_lstm_patch \
#     --epochs 6 --image-size 64 --batch-size 32 --no-pretrained --workers 0
# # real WikiArt on a GPU (the "full" profile as "auto" picks it on Colab: 2 cores, a 16 GB T4):
# python -m wikiart_utils train --data data/wikiart-256 --variant resnet18_lstm_patch --out checkpoints/patch-full \
#     --epochs 15 --image-size 224 --batch-size 128 --freeze-backbone 1 --workers 2
# ```
#
# ## Take-aways
#
# - A CNN feature map (B, C, h, w) becomes a sequence by reading its positions in order: (B, h·w, C). The
#   LSTM's last hidden state is the painting's summary, and three linear heads read it.
# - Unknown labels are masked, not classes: each task's loss averages over its labelled rows only, and the
#   total is a weighted sum of the three.
# - A score means something only beside its baseline: always answering the most frequent training class
#   is the bar to clear, drawn dashed in the curves and printed in the table.
# - At 64 px the LSTM reads only 4 tokens: the "sequence" is short. Notebook 04 asks whether reading in
#   sequence helps at all, and answers it on real paintings.
#
# ## Exercises
#
# Solutions are hidden below each exercise (click to expand); they run as part of the notebook.

# %% [markdown]
# **Exercise 1 (quick).** How many tokens does the LSTM read at 96 px (the size of the course's real-painting
# runs) and at 128 px? Predict it from the downsampling factor, then check with `model.tokens`.
#
# <details><summary>Hint</summary>ResNet-18 divides each side by 32 (rounding up): the feature map is
# ⌈S/32⌉ × ⌈S/32⌉ positions, one token each.</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 1
for s in (64, 96, 128, 224):
    side = -(-s // 32)  # ceil(s / 32)
    with torch.no_grad():
        shape = tuple(model.tokens(torch.zeros(1, 3, s, s)).shape)
    print(f"{s:>3} px: predicted {side}x{side} = {side * side:>2} tokens, model.tokens gives {shape}")

# %% [markdown]
# **Exercise 2 (medium).** Recompute the masked loss of the batch above with **equal** task weights. Which
# task now dominates the total, and why might training from scratch halve artist and genre?
#
# <details><summary>Hint</summary><code>losses.build_criterion(train_targets)</code> uses weight 1 for every
# task; its second return value holds the per-task losses. Compare each with log(number of classes), the
# loss of a uniform guess.</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 2
import math
equal = losses.build_criterion(data.WikiArtDataset(root, "train", size).targets)  # weight 1 for each task
equal_total, equal_tasks = equal(logits, targets)
run_weights = ", ".join(f"{t} {w:g}" for t, w in weights.items())
print(f"equal weights: total {equal_total:.3f} | this run's weights ({run_weights}): {course_loss:.3f}")
for task, n in labels.num_classes().items():
    print(f"  {task:<6} loss {equal_tasks[task]:.3f}  (a uniform guess over {n} classes: log {n} = {math.log(n):.3f})")
# The artist loss is the largest (128 classes, most of them rare): with equal weights its gradient weighs
# most on the shared backbone. On real paintings halving artist and genre gave resnet18_gap +0.8 to +1.0
# points of style at no cost (benchmarks/RESULTS.md, r32-r33); for this patch model it gave +1.0 style but
# cost 2.1 points of genre (one seed; results/README.md).

# %% [markdown]
# **Exercise 3 (open-ended).** The LSTM reads positions row by row. Does the order matter? Read the tokens
# **column-major** or **reversed** instead: write a wrapper that permutes the tokens before `model.head`,
# train each reading for two epochs on 256 paintings from the same initial weights, and compare. What would a
# fair test need?
#
# <details><summary>Hint</summary>For an h×w map, <code>torch.arange(h*w).reshape(h, w).t().flatten()</code>
# is the column-major order of the row-major tokens; <code>tokens[:, order]</code> permutes them. Keep
# everything else fixed (seed, data, steps).</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 3
# NBVAL_IGNORE_OUTPUT
class Reordered(torch.nn.Module):
    """The same model, its tokens permuted before the LSTM reads them."""
    def __init__(self, net, order):
        super().__init__()
        self.net, self.order = net, order

    def forward(self, x):
        return self.net.head(self.net.tokens(x)[:, self.order])

side = -(-size // 32)
orders = {"row-major": torch.arange(side * side),
          "column-major": torch.arange(side * side).reshape(side, side).t().flatten(),
          "reversed": torch.arange(side * side).flip(0)}
part = data.make_loader(data.WikiArtDataset(root, "train", size, limit=256), batch_size=32, shuffle=True, workers=0)
baseline = val_table.loc["style", "majority_baseline"]  # always answering the most frequent training style
for name, order in orders.items():
    torch.manual_seed(0)  # the same initial weights and batches for every reading
    sketch = Reordered(models.build_model(VARIANT, pretrained=False, image_size=size), order)
    opt = torch.optim.AdamW(sketch.parameters(), lr=1e-3, weight_decay=0.05)
    for epoch in range(2):
        engine.train_one_epoch(sketch, loss_fn, opt, part, cpu)
    scores = engine.validate(sketch, val_loader, cpu)
    print(f"{name:<13} order {order.tolist()}: val loss {scores['val_loss']:.3f}, "
          f"style accuracy {scores['val_style_acc']:.3f} (majority baseline {baseline})")
# Two epochs on 256 paintings are a sketch: read each style accuracy against the majority baseline on its
# line. A model this undertrained sits near that baseline or below it, and a gap between two readings,
# however large it looks, says nothing about the order. A fair test trains each order for a full run on
# several seeds and compares them on the same test paintings with a paired interval (notebook 04).

# %% [markdown]
# ## Further reading
#
# - Hochreiter & Schmidhuber, "Long Short-Term Memory", *Neural Computation*, 1997 — the LSTM.
# - He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016 — ResNet.
# - Caruana, "Multitask Learning", *Machine Learning*, 1997 — one network, several tasks, a shared representation.
# - Kendall, Gal & Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses for Scene Geometry and
#   Semantics", CVPR 2018 — learning the task weights instead of fixing them.
# - Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019 (AdamW), and "SGDR: Stochastic
#   Gradient Descent with Warm Restarts", ICLR 2017 (cosine schedules).
# - Tan, Chan, Aguirre & Tanaka, "Ceci n'est pas une pipe: A Deep Convolutional Network for Fine-art
#   Paintings Classification", ICIP 2016 — artist, genre and style on WikiArt.
#
# Next: `04` asks whether the LSTM should read space at all.
