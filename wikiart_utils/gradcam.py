"""Grad-CAM: where in a painting the evidence for a class lies (Selvaraju et al., ICCV 2017).

    heat = gradcam(model, image, "style")      # [H, W] in 0..1 for the predicted style
    layer, h, w = gradcam_layer(model)         # the feature map it reads, and its cells

It weights a backbone feature map by the gradient of a class's logit. The map is the deepest one with at
least `MIN_CAM_CELLS` cells a side (ResNet-18's last stage is 2x2 at 64 px: too coarse to point anywhere):
a CNN backbone's stages (ResNet-18, VGG-16, EfficientNet-Lite0) or a ViT's patch tokens.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from . import data, models

MIN_CAM_CELLS = 7  # a Grad-CAM map coarser than 7x7 cells says little more than "the left half"


RESNET_STAGES = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")


def _cam_candidates(model: models.MultitaskNet) -> list[tuple[str, torch.nn.Module]]:
    """Modules whose output Grad-CAM may read, shallow to deep: every stage of a CNN backbone's `features`
    (ResNet-18, VGG-16) or EfficientNet-Lite0's block stages and head, or a ViT's final token LayerNorm (its
    patch tokens)."""
    backbone = model.backbone
    if hasattr(backbone, "vit"):
        return [("patch tokens", backbone.vit.encoder.ln)]  # ViTTokens calls encoder.ln, not encoder()
    if isinstance(backbone, models.EfficientNetLiteTokens):
        net = backbone.net
        return [(f"blocks[{i}]", stage) for i, stage in enumerate(net.blocks)] + [("head (bn2)", net.bn2)]
    names = RESNET_STAGES if isinstance(backbone, models.ResNetTokens) else None
    return [(names[i] if names else f"features[{i}]", m) for i, m in enumerate(backbone.features)]


def _run_recording(model: models.MultitaskNet, x: torch.Tensor) -> tuple[dict, dict[str, torch.Tensor]]:
    """model(x) with the output of every Grad-CAM candidate kept (and its gradient retained)."""
    saved: dict[str, torch.Tensor] = {}

    def keep(name):
        def hook(_module, _inputs, output):
            if output.requires_grad:
                output.retain_grad()
            saved[name] = output
        return hook

    handles = [m.register_forward_hook(keep(name)) for name, m in _cam_candidates(model)]
    try:
        return model(x), saved
    finally:
        for handle in handles:
            handle.remove()


def _grid(output: torch.Tensor, image_hw: tuple[int, int], patch: int = 16) -> tuple[int, int]:
    """Cells of a saved map: [B, C, h, w] for a CNN, [B, 1 + h*w, D] tokens of a ViT (patch size 16)."""
    return (image_hw[0] // patch, image_hw[1] // patch) if output.dim() == 3 else tuple(output.shape[-2:])


def _pick_layer(model: models.MultitaskNet, saved: dict, image_hw: tuple[int, int], min_cells: int) -> str:
    """The deepest recorded map with at least min_cells x min_cells cells: deep enough to be about the
    classes, fine enough to say where (ResNet-18 at 64 px: layer4 is 2x2, layer2 8x8)."""
    fine = [name for name, out in saved.items() if min(_grid(out, image_hw)) >= min_cells]
    if not fine:
        variant, size = model.config["variant"], model.config["image_size"]
        best = max((_grid(out, image_hw) for out in saved.values()), key=min)
        raise ValueError(f"Grad-CAM of {variant} at {size} px: its finest usable map has {best[0]}x{best[1]} cells, "
                         f"fewer than {min_cells}x{min_cells}; explain a ResNet-18 or VGG-16 run, a ViT trained at "
                         f">= {16 * min_cells} px, or pass a smaller min_cells")
    return fine[-1]


def gradcam_layer(model: models.MultitaskNet, min_cells: int = MIN_CAM_CELLS) -> tuple[str, int, int]:
    """(layer, rows, columns) of the map `gradcam` reads at the model's own image size; ValueError when
    no map of at least min_cells x min_cells exists (a ViT at 64 px has 4x4 patches)."""
    size = model.config["image_size"]
    with torch.no_grad():
        _, saved = _run_recording(model.eval(), torch.zeros(1, 3, size, size))
    name = _pick_layer(model, saved, (size, size), min_cells)
    return (name, *_grid(saved[name], (size, size)))


def gradcam(model: models.MultitaskNet, image: torch.Tensor, task: str, class_index: int | None = None,
            min_cells: int = MIN_CAM_CELLS) -> np.ndarray:
    """Grad-CAM heat map [H, W] in 0..1 for one Dataset image [3, H, W] and one task's class (default: the
    predicted one).

    The map weights a backbone feature map by the gradient of the class logit, so it shows where the
    evidence for that class lies. It reads the deepest map with at least min_cells x min_cells cells
    (`gradcam_layer`): the last ResNet stage is 2x2 at 64 px, too coarse to point at anything. For a ViT
    it reads the patch tokens. Selvaraju et al., ICCV 2017.
    """
    model.eval()
    with torch.enable_grad():
        x = data.to_display(image).unsqueeze(0).requires_grad_(True)  # floats in [0, 1]: uint8 has no grad
        logits, saved = _run_recording(model, x)
        scores = logits[task][0]
        target = int(scores.argmax()) if class_index is None else class_index
        model.zero_grad(set_to_none=True)
        scores[target].backward()
    hw = tuple(image.shape[-2:])
    name = _pick_layer(model, saved, hw, min_cells)
    act, grad = saved[name].detach(), saved[name].grad
    if act.dim() == 3:  # ViT: [1, 1 + h*w, D] -> [1, D, h, w], CLS (first here) dropped
        side = _grid(act, hw)
        act = act[:, 1:].transpose(1, 2).reshape(1, -1, *side)
        grad = grad[:, 1:].transpose(1, 2).reshape(1, -1, *side)
    weights = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((weights * act).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=hw, mode="bilinear", align_corners=False)[0, 0]
    cam = cam - cam.min()
    return (cam / cam.max()).numpy() if float(cam.max()) > 0 else cam.numpy()