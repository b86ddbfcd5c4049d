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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/08_compare_models.ipynb)
#
# # 08 · Comparing models honestly
#
# Notebooks 03–06 trained several models; the course's real runs on the 32,245-painting WikiArt subset are
# committed in `results/`. Which is better — and can the test split even tell? This notebook answers with
# **paired** comparisons: both models scored on the same paintings, the difference resampled painting by
# painting. It runs on its own too: when the sample runs of 03–06 are not in `checkpoints/` (a fresh clone,
# Colab), it says so in one line and compares the committed real runs instead.
#
# ## What you will learn
#
# - how to **choose the main model on the validation split**, so that the test split informs no choice;
# - the **paired bootstrap**, by hand: why two overlapping intervals do not mean two models are equal;
# - how to **state each run's budget** beside its scores, and read a comparison of different budgets;
# - what the real-paintings runs answer: **pretrained vs from scratch, what reading the tokens buys (an LSTM,
#   attention, every stage's statistics, against their plain average), frozen vs fine-tuned**;
# - what an older labelling convention does to artist accuracy, measured.

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
PROFILE = "sample"     # (unused here: this notebook trains nothing)
SPLIT = "test"
MAIN = None            # the reference run; None = the best validation mean macro-F1 among the runs compared
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"
N_BOOT = None          # bootstrap resamples; None = metrics.BOOTSTRAP_RESAMPLES, every interval's setting
WORKERS = 0

# %% tags=["nbval-ignore-output"]
# %matplotlib inline
from pathlib import Path
import numpy as np
import pandas as pd
from wikiart_utils import data, evaluate, labels, lesson, metrics, models, plots, results

N_BOOT = N_BOOT or metrics.BOOTSTRAP_RESAMPLES  # the same resamples as metrics.json and results/paired.md
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)
runs, compared = lesson.comparison_runs(CHECKPOINTS, root)  # 03-06's sample runs, if the average is among them
print(compared)

# %% [markdown]
# ## The paired bootstrap, by hand
#
# Start with two real models and their predictions on the same 3,224 test paintings of the subset (committed
# in `results/<run>/test_predictions.csv`): the course's model (the one shipped in `checkpoints/course/`,
# chosen on validation) and the model trained from scratch with the best validation score. For each painting
# we know whether each model was right.

# %%
real_board = lesson.committed_board()        # every committed run: its budget and best validation score
a = lesson.course_run()                      # the run shipped as the course model (checkpoints/course/run.json)
b = real_board[~real_board.pretrained].val_mean_f1.idxmax()   # the best from-scratch run, on validation
pa, pb = (pd.read_csv(results.RESULTS / run / "test_predictions.csv") for run in (a, b))
known = (pa["style"] >= 0).to_numpy()
right_a = (pa["style_pred"] == pa["style"]).to_numpy()[known]
right_b = (pb["style_pred"] == pb["style"]).to_numpy()[known]
print(f"same paintings: {pa['path'].equals(pb['path'])}; style top-1 {a} {right_a.mean():.3f}, {b} {right_b.mean():.3f}")
print(f"both right {np.sum(right_a & right_b)}, only {a} {np.sum(right_a & ~right_b)}, only {b} "
      f"{np.sum(~right_a & right_b)}, both wrong {np.sum(~right_a & ~right_b)}")

# %% [markdown]
# Only the paintings where the two disagree carry information about which model is better. The paired
# bootstrap keeps that structure: it redraws the *paintings* with replacement and recomputes **both** models'
# scores on the same redraw, so its interval is for the difference itself.

# %%
rng = np.random.default_rng(metrics.BOOTSTRAP_SEED)  # the seed metrics.bootstrap_ci uses
redraws = rng.integers(0, len(right_a), size=(N_BOOT, len(right_a)))   # the same redraw for both models
differences = right_a[redraws].mean(axis=1) - right_b[redraws].mean(axis=1)
lo, hi = np.percentile(differences, [2.5, 97.5])
helper = metrics.paired_difference(right_a, right_b, n_boot=N_BOOT)
print(f"difference {right_a.mean() - right_b.mean():+.3f}, by hand [{lo:+.3f}, {hi:+.3f}], "
      f"metrics.paired_difference [{helper['ci'][0]:+.3f}, {helper['ci'][1]:+.3f}] (n = {helper['n']})")

