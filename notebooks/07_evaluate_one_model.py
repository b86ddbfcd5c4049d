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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/wikiart-course/wikiart-lstm/blob/main/notebooks/07_evaluate_one_model.ipynb)
#
# # 07 · Evaluating one model honestly
#
# The part you put in a report: one model, scored once on the **test split**, its errors looked at closely.
# By default the model is **the course's own**, shipped with the repository in `checkpoints/course/`, and
# trained on the real paintings of the 32,245-painting WikiArt subset. It keeps EfficientNet-Lite0's ImageNet
# features frozen and *reads* them with the stage-statistics reader of notebook 04: for each of the
# backbone's nine stages, every channel's mean and standard deviation over the painting's positions (the
# last stage's means are the plain average), standardised (a BatchNorm), then one linear head per task. It
# was chosen among the course's runs on the *validation* split (notebook 08 makes that choice in the open);
# its card, below, says what it is and how it was trained. So this notebook runs on its own — in a fresh
# clone or from its Colab badge — without training anything. Set `CHECKPOINT` to a run of notebooks 03–06
# (`../checkpoints/<run>/best.pt`) to examine yours.
#
# ## What you will learn
#
# - how to report a task: `n`, top-1 and top-5 (the true class is the model's first answer, or among its five
#   most probable), macro-F1 (each class's F1 averaged, every class counting the same), balanced accuracy
#   (each class's recall averaged), beside the majority baseline and chance, with a 95% **bootstrap
#   interval** — built by hand first;
# - how to read **confusion matrices** over the classes a split really holds, galleries of right and wrong
#   answers, the most-confused pairs, and what the long tail costs;
# - how to find **outliers** (confident contradictions of the label) and to see **where the evidence** for a
#   prediction lies (Grad-CAM), on a painting of your own too — and how much of it a Grad-CAM map can show.
#
# Comparing several models — paired intervals, the real-paintings results of every variant — is notebook 08.

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
CHECKPOINT = None      # None = the course's model (checkpoints/course/model.pt); or a run's best.pt
CHECKPOINTS = "../checkpoints"   # where this notebook writes its reports (eval_<model>/)
FIGURES = "../figures"
N_BOOT = None          # bootstrap resamples; None = metrics.BOOTSTRAP_RESAMPLES, every interval's setting
WORKERS = 0            # DataLoader workers (the sample's images are small: 0 is fastest on 2 cores)
TOP_ARTISTS = 20       # the artist confusion matrix shows the painters with the most test paintings
MY_PAINTING = None     # a path to an image of yours; None = a test painting by a public-domain painter

# %%
# %matplotlib inline
from pathlib import Path
import numpy as np
import pandas as pd
from wikiart_utils import checkpoint, data, evaluate, labels, lesson, metrics, plots, provenance

N_BOOT = N_BOOT or metrics.BOOTSTRAP_RESAMPLES  # the same resamples as metrics.json and results/paired.md
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR)
model_path = Path(CHECKPOINT) if CHECKPOINT else checkpoint.COURSE_MODEL
name = model_path.parent.name if CHECKPOINT else "course model"
reports_dir = Path(CHECKPOINTS) / f"eval_{model_path.parent.name}"
print("model:", model_path if CHECKPOINT else "the shipped course model, checkpoints/course/model.pt")

# %% [markdown]
# ## The model
#
# A model's card says what it is and what it was trained on — before any score. The course model's card
# travels with it (`checkpoints/course/run.json`, `metrics.json`); its test scores on the subset were measured
# when it was trained, on 3,224 real test paintings (`results/` holds how):

# %%
if CHECKPOINT is None:
    lesson.show(lesson.course_model_card())
else:
    print(checkpoint.load(model_path)[1]["train_args"])   # your run: its settings, as train stored them

