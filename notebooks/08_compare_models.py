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
# painting. It runs on its own too: without runs of 03–06 in `checkpoints/` it says so and compares the
# committed real runs.
#
# ## What you will learn
#
# - how to **choose the main model on the validation split**, so that the test split informs no choice;
# - the **paired bootstrap**, by hand: why two overlapping intervals do not mean two models are equal;
# - how to **state each run's budget** beside its scores, and read a comparison of different budgets;
# - what the real-paintings runs answer: **pretrained vs from scratch, LSTM vs no LSTM, frozen vs fine-tuned**;
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
MAIN = None            # the reference run; None = the best validation mean macro-F1 among the runs
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"
N_BOOT = None          # bootstrap resamples; None = metrics.BOOTSTRAP_RESAMPLES, every interval's setting
WORKERS = 0

# %%
# %matplotlib inline
from pathlib import Path
import numpy as np
import pandas as pd
from wikiart_utils import data, evaluate, labels, lesson, metrics, plots, results

N_BOOT = N_BOOT or metrics.BOOTSTRAP_RESAMPLES  # the same resamples as metrics.json and results/paired.md
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)
runs = lesson.find_checkpoints(CHECKPOINTS)   # every run folder with a best.pt (notebooks 03-06 write them)
print("trained runs:", list(runs) or f"none in {CHECKPOINTS}: run notebooks 03-06 to compare your own "
      f"(the committed real runs below need none)")

# %% [markdown]
# ## The paired bootstrap, by hand
#
# Start with two real models and their predictions on the same 3,224 test paintings of the subset (committed
# in `results/<run>/test_predictions.csv`): the course's model (pretrained, the best on validation) and the best
# model trained from scratch. For each painting we know whether each model was right.

# %%
a, b = "efficientnet_lite0_gap_frozen", "resnet18_gap"
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
# Both intervals lie wholly above 0, and they agree (the same seed gives the same redraws): on these test paintings the
# pretrained model is the better one for style. `metrics.paired_difference` is what the rest of the course uses.
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
# two models are far apart, as the first pair, both readings agree; the paired one is never the less
# informative. On genre and style the same two models' paired intervals include 0: the table of real answers
# below shows all three.)
#
# ## Your runs on the same test split
#
# Every run of notebooks 03–06 found in `checkpoints/` is read from its checkpoint (never assumed): the budget
# it was trained with and the validation score `best.pt` was kept for. The main model is the run with the
# best **validation** mean macro-F1: choosing on the test split would make its test score a selected maximum,
# no longer an honest estimate.

# %% tags=["nbval-ignore-output"]
if runs:
    board = lesson.run_table(runs, root)
    chosen, reason = lesson.choose_main(board)
    MAIN = MAIN or chosen
    print("main model:", reason if MAIN == chosen else f"{MAIN} (set in the parameters cell)")
    lesson.show(board.round(3))

# %% [markdown]
# **Reading it.** Read `val_mean_f1` with the budget columns beside it (`epochs`, `image_size`,
# `train_images`, `backbone`, `pretrained`): if the runs did not have the same budget, the choice says which
# run did best *as trained here*, not which architecture is better.
#
# Each run is then scored once on the test split: first the budgets that differ, then the scores, then the
# chart of top-1 with 95% intervals (a summary, not a test) and every run against the main model, paired.

# %% tags=["nbval-ignore-output"]
if runs:
    scored, preds = {}, {}
    for run_name, path in runs.items():
        scored[run_name], preds[run_name] = evaluate.evaluate_checkpoint(
            root, path, path.parent / f"eval_{SPLIT}", split=SPLIT, workers=WORKERS, n_boot=N_BOOT)
    print(lesson.budget_note(board))
    lesson.show(lesson.budget_and_scores(board, scored))
    comparison = evaluate.compare(scored).replace({"model": lesson.budget_labels(board)})
    lesson.show(plots.comparison_chart(comparison, title=f"top-1 on the {SPLIT} split of {root.name}\n"
                                       f"{lesson.budget_note(board)}", path=f"{FIGURES}/08_comparison.png"))
    print(lesson.paired_in_words(lesson.paired_against(preds, MAIN)))

