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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/04_what_reading_buys.ipynb)
#
# # 04 · What does reading the tokens buy? The LSTM against the average, on the same pretrained tokens
#
# Notebook 03 turned a painting into 49 **tokens** — the 1,280 features EfficientNet-Lite0 computes at each
# of its 7 × 7 positions — and had an LSTM read them one by one. The simplest thing to do with 49 tokens is
# not to read them at all: **average** them into one vector and put the heads on that. This notebook asks the
# course's central question: *what does reading the tokens buy over averaging them?*
#
# A **reader** is whatever turns a painting's tokens into the one vector the three heads (artist, genre,
# style) classify. To compare readers fairly, everything else must be the same: the same ImageNet backbone,
# **frozen** (its weights never train), its tokens computed **once** and shared by every run, the same
# training paintings, epochs, learning rate and seed. Then a difference in score can only come from the
# reader. We train seven readers alike, and an eighth (flatten) on a smaller budget of its own:
#
# | reader | what it does with the tokens | the question it answers |
# | --- | --- | --- |
# | average | the mean of the 49 position tokens | the baseline every reader has to beat |
# | LSTM | reads the 49 positions row by row, keeps its last state (notebook 03) | does reading in sequence help? |
# | LSTM, shuffled order | the same LSTM, the positions in one fixed random order | does the *order* carry anything? |
# | attention | learned weights over the positions, then weighted averages | does looking at some places more help? |
# | stage statistics | each channel's mean and spread at every depth of the network | does the average throw away style? |
# | LSTM over depth (and its shuffled control) | the same statistics, read stage by stage from shallow to deep | does reading *depth* in sequence help? |
# | flatten | an LSTM over the 1,280 channels instead of the positions (a smaller budget) | the course's original "flatten" reading |
#
# The sample's 2,426 paintings are too few to settle small differences, so the last part reads the same
# questions on the course's real runs: 32,245 WikiArt paintings, compared painting by painting.
#
# ## What you will learn
#
# - how each reader works, in code, with its shapes on real tokens, before it is trained;
# - why a **control** (the shuffled order) is what turns "the LSTM scores X" into "the order is worth X";
# - how to run a fair **ablation** (change one part of a model, keep the rest, measure the difference): one
#   cache of frozen tokens, one budget, one seed, only the reader changes;
# - what the **channel statistics** of a network's stages are, and why they describe a painting's style;
# - how to read a table of **paired** differences on real paintings, including the pairs that are not in yet.

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
SETTINGS = {
    # sample: EfficientNet-Lite0's ImageNet weights, frozen; 224 px gives 7 x 7 = 49 positions; notebook 03's budget
    "sample": dict(image_size=224, epochs=10, batch_size=32, pretrained=True, freeze_backbone=True,
                   cached_features=True, workers=0),
    # full: the settings of the subset's runs (tools/real_results.py: 15 epochs), on the real WikiArt + a GPU
    "full": dict(image_size=224, epochs=15, batch_size=32, pretrained=True, freeze_backbone=True,
                 cached_features=True, workers="auto"),
}
READERS = {  # name -> (variant, model options): trained with the same settings and seed on one token cache
    "average": ("efficientnet_lite0_gap", {}),
    "LSTM": ("efficientnet_lite0_lstm", {}),
    "LSTM, shuffled order": ("efficientnet_lite0_lstm", {"order": "shuffled"}),
    "attention": ("efficientnet_lite0_attention", {}),
    "stage statistics": ("efficientnet_lite0_stats", {}),
    "LSTM over depth": ("efficientnet_lite0_depth_lstm", {}),
    "LSTM over depth, shuffled": ("efficientnet_lite0_depth_lstm", {"order": "shuffled"}),
}
# flatten's LSTM takes 1,280 steps per painting: on a CPU it gets a smaller budget (printed with its scores)
FLATTEN = {"sample": dict(hidden_size=32, epochs=2, lr=2e-3), "full": dict(hidden_size=128, epochs=15, lr=1e-3)}
CAPS = {}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"

# %%
# %matplotlib inline
import time
from pathlib import Path
import torch
from wikiart_utils import checkpoint, data, engine, evaluate, labels, lesson, models, plots, readers

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = lesson.profile_settings("efficientnet_lite0_lstm", SETTINGS[PROFILE], CAPS)
flatten_budget = {**FLATTEN[PROFILE], **{k: v for k, v in CAPS.items() if k == "epochs"}}
root = data.dataset_dir(DATA_DIR)
RUNS = Path(CHECKPOINTS) / "04_readers"     # one folder per reader, and the shared token cache
FEATURES = RUNS / "features"
print(f"{PROFILE} settings for every reader:", settings)

# %% [markdown]
# ## One backbone, one cache
#
# With the backbone **frozen** (its weights never change), a painting's tokens are the same at every epoch,
# so they are computed once and stored: a **token cache**. `train.train(..., features_dir=FEATURES)` keeps the
# cache in a folder that every run over the same backbone and paintings shares, named by a fingerprint of
# the backbone's weights, image size and paintings, never by the reader. `lesson.token_caches` fills it before
# any training, at the same paths, so we can look at the tokens first.
#
# EfficientNet-Lite0 gives two kinds of tokens: the **positions** of its last feature map (notebook 03), and
# a **summary of every stage**. A *stage* is one block of layers working at one resolution; Lite0 has nine,
# from the first convolution (32 channels, half the image's resolution) to the last (1,280 channels, 1/32).