# %% [markdown]
# **Reading it.** These are the numbers to quote for this model: thousands of test paintings, intervals 2.7
# (style) to 4.3 (artist) points wide, each far above its majority baseline (artist 0.706 against 0.068, style 0.819 against
# 0.405). The printed lines also answer the first question to ask before scoring a model on new data — *did
# it train on any of it?* None of the embedded sample's 243 test paintings is in its training split. The
# sample is 128 px while the model was trained at 224 px, so it sees the sample's paintings enlarged, and
# blurrier; the sample also holds fewer, older styles. Scores below can differ from the subset's either way.
#
# ## Metrics on the test split
#
# `evaluate_checkpoint` is `python -m wikiart_utils evaluate`: it scores the model on the split and writes
# `metrics.json`, `predictions.csv` and per-class reports (here into `checkpoints/eval_course/`). The counts
# `n` are the labelled test rows per task (unknown artists and genres excluded).

# %%
result, pred = evaluate.evaluate_checkpoint(root, model_path, reports_dir, split=SPLIT, workers=WORKERS, n_boot=N_BOOT)
print("labelled test rows:", {task: result[task]["n"] for task in labels.TASKS})
print("classes present:", {task: f"{result[task]['classes_present']} of {labels.num_classes()[task]}"
                           for task in labels.TASKS})

# %% tags=["nbval-ignore-output"]
evaluate.summary_table(result)

# %% [markdown]
# **Reading it.** Each score sits beside two references: the **majority baseline** (always answering the
# most frequent *training* class) and **chance**, 1 / (classes present in the split) — guessing among the
# classes the split really holds, not among all 27 styles or 128 artists, which would flatter the model.
# Top-1 above the baseline means the model learned something beyond the class frequencies; macro-F1 and
# balanced accuracy say whether it did so beyond the largest classes. Beside the card: on the sample, genre
# comes out about as on the subset (0.767 against 0.743), style lower (0.741 against 0.819) and artist much
# lower (0.467 against 0.706) — on a couple of hundred paintings, with intervals up to 16 points wide (artist: [0.394, 0.555]).
#
# ## The bootstrap interval, by hand
#
# Where does `top1_ci` come from? The test paintings are one sample of the paintings the model could meet.
# The **bootstrap** (Efron, 1979) asks how much the score would move with another sample of the same size:
# draw the test paintings again *with replacement*, score each redraw, and take the middle 95% of those
# scores. For style, over the paintings whose style is known (all of them; for artist and genre the mask
# matters), in a few lines:

# %%
known = pred.y("style") >= 0                                   # labelled paintings only
right = (pred.probs["style"].argmax(1) == pred.y("style"))[known]  # was the model right, painting by painting
rng = np.random.default_rng(metrics.BOOTSTRAP_SEED)  # the seed metrics.bootstrap_ci uses
redraws = rng.integers(0, len(right), size=(N_BOOT, len(right)))  # N_BOOT resamples of the test paintings
scores = right[redraws].mean(axis=1)                           # top-1 on each resample
lo, hi = np.percentile(scores, [2.5, 97.5])
print(f"style top-1 {right.mean():.3f}; by hand [{lo:.3f}, {hi:.3f}]; evaluate: "
      f"[{result['style']['top1_ci'][0]:.3f}, {result['style']['top1_ci'][1]:.3f}] over {len(right)} paintings")

# %% [markdown]
# The hand-made interval and the one `evaluate` reports are the same: `metrics.bootstrap_ci` draws the same
# redraws from the same seed (change the seed above to see how much the interval's ends themselves wobble).
# Its width shrinks like 1/√n: four times the paintings, half the width — which is why the subset's intervals
# above are narrower than these. It measures one thing only: how much the score depends on *which* test
# paintings were drawn. Another training seed would move the score too, and this interval does not include
# that.
#
# ## Confusion matrices
#
# Rows are true classes, each normalised to 1 (the share of that class's test paintings predicted as each
# column). Only the classes **present in the split** are rows, each with its `n`: a row over 3 paintings is
# anecdote, one over 60 is evidence. The last column, `(other)`, holds predictions of classes that are not
# rows. For artists, the `TOP_ARTISTS` painters with the most test paintings.

