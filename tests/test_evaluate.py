"""evaluate / predict on a real (tiny) checkpoint, and the older project's protocol in ../shared."""
import json

import numpy as np
import pandas as pd
import pytest

from wikiart_utils import cli, evaluate, gradcam, labels, lesson, train

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


# --------------------------------------------------------------------------- Grad-CAM, galleries, comparisons

def test_gradcam_reads_a_map_of_at_least_7x7_cells():
    from wikiart_utils import models
    torch = pytest.importorskip("torch")
    image = torch.randint(0, 256, (3, 64, 64), dtype=torch.uint8)
    for variant in ("resnet18_lstm_patch", "resnet18_gap", "resnet18_lstm_flatten", "vgg16_lstm"):
        model = models.build_model(variant, image_size=64)
        layer, h, w = gradcam.gradcam_layer(model)
        assert min(h, w) >= gradcam.MIN_CAM_CELLS, (variant, layer, h, w)
        cam = gradcam.gradcam(model, image, "style")
        assert cam.shape == (64, 64) and 0.0 <= cam.min() and cam.max() <= 1.0
    assert gradcam.gradcam_layer(models.build_model("resnet18_gap", image_size=64))[0] == "layer2"  # layer4 is 2x2
    assert gradcam.gradcam_layer(models.build_model("resnet18_gap", image_size=224))[0] == "layer4"


def test_gradcam_of_a_vit_uses_patch_tokens_or_says_why_not():
    from wikiart_utils import models
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"vit_b16_lstm at 64 px: .* 4x4 cells, fewer than 7x7"):
        gradcam.gradcam_layer(models.build_model("vit_b16_lstm", image_size=64))
    model = models.build_model("vit_b16_lstm", image_size=112)
    assert gradcam.gradcam_layer(model) == ("patch tokens", 7, 7)
    cam = gradcam.gradcam(model, torch.randint(0, 256, (3, 112, 112), dtype=torch.uint8), "genre")
    assert cam.shape == (112, 112)


class _Images:
    def load(self, i):
        import torch
        return torch.zeros(3, 8, 8, dtype=torch.uint8)


def fake_predictions(painters, right):
    """Predictions of 3 classes per task where row i is right on every task when right[i]."""
    n = len(painters)
    targets = np.zeros((n, 3), dtype=int)
    probs = {t: np.tile([0.1, 0.8, 0.1], (n, 1)) for t in labels.TASKS}
    for t in labels.TASKS:
        probs[t] = np.pad(probs[t], ((0, 0), (0, labels.num_classes()[t] - 3)))
        probs[t][np.asarray(right, bool)] = np.pad([0.8, 0.1, 0.1], (0, labels.num_classes()[t] - 3))
    meta = pd.DataFrame({"path": [f"x/{p}_{i}.jpg" for i, p in enumerate(painters)], "painter": painters})
    return evaluate.Predictions(rows=np.arange(n), targets=targets, probs=probs, meta=meta)


def test_gallery_shows_only_public_domain_painters_and_carries_their_rows(tmp_path):
    pred = fake_predictions(["andy-warhol", "claude-monet", "claude-monet", "paul-cezanne"], [1, 1, 0, 1])
    shown = lesson.gallery(pred, np.array([0, 1, 2, 3]), _Images(), k=2)
    assert shown.paintings["painter"].tolist() == ["claude-monet", "claude-monet"]
    assert shown.colors == [plots_good(), plots_bad()]
    shown.grid(path=tmp_path / "g.png")
    assert len(pd.read_csv(tmp_path / "g.provenance.csv")) == 2


def plots_good():
    from wikiart_utils import plots
    return plots.GOOD


def plots_bad():
    from wikiart_utils import plots
    return plots.BAD


def test_paired_against_reads_each_difference_in_words():
    a = fake_predictions(["claude-monet"] * 40, [1] * 40)
    b = fake_predictions(["claude-monet"] * 40, [0] * 40)
    c = fake_predictions(["claude-monet"] * 40, [1, 0] * 20)
    table = lesson.paired_against({"a": a, "b": b, "c": c}, reference="c", n_boot=200)
    assert set(table["a"]) == {"a", "b"} and set(table["task"]) == set(labels.TASKS)
    assert set(table.loc[table.a == "a", "verdict"]) == {"a better"}
    assert set(table.loc[table.a == "b", "verdict"]) == {"c better"}
    words = lesson.paired_in_words(table)
    assert "a - c, style: +0.500" in words and "the whole interval is above 0" in words
    same = lesson.paired_against({"x": c, "y": c}, reference="x", n_boot=50)
    assert "cannot tell them apart" in lesson.paired_in_words(same)


def test_run_table_reads_the_budget_from_the_checkpoint_and_chooses_by_validation(sample_dir, checkpoint):
    table = lesson.run_table({"tiny": checkpoint}, sample_dir)
    row = table.loc["tiny"]
    assert (row.variant, row.epochs, row.image_size, row.backbone, bool(row.pretrained)) == \
        ("resnet18_gap", 1, 32, "trained", False)
    assert row.train_images == int((pd.read_csv(sample_dir / "metadata.csv").split == "train").sum())
    name, reason = lesson.choose_main(table)
    assert name == "tiny" and "validation mean macro-F1" in reason


def test_budget_note_and_labels_say_what_differs():
    settings = pd.DataFrame({"epochs": [6, 6, 15], "image_size": [96, 96, 96],
                             "backbone": ["trained", "trained", "frozen (random)"], "pretrained": [False] * 3},
                            index=["gap", "patch", "vgg"])
    note = lesson.budget_note(settings)
    assert note.startswith("budgets differ:") and "epochs 6-15" in note and "vgg: frozen (random)" in note
    assert "image size" not in note
    assert lesson.budget_labels(settings) == {"gap": "gap", "patch": "patch",
                                                "vgg": "vgg (15 epochs, frozen (random) backbone)"}
    assert lesson.budget_note(settings.iloc[:2]) == "same budget for every run"


def test_budget_and_scores_on_the_committed_real_results():
    from wikiart_utils import results
    settings, scored = results.settings(), results.metrics()
    table = lesson.budget_and_scores(settings, scored)
    n = scored["resnet18_gap"]["style"]["n"]
    header = next(c for c in table.columns if c.startswith("style top-1"))
    assert f"n = {n}" in header
    assert table.loc["resnet18_gap", header].startswith(f"{scored['resnet18_gap']['style']['top1']:.3f} [")
    assert {"epochs", "image_size", "backbone"} <= set(table.columns)


def test_budget_labels_name_a_smaller_training_set():
    settings = pd.DataFrame({"epochs": [6, 6, 2], "train_images": [1940, 1940, 800]}, index=["a", "b", "c"])
    assert lesson.budget_labels(settings)["c"] == "c (2 epochs, 800 training images)"
    limits = pd.DataFrame({"train_limit": [6000, 6000, None]}, index=["a", "b", "c"])
    assert lesson.budget_labels(limits)["c"] == "c (all training images)"


def test_older_convention_run_trains_with_the_main_settings_then_reuses(sample_dir, checkpoint, tmp_path):
    best, done = lesson.older_convention_run(sample_dir, checkpoint, tmp_path / "legacy", workers=0)
    assert done.startswith("trained") and best.is_file()
    args = lesson.comparison._checkpoint_info(best)["train_args"]
    main = lesson.comparison._checkpoint_info(checkpoint)["train_args"]
    assert args == {**main, "unknown_as_class": "albrecht-durer"}
    again, done = lesson.older_convention_run(sample_dir, checkpoint, tmp_path / "legacy", workers=0)
    assert again == best and done.startswith("reused")