# %%
caches = {"positions": lesson.token_caches(root, "efficientnet_lite0_gap", settings, FEATURES),
          "stages": lesson.token_caches(root, "efficientnet_lite0_stats", settings, FEATURES)}
for kind, pair in caches.items():
    print(f"{kind:<9}: train {len(pair['train'])} paintings x {pair['train'].token_shape}, "
          f"val {len(pair['val'])} x {pair['val'].token_shape}  (tokens per painting, values per token)")
val_cache = caches["positions"]["val"]
print("labelled validation paintings per task:", dict(zip(labels.TASKS, (val_cache.targets >= 0).sum(0).tolist())))
batch = range(min(16, len(val_cache)))                     # 16 validation paintings, as the readers see them
tokens, stage_tokens = val_cache.batch(batch)[0], caches["stages"]["val"].batch(batch)[0]
print("a batch of position tokens:", tuple(tokens.shape), "| of stage tokens:", tuple(stage_tokens.shape))
B, T, C = tokens.shape                                     # paintings, positions, channels

# %% [markdown]
# Each of the 1,940 training paintings is 49 tokens of 1,280 values, or one vector of 4,192 stage
# statistics; both caches hold the 243 validation paintings too. (The sample's paintings are about 128 px;
# they are enlarged to 224 px, as in notebook 03, so that the grid is 7 × 7 and the LSTM reads a real
# sequence.)
#
# ## The average and the LSTM
#
# `make_reader` builds a variant with fresh weights and keeps its reader: what turns the tokens [B, T, C]
# into one vector [B, D] per painting. The **average** has no weights at all. The **LSTM** (notebook 03)
# reads the tokens in order and keeps its hidden state after the last one.

# %%
make_reader = lambda variant, **options: models.build_model(variant, image_size=settings["image_size"],  # noqa: E731
                                                            **options).reader.eval()
count = lambda module: sum(p.numel() for p in module.parameters())  # noqa: E731
torch.manual_seed(0)
average, lstm = make_reader("efficientnet_lite0_gap"), make_reader("efficientnet_lite0_lstm")
with torch.no_grad():
    mean, last = average(tokens), lstm(tokens)
print(f"average {tuple(mean.shape)}: tokens.mean(dim=1)? {torch.allclose(mean, tokens.mean(dim=1))}; "
      f"{count(average)} weights")
print(f"LSTM    {tuple(last.shape)}: its hidden state after token 49; {count(lstm):,} weights")

# %% [markdown]
# The average keeps 1,280 numbers per painting and learns nothing; the heads do all the learning. The LSTM
# keeps 256 and learns about 1.6 million weights to decide what to keep. If reading in order helps, it must
# be worth those weights on 1,940 paintings.
#
# ## The control: the same LSTM, in a shuffled order
#
# An LSTM that scores better than the average could owe it to the *order* of the positions (what is next to
# what, top before bottom) or merely to having more weights. A **control** is a run that differs from the
# real one in exactly one thing, so that comparing the two measures that thing. Here: the same LSTM fed the
# same 49 tokens in **one fixed random order** (`order="shuffled"`), the same permutation for every painting,
# epoch and run (`readers.shuffled_order`, drawn from a seeded generator). Below, the step at which each
# position is read, laid out as the 7 × 7 map; row by row it would read 1 to 49.

# %%
shuffled = make_reader("efficientnet_lite0_lstm", order="shuffled")
shuffled.load_state_dict(lstm.state_dict())                # the very weights of the LSTM above
order = readers.shuffled_order(T)
with torch.no_grad():
    same = torch.allclose(shuffled(tokens), lstm(tokens[:, order]), atol=1e-6)
print("shuffled reader == the LSTM reading tokens[:, order]:", same)
lesson.order_grid(round(T ** 0.5))

# %% [markdown]
# Neighbours on the canvas are no longer neighbours in time: the top-left position is read at step 32, and
# the first token read comes from the second row. Everything else is identical, so if the shuffled LSTM
# trains as well as the natural one, the natural order carried nothing the LSTM could use.
#
# ## Attention pooling: a weighted average
#
# **Attention pooling** keeps the average's form but learns *where to look*: a learned **query** vector
# scores every token (how well the token's projection matches the query), a **softmax** turns the 49 scores
# into weights that sum to 1 (each score exponentiated, divided by the sum of all 49), and the output is the
# weighted average of the tokens. Four queries give four
# weighted averages side by side. The queries start at zero, so every weight starts at 1/49.

# %%
attention = make_reader("efficientnet_lite0_attention")
with torch.no_grad():
    weights, pooled = attention.weights(tokens), attention(tokens)
print(f"weights {tuple(weights.shape)} (B, queries, T); each row sums to 1: "
      f"{torch.allclose(weights.sum(-1), torch.ones(weights.shape[:2]))}; all 1/49 now: "
      f"{torch.allclose(weights, torch.full_like(weights, 1 / 49))}")
print(f"output {tuple(pooled.shape)} = 4 x 1,280; each is the plain average now: "
      f"{torch.allclose(pooled.reshape(B, 4, C), mean[:, None].expand(-1, 4, -1), atol=1e-5)}")