# %%
for task, top_n in (("genre", None), ("style", None), ("artist", TOP_ARTISTS)):
    cm = metrics.confusion(pred.y(task), pred.probs[task], labels.num_classes()[task], normalize=None)
    figure = f"07_confusion_{task}" + (f"_top{top_n}" if top_n else "")
    lesson.show(plots.confusion_matrix_plot(cm, labels.vocab(task), title=f"{task}, {name} ({SPLIT} split of {root.name})",
                                            top_n=top_n, path=f"{FIGURES}/{figure}.png"))

# %% [markdown]
# **Reading it.** A strong diagonal means the class is recognised; a bright column means the model answers
# that class for many others — usually a large training class, the pull the majority baseline measures.
# Neighbouring styles (Baroque and Rococo, Impressionism and Pointillism) share subjects and palettes,
# so mass between them is expected. The pairs the model mixes up most, with counts and the share of the true
# class's test paintings:

# %% tags=["nbval-ignore-output"]
confused = pd.concat({t: metrics.most_confused_pairs(pred.y(t), pred.probs[t], labels.vocab(t), k=5)
                      for t in ("style", "genre")})
confused.round(3)

# %% [markdown]
# Two readings of a confusion need two more looks. The columns in numbers: for each style the model answers
# wrongly, how many paintings of *other* styles it is given to, from how many true styles, and how many test
# and (sample) training paintings it has. Then the paintings behind the second most confused pair of styles:

# %% tags=["nbval-ignore-output"]
lesson.show(lesson.wrong_answers(pred, "style", root))
second = confused.loc["style"].iloc[1]   # the second most confused pair of styles
print(f"{second['true']} paintings answered {second['predicted']}:")
lesson.confused_paintings(pred, "style", second["true"], second["predicted"])

# %% [markdown]
# **Reading it.** Baroque is where this model loses most on the sample: only a third of its 60 test paintings
# are answered Baroque (the style matrix), and the two largest confusions both start from it, 19 paintings
# each. They are of two kinds. Baroque → Impressionism is the majority's pull: Impressionism, the largest
# style in training (872 paintings here), draws 32 wrong answers from 6 true styles (first table) — every
# other style present but Cubism — not from one neighbour. Baroque → Rococo is a confusion between
# neighbours: Rococo grew out of Baroque, and 19 of the 20 wrong answers it draws are Baroque's. The second
# table shows those 19: mostly portraits (8) and religious paintings (6), and the model sure of itself —
# Rococo at 0.9 or more for 11 of them, Baroque at 0.02 or less for 10. Four are by painters of the 18th
# century, Rococo's own (Panini, Joseph Wright, Joshua Reynolds, Mestre Ataíde): there the label is as
# debatable as the answer — WikiArt files this Reynolds under Baroque and another under Rococo (the
# outlier gallery below shows that one). The other fifteen are Baroque proper, from the Carracci to
# Caravaggio, Velázquez, Zurbarán, Frans Hals and Rembrandt, and the model is confidently wrong about them.
# This reader sees channel statistics — colour and texture at every depth, the quantities neural style
# transfer treats as an image's style — and a dark ground with warm flesh is common to both centuries. The
# sample's 128-px images, enlarged to 224 px and softened, may blur the brushwork that tells them apart — a
# guess these tables cannot confirm.
# %% [markdown]
# ## Galleries: right on all three tasks, two, one, none
#
# Test paintings with all three labels known, grouped by how many tasks the model gets right. Each caption
# has one line per task: ✓ and the label when right, ✗ and `true -> predicted` when wrong. Only paintings whose
# painter died by 1926 are shown (`provenance.showable`; each figure writes a `.provenance.csv` beside it).

