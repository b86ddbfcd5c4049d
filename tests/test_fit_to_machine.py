"""`runtime.fit_to_machine`: the full profile's "auto" workers and batch size follow the machine."""
from __future__ import annotations

import pytest

from wikiart_utils import runtime

FULL = dict(image_size=224, epochs=15, batch_size="auto", pretrained=True, freeze_backbone=1, workers="auto")


def test_a_two_core_colab_machine_with_a_16_gb_t4(monkeypatch):
    """Colab: 2 cores, a T4 with 15 GiB. Workers follow the cores; ViT-B/16 gets half the ResNets' batch."""
    monkeypatch.setattr(runtime.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    fitted = {v: runtime.fit_to_machine(v, FULL, gpu_gib=15.0) for v in runtime.STEP_GIB_AT_64}
    assert {v: f["workers"] for v, (f, _) in fitted.items()} == dict.fromkeys(runtime.STEP_GIB_AT_64, 2)
    assert {v: f["batch_size"] for v, (f, _) in fitted.items()} == {
        "resnet18_lstm_patch": 128, "resnet18_lstm_flatten": 128, "vgg16_lstm": 128, "vit_b16_lstm": 64,
        "resnet18_gap": 128, "efficientnet_lite0_lstm": 128, "efficientnet_lite0_gap": 128}
    settings, line = fitted["vit_b16_lstm"]
    assert line == "this machine: workers 2 (2 cores), batch 64 (a step of vit_b16_lstm at 224 px ~5.8 GiB of the GPU's 15 GiB)"
    assert {k: v for k, v in settings.items() if k not in ("workers", "batch_size")} == {
        k: v for k, v in FULL.items() if k not in ("workers", "batch_size")}


@pytest.mark.parametrize("cores, workers", [(1, 1), (2, 2), (16, 8)])
def test_workers_from_cores_capped(cores, workers):
    assert runtime.fit_to_machine("resnet18_gap", FULL, cores=cores, gpu_gib=80.0)[0]["workers"] == workers


def test_small_gpus_and_no_gpu():
    assert runtime.fit_to_machine("vit_b16_lstm", FULL, cores=2, gpu_gib=8.0)[0]["batch_size"] == 32
    assert runtime.fit_to_machine("vit_b16_lstm", FULL, cores=2, gpu_gib=2.0)[0]["batch_size"] == 8
    settings, line = runtime.fit_to_machine("vgg16_lstm", FULL, cores=2, gpu_gib=None)
    assert settings["batch_size"] == 32 and "batch 32 (no GPU)" in line


def test_numbers_are_kept_and_nothing_said():
    fixed = {**FULL, "batch_size": 48, "workers": 3}
    assert runtime.fit_to_machine("vit_b16_lstm", fixed, cores=2, gpu_gib=15.0) == (fixed, "")


def test_the_real_machine_is_read(monkeypatch):
    """Without overrides, the cores come from the process's affinity and the GPU from torch."""
    monkeypatch.setattr(runtime, "gpu_memory_gib", lambda: None)
    settings, line = runtime.fit_to_machine("resnet18_gap", FULL)
    assert settings["workers"] == min(runtime.MAX_WORKERS, runtime.cpu_cores()) and settings["batch_size"] == 32