# %% [markdown]
# Untrained, attention pooling *is* the average (four copies of it). Training moves the queries only where
# looking at some positions more than others lowers the loss, so it starts from the baseline and can only
# drift from it for a reason. After training we will draw its weights on a painting.
#
# ## Stage statistics: what the average throws away
#
# Averaging the last feature map over the positions keeps each channel's **mean** and drops everything
# else, including how much a channel varies across the painting, and every earlier stage. Neural style
# transfer found that a painting's *style* lives in exactly those numbers: Gatys et al. (2016) matched the
# correlations of channels at several depths, Huang & Belongie (2017) simply each channel's mean and standard
# deviation (AdaIN). The **stage statistics** token is that: for each of the nine stages, every channel's mean
# and standard deviation over the positions. The `stats` reader standardises each of these features over the
# paintings (a BatchNorm, like scaling the inputs of a logistic regression) and hands them to the heads: no
# reading at all, only richer numbers.
#
# The **LSTM over depth** reads the same statistics as a sequence with a meaning: one **stage token** per
# stage, from the shallow stages (colours, edges, brush texture) to the deep ones (parts, objects). Stages
# differ in width, so each stage's statistics are normalised and projected to 256 values first.

# %%
widths = [2 * c for c in models.LITE0_CHANNELS]           # a mean and a standard deviation per channel
stages = stage_tokens.flatten(1).split(widths, dim=1)
print("stage             ", *[f"{s:>5}" for s in range(1, 10)])
print("channels          ", *[f"{c:>5}" for c in models.LITE0_CHANNELS])
print("statistics (2 x C)", *[f"{w:>5}" for w in widths], f"= {sum(widths):,}")
print("stage 9's means == the average of the position tokens:",
      torch.allclose(stages[-1][:, :C], mean, atol=2e-2, rtol=2e-2))
depth = make_reader("efficientnet_lite0_depth_lstm")      # the LSTM over depth, below
with torch.no_grad():
    sequence, summary = depth.stage_tokens(stage_tokens), depth(stage_tokens)
print(f"LSTM over depth: stage tokens {tuple(sequence.shape)} (B, 9 stages, 256) -> {tuple(summary.shape)}")

# %% [markdown]
# 4,192 numbers per painting, and the average's 1,280 are among them (the two caches agree to the precision
# of their float16 storage). The LSTM over depth reads them in nine steps instead of 49, each step a whole stage of the
# network; its control, `LSTM over depth, shuffled`, reads the same nine stage tokens in a fixed random order.
#
# ## Training every reader on the same cache
#
# Every reader gets the same run settings; `lesson.run_settings` shows what the regime fills in (notebook 03
# explains each):

# %%
run = lesson.run_settings("efficientnet_lite0_lstm", settings)
print({key: getattr(run, key) for key in ("epochs", "batch_size", "lr", "warmup_epochs", "task_weights", "seed")})

# %% [markdown]
# `lesson.train_readers` calls `train.train` once per reader, with `features_dir` pointing at the shared
# cache, and prints one line per run (each run's full log is in its `log.txt`): the epoch `best.pt` kept —
# the best validation **mean macro-F1**, the average over the three tasks of the F1 score averaged over
# classes — and the seconds its epochs took.

# %% tags=["nbval-ignore-output"]
start = time.time()
runs = lesson.train_readers(root, READERS, settings, RUNS, FEATURES)
print(f"{len(runs)} readers trained in {time.time() - start:.0f} s")
lesson.curves_chart({name: r.history for name, r in runs.items()}, path=f"{FIGURES}/04_reader_curves.png",
                    title=f"{len(runs)} readers, the same cached tokens, budget and seed: training loss, validation macro-F1")

# %% [markdown]
# Read the right panel first (the validation split). The stage statistics are ahead from the first epoch to
# the last (their run stopped after 9 epochs: **early stopping** ends a run after 5 epochs without a better
# validation score). Attention, the average and the two LSTMs over depth end close together; the two LSTMs
# over positions end lowest, the shuffled one above the natural one at every epoch. The left panel shows
# why fitting more did not buy more: the position LSTMs, attention and the statistics drive their training
# loss far below the average's, and after the first few epochs their validation scores no longer follow (the
# statistics' peaks at epoch 4). With 1,940 training paintings, a reader that can fit more memorises the
# training paintings faster than it learns what carries over to new ones (**overfitting**). The average,
# which learns only its heads, ends with a training loss several times theirs; only the shuffled LSTM over
# depth ends higher, slower to fit its stages in a random order, and no worse for it on validation. The
# position LSTMs also cost by far the most time per epoch (their seconds are printed above).
#
# ## The validation table
#
# Each run's best epoch, scored on the cached validation tokens of the sample (243 paintings; trained and
# scored on the machine that runs this notebook, for the committed outputs a 2-core CPU): top-1 with its 95%
# **bootstrap interval** (where the score falls when the validation paintings are redrawn with replacement,
# 1,000 times) and macro-F1 for each task, beside the task's number of labelled paintings n and its
# **majority baseline** (always answering the most frequent training class).

