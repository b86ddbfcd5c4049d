"""Multitask loss, training loop, checkpoints (safe loading, round trip) and exact resume. CPU only."""
from __future__ import annotations

import math
import os
import pickle

import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from wikiart_utils import checkpoint, cli, labels, losses, models, train
from wikiart_utils.config import TrainConfig

N_CLASSES = labels.num_classes()
TINY = dict(image_size=64, batch_size=16, pretrained=False, workers=0, progress=False, limit_batches=2)


def random_logits(batch: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {task: torch.randn(batch, n, generator=g, requires_grad=True) for task, n in N_CLASSES.items()}


TARGETS = torch.tensor([[3, -1, 2], [-1, -1, 5], [7, 4, 1], [-1, -1, 0], [3, 2, 2], [9, -1, 26]])


# --------------------------------------------------------------------------- loss

def test_masked_loss_is_cross_entropy_on_labelled_rows():
    logits = random_logits(6)
    weight = torch.linspace(0.2, 2.0, N_CLASSES["style"])
    loss = losses.MultitaskLoss(class_weights={"style": weight}, label_smoothing=0.1)
    total, per_task = loss(logits, TARGETS)
    for i, task in enumerate(labels.TASKS):
        known = TARGETS[:, i] >= 0
        want = F.cross_entropy(logits[task][known], TARGETS[known, i], label_smoothing=0.1,
                               weight=weight if task == "style" else None)
        assert torch.allclose(per_task[task], want)
    assert torch.allclose(total, sum(per_task.values()))


def test_unknown_rows_do_not_matter():
    logits = random_logits(6)
    changed = {task: t.detach().clone() for task, t in logits.items()}
    changed["artist"][TARGETS[:, 0] < 0] += 100.0
    loss = losses.MultitaskLoss()
    assert torch.equal(loss(logits, TARGETS)[1]["artist"], loss(changed, TARGETS)[1]["artist"])


def test_all_unknown_task_gives_zero_not_nan():
    logits = random_logits(6)
    targets = TARGETS.clone()
    targets[:, 1] = labels.UNKNOWN
    total, per_task = losses.MultitaskLoss(class_weights={"genre": torch.ones(10)})(logits, targets)
    assert per_task["genre"].item() == 0.0
    total.backward()
    assert all(torch.isfinite(t.grad).all() for t in logits.values())
    assert logits["genre"].grad.abs().sum() == 0


def test_task_weights_and_logit_adjustment():
    logits = random_logits(6)
    prior = losses.log_priors(torch.arange(1, N_CLASSES["style"] + 1))
    _, plain = losses.MultitaskLoss()(logits, TARGETS)
    total, per_task = losses.MultitaskLoss(task_weights={"artist": 0.0, "genre": 2.0},
                                           logit_adjustment={"style": prior}, tau=1.5)(logits, TARGETS)
    assert torch.allclose(per_task["style"], F.cross_entropy(logits["style"] + 1.5 * prior, TARGETS[:, 2]))
    assert torch.allclose(total, 2.0 * plain["genre"] + per_task["style"])
    with pytest.raises(ValueError, match="unknown task"):
        losses.MultitaskLoss(task_weights={"painter": 1.0})


def test_class_weight_helpers():
    assert torch.allclose(losses.class_balanced_weights([50, 50, 50]), torch.ones(3))
    w = losses.class_balanced_weights([1000, 100, 10, 0], beta=0.999)
    assert w[0] < w[1] < w[2] and w[3] == 0 and math.isclose(w[:3].sum().item(), 3, rel_tol=1e-5)
    p = losses.log_priors([3, 1, 0])
    assert torch.isfinite(p).all() and math.isclose(p.exp().sum().item(), 1, rel_tol=1e-6)
    counts = losses.class_counts(TARGETS)
    assert counts["genre"][[2, 4]].tolist() == [1, 1] and counts["genre"].sum() == 2


def test_one_optimizer_step_lowers_the_loss():
    torch.manual_seed(0)
    model = models.build_model("resnet18_lstm_patch", dropout=0.0).train()
    images, targets = torch.randn(4, 3, 64, 64), TARGETS[:4]
    criterion = losses.MultitaskLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    before, _ = criterion(model(images), targets)
    before.backward()
    optimizer.step()
    with torch.no_grad():
        after, _ = criterion(model(images), targets)
    assert after < before


def test_warmup_cosine_schedule():
    factors = [train.warmup_cosine(s, 5, 50) for s in range(51)]
    assert factors[0] == pytest.approx(0.2) and factors[4] == 1.0
    assert all(a >= b for a, b in zip(factors[4:], factors[5:])) and factors[50] == pytest.approx(0.0)


# --------------------------------------------------------------------------- checkpoints

def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = models.build_model("resnet18_lstm_patch", hidden_size=32, readout="attention").eval()
    path = tmp_path / "ckpt" / "model.pt"
    checkpoint.save(checkpoint.model_checkpoint(model, epoch=3, metrics={"val_mean_f1": 0.5}), path)
    loaded, ckpt = checkpoint.load(path)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        a, b = model(x), loaded(x)
    assert all(torch.equal(a[t], b[t]) for t in labels.TASKS)
    assert ckpt["epoch"] == 3 and ckpt["model_config"] == model.config and not loaded.training
    assert not list(path.parent.glob(".*.part"))  # atomic write left nothing behind


class Exploit:
    """A pickle payload that runs a shell command when unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("form, protocol", [("torch.save", None), ("pickle", 2), ("pickle", pickle.DEFAULT_PROTOCOL)])
def test_unsafe_pickle_is_refused_and_never_runs(tmp_path, form, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    payload = {"format_version": checkpoint.FORMAT_VERSION, "model": Exploit(marker)}
    if form == "torch.save":
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(payload, protocol=protocol))
    with pytest.raises(checkpoint.CheckpointError, match="refused") as info:
        checkpoint.load(path)
    assert "\n" not in str(info.value)
    if protocol in (None, 2):  # the unpickler gets as far as the import it blocks
        assert "unsafe pickle payload (it would import posix.system)" in str(info.value)
    assert not marker.exists()


def test_checkpoint_errors_are_one_line(tmp_path):
    model = models.build_model("resnet18_gap")
    cases = {}
    cases["missing.pt"] = ("no such checkpoint file", None)
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint at all")
    cases["garbage.pt"] = ("refused: not a plain torch checkpoint", None)
    (tmp_path / "cut.pt").write_bytes(b"PK\x03\x04 truncated zip")
    cases["cut.pt"] = ("not a readable torch checkpoint", None)
    cases["old.pt"] = ("format version 0", checkpoint.model_checkpoint(model, format_version=0))
    vocab = {t: labels.vocab(t) for t in labels.TASKS}
    vocab["style"] = vocab["style"][1:]
    cases["vocab.pt"] = ("style vocabulary differs", checkpoint.model_checkpoint(model, vocab=vocab))
    torch.save({"weights": torch.zeros(2)}, tmp_path / "plain.pt")
    cases["plain.pt"] = ("not a wikiart_utils training checkpoint", None)
    for name, (message, ckpt) in cases.items():
        if ckpt is not None:
            checkpoint.save(ckpt, tmp_path / name)
        with pytest.raises(checkpoint.CheckpointError, match=message) as info:
            checkpoint.load(tmp_path / name)
        assert "\n" not in str(info.value) and name in str(info.value)


# --------------------------------------------------------------------------- training

def test_cli_training_run_writes_checkpoints_history_and_curves(sample_dir, tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--data", str(sample_dir), "--variant", "resnet18_gap", "--out", str(out),
            "--epochs", "2", "--image-size", "64", "--batch-size", "16", "--no-pretrained",
            "--workers", "0", "--limit-batches", "2", "--no-progress", "--hidden-size", "32"]
    assert cli.main(argv) == 0
    result = train.TrainResult(out, 0, 0.0, {}, 2, False)
    for path in (result.best_path, result.last_path, result.history_path, result.curves_path):
        assert path.is_file(), path
    history = pd.read_csv(result.history_path)
    assert list(history["epoch"]) == [1, 2]
    for column in ["train_loss", "val_loss", "lr", "seconds", "val_mean_f1"] + [
            f"val_{t}_{m}" for t in labels.TASKS for m in ("acc", "f1")]:
        assert column in history
    model, ckpt = checkpoint.load(result.last_path)  # weights_only=True accepts every value
    assert ckpt["model_config"]["options"]["hidden_size"] == 32 and ckpt["optimizer"] is not None
    assert ckpt["vocab"]["artist"] == labels.vocab("artist") and len(ckpt["history"]) == 2
    _, best = checkpoint.load(result.best_path)
    assert best["epoch"] == ckpt["best"]["epoch"] and "optimizer" not in best
    with pytest.raises(FileExistsError, match="--resume"):
        train.train(sample_dir, "resnet18_gap", out, **TINY)


def test_curves_png_draws_the_majority_baselines_and_the_run_s_weights(sample_dir, tmp_path, monkeypatch):
    """curves.png of a run carries the dashed majority lines (as the notebooks' curves) and its task weights."""
    from wikiart_utils import lesson
    drawn = []
    original = train.plot_curves
    monkeypatch.setattr(train, "plot_curves", lambda *args: drawn.append(args) or original(*args))
    train.train(sample_dir, "resnet18_gap", tmp_path / "run", epochs=1, **TINY)
    _, baselines, weights = drawn[-1]
    assert baselines == pytest.approx(lesson.majority_baselines(sample_dir))
    assert weights == {"artist": 0.5, "genre": 0.5, "style": 1.0}


def test_curves_png_is_redrawn_when_stale_and_always_after_the_last_epoch(sample_dir, tmp_path, monkeypatch):
    """Drawing curves.png costs as much as an epoch on cached tokens, so a run redraws it only when the last
    drawing is CURVES_EVERY_S old -- and after its last epoch, and after a session's last, whatever the age."""
    monkeypatch.setattr(train, "CURVES_EVERY_S", 1e9)
    drawn = []
    original = train.plot_curves
    monkeypatch.setattr(train, "plot_curves", lambda history, *rest: drawn.append(len(history)) or original(history, *rest))
    train.train(sample_dir, "resnet18_gap", tmp_path / "run", epochs=4, **TINY)
    assert drawn == [1, 4]  # missing after epoch 1, then the run's last epoch
    drawn.clear()
    train.train(sample_dir, "resnet18_gap", tmp_path / "split", epochs=4, stop_after=3, **TINY)
    assert drawn == [1, 3]  # the session stops after epoch 3: its curves show epoch 3
    monkeypatch.setattr(train, "CURVES_EVERY_S", 0.0)
    drawn.clear()
    train.train(sample_dir, "resnet18_gap", tmp_path / "always", epochs=3, **TINY)
    assert drawn == [1, 2, 3]
    assert len(pd.read_csv(tmp_path / "run" / "history.csv")) == 4  # history.csv after every epoch regardless


def test_curves_due_is_true_for_a_missing_or_old_drawing(tmp_path):
    path = tmp_path / "curves.png"
    assert train.curves_due(path)
    path.write_bytes(b"png")
    assert not train.curves_due(path)
    assert train.curves_due(path, now=path.stat().st_mtime + train.CURVES_EVERY_S)


def test_frozen_backbone_stays_unchanged(sample_dir, tmp_path):
    torch.manual_seed(0)
    initial = models.build_model("resnet18_lstm_patch", hidden_size=32)
    result = train.train(sample_dir, "resnet18_lstm_patch", tmp_path / "frozen", epochs=1, freeze_backbone=True,
                         seed=0, model_options={"hidden_size": 32}, **TINY)
    model, _ = checkpoint.load(result.last_path)
    before, after = initial.backbone.state_dict(), model.backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # weights and BatchNorm statistics
    assert not torch.equal(initial.heads["style"].weight, model.heads["style"].weight)


def test_early_stopping(sample_dir, tmp_path):
    """lr 0 and a frozen backbone (BatchNorm statistics fixed too): the score can never improve."""
    result = train.train(sample_dir, "resnet18_gap", tmp_path / "stop", epochs=6, lr=0.0, freeze_backbone=True,
                         patience=2, seed=0, **TINY)
    assert result.stopped_early and result.epochs_done == 3 and result.best_epoch == 1
    again = train.train(sample_dir, "resnet18_gap", tmp_path / "stop", epochs=6, resume=True, seed=0, **TINY)
    assert again.stopped_early and again.epochs_done == 3  # a stopped run stays stopped


@pytest.mark.slow
def test_resume_gives_the_same_weights_as_an_uninterrupted_run(sample_dir, tmp_path):
    common = dict(epochs=4, seed=1, model_options={"hidden_size": 32}, **TINY)
    train.train(sample_dir, "resnet18_lstm_patch", tmp_path / "full", **common)
    first = train.train(sample_dir, "resnet18_lstm_patch", tmp_path / "split", stop_after=2, **common)
    assert first.epochs_done == 2
    resumed = train.train(sample_dir, "resnet18_lstm_patch", tmp_path / "split", resume=True, **common)
    assert resumed.epochs_done == 4
    full, a = checkpoint.load(tmp_path / "full" / "last.pt")
    split, b = checkpoint.load(tmp_path / "split" / "last.pt")
    sa, sb = full.state_dict(), split.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert [r["val_loss"] for r in a["history"]] == [r["val_loss"] for r in b["history"]]


def test_train_is_the_bare_engine_loop_step_for_step(sample_dir, tmp_path):
    """What `train` adds around `engine.train_one_epoch` (validation and checkpoint files between epochs,
    the seeding order) changes no weight: the bare loop of `engine`'s docstring ends on the same weights.
    (The real-painting recipe benchmark relies on this: benchmarks/RESULTS.md, "Recipe", r19-r20.)"""
    from wikiart_utils import data, engine, runtime

    args = dict(epochs=2, seed=3, **TINY)
    train.train(sample_dir, "resnet18_gap", tmp_path / "run", **args)
    trained, _ = checkpoint.load(tmp_path / "run" / "last.pt")

    runtime.seed_everything(3)
    model = models.build_model("resnet18_gap", pretrained=False, image_size=64)
    model.to(memory_format=torch.channels_last)  # as train places the weights, like the loader's batches
    train_set = data.WikiArtDataset(sample_dir, "train", 64)
    loader = data.make_loader(train_set, 16, shuffle=True, workers=0, seed=3, drop_last=True)
    settings = TrainConfig(variant="resnet18_gap", epochs=2, seed=3, image_size=64, batch_size=16, pretrained=False,
                           limit_batches=2).resolved()
    optimizer, scheduler = train.make_optimizer(model, settings, 2, torch.device("cpu"))
    criterion = losses.build_criterion(train_set.targets, task_weights=settings.task_weights)  # the regime's
    for epoch in range(2):
        loader.generator.manual_seed(3 + epoch)
        engine.train_one_epoch(model, criterion, optimizer, loader, torch.device("cpu"), scheduler, max_steps=2)
    want, got = trained.state_dict(), model.state_dict()
    assert all(torch.equal(want[k], got[k]) for k in want)


HALVES = {"artist": 0.5, "genre": 0.5, "style": 1.0}
EQUAL = {"artist": 1.0, "genre": 1.0, "style": 1.0}


@pytest.mark.parametrize("options, lr, backbone_scale, weights", [
    (dict(pretrained=False), 2.5e-4, 1.0, HALVES),                    # end to end from scratch (RESULTS r22-r35)
    (dict(pretrained=False, freeze_backbone=2), 2.5e-4, 1.0, HALVES), # the backbone learns after epoch 2
    (dict(pretrained=False, freeze_backbone=True), 2e-3, 1.0, EQUAL),  # only the heads ever learn
    (dict(pretrained=False, freeze_backbone=6), 2e-3, 1.0, EQUAL),     # frozen for all 6 epochs: the same
    (dict(pretrained=True, freeze_backbone=1), 3e-4, 0.1, EQUAL),
    (dict(pretrained=True, freeze_backbone=True), 1e-3, 1.0, EQUAL),  # heads alone on frozen ImageNet features
    (dict(pretrained=False, lr=1e-3), 1e-3, 1.0, HALVES),             # an explicit rate always wins
])
def test_learning_rate_defaults_follow_what_learns(options, lr, backbone_scale, weights):
    settings = TrainConfig(variant="resnet18_gap", epochs=6, **options).resolved()
    assert (settings.lr, settings.backbone_lr_scale, settings.task_weights) == (lr, backbone_scale, weights)


def test_task_weight_defaults_reach_the_loss_and_the_checkpoint(sample_dir, tmp_path):
    """From scratch the artist and genre losses weigh half (RESULTS r32-r35); an explicit choice wins, and
    the weights the run used are saved with it, so a rerun of an old run's settings repeats it."""
    tiny = dict(variant="resnet18_gap", epochs=1, **TINY)
    halves = train.train(sample_dir, out=tmp_path / "default", **tiny)
    equal = train.train(sample_dir, out=tmp_path / "equal", task_weights={"artist": 1, "genre": 1, "style": 1}, **tiny)
    saved = [checkpoint.load(run.last_path)[1]["train_args"]["task_weights"] for run in (halves, equal)]
    assert saved == [HALVES, {"artist": 1, "genre": 1, "style": 1}]
    assert _first_loss(halves.out) < _first_loss(equal.out)  # the same first batches, artist and genre halved


# --------------------------------------------------------------------------- cached tokens: the same loop

CACHED = dict(variant="resnet18_lstm_patch", epochs=2, freeze_backbone=True, cached_features=True, seed=0,
              model_options={"hidden_size": 32}, **TINY)


def _first_loss(out) -> float:
    return pd.read_csv(out / "history.csv")["train_loss"].iloc[0]


@pytest.mark.parametrize("option", [dict(label_smoothing=0.3), dict(class_weights=True), dict(logit_adjust=1.0)])
def test_cached_run_honours_loss_options(sample_dir, tmp_path, option):
    plain = train.train(sample_dir, out=tmp_path / "plain", **{**CACHED, "epochs": 1})
    changed = train.train(sample_dir, out=tmp_path / "changed", **{**CACHED, "epochs": 1}, **option)
    assert _first_loss(changed.out) != pytest.approx(_first_loss(plain.out), abs=1e-4)
    assert checkpoint.load(changed.last_path)[1]["train_args"][next(iter(option))] == next(iter(option.values()))


def test_cached_run_resumes_where_it_stopped(sample_dir, tmp_path, capsys):
    whole = train.train(sample_dir, out=tmp_path / "whole", **CACHED)
    first = train.train(sample_dir, out=tmp_path / "split", stop_after=1, **CACHED)
    assert first.epochs_done == 1
    resumed = train.train(sample_dir, out=tmp_path / "split", resume=True, **CACHED)
    assert "resuming resnet18_lstm_patch after epoch 1 of 2" in capsys.readouterr().out
    assert resumed.epochs_done == 2 and [r["epoch"] for r in resumed.history] == [1, 2]
    a, b = checkpoint.load(whole.last_path)[0].state_dict(), checkpoint.load(resumed.last_path)[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("first_cached", [True, False])
def test_resume_switching_between_cache_and_images_never_crashes(sample_dir, tmp_path, capsys, first_cached):
    out = tmp_path / "run"
    first = {**CACHED, "cached_features": first_cached}
    train.train(sample_dir, out=out, stop_after=1, **first)
    again = train.train(sample_dir, out=out, resume=True, **{**first, "cached_features": not first_cached})
    assert again.epochs_done == 2
    assert "cached_features" in capsys.readouterr().out  # the warning names the changed setting


def test_cached_needs_a_backbone_frozen_for_the_whole_run(sample_dir, tmp_path):
    with pytest.raises(ValueError, match="frozen backbone"):
        train.train(sample_dir, out=tmp_path / "x", **{**CACHED, "freeze_backbone": 1})


def test_the_saved_config_repeats_a_run(sample_dir, tmp_path):
    first = train.train(sample_dir, "resnet18_gap", tmp_path / "a", epochs=1, freeze_backbone=True, seed=3,
                        crop_scale=0.6, **TINY)
    args = checkpoint.load(first.last_path)[1]["train_args"]
    again = train.train(sample_dir, out=tmp_path / "b", config=TrainConfig.from_saved(args), workers=0, progress=False)
    assert checkpoint.load(again.last_path)[1]["train_args"] == args


# --------------------------------------------------------------------------- curves and the run's log

HISTORY = [{"epoch": e, "train_loss": 5.0 - e, "val_loss": 7.0 - e, "val_mean_f1": 0.1 * e,
            **{f"val_{t}_{m}": 0.1 * e for t in labels.TASKS for m in ("acc", "f1")}} for e in (1, 2, 3)]


def test_curves_keep_the_two_losses_apart_and_draw_the_baselines():
    """The weighted training loss and the unweighted validation loss are different numbers: separate panels
    that say which is which; each task's majority baseline is a dashed line in that task's colour."""
    baselines = {"artist": 0.07, "genre": 0.27, "style": 0.45}
    fig = train.plot_curves(HISTORY, baselines, task_weights=HALVES)
    ax_train, ax_val, _, ax_acc = fig.axes
    assert "weighted: artist 0.5, genre 0.5, style 1" in ax_train.get_title()
    assert "unweighted" in ax_val.get_title()
    assert [line.get_ydata()[0] for line in ax_train.lines] == [4.0] and len(ax_val.lines) == 1
    dashed = {line.get_color(): line.get_ydata()[0] for line in ax_acc.lines if line.get_linestyle() == "--"}
    curves = {line.get_label(): line.get_color() for line in ax_acc.lines if line.get_linestyle() != "--"}
    assert {task: dashed[curves[task]] for task in labels.TASKS} == baselines
    assert "majority baseline" in [t.get_text() for t in ax_acc.get_legend().get_texts()]


def test_curves_without_baselines_and_write_history(tmp_path):
    fig = train.plot_curves(HISTORY)
    assert not [line for line in fig.axes[3].lines if line.get_linestyle() == "--"]
    assert "the run's task weights" in fig.axes[0].get_title()
    train.write_history(HISTORY, tmp_path)  # beside the checkpoints: no baselines needed
    assert (tmp_path / "curves.png").stat().st_size > 0 and len(pd.read_csv(tmp_path / "history.csv")) == 3


@pytest.mark.parametrize("options, words", [
    (dict(pretrained=False, freeze_backbone=0), "from scratch: every weight learns"),
    (dict(pretrained=False, freeze_backbone=6), "randomly initialised backbone, frozen: only the LSTM and heads learn"),
    (dict(pretrained=False, freeze_backbone=True, variant="resnet18_gap"), "frozen: only the heads learn"),
    (dict(pretrained=True, freeze_backbone=1), "ImageNet weights, frozen for the first 1 epoch, then trained end to end"),
    (dict(pretrained=True, freeze_backbone=0), "ImageNet weights, fine-tuned end to end"),
])
def test_the_log_says_what_learns(options, words):
    """A frozen random backbone is not 'from scratch': the first log line says what really trains."""
    assert words in train.regime_words(TrainConfig(**{"variant": "vgg16_lstm", "epochs": 6, **options}))


# --------------------------------------------------------------------------- schedules; resuming the saved run

def test_onecycle_follows_torchs_curve_in_every_group():
    """--schedule onecycle: the head's and the backbone's rates follow OneCycleLR up to their own peaks."""
    model = models.build_model("resnet18_gap", pretrained=False, image_size=32)
    config = TrainConfig(variant="resnet18_gap", epochs=2, lr=1e-3, backbone_lr_scale=0.5, schedule="onecycle")
    optimizer, scheduler = train.make_optimizer(model, config, 5, torch.device("cpu"))
    reference = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=1e-3)
    curve = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=1e-3, total_steps=10)
    for _ in range(10):
        head = [g["lr"] for g in optimizer.param_groups if g["name"] == "head"]
        backbone = [g["lr"] for g in optimizer.param_groups if g["name"] == "backbone"]
        want = reference.param_groups[0]["lr"]
        assert head == pytest.approx([want] * len(head)) and backbone == pytest.approx([want / 2] * len(backbone))
        optimizer.step()
        scheduler.step()
        reference.step()
        curve.step()
    assert isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR)


