"""The course's default training recipe against a plain torchvision loop, on the same real split and budget.

    python benchmarks/recipe_vs_plain.py --data data/wikiart-subset-112 --epochs 6 --image-size 96 \
        --train-limit 6000 --save benchmarks/results/recipe-DATE.json

Both train a ResNet-18 from scratch (no ImageNet weights) on the same training paintings (the train split
of `--data`, or the style-stratified part `splits.stratified_part` keeps with `--train-limit`, as
`train --train-limit` does) for the same epochs, image size and batch size, and are scored on the whole
test split of `--data` with 95% bootstrap intervals:

* **plain**: ~30 lines of torchvision, style only: `resnet18(num_classes=<styles present>)`, AdamW
  (lr 2e-3, wd 0.05), OneCycleLR, RandomResizedCrop(scale 0.5-1) + horizontal flip, cross entropy, the
  last epoch's weights; test images resized to the image size.
* **course**: `wikiart_utils.train.train(variant=...)` with its defaults (three tasks, masked loss,
  best epoch on validation), then `wikiart_utils.evaluate.evaluate_checkpoint` on the test split;
* **course, style only** (`--style-only`): the same recipe and code with the artist and genre losses
  weighted 0 (`task_weights`), the plain loop's task: it separates what the recipe does from what
  sharing the network with two other tasks costs the style head.

With both sides it also prints the paired difference, course minus plain style top-1 on the same test
paintings with a 95% bootstrap interval over paintings: the verdict on "at least as good".

`--course-arg key=value` (repeatable) overrides one argument of `train.train`, to measure a change of recipe;
`--plain-cache FILE.npz` keeps the plain loop's test predictions, so that each such change is paired against
one run of the plain loop (deterministic on a CPU) instead of training it again.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

from wikiart_utils import data, engine, evaluate, images, labels, losses, metadata, metrics, models, splits, train


# --------------------------------------------------------------------------- the plain loop

class StyleFolder(Dataset):
    def __init__(self, root: Path, rows: pd.DataFrame, classes: list[str], transform):
        self.paths = [root / p for p in rows["path"]]
        self.targets = [classes.index(s) for s in rows["style"]]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        return self.transform(Image.open(self.paths[i]).convert("RGB")), self.targets[i]


class CourseInput(Dataset):
    """`--plain-input course`: the course's decoder and transforms (`data.train_transform` /
    `data.eval_transform`, uint8 out) and its `data.normalize`, in place of PIL and torchvision's."""

    def __init__(self, root: Path, rows: pd.DataFrame, classes: list[str], transform, size: int):
        self.paths = [root / p for p in rows["path"]]
        self.targets = [classes.index(s) for s in rows["style"]]
        self.transform = transform
        self.min_side = data.eval_resize(size)  # decoded as the course's Dataset decodes

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int):
        image = self.transform(images.decode(self.paths[i], min_side=self.min_side))
        return data.normalize(image), self.targets[i]