# %% tags=["nbval-ignore-output"]
scored, preds = lesson.score_runs(runs, caches, root)
lesson.show(lesson.reader_table(scored))
plots.comparison_chart(evaluate.compare(scored), path=f"{FIGURES}/04_readers_val.png",
                       title="top-1 on the sample's validation split, 95% intervals")

# %% [markdown]
# In the chart the dashed line is each task's majority baseline and the dotted one chance (1 / the classes present
# among the labelled validation paintings). Every reader clears the majority baseline on every task, the lower end of each interval included. The
# intervals are wide: with 149 to 243 labelled paintings per task, the average's artist interval alone spans
# 0.302 to 0.450. On genre and style the readers' top-1 lie within seven points of each other; the stage
# statistics stand apart on artist (0.530 against the average's 0.376) and in style macro-F1 (0.729 against
# 0.514): macro-F1 weighs every style equally, so the statistics are better on the rare styles too, not only
# on the frequent ones. The natural-order LSTM has the lowest artist top-1 of the seven, and shares the lowest
# style top-1 with attention.
#
# The readers were scored on the *same* paintings, so the fair test of a difference is paired: for each
# painting, was one reader right where the other was wrong? Every reader against the average:

# %% tags=["nbval-ignore-output"]
lesson.paired_wide(lesson.paired_against(preds, "average"))

# %% [markdown]
# Of these 18 paired intervals only one excludes 0: the stage statistics on artist (+0.154 [+0.074, +0.228]).
# Every other difference, the LSTM's included, is one that 149 to 243 paintings cannot resolve — which is
# not the same as "equal". (With 18 intervals at 95%, about one could exclude 0 by chance alone; this one is
# far from 0, and the subset's test split below points the same way.) The sample shows how the readers
# behave; the subset has to say which is better.
#
# ## Where the trained readers look
#
# The average gives each of the 49 positions the same weight, 1/49 ≈ 2%. The trained attention reader gives
# its own weights, which we can read directly. The LSTM has no weights over positions, but we can ask how
# strongly each position moves its last state: the size of the gradient of that state with respect to each
# token, as a share of all 49 (`lesson.gradient_share`). Averaged over the 243 validation paintings, the LSTM's
# share of each row of the 7 × 7 map (top to bottom) and how peaked attention's weights are; then both on one
# painting, the first of the validation split (one colour scale per reader):

# %% tags=["nbval-ignore-output"]
all_tokens, _ = val_cache.batch(range(len(val_cache)))
trained = {name: checkpoint.load(runs[name].best_path)[0].eval() for name in ("LSTM", "attention")}
heard = lesson.gradient_share(trained["LSTM"].reader.lstm, trained["LSTM"].reader.norm(all_tokens))
with torch.no_grad():
    looked = trained["attention"].reader.weights(all_tokens)             # [paintings, queries, 49]
rows = heard.mean(0).reshape(-1, round(T ** 0.5)).sum(1)    # the 7 rows of the map, top to bottom
print("LSTM, share of its last state's gradient per row:", [f"{v:.0%}" for v in rows])
print("attention, largest weight of each query, median over paintings:",
      [f"{v:.0%}" for v in looked.max(-1).values.median(0).values])
val_set = data.WikiArtDataset(root, "val", settings["image_size"], train=False)
row = int(val_cache.rows[0])                               # one painting: the first of the validation split
image = val_set[row][0]
panels = [image, *lesson.position_overlays(heard[:1], image), *lesson.position_overlays(looked[0], image)]
captions = (["the painting", f"LSTM: gradient share, largest {heard[0].max():.0%}"]
            + [f"attention query {q + 1}: largest weight {w.max():.0%}" for q, w in enumerate(looked[0])])
plots.image_grid(panels, captions, ncols=3, cell_size=3.0, paintings=val_set.meta.iloc[[row]],
                 title=f"{val_set.meta.painter.iloc[row]}: where the trained LSTM and attention look "
                       f"(the average: 2% everywhere)", path=f"{FIGURES}/04_where_readers_look.png")

# %% [markdown]
# The LSTM's last state hears the bottom of the painting most: the last row of positions, read last,
# carries 46% of the gradient, the top row 4%, where the average gives each row 1/7 ≈ 14%. That is the fading
# memory of notebook 03's forget gates: what was read early has faded by the end, so the LSTM is less a
# reader of the whole painting than of its last rows, and on the painting above its largest share is on the
# last position it read (bottom right). Attention's weights are peaked instead: the median largest weight of
# a query is 14% to 19%, seven to ten times the uniform 2%. On this painting the four queries look at nearly
# the same few positions on the left: four queries learned one way of looking, so attention's four averages
# are close to one weighted average repeated.
#
# ## Flatten: an LSTM over channels, on the same tokens
#
# The course's first design read a feature map the other way round: each **channel** becomes a token
# holding its values at the 49 positions, and an LSTM reads the 1,280 channels one after the other. On the
# pretrained tokens this is a transpose of the cache:

# %%
channel_tokens = tokens.transpose(1, 2)                    # (B, C, T): one token per channel
print(f"channel tokens {tuple(channel_tokens.shape)}: an LSTM of {channel_tokens.shape[1]:,} steps of "
      f"{channel_tokens.shape[2]} values")
print("each channel token's mean == the average reader's feature:",
      torch.allclose(channel_tokens.mean(-1), mean, atol=1e-6))