def test_warmup_cosine_is_still_the_default_and_sgd_is_a_setting():
    model = models.build_model("resnet18_gap", pretrained=False, image_size=32)
    optimizer, scheduler = train.make_optimizer(model, TrainConfig(epochs=1, pretrained=False), 4, torch.device("cpu"))
    assert isinstance(optimizer, torch.optim.AdamW) and isinstance(scheduler, torch.optim.lr_scheduler.LambdaLR)
    sgd, _ = train.make_optimizer(model, TrainConfig(epochs=1, optimizer="sgd"), 4, torch.device("cpu"))
    assert isinstance(sgd, torch.optim.SGD) and sgd.param_groups[0]["nesterov"]


def test_resume_keeps_the_saved_settings_and_names_what_is_given(sample_dir, tmp_path, capsys):
    """A setting not given on resume is the saved run's, never the declared default (lr 0 here)."""
    out = tmp_path / "run"
    train.train(sample_dir, "resnet18_gap", out, epochs=2, lr=0.0, stop_after=1, seed=0, **TINY)
    capsys.readouterr()
    again = train.train(sample_dir, out=out, resume=True, epochs=3, label_smoothing=0.1, workers=0, progress=False)
    said = capsys.readouterr().out
    [line] = [line for line in said.splitlines() if line.startswith("resuming with")]
    assert "epochs 2 -> 3" in line and "label_smoothing 0.0 -> 0.1" in line and "lr" not in line.split("(")[0]
    assert "data" not in line  # the same directory
    saved = checkpoint.load(again.last_path)[1]["train_args"]
    assert (saved["lr"], saved["epochs"], saved["label_smoothing"], saved["image_size"]) == (0.0, 3, 0.1, 64)
    assert [row["epoch"] for row in again.history] == [1, 2, 3]


