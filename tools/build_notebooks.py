"""Write the course notebooks' cells (sources only); `python -m wikiart_utils reproduce` executes them.

Edit a notebook here or in Jupyter -- but if you edit here, rerun this script and then reproduce:
    python tools/build_notebooks.py 01 02 && python -m wikiart_utils reproduce --only 01 02
"""
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

SETUP = '''# Colab only: mount Drive, install this project from your clone on Drive. Locally this does nothing.
import os, subprocess, sys
if "google.colab" in sys.modules:
    from google.colab import drive
    drive.mount("/content/drive")
    PROJECT_DIR = "/content/drive/MyDrive/wikiart-lstm"  # `git clone` of this repository, see README
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", PROJECT_DIR], check=True)
    os.chdir(f"{PROJECT_DIR}/notebooks")'''


def md(text):
    return new_markdown_cell(text.strip())


def code(text, tags=()):
    cell = new_code_cell(text.strip())
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def params(text):
    return code(text, tags=["parameters"])


NOTEBOOKS = {}

NOTEBOOKS["01_eda_class_imbalance"] = [
    md("""
# 01 · Exploring WikiArt: three tasks, one long tail

Every painting in WikiArt carries up to three labels: its **style** (27 movements, from Early Renaissance
to Pop Art), its **genre** (10 subjects: landscape, portrait, ...) and its **artist**. Before training
anything we look at how these labels are distributed, because that decides which numbers mean anything.

You will see:
1. the dataset directory contract (`metadata.csv`) and how many labels each task really has;
2. the long tail: a few classes own most paintings (linear and log plots);
3. unknown labels — an artist outside the 128 most represented painters, a missing genre — which are
   *missing*, never a class of their own;
4. how styles and genres co-occur, image sizes, and paintings filed under two styles;
5. why plain accuracy flatters a model on such data, and what to report instead.
"""),
    code(SETUP),
    md("**Parameters** (papermill can override them): `DATA_DIR=None` runs on the embedded sample."),
    params('''
DATA_DIR = None      # a dataset directory with metadata.csv; None = the embedded synthetic sample
PROFILE = "sample"   # "sample" (CPU, minutes) or "full" (real WikiArt)
SAMPLE_N, SAMPLE_SIZE = 2000, 96
FIGURES = "../figures"'''),
    code('''
from pathlib import Path
import pandas as pd
import matplotlib.pyplot as plt
import wikiart_utils as wu
from wikiart_utils import data, eda, index, plots

pd.set_option("display.width", 140)
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR, SAMPLE_N, SAMPLE_SIZE)'''),
    md("""
## The dataset directory

Whatever the source — the ArtGAN `wikiart.zip`, the Hugging Face stream, or the synthetic sample — a
dataset is a folder `<Style>/<artist-slug>_<title>.jpg` plus a `metadata.csv` with one row per usable
image. An empty `artist` or `genre` means *unknown*. `painter` keeps every slug, so we can still count
the less represented painters.
"""),
    code('''
meta = index.read_metadata(root)
print(f"{len(meta):,} images, columns: {list(meta.columns)}")
meta[["path", "style", "genre", "artist", "painter", "width", "height", "split"]].head()'''),
    md("""
## How many labels does each task have?

Style is always known (it is the folder). About a fifth of the paintings have no genre, and almost half
are by painters outside the 128 with at least 150 paintings in the full WikiArt: for the artist task
these are **unknown**, excluded from its loss and its metrics — not folded into some class.
"""),
    code("eda.unknown_share(meta)"),
    md("""
## The long tail

Sorted class frequencies, on a linear and a log scale. The log scale shows the tail the linear one hides.
"""),
    code('''
fig, axes = plt.subplots(3, 2, figsize=(14, 10))
for row, task in zip(axes, wu.labels.TASKS):
    counts = eda.label_counts(meta, task)
    plots.long_tail(counts, title=f"{task} (linear)", ax=row[0])
    plots.long_tail(counts, title=f"{task} (log)", log=True, ax=row[1])
fig.tight_layout()
fig.savefig(f"{FIGURES}/01_long_tail.png", dpi=110, bbox_inches="tight")'''),
    md("""
The same plot for the **full WikiArt** (81,446 paintings, counted from the ArtGAN label files and shipped
with the package). The sample draws its labels from exactly these frequencies.
"""),
    code('''
fig, axes = plt.subplots(1, 3, figsize=(16, 3.8))
for ax, task in zip(axes, wu.labels.TASKS):
    plots.long_tail(eda.real_counts(task), title=f"full WikiArt: {task} (log)", log=True, ax=ax)
fig.tight_layout()
fig.savefig(f"{FIGURES}/01_long_tail_full_wikiart.png", dpi=110, bbox_inches="tight")'''),
    md("## Most and least represented artists (here, and in the full WikiArt)"),
    code('''
here, full = eda.label_counts(meta, "artist"), eda.real_counts("artist")
pd.DataFrame({"top artists": here.index[:8], "paintings": here.values[:8],
              "bottom artists": here.index[-8:], "paintings ": here.values[-8:],
              "full WikiArt top": full.index[:8], "full": full.values[:8]})'''),
    md("""
## Which styles paint which genres?

Row-normalised: each row shows what share of a style's (genre-labelled) paintings falls in each genre.
Ukiyo-e is mostly genre painting and landscape, Color Field almost only abstract: style and genre are
far from independent, one reason a shared (multitask) representation helps.
"""),
    code('''
plots.cooccurrence_heatmap(meta, "style", "genre", normalize="row",
                           path=f"{FIGURES}/01_style_genre_heatmap.png");'''),
    md("## Image sizes"),
    code("eda.image_sizes(meta)"),
    md("""
## Paintings filed under two styles

In the real data 1,349 file names sit in two style folders: the same painting, labelled twice. The split
function groups them (and byte-identical files) so that one painting never lands in both train and test.
"""),
    code('''
twice = eda.double_filed(meta)
print(f"{len(twice)} paintings filed under two styles; all in a single split: {(~twice.splits.str.contains(',')).all()}")
twice.head()'''),
    md("""
## What the imbalance means for accuracy

A model that always answers the most frequent class scores the **majority baseline** on top-1 accuracy,
with a macro-F1 near zero. Every accuracy in this course is therefore shown beside that baseline, with a
95% interval, and beside macro-F1 and balanced accuracy.

A cautionary tale: an earlier CNN-LSTM WikiArt project put every painting by a less represented artist
into one real artist's class (`albrecht-durer`). On its test list that class holds 52% of the rows — so
"always answer Dürer" scores 52% artist accuracy there. Notebook 07 measures how much that convention
inflates a model's artist score.
"""),
    code("eda.accuracy_paradox(meta)"),
    md("""
**Take-aways.** Report per-task metrics over *labelled* rows only; show `n`, the majority baseline and a
confidence interval; prefer macro-F1 / balanced accuracy to compare models across the long tail.
Next: `02_dataset_and_dataloaders.ipynb` turns this table into tensors.
"""),
]