class StyleOfCourseModel(torch.nn.Module):
    """`--plain-model course`: the course's `resnet18_gap` network (backbone, pooling, dropout, 27-way style
    head) on the plain loop's normalised float images, its style logits only."""

    def __init__(self, size: int):
        super().__init__()
        self.net = models.build_model("resnet18_gap", pretrained=False, image_size=size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.head(self.net.backbone(x))["style"]


def plain_loop(root: Path, train_rows: pd.DataFrame, test_rows: pd.DataFrame, epochs: int, size: int,
               batch_size: int, workers: int, seed: int, classes_of: str = "present",
               input_path: str = "torchvision", model_of: str = "torchvision",
               step_of: str = "torchvision") -> tuple[np.ndarray, np.ndarray]:
    """Train the plain ResNet-18 on style; returns (test labels, test softmax over the 27 styles).
    Diagnostics: `classes_of` 'all' gives it the course's 27-way head; `input_path` 'course' the course's
    decoding and transforms; `model_of` 'course' the course's network (27-way, so `classes_of` is 'all');
    `step_of` 'course' (with both) its training step, `engine.train_one_epoch` with the masked loss."""
    torch.manual_seed(seed)
    classes = sorted(set(train_rows["style"]) | set(test_rows["style"])) \
        if classes_of == "present" and model_of == "torchvision" and input_path != "course-loader" \
        else list(labels.vocab("style"))
    if input_path in ("course", "course-loader"):
        train_tf = data.train_transform(size, crop_scale=0.5, color_jitter=0.0)
        train_set = CourseInput(root, train_rows, classes, train_tf, size)
        test_set = CourseInput(root, test_rows, classes, v2.Resize((size, size), antialias=True), size)
    else:
        norm = [v2.ToImage(), v2.ToDtype(torch.float32, scale=True),
                v2.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])]
        train_tf = v2.Compose([v2.RandomResizedCrop(size, scale=(0.5, 1.0)), v2.RandomHorizontalFlip(), *norm])
        test_tf = v2.Compose([v2.Resize((size, size)), *norm])
        train_set = StyleFolder(root, train_rows, classes, train_tf)
        test_set = StyleFolder(root, test_rows, classes, test_tf)
    if input_path == "course-loader":  # the course's Dataset and loader (collation, workers, per-epoch reseed)
        course_set = data.WikiArtDataset(root, "train", size)
        position = {path: i for i, path in enumerate(course_set.paths)}
        course_set = torch.utils.data.Subset(course_set, [position[path] for path in train_rows["path"]])
        loader = data.make_loader(course_set, batch_size, shuffle=True, workers=workers, seed=seed, drop_last=True)
    else:
        loader = DataLoader(train_set, batch_size, shuffle=True, num_workers=workers, drop_last=True)
    model = torchvision.models.resnet18(num_classes=len(classes)) if model_of == "torchvision" \
        else StyleOfCourseModel(size)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=epochs * len(loader))
    if step_of == "course" and (model_of, input_path) != ("course", "course-loader"):
        raise SystemExit("--plain-step course needs --plain-model course --plain-input course-loader")
    style_loss = losses.MultitaskLoss(task_weights={"artist": 0.0, "genre": 0.0, "style": 1.0})
    for epoch in range(epochs):
        model.train()
        if input_path == "course-loader":
            loader.generator.manual_seed(seed + epoch)  # as train.train's set_epoch
        if step_of == "course":  # the course's step: engine.train_one_epoch, masked loss, style weighted alone
            stats = engine.train_one_epoch(model.net, style_loss, opt, loader, torch.device("cpu"), sched)
            print(f"plain epoch {epoch + 1}/{epochs}  (course step) mean loss {stats['train_loss']:.3f}", flush=True)
            continue
        for x, y in loader:
            if input_path == "course-loader":  # uint8 images, targets of the three tasks
                x, y = data.normalize(x), y[:, labels.TASKS.index("style")]
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"plain epoch {epoch + 1}/{epochs}  last batch loss {loss.item():.3f}", flush=True)
    model.eval()
    probs, ys = [], []
    with torch.no_grad():
        for x, y in DataLoader(test_set, 128, num_workers=workers):
            probs.append(model(x).softmax(1))
            ys.append(y)
    # back to the 27-style vocabulary, so both models are scored by the same code
    full = np.zeros((len(test_set), len(labels.vocab("style"))))
    full[:, [labels.vocab("style").index(c) for c in classes]] = torch.cat(probs).numpy()
    y27 = np.array([labels.vocab("style").index(classes[i]) for i in torch.cat(ys).tolist()])
    return y27, full


# --------------------------------------------------------------------------- side by side

SCORES = ("n", "top1", "top1_ci", "macro_f1", "macro_f1_ci", "majority_baseline")


def style_scores(y: np.ndarray, probs: np.ndarray, train_counts: np.ndarray) -> dict:
    m = metrics.task_metrics(y, probs, train_counts)
    return {k: m[k] for k in SCORES}