print("after LayerNorm over its 49 values every token's mean is 0:",
      torch.allclose(torch.nn.LayerNorm(T)(channel_tokens).mean(-1), torch.zeros(B, C), atol=1e-4))

# %% [markdown]
# Two consequences. The channel tokens hold everything the average keeps (each token's mean *is* one of the
# average's 1,280 features), so flatten could in principle learn the average; but its LSTM has to carry
# what matters through 1,280 steps, in an order with no meaning (channel 17 is not "next to" channel 18).
# And the normalisation matters: notebook 03's LayerNorm, applied to a channel token, would subtract the
# channel's own mean — the very number the average reads. `lesson.ChannelLSTM` standardises each channel
# across paintings instead (a BatchNorm), then reads. Its budget is printed with its result: 1,280 sequential
# steps per painting make it by far the slowest reader on a CPU, so it gets fewer epochs and a smaller LSTM
# than the others.

# %% tags=["nbval-ignore-output"]
torch.manual_seed(0)
flatten = lesson.ChannelLSTM(channels=C, positions=T,
                             hidden_size=flatten_budget["hidden_size"])
print(f"flatten: {count(flatten):,} weights; budget {flatten_budget} (the other readers: "
      f"{settings['epochs']} epochs, hidden size 256, lr {run.lr} with warm-up and cosine decay)")
start = time.time()
lesson.fit_on_tokens(flatten, caches["positions"], epochs=flatten_budget["epochs"], lr=flatten_budget["lr"])
scored["flatten (LSTM over channels)"], _ = lesson.score_on_cache(flatten, caches["positions"]["val"], root)
print(f"{time.time() - start:.0f} s")
reach = lesson.gradient_share(flatten.lstm, flatten.eval().channel_tokens(all_tokens)).mean(0)
print(f"share of its last state's gradient from the last 10 of the {len(reach):,} channels: {reach[-10:].sum():.0%}, "
      f"the last 100: {reach[-100:].sum():.0%}")
lesson.reader_table({name: scored[name] for name in ("average", "LSTM", "flatten (LSTM over channels)")})

# %% [markdown]
# Flatten barely moves from the majority baseline: each task's baseline lies inside or at the edge of its
# interval (style 0.453 [0.391, 0.514] against 0.449), and its macro-F1 is 0.013 on artist, about 0.1 on genre
# and style — it answers the most frequent classes. The printed reach says why: 98% of the gradient that
# reaches its last state comes from the last 10 of the 1,280 channels. Its memory fades within a few steps,
# so its last state is, in effect, a reader of ten channels chosen by nothing but their index. Training could
# push its forget gates towards 1 and lengthen that memory, but not on this budget, and it would then have
# to carry 1,280 features through 1,280 steps in 32 numbers. The average keeps every channel, one weight per
# class each, at no cost.
#
# The same reading trained **from scratch** on real paintings is committed in `results/` as a labelled
# control: ResNet-18 learned end to end at 96 px on 6,001 paintings of the subset (`train_limit` 6000: a
# style-stratified draw, each style's share rounded, which gives 6,001), its 512 channels read by
# an LSTM (`resnet18_lstm_flatten`), beside the same network averaged (`resnet18_gap`) and read over
# positions (`resnet18_lstm_patch`), all with the same budget:

# %%
lesson.real_table(["resnet18_gap", "resnet18_lstm_patch", "resnet18_lstm_flatten"])

# %% [markdown]
# There, flatten did learn — above its majority baseline on every task — because the backbone trained with
# it and could arrange its 512 channels for the LSTM; it is still the lowest of the three, and plain
# averaging (`resnet18_gap`) the highest on every task (the paired intervals of these pairs are in
# `results/paired.md`, "Earlier comparisons": 96 px, a 3 × 3 map, 6 epochs, a 2-core CPU). On pretrained
# tokens, the flatten reading is a control of what an LSTM's memory can hold, not a contender.
#
# ## The answers on real paintings
#
# The sample cannot settle differences of a few points. The course's real runs can: every reader above,
# trained by `tools/real_results.py` on the **32,245-painting WikiArt subset** (the public GitHub repository
# `jalpv1/wiki-art-selected-resized` at commit `f7db1e48`, 224 px), EfficientNet-Lite0's ImageNet weights
# frozen, its tokens cached once and shared, 15 epochs at the same settings and seed, each on all 25,794
# training paintings (all but the fine-tuning pair at the end: 8 epochs on 6,001), on 2-core CPUs without a GPU (the split is described in `results/README.md`). The
# validation split (3,227 paintings) chose each run's epoch and the "best reader"; each run was then scored
# once on the whole **test split** (3,224 paintings), and its prediction for every test painting is committed
# (`results/<run>/test_predictions.csv`). The runs committed so far, how each reads its tokens, and its best
# validation mean macro-F1; the two order controls (`lstm_shuffled`, `depth_lstm_shuffled`) are not candidates
# for the best reader, and neither is `stats_tuned`, whose backbone is not frozen:

# %%
reader_runs = [lesson.AVERAGE, *lesson.FROZEN_READERS, "efficientnet_lite0_lstm_shuffled_frozen",
               "efficientnet_lite0_depth_lstm_shuffled_frozen", "efficientnet_lite0_stats_tuned"]