def test_resume_refuses_another_schedule_or_model_shape(sample_dir, tmp_path):
    out = tmp_path / "run"
    train.train(sample_dir, "resnet18_lstm_patch", out, epochs=2, stop_after=1, model_options={"hidden_size": 32},
                **TINY)
    with pytest.raises(ValueError, match="--schedule warmup_cosine"):
        train.train(sample_dir, out=out, resume=True, schedule="onecycle", **TINY)
    with pytest.raises(checkpoint.CheckpointError, match="cannot change on resume"):
        train.train(sample_dir, out=out, resume=True, model_options={"hidden_size": 64}, **TINY)


def test_train_args_of_the_earlier_format_still_read():
    """Checkpoints written before config.py stored freeze_epochs alone and no schedule or optimizer."""
    old = {"data": "data/x", "variant": "vgg16_lstm", "epochs": 15, "image_size": 64, "batch_size": 32, "lr": 2e-3,
           "pretrained": False, "cached_features": True, "backbone_lr_scale": 1.0, "weight_decay": 0.05,
           "warmup_epochs": 2.0, "crop_scale": 0.5, "color_jitter": 0.0, "grad_clip": 0.0, "label_smoothing": 0.0,
           "class_weights": False, "logit_adjust": 0.0, "task_weights": None, "model_options": {},
           "unknown_as_class": None, "train_limit": None, "patience": 5, "seed": 0, "limit_batches": None,
           "amp": True, "compile": False, "decode": "auto", "freeze_epochs": 15}
    config = TrainConfig.from_saved(old)
    assert config.freeze_backbone is True and config.freeze_epochs == 15 and config.schedule == "warmup_cosine"
    assert TrainConfig.from_saved({**old, "freeze_epochs": 1}).freeze_backbone == 1
    assert config.to_saved("data/x") == {**old, "freeze_backbone": True, "schedule": "warmup_cosine",
                                          "optimizer": "adamw"}