# %% tags=["nbval-ignore-output"]
test_set = data.WikiArtDataset(root, SPLIT, 224, train=False)  # 224 px for display only
correct = metrics.correct_matrix({t: pred.y(t) for t in labels.TASKS}, pred.probs)
groups = metrics.gallery_groups(correct)
print({f"right on {k}": len(v) for k, v in groups.items()}, "test paintings with all three labels known")
for k, rows in groups.items():
    lesson.show(lesson.gallery(pred, rows, test_set, k=4).grid(
        title=f"{name}: right on {k} of 3 tasks ({root.name})", path=f"{FIGURES}/07_gallery_{k}_right.png"))

# %% [markdown]
# **Reading it.** Count the groups before looking at the pictures: the printed sizes say how often the model
# is right everywhere (41 of the 122 paintings) and how often nowhere (4). Then read the ✗ lines: which task is
# wrong most? Expect the artist — the task with the most classes and the fewest paintings per class — and
# look at whether the wrong painter is a plausible one (same style, same period): Gainsborough for Rubens is
# not; Renoir for Rembrandt, with the style answered Impressionism too, is the painter pulled along with
# the style.
#
# ## What the long tail costs
#
# Per-class F1 against the number of training paintings of that class (log scale), over the classes with
# test paintings: rare classes are where a model fails, which top-1 accuracy hides and macro-F1 shows. Each
# panel's title gives **Spearman's rho**: the correlation of the two *ranks* — +1 when the classes ordered by
# training count are in the same order by F1, 0 when the orders are unrelated.

# %% tags=["nbval-ignore-output"]
counts = evaluate.train_counts(root)
reports = {t: metrics.per_class_report(pred.y(t), pred.probs[t], labels.vocab(t), counts[t]) for t in labels.TASKS}
plots.per_class_f1_vs_count(reports,  # whole reports: each title counts the classes it leaves out
                            title=f"per-class F1 of the {name} vs training count in {root.name} ({SPLIT} split)",
                            path=f"{FIGURES}/07_f1_vs_count.png")

# %% [markdown]
# **Reading it.** One panel per task, one under another; each title counts the classes drawn, and names
# those left out and why: a class with no test painting has no F1, and one with no training painting in this
# sample has no place on a log axis: 91 painters and 19 styles have no test painting here, and on genre
# `abstract_painting` has one test painting and none in training. A positive rho means F1 rises with the
# number of training paintings: clearly for genre (0.78), less for style (0.41, over 8 styles: Baroque, the
# second largest, sits at F1 0.48), and not at all for artist (0.07). (For the course model, "training
# count" is the count in this sample's training split, a proxy for the subset it was trained on.) Classes
# at F1 = 0 are the ones the model never gets right on a test painting; with only a few test paintings per
# painter here, the artist panel's points are coarse (F1 of 0, ½ or 1 for many painters), and painters at
# F1 = 0 lie anywhere from 5 training paintings to over 60 (Camille Pissarro) — a rank correlation over
# such points says little. More data for the rare classes, class weights or logit adjustment
# (`train --class-weights`, `--logit-adjust TAU`; `docs/cli.md`) are the levers.
#
# ## Outliers and uncertain paintings
#
# *Confident contradictions*: the model gives the labelled style under 10% probability while it is at least
# 60% sure of another — candidates for a mislabelled or atypical painting (Northcutt et al. 2021 found such
# label errors in the test sets of well-known benchmarks). *Most uncertain*: the highest **predictive
# entropy**, −Σ p log p over the predicted style probabilities p: 0 when the model puts all its probability
# on one style, largest when it spreads it evenly over all of them.
# Both go to `style_outliers.csv` for review; the figures show the first four by public-domain painters.

