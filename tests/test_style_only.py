"""A folder of real paintings with style folders only -- no artist in the file names, no genre file:
train, evaluate and predict run to the end (exit 0, no traceback); the tasks with no labelled row get
n = 0, no per-class report, and '—' in the logs instead of nan."""
from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from wikiart_utils import cli, metadata
from wikiart_utils.ingest import index

from conftest import REPO_ROOT

REAL = REPO_ROOT / "data" / "real-sample"


@pytest.fixture(scope="module")
def style_only(tmp_path_factory):
    meta = metadata.read_metadata(REAL)
    root = tmp_path_factory.mktemp("style-only") / "paintings"
    picked = pd.concat([g.head(15) for _, g in meta.groupby("style")])
    for i, rel in enumerate(picked["path"]):
        dest = root / rel.split("/")[0] / f"painting-{i:03d}.jpg"  # no <artist>_ prefix: no artist label
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REAL / rel, dest)
    report = index.index_dataset(root, workers=1)
    assert report.n_artist == report.n_genre == 0 and report.n_images == len(picked)
    return root


def test_train_evaluate_predict_on_a_style_only_folder(style_only, tmp_path, capsys):
    run = tmp_path / "run"
    code = cli.main(["train", "--data", str(style_only), "--variant", "resnet18_gap", "--out", str(run),
                     "--epochs", "1", "--image-size", "32", "--batch-size", "16", "--no-pretrained", "--workers", "0",
                     "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, err
    assert "artist F1 —  genre F1 —  style F1 0." in out and "nan" not in out

    reports = tmp_path / "reports"
    code = cli.main(["evaluate", "--data", str(style_only), "--checkpoint", str(run / "best.pt"),
                     "--out", str(reports), "--workers", "0", "--n-boot", "50"])
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err and "error" not in err, err
    result = json.loads((reports / "metrics.json").read_text())
    assert result["artist"]["n"] == result["genre"]["n"] == 0 and result["style"]["n"] > 0
    assert (reports / "per_class_style.csv").is_file()
    assert not (reports / "per_class_artist.csv").exists() and not (reports / "per_class_genre.csv").exists()
    assert "nan" not in out.lower()

    painting = next(style_only.rglob("*.jpg"))
    code = cli.main(["predict", "--checkpoint", str(run / "best.pt"), str(painting), "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and len(json.loads(out)[0]["style"]) == 5
