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
# Notebook 03's from-scratch comparison, `resnet18_lstm_patch`, walked over **positions** of a ResNet-18 feature
# map. Here the same ResNet-18 feature map is read the other way:
# each of its **512 channels** becomes one token, holding that channel's spatial map. The sequence now runs
# over feature detectors rather than over the canvas. Channel order carries no meaning, so this asks a real
# question: does recurrence help because it aggregates *where* things are, or merely because it is a
# learned pooling? To answer it we also train **`resnet18_gap`**: the same backbone, the average over
# positions straight into the heads, no LSTM at all.
#
# ## What you will learn
#
# - the three ways this course turns one feature map into what the heads read — **patch** tokens, **flatten**
#   tokens, and plain **global average pooling** — with their shapes on a real batch;
# - why runs trained on different budgets cannot be compared score for score, and how to say so;
# - how to read the **committed results on real paintings**: a top-1 beside its majority baseline, and a
#   **paired** bootstrap interval of the difference between two models on the same test paintings;
# - what those results answer (at this budget) and what they leave open.

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
ABLATION = "resnet18_gap"
SETTINGS = {
    # sample: the budget of notebook 03's patch run -- the GAP ablation trains on exactly this
    "sample": dict(image_size=64, epochs=6, batch_size=32, pretrained=False, freeze_backbone=0, workers=0),
    # full: ImageNet weights, 224 px, AMP (bf16/fp16, automatic on CUDA), backbone frozen for the first epoch;
    # "auto": workers from the machine's cores, the largest batch that fits its GPU (printed below)
    "full": dict(image_size=224, epochs=15, batch_size="auto", pretrained=True, freeze_backbone=1, workers="auto"),
}
# flatten's LSTM takes 512 steps per painting, 2-3 times GAP's time per step on a CPU: on the sample its budget
# is cut (fewer paintings and epochs, printed below); on a GPU it trains like the others
FLATTEN_CUT = {"sample": dict(epochs=2, train_limit=800), "full": {}}
CAPS = {}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

# %%
# %matplotlib inline
from pathlib import Path
import pandas as pd
import torch
import torch.nn.functional as F
from wikiart_utils import checkpoint, data, engine, lesson, models, results

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = lesson.profile_settings(ABLATION, SETTINGS[PROFILE], CAPS)
flatten_settings = lesson.profile_settings(VARIANT, {**SETTINGS[PROFILE], **FLATTEN_CUT[PROFILE]}, CAPS)
root = data.dataset_dir(DATA_DIR)
print(f"{VARIANT} on {PROFILE} settings:", flatten_settings)
print(f"{ABLATION} on {PROFILE} settings:", settings)

# %% [markdown]
# ## Patch, flatten, pool: three readings of one feature map
#
# On 16 real paintings: the backbone's last feature map, then what each model makes of it. **Patch**
# (notebook 03's from-scratch run): one token per position, each a 512-d vector. **Flatten**: one token per channel, each that
# channel's map pooled to 7×7 — 49 values, at any image size. **GAP**: no sequence, the average over positions.

# %%
size = settings["image_size"]
images, _ = lesson.sample_batch(root, size, n=16)
net = models.build_model(VARIANT, pretrained=False, image_size=size).eval()
gap_net = models.build_model(ABLATION, pretrained=False, image_size=size).eval()
with torch.no_grad():
    fmap = net.backbone.features(data.normalize(images))   # (B, C, h, w)
    patch = fmap.flatten(2).transpose(1, 2)                 # tokens = positions: (B, h*w, C)
    flatten = F.adaptive_avg_pool2d(fmap, 7).flatten(2)     # tokens = channels:  (B, C, 7*7)
    pooled = fmap.mean(dim=(2, 3))                          # no tokens:          (B, C)
    print(f"feature map    {tuple(fmap.shape)}")
    print(f"patch tokens   {tuple(patch.shape)}   an LSTM of {patch.shape[1]} steps")
    print(f"flatten tokens {tuple(flatten.shape)}  an LSTM of {flatten.shape[1]} steps; "
          f"same as the model's tokens: {torch.allclose(flatten, net.tokens(images))}")
    print(f"GAP            {tuple(pooled.shape)}      what {ABLATION}'s reader returns: "
          f"{torch.allclose(pooled, gap_net.reader(patch), atol=1e-6)}")
    print(f"distinct values in one flatten token at {size} px: {flatten[0, 0].unique().numel()} of 49")