# %% tags=["nbval-ignore-output"]
style_y, style_p = pred.y("style"), pred.probs["style"]
flagged = metrics.outliers(style_y, style_p, k=len(style_y), max_label_prob=0.10, min_pred_prob=0.60)
unsure = metrics.most_uncertain(style_p, k=len(style_p))
table = evaluate.predictions_table(pred, top_k=1)
review = pd.concat({"contradiction": table.iloc[flagged[:50]], "uncertain": table.iloc[unsure[:50]]}, names=["kind", "row"])
review.to_csv(reports_dir / "style_outliers.csv")
print(len(flagged), "confident contradictions of the style label")
for kind, rows in (("contradictions", flagged), ("uncertain", unsure)):
    lesson.show(lesson.gallery(pred, rows, test_set, k=4).grid(
        title=f"{name}: style {kind} ({root.name})", path=f"{FIGURES}/07_outliers_{kind}.png"))

# %% [markdown]
# **Reading it.** A contradiction is a question, not a verdict: look at the painting and its neighbours in the
# confusion matrix. A model that is confidently wrong about a whole group of paintings has learned a boundary
# in the wrong place; a lone confident contradiction is worth checking against the source. Here 43 of the
# 243 test paintings are flagged, 13 of them Baroque paintings answered Rococo (the rows of the second table
# above with p(Rococo) at least 0.6 and p(Baroque) under 0.1): Joseph Wright's lady with her lacework is one;
# beside it in the gallery, a Reynolds labelled Rococo and answered Impressionism.
#
# ## Grad-CAM: where is the evidence?
#
# Grad-CAM (Selvaraju et al. 2017) weights a feature map by the gradient of a class's score and shows where that
# map supports the class: each channel of the map gets one weight, the average of its gradient over the
# positions, and the weighted sum of the channels (its positive part) is the heat map. It reads the deepest
# map with at least 7 × 7 cells: for EfficientNet-Lite0 at 224 px, the last one (stage 9, `head (bn2)`:
# 1,280 channels over 7 × 7 positions). Each painting shows two maps — style and genre — each captioned with
# ✓ or ✗ and the prediction it explains.

# %% tags=["nbval-ignore-output"]
model, ckpt = checkpoint.load(model_path)
layer, h, w = lesson.gradcam_layer(model)
view = data.WikiArtDataset(root, SPLIT, ckpt["model_config"]["image_size"], train=False)
rows = np.flatnonzero(provenance.showable(view.meta))
rows = rows[np.linspace(0, len(rows) - 1, 4).astype(int)]  # spread over the (style-sorted) split
overlays, captions, colours, shown = lesson.gradcam_panels(model, view, rows)
print(f"Grad-CAM of the {name} from {layer} ({h}x{w} cells)")
plots.image_grid(overlays, captions, ncols=4, cell_size=3.2, fontsize=10, colors=colours, paintings=shown,
                 title=f"Grad-CAM of the {name}, {layer} ({root.name})", path=f"{FIGURES}/07_gradcam.png")

# %% [markdown]
# **Reading it.** With 7 × 7 cells, read the maps coarsely: does the evidence sit on the figures, the sky, the
# frame? A ✗ caption explains a wrong prediction. The painting with horses (first row), labelled Baroque and
# answered Rococo (70% sure), has its Rococo evidence in the sky; the portrait of a young woman (second row),
# labelled Impressionism and answered Rococo (66%), on the face; the genre maps of the portraits sit on a
# head, or on the hands and the dress.
#
# What such a map can show depends on the reader. This one does not read positions at all: its heads see
# each channel's mean and standard deviation over the positions, at every one of the nine stages. A
# standard deviation's gradient at a position is proportional to that position's distance from the channel's
# mean, which sums to 0 over the positions; so Grad-CAM's channel weights come from the channel *means* of
# stage 9 alone — the very quantities the plain average reads — and the map shows nothing of the standard
# deviations, nor of stages 1–8. How much of the evidence is that? The heads are linear in the
# standardised statistics, so each answer splits exactly into one part per statistic: how far the painting's
# value, compared with the average training painting's, pushes the predicted class above the mean of that
# task's class scores. `lesson.stage_evidence` adds the parts up by stage and kind over the test paintings,
# as shares of the whole (a negative share speaks against the answer):