# %% [markdown]
# **Reading it.** Where a paired interval includes 0, this test split cannot tell the two runs apart on that
# task — which is not the same as "they are equal": a larger test set might. Where it excludes 0, the difference
# holds for these paintings *at these budgets*; if the budgets differ, the comparison measures the budgets as
# much as the architectures. With a couple of hundred test paintings only large differences show; the real
# runs below have thousands.
#
# ## On real paintings at scale: the committed results
#
# The answer to "which model?" comes from real runs on the 32,245-painting WikiArt subset, trained and scored
# by `tools/real_results.py`; `wikiart_utils.results` reads them from `results/` (nothing is retyped). First each
# run's budget and weights, then its test top-1, then the chart.

# %%
real, real_settings = results.metrics(), results.settings()
print(lesson.budget_note(real_settings))
real_settings[["epochs", "image_size", "train_limit", "backbone", "pretrained", "date"]]

# %%
lesson.budget_and_scores(real_settings, real)

# %%
real_chart = evaluate.compare(results.metrics_with_chance_present()).replace({"model": lesson.budget_labels(real_settings)})
plots.comparison_chart(real_chart, title="real paintings: top-1 on the 3,224 test paintings of the subset",
                       path=f"{FIGURES}/08_comparison_real.png")

# %% [markdown]
# And the questions the course asks of them, each answered on the same test paintings with a paired interval
# (`results/paired.md`), one line per task:

# %%
print(lesson.paired_in_words(lesson.real_paired().reset_index()))

# %% [markdown]
# **Reading it.** Four questions, five pairs of runs: the first fifteen lines above (the last six are the
# from-scratch comparisons of 2026-11-27). Each run is one seed:
#
# - **Pretrained vs from scratch.** The course's model — frozen ImageNet features of EfficientNet-Lite0 at 224 px,
#   averaged — against the best from-scratch run (`resnet18_gap`, 96 px, 6,001 paintings): every interval lies
#   far above 0. The two differ in more than the weights (backbone, image size, four times the training
#   paintings, a frozen backbone), so the second pair narrows it: the frozen pretrained LSTM trained on the
#   *same* 6,001 paintings is still above `resnet18_gap` on every task, every interval above 0. Image size and
#   backbone still differ — each side is the recipe a 2-core CPU can afford.
# - **LSTM vs no LSTM, on pretrained tokens.** The same frozen tokens read by an LSTM or averaged
#   (`efficientnet_lite0_gap_frozen`): the average is better on artist (the interval lies below 0), and on genre
#   and style the intervals include 0 — this test split cannot tell them apart. Reading in order adds nothing
#   that averaging misses here.
# - **Fine-tuned vs frozen, on the same 6,001 paintings.** Training the backbone too, from the same weights, is
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
# ## An older convention, measured
#
# What we have of an earlier public CNN-LSTM WikiArt project is its **test protocol** — a test list with its
# artist class list, kept outside this repository — and the top-1 it reported on that list. Its artist labels put every painting by a
# less represented artist into one real artist's class, `albrecht-durer`: always answering "Dürer" scores the
# share of its test rows in that class.

# %%
old = evaluate.OLDER_PROJECT
print(f"test list: {old['test_rows']:,} rows, {old['artist_classes']} artist classes ({old['protocol_dir']})")
print("reported top-1:", ", ".join(f"{task} {value:.2%}" for task, value in old["reported_top1"].items()))
print(f"share of its test rows in the artist class albrecht-durer: {old['majority_artist_share']:.1%}")

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
#   (`results/paired.md`); on its tokens the LSTM adds nothing over averaging, and four CPU epochs of
#   fine-tuning fall behind the frozen backbone: a budget, not a verdict on fine-tuning.
# - A labelling convention can move a headline number by about 20 points: read the baseline first.
#
# ## Exercises
#
# Each solution is folded under the exercise: try first, then open it. Its code is the cell that follows.