def course_side(data: Path, variant: str, out: Path, resume: bool, common: dict,
                overrides: dict) -> tuple[dict, pd.Series]:
    """Train (or resume) the course's run and score it on the whole test split; also returns whether each
    test painting's style was right (indexed by path), for the paired comparison."""
    start = time.time()
    run = train.train(data, variant, out, resume=resume, overwrite=not resume, **common, **overrides)
    scored, pred = evaluate.evaluate_checkpoint(data, run.best_path, split="test", workers=common["workers"])
    right = pd.Series(pred.probs["style"].argmax(1) == pred.y("style"), index=pred.meta["path"].to_numpy())
    return {"style": {k: scored["style"][k] for k in SCORES}, "best_epoch": run.best_epoch,
            "genre": {k: scored["genre"].get(k) for k in SCORES}, "artist": {k: scored["artist"].get(k) for k in SCORES},
            "checkpoint": str(out), "seconds": round(time.time() - start)}, right


def cached_plain(cache: Path | None, settings: dict, test_paths: list[str], run) -> tuple[np.ndarray, np.ndarray, bool]:
    """The plain loop's test labels and softmax: from `cache` (an .npz) when it holds a run of the same
    settings on the same test paintings, else from `run()`, then saved there. The plain loop is deterministic
    on a CPU (r12 and r29: the same 0.577 at seed 1), so recipe ablations can be paired against one run of it
    without training it again. Returns (labels, softmax, whether it came from the cache)."""
    key = json.dumps(settings, sort_keys=True)
    if cache is not None and cache.exists():
        stored = np.load(cache)
        if str(stored["settings"]) != key or stored["paths"].tolist() != list(test_paths):
            raise SystemExit(f"{cache} holds a plain run of other settings or test paintings: "
                             f"{stored['settings']} (delete it, or name another --plain-cache)")
        return stored["y"], stored["probs"], True
    y, probs = run()
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, y=y, probs=probs, paths=np.array(list(test_paths)), settings=np.array(key))
    return y, probs, False


