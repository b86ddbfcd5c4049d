"""Model registry: shapes at 64 and 224 px, the tokens/head split, options, pretrained loading offline."""
from __future__ import annotations

import urllib.error

import pytest
import torch
import torchvision
from torchvision.models._api import WeightsEnum

from wikiart_utils import labels, models

N_CLASSES = labels.num_classes()


def logits_shapes(out: dict) -> dict:
    return {task: tuple(t.shape) for task, t in out.items()}


def expected(batch: int = 2) -> dict:
    return {task: (batch, n) for task, n in N_CLASSES.items()}


@pytest.mark.parametrize("variant", models.variant_names())
def test_every_variant_at_64px(variant):
    torch.manual_seed(0)
    model = models.build_model(variant, image_size=64).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64))
    assert logits_shapes(out) == expected()
    assert all(torch.isfinite(t).all() for t in out.values())


@pytest.mark.slow
@pytest.mark.parametrize("variant, tokens", [("resnet18_lstm_patch", (49, 512)), ("resnet18_lstm_flatten", (512, 49)),
                                             ("vgg16_lstm", (49, 512)), ("vit_b16_lstm", (197, 768)),
                                             ("resnet18_gap", (49, 512))])
def test_every_variant_at_224px(variant, tokens):
    model = models.build_model(variant, image_size=224).eval()
    with torch.no_grad():
        seq = model.tokens(torch.randn(2, 3, 224, 224))
        out = model.head(seq)
    assert tuple(seq.shape) == (2, *tokens)
    assert logits_shapes(out) == expected()


def test_tokens_then_head_is_forward():
    model = models.build_model("resnet18_lstm_patch", readout="attention").eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        assert torch.equal(model(x)["style"], model.head(model.tokens(x))["style"])


@pytest.mark.parametrize("options", [dict(readout="last", bidirectional=True), dict(readout="mean", lstm_layers=2),
                                     dict(readout="attention", hidden_size=32, bidirectional=True, lstm_layers=2)])
def test_sequence_options(options):
    model = models.build_model("resnet18_lstm_patch", **options).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 3, 64, 80))  # non-square works too
    assert logits_shapes(out) == expected(3)
    dirs = 2 if options.get("bidirectional") else 1
    assert model.heads["artist"].in_features == options.get("hidden_size", 256) * dirs


def test_backbone_and_head_parameters_partition_the_model():
    model = models.build_model("resnet18_lstm_patch")
    backbone = {id(p) for p in model.backbone.parameters()}
    head = {id(p) for p in model.head_parameters()}
    assert backbone and head and not backbone & head
    assert backbone | head == {id(p) for p in model.parameters()}


def test_gap_has_no_recurrence():
    model = models.build_model("resnet18_gap")
    assert not any(isinstance(m, torch.nn.LSTM) for m in model.modules())
    assert model.heads["style"].in_features == 512


def test_config_rebuilds_the_same_architecture():
    model = models.build_model("resnet18_lstm_flatten", image_size=96, hidden_size=64, readout="mean")
    assert model.config == {"variant": "resnet18_lstm_flatten", "image_size": 96, "pretrained": False,
                            "options": {**models.DEFAULT_OPTIONS, "hidden_size": 64, "readout": "mean"}}
    clone = models.build_from_config(model.config)
    clone.load_state_dict(model.state_dict())  # strict: same keys and shapes


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="unknown model variant 'resnet50'"):
        models.build_model("resnet50")
    with pytest.raises(TypeError, match="hidden"):
        models.build_model("resnet18_gap", hiden_size=3)
    with pytest.raises(ValueError, match="readout"):
        models.build_model("resnet18_lstm_patch", readout="max")
    with pytest.raises(ValueError, match="divisible by 16"):
        models.build_model("vit_b16_lstm", image_size=100)


def test_vit_tokens_match_torchvision_and_accept_other_sizes():
    """Patch tokens then CLS; the CLS token equals torchvision's own encoder output; 96 px input on a
    64 px model works through interpolated position embeddings."""
    torch.manual_seed(0)
    model = models.build_model("vit_b16_lstm", image_size=64).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        seq = model.backbone(x)  # tokens() = backbone(normalize(images))
        cls = model.backbone.vit(x)  # torchvision forward with heads removed: the CLS token
        assert torch.allclose(seq[:, -1], cls, atol=1e-5)
        assert model.tokens(torch.randn(1, 3, 96, 96)).shape == (1, 36 + 1, 768)


# --------------------------------------------------------------------------- pretrained weights, offline

@pytest.fixture
def offline(monkeypatch):
    def no_network(self, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
    monkeypatch.setattr(WeightsEnum, "get_state_dict", no_network)


@pytest.mark.parametrize("variant, enum", [("resnet18_lstm_patch", "ResNet18_Weights.IMAGENET1K_V1"),
                                           ("resnet18_gap", "ResNet18_Weights.IMAGENET1K_V1"),
                                           ("vgg16_lstm", "VGG16_Weights.IMAGENET1K_V1"),
                                           ("vit_b16_lstm", "ViT_B_16_Weights.IMAGENET1K_V1")])
def test_offline_pretrained_error_names_weights_cache_and_fix(offline, variant, enum):
    with pytest.raises(models.PretrainedWeightsUnavailable) as info:
        models.build_model(variant, pretrained=True, image_size=64)
    message = str(info.value)
    assert "\n" not in message
    assert enum in message and torch.hub.get_dir() in message and "--no-pretrained" in message


def test_pretrained_vgg_loads_only_the_feature_weights(monkeypatch):
    features = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(1)  # must be ignored
    monkeypatch.setattr(WeightsEnum, "get_state_dict", lambda self, *a, **k: state)
    model = models.build_model("vgg16_lstm", pretrained=True)
    assert torch.equal(model.backbone.features[0].weight, features[0].weight)
    assert model.config["pretrained"] is True


@pytest.mark.slow
def test_pretrained_vit_at_64px_interpolates_position_embeddings(monkeypatch):
    reference = torchvision.models.vit_b_16()
    monkeypatch.setattr(WeightsEnum, "get_state_dict", lambda self, *a, **k: reference.state_dict())
    model = models.build_model("vit_b16_lstm", pretrained=True, image_size=64)
    want = torchvision.models.vision_transformer.interpolate_embeddings(64, 16, reference.state_dict())
    assert model.backbone.vit.encoder.pos_embedding.shape == (1, 17, 768)
    assert torch.equal(model.backbone.vit.encoder.pos_embedding, want["encoder.pos_embedding"])
    assert torch.equal(model.backbone.vit.conv_proj.weight, reference.conv_proj.weight)