# %% tags=["nbval-ignore-output"]
evidence = lesson.stage_evidence(model, view)   # None for a reader that does not read stage statistics
if evidence is None:
    print(f"the {name} does not read stage statistics: its Grad-CAM map is not split by stage here")
else:
    print(f"Grad-CAM's map shows the stage 9 means: {evidence.loc['stage 9', ('style', 'means')]:.0%} of the "
          f"style evidence, {evidence.loc['stage 9', ('genre', 'means')]:.0%} of the genre evidence")
    lesson.show(evidence.round(3))

# %% [markdown]
# **Reading it.** The maps above show about a fifth of what the model used: stage 9's means carry 17% of the
# style evidence and 23% of genre's (the printed line), and its standard deviations as much again (0.179 and
# 0.240 in the table), which no map shows. The rest comes from earlier stages, and not the same ones for the two tasks: half of the style
# evidence lies in the middle stages 5–8 (textures and parts of shapes), while genre draws nine tenths of
# its evidence from stages 7–9, the deepest, most object-like. So read these maps as "where the last stage's average
# finds the class", not as "where the model looked"; notebook 04 compares what each reader gains.
#
# ## Your own painting
#
# Set `MY_PAINTING` in the parameters cell to an image file, or — when you run this notebook yourself — upload
# one with the button below and run the next cell. The model answers the top 3 of each task with probabilities
# and shows its Grad-CAM. Without a file, the first test painting of the sample by a public-domain painter
# stands in. Your own image is shown but not saved, and no provenance is recorded. First, what the model can
# answer: it has an output for every class, but it only ever *saw* some of them in training.

# %%
seen = lesson.classes_seen(model_path, root)
for task in labels.TASKS:
    print(f"{task}: saw {len(seen[task])} of {labels.num_classes()[task]} classes in training, e.g. {', '.join(seen[task][:6])}")
print("styles it knows:", ", ".join(seen["style"]))

# %%
upload = lesson.upload_widget()  # a FileUpload button when you run the notebook yourself
if upload is not None:
    lesson.show(upload)

# %% tags=["nbval-ignore-output"]
path, paintings, what = lesson.choose_painting(MY_PAINTING, upload, root, SPLIT)
report = lesson.explain_or_say(model_path, path, k=3)   # an unreadable file gets one line, not a traceback
if report is not None:
    print(f"{what}, read by the {name} (Grad-CAM from {report['layer']})")
    print(lesson.format_text({"path": path.name, **report["top"]}))
    panels, captions = lesson.painting_panels(report)
    lesson.show(plots.image_grid(panels, captions, ncols=3, cell_size=3.4, fontsize=10, title=f"{name} on {path.name}",
                                 path=f"{FIGURES}/07_your_painting.png" if paintings is not None else None,
                                 paintings=paintings))

# %% [markdown]
# **Reading it.** Here the model names the right painter (59%) and style (84%), but puts portrait only third
# among the genres (23%): a full-length double portrait in rich dress reads to it as a religious or genre
# scene. Its probabilities are not calibrated certainties (exercise 4 compares them with how often it is
# right): the top painter's probability means "the closest of the painters I saw in training", and a painting
# by anyone else — a living painter, your own — still gets an artist answer. A style the model never saw in
# training (the printed list) is practically never its answer: training only ever pushed its score down.
#
# ## Take-aways
#
# - Say what the model is and what it was trained on before any score; check it never trained on the test data.
# - Report every task with `n`, the majority baseline, chance over the classes present, and a 95% interval;
#   the bootstrap interval is a few lines: redraw the test paintings with replacement, score, take the middle 95%.
# - Draw confusion matrices over the classes a split holds, with each row's `n`; read galleries task by task.
# - The long tail is where a model fails: macro-F1 and per-class F1 show it, top-1 hides it.
# - A Grad-CAM map shows the part of the evidence that flows through the map it reads; for a reader of
#   channel statistics that is the last stage's means — here about a fifth.
#
# ## Exercises
#
# Each solution is folded under its exercise: try first, then open it. It states the answer and holds the
# code that computes it, which you can paste into a cell and run (it uses the variables defined above). The
# numbers quoted are the shipped course model's on the sample's test split; another checkpoint prints its own.