def test_cli_resume_continues_the_saved_run(sample_dir, tmp_path, capsys):
    """Trained with --freeze-backbone --cached-features (heads alone: lr 2e-3, equal task weights), resumed
    with --epochs 2 --resume and no other flag: the saved settings, the same cache, no warning. A flag that
    differs on resume is named in one line."""
    out = tmp_path / "heads"
    first = ["train", "--data", str(sample_dir), "--out", str(out), "--no-pretrained", "--freeze-backbone",
             "--cached-features", "--epochs", "1", "--image-size", "64", "--batch-size", "16", "--limit-batches", "2",
             "--workers", "0", "--hidden-size", "32"]
    assert cli.main(first) == 0
    cache = sorted(p.name for p in (out / "features" / "train").iterdir())
    capsys.readouterr()
    assert cli.main(["train", "--data", str(sample_dir), "--out", str(out), "--epochs", "2", "--resume"]) == 0
    said = capsys.readouterr().out
    assert "warning" not in said and "resuming with epochs 1 -> 2\n" in said
    assert "as cached backbone tokens" in said
    assert sorted(p.name for p in (out / "features" / "train").iterdir()) == cache  # the same cache, reused
    _, ckpt = checkpoint.load(out / "last.pt")
    saved = ckpt["train_args"]
    assert (saved["lr"], saved["task_weights"], saved["cached_features"], saved["freeze_backbone"]) == (2e-3, EQUAL,
                                                                                                     True, True)
    assert [row["epoch"] for row in ckpt["history"]] == [1, 2] and ckpt["model_config"]["options"]["hidden_size"] == 32

    assert cli.main(["train", "--data", str(sample_dir), "--out", str(out), "--epochs", "3", "--resume",
                     "--lr", "0.001"]) == 0
    said = capsys.readouterr().out
    [line] = [line for line in said.splitlines() if line.startswith("resuming with")]
    assert "epochs 2 -> 3" in line and "lr 0.002 -> 0.001" in line


def test_cli_schedule_flag_selects_onecycle(sample_dir, tmp_path):
    out = tmp_path / "onecycle"
    argv = ["train", "--data", str(sample_dir), "--out", str(out), "--variant", "resnet18_gap", "--no-pretrained",
            "--epochs", "1", "--image-size", "32", "--batch-size", "16", "--limit-batches", "3", "--workers", "0",
            "--no-progress", "--schedule", "onecycle", "--lr", "0.01"]
    assert cli.main(argv) == 0
    _, ckpt = checkpoint.load(out / "last.pt")
    assert ckpt["train_args"]["schedule"] == "onecycle" and ckpt["scheduler"]["total_steps"] == 3
    reference = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.01)
    curve = torch.optim.lr_scheduler.OneCycleLR(reference, max_lr=0.01, total_steps=3)
    for _ in range(3):
        reference.step()
        curve.step()
    assert ckpt["history"][0]["lr"] == pytest.approx(reference.param_groups[0]["lr"])
