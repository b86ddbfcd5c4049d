"""`lesson`: the scaffolding notebooks 03-06 share. Each helper is checked against the module it composes,
so a notebook built on it shows what the package computes, not a second version of it. CPU only."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from wikiart_utils import checkpoint, data, evaluate, labels, lesson, metadata, metrics, models, results, train
from wikiart_utils.speed import features

TINY = dict(image_size=64, epochs=1, batch_size=16, pretrained=False, workers=0, progress=False, limit_batches=2,
            model_options={"hidden_size": 32})


def test_show_shapes_prints_tokens_logits_and_parameters(capsys):
    model = lesson.show_shapes("resnet18_lstm_patch", sizes=(64, 96))
    out = capsys.readouterr().out
    assert "64 px: images (2, 3, 64, 64) -> tokens (2, 4, 512)" in out
    assert "96 px: images (2, 3, 96, 96) -> tokens (2, 9, 512)" in out and "style (2, 27)" in out
    assert f"LSTM + heads {sum(p.numel() for p in model.head_parameters()):,}" in out
    lesson.show_shapes("resnet18_gap", sizes=(64,))
    assert "heads 84,645" in capsys.readouterr().out  # (512 + 1) x (128 + 10 + 27): no LSTM


def test_sample_batch_is_fixed_and_unaugmented(sample_dir):
    (a, ta), (b, tb) = lesson.sample_batch(sample_dir, 64, n=8), lesson.sample_batch(sample_dir, 64, n=8)
    assert a.shape == (8, 3, 64, 64) and a.dtype == torch.uint8 and ta.shape == (8, 3)
    assert torch.equal(a, b) and torch.equal(ta, tb)


def test_run_settings_are_those_train_uses():
    scratch = lesson.run_settings("resnet18_lstm_patch", dict(pretrained=False, workers=0))
    heads = lesson.run_settings("vgg16_lstm", dict(pretrained=False, freeze_backbone=True, epochs=3))
    assert (scratch.lr, scratch.task_weights) == (2.5e-4, {"artist": 0.5, "genre": 0.5, "style": 1.0})
    equal = {"artist": 1.0, "genre": 1.0, "style": 1.0}
    assert (heads.lr, heads.task_weights, heads.freeze_epochs, heads.variant) == (2e-3, equal, 3, "vgg16_lstm")
    assert "lr                 0.002" in str(heads)  # printed, one setting a line
    pretrained = lesson.run_settings("resnet18_gap", dict(pretrained=True, freeze_backbone=1))
    assert (pretrained.lr, pretrained.task_weights, pretrained.backbone_lr_scale) == (3e-4, equal, 0.1)


def test_majority_baselines_follow_evaluate(sample_dir):
    """The dashed lines of the curves use evaluate's rule: most frequent training class, labelled val rows."""
    baselines = lesson.majority_baselines(sample_dir)
    counts = evaluate.train_counts(sample_dir)
    meta = metadata.read_metadata(sample_dir, "val")
    for task, value in baselines.items():
        y = np.array([labels.encode(task, name) for name in meta[task]])
        assert value == pytest.approx(metrics.majority_baseline(y, counts[task])[0])
        assert value == pytest.approx(np.mean(y[y >= 0] == np.argmax(counts[task])))


def test_train_and_report_trains_draws_and_scores(sample_dir, tmp_path, capsys):
    result, table = lesson.train_and_report(sample_dir, "resnet18_gap", TINY, tmp_path / "ckpt", tmp_path / "fig",
                                            "curves.png")
    assert result.best_path.is_file() and (tmp_path / "fig" / "curves.png").stat().st_size > 0
    assert list(table.index) == list(labels.TASKS) and {"n", "top1", "majority_baseline"} <= set(table.columns)
    assert "best epoch 1 of 1" in capsys.readouterr().out
    assert lesson.labelled_counts(table) == {t: int(n) for t, n in table["n"].items()}


def test_budget_table_counts_paintings_and_steps(sample_dir):
    table = lesson.budget_table(sample_dir, {"all": dict(image_size=64, epochs=2),
                                             "part": dict(image_size=64, epochs=1, train_limit=40)})
    n_all = len(metadata.read_metadata(sample_dir, "train"))
    assert table.loc["all", "train_paintings"] == n_all and table.loc["all", "steps"] == 2 * (n_all // 32)
    assert table.loc["part", "train_paintings"] <= 40 + len(labels.vocab("style"))  # stratified: one per style at least


def test_real_tables_read_the_committed_results():
    table = lesson.real_table(["resnet18_gap", "resnet18_lstm_patch"])
    gap = results.metrics()["resnet18_gap"]["style"]
    assert table.loc["resnet18_gap", "style top-1"].startswith(f"{gap['top1']:.3f} [")
    assert table.loc["majority baseline", "style top-1"] == f"{gap['majority_baseline']:.3f}"
    assert list(table.index)[2:] == ["resnet18_gap", "resnet18_lstm_patch"]
    paired = lesson.real_paired()
    assert set(paired["verdict"]) <= {f"{a} better" for a, _, _ in paired.index} | \
        {f"{b} better" for _, b, _ in paired.index} | {"cannot tell apart"}


def test_fit_on_cache_trains_any_head_on_cached_tokens(sample_dir, tmp_path):
    run = train.train(sample_dir, "resnet18_lstm_patch", tmp_path / "run", freeze_backbone=True,
                      cached_features=True, **TINY)
    head = features.HeadOnly(models.build_model("resnet18_lstm_patch", image_size=64, hidden_size=32))
    before = {k: v.clone() for k, v in head.state_dict().items()}
    scores = lesson.fit_on_cache(head, run, sample_dir, epochs=1)
    assert {"val_loss", "val_mean_f1", "val_style_acc"} <= set(scores)
    assert any(not torch.equal(before[k], v) for k, v in head.state_dict().items())


def test_run_tokens_of_a_fine_tuned_run_come_from_its_best_model(sample_dir, tmp_path):
    """A run that fine-tuned its backbone cached nothing: its tokens are extracted from best.pt, once."""
    run = train.train(sample_dir, "resnet18_gap", tmp_path / "run", **TINY)
    assert not (run.out / "features").exists()
    tokens = lesson.run_tokens(run, sample_dir, "val")
    model, _ = checkpoint.load(run.best_path)
    images = torch.stack([data.WikiArtDataset(sample_dir, "val", 64)[i][0] for i in range(2)])
    with torch.no_grad():
        expected = model.tokens(images)
    got, _ = tokens.batch(range(2))
    assert torch.allclose(got.float(), expected, atol=2e-2, rtol=1e-2)
    assert len(tokens) == len(data.WikiArtDataset(sample_dir, "val", 64))
    assert len(lesson.run_tokens(run, sample_dir, "train")) == len(data.WikiArtDataset(sample_dir, "train", 64))


def test_run_tokens_of_a_capped_run_are_of_the_paintings_it_trained_on(sample_dir, tmp_path):
    """A run trained on `train_limit` paintings: the heads an exercise fits on its tokens see the same ones."""
    run = train.train(sample_dir, "resnet18_gap", tmp_path / "run", **{**TINY, "train_limit": 8})
    capped = data.WikiArtDataset(sample_dir, "train", 64, limit=8)
    tokens = lesson.run_tokens(run, sample_dir, "train")
    assert len(tokens) == len(capped) < len(data.WikiArtDataset(sample_dir, "train", 64))
    assert np.array_equal(tokens.targets, capped.targets)