# %% [markdown]
# **Exercise 1 (quick).** How much higher is top-5 than top-1 for each task? Which task gains most, and how does
# that relate to the number of classes present?
#
# <details><summary>Hint</summary><code>result[task]</code> holds <code>top1</code>, <code>top5</code> and
# <code>classes_present</code>.</details>
#
# <details><summary>Solution</summary>
#
# Artist gains most: +0.321 (0.467 → 0.788), against +0.226 for style (0.741 → 0.967) and +0.219 for genre
# (0.767 → 0.986). The gain is capped by 1 − top-1 and
# depends on how many classes are present: with 10 genres and 8 styles present, five guesses cover at least
# half of them, so genre and style top-5 end close to 1 and their gain is capped by how close top-1 already
# is. Artist, with 37 painters present, has the lowest top-1 and the most room: the task with the lowest
# top-1 and the most classes present gains most.
#
# ```python
# pd.DataFrame.from_dict({t: {"top1": result[t]["top1"], "top5": result[t]["top5"], "gain": result[t]["top5"] - result[t]["top1"],
#                              "classes present": result[t]["classes_present"]} for t in labels.TASKS}, orient="index").round(3)
# ```
#
# </details>

# %% [markdown]
# **Exercise 2 (quick).** What is the F1 of the five rarest styles (fewest training paintings) that have test
# paintings? Compare with the most frequent ones.
#
# <details><summary>Hint</summary><code>reports["style"]</code> has <code>support</code> (test paintings),
# <code>train_count</code> and <code>f1</code>; use <code>nsmallest</code>.</details>
#
# <details><summary>Solution</summary>
#
# The five rarest styles with test paintings are Fauvism (F1 0.000), Cubism (0.800), Naive Art (0.667),
# Pointillism (0.667) and Ukiyo-e (0.800); the three most frequent, Impressionism, Baroque and Rococo, score
# 0.858, 0.476 and 0.688. The four rarest rest on 1, 2, 6 and 6 test paintings (`support`): their F1 is an
# anecdote rather than a measurement. Across the table F1 follows distinctiveness as well as count —
# Ukiyo-e, with few paintings but a look of its own, scores close to Impressionism, which has six times its
# training paintings, and far above Baroque, which has more than three times as many but shares its look
# with Rococo.
#
# ```python
# present = reports["style"][reports["style"].support > 0]
# pd.concat({"rarest": present.nsmallest(5, "train_count"), "most frequent": present.nlargest(3, "train_count")})[
#     ["class", "train_count", "support", "f1"]].round(3)
# ```
#
# </details>