def paired_difference(course_right: pd.Series, plain_right: pd.Series,
                      n_boot: int = metrics.BOOTSTRAP_RESAMPLES) -> dict:
    """Course minus plain style top-1 on the same test paintings (matched by path), with a paired 95%
    bootstrap interval over paintings (`metrics.paired_difference`)."""
    course = course_right.reindex(plain_right.index)
    if course.isna().any():
        raise SystemExit("the course and the plain loop were scored on different test paintings")
    d = metrics.paired_difference(course.to_numpy(dtype=bool), plain_right.to_numpy(dtype=bool), n_boot=n_boot)
    return {"n": d["n"], "course_minus_plain": d["difference"], "ci": d["ci"],
            "only_course_right": d["only_a_right"], "only_plain_right": d["only_b_right"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="dataset directory (metadata.csv with splits)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--image-size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-limit", type=int, default=None, help="style-stratified part of the train split")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", default="resnet18_gap")
    parser.add_argument("--course-arg", action="append", default=[], metavar="KEY=VALUE",
                        help="override one train.train argument (Python literal), e.g. label_smoothing=0.1")
    parser.add_argument("--skip-plain", action="store_true", help="run the course side only (recipe ablations)")
    parser.add_argument("--skip-course", action="store_true", help="run the plain side only (its diagnostics)")
    parser.add_argument("--plain-classes", choices=("present", "all"), default="present",
                        help="diagnostic: the plain head over the styles present (default) or all 27, as the course's")
    parser.add_argument("--plain-input", choices=("torchvision", "course", "course-loader"), default="torchvision",
                        help="diagnostic: PIL + torchvision transforms (default), the course's decoder and transforms, "
                             "or also the course's Dataset and DataLoader (course-loader)")
    parser.add_argument("--plain-model", choices=("torchvision", "course"), default="torchvision",
                        help="diagnostic: torchvision's resnet18 (default) or the course's resnet18_gap network")
    parser.add_argument("--plain-step", choices=("torchvision", "course"), default="torchvision",
                        help="diagnostic: the plain loop's own step (default) or engine.train_one_epoch with the "
                             "course's masked loss (needs --plain-model course --plain-input course-loader)")
    parser.add_argument("--style-only", action="store_true",
                        help="also train the course's recipe on style alone (artist and genre weighted 0)")
    parser.add_argument("--work", type=Path, default=Path("benchmarks/out/recipe"), help="checkpoints go here")
    parser.add_argument("--course-out", type=Path, default=None,
                        help="the course run's checkpoint directory (default: under --work); resumed if it holds one")
    parser.add_argument("--save", type=Path, default=None, help="write the JSON result here")
    parser.add_argument("--plain-cache", type=Path, default=None,
                        help="an .npz of the plain loop's test predictions: reused when it holds a run of the same "
                             "settings (pairs recipe ablations against one plain run), else trained and written")
    args = parser.parse_args()

    overrides = {k: ast.literal_eval(v) for k, v in (a.split("=", 1) for a in args.course_arg)}
    meta = metadata.read_metadata(args.data)
    train_rows = splits.stratified_part(meta[meta["split"] == "train"], args.train_limit)  # as --train-limit
    test_rows = meta[meta["split"] == "test"]
    counts = np.bincount([labels.encode("style", s) for s in train_rows["style"]], minlength=27)
    tag = "-".join(f"{k}={v}" for k, v in overrides.items()) or "default"
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "torch": torch.__version__, "data": str(args.data), "train_images": len(train_rows),
              "test_images": len(test_rows), "epochs": args.epochs, "image_size": args.image_size,
              "batch_size": args.batch_size, "seed": args.seed, "variant": args.variant,
              "course_overrides": overrides, "pretrained": False}
    common = dict(epochs=args.epochs, image_size=args.image_size, batch_size=args.batch_size, pretrained=False,
                  seed=args.seed, workers=args.workers, train_limit=args.train_limit, progress=False)
    out = args.course_out or args.work / f"course-{args.variant}-{tag}"
    result["plain_options"] = {"classes": args.plain_classes, "input": args.plain_input, "model": args.plain_model,
                               "step": args.plain_step}
    if not args.skip_course:
        result["course"], course_right = course_side(args.data, args.variant, out, args.course_out is not None,
                                                     common, overrides)
        print("course:", json.dumps(result["course"]), flush=True)
    if args.style_only:
        style_only = {**overrides, "task_weights": {"artist": 0.0, "genre": 0.0, "style": 1.0}}
        result["course_style_only"], _ = course_side(args.data, args.variant, args.work / f"course-{args.variant}-style-only",
                                                  False, common, style_only)
        print("course, style only:", json.dumps(result["course_style_only"]), flush=True)
    if not args.skip_plain:
        start = time.time()
        settings = {k: result[k] for k in ("data", "train_images", "epochs", "image_size", "batch_size", "seed")}
        y, probs, cached = cached_plain(args.plain_cache, {**settings, **result["plain_options"]}, test_rows["path"],
                                        lambda: plain_loop(args.data, train_rows, test_rows, args.epochs,
                                                           args.image_size, args.batch_size, args.workers, args.seed,
                                                           args.plain_classes, args.plain_input, args.plain_model,
                                                           args.plain_step))
        result["plain"] = {"style": metrics.to_jsonable(style_scores(y, probs, counts)),
                           "seconds": round(time.time() - start), "from_cache": str(args.plain_cache) if cached else None}
        print("plain: ", json.dumps(result["plain"]), flush=True)
        if "course" in result:
            plain_right = pd.Series(probs.argmax(1) == y, index=test_rows["path"].to_numpy())
            result["course_minus_plain"] = paired_difference(course_right, plain_right)
    for side in ("course", "course_style_only", "plain"):
        if side in result:
            s = result[side]["style"]
            print(f"{side:>17}: style top-1 {s['top1']:.3f} [{s['top1_ci'][0]:.3f}, {s['top1_ci'][1]:.3f}]  "
                  f"macro-F1 {s['macro_f1']:.3f}  (n = {s['n']}, majority baseline {s['majority_baseline']:.3f})")
    if "course_minus_plain" in result:
        d = result["course_minus_plain"]
        print(f"course - plain: style top-1 {d['course_minus_plain']:+.3f} [{d['ci'][0]:+.3f}, {d['ci'][1]:+.3f}] "
              f"paired over the same {d['n']} paintings ({d['only_course_right']} right only for the course, "
              f"{d['only_plain_right']} only for the plain loop)")
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(metrics.to_jsonable(result), indent=1) + "\n")


if __name__ == "__main__":
    main()