# %% [markdown]
# Both intervals lie wholly above 0, and they agree (the same seed gives the same redraws): on these test
# paintings the pretrained model is the better one for style, by about 25 points. `metrics.paired_difference` is what the rest of
# the course uses.
#
# Why pair at all? Because two models are right on mostly the *same* paintings, and their own intervals ignore
# that. Take two close models — the LSTM and the plain average reading the same frozen ImageNet tokens — and
# artist:

# %%
close_a, close_b = "efficientnet_lite0_lstm_frozen", "efficientnet_lite0_gap_frozen"
ca, cb = (pd.read_csv(results.RESULTS / run / "test_predictions.csv") for run in (close_a, close_b))
artist = (ca["artist"] >= 0).to_numpy()                      # labelled artists only
d = metrics.paired_difference((ca["artist_pred"] == ca["artist"]).to_numpy()[artist],
                              (cb["artist_pred"] == cb["artist"]).to_numpy()[artist], n_boot=N_BOOT)
real = results.metrics()
for run in (close_a, close_b):
    lo_, hi_ = real[run]["artist"]["top1_ci"]
    print(f"{run}: artist top-1 {real[run]['artist']['top1']:.3f}, own interval [{lo_:.3f}, {hi_:.3f}]")
print(f"paired difference: {d['difference']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] (n = {d['n']})")

# %% [markdown]
# Read the own intervals first: they overlap. Then the paired one: it lies wholly below 0. The test split *can*
# tell the two apart on artist — the average is the better one — and reading the own intervals alone would have
# missed it: the two models are right on mostly the same paintings, and pairing cancels what they share. (When
# two models are far apart, as the first pair, both readings agree; pairing helps most, as here, when the two
# models are right on mostly the same paintings. On genre and style the same two models' paired intervals include 0: the table of real answers
# below shows all three.)
#
# ## Choosing the main model, on validation
#
# The runs compared — the sample runs of notebooks 03–06 found in `checkpoints/`, or else the committed real
# runs (the line the set-up cell printed said which) — are each read from what the run itself saved, never
# assumed: the budget it was trained with, and the validation score of the epoch its checkpoint kept (a
# sample run's `best.pt`, a committed run's `history.csv`). The main model is the run with the best
# **validation** mean macro-F1: choosing on the test split would make its test score a selected maximum, no
# longer an honest estimate.

# %% tags=["nbval-ignore-output"]
board = lesson.run_table(runs, root) if runs else real_board
chosen, reason = lesson.choose_main(board)
MAIN = MAIN or chosen
print("main model:", reason if MAIN == chosen else f"{MAIN} (set in the parameters cell)")
if not runs:
    print(f"the run shipped as the course model (checkpoints/course/) is {a}: "
          f"{'the same run' if a == MAIN else 'another run'}")
lesson.show(board.round(3))

# %% [markdown]
# **Reading it.** Read `val_mean_f1` with the budget columns beside it (`epochs`, `image_size`, the training
# images, `backbone`, `pretrained`): if the runs did not have the same budget, the choice says which run did
# best *as trained here*, not which architecture is better. For the committed runs a second line says whether
# the model shipped in `checkpoints/course/` is the run chosen: it was chosen by the same rule, among the runs
# committed when it was shipped, so a better run committed since shows up here first. Whichever runs are
# compared, the pretrained average (`efficientnet_lite0_gap`) is among the candidates: every reader of the
# course is measured against it — on the real paintings an LSTM reading the positions in order does not beat
# it, and reading every stage's channel statistics does (the next section) — and a choice made without the
# average could not show either.
#
# Each run is then scored once on the test split against the main model, paired, one line per task and in a
# chart (green: the run is better, red: the main model is, grey: this split cannot tell). For the sample runs
# the table of their budgets and test top-1 comes first; for the committed runs those scores are the next
# section's tables, and the oldest runs, committed without per-painting predictions, cannot be paired.

# %% tags=["nbval-ignore-output"]
if runs:
    scored, preds = {}, {}
    for run_name, path in runs.items():
        scored[run_name], preds[run_name] = evaluate.evaluate_checkpoint(
            root, path, path.parent / f"eval_{SPLIT}", split=SPLIT, workers=WORKERS, n_boot=N_BOOT)
    print(lesson.budget_note(board))
    lesson.show(lesson.budget_and_scores(board, scored))
    against_main = lesson.paired_against(preds, MAIN, n_boot=N_BOOT)
else:
    against_main, unpaired = lesson.committed_paired(MAIN, n_boot=N_BOOT)
    print("committed without per-painting predictions, so not paired:", ", ".join(unpaired) or "none")