committed = lesson.real_reader_runs(reader_runs)
best, _ = lesson.best_on_validation()
print(f"committed: {len(committed)} of {len(reader_runs)} reader runs; the best frozen reader on validation: {best}")
print(f"the model the course ships (checkpoints/course/): {lesson.course_run()}")
committed

# %% [markdown]
# Now each question as a difference of test top-1, reader *a* minus reader *b*, on the same test paintings,
# with a paired bootstrap 95% interval (the paintings are resampled together for both runs, as notebook 08
# builds by hand). The "best reader" row compares the frozen reader with the best validation score —
# chosen before any test score was read — against the average. A question whose runs are not committed yet
# has no row: the line printed above the table names it and the run it waits for, and the table grows as the
# runs arrive.

# %%
real_pairs, missing = lesson.reading_pairs()
print("not committed yet:", "; ".join(missing) if missing else "none")
lesson.show(lesson.paired_wide(real_pairs))
lesson.paired_chart(real_pairs, path=f"{FIGURES}/04_paired_real.png",
                    title="reader a − reader b: test top-1 on the same test paintings of the subset (its labelled ones per task; paired 95% CI)")

# %% [markdown]
# Read each row as "reader a minus reader b" on the same test paintings: an interval wholly above 0 means
# *a* is better on that task for these 3,224 paintings, wholly below 0 that *b* is, and one that includes 0
# that this test split cannot tell them apart (which is not "equal"). Each run is one seed, and with this
# many intervals at 95%, one that excludes 0 by a hair is weak evidence on its own.
#
# - **The LSTM against the average** (`lstm − gap`), the course's decisive comparison: below 0 on artist
#   (-0.036 [-0.057, -0.015]), intervals including 0 on genre (-0.011 [-0.026, +0.003]) and style (-0.003
#   [-0.015, +0.010]). Reading the 49 positions in order is no better than averaging them, and worse on the
#   task with the fewest paintings per class.
# - **The best reader against the average**, chosen on validation before any test score was read: the stage
#   statistics (`stats − gap`; validation mean macro-F1 0.645 against the average's 0.602 in the table of
#   committed runs, ahead of the LSTM over depth's 0.642, attention's 0.589 and the LSTM's 0.566). They are
#   ahead on artist (+0.069 [+0.051, +0.090]) and style (+0.039 [+0.028, +0.051]) and indistinguishable on
#   genre (+0.001 [-0.013, +0.014]). Chosen by the same rule, they are the model the course now ships (the
#   second printed line). What beat the average is not a way of reading but richer numbers: the spread of
#   every channel, at every depth — the statistics style transfer calls style. Genre, what a painting
#   depicts, gains nothing from them.
# - **Attention against the average** (`attention − gap`): every interval includes 0 (artist -0.006
#   [-0.024, +0.011], genre -0.011 [-0.024, +0.001], style -0.007 [-0.018, +0.003]), and on validation it was
#   behind the average (0.589 against 0.602). Attention starts as the average; its learned weights found
#   nothing the plain average missed that this test split can see.
# - **The LSTM over depth against the average** (`depth_lstm − gap`): ahead on all three tasks, every interval
#   clear of 0 (artist +0.060 [+0.041, +0.081], genre +0.015 [+0.002, +0.029], style +0.053 [+0.041, +0.066]).
#   It reads the same stage statistics, so this row alone cannot say whether the statistics or the reading
#   are what helps; the next two rows separate them.
# - **Reading depth against the statistics side by side** (`depth_lstm − stats`): indistinguishable on artist
#   (-0.009 [-0.027, +0.011]), a little ahead on genre (+0.014 [+0.001, +0.029]) and style (+0.014 [+0.002,
#   +0.026]), both intervals just above 0; on validation the two were within 0.003 of each other (0.642 and
#   0.645). Two intervals that clear 0 by a point, one seed each, are a hint rather than a finding.
# - **Does the order of depth matter?** (`depth_lstm − depth_lstm_shuffled`): the same LSTM reading the nine
#   stage tokens shallow to deep, or in one fixed random order. Every interval includes 0 (artist +0.002
#   [-0.016, +0.019], genre +0.002 [-0.012, +0.016], style +0.009 [-0.002, +0.020]), and on validation the
#   shuffled control was, if anything, a little higher (0.644 against 0.642). Reading depth *in order* buys
#   nothing this test split can detect: whatever the LSTM over depth adds to the statistics side by side comes
#   from the LSTM's weights over the stage tokens, not from the order of the stages.
# - **Does the order of positions matter?** (`lstm − lstm_shuffled`): the same question for the 49 positions,
#   row by row against one fixed random order. Artist +0.020 [-0.001, +0.042] includes 0, genre -0.005
#   [-0.020, +0.009] too, and style -0.018 [-0.031, -0.006] lies below 0: the *shuffled* LSTM is the better one
#   on style (on validation too: 0.591 against 0.566). The raster order gives the LSTM nothing; the take-aways
#   below say why a scrambled one can help.
# - **Fine-tuned last stages** (`stats_tuned − stats_frozen_6k`): the same stage-statistics reader with
#   EfficientNet-Lite0's last three stages trained instead of frozen (`tuned_stages=3`), against its frozen
#   twin, both on the same 6,001 training paintings for 8 epochs (the CPU budget): artist +0.036 [+0.014,
#   +0.056], genre +0.025 [+0.009, +0.040], style +0.030 [+0.017, +0.044], every interval above 0. Adapting
#   the features is worth about three points on every task, genre included, where the best reader gained at
#   most 1.5 points (the LSTM over depth against the average: +0.015 [+0.002, +0.029]). On 6,001
#   paintings it still stays below the frozen reader on all 25,794 (validation 0.602 against 0.645), which is
#   why the course model is the frozen one.
#
# ## Take-aways
#
# - A **reader** turns a painting's tokens into the vector its heads classify. Readers can be compared fairly
#   only on the same tokens, budget and seed: with a frozen backbone, one shared cache makes that cheap.
# - A **control** differs from the real run in one thing: the shuffled order isolates what the order is
#   worth; attention pooling, started at the average, can only move away from it for a reason.
# - More weights were not what helped: on the sample the four LSTMs (about 1.6 million reader weights each)
#   all ended behind the average on validation, the two over positions after fitting the training paintings
#   far better than it; the best reader, the stage statistics, learns nothing of its own but a BatchNorm.
# - An LSTM's memory fades: trained on 49 positions its last state hears mostly the last rows; reading 1,280
#   channels (flatten) its last state hears the last ten. On the subset neither the LSTM over positions nor
#   attention pooling beats the average of the same tokens (the LSTM is worse on artist), and the same LSTM fed
#   the positions in a scrambled order is better on style: its last steps then sample the whole painting
#   instead of its bottom rows.
# - Adapting the features reaches what reading them does not: fine-tuning the last three stages gained about
#   three points on every task over its frozen twin, genre included, where no reader gained more than 1.5. It
#   was measured on 6,001 paintings and stays below the frozen reader trained on all 25,794, so whether it beats
#   that reader is the next run to make, not a finding.
# - What beat the average on the subset was richer numbers: every stage's channel means and standard
#   deviations — the statistics of style transfer — ahead on artist and style, and now the course's shipped
#   model. An LSTM over the same statistics also beats the average, but reading the stages in order is worth
#   nothing detectable: its shuffled control does as well.
# - Judge with paired intervals on many test paintings; a few hundred validation paintings show how readers
#   behave, not which is better.
#
# ## Exercises
#
# Each solution is folded under the exercise: try first, then open it. Its code is also a cell you can run.

