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
PROFILE = "sample"
SPLIT = "test"
MAIN = None            # the reference run; None = the best validation mean macro-F1 among the runs
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"
N_BOOT = 1000
WORKERS = 0

# %%
# %matplotlib inline
from pathlib import Path
import numpy as np
import pandas as pd
from wikiart_utils import data, evaluate, labels, lesson, metrics, plots, results

Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)
runs = {name: path for name, path in lesson.find_checkpoints(CHECKPOINTS).items()
        if not name.endswith("_unknown_as_class")}  # that one is trained at the end of this notebook
print("trained runs:", list(runs) or f"none in {CHECKPOINTS}: run notebooks 03-06 to compare your own "
      f"(the committed real runs below need none)")

# %% [markdown]
# ## The paired bootstrap, by hand
#
# Start with two real models and their predictions on the same 3,224 test paintings of the subset (committed
# in `results/<run>/test_predictions.csv`): the course's pretrained model and the best model trained from
# scratch. For each painting we know whether each model was right.

# %%
a, b = "efficientnet_lite0_lstm_frozen", "resnet18_gap"
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
rng = np.random.default_rng(0)
redraws = rng.integers(0, len(right_a), size=(N_BOOT, len(right_a)))   # the same redraw for both models
differences = right_a[redraws].mean(axis=1) - right_b[redraws].mean(axis=1)
lo, hi = np.percentile(differences, [2.5, 97.5])
helper = metrics.paired_difference(right_a, right_b)
print(f"difference {right_a.mean() - right_b.mean():+.3f}, by hand [{lo:+.3f}, {hi:+.3f}], "
      f"metrics.paired_difference [{helper['ci'][0]:+.3f}, {helper['ci'][1]:+.3f}] (n = {helper['n']})")

# %% [markdown]
# Both intervals lie wholly above 0 (they differ only in their random redraws): on these test paintings the
# pretrained model is the better one for style. An unpaired comparison — each model's own interval — would
# ignore that the two models are right on mostly the *same* paintings, and would often call a real
# difference "overlapping". `metrics.paired_difference` is what the rest of the course uses.
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
# (`results/paired.md`):

# %%
print(lesson.paired_in_words(lesson.real_paired().reset_index()))

# %% [markdown]
# **Reading it.** Four answers, each a line above:
#
# - **Pretrained vs from scratch.** The LSTM over frozen ImageNet features (EfficientNet-Lite0, 224 px) against
#   the best from-scratch run (`resnet18_gap`, 96 px, 6,001 paintings): every interval lies far above 0. The
#   two differ in more than the weights (image size, training paintings, a frozen backbone), so this measures
#   the course's pretrained recipe against its from-scratch one — the recipe a 2-core CPU can afford.
# - **LSTM vs no LSTM, on pretrained tokens.** The same frozen tokens read by an LSTM or averaged
#   (`efficientnet_lite0_gap_frozen`): read the sign and whether 0 is inside each interval.
# - **Fine-tuned vs frozen, on the same 6,001 paintings.** Training the backbone too, from the same weights.
# - **More paintings.** The frozen LSTM on the whole train split (25,794) against the same on 6,001.
#
# The from-scratch rows also include two comparisons of 2026-11-27 (`resnet18_gap` vs the patch LSTM, patch vs
# flatten), made with the from-scratch checkpoints of that day; `results/README.md` tells their history.
#
# ## An older convention, measured
#
# What we have of an earlier public CNN-LSTM WikiArt project is its **test protocol** — a test list with its
# artist class list, kept outside this repository (`../shared/seed-protocol`, checked by
# `tests/test_evaluate.py`) — and the top-1 it reported on that list. Its artist labels put every painting by a
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
#   (`results/paired.md`); what the LSTM adds over averaging, and fine-tuning over freezing, are the smaller
#   questions the other lines answer.
# - A labelling convention can move a headline number by tens of points: read the baseline first.
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
# paintings (1,628 of 3,224), so the interval is wider than style's: its width shrinks like 1/√n. It still lies
# far above 0: the pretrained model's lead on artists is the largest of the three tasks.
#
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
known_artist = (pa["artist"] >= 0).to_numpy()
ra = (pa["artist_pred"] == pa["artist"]).to_numpy()[known_artist]
rb = (pb["artist_pred"] == pb["artist"]).to_numpy()[known_artist]
draws = rng.integers(0, len(ra), size=(N_BOOT, len(ra)))
d = ra[draws].mean(axis=1) - rb[draws].mean(axis=1)
print(f"artist: {ra.mean() - rb.mean():+.3f} [{np.percentile(d, 2.5):+.3f}, {np.percentile(d, 97.5):+.3f}] (n = {len(ra)}); "
      f"style's interval width {hi - lo:.3f}, artist's {np.percentile(d, 97.5) - np.percentile(d, 2.5):.3f}")

# %% [markdown]
# **Exercise 2 (medium).** Do the two models' *own* 95% intervals for genre overlap? Does the paired interval
# include 0? Use the committed metrics and predictions.
#
# <details><summary>Hint</summary><code>real[run]["genre"]["top1_ci"]</code> is a run's own interval;
# <code>metrics.paired_difference</code> takes the two "right" arrays over the paintings with a known genre.</details>
#
# <details><summary>Solution</summary>
#
# The cell prints both. Here the pretrained model is so far ahead that the own intervals do not even overlap,
# and the paired interval excludes 0 too. The lesson is in the other direction: when two models are close, own
# intervals overlap long before the paired one includes 0, because pairing cancels the paintings both models
# get right or both get wrong.
#
# </details>

# %% jupyter={"source_hidden": true} tags=["solution"]
known_genre = (pa["genre"] >= 0).to_numpy()
d = metrics.paired_difference((pa["genre_pred"] == pa["genre"]).to_numpy()[known_genre],
                              (pb["genre_pred"] == pb["genre"]).to_numpy()[known_genre])
(lo_a, hi_a), (lo_b, hi_b) = real[a]["genre"]["top1_ci"], real[b]["genre"]["top1_ci"]
print(f"own intervals: {a} [{lo_a:.3f}, {hi_a:.3f}], {b} [{lo_b:.3f}, {hi_b:.3f}]; overlap: {lo_a <= hi_b and lo_b <= hi_a}")
print(f"paired: {d['difference']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] (n = {d['n']}); includes 0: {d['ci'][0] <= 0 <= d['ci'][1]}")

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
# (3) cost: the average has no recurrence and runs faster, the LSTM has 1.6M more parameters to store. The
# course ships the LSTM because it was the better run on the validation split (`checkpoints/course/run.json`);
# a report should say so, not that it was better on test.
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
