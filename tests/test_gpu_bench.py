"""benchmarks/bench_gpu.py and `train --compile` on the CPU: the refusal without CUDA, a tiny smoke run
(structure and positive rates only; no timing is asserted), and the compile wiring of train.py."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `benchmarks` is a folder of scripts beside the package, not installed
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import bench_gpu, common  # noqa: E402
from wikiart_utils import checkpoint, cli  # noqa: E402


def test_bench_gpu_without_cuda_is_one_line_and_status_2(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert bench_gpu.main([]) == 2
    out, err = capsys.readouterr()
    assert not out and err.count("\n") == 1 and "Traceback" not in err
    assert "no CUDA GPU here" in err and "--device cpu" in err


def test_bench_gpu_script_runs_from_the_repository_root():
    """`python benchmarks/bench_gpu.py --help` as a script (not imported): it finds `benchmarks.common`."""
    result = subprocess.run([sys.executable, "benchmarks/bench_gpu.py", "--help"], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--device" in result.stdout and "--input-path" in result.stdout


def test_input_paths_registry():
    """One function per input path (the GPU decode path will be one more entry)."""
    assert list(bench_gpu.INPUT_PATHS) == ["cpu_workers"]
    assert all(callable(f) for f in bench_gpu.INPUT_PATHS.values())


def test_bench_gpu_cpu_smoke():
    with common.torch_threads(1):  # two intra-op threads on a busy 2-core machine make each step seconds long
        result = bench_gpu.bench_gpu(device="cpu", variants=["resnet18_gap"], image_size=32, batch_size=4, steps=1,
                                     n=8, workers=0, warmup=1)
    result = json.loads(json.dumps(result))  # JSON-safe, as --json/--save write it
    assert result["bench"] == "gpu"
    assert {"machine", "settings", "data", "model_only", "loader_only", "end_to_end", "gpu_decode"} <= set(result)
    machine = result["machine"]
    assert machine["torch"] == torch.__version__ and machine["cores"] >= 1 and machine["date_utc"]
    assert result["settings"]["input_path"] == "cpu_workers"

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


def test_timed_batches_start_the_clock_after_the_skipped_ones():
    batches = [(torch.zeros(2, 3, 4, 4), torch.zeros(2, 3)) for _ in range(5)]
    timed = bench_gpu.TimedBatches(batches, torch.device("cpu"), skip=2)
    seen = [batch for batch in timed]
    assert len(seen) == 5 and timed.images == 6  # 3 timed batches of 2
    assert timed.result()["images"] == 6


def test_train_compile_steps_through_the_compiled_module_and_saves_the_plain_one(sample_dir, tmp_path,
                                                                                   monkeypatch, capsys):
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
    out = tmp_path / "run"
    code = cli.main(["train", "--data", str(sample_dir), "--out", str(out), "--variant", "resnet18_gap",
                     "--epochs", "1", "--image-size", "32", "--batch-size", "16", "--no-pretrained",
                     "--workers", "0", "--limit-batches", "2", "--no-progress", "--compile"])
    assert code == 0, capsys.readouterr().err
    assert calls["compiled"] == 1 and calls["forwards"] == 4  # 2 training + 2 validation batches
    _, ckpt = checkpoint.load(out / "last.pt")
    assert not any(k.startswith(("inner.", "_orig_mod.")) for k in ckpt["model"])