# %% [markdown]
# **Exercise 3 (medium).** Which pairs of painters does the model confuse most? Is each confusion
# understandable — and is the painter it answers simply a large class?
#
# <details><summary>Hint</summary><code>metrics.most_confused_pairs</code> works for any task; compare the
# predicted painter with <code>counts["artist"]</code>, the training paintings per painter.</details>
#
# <details><summary>Solution</summary>
#
# The three most confused pairs each rest on three paintings, and all three answer the same painter: William
# Merritt Chase, Edgar Degas and Claude Monet answered Pierre-Auguste Renoir. The code also prints each
# predicted painter's rank among the painters of the *sample's* training split by number of paintings (a
# proxy: the course model trained on the subset, whose counts differ): Renoir is rank 1. Each confusion is
# understandable — four painters of Impressionism, the same decades — and the answer is simply the largest
# class: the majority pull of notebook 01 seen painter by painter, as Impressionism pulls among the styles.
# The artist confusion matrix shows the same column drawing from Manet, Whistler, Sorolla and Sargent too.
# With three paintings per pair, each pair alone is an anecdote; the one column is the finding.
#
# ```python
# pairs = metrics.most_confused_pairs(pred.y("artist"), pred.probs["artist"], labels.vocab("artist"), k=3)
# rank = pd.Series(counts["artist"], index=labels.vocab("artist")).rank(ascending=False, method="min").astype(int)
# pairs.assign(predicted_rank_in_training=[rank[p] for p in pairs["predicted"]]).round(3)
# ```
#
# </details>

# %% [markdown]
# **Exercise 4 (open-ended).** Does the model's confidence mean anything? Group the test paintings by the
# probability of the predicted style and compare each group's accuracy with its mean confidence. What would you
# report, and how would you fix a gap?
#
# <details><summary>Hint</summary><code>pred.probs["style"].max(1)</code> is the confidence; bin it with
# <code>pd.cut</code> and average "right" per bin.</details>
#
# <details><summary>Solution</summary>
#
# Read the table row by row: in each bin, is `accuracy` close to `mean_confidence`? Below 0.4 there are only
# 2 paintings: nothing to read. Between 0.4 and 0.6 (24 paintings) the model is right 0.542 of the time at a
# mean confidence of 0.519: close. Between 0.6 and 0.8 (32), 0.531 at 0.700; above 0.8 (185 paintings, three
# quarters of the split), 0.805 at 0.962: over-confident, by about 16 points where most of its answers are.
# Where accuracy is below the confidence the model is over-confident, where above under-confident; a bin with
# few paintings says little either way. Report a reliability table like this one, or the **expected
# calibration error** (the gap between accuracy and mean confidence in each bin, averaged with each bin
# weighted by its share of the paintings), and fix a gap with temperature scaling (all logits divided by one
# number T, chosen to fit) on the **validation** split, never on the test split. Mind where the gap was
# measured: fitted on the subset's validation paintings, T corrects the subset's gap; the sample's enlarged
# 128-px paintings are different images, on which the model may be more confident than it should be.
#
# ```python
# y, p = pred.y("style"), pred.probs["style"]
# known = y >= 0
# frame = pd.DataFrame({"confidence": p.max(1)[known], "right": (p.argmax(1) == y)[known]})
# frame.groupby(pd.cut(frame.confidence, [0, 0.4, 0.6, 0.8, 1.0]), observed=True).agg(
#     paintings=("right", "size"), mean_confidence=("confidence", "mean"), accuracy=("right", "mean")).round(3)
# ```
#
# </details>

# %% [markdown]
# ## Further reading
#
# - Efron, "Bootstrap Methods: Another Look at the Jackknife", *Annals of Statistics*, 1979; Efron & Tibshirani,
#   *An Introduction to the Bootstrap*, 1993 — the percentile interval built above.
# - Selvaraju, Cogswell, Das, Vedantam, Parikh & Batra, "Grad-CAM: Visual Explanations from Deep Networks via
#   Gradient-based Localization", ICCV 2017 — the maps drawn above.
# - Northcutt, Athalye & Mueller, "Pervasive Label Errors in Test Sets Destabilize Machine Learning
#   Benchmarks", NeurIPS 2021 Datasets and Benchmarks — why confident contradictions are worth a look.
# - Guo, Pleiss, Sun & Weinberger, "On Calibration of Modern Neural Networks", ICML 2017 — temperature scaling.
# - Mitchell et al., "Model Cards for Model Reporting", FAT* 2019 — what to say about a model before its scores.
#
# Next: `08` compares models — on the same paintings, with paired intervals.
