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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/07_evaluate_and_compare.ipynb)
#
# # 07 · Honest numbers: evaluation, errors, and comparison
#
# The part you put in a report. Notebooks 03–06 left their runs in `checkpoints/`; this notebook picks the
# main model among them, scores it on the **test split**, looks at its errors, and compares every run —
# on the embedded sample, then on real paintings at scale (the committed `results/`).
#
# ## What you will learn
#
# - how to **choose the main model on the validation split**, so that the test split informs no choice;
# - how to report a task: `n`, top-1/top-5, macro-F1, balanced accuracy, beside the majority baseline and
#   chance, with 95% bootstrap intervals;
# - how to read **confusion matrices** over the classes a split really holds, galleries of right and wrong
#   answers, the most-confused pairs, and what the long tail costs;
# - how to find **outliers** (confident contradictions of the label) and to see **where the evidence** for a
#   prediction lies (Grad-CAM), on a painting of your own too;
# - how to **compare runs honestly**: state each run's budget, and judge differences with **paired**
#   bootstrap intervals on the same test paintings;
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
MAIN = None            # the run examined in detail; None = the best validation mean macro-F1 among the runs
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"
N_BOOT = 1000
WORKERS = 0            # DataLoader workers (the sample's images are small: 0 is fastest on 2 cores)
TOP_ARTISTS = 20       # the artist confusion matrix shows the painters with the most test paintings
MY_PAINTING = None     # a path to an image of yours; None = a test painting by a public-domain painter

# %%
# %matplotlib inline
from pathlib import Path
import numpy as np
import pandas as pd
from wikiart_utils import checkpoint, data, evaluate, labels, metrics, plots, predict, provenance, results

Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)
runs = {name: path for name, path in evaluate.find_checkpoints(CHECKPOINTS).items()
        if not name.endswith("_unknown_as_class")}  # that one is trained at the end of this notebook
print("trained runs:", list(runs))

# %% [markdown]
# ## Which run is the main model?
#
# Every number below is read from the runs' checkpoints, not assumed: the budget each run had (epochs,
# image size, training paintings, a trained or frozen backbone) and the validation score `best.pt` was kept
# for (mean macro-F1 over the three tasks). The main model is the run with the best **validation** score:
# choosing on the test split would make its test score a selected maximum, no longer an honest estimate.

# %%
# NBVAL_IGNORE_OUTPUT
board = evaluate.run_table(runs, root)
chosen, reason = evaluate.choose_main(board)
MAIN = MAIN or chosen
print("main model:", reason if MAIN == chosen else f"{MAIN} (set in the parameters cell)")
board.round(3)

# %% [markdown]
# **Reading it.** Read `val_mean_f1` with the budget columns beside it (`epochs`, `image_size`,
# `train_images`, `backbone`): if the runs did not have the same budget, the choice says which run did best
# *as trained here*, not which architecture is better. The validation split is small too, so a close second
# may be no worse; the comparison at the end of this notebook tests such differences.

# %% [markdown]
# ## Metrics of the main model
#
# `evaluate_checkpoint` is `python -m wikiart_utils evaluate`: it scores a run on the split and writes
# `metrics.json`, `predictions.csv` and per-class reports into `eval_test/` beside the checkpoint. Every run
# is scored here (the comparison needs them all); the main model is read in detail. The counts `n` are the
# labelled test rows per task (unknown artists and genres excluded); nbval checks them, not the scores
# (they move slightly across machines).

# %%
scored, preds = {}, {}
for name, path in runs.items():
    scored[name], preds[name] = evaluate.evaluate_checkpoint(root, path, path.parent / f"eval_{SPLIT}", split=SPLIT,
                                                             workers=WORKERS, n_boot=N_BOOT)
result, pred = scored[MAIN], preds[MAIN]
print("labelled test rows:", {task: result[task]["n"] for task in labels.TASKS})
print("classes present:", {task: f"{result[task]['classes_present']} of {labels.num_classes()[task]}"
                           for task in labels.TASKS})

# %%
# NBVAL_IGNORE_OUTPUT
evaluate.summary_table(result)