print(lesson.paired_in_words(against_main))
lesson.paired_chart(against_main, title=f"each run minus the main model ({MAIN}): top-1, paired 95% intervals, "
                    f"{SPLIT} split of {'the sample' if runs else 'the subset'}", path=f"{FIGURES}/08_comparison.png")

# %% [markdown]
# **Reading it.** Where a paired interval includes 0, this test split cannot tell the two runs apart on that
# task — which is not the same as "they are equal": a larger test set might. Where it excludes 0, the difference
# holds for these paintings *at these budgets*; if the budgets differ, the comparison measures the budgets as
# much as the architectures. With the sample's couple of hundred test paintings only large differences show;
# the subset's 3,224 show differences of a few points.
#
# ## On real paintings at scale: the committed results
#
# The answer to "which model?" comes from real runs on the 32,245-painting WikiArt subset, trained and scored
# by `tools/real_results.py`; `wikiart_utils.results` reads them from `results/` (nothing is retyped). First each
# run's budget and weights, then its test top-1, then two charts: the runs from ImageNet weights, then those
# without them — from scratch, or a random backbone kept frozen (one chart would need more colours than can be
# told apart).

# %%
real, real_settings = results.metrics(), results.settings()
print(lesson.budget_note(real_settings))
real_settings[["epochs", "image_size", "train_limit", "backbone", "pretrained", "date"]]

# %%
lesson.budget_and_scores(real_settings, real)

# %%
real_chart = evaluate.compare(results.metrics_with_chance_present())
pretrained = real_chart["model"].map(real_settings["pretrained"]).astype(bool)
for part, words, figure in ((pretrained, "pretrained EfficientNet-Lite0", "08_comparison_real"),
                            (~pretrained, "no ImageNet weights (from scratch or random, frozen)",
                             "08_comparison_real_scratch")):
    lesson.show(plots.comparison_chart(
        real_chart[part].replace({"model": lesson.budget_labels(real_settings)}),
        title=f"real paintings, {words}: top-1 on the 3,224 test paintings of the subset", path=f"{FIGURES}/{figure}.png"))

# %% [markdown]
# And the questions the course asks of them, each answered on the same test paintings with a paired interval
# (`results/paired.md`), one line per task:

# %%
for section, part in lesson.real_paired().groupby("section", sort=False):   # the file's tables, in turn
    print(f"{section}:\n{lesson.paired_in_words(part.reset_index())}\n")

