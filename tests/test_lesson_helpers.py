"""Helpers the evaluation notebooks show a learner: captions marked right or wrong in words and symbols,
an unreadable upload answered in one line, the LSTM's reading order drawn, the committed references."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from wikiart_utils import labels, lesson, plots, results


def test_verdict_lines_mark_right_and_wrong_without_colour_and_keep_whole_names():
    renoir, monet = labels.vocab("artist").index("pierre-auguste-renoir"), labels.vocab("artist").index("claude-monet")
    right = lesson.verdict_line("artist", renoir, renoir)
    wrong = lesson.verdict_line("artist", renoir, monet)
    unknown = lesson.verdict_line("artist", -1, monet)
    assert right.startswith("\u2713") and "pierre-auguste-renoir" in right.replace("\n", "")
    assert wrong.startswith("\u2717") and "pierre-auguste-renoir" in wrong and "claude-monet" in wrong
    assert unknown.startswith("?")
    assert all(len(line) <= 30 for line in wrong.splitlines())


@pytest.mark.parametrize("content", [b"\x00\x00\x00\x18ftypheic\x00\x00", b"%PDF-1.4 not an image", b"\xff\xd8\xff\xe0trunc"])
def test_an_unreadable_upload_gets_one_line(tmp_path, capsys, content):
    upload = tmp_path / "photo.heic"
    upload.write_bytes(content)
    assert lesson.explain_or_say(None, upload) is None
    out = capsys.readouterr().out.strip()
    assert out.startswith("cannot read photo.heic:") and "\n" not in out and "JPEG" in out


def test_the_reading_order_is_numbered_row_by_row(tmp_path):
    image = np.zeros((70, 70, 3), dtype=np.uint8)
    fig = plots.reading_order(image, 7, path=tmp_path / "order.png")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == [str(i) for i in range(1, 50)]
    first, second, eighth = (fig.axes[0].texts[i].get_position() for i in (0, 1, 7))
    assert first[1] == second[1] < eighth[1] and second[0] > first[0]  # along the row, then down
    assert (tmp_path / "order.png").is_file()


def test_the_older_convention_keeps_the_scores_of_the_run_it_repeats():
    reference = results.older_convention_reference()
    durer = results.metrics(older_convention=True)["resnet18_gap_unknown_as_durer"]["artist"]
    assert reference["trained"] == "2026-11-27" and reference["artist"]["n"] < durer["n"]
    assert durer["majority_baseline"] > reference["artist"]["majority_baseline"]


# ----------------------------------------------------------------------------------------------------
# notebook 04: the readers over one cache, and the real subset's paired answers (`lesson.reading`)

def test_the_shuffled_order_grid_says_when_each_position_is_read():
    from wikiart_utils import readers
    grid = lesson.order_grid(7).to_numpy().ravel()
    assert sorted(grid) == list(range(1, 50))                       # every position read exactly once
    order = readers.shuffled_order(49)
    assert all(grid[int(position)] == step for step, position in enumerate(order, start=1))


def test_the_channel_lstm_reads_one_standardised_channel_a_step():
    torch.manual_seed(0)
    net = lesson.ChannelLSTM(channels=12, positions=9, hidden_size=4).eval()
    tokens = torch.rand(3, 9, 12) + torch.arange(12.0)                 # channel c sits around c
    assert net.channel_tokens(tokens).shape == (3, 12, 9)
    logits = net(tokens)
    assert {task: tuple(v.shape) for task, v in logits.items()} == {
        task: (3, n) for task, n in labels.num_classes().items()}
    net.train()(tokens)                                                # BatchNorm: across paintings, per channel
    by_channel = net.channel_tokens(tokens).mean(dim=(0, 2))
    assert torch.allclose(by_channel, torch.zeros(12), atol=1e-5)      # each channel standardised on its own,
    per_painting = net.channel_tokens(tokens).mean(dim=2)               # not each token: paintings keep their
    assert not torch.allclose(per_painting, torch.zeros(3, 12), atol=1e-3)  # differences in a channel's mean


def _fake_run(folder, run, right, val_f1, n=40):
    """results/<run>/ with test_predictions.csv (`right`: which of n paintings it gets right, every task),
    history.csv (best val_mean_f1) and run.json, as tools/real_results.py writes them."""
    import json
    import pandas as pd
    (folder / run).mkdir(parents=True)
    truth = np.arange(n) % 5
    table = {"path": [f"p{i}.jpg" for i in range(n)]}
    for task in labels.TASKS:
        table[task], table[f"{task}_pred"] = truth, np.where(right, truth, (truth + 1) % 5)
    pd.DataFrame(table).to_csv(folder / run / "test_predictions.csv", index=False)
    pd.DataFrame({"epoch": [1, 2], "val_mean_f1": [val_f1 - 0.1, val_f1]}).to_csv(folder / run / "history.csv",
                                                                                 index=False)
    (folder / run / "run.json").write_text(json.dumps({"reader": run, "trainable": "heads", "machine": "cpu",
                                                       "cores": 2, "gpu": None, "date": "2026-12-07T00:00"}))
    (folder / run / "metrics.json").write_text("{}")


def test_reading_pairs_list_the_pairs_whose_runs_exist_and_name_the_others(tmp_path):
    n = 40
    _fake_run(tmp_path, "efficientnet_lite0_gap_frozen", np.arange(n) < 20, 0.50)
    _fake_run(tmp_path, "efficientnet_lite0_lstm_frozen", np.arange(n) < 16, 0.45)
    _fake_run(tmp_path, "efficientnet_lite0_stats_frozen", np.arange(n) < 30, 0.60)
    table, missing = lesson.reading_pairs(folder=tmp_path, n_boot=200)
    pairs = list(dict.fromkeys(zip(table["a"], table["b"])))
    # the best frozen reader on validation (stats) against the average; stats - average is not repeated
    assert pairs == [("efficientnet_lite0_stats_frozen", "efficientnet_lite0_gap_frozen"),
                     ("efficientnet_lite0_lstm_frozen", "efficientnet_lite0_gap_frozen")]
    stats = table[(table["a"] == "efficientnet_lite0_stats_frozen") & (table["task"] == "style")].iloc[0]
    assert stats["difference"] == pytest.approx(0.25) and stats["n"] == n and stats["verdict"].endswith("better")
    assert len(missing) == 6 and any("efficientnet_lite0_lstm_shuffled_frozen" in line for line in missing)
    wide = lesson.paired_wide(table)
    assert wide.loc[("does any reader beat the average?", "stats − gap"), "style (n = 40)"].startswith("+0.250 [")
    runs = lesson.real_reader_runs(["efficientnet_lite0_gap_frozen", "efficientnet_lite0_attention_frozen"], tmp_path)
    assert list(runs.index) == ["efficientnet_lite0_gap_frozen"] and runs.iloc[0]["val mean macro-F1"] == 0.5
    fig = lesson.paired_chart(table, path=tmp_path / "pairs.png")
    assert (tmp_path / "pairs.png").is_file() and len(fig.axes) == 3


def test_reading_pairs_with_nothing_committed_fail_nowhere(tmp_path):
    table, missing = lesson.reading_pairs(folder=tmp_path, n_boot=10)
    assert table.empty and len(missing) == len(lesson.READING_PAIRS)
    assert "no committed candidate" in missing[0] and lesson.paired_wide(table).empty


def test_the_reader_table_puts_n_and_the_baseline_above_every_reader():
    m = {"n": 10, "top1": 0.5, "top1_ci": [0.2, 0.8], "macro_f1": 0.4, "majority_baseline": 0.3}
    table = lesson.reader_table({"average": {t: m for t in labels.TASKS},
                                 "LSTM": {t: {**m, "top1": 0.6} for t in labels.TASKS}})
    assert list(table.index) == ["n (labelled paintings)", "majority baseline", "average", "LSTM"]
    assert table.loc["LSTM", "style top-1 [95% CI]"] == "0.600 [0.200, 0.800]"
    assert table.loc["majority baseline", "artist top-1 [95% CI]"] == "0.300"


# ----------------------------------------------------------------------------------------------------
# notebooks 05 and 06: a random backbone beside pretrained tokens, compute and token similarity (`lesson.backbones`)

CONTROL = dict(image_size=64, epochs=1, batch_size=16, pretrained=False, freeze_backbone=True, cached_features=True,
               train_limit=24, limit_batches=1, workers=0, model_options={"hidden_size": 16})


def test_control_vs_pretrained_trains_both_alike_and_scores_them_on_one_cache(sample_dir, tmp_path):
    """Notebooks 05 and 06: the random backbone and EfficientNet-Lite0's ImageNet tokens read by the same reader
    with the same settings and paintings; scored from the shared token caches as evaluate scores from images."""
    import json
    from wikiart_utils import checkpoint, evaluate
    features = tmp_path / "ckpt" / "features"
    comparison = lesson.control_vs_pretrained(sample_dir, "vgg16_lstm", CONTROL, tmp_path / "ckpt", tmp_path / "fig",
                                              "pair.png")
    control, pretrained = comparison.runs
    assert (control, pretrained) == ("VGG-16, random init, frozen (control)", "EfficientNet-Lite0, ImageNet, frozen")
    saved = [checkpoint.load(run.best_path)[1]["train_args"] for run in comparison.runs.values()]
    for key in ("lr", "warmup_epochs", "task_weights", "image_size", "epochs", "batch_size", "train_limit", "seed"):
        assert saved[0][key] == saved[1][key], key
    assert (saved[0]["variant"], saved[0]["pretrained"], saved[1]["pretrained"]) == ("vgg16_lstm", False, True)
    caches = sorted(p.name for p in features.iterdir())   # train and val of each backbone, in the shared folder
    assert len(caches) == 4 and not (comparison.runs[control].out / "features").exists()
    run = comparison.runs[control]
    assert lesson.run_tokens(run, sample_dir, "val", features).path.name in caches
    assert sorted(p.name for p in features.iterdir()) == caches  # found again, nothing extracted twice
    scores, pred = lesson.score_on_tokens(run, sample_dir, features)
    direct, from_images = evaluate.evaluate_checkpoint(sample_dir, run.best_path, split="val", workers=0)
    assert np.array_equal(pred.rows, from_images.rows)
    for task in labels.TASKS:
        assert np.abs(pred.probs[task] - from_images.probs[task]).max() < 1e-2  # float16 tokens, same model
        assert (scores[task]["n"], scores[task]["majority_baseline"]) == (direct[task]["n"], direct[task]["majority_baseline"])
    table = comparison.table
    course = json.loads((checkpoint.COURSE_MODEL.parent / "metrics.json").read_text("utf-8"))
    shipped = f"course model: {Path(course['meta']['checkpoint']).parent.name}"   # the run checkpoints/course/ ships
    assert table.loc[shipped, "style top-1 [95% CI]"].startswith(f"{course['style']['top1']:.3f} [")
    assert table.loc[f"n ({sample_dir.name}, validation split)", "style top-1 [95% CI]"] == f"{direct['style']['n']:,}"
    assert table.loc["n (subset, test split)", "style top-1 [95% CI]"] == f"{course['style']['n']:,}"
    assert set(comparison.paired["a"]) == {pretrained} and set(comparison.paired["b"]) == {control}
    assert (tmp_path / "fig" / "pair.png").is_file() and len(comparison.figure.axes) == 2


def test_backbone_cost_counts_macs_that_grow_with_the_pixels():
    cost = lesson.backbone_cost({"VGG-16": "vgg16_lstm"}, sizes=(32, 64))
    small, large = cost.loc[("VGG-16", 32)], cost.loc[("VGG-16", 64)]
    assert (small["tokens (T x D)"], large["tokens (T x D)"], small["parameters (M)"]) == ("1 x 512", "4 x 512", 14.7)
    assert large["GMACs per image"] == pytest.approx(4 * small["GMACs per image"], rel=0.05)  # convolutions: per pixel
    assert torch.backends.mha.get_fastpath_enabled()  # restored after counting


def test_token_similarity_is_one_for_copies_and_zero_for_orthogonal_paintings():
    same = torch.ones(3, 4, 8)
    orthogonal = torch.eye(8)[:3, None, :].expand(3, 4, 8)    # every painting's tokens along its own axis
    table = lesson.token_similarity({"copies": same, "orthogonal": orthogonal})
    assert table.loc["copies", "same painting: token vs token"] == 1.0
    assert table.loc["copies", "different paintings: average token"] == 1.0
    assert table.loc["orthogonal", "different paintings: average token"] == 0.0
    assert table.loc["orthogonal", "tokens (T x D)"] == "4 x 8"


# ---------------------------------------------------------------------------------------------------------
# notebooks 03, 07 and 08: a score with its interval, the columns of a confusion matrix, what 08 compares

def test_a_score_line_gives_top1_with_its_interval_n_macro_f1_and_the_baseline(sample_dir):
    class Logits(torch.nn.Module):
        def forward(self, tokens):
            return {"style": tokens}
    targets = torch.tensor([[-1, -1, style] for style in [0, 1, 2, 3] * 5])
    always_right = torch.nn.functional.one_hot(targets[:, 2], 27).float() * 5
    line = lesson.score_line(Logits(), always_right, targets, sample_dir, "style", n_boot=50)
    assert line.startswith("style top-1 1.000 [1.000, 1.000] (n = 20), macro-F1 1.000, majority baseline 0.")


def _predictions(truth, guess, task="style"):
    import pandas as pd
    from wikiart_utils.evaluate import Predictions
    n = len(truth)
    probs = np.full((n, labels.num_classes()[task]), 0.01)
    probs[np.arange(n), guess] = 0.8
    targets = np.full((n, 3), -1)
    targets[:, labels.TASKS.index(task)] = truth
    meta = pd.DataFrame({"path": [f"Baroque/painter-{k}_title-{k}.jpg" for k in range(n)],
                         "painter": [f"painter-{k}" for k in range(n)], "genre": ["portrait", ""] * (n // 2),
                         "style": ["Baroque"] * n, "artist": [""] * n})
    return Predictions(np.arange(n), targets, {task: probs}, meta)


def test_wrong_answers_count_a_columns_mistakes_and_confused_paintings_list_one_cell(sample_dir):
    vocab = labels.vocab("style")
    baroque, impressionism, rococo = (vocab.index(s) for s in ("Baroque", "Impressionism", "Rococo"))
    pred = _predictions(np.array([baroque, baroque, baroque, rococo, rococo, impressionism]),
                        np.array([impressionism, impressionism, rococo, impressionism, rococo, impressionism]))
    table = lesson.wrong_answers(pred, "style", sample_dir).set_index("answered")
    assert list(table.index) == ["Impressionism", "Rococo"]          # the column drawing most mistakes first
    assert (table.loc["Impressionism", "wrong answers"], table.loc["Impressionism", "from true classes"]) == (3, 2)
    assert (table.loc["Rococo", "wrong answers"], table.loc["Rococo", "test paintings"]) == (1, 2)
    listed = lesson.confused_paintings(pred, "style", "Baroque", "Impressionism")
    assert list(listed["painter"]) == ["painter-0", "painter-1"] and list(listed["title"]) == ["title-0", "title-1"]
    assert list(listed["genre"]) == ["portrait", "?"] and "artist" not in listed and "style" not in listed
    assert list(listed["p(Impressionism)"]) == [0.8, 0.8] and list(listed["p(Baroque)"]) == [0.01, 0.01]


def _fake_checkpoint(path, data, variant):
    from wikiart_utils import checkpoint
    path.parent.mkdir(parents=True)
    torch.save({"format_version": checkpoint.FORMAT_VERSION, "vocab": {t: labels.vocab(t) for t in labels.TASKS},
                "train_args": {"data": str(data), "variant": variant}}, path)


def test_notebook_08_compares_the_sample_runs_only_with_the_pretrained_average_among_them(tmp_path):
    root, folder = tmp_path / "data" / "real-sample", tmp_path / "checkpoints"
    runs, line = lesson.comparison_runs(folder, root)                 # a fresh clone: no run at all
    assert runs == {} and line.startswith("no sample runs") and "committed real runs" in line
    _fake_checkpoint(folder / "efficientnet_lite0_lstm" / "best.pt", "/elsewhere/real-sample", "efficientnet_lite0_lstm")
    _fake_checkpoint(folder / "real" / "gap_frozen" / "best.pt", "/elsewhere/wikiart-subset", "efficientnet_lite0_gap")
    runs, line = lesson.comparison_runs(folder, root)                 # the subset's average is no sample run
    assert runs == {} and "1 sample run in checkpoints/, not the pretrained average" in line
    _fake_checkpoint(folder / "04_readers" / "average" / "best.pt", root, "efficientnet_lite0_gap")
    runs, line = lesson.comparison_runs(folder, root)
    assert list(runs) == ["04_readers/average", "efficientnet_lite0_lstm"] and line.startswith("2 sample runs")
    assert str(tmp_path) not in line


def test_the_committed_runs_are_chosen_on_validation_and_paired_with_the_main_one(tmp_path):
    n = 40
    for run, variant, right, val_f1 in (("efficientnet_lite0_gap_frozen", "efficientnet_lite0_gap", 30, 0.60),
                                        ("efficientnet_lite0_lstm_frozen", "efficientnet_lite0_lstm", 20, 0.50),
                                        ("resnet18_gap", "resnet18_gap", 10, 0.30)):
        _fake_run(tmp_path, run, np.arange(n) < right, val_f1)
        (tmp_path / run / "command.txt").write_text(f"python -m wikiart_utils train --variant {variant} --epochs 2 "
                                                    f"--image-size 224 --freeze-backbone\n")
    (tmp_path / "resnet18_gap" / "test_predictions.csv").unlink()       # an old run: no per-painting predictions
    board = lesson.committed_board(tmp_path)
    assert list(board.index) == ["efficientnet_lite0_gap_frozen", "efficientnet_lite0_lstm_frozen", "resnet18_gap"]
    assert (board.iloc[0]["variant"], board.iloc[0]["best_epoch"], board.iloc[0]["val_mean_f1"]) == \
        ("efficientnet_lite0_gap", 2, 0.6)
    main, _ = lesson.choose_main(board)
    table, without = lesson.committed_paired(main, folder=tmp_path, n_boot=100)
    assert without == ["resnet18_gap"] and set(table["a"]) == {"efficientnet_lite0_lstm_frozen"}
    style = table[table["task"] == "style"].iloc[0]
    assert style["difference"] == pytest.approx(-0.25) and style["verdict"] == "efficientnet_lite0_gap_frozen better"


def test_the_seed_protocol_line_names_no_machine_path():
    here, absent = lesson.seed_protocol_line("tests"), lesson.seed_protocol_line("../no-such-folder")
    assert "is here" in here and "not on this machine" in absent
    assert "/" not in absent.replace("../shared", "")