# %% [markdown]
# **Reading it.** Each score sits beside two references: the **majority baseline** (always answering the
# most frequent *training* class) and **chance**, 1 / (classes present in the split) — guessing among the
# classes the split really holds, not among all 27 styles or 128 artists, which would flatter the model.
# Top-1 above the baseline means the model learned something beyond the class frequencies; macro-F1 and
# balanced accuracy say whether it did so beyond the largest classes. The interval is the 95% bootstrap
# interval over test paintings: with a few hundred paintings it is more than ten points wide here (see the
# printed `top1_ci`).

# %% [markdown]
# ## Confusion matrices
#
# Rows are true classes, each normalised to 1 (the share of that class's test paintings predicted as each
# column). Only the classes **present in the split** are rows, each with its `n`: a row over 3 paintings is
# anecdote, one over 60 is evidence. The last column, `(other)`, holds predictions of classes that are not
# rows. For artists, the `TOP_ARTISTS` painters with the most test paintings.

# %%
for task, top_n in (("genre", None), ("style", None), ("artist", TOP_ARTISTS)):
    cm = metrics.confusion(pred.y(task), pred.probs[task], labels.num_classes()[task], normalize=None)
    name = f"07_confusion_{task}" + (f"_top{top_n}" if top_n else "")
    display(plots.confusion_matrix_plot(cm, labels.vocab(task), title=f"{task}, {MAIN} ({SPLIT} split of {root.name})",
                                        top_n=top_n, path=f"{FIGURES}/{name}.png"))
print("saved confusion matrices for", labels.TASKS)

# %% [markdown]
# **Reading it.** A strong diagonal means the class is recognised; a bright column means the model answers
# that class for many others — usually the largest training class, the pull the majority baseline
# measures. Neighbouring styles (Baroque and Rococo, say) share subjects and palettes, so mass between them
# is expected; mass from everything into one column is the majority pull. Check which column is brightest in
# the style matrix above, and whether the top pairs in the table below run *into* the largest training
# class (the pull) or between neighbours.

# %% [markdown]
# ## Galleries: right on all three tasks, two, one, none
#
# Test paintings with all three labels known, grouped by how many tasks the main model gets right; each
# caption reads `true -> predicted` for artist, genre and style (green: all known labels right). Only
# paintings whose painter died by 1926 are shown (`provenance.showable`; each figure writes a
# `.provenance.csv` beside it).

# %%
# NBVAL_IGNORE_OUTPUT
test_set = data.WikiArtDataset(root, SPLIT, 224, train=False)  # 224 px for display only
correct = metrics.correct_matrix({t: pred.y(t) for t in labels.TASKS}, pred.probs)
groups = metrics.gallery_groups(correct)
print({f"right on {k}": len(v) for k, v in groups.items()}, "test paintings with all three labels known")
for k, rows in groups.items():
    display(evaluate.gallery(pred, rows, test_set, k=8).grid(
        ncols=8, title=f"{MAIN}: right on {k} of 3 tasks ({root.name})", path=f"{FIGURES}/07_gallery_{k}_right.png"))

# %% [markdown]
# **Reading it.** Count the groups before looking at the pictures: the printed sizes say how often the
# model is right everywhere and how often nowhere. Then read the red captions: which task is wrong? Expect
# the artist most often — the task with the most classes and the fewest paintings per class.
#
# Which classes does the model mix up most? (count, and share of the true class's rows)

# %%
# NBVAL_IGNORE_OUTPUT
pd.concat({t: metrics.most_confused_pairs(pred.y(t), pred.probs[t], labels.vocab(t), k=5) for t in ("style", "genre")}).round(3)

# %% [markdown]
# ## What the long tail costs
#
# Per-class F1 against the number of training paintings of that class (log scale), over the classes with
# test paintings: rare classes are where the model fails, which top-1 accuracy hides and macro-F1 shows.