# %% [markdown]
# **Exercise 1 (quick).** How many weights does each reader learn, and how long is the vector its heads read?
# Predict the average's, attention's and the stage statistics' from their definitions above, then count
# them in the models (the heads are three `Linear` layers with 128 + 10 + 27 = 165 outputs in all).
#
# <details><summary>Hint</summary>A <code>Linear(d, k)</code> has (d + 1)·k weights; a LayerNorm or BatchNorm
# over d features 2·d; attention's key projection is <code>Linear(1280, 128, bias=False)</code> and its four
# queries 4 × 128. <code>model.reader.dim</code> is what the heads read.</details>
#
# <details><summary>Solution</summary>
#
# The average learns nothing; its heads read 1,280 values: (1,280 + 1) · 165 = 211,365 weights in all.
# Attention learns its LayerNorm (2,560), its keys (1,280 · 128 = 163,840) and its queries (512): 166,912;
# its heads read 4 · 1,280 = 5,120 values, (5,120 + 1) · 165 = 844,965. The stage statistics learn only their
# BatchNorm (2 · 4,192 = 8,384) and their heads read 4,192 values: 691,845. The LSTM learns 1,577,472
# (LayerNorm 2,560 and 4 · 256 · (1,280 + 256 + 2) = 1,574,912) and its heads read only 256: 42,405. The
# code below counts them in the models. Weights are not what decides: compare this list with the validation
# table and the real answers.
#
# ```python
# for name, (variant, options) in READERS.items():
#     net = models.build_model(variant, image_size=settings["image_size"], **options)
#     print(f"{name:<26} reader {count(net.reader):>9,} weights, heads read {net.reader.dim:>5,} values: "
#           f"{count(net.heads):>7,} head weights")
# ```
#
# </details>

# %% [markdown]
# **Exercise 2 (medium).** The shuffled control asks whether the order carries information. A different
# question: does the trained LSTM *depend* on the order it was trained in? Without retraining, feed each
# trained LSTM (natural and shuffled) the validation tokens in a *new* random order, one neither saw, and
# compare its validation scores with those in its own order. What would a large drop mean, and what would it
# not mean?
#
# <details><summary>Hint</summary>Wrap the trained model so that it permutes the tokens before its head:
# <code>model.head(tokens[:, other])</code> with <code>other = torch.randperm(49, generator=...)</code>, and
# score it with <code>engine.validate(net, caches["positions"]["val"].loader(64), torch.device("cpu"))</code>.
# </details>
#
# <details><summary>Solution</summary>
#
# The code below scores both trained LSTMs in their own order and in a new one (mean macro-F1 and style top-1
# on the validation split). An LSTM's weights are fitted to the sequence it was trained on, so a new order
# usually costs it something: the drop measures how much the trained model *relies* on its order. By itself
# it does not say that the order carries information about the painting: a model trained on an arbitrary
# order can rely on that order too. That question is only answered by training both, as the control does:
# if the natural and the shuffled LSTM reach the same scores, the natural order added nothing the LSTM could
# learn from.
#
# ```python
# class Reordered(torch.nn.Module):
#     """A trained model whose tokens are permuted before its reader sees them."""
#     def __init__(self, model, order):
#         super().__init__()
#         self.model, self.order = model, order
#
#     def forward(self, tokens):
#         return self.model.head(tokens[:, self.order])
#
# other = torch.randperm(tokens.shape[1], generator=torch.Generator().manual_seed(1))
# for name in ("LSTM", "LSTM, shuffled order"):
#     model, _ = checkpoint.load(runs[name].best_path)
#     for label, net in (("its own order", Reordered(model, torch.arange(tokens.shape[1]))),
#                        ("a new order", Reordered(model, other))):
#         s = engine.validate(net.eval(), caches["positions"]["val"].loader(64), torch.device("cpu"))
#         print(f"{name:<21} {label:<14} mean macro-F1 {s['val_mean_f1']:.3f}, style top-1 {s['val_style_acc']:.3f}")
# ```
#
# </details>