# %% [markdown]
# **Exercise 1 (quick).** Repeat the paired bootstrap by hand for **artist** instead of style. Is the
# interval wider or narrower than style's, and why?
#
# <details><summary>Hint</summary>Keep only the test paintings with a known artist (<code>pa["artist"] >= 0</code>)
# — fewer paintings than for style.</details>
#
# <details><summary>Solution</summary>
#
# The cell prints the artist difference, its interval and n. Artist is known for about half the test
# paintings (1,628 of 3,224), so the interval is wider than style's: its width shrinks like 1/√n. It also grows
# with how often the two models *disagree* (the paintings one gets right and the other wrong), which is higher
# on artist; so the width ratio the cell prints is a little above √(3224/1628) ≈ 1.41. It still lies far above
# 0: the pretrained model's lead on artists is the largest of the three tasks.
#
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
known_artist = (pa["artist"] >= 0).to_numpy()
ra = (pa["artist_pred"] == pa["artist"]).to_numpy()[known_artist]
rb = (pb["artist_pred"] == pb["artist"]).to_numpy()[known_artist]
draws = rng.integers(0, len(ra), size=(N_BOOT, len(ra)))
diffs = ra[draws].mean(axis=1) - rb[draws].mean(axis=1)
a_lo, a_hi = np.percentile(diffs, [2.5, 97.5])
print(f"artist: {ra.mean() - rb.mean():+.3f} [{a_lo:+.3f}, {a_hi:+.3f}] (n = {len(ra)}); style's interval width "
      f"{hi - lo:.3f}, artist's {a_hi - a_lo:.3f}, ratio {(a_hi - a_lo) / (hi - lo):.2f}; disagreements: artist "
      f"{np.mean(ra != rb):.2f}, style {np.mean(right_a != right_b):.2f}")

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
# The cell prints the difference and how many paintings only one of the two gets right. The committed files hold
# one seed per run, so they cannot answer the question: a seed-to-seed difference needs at least two runs of the
# same model with different seeds, scored on the same paintings (the course's recipe runs did this for the
# from-scratch model: `benchmarks/RESULTS.md`, three seeds). What the files do show is that two models whose
# top-1 differs by a point or two still disagree on hundreds of paintings. That disagreement is between two
# *different* models, not seed variance, which only repeated seeds measure; until they are run, a small paired
# difference from one seed each is weak evidence, even when its interval excludes 0.
#
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
genre = (ca["genre"] >= 0).to_numpy()
g = metrics.paired_difference((ca["genre_pred"] == ca["genre"]).to_numpy()[genre],
                              (cb["genre_pred"] == cb["genre"]).to_numpy()[genre], n_boot=N_BOOT)
print(f"{close_a} - {close_b}, genre: {g['difference']:+.3f} [{g['ci'][0]:+.3f}, {g['ci'][1]:+.3f}] (n = {g['n']}); "
      f"only the first right on {g['only_a_right']} paintings, only the second on {g['only_b_right']}")

# %% [markdown]
# **Exercise 3 (open-ended).** The LSTM and the plain average read the same frozen tokens. Which of the two
# would you ship, and what else than top-1 would you weigh? Use the paired lines above and the runs' settings.
#
# <details><summary>Hint</summary>Look at the LSTM-vs-average line of the paired table, at macro-F1 in
# <code>real[run][task]["macro_f1"]</code>, and think of cost: the average has no recurrent weights.</details>
#
# <details><summary>Solution</summary>
#
# The cell prints, for each task, both runs' top-1 and macro-F1. Weigh (1) whether the paired interval of the
# difference excludes 0 — if it does not, the test split cannot tell them apart and the simpler model wins by
# default; (2) macro-F1, since a model that gains on the large classes and loses on rare ones can tie on top-1;
# (3) cost: the average has no recurrence and runs faster; the LSTM reader adds about 1.4M parameters (1.62M
# outside the backbone against the average's 0.21M). The course ships the run with the best validation mean
# macro-F1 (`checkpoints/course/run.json` names it); a report says it was chosen on validation, never that it
# was better on test.
#
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
pd.DataFrame({run: {f"{t} {m}": real[run][t][m] for t in labels.TASKS for m in ("top1", "macro_f1")}
              for run in ("efficientnet_lite0_lstm_frozen", "efficientnet_lite0_gap_frozen")}).round(3)

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