# %%
# NBVAL_IGNORE_OUTPUT
counts = evaluate.train_counts(root)
reports = {t: metrics.per_class_report(pred.y(t), pred.probs[t], labels.vocab(t), counts[t]) for t in labels.TASKS}
plots.per_class_f1_vs_count({t: r[r.support > 0] for t, r in reports.items()},
                            title=f"per-class F1 of {MAIN} vs training count ({SPLIT} split of {root.name})",
                            path=f"{FIGURES}/07_f1_vs_count.png")

# %% [markdown]
# **Reading it.** A positive Spearman rho (in each panel's title) means F1 rises with the number of training
# paintings. Classes at F1 = 0, most of them on the left, are the ones the model never gets right on a test
# painting (often it never predicts them at all): more data for them, class weights or logit adjustment
# (`train --class-weights`, `--logit-adjust TAU`; see `docs/cli.md`) are the levers.

# %% [markdown]
# ## Outliers and uncertain paintings
#
# *Confident contradictions*: the model gives the given style under 10% probability while it is at least
# 60% sure of another — candidates for a mislabelled or atypical painting (Northcutt et al. 2021 found such
# label errors in the test sets of well-known benchmarks). *Most uncertain*: highest predictive entropy.
# Both go to `style_outliers.csv` for review; the figures show the first eight by public-domain painters.

# %%
# NBVAL_IGNORE_OUTPUT
style_y, style_p = pred.y("style"), pred.probs["style"]
flagged = metrics.outliers(style_y, style_p, k=len(style_y), max_label_prob=0.10, min_pred_prob=0.60)
unsure = metrics.most_uncertain(style_p, k=len(style_p))
table = evaluate.predictions_table(pred, top_k=1)
review = pd.concat({"contradiction": table.iloc[flagged[:50]], "uncertain": table.iloc[unsure[:50]]}, names=["kind", "row"])
review.to_csv(runs[MAIN].parent / f"eval_{SPLIT}" / "style_outliers.csv")
print(len(flagged), "confident contradictions of the style label")
for name, rows in (("contradictions", flagged), ("uncertain", unsure)):
    display(evaluate.gallery(pred, rows, test_set, k=8).grid(
        ncols=8, title=f"{MAIN}: style {name} ({root.name})", path=f"{FIGURES}/07_outliers_{name}.png"))

# %% [markdown]
# **Reading it.** A contradiction is a question, not a verdict: look at the painting and its neighbours in
# the confusion matrix. A model that is confidently wrong about a whole group of paintings (all Rococo
# called Baroque, say) has learned a boundary in the wrong place; a lone confident contradiction is worth
# checking against the source.

# %% [markdown]
# ## Grad-CAM: where is the evidence?
#
# Grad-CAM (Selvaraju et al. 2017) weights a feature map by the gradient of a class's score and shows where
# that map supports the class. The map must have enough cells to point somewhere: ResNet-18's last stage is
# 2×2 at 64 px, so `evaluate.gradcam` reads the deepest map with at least 7×7 cells (printed below; a ViT's
# patch tokens, if its image size allows). Each painting shows two maps — style and genre — each captioned
# with the true label and the prediction it explains.

# %%
# NBVAL_IGNORE_OUTPUT
cam_run, layer = evaluate.explainable_run(runs, [MAIN, *board.index])  # the main model, unless it cannot be
model, ckpt = checkpoint.load(runs[cam_run])
view = data.WikiArtDataset(root, SPLIT, ckpt["model_config"]["image_size"], train=False)
rows = np.flatnonzero(provenance.showable(view.meta))
rows = rows[np.linspace(0, len(rows) - 1, 6).astype(int)]  # spread over the (style-sorted) split
overlays, captions, colours, shown = evaluate.gradcam_panels(model, view, rows)
print(f"Grad-CAM of {cam_run} from {layer}")
plots.image_grid(overlays, captions, ncols=6, colors=colours, title=f"Grad-CAM of {cam_run}, {layer} ({root.name})",
                 path=f"{FIGURES}/07_gradcam.png", paintings=shown)

# %% [markdown]
# **Reading it.** At the sample's 64 px the map has few cells and the paintings few pixels, so read it
# coarsely: does the evidence sit on the figures, the sky, the frame? Evidence spread evenly over the
# canvas suggests colour and texture statistics rather than objects — plausible for style, less so for
# genre (a portrait is about a face). A red caption explains a wrong prediction: where did it look?

