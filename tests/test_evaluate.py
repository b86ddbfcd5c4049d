"""evaluate / predict on a real (tiny) checkpoint, and the older project's protocol in ../shared."""
import json

import numpy as np
import pandas as pd
import pytest

from wikiart_utils import cli, evaluate, labels, train

KEYS = {"n", "top1", "top5", "macro_f1", "balanced_accuracy", "precision", "recall", "f1",
        "majority_baseline", "chance", "top1_ci", "macro_f1_ci"}


@pytest.fixture(scope="module")
def checkpoint(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt")
    train.train(sample_dir, "resnet18_gap", out=out, epochs=1, image_size=32, batch_size=16, pretrained=False,
                workers=0, limit_batches=3, progress=False)
    return out / "best.pt"


def test_evaluate_cli_writes_metrics_predictions_and_reports(sample_dir, checkpoint, tmp_path, capsys):
    out = tmp_path / "report"
    code = cli.main(["evaluate", "--data", str(sample_dir), "--checkpoint", str(checkpoint), "--out", str(out),
                     "--workers", "0", "--n-boot", "100"])
    assert code == 0
    result = json.loads((out / "metrics.json").read_text())
    test_meta = pd.read_csv(sample_dir / "metadata.csv", keep_default_na=False).query("split == 'test'")
    for task in labels.TASKS:
        assert KEYS <= set(result[task]), task
        assert result[task]["n"] == int((test_meta[task] != "").sum())  # labelled rows only
        lo, hi = result[task]["top1_ci"]
        assert lo <= result[task]["top1"] <= hi
    predictions = pd.read_csv(out / "predictions.csv", keep_default_na=False)
    assert len(predictions) == len(test_meta)
    assert {"path", "true_artist", "artist_pred1", "artist_prob1", "style_pred5", "style_prob5"} <= set(predictions)
    assert np.all(np.diff(predictions[[f"style_prob{k}" for k in range(1, 6)]].to_numpy(), axis=1) <= 1e-9)
    for task in labels.TASKS:
        report = pd.read_csv(out / f"per_class_{task}.csv")
        assert len(report) == labels.num_classes()[task]
    assert "top1" in capsys.readouterr().out


def test_task_without_labelled_rows_gives_n_zero(sample_dir, checkpoint, tmp_path):
    data = tmp_path / "data"
    meta = pd.read_csv(sample_dir / "metadata.csv", keep_default_na=False)
    meta.loc[meta.split == "test", "artist"] = ""
    data.mkdir()
    for rel in meta.path:
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).symlink_to(sample_dir / rel)
    meta.to_csv(data / "metadata.csv", index=False)
    result, _ = evaluate.evaluate_checkpoint(data, checkpoint, workers=0, n_boot=50)
    assert result["artist"]["n"] == 0 and "top1" not in result["artist"]
    assert result["style"]["n"] > 0


def test_unknown_as_class_scores_every_row_as_one_artist(sample_dir, checkpoint):
    honest, _ = evaluate.evaluate_checkpoint(sample_dir, checkpoint, workers=0, n_boot=50)
    folded, _ = evaluate.evaluate_checkpoint(sample_dir, checkpoint, workers=0, n_boot=50,
                                             unknown_as_class="albrecht-durer")
    assert folded["artist"]["n"] == folded["style"]["n"] > honest["artist"]["n"]
    assert folded["artist"]["majority_baseline"] > honest["artist"]["majority_baseline"]
    with pytest.raises(ValueError, match="not one of the 128 artists"):
        evaluate.evaluate_checkpoint(sample_dir, checkpoint, unknown_as_class="nobody")


def test_predict_cli_top_k_json_and_a_bad_file(sample_dir, checkpoint, tmp_path, capsys):
    image = next(sample_dir.glob("*/*.jpg"))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    code = cli.main(["predict", "--checkpoint", str(checkpoint), str(image), "--top-k", "3", "--json"])
    assert code == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert [len(entry[t]) for t in labels.TASKS] == [3, 3, 3]
    assert abs(sum(p for _, p in entry["style"])) <= 1.0 + 1e-6
    with pytest.raises(SystemExit) as stop:
        cli.main(["predict", "--checkpoint", str(checkpoint), str(image), str(bad)])
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert image.name in captured.out
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"{bad}: error:") and "Traceback" not in captured.err


def test_predict_refuses_an_unsafe_checkpoint_in_one_line(tmp_path, capsys):
    bogus = tmp_path / "bogus.pt"
    bogus.write_bytes(b"\x80\x04K\x01.")
    assert cli.main(["predict", "--checkpoint", str(bogus), "x.jpg"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error:") and "bogus.pt" in line


def test_older_project_protocol_folds_unknown_artists_into_durer(shared_dir):
    table = evaluate.read_seed_protocol(shared_dir / "seed-protocol" / "test_data.csv",
                                        shared_dir / "seed-protocol" / "artist_class.csv")
    summary = evaluate.seed_protocol_summary(table)
    assert summary == {"rows": 6109, "majority_class": "albrecht-durer", "majority_rows": 3176,
                       "majority_share": 0.5199, "rows_labelled_with_another_painter": 3114}
    assert abs(evaluate.OLDER_PROJECT["majority_artist_share"] - summary["majority_share"]) < 1e-4