# %% [markdown]
# **Reading it.** The file has three tables, printed in turn: the course's questions, "What reading buys"
# (each pair under its question; the LSTM-vs-average pair is asked in both) and the from-scratch comparisons
# of 2026-11-27. Five questions, each answered by one or more pairs. Each run is one seed:
#
# - **Pretrained vs from scratch.** The course model (`efficientnet_lite0_stats_frozen`) and the pretrained
#   average (`efficientnet_lite0_gap_frozen`: frozen ImageNet features of EfficientNet-Lite0 at 224 px,
#   averaged), each against the best from-scratch run (`resnet18_gap`, 96 px, 6,001 paintings): every interval
#   lies far above 0. The two differ in more than the weights (backbone, image size, four times the training
#   paintings, a frozen backbone), so the second pair narrows it: the frozen pretrained LSTM trained on the
#   *same* 6,001 paintings (`efficientnet_lite0_lstm_frozen_6k`, 224 px, its budget in the settings table) is
#   still above `resnet18_gap` on every task, every interval above 0. Image size and
#   backbone still differ — each side is the recipe a 2-core CPU can afford.
# - **What reading buys, on the same frozen tokens.** Every reader against the plain average
#   (`efficientnet_lite0_gap_frozen`), all trained on the whole train split. Reading the 7 × 7 positions
#   differently buys nothing: an LSTM reading them row by row is *worse* on artist (the interval lies below 0)
#   and cannot be told apart on genre and style; attention pooling cannot be told apart on any task. Reading
#   *more of the backbone* does: every stage's channel means and standard deviations (the course model,
#   `efficientnet_lite0_stats_frozen`) gain 6.9 points on artist and 3.9 on style, intervals above 0, and
#   nothing on genre; an LSTM reading the same statistics stage by stage (`efficientnet_lite0_depth_lstm_frozen`)
#   gains on all three. Its order does not matter: the same LSTM over the stages in a shuffled order cannot be
#   told apart from it on any task. Over the 49 positions the order control says the same, more sharply: the
#   LSTM reading them row by row is no better than the same LSTM fed them shuffled, and on style the shuffled
#   one is ahead (interval below 0). What helps is what the heads see — the earlier stages' statistics, which
#   the average throws away — not the order they are read in.
# - **The last stages fine-tuned vs frozen, same reader, same 6,001 paintings.** Training EfficientNet-Lite0's
#   stages 7-9 from a cache of their input (`efficientnet_lite0_stats_tuned`, 8 epochs) against its frozen twin
#   (`efficientnet_lite0_stats_frozen_6k`): every interval above 0, about three points on each task.
# - **Fine-tuned end to end vs frozen, on the same 6,001 paintings.** Training the whole backbone too, from the
#   same weights (`efficientnet_lite0_lstm_finetuned` against `efficientnet_lite0_lstm_frozen_6k`), is
#   *worse* on every task here, every interval below 0. Look at its budget in the settings table: 4 epochs (the
#   first with the backbone frozen), all a 2-core CPU allowed, against up to 15 epochs (early stopping) of the frozen
#   run on cached tokens. Its validation score rose at every epoch
#   (`results/efficientnet_lite0_lstm_finetuned/history.csv`), little in the last, where its cosine schedule had
#   brought the learning rate to 0: a short, undertrained run. This answers "which is better on this CPU budget", not "is fine-tuning better" — the
#   GPU profile fine-tunes for 15 epochs.
# - **More paintings.** The frozen LSTM on the whole train split (25,794) against the same on 6,001: every
#   interval above 0, largest on artist, the task with the fewest paintings per class.
#
# The from-scratch rows also include two comparisons of 2026-11-27 (`resnet18_gap` vs the patch LSTM, patch vs
# flatten), made with the from-scratch checkpoints of that day; `results/README.md` tells their history.
#
# Which of the readers is the course model? The one the validation split chose, by the rule above — and the
# choice was close. Its two runners-up on validation, paired against it on the test split:

# %%
real_main, real_reason = lesson.choose_main(real_board)   # the committed runs, whatever the set-up cell found
print("chosen on validation among the committed runs:", real_reason)
runners_up, _ = lesson.committed_paired(real_main, runs=list(real_board.index[:3]), n_boot=N_BOOT)
print(lesson.paired_in_words(runners_up))

# %% [markdown]
# **Reading it.** Validation put the stage-statistics reader first by 0.001 of mean macro-F1, ahead of the
# two LSTMs over depth. On the test split the LSTM over depth in its natural order is ahead of it on genre
# and style — by about 1.4 points, intervals just above 0 — and the two cannot be told apart on artist; its
# shuffled twin cannot be told apart from it on any task. That does not make the choice wrong, nor is it a
# reason to change it now: choosing by these test scores would make the winner's test score a selected
# maximum. It says the three best readers are within a point or two of each other, one seed each — and a
# report says so, rather than that the shipped model is "the best".
#
# ## An older convention, measured
#
# What we have of an earlier public CNN-LSTM WikiArt project is its **test protocol** — a test list with its
# artist class list, kept outside this repository (a line after the numbers says whether it is on your machine;
# the numbers do not need it) — and the top-1 it reported on that list. Its artist labels put every painting
# by a less represented artist into one real artist's class, `albrecht-durer`: always answering "Dürer"
# scores the share of its test rows in that class.

# %%
old = evaluate.OLDER_PROJECT
print(f"test list: {old['test_rows']:,} rows, {old['artist_classes']} artist classes")
print("reported top-1:", ", ".join(f"{task} {value:.2%}" for task, value in old["reported_top1"].items()))
print(f"share of its test rows in the artist class albrecht-durer: {old['majority_artist_share']:.1%}")

# %% tags=["nbval-ignore-output"]
print(lesson.seed_protocol_line())   # whether the list itself is on this machine

# %% [markdown]
# We reproduced the convention on the subset: the from-scratch `resnet18_gap` of 2026-11-27 trained again with
# unknown artists labelled as Dürer, scored that way (`results/resnet18_gap_unknown_as_durer/`), beside the honest
# scores of the run it repeats:

# %%
durer = results.metrics(older_convention=True)["resnet18_gap_unknown_as_durer"]["artist"]
honest = results.older_convention_reference()["artist"]   # the run it repeats, as trained on 2026-11-27
pd.DataFrame({"honest (unknown = missing)": [honest["n"], honest["top1"], honest["majority_baseline"], honest["macro_f1"]],
              "older convention (unknown = Durer)": [durer["n"], durer["top1"], durer["majority_baseline"], durer["macro_f1"]],
              "older project, reported": [old["test_rows"], old["reported_top1"]["artist"], old["majority_artist_share"], None]},
             index=["artist rows n", "artist top-1", "majority baseline", "macro-F1"]).round(3)

# %% [markdown]
# **Reading it.** Under the older convention every painting by an unknown artist joins one real class, so the
# majority baseline rises to the unknown share and artist accuracy rises with it while telling us nothing more
# about painters; macro-F1 does not rise. Read the columns: the headline top-1 is higher under the convention,
# but its lead over always answering "Dürer" almost vanishes. Report artist metrics over the 128 known painters,
# with their baseline and interval.
#
# ## Take-aways
#
# - Choose the main model on the **validation** split; report it once on the test split.
# - Compare runs **paired**, on the same paintings: the bootstrap redraws paintings, not models, and its
#   interval is for the difference. Overlapping own intervals do not mean two runs cannot be told apart.
# - State each run's budget; a comparison of different budgets compares budgets as much as models.
# - On real paintings the pretrained recipe beats every from-scratch run by a wide margin on every task
#   (`results/paired.md`). On its frozen tokens, reading the positions in order (an LSTM) or with attention
#   adds nothing over averaging them; reading every stage's channel statistics adds several points on artist
#   and style, in whatever order. Four CPU epochs of fine-tuning fall behind the frozen backbone: a budget,
#   not a verdict on fine-tuning.
# - A labelling convention can move a headline number by about 20 points: read the baseline first.
#
# ## Exercises
#
# Each solution is folded under its exercise: try first, then open it. It states the answer and holds the
# code that computes it, which you can paste into a cell and run (it uses the variables defined above).

# %% [markdown]
# **Exercise 1 (quick).** Repeat the paired bootstrap by hand for **artist** instead of style. Is the
# interval wider or narrower than style's, and why?
#
# <details><summary>Hint</summary>Keep only the test paintings with a known artist (<code>pa["artist"] >= 0</code>)
# — fewer paintings than for style.</details>
#
# <details><summary>Solution</summary>
#
# Wider. The code prints an artist difference of +0.393 [+0.365, +0.421] (n = 1628), an interval 0.056
# wide against style's 0.035: a ratio of 1.61. Artist is known for about half the test paintings (1,628 of
# 3,224), and an interval's width shrinks like 1/√n, which alone gives √(3224/1628) ≈ 1.41. The rest comes
# from how often the two models *disagree* (one right, the other wrong): on 46% of the artist paintings
# against 33% for style. The interval still lies far above 0: the pretrained model's lead on artists is the
# largest of the three tasks. (The redraws start again from `metrics.BOOTSTRAP_SEED`, so the interval is
# the one `metrics.paired_difference` gives: the `resnet18_gap` line of the chart's pairs, signs swapped,
# when this notebook compares the committed runs.)
#
# ```python
# known_artist = (pa["artist"] >= 0).to_numpy()
# ra = (pa["artist_pred"] == pa["artist"]).to_numpy()[known_artist]
# rb = (pb["artist_pred"] == pb["artist"]).to_numpy()[known_artist]
# draws = np.random.default_rng(metrics.BOOTSTRAP_SEED).integers(0, len(ra), size=(N_BOOT, len(ra)))
# diffs = ra[draws].mean(axis=1) - rb[draws].mean(axis=1)
# a_lo, a_hi = np.percentile(diffs, [2.5, 97.5])
# print(f"artist: {ra.mean() - rb.mean():+.3f} [{a_lo:+.3f}, {a_hi:+.3f}] (n = {len(ra)}); style's interval width "
#       f"{hi - lo:.3f}, artist's {a_hi - a_lo:.3f}, ratio {(a_hi - a_lo) / (hi - lo):.2f}; disagreements: artist "
#       f"{np.mean(ra != rb):.2f}, style {np.mean(right_a != right_b):.2f}")
# ```
#
# </details>