# %% [markdown]
# ## Your own painting
#
# Set `MY_PAINTING` in the parameters cell to an image file, or — when you run this notebook yourself —
# upload one with the button below and run the next cell. The model answers the top 3 of each task with
# probabilities and shows its Grad-CAM. Without a file, the first test painting of the sample by a
# public-domain painter stands in. Your own image is shown but not saved, and no provenance is recorded.

# %%
upload = predict.upload_widget()  # a FileUpload button when you run the notebook; None under papermill / nbval
if upload is not None:
    display(upload)

# %%
# NBVAL_IGNORE_OUTPUT
path, paintings, what = predict.choose_painting(MY_PAINTING, upload, root, SPLIT)
report = predict.explain_painting(runs[cam_run], path, k=3)
print(f"{what}, read by {cam_run} (Grad-CAM from {report['layer']})")
print(predict.format_text({"path": path.name, **report["top"]}))
panels, captions = predict.painting_panels(report)
plots.image_grid(panels, captions, ncols=3, cell_size=3.2, title=f"{cam_run} on {path.name}",
                 path=f"{FIGURES}/07_your_painting.png" if paintings is not None else None, paintings=paintings)

# %% [markdown]
# **Reading it.** Probabilities of a model trained on a few thousand 64-px paintings are not calibrated
# certainties: the top painter's probability means "the closest of the 128 I know", and a painting by someone outside the
# 128 artists still gets an artist answer. Style is the task to trust most here — it has the most training
# paintings per class.

# %% [markdown]
# ## All runs on the same test split
#
# First what each run was given, then its test scores, then the differences that matter. A chart of
# top-1 with 95% intervals is a summary, not a test: two runs' intervals can overlap while one run is
# right on clearly more of the *same* paintings. The honest test is the **paired** bootstrap (Efron &
# Tibshirani 1993; Dietterich 1998 compares such paired tests): resample the test paintings once, score
# both runs on each resample, and read the interval of the difference.

# %%
print(evaluate.budget_note(board))

# %%
# NBVAL_IGNORE_OUTPUT
evaluate.budget_and_scores(board, scored)

# %%
comparison = evaluate.compare(scored).replace({"model": evaluate.budget_labels(board)})
plots.comparison_chart(comparison, title=f"top-1 on the {SPLIT} split of {root.name}\n{evaluate.budget_note(board)}",
                       path=f"{FIGURES}/07_comparison.png")

# %% [markdown]
# Every run against the main model, per task: top-1 of the run minus top-1 of the main model on the same
# test paintings, with its paired 95% interval.

# %%
# NBVAL_IGNORE_OUTPUT
paired = evaluate.paired_against(preds, MAIN)
print(evaluate.paired_in_words(paired))

# %% [markdown]
# **Reading it.** Where an interval includes 0, this test split cannot tell the two runs apart on that task
# — which is not the same as "they are equal": a larger test set might. Where it excludes 0, the
# difference holds for these paintings *at these budgets*; if the budgets differ (the line above the
# table), the comparison measures the budgets as much as the architectures. With a few hundred test
# paintings only large differences show; the next section has thousands.

# %% [markdown]
# ## On real paintings at scale: the committed results
#
# The sample is for learning the pipeline. The answer to "which architecture?" comes from real runs on
# the 32,245-painting WikiArt subset, trained and scored by `tools/real_results.py`; `wikiart_utils.results`
# reads them from `results/` (nothing is retyped). First each run's budget and test top-1, then the paired
# differences that were computed on the same test paintings.

# %%
real, real_settings = results.metrics(), results.settings()
print(evaluate.budget_note(real_settings))
real_settings

# %%
evaluate.budget_and_scores(real_settings, real)

# %%
real_chart = evaluate.compare(results.metrics_with_chance_present()).replace({"model": evaluate.budget_labels(real_settings)})
plots.comparison_chart(real_chart, title=f"real paintings: top-1 on the test split of {Path(real_settings['data'].iloc[0]).name}"
                       f" (from scratch)\n{evaluate.budget_note(real_settings)}", path=f"{FIGURES}/07_comparison_real.png")

