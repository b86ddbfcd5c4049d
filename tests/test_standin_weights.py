"""The pretrained loading path runs offline on stand-in weight files (random tensors, never ImageNet):
the same torchvision weight enums, the same hub-cache lookup, the same `models.load_pretrained`."""
import importlib.util
from pathlib import Path

import pytest
import torch

from wikiart_utils import models

TOOL = Path(__file__).resolve().parents[1] / "tools" / "standin_weights.py"
spec = importlib.util.spec_from_file_location("standin_weights", TOOL)
standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standin)


@pytest.fixture
def hub(tmp_path):
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(previous)


def test_pretrained_resnet18_loads_the_file_in_the_hub_cache(hub, capsys):
    (path,) = standin.write(hub, only=["resnet18"])
    capsys.readouterr()
    assert path.name == "resnet18-f37072fd.pth"
    model = models.build_model("resnet18_lstm_patch", pretrained=True, image_size=64)
    saved = torch.load(path, weights_only=True)
    loaded = dict(model.backbone.named_parameters())["features.0.weight"]  # ResNet's conv1, first in the stack
    assert torch.equal(loaded, saved["conv1.weight"])
    assert capsys.readouterr().out == f"loaded pretrained weights ResNet18_Weights.IMAGENET1K_V1 from {path}\n"


def test_without_the_file_pretrained_fails_in_one_line_offline(hub, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("<urlopen error [Errno -3] Temporary failure in name resolution>")
    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(models.PretrainedWeightsUnavailable) as info:
        models.build_model("resnet18_gap", pretrained=True, image_size=64)
    assert "\n" not in str(info.value) and str(hub) in str(info.value)


def test_the_tool_refuses_the_real_cache():
    with pytest.raises(SystemExit, match="refusing"):
        standin.main(["--hub-dir", torch.hub.get_dir()])
