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
# NBVAL_IGNORE_OUTPUT
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
                           path=f"{FIGURES}/01_style_genre_heatmap.png")'''),
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

`WikiArtDataset(root, split, image_size)` returns `(image, targets)`: the image as a uint8 tensor
`[3, H, W]` and the three class indices in the order artist, genre, style — `-1` where unknown.
Images stay uint8 until the model: its first step, `data.normalize`, applies the ImageNet normalisation
on the model's own device. The loader workers then skip a float pass over every pixel, and a batch
crossing to the GPU is 4x smaller. JPEGs are decoded by libjpeg-turbo already scaled down in the DCT
(a 1280x1024 painting comes out at 320x256 for 224 px), so no full-size image is ever built.
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
colour jitter (style lives in colour, so we jitter little). Evaluation: resize the short side to
256/224 of `IMAGE_SIZE` and take the centre crop, as torchvision's own eval transforms for its ImageNet
weights do. On a copy made by `prepare --size 256` that resize is a no-op. Neither pipeline normalises
(see above).
"""),
    code("print(train_set.transform)\nprint(val_set.transform)"),
    code('''
original = train_set.load(0)
views = [data.to_display(train_set.transform(original)) for _ in range(7)]
captions = ["original"] + [f"train view {i + 1}" for i in range(7)]
plots.image_grid([data.to_display(original)] + views, captions, ncols=8, path=f"{FIGURES}/02_augmentations.png")'''),
    md("## A labelled batch"),
    code('''
loader = data.make_loader(train_set, batch_size=BATCH_SIZE, shuffle=True, workers=WORKERS, seed=0)
images, targets = next(iter(loader))
captions = ["\\n".join(wu.labels.decode(t, int(v))[:22] or f"({t}?)" for t, v in zip(wu.labels.TASKS, row))
            for row in targets[:16]]
grid = plots.image_grid(data.to_display(images[:16]), captions, ncols=8, path=f"{FIGURES}/02_batch_grid.png")
print("batch:", tuple(images.shape), "targets:", tuple(targets.shape),
      "| unknown per task:", dict(zip(wu.labels.TASKS, (targets == -1).sum(0).tolist())))
grid'''),
    md("""
## Throughput

How many images per second does the loader deliver? A GPU trains ResNet-18 at thousands of images per
second; on the full dataset, decode the original JPEGs once into a prepared 256-px copy
(`python -m wikiart_utils prepare`) and use 2+ workers. The numbers below depend on your machine;
`python -m wikiart_utils bench loader` compares the pipelines side by side (`benchmarks/RESULTS.md`).
"""),
    code('''
# NBVAL_IGNORE_OUTPUT
for workers in (0, 2):
    loader = data.make_loader(train_set, batch_size=BATCH_SIZE, shuffle=True, workers=workers)
    print(f"workers={workers}:", data.measure_throughput(loader, max_batches=10))'''),
    md("""
The sample's small images hide what decoding real paintings costs. `bench.bench_loader` generates a few
photo-like 1280x1024 JPEGs (quality 90, ~300 KB, like WikiArt's files) and times, side by side on one
core, an older project's loader (full-size decode, then resize of a float tensor) against this Dataset
on the originals (DCT-scaled decoding) and on a `prepare --size 256` copy. The full-size run, with the
targets it is held to, is in `benchmarks/RESULTS.md`.
"""),
    code('''