# %%
pairs = results.paired()
pairs["verdict"] = pairs.apply(results.verdict, axis=1)
print(evaluate.paired_in_words(pairs))

# %% [markdown]
# **Reading it.** On real paintings, at this budget — trained **from scratch** (no ImageNet weights could be
# downloaded on the project's machines: `pretrained` is False for every run), at 96 px, on a style-stratified
# part of about 6,000 training paintings (`train_limit`), 6 epochs for the ResNet runs and 15 epochs of
# heads on a **frozen, randomly initialised** backbone for VGG-16 and ViT-B/16 (marked in the chart's
# legend), on a 2-core CPU (`machine`) — **plain pooling (`resnet18_gap`) beats the patch LSTM on every
# task, and the patch LSTM beats flatten on every task**: each paired interval printed above lies wholly
# above 0. At 96 px a from-scratch ResNet-18 leaves only a few cells for the LSTM to read: the recurrence
# adds parameters to fit and, at this budget, nothing that averaging the cells does not already give. The VGG and ViT runs measure a random frozen feature
# extractor, not those architectures.
#
# What might change with ImageNet weights at 224 px (the `full` profile) is a hypothesis, not a
# measurement: the backbones would start from features learned on photographs, the frozen VGG/ViT runs
# would read meaningful tokens, and a 7×7 grid gives an LSTM a longer, more informative sequence — so the
# ranking of the five variants could change. Only a run can say; `results/` would then hold it.

# %% [markdown]
# ## An older convention, measured
#
# What we have of an earlier public CNN-LSTM WikiArt project is its **test protocol** — a test list with its
# artist class list, kept outside this repository (`../shared/seed-protocol`, checked by
# `tests/test_evaluate.py`) — and the top-1 it reported on that list. Its artist labels put every painting
# by a less represented artist into one real artist's class, `albrecht-durer`: always answering "Dürer"
# scores the share of its test rows in that class. Its numbers, as `evaluate.OLDER_PROJECT` keeps them:

# %%
old = evaluate.OLDER_PROJECT
print(f"test list: {old['test_rows']:,} rows, {old['artist_classes']} artist classes ({old['protocol_dir']})")
print("reported top-1:", ", ".join(f"{task} {value:.2%}" for task, value in old["reported_top1"].items()))
print(f"share of its test rows in the artist class albrecht-durer: {old['majority_artist_share']:.1%}")

# %% [markdown]
# We reproduce the convention on our data: train the main run's variant again with its own settings (read
# from its checkpoint) and unknown artists labelled as Dürer (`unknown_as_class="albrecht-durer"`), then
# score it that way and honestly. Training is the slow step (the main run's whole budget again); a
# finished run with exactly these settings is reused, and the cell says which it did.

# %%
# NBVAL_IGNORE_OUTPUT
legacy_best, done = evaluate.older_convention_run(root, runs[MAIN], Path(CHECKPOINTS) / f"{MAIN}_unknown_as_class",
                                                  "albrecht-durer", workers=WORKERS)
print(done)

# %%
inflated, _ = evaluate.evaluate_checkpoint(root, legacy_best, split=SPLIT, workers=WORKERS, n_boot=N_BOOT,
                                           unknown_as_class="albrecht-durer")
honest = result["artist"]
print(f"artist rows scored: honest n = {honest['n']}, older convention n = {inflated['artist']['n']}")
print(f"majority baseline: honest {honest['majority_baseline']:.1%}, older convention {inflated['artist']['majority_baseline']:.1%}")

# %%
# NBVAL_IGNORE_OUTPUT
pd.DataFrame({"honest (unknown = missing)": [honest["top1"], honest["majority_baseline"], honest["macro_f1"]],
              "older convention (unknown = Durer)": [inflated["artist"]["top1"], inflated["artist"]["majority_baseline"],
                                                    inflated["artist"]["macro_f1"]],
              "older project, reported": [old["reported_top1"]["artist"], old["majority_artist_share"], None]},
             index=["artist top-1", "majority baseline", "macro-F1"]).round(3)