# %% [markdown]
# The same feature map feeds all three. Patch reads a few long tokens, flatten many short ones, and GAP
# replaces the LSTM by an average: it is the ablation that **removes the recurrence** and keeps everything
# else. The last line is a warning about small images: at 64 px the map is 2×2, so each channel's "7×7"
# token is those few values stretched, not 49 measurements.
#
# The shapes through the flatten model, at the sample's size and at 224 px:

# %%
model = lesson.show_shapes(VARIANT, sizes=(size, 224))

# %% [markdown]
# 512 tokens of 49 values whatever the image size; its LSTM is smaller than patch's (49-d inputs instead of
# 512-d), but it runs 512 steps per painting.
#
# ## Budgets
#
# Notebook 08 compares every sample run on the test split, so the budget of each matters. GAP gets the patch
# run's budget (notebook 03); flatten, too slow on a CPU for that, gets less:

# %%
lesson.budget_table(root, {"resnet18_lstm_patch (notebook 03)": settings, ABLATION: settings,
                           VARIANT: flatten_settings})

# %% [markdown]
# Patch (notebook 03) and GAP train on the same paintings for the same epochs and steps; flatten gets far
# fewer of each. **Its sample scores — here and in notebook 08 — are not comparable with the other two**: a
# lower score may only mean less training. The comparison at an equal budget is the real-paintings one below.
#
# ## Training the channel-sequence model

# %% tags=["nbval-ignore-output"]
result, val_table = lesson.train_and_report(root, VARIANT, flatten_settings, CHECKPOINTS, FIGURES,
                                            f"04_curves_{VARIANT}.png")
val_table

# %% [markdown]
# On its cut budget the flatten model has not learned beyond the majority class: its genre and style top-1
# equal the majority baseline (it answers the most frequent class, which is why its macro-F1 is near zero),
# and its artist top-1 is below it. The accuracy curves sit on or under their dashed lines.

# %%
print("labelled validation paintings per task:", lesson.labelled_counts(val_table))

# %% [markdown]
# ## The ablation: no recurrence
#
# Same backbone, the patch run's budget, global average pooling straight into the heads.

# %% tags=["nbval-ignore-output"]
gap, gap_table = lesson.train_and_report(root, ABLATION, settings, CHECKPOINTS, FIGURES, f"04_curves_{ABLATION}.png")
columns = ["n", "top1", "top1_ci", "macro_f1", "majority_baseline"]
pd.concat({f"{VARIANT} (cut budget)": val_table[columns], ABLATION: gap_table[columns]})

# %% [markdown]
# Plain pooling, on the patch run's budget, is above its majority baseline on all three tasks — far from the
# flatten model, but that gap mixes the model with a much larger budget, so it answers nothing about
# recurrence. Notebook 08 lists GAP and patch, at the same budget, on the sample's test split; on this sample
# each task has a few hundred labelled paintings at most, and the intervals are wide. The paired GAP − patch
# comparison is the real-paintings one below.
#
# ## The answer on real paintings
#
# The sample is too small to settle the question. The course's real runs are committed in `results/`: trained
# on the 32,245-painting WikiArt subset and scored on its whole test split (3,224 paintings).
# `wikiart_utils.results` reads them; nothing is retyped. First, how each run was trained and from which
# weights:

# %%
RUNS = ["resnet18_gap", "resnet18_lstm_patch", "resnet18_lstm_flatten", "efficientnet_lite0_lstm_frozen",
        "efficientnet_lite0_gap_frozen"]
results.settings().loc[RUNS, ["epochs", "image_size", "train_limit", "backbone", "pretrained", "date"]]

# %% [markdown]
# Two families. The three ResNet-18 runs had the same budget: 6 epochs, 96 px, a style-stratified
# 6,001-painting part of the training split (`train_limit` 6000), **from scratch** (`pretrained` False);
# `resnet18_gap` was trained again on 2026-12-06 with the same settings, to keep its test predictions (its
# scores moved by under a point). The `efficientnet_lite0_*` runs start from **ImageNet weights** at 224 px, on
# the whole training split (25,794 paintings, no `train_limit`), 15 epochs: the LSTM or the plain average reads
# the same 49 frozen tokens. Their top-1 on the test split, each beside the number of labelled test paintings
# and the majority baseline:

# %%
lesson.real_table(RUNS)

# %% [markdown]
# Every run clears the majority baseline on every task, the lower end of each interval included. The pretrained
# runs are far above the from-scratch ones — but they also had four times the training paintings, 224 px and
# more epochs, so that gap measures the recipes, not the weights alone. Within a family the budgets are equal.
# But two intervals that barely overlap, or do not, still
# come from the *same* test paintings: the fair comparison is paired. `lesson.real_paired` holds, for two runs A
# and B, the top-1 of A minus that of B on the same paintings, with a paired bootstrap 95% interval (the
# paintings are resampled together, so what both models find easy or hard cancels out):

# %%
lesson.real_paired()

# %% [markdown]
# An interval that excludes 0 means this test split can see the difference; the verdict column says which way.
# Read the rows that answer this notebook's questions:
#
# - **From scratch, 96 px** (the last two pairs of the table, "Earlier comparisons" in `results/paired.md`, computed on 2026-11-27 from that day's
#   checkpoints, before `resnet18_gap` was trained again): `resnet18_gap` − `resnet18_lstm_patch` is positive on
#   every task with every lower bound above 0 — plain pooling beat the patch LSTM — and `resnet18_lstm_patch` −
#   `resnet18_lstm_flatten` is positive on every task: if an LSTM reads anything, positions serve it better than
#   channels. At 96 px the map is 3 × 3, so the patch LSTM read only 9 tokens of features learned from scratch.
# - **On pretrained tokens, 224 px**: `efficientnet_lite0_lstm_frozen` − `efficientnet_lite0_gap_frozen`, the LSTM
#   against the average of the *same* 49 ImageNet tokens. Read its verdicts: where the average is better, the
#   recurrence adds parameters to fit without adding what averaging misses — the runs' `history.csv` shows the
#   LSTM's training loss falling far below the average's while its validation loss turns up; where the
#   interval includes 0, this test split cannot tell them apart.
#
# So the answer to "does reading the tokens in sequence help?" is, on these runs, *no better than averaging
# them*, from scratch and on pretrained features alike — at these budgets. Two cautions: each run is one seed,
# and the many intervals of this table are each read at 95%, so one of them excluding 0 by a hair is weak evidence
# on its own. Exercise 3 of notebook 08 asks which of the two you would ship.
#
# ## Take-aways
#
# - Patch and flatten read the same feature map along different axes: positions (a few long tokens) or
#   channels (many short ones). GAP removes the LSTM and keeps the rest: the ablation that tests recurrence.
# - Runs on different budgets are not comparable score for score: say so wherever a budget is cut.
# - Judge a difference between two models with a paired interval on the same test paintings; an interval
#   excluding 0 is a difference, one including 0 is not an answer either way.
# - On real paintings, from scratch at 96 px, GAP > patch > flatten on every task; on pretrained tokens at 224 px
#   the LSTM does not beat the average of the same tokens either (`results/paired.md`).
#
# ## Exercises

# %% [markdown]
# **Exercise 1 (quick).** Which of the real-painting paired differences is the largest, and which has the
# narrowest interval?
#
# <details><summary>Hint</summary><code>lesson.real_paired()</code> is a DataFrame: <code>idxmax()</code> on the
# <code>difference</code> column, and <code>hi - lo</code> for the width.</details>
#
# <details><summary>Solution</summary>
#
# The cell prints the row (runs and task) with the largest difference and the one with the narrowest
# interval. The largest differences are those of the pretrained model against a from-scratch one; the
# narrowest intervals are on style, the widest on artist: artist has the fewest labelled test paintings (n),
# so the most sampling noise — the width shrinks like 1/√n.
#
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
paired = lesson.real_paired()
paired["width"] = paired["hi"] - paired["lo"]
print("largest difference:", paired["difference"].idxmax(), f"{paired['difference'].max():+.3f}")
print("narrowest interval:", paired["width"].idxmin(), f"{paired['width'].min():.3f} wide")