NOTEBOOKS["02_dataset_and_dataloaders"] = [
    md("""
# 02 · From files to batches: splits, the Dataset and fast DataLoaders

This notebook builds what every training notebook uses:
1. deterministic, style-stratified **splits** that never put one painting in two splits;
2. a torch **Dataset** that decodes any image safely (CMYK, grey, 16-bit, EXIF-rotated; damaged files
   skipped, never crashing an epoch) and returns the three labels with `-1` where unknown;
3. `torchvision.transforms.v2` pipelines for training and evaluation;
4. a **DataLoader** and how many images per second it delivers.
"""),
    code(SETUP),
    params('''
DATA_DIR = None      # a dataset directory with metadata.csv; None = the embedded synthetic sample
PROFILE = "sample"   # "sample" (CPU, minutes) or "full" (real WikiArt)
SAMPLE_N, SAMPLE_SIZE = 2000, 96
IMAGE_SIZE = 64      # 224 for the full dataset on a GPU
BATCH_SIZE = 32
WORKERS = 0          # DataLoader worker processes (Colab: 2)
FIGURES = "../figures"'''),
    code('''
from pathlib import Path
import pandas as pd
import torch
import wikiart_utils as wu
from wikiart_utils import data, eda, index, plots, splits

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR, SAMPLE_N, SAMPLE_SIZE)
meta = index.read_metadata(root)'''),
    md("""
## Splits

`index` assigned each painting to train / val / test (80/10/10) by hashing its file name with a seed:
deterministic on any machine, stratified by style, and grouped so that a painting filed under two styles
or two byte-identical files share one split. The counts per split and task:
"""),
    code("eda.split_sizes(meta)"),
    md("Stratification keeps each style's share nearly equal across splits (the ten most frequent styles):"),
    code("eda.split_balance(meta, 'style').head(10).round(3)"),
    md("A check worth keeping in any project: no painting (same file name or same bytes) in two splits."),
    code('''
groups = pd.Series(splits.painting_groups(meta.path.tolist(), meta.sha256.tolist()))
leaks = meta.groupby(groups.values).split.nunique().gt(1).sum()
print(f"{groups.nunique()} paintings in {len(meta)} files; paintings in more than one split: {leaks}")'''),
    md("""
## The Dataset

`WikiArtDataset(root, split, image_size)` returns `(image, targets)`: a normalised float tensor and the
three class indices in the order artist, genre, style — `-1` where unknown.
"""),
    code('''
train_set = data.WikiArtDataset(root, "train", IMAGE_SIZE)
val_set = data.WikiArtDataset(root, "val", IMAGE_SIZE)
image, targets = train_set[0]
print(len(train_set), "train /", len(val_set), "val images")
print("image:", tuple(image.shape), image.dtype, "| targets (artist, genre, style):", targets.tolist())
print({task: wu.labels.decode(task, int(t)) or "(unknown)" for task, t in zip(wu.labels.TASKS, targets)})'''),
    md("""
## Transforms

Training: a random crop of 35–100% of the painting resized to `IMAGE_SIZE`, a horizontal flip and mild
colour jitter (style lives in colour, so we jitter little). Evaluation: resize the short side and take
the centre. Both end with ImageNet normalisation, which pretrained backbones expect.
"""),
    code("print(train_set.transform)\nprint(val_set.transform)"),
    code('''
original = train_set.load(0)
views = [data.denormalize(train_set.transform(original)) for _ in range(7)]
plots.image_grid([original] + views, ["original"] + [f"train view {i + 1}" for i in range(7)], ncols=8,
                 path=f"{FIGURES}/02_augmentations.png");'''),
    md("## A labelled batch"),
    code('''
loader = data.make_loader(train_set, batch_size=BATCH_SIZE, shuffle=True, workers=WORKERS, seed=0)
images, targets = next(iter(loader))
captions = ["\\n".join(wu.labels.decode(t, int(v))[:22] or f"({t}?)" for t, v in zip(wu.labels.TASKS, row))
            for row in targets[:16]]
plots.image_grid(data.denormalize(images[:16]), captions, ncols=8, path=f"{FIGURES}/02_batch_grid.png")
print("batch:", tuple(images.shape), "targets:", tuple(targets.shape),
      "| unknown per task:", dict(zip(wu.labels.TASKS, (targets == -1).sum(0).tolist())))'''),
    md("""
## Throughput

How many images per second does the loader deliver? A GPU trains ResNet-18 at thousands of images per
second; on the full dataset, decode the original JPEGs once into a prepared 256-px copy
(`python -m wikiart_utils prepare`) and use 2+ workers. The numbers below depend on your machine.
"""),
    code('''
# NBVAL_IGNORE_OUTPUT
for workers in (0, 2):
    loader = data.make_loader(train_set, batch_size=BATCH_SIZE, shuffle=True, workers=workers)
    print(f"workers={workers}:", data.measure_throughput(loader, max_batches=10))'''),
    md("""
**Take-aways.** Splits are grouped by painting and stratified by style; the Dataset keeps unknown labels as
`-1`, which the loss ignores; decoding, not the model, is usually the bottleneck on a 2-core machine.
Next: `03_train_resnet18_lstm_patch.ipynb`.
"""),
]


def build(names):
    for name, cells in NOTEBOOKS.items():
        if names and not any(name.startswith(n) for n in names):
            continue
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        path = ROOT / "notebooks" / f"{name}.ipynb"
        nbformat.write(nb, path)
        print("wrote", path.relative_to(ROOT))


if __name__ == "__main__":
    build(sys.argv[1:])