# %% [markdown]
# **Reading it.** Under the older convention every painting by an unknown artist joins one real class, so
# the majority baseline rises to the unknown share (the older project's share and ours are printed above)
# and a model's artist accuracy rises with it while telling us nothing more about painters; its macro-F1
# does not rise. A model whose artist top-1 under the convention equals its majority baseline is in effect
# answering Dürer for every unknown painter. On the 32,245-painting subset (from scratch, CPU;
# `results/README.md`, `results/resnet18_gap_unknown_as_durer/`) the same convention turns 0.307 artist
# top-1 over a 0.068 baseline into 0.519 over 0.495, and artist macro-F1 falls from 0.122 to 0.049. Report
# artist metrics over the 128 known painters, with their baseline and interval.

# %% [markdown]
# ## Take-aways
#
# - Choose the main model on the **validation** split; report it once on the test split.
# - Report every task with `n`, the majority baseline, chance over the classes present, and a 95% interval;
#   prefer macro-F1 and balanced accuracy across a long tail.
# - Draw confusion matrices over the classes a split holds, with each row's `n`.
# - Compare runs **paired**, on the same paintings, and state each run's budget: overlapping intervals do
#   not mean two runs cannot be told apart, and different budgets compare budgets.
# - On real paintings, from scratch at 96 px, plain pooling beat both LSTM readings; what ImageNet weights
#   at 224 px would do is still to be measured.
# - A labelling convention can move a headline number by tens of points: read the baseline first.

# %% [markdown]
# ## Exercises
#
# Solutions are hidden below each exercise; try first.

# %% [markdown]
# **Exercise 1 (quick).** How much higher is top-5 than top-1 for each task of the main model? Which task
# gains most, and how does that relate to the number of classes present?
#
# <details><summary>Hint</summary><code>result[task]</code> holds <code>top1</code>, <code>top5</code> and
# <code>classes_present</code>.</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 1
# NBVAL_IGNORE_OUTPUT
# The gain from top-1 to top-5 is capped by 1 - top-1 and by how many classes are present: with 10 genres and
# 8 styles present, five guesses already cover half or more of them, so genre and style top-5 approach 1;
# artist, with dozens of painters present, stays far from it. Read which task gains most in the table.
pd.DataFrame.from_dict({t: {"top1": result[t]["top1"], "top5": result[t]["top5"], "gain": result[t]["top5"] - result[t]["top1"],
                             "classes present": result[t]["classes_present"]} for t in labels.TASKS}, orient="index").round(3)

# %% [markdown]
# **Exercise 2 (quick).** What is the F1 of the five rarest styles (fewest training paintings) that have
# test paintings? Compare with the most frequent ones.
#
# <details><summary>Hint</summary><code>reports["style"]</code> has <code>support</code> (test paintings),
# <code>train_count</code> and <code>f1</code>; use <code>nsmallest</code>.</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 2
# NBVAL_IGNORE_OUTPUT
present = reports["style"][reports["style"].support > 0]
# The rarest styles have a handful of test paintings each, so their F1 is an anecdote, not a measurement;
# compare F1 with train_count across the table: distinctiveness (Ukiyo-e) matters as well as count.
pd.concat({"rarest": present.nsmallest(5, "train_count"), "most frequent": present.nlargest(3, "train_count")})[
    ["class", "train_count", "support", "f1"]].round(3)

# %% [markdown]
# **Exercise 3 (medium).** Which pair of artists does the main model confuse most? Look at a painting of
# each (in the sample's folders): is the confusion understandable?
#
# <details><summary>Hint</summary><code>metrics.most_confused_pairs</code> works for any task; the artist
# labels are <code>pred.y("artist")</code>, unknown artists are skipped.</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 3
# NBVAL_IGNORE_OUTPUT
metrics.most_confused_pairs(pred.y("artist"), pred.probs["artist"], labels.vocab("artist"), k=3).round(3)