# %% [markdown]
# **Exercise 2 (medium).** How many parameters does GAP's head have, and how many does the LSTM add in the
# patch and flatten models? Count them with the formula for an LSTM layer, then check against the models.
#
# <details><summary>Hint</summary>A PyTorch LSTM layer with input size d and hidden size h has
# 4·h·(d + h + 2) parameters (four gates, two bias vectors); the LayerNorm before it has 2·d; each head is a
# Linear(h_in, classes) with classes + h_in·classes parameters.</details>
#
# <details><summary>Solution</summary>
#
# There are 128 + 10 + 27 = 165 classes. GAP's heads read the 512-d average: (512 + 1) · 165 = 84,645
# parameters. Patch adds an LSTM over 512-d tokens, 4 · 256 · (512 + 256 + 2) = 788,480, and its LayerNorm,
# 1,024, and its heads read 256-d states: (256 + 1) · 165 = 42,405, in all 831,909. Flatten's LSTM reads 49-d
# tokens: 4 · 256 · (49 + 256 + 2) + 98 = 314,466, plus the same heads, 356,871. The cell prints the formula
# and the model's own count for each; they agree.
#
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
from wikiart_utils import labels
classes = sum(labels.num_classes().values())
heads = lambda d: (d + 1) * classes  # noqa: E731  (three Linear layers reading a d-dim vector)
lstm = lambda d, h=256: 4 * h * (d + h + 2) + 2 * d  # noqa: E731  (LSTM + its LayerNorm)
for variant, formula in [("resnet18_gap", heads(512)), ("resnet18_lstm_patch", lstm(512) + heads(256)),
                         ("resnet18_lstm_flatten", lstm(49) + heads(256))]:
    counted = sum(p.numel() for p in models.build_model(variant, image_size=64).head_parameters())
    print(f"{variant:<22} formula {formula:>9,}  model {counted:>9,}")

# %% [markdown]
# **Exercise 3 (open-ended).** Channel order carries no meaning. What happens to the trained flatten model
# if its channel tokens are **shuffled at test time**? And what would a fixed shuffle do if applied during
# training from scratch as well?
#
# <details><summary>Hint</summary>Wrap the trained model (<code>checkpoint.load(result.best_path)</code>) so that
# it permutes <code>model.tokens(x)</code> along dimension 1 before <code>model.head</code>, and score it with
# <code>engine.validate</code>. For the second question, think about what distinguishes channel 17 from
# channel 300 in a randomly initialised network.</details>
#
# <details><summary>Solution</summary>
#
# This cut-budget model has barely learned anything (compare its style accuracy with the majority baseline
# on its line), yet shuffling still changes its validation loss: its LSTM depends on the channel order it was
# trained with. Repeat it on a model trained for the full budget before reading more into it. A fixed
# shuffle applied from the start of training from scratch changes nothing that matters: a random
# network's channels are interchangeable, so the backbone would simply learn its detectors in the new
# order. Channel order is an arbitrary sequence, which is one reason flatten trails patch.
#
# </details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["nbval-ignore-output", "solution"]
class Shuffled(torch.nn.Module):
    """A trained model whose tokens are permuted before its LSTM reads them."""
    def __init__(self, net, order):
        super().__init__()
        self.net, self.order = net, order

    def forward(self, x):
        return self.net.head(self.net.tokens(x)[:, self.order])

trained, _ = checkpoint.load(result.best_path)
val_loader = data.make_loader(data.WikiArtDataset(root, "val", size), batch_size=64, workers=0)
order = torch.randperm(512, generator=torch.Generator().manual_seed(0))
for name, candidate in [("as trained", trained), ("channels shuffled", Shuffled(trained, order))]:
    scores = engine.validate(candidate, val_loader, torch.device("cpu"))
    print(f"{name:<18} val loss {scores['val_loss']:.3f}, style accuracy {scores['val_style_acc']:.3f} "
          f"(majority baseline {val_table.loc['style', 'majority_baseline']}), mean macro-F1 {scores['val_mean_f1']:.3f}")

# %% [markdown]
# ## Further reading
#
# - Lin, Chen & Yan, "Network In Network", ICLR 2014 — global average pooling in place of fully connected layers.
# - Hochreiter & Schmidhuber, "Long Short-Term Memory", *Neural Computation*, 1997.
# - He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
# - Yosinski, Clune, Bengio & Lipson, "How transferable are features in deep neural networks?", NeurIPS 2014 —
#   what pretrained features bring, layer by layer.
# - Tan, Chan, Aguirre & Tanaka, "Ceci n'est pas une pipe: A Deep Convolutional Network for Fine-art
#   Paintings Classification", ICIP 2016 — WikiArt with ImageNet-pretrained networks.
#
# Next: `05` swaps the backbone for VGG-16.
