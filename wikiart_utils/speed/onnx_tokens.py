"""A frozen backbone's tokens through ONNX Runtime: the CPU engine of the feature cache.

On a CPU, ONNX Runtime runs EfficientNet-Lite0 at 224 px several times faster than PyTorch eager
(`benchmarks/bench_cache.py` measures both in one run): it fuses each BatchNorm into its convolution and
picks kernels for the machine's vector units. The cache stays the PyTorch model's: the exported graph
is `model.tokens` itself (normalisation included, uint8 images in), and its first batch is checked
against PyTorch (`TOLERANCE`) before anything is written; a graph that disagrees is not used.

    runner = OnnxTokens(model, image_size=224, check=first_images)  # refuses a graph that disagrees
    tokens = runner(images_uint8)        # numpy float32 [B, T, D], equal to model.tokens(images) within 1e-3
"""
from __future__ import annotations

import io
import warnings

import numpy as np
import torch
from torch import nn

from .. import runtime

TOLERANCE = 1e-3  # largest |ONNX - PyTorch| allowed, relative to the largest |token| when that is above 1
SPIN = "0"
CHUNK = 4         # images per ONNX Runtime call: small batches stay in the CPU's caches (bench_cache.py)


def available() -> bool:
    """True when onnxruntime and onnx (the exporter's dependency) are installed."""
    try:
        import onnx  # noqa: F401, PLC0415
        import onnxruntime  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


class _Tokens(nn.Module):
    """`model.tokens` as the module the exporter traces (uint8 images in, tokens out)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.tokens(images)


def export(model: nn.Module, image_size: int) -> bytes:
    """The ONNX graph of `model.tokens` for uint8 images [B, 3, image_size, image_size], any B."""
    example = torch.zeros(1, 3, image_size, image_size, dtype=torch.uint8)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its successor on every call
        torch.onnx.export(_Tokens(model).eval(), (example,), buffer, input_names=["images"],
                          output_names=["tokens"], dynamic_axes={"images": {0: "batch"}, "tokens": {0: "batch"}},
                          opset_version=17, dynamo=False)
    return buffer.getvalue()


def mismatch(reference: np.ndarray, candidate: np.ndarray) -> float:
    """max |candidate - reference| over max(1, max |reference|): below TOLERANCE, the two are the same tokens."""
    return float(np.abs(candidate - reference).max() / max(1.0, float(np.abs(reference).max())))


class OnnxTokens:
    """Callable: uint8 images [B, 3, S, S] (torch) -> tokens float32 numpy [B, T, D], by ONNX Runtime.

    Raises RuntimeError (one line) when the graph cannot be exported or run, or when its tokens differ from
    PyTorch's on `check` by more than TOLERANCE; the caller then stays with PyTorch."""

    def __init__(self, model: nn.Module, image_size: int, check: torch.Tensor | None = None,
                 threads: int | None = None):
        import onnxruntime as ort  # noqa: PLC0415
        model = model.eval()
        try:
            graph = export(model, image_size)
        except Exception as exc:  # noqa: BLE001  (any exporter failure means: stay with PyTorch)
            raise RuntimeError(f"ONNX export failed ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from None
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or runtime.cpu_cores()
        options.log_severity_level = 3
        if SPIN is not None:
            options.add_session_config_entry("session.intra_op.allow_spinning", SPIN)
        self.session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        if check is not None:
            with torch.no_grad():
                reference = model.tokens(check).float().numpy()
            off = mismatch(reference, self(check))
            if not off <= TOLERANCE:
                raise RuntimeError(f"ONNX Runtime's tokens differ from PyTorch's by {off:.1e} (> {TOLERANCE:g})")
            self.checked_mismatch = off

    def __call__(self, images: torch.Tensor) -> np.ndarray:
        array = images.contiguous().numpy()
        parts = [self.session.run(None, {"images": array[i:i + CHUNK]})[0] for i in range(0, len(array), CHUNK)]
        return np.concatenate(parts)
