"""`bench gpu` and `train --compile` on the CPU: the refusal without CUDA, a tiny smoke run (structure and
positive rates only; no timing is asserted), and the compile wiring of train.py."""
from __future__ import annotations

import argparse
import io
import json
from contextlib import redirect_stdout

import torch

from wikiart_utils import bench_gpu, cli, train


def test_bench_gpu_without_cuda_is_one_line_and_status_2(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.main(["bench", "gpu"]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1 and "Traceback" not in err
    assert "no CUDA GPU here" in err and "--device cpu" in err


def test_bench_gpu_cpu_smoke():
    result = bench_gpu.bench_gpu(device="cpu", variants=["resnet18_gap"], image_size=32, batch_size=4, steps=1,
                                 n=8, workers=0, warmup=1)
    result = json.loads(json.dumps(result))  # JSON-safe, as --json/--save write it
    assert result["bench"] == "gpu"
    assert {"machine", "settings", "data", "model_only", "loader_only", "end_to_end", "gpu_decode"} <= set(result)
    machine = result["machine"]
    assert machine["torch"] == torch.__version__ and machine["cores"] >= 1 and machine["date_utc"]

    rows = result["model_only"]["resnet18_gap"]
    assert set(rows) == {"fp32", "fp32_cl", "bf16_cl"}  # fp16 and compile are CUDA-only here
    assert set(result["settings"]["skipped_configs"]) == {"fp16_cl"}
    for row in rows.values():
        assert row["images_per_s"] > 0 and row["loss_finite"]

    for name in ("originals", "prepared"):
        runs = result["loader_only"][name]
        assert set(runs) == {"workers_0", "workers_2"}
        assert all(r["images_per_s"] > 0 and r["images"] > 0 for r in runs.values())
    e2e = result["end_to_end"]["resnet18_gap"]
    assert e2e["config"] == "bf16_cl"
    for name in ("originals", "prepared"):
        assert e2e[name]["images_per_s"] > 0 and e2e[name]["vs_model_only"] > 0
        assert isinstance(e2e[name]["keeps_up"], bool)
    assert "skipped" in result["gpu_decode"]
    assert result["data"]["prepared"]["mean_kb"] < result["data"]["originals"]["mean_kb"]

    text = bench_gpu.format_gpu(result)
    for heading in ("model only", "loader only", "end to end", "GPU JPEG decoding: skipped"):
        assert heading in text


def test_train_compile_steps_through_the_compiled_module_and_saves_the_plain_one(sample_dir, tmp_path,
                                                                                   monkeypatch):
    """--compile routes the training and validation forwards through torch.compile's module; the checkpoint
    holds the plain model's weights (no `_orig_mod.` prefix). torch.compile is replaced by a counting
    wrapper: Inductor would take minutes on this CPU; the wiring is what is tested."""
    calls = {"compiled": 0, "forwards": 0}

    class Counting(torch.nn.Module):
        def __init__(self, module: torch.nn.Module):
            super().__init__()
            self.inner = module

        def forward(self, x):
            calls["forwards"] += 1
            return self.inner(x)

    def fake_compile(module, *args, **kwargs):
        calls["compiled"] += 1
        return Counting(module)

    monkeypatch.setattr(torch, "compile", fake_compile)
    parser = train.add_train_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--data", str(sample_dir), "--out", str(tmp_path / "run"), "--variant", "resnet18_gap",
                              "--epochs", "1", "--image-size", "32", "--batch-size", "16", "--no-pretrained",
                              "--workers", "0", "--limit-batches", "2", "--no-progress", "--compile"])
    assert args.compile
    with redirect_stdout(io.StringIO()):
        result = train.run_from_args(args)
    assert calls["compiled"] == 1 and calls["forwards"] == 4  # 2 training + 2 validation batches
    model, ckpt = train.load_checkpoint(result.last_path)
    assert not any(k.startswith(("inner.", "_orig_mod.")) for k in ckpt["model"])