# %% [markdown]
# **Exercise 3 (open-ended).** Which stages carry what the stage statistics add? On the stage cache, train
# the stats reader's recipe (standardise, then three linear heads) on three slices of the 4,192 statistics:
# stage 9's means alone (the average), stage 9's means and standard deviations, and stages 1–8 without stage
# 9. What do the scores suggest, and what would a fair answer need?
#
# <details><summary>Hint</summary>The slices are column ranges of <code>stage_tokens.flatten(1)</code>:
# stage 9 is the last 2 · 1,280 columns, its means the first half of those. A small <code>nn.Module</code>
# that slices, applies <code>BatchNorm1d</code> and three <code>Linear</code> heads trains in seconds with
# <code>lesson.fit_on_tokens</code>.</details>
#
# <details><summary>Solution</summary>
#
# The code below trains the three slices for 10 epochs each with the same seed and prints their best validation
# mean macro-F1. Read the three together: the gap between "stage 9, means" and "stage 9, means and standard
# deviations" is what the spread of the last features adds to the average; "stages 1–8" says how much the
# shallower stages know on their own (colours, edges and brush texture live there). On 243 validation
# paintings and one seed, a few points either way is within noise: a fair answer trains each slice on the
# subset, on several seeds, and compares them with paired intervals on the same test paintings.
#
# ```python
# class SliceProbe(torch.nn.Module):
#     """Standardised columns [start, stop) of the stage statistics -> three linear heads."""
#     def __init__(self, start, stop):
#         super().__init__()
#         self.start, self.stop = start, stop
#         self.norm = torch.nn.BatchNorm1d(stop - start)
#         self.heads = torch.nn.ModuleDict({t: torch.nn.Linear(stop - start, n) for t, n in labels.num_classes().items()})
#
#     def forward(self, tokens):
#         x = self.norm(tokens.flatten(1)[:, self.start:self.stop])
#         return {t: head(x) for t, head in self.heads.items()}
#
# last = sum(widths) - widths[-1]                            # where stage 9's statistics start
# for name, (start, stop) in {"stage 9, means (the average)": (last, last + 1280),
#                             "stage 9, means and std": (last, sum(widths)), "stages 1-8": (0, last)}.items():
#     torch.manual_seed(0)
#     print(f"{name}: {stop - start:,} statistics")
#     history = lesson.fit_on_tokens(SliceProbe(start, stop), caches["stages"], epochs=10, lr=1e-3, verbose=False)
#     print(f"  -> best val mean macro-F1 {max(h['val_mean_f1'] for h in history):.3f}")
# ```
#
# </details>

# %% [markdown]
# ## Further reading
#
# - Lin, Chen & Yan, "Network In Network", ICLR 2014 (arXiv 2013) — global average pooling: the average reader.
# - Hochreiter & Schmidhuber, "Long Short-Term Memory", *Neural Computation*, 1997 — the LSTM.
# - Gatys, Ecker & Bethge, "Image Style Transfer Using Convolutional Neural Networks", CVPR 2016 — style as
#   statistics of feature maps at several depths.
# - Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization", ICCV 2017
#   — style as each channel's mean and standard deviation: the stage statistics.
# - Bengio, Simard & Frasconi, "Learning Long-Term Dependencies with Gradient Descent is Difficult", *IEEE
#   Transactions on Neural Networks*, 1994 — why a recurrent network's gradient fades over long sequences.
# - Ilse, Tomczak & Welling, "Attention-based Deep Multiple Instance Learning", ICML 2018 — attention pooling
#   of a bag of instances (here: a painting's positions); Lee et al., "Set Transformer", ICML 2019 — pooling
#   by learned queries.
# - Chen et al., "Context Autoencoder for Self-Supervised Representation Learning", 2022, and El-Nouby et al.,
#   "Scalable Pre-training of Large Autoregressive Image Models", 2024 — *attentive probing*: a learned
#   attention pool over frozen tokens, to read them better than their average.
# - Tan, Chan, Aguirre & Tanaka, "Ceci n'est pas une pipe: A Deep Convolutional Network for Fine-art Paintings
#   Classification", ICIP 2016 — artist, genre and style on WikiArt from CNN features.
#
# Next: `05` swaps the backbone for VGG-16.