# %% [markdown]
# **Exercise 4 (medium).** Take the two runs with the best validation scores and compute the paired
# difference of their **genre** top-1 on the test split. Do their own intervals overlap? Does the paired
# interval include 0?
#
# <details><summary>Hint</summary><code>board.index[:2]</code> are the two runs; "right" per painting is
# <code>preds[run].probs["genre"].argmax(1) == y</code> over rows with <code>y >= 0</code>; then
# <code>metrics.paired_difference</code>.</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 4
# NBVAL_IGNORE_OUTPUT
if len(board) >= 2:
    a, b = board.index[:2]
    y = preds[a].y("genre")
    known = y >= 0
    d = metrics.paired_difference((preds[a].probs["genre"].argmax(1) == y)[known], (preds[b].probs["genre"].argmax(1) == y)[known])
    print({run: [round(v, 3) for v in scored[run]["genre"]["top1_ci"]] for run in (a, b)}, "own 95% intervals")
    # Own intervals can overlap while the paired interval excludes 0: the difference is the same top-1 gap,
    # but pairing cancels the paintings both runs get right or both get wrong, so its interval is narrower
    # than the two own intervals suggest. Read the sign and whether 0 is inside.
    print(f"{a} - {b}, genre: {d['difference']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] (n = {d['n']})")
    (lo_a, hi_a), (lo_b, hi_b) = scored[a]["genre"]["top1_ci"], scored[b]["genre"]["top1_ci"]
    print("own intervals overlap:", lo_a <= hi_b and lo_b <= hi_a, "| paired interval includes 0:",
          d["ci"][0] <= 0 <= d["ci"][1])

# %% [markdown]
# **Exercise 5 (open-ended).** Does the main model's confidence mean anything? Group the test paintings by
# the probability of the predicted style and compare each group's accuracy with its mean confidence. What
# would you report, and how would you fix a gap (temperature scaling, more data)?
#
# <details><summary>Hint</summary><code>pred.probs["style"].max(1)</code> is the confidence; bin it with
# <code>pd.cut</code> and average "right" per bin.</details>

# %% jupyter={"outputs_hidden": true, "source_hidden": true} tags=["solution"]
# Solution to exercise 5
# NBVAL_IGNORE_OUTPUT
y, p = pred.y("style"), pred.probs["style"]
known = y >= 0
frame = pd.DataFrame({"confidence": p.max(1)[known], "right": (p.argmax(1) == y)[known]})
# Compare each bin's accuracy with its mean confidence: a gap means over- or under-confidence (mind the bins
# with few paintings). Report a reliability table (or the expected calibration error), and fix a gap with
# temperature scaling fitted on the validation split, never on the test split.
frame.groupby(pd.cut(frame.confidence, [0, 0.4, 0.6, 0.8, 1.0]), observed=True).agg(
    paintings=("right", "size"), mean_confidence=("confidence", "mean"), accuracy=("right", "mean")).round(3)

# %% [markdown]
# ## Further reading
#
# - Selvaraju, Cogswell, Das, Vedantam, Parikh & Batra, ICCV 2017: "Grad-CAM: Visual Explanations from Deep
#   Networks via Gradient-based Localization" — the maps drawn above.
# - Efron & Tibshirani, 1993: *An Introduction to the Bootstrap* (Chapman & Hall) — percentile intervals, and
#   why resampling the same rows for two models pairs them.
# - Dietterich, 1998: "Approximate Statistical Tests for Comparing Supervised Classification Learning
#   Algorithms", Neural Computation — paired tests (McNemar's among them) for two classifiers on one test set.
# - Tan, Chan, Aguirre & Tanaka, ICIP 2016: "Ceci n'est pas une pipe: A deep convolutional network for
#   fine-art paintings classification" — style, genre and artist on WikiArt with fine-tuned CNNs.
# - Saleh & Elgammal, 2015: "Large-scale Classification of Fine-Art Paintings: Learning The Right Metric on
#   The Right Feature" — style, genre and artist on WikiArt before end-to-end CNNs.
# - Northcutt, Athalye & Mueller, 2021: "Pervasive Label Errors in Test Sets Destabilize Machine Learning
#   Benchmarks", NeurIPS Datasets and Benchmarks — why confident contradictions deserve a look.