# NBVAL_IGNORE_OUTPUT
from wikiart_utils import bench
print(bench.format_loader(bench.bench_loader(n=12, rounds=3)))'''),
    md("""
**Take-aways.** Splits are grouped by painting and stratified by style; the Dataset keeps unknown labels as
`-1`, which the loss ignores; decoding, not the model, is usually the bottleneck on a 2-core machine.
Next: `03_train_resnet18_lstm_patch.ipynb`.
"""),
]


TRAIN_PARAMS = """
DATA_DIR = None        # a dataset directory with metadata.csv; None = the embedded synthetic sample
PROFILE = "sample"     # "sample": CPU minutes on the sample | "full": recommended on the real WikiArt + a GPU
VARIANT = "{variant}"
SAMPLE_N, SAMPLE_SIZE = 2000, 96
SETTINGS = {{
    "sample": dict(image_size=64, epochs={epochs}, batch_size=32, pretrained=False, {sample_extra}workers=0),
    # full: ImageNet weights, 224 px, AMP (bf16/fp16, automatic on CUDA), backbone frozen for the first epoch
    "full": dict(image_size=224, epochs={full_epochs}, batch_size={full_batch}, pretrained=True, freeze_backbone=1, workers=8),
}}
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"
"""

TRAIN_IMPORTS = """
from pathlib import Path
import pandas as pd
import torch
import wikiart_utils as wu
from wikiart_utils import data, evaluate, models, train

torch.manual_seed(0)
Path(FIGURES).mkdir(exist_ok=True)
settings = SETTINGS[PROFILE]
root = data.dataset_dir(DATA_DIR, SAMPLE_N, SAMPLE_SIZE)
print(f"{VARIANT} on {PROFILE} settings:", settings)
"""


def shape_walk(extra=""):
    return code(f"""
model = models.build_model(VARIANT, pretrained=False, image_size=224)
for size in (64, 224):
    x = torch.zeros(2, 3, size, size)
    with torch.no_grad():
        tokens = model.tokens(x)
        logits = model.head(tokens)
    print(f"{{size}} px: images {{tuple(x.shape)}} -> tokens {{tuple(tokens.shape)}} -> "
          + ", ".join(f"{{t}} {{tuple(v.shape)}}" for t, v in logits.items()))
print(f"parameters: backbone {{sum(p.numel() for p in model.backbone.parameters()):,}}, "
      f"LSTM + heads {{sum(p.numel() for p in model.head_parameters()):,}}"){extra}""")


def train_cells(fig_prefix, variant_expr="VARIANT"):
    out = f'f"{{CHECKPOINTS}}/{{{variant_expr}}}"'
    return [
        code(f"""
# NBVAL_IGNORE_OUTPUT
result = train.train(root, {variant_expr}, out={out}, overwrite=True, seed=0, **settings)
print(f"best epoch {{result.best_epoch}} of {{result.epochs_done}}: val mean macro-F1 {{result.best_score:.3f}}")"""),
        md("The learning curves (also saved as `curves.png` beside the checkpoint):"),
        code(f"""
history = pd.read_csv(result.history_path)
fig = train.plot_curves(history.to_dict("records"))
fig.savefig(f"{{FIGURES}}/{fig_prefix}_curves_{{{variant_expr}}}.png", dpi=110, bbox_inches="tight")
print("history columns:", list(history.columns))
fig"""),
    ]


def val_cells(variant_expr="VARIANT"):
    return [
        md("""
Validation metrics of the best checkpoint, over labelled rows only, each beside the **majority baseline**
(always answer the most frequent training class) and chance, with 95% bootstrap intervals. The exact
values move a little between machines (floating-point order), so the table is not compared by nbval;
the check below it is.
"""),
        code(f"""
# NBVAL_IGNORE_OUTPUT
val_result, _ = evaluate.evaluate_checkpoint(root, result.best_path, split="val", workers=0)
evaluate.summary_table(val_result)"""),
        code("""
style = val_result["style"]
print(f"style: n = {style['n']}; beats the majority baseline by at least 10 points:",
      style["top1"] - style["majority_baseline"] >= 0.10)"""),
    ]


NOTEBOOKS["03_train_resnet18_lstm_patch"] = [
    md("""
# 03 · ResNet-18 → LSTM over image patches

The first model: a ResNet-18 turns the painting into a grid of feature vectors, and an LSTM reads that
grid **position by position** (row-major), like a viewer scanning the canvas. Its final state feeds three
linear heads — artist (128), genre (10), style (27) — trained together with one masked loss: an unknown
artist or genre contributes nothing, it is not a class.

This notebook: the shapes through the model, training on the sample (from scratch, a CPU, ~2 minutes),
learning curves, and validation metrics against the majority baseline. The `full` profile in the
parameters cell holds the settings we recommend for the real WikiArt on a GPU.
"""),
    code(SETUP),
    params(TRAIN_PARAMS.format(variant="resnet18_lstm_patch", epochs=6, sample_extra="freeze_backbone=0, ", full_epochs=15,
                               full_batch=128)),
    code(TRAIN_IMPORTS),
    md("""
## Shapes

ResNet-18 downsamples by 32: a 224-px painting becomes a 7×7 grid of 512-d vectors, i.e. **49 tokens**;
at the sample's 64 px it is 2×2 = 4 tokens. The LSTM (hidden size 256) reads them in order; the heads
read its last hidden state.
"""),
    shape_walk(),
    md("""
## Training

`train.train` is the same function as `python -m wikiart_utils train`. From scratch it uses a higher
learning rate (2e-3) with warm-up and cosine decay; with ImageNet weights, 3e-4 for the LSTM and heads
and a tenth of it for the backbone. It keeps the best epoch by validation mean macro-F1 (`best.pt`),
and `last.pt` for `--resume`. Timings depend on your machine, so the log is not compared by nbval.
"""),
    *train_cells("03"),
    *val_cells(),
    md("""
**Same run from the command line:**

```bash
python -m wikiart_utils train --data data/sample --variant resnet18_lstm_patch --out checkpoints/resnet18_lstm_patch \\
    --epochs 6 --image-size 64 --batch-size 32 --no-pretrained --workers 0
# real WikiArt on a GPU (the "full" profile):
python -m wikiart_utils train --data data/wikiart-256 --variant resnet18_lstm_patch --out checkpoints/patch-full \\
    --epochs 15 --image-size 224 --batch-size 128 --freeze-backbone 1 --workers 8
```

Next: `04` asks whether the LSTM should read space at all.
"""),
]

NOTEBOOKS["04_train_resnet18_lstm_flatten"] = [
    md("""
# 04 · ResNet-18 → LSTM over channels, and the no-LSTM ablation

Notebook 03's LSTM walked over **positions**. Here the same ResNet-18 feature map is read the other way:
each of its **512 channels** becomes one token, holding that channel's spatial map (pooled to 7×7, so a
49-d token at any image size). The sequence now runs over feature detectors rather than over the canvas.
Channel order carries no meaning, so this asks a real question: does recurrence help because it
aggregates *where* things are, or merely because it is a learned pooling?

To answer it we also train **`resnet18_gap`**: the same backbone, global average pooling, no LSTM at all.
Notebook 07 compares all of them on the same test split.
"""),
    code(SETUP),
    params(TRAIN_PARAMS.format(variant="resnet18_lstm_flatten", epochs=6, sample_extra="freeze_backbone=0, ", full_epochs=15,
                               full_batch=128) + 'ABLATION = "resnet18_gap"\n'),
    code(TRAIN_IMPORTS),
    md("## Shapes: 512 tokens of 49 values, whatever the image size"),
    shape_walk(),
    md("## Training the channel-sequence model"),
    *train_cells("04"),
    *val_cells(),
    md("""
## The ablation: no recurrence

Same backbone, same budget, global average pooling straight into the heads.
"""),
    code("""
# NBVAL_IGNORE_OUTPUT
gap = train.train(root, ABLATION, out=f"{CHECKPOINTS}/{ABLATION}", overwrite=True, seed=0, **settings)
gap_result, _ = evaluate.evaluate_checkpoint(root, gap.best_path, split="val", workers=0)
pd.concat({VARIANT: evaluate.summary_table(val_result), ABLATION: evaluate.summary_table(gap_result)})"""),
    md("""
Read the two blocks against their intervals: where they overlap, this much data cannot separate the
models; where they do not, the sequence over channels is a real difference — better or worse than plain
pooling. On the sample the synthetic style and genre cues are global (palette, texture, layout), which
pooling captures directly; whether reading space or channels pays off on real paintings is the question
worth the GPU hours. Notebook 07 compares every run on the test split.
"""),
]


CACHED_NOTE = """
## Training on a budget: a frozen backbone and cached features

A frozen backbone computes the same tokens for a painting every epoch, so we compute them **once** per
split, store them as a float16 memory map, and train only the LSTM and heads on them
(`cached_features=True`, or `train --freeze-backbone --cached-features` on the command line). An epoch
then costs the LSTM alone. The price: no augmentation (a cached view is frozen too).

On the sample the backbone is *randomly initialised* (no download), so this shows how much a sequence
model can read from random convolutional features — colour and texture survive them. With ImageNet
weights (`full` profile) you would cache pretrained features first and fine-tune end to end after.
"""

NOTEBOOKS["05_train_vgg16_lstm"] = [
    md("""
# 05 · VGG-16 → LSTM

VGG-16 is the classic "deep and plain" CNN: 13 convolutions in five blocks, each ending in a max-pool.
Its convolutional part (14.7M parameters; we drop the 100M-parameter classifier) maps a 224-px painting
to 7×7×512, the same grid shape as ResNet-18 — so the LSTM reads **49 spatial tokens of 512-d**, but each
token costs ~8× the compute to produce. That cost is why this notebook trains with a frozen backbone and
cached features on a CPU.
"""),
    code(SETUP),
    params(TRAIN_PARAMS.format(variant="vgg16_lstm", epochs=15,
                               sample_extra="freeze_backbone=True, cached_features=True, ",
                               full_epochs=10, full_batch=64)),
    code(TRAIN_IMPORTS),
    md("## Shapes: five pools, /32"),
    shape_walk(),
    md(CACHED_NOTE),
    *train_cells("05"),
    *val_cells(),
    md("""
**Full dataset on a GPU:** `PROFILE="full"` — ImageNet weights, 224 px, the backbone frozen for the first
epoch and then fine-tuned at a tenth of the head's learning rate, AMP on. From the command line:

```bash
python -m wikiart_utils train --data data/wikiart-256 --variant vgg16_lstm --out checkpoints/vgg-full \\
    --epochs 10 --image-size 224 --batch-size 64 --freeze-backbone 1 --workers 8
```
"""),
]

NOTEBOOKS["06_train_vit_b16_lstm"] = [
    md("""
# 06 · ViT-B/16 → LSTM over patch tokens

A Vision Transformer cuts the painting into 16×16-px patches, embeds each as a 768-d token and lets 12
self-attention layers mix them. Here the LSTM reads **every patch token** of the encoder's output (196 at
224 px, 16 at 64 px) followed by the class token — not a sequence of length one made of the class token
alone, which would leave the LSTM nothing to read.

Other image sizes work: the model is built for `image_size` (a multiple of 16) and interpolates its
position embeddings, both when loading ImageNet weights made for 224 px and on the fly for other inputs.
With 86M backbone parameters, the CPU run again uses a frozen, cached backbone.
"""),
    code(SETUP),
    params(TRAIN_PARAMS.format(variant="vit_b16_lstm", epochs=15,
                               sample_extra="freeze_backbone=True, cached_features=True, ",
                               full_epochs=10, full_batch=64)),
    code(TRAIN_IMPORTS),
    md("## Shapes: (size/16)² patch tokens + the class token"),
    shape_walk(),
    md(CACHED_NOTE),
    *train_cells("06"),
    *val_cells(),
    md("""
**Full dataset on a GPU:** `PROFILE="full"` (ImageNet weights, 224 px, AMP, batch 64 fits a 16-GB GPU with
bf16/fp16). Consider `--lr 1e-4` when fine-tuning the whole transformer.

```bash
python -m wikiart_utils train --data data/wikiart-256 --variant vit_b16_lstm --out checkpoints/vit-full \\
    --epochs 10 --image-size 224 --batch-size 64 --freeze-backbone 1 --workers 8
```

Next: `07` evaluates and compares every run.
"""),
]


NOTEBOOKS["07_evaluate_and_compare"] = [
    md("""
# 07 · Honest numbers: evaluation, errors, and comparison

The part you put in a report. For the main model on the **test split**:
1. metrics per task over labelled rows — `n`, top-1/top-5, macro-F1, balanced accuracy — beside the
   majority baseline and chance, with 95% bootstrap intervals (`metrics.json`, `predictions.csv`);
2. confusion matrices (row-normalised; the 128 artists shown as the most frequent 20 and in full);
3. galleries of paintings right on all three tasks, two, one or none, and the most-confused pairs;
4. per-class F1 against training frequency: what the long tail costs;
5. outliers — paintings whose label the model confidently contradicts — and the most uncertain ones;
6. Grad-CAM: where the evidence for a prediction lies;
7. every trained variant compared on the same split, and what an older labelling convention does to
   artist accuracy.
"""),
    code(SETUP),
    params("""
DATA_DIR = None        # a dataset directory with metadata.csv; None = the embedded synthetic sample
PROFILE = "sample"
SAMPLE_N, SAMPLE_SIZE = 2000, 96
SPLIT = "test"
MAIN = "resnet18_lstm_patch"   # the run under checkpoints/ examined in detail
CHECKPOINTS = "../checkpoints"
FIGURES = "../figures"
N_BOOT = 1000
"""),
    code("""
from pathlib import Path
import numpy as np
import pandas as pd
import wikiart_utils as wu
from wikiart_utils import data, evaluate, labels, metrics, plots

Path(FIGURES).mkdir(exist_ok=True)
root = data.dataset_dir(DATA_DIR, SAMPLE_N, SAMPLE_SIZE)
runs = {name: path for name, path in evaluate.find_checkpoints(CHECKPOINTS).items()
        if not name.endswith("_unknown_as_class")}  # that one is trained at the end of this notebook
print("trained runs:", list(runs))"""),
    md("""
## Metrics of the main model

`evaluate_checkpoint` is `python -m wikiart_utils evaluate`; it also writes `metrics.json`,
`predictions.csv` and per-class reports next to the checkpoint. The counts `n` are the labelled test
rows per task (unknown artists and genres excluded); they are checked by nbval, the scores are not
(they move slightly across machines).
"""),
    code("""
report_dir = runs[MAIN].parent / f"eval_{SPLIT}"
result, pred = evaluate.evaluate_checkpoint(root, runs[MAIN], report_dir, split=SPLIT, workers=0, n_boot=N_BOOT)
written = [f for f in ("metrics.json", "predictions.csv", "per_class_artist.csv") if (report_dir / f).is_file()]
print({task: result[task]["n"] for task in labels.TASKS}, "| wrote:", written, "...")"""),
    code("""
# NBVAL_IGNORE_OUTPUT
evaluate.summary_table(result)"""),
    md("## Confusion matrices (rows: true class, normalised)"),
    code("""
counts = evaluate.train_counts(root)
for task, top_n in (("genre", None), ("style", None), ("artist", 20), ("artist", None)):
    cm = metrics.confusion(pred.y(task), pred.probs[task], labels.num_classes()[task], normalize=None)
    name = f"07_confusion_{task}" + (f"_top{top_n}" if top_n else "")
    display(plots.confusion_matrix_plot(cm, labels.vocab(task), title=f"{task} ({SPLIT})", top_n=top_n,
                                        counts=counts[task], path=f"{FIGURES}/{name}.png"))
print("saved confusion matrices for", labels.TASKS)"""),
    md("## Galleries: right on all three tasks, two, one, none"),
    code("""
# NBVAL_IGNORE_OUTPUT
test_set = data.WikiArtDataset(root, SPLIT, 224, train=False)
correct = metrics.correct_matrix({t: pred.y(t) for t in labels.TASKS}, pred.probs)
groups = metrics.gallery_groups(correct)
print(sum(len(v) for v in groups.values()), "test paintings with all three labels known")
for k, rows in groups.items():
    imgs, caps, cols = evaluate.gallery(pred, rows[:8], test_set)
    display(plots.image_grid(imgs, caps, ncols=8, colors=cols, title=f"right on {k} of 3 tasks",
                             path=f"{FIGURES}/07_gallery_{k}_right.png"))"""),
    md("Which classes does the model mix up most? (count, and share of the true class's rows)"),
    code("""
# NBVAL_IGNORE_OUTPUT
pd.concat({t: metrics.most_confused_pairs(pred.y(t), pred.probs[t], labels.vocab(t), k=5) for t in ("style", "genre")})"""),
    md("""
## What the long tail costs

Per-class F1 against the number of training paintings of that class (log scale): rare classes are
where the model fails, which top-1 accuracy hides and macro-F1 shows.
"""),
    code("""
reports = {t: metrics.per_class_report(pred.y(t), pred.probs[t], labels.vocab(t), counts[t]) for t in labels.TASKS}
print({t: int((r.support > 0).sum()) for t, r in reports.items()}, "classes with test paintings")
plots.per_class_f1_vs_count(reports, title=f"per-class F1 vs training count ({SPLIT})",
                            path=f"{FIGURES}/07_f1_vs_count.png")"""),
    md("""
## Outliers and uncertain paintings

*Confident contradictions*: the model gives the given style under 10% probability while it is at least
60% sure of another — candidates for a mislabelled or atypical painting. *Most uncertain*: highest
predictive entropy. Both go to a CSV for review.
"""),
    code("""
# NBVAL_IGNORE_OUTPUT
style_y, style_p = pred.y("style"), pred.probs["style"]
flagged = metrics.outliers(style_y, style_p, k=8, max_label_prob=0.10, min_pred_prob=0.60)
unsure = metrics.most_uncertain(style_p, k=8)
table = evaluate.predictions_table(pred, top_k=1)
review = pd.concat({"contradiction": table.iloc[flagged], "uncertain": table.iloc[unsure]}, names=["kind", "row"])
review.to_csv(report_dir / "style_outliers.csv")
for name, rows in (("contradictions", flagged), ("uncertain", unsure)):
    imgs, caps, cols = evaluate.gallery(pred, rows, test_set)
    display(plots.image_grid(imgs, caps, ncols=8, colors=cols, title=f"style {name}",
                             path=f"{FIGURES}/07_outliers_{name}.png"))"""),
    md("## Grad-CAM: where is the evidence?"),
    code("""
model, ckpt = wu.train.load_checkpoint(runs[MAIN])
size = ckpt["model_config"]["image_size"]
view = data.WikiArtDataset(root, SPLIT, size, train=False)
overlays, captions = [], []
for i in np.linspace(0, len(view) - 1, 6).astype(int):  # spread over the (style-sorted) split
    image, _ = view[int(i)]
    for task in ("style", "genre"):
        cam = evaluate.gradcam(model, image, task)
        overlays.append(plots.overlay_heatmap(data.to_display(image), cam))
        captions.append(f"{task}: {labels.decode(task, int(model(image[None])[task].argmax()))[:20]}")
print(len(overlays), "Grad-CAM maps at", size, "px")
plots.image_grid(overlays, captions, ncols=6, path=f"{FIGURES}/07_gradcam.png")"""),
    md("""
## All variants on the same test split

Top-1 with 95% intervals for every trained run, the GAP ablation included, with the majority baseline
(dashed) and chance (dotted). Overlapping intervals mean the sample cannot tell the models apart.
"""),
    code("""
# NBVAL_IGNORE_OUTPUT
results = {name: evaluate.evaluate_checkpoint(root, path, split=SPLIT, workers=0, n_boot=N_BOOT)[0]
           for name, path in runs.items()}
comparison = evaluate.compare(results)
display(plots.comparison_chart(comparison, title=f"top-1 on {SPLIT} ({PROFILE})", path=f"{FIGURES}/07_comparison.png"))
comparison.round(3)"""),
    md("""
## An older convention, measured

An earlier public CNN-LSTM WikiArt project reported **65.18% artist / 65.92% genre / 57.70% style** top-1.
Its artist labels put every painting by a less represented artist into one real artist's class
(`albrecht-durer`): on its 6,109-row test list that class holds 3,176 rows, **52.0%** — so always
answering "Dürer" scores 52.0% artist accuracy there. We reproduce the convention on our data: train the
main variant with unknown artists labelled as Dürer (`--unknown-as-class albrecht-durer`), and score it
that way and honestly.
"""),
    code("""
# NBVAL_IGNORE_OUTPUT
legacy_dir = Path(CHECKPOINTS) / f"{MAIN}_unknown_as_class"
main_args = wu.train.load_checkpoint(runs[MAIN])[1]["train_args"]  # same settings as the main run
legacy = wu.train.train(root, MAIN, out=legacy_dir, epochs=main_args["epochs"], image_size=main_args["image_size"],
                        batch_size=main_args["batch_size"], pretrained=main_args["pretrained"], workers=0,
                        overwrite=True, unknown_as_class="albrecht-durer")"""),
    code("""
inflated, _ = evaluate.evaluate_checkpoint(root, legacy.best_path, split=SPLIT, workers=0, n_boot=N_BOOT,
                                           unknown_as_class="albrecht-durer")
honest = result["artist"]
print(f"artist rows scored: honest n = {honest['n']}, older convention n = {inflated['artist']['n']}")
print(f"majority baseline: honest {honest['majority_baseline']:.1%}, older convention {inflated['artist']['majority_baseline']:.1%}")"""),
    code("""
# NBVAL_IGNORE_OUTPUT
pd.DataFrame({"honest (unknown = missing)": [honest["top1"], honest["majority_baseline"], honest["macro_f1"]],
              "older convention (unknown = Durer)": [inflated["artist"]["top1"], inflated["artist"]["majority_baseline"],
                                                    inflated["artist"]["macro_f1"]],
              "older project, reported": [evaluate.OLDER_PROJECT["reported_top1"]["artist"],
                                          evaluate.OLDER_PROJECT["majority_artist_share"], None]},
             index=["artist top-1", "majority baseline", "macro-F1"]).round(3)"""),
    md("""
**Reading it.** Under the older convention almost half of the artist "labels" are one class, so the
baseline alone is ~50% and a model's artist accuracy rises with it while telling us nothing more about
painters. Report artist metrics over the 128 known painters, with their baseline and interval.
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