# %% [markdown]
# **Exercise 2 (medium).** The bootstrap above redraws *paintings*. But a model's score also depends on its
# training seed, which no test-set interval covers. With the committed files only, how could you tell whether
# the LSTM-vs-average difference on genre is larger than what two seeds of the *same* model would differ by?
# Compute what you can: the paired difference and how many test paintings the two runs disagree on.
#
# <details><summary>Hint</summary>Count the genre test paintings where exactly one of the two runs is right
# (<code>only_a_right</code> and <code>only_b_right</code> in <code>metrics.paired_difference</code>'s result).</details>
#
# <details><summary>Solution</summary>
#
# The code prints a genre difference of −0.011 [−0.026, +0.003] (n = 2564): the LSTM is right alone on 174
# paintings, the average alone on 203. The committed files hold one seed per run, so they cannot answer the
# question: a seed-to-seed difference needs at least two runs of the same model with different seeds, scored
# on the same paintings (the course's recipe runs did this for the from-scratch model: `benchmarks/RESULTS.md`,
# three seeds). What the files do show is that two models whose top-1 differs by about a point still disagree
# on 377 paintings. That disagreement is between two *different* models, not seed variance, which only
# repeated seeds measure; until they are run, a small paired difference from one seed each is weak evidence,
# even when its interval excludes 0.
#
# ```python
# genre = (ca["genre"] >= 0).to_numpy()
# g = metrics.paired_difference((ca["genre_pred"] == ca["genre"]).to_numpy()[genre],
#                               (cb["genre_pred"] == cb["genre"]).to_numpy()[genre], n_boot=N_BOOT)
# print(f"{close_a} - {close_b}, genre: {g['difference']:+.3f} [{g['ci'][0]:+.3f}, {g['ci'][1]:+.3f}] (n = {g['n']}); "
#       f"only the first right on {g['only_a_right']} paintings, only the second on {g['only_b_right']}")
# ```
#
# </details>

# %% [markdown]
# **Exercise 3 (open-ended).** The LSTM and the plain average read the same frozen tokens. Which of the two
# would you ship, and what else than top-1 would you weigh? Use the paired lines above and the runs' settings.
#
# <details><summary>Hint</summary>Look at the LSTM-vs-average line of the paired table, at macro-F1 in
# <code>real[run][task]["macro_f1"]</code>, and think of cost: the average has no recurrent weights.</details>
#
# <details><summary>Solution</summary>
#
# The average. The code prints both runs' top-1 and macro-F1 per task: the average is ahead on every line
# (artist top-1 0.637 against 0.601, macro-F1 0.472 against 0.422; style macro-F1 0.706 against 0.690), and
# the paired lines above say the artist gap is one the test split can see while genre and style are not.
# Weigh (1) whether the paired interval of the difference excludes 0 — if it does not, the test split cannot
# tell them apart and the simpler model wins by default; (2) macro-F1, since a model that gains on the large
# classes and loses on rare ones can tie on top-1; (3) cost: the average has no recurrence and runs faster,
# and the code counts what learns outside the backbone: 1,619,877 parameters for the LSTM reader and its
# heads against 211,365 for the average's heads. The course ships the run with the best validation mean
# macro-F1 (`checkpoints/course/run.json` names it) — neither of these two, but the stage-statistics reader;
# a report says it was chosen on validation, never that it was better on test.
#
# ```python
# for variant in ("efficientnet_lite0_lstm", "efficientnet_lite0_gap"):   # what learns on the frozen tokens
#     net = models.build_model(variant, pretrained=False, image_size=224)
#     print(f"{variant}: {sum(p.numel() for p in net.head_parameters()):,} parameters outside the backbone")
# pd.DataFrame({run: {f"{t} {m}": real[run][t][m] for t in labels.TASKS for m in ("top1", "macro_f1")}
#               for run in ("efficientnet_lite0_lstm_frozen", "efficientnet_lite0_gap_frozen")}).round(3)
# ```
#
# </details>

# %% [markdown]
# ## Further reading
#
# - Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993 — percentile intervals, and the paired
#   resampling used above.
# - Dietterich, "Approximate Statistical Tests for Comparing Supervised Classification Learning Algorithms",
#   *Neural Computation*, 1998 — why paired tests, and their pitfalls.
# - Bouthillier et al., "Accounting for Variance in Machine Learning Benchmarks", MLSys 2021 — seeds, data
#   order and splits move scores too.
# - Kornblith, Shlens & Le, "Do Better ImageNet Models Transfer Better?", CVPR 2019 — frozen features vs
#   fine-tuning, measured across datasets.
# - Tan, Chan, Aguirre & Tanaka, "Ceci n'est pas une pipe", ICIP 2016 — WikiArt style, genre and artist with
#   ImageNet-pretrained CNNs.
