"""benchmarks/bench_gpu.py and `train --compile` on the CPU: the refusal without CUDA, a tiny smoke run
of both input paths (structure and positive rates only; no timing is asserted), the gpu_decode loader on
CPU tensors, and the compile wiring of train.py."""
from __future__ import annotations

import json
import multiprocessing
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
    """One function per input path: the DataLoader's CPU workers and gpu_input's GPU decoding."""
    assert list(bench_gpu.INPUT_PATHS) == ["cpu_workers", "gpu_decode"]
    assert all(callable(f) for f in bench_gpu.INPUT_PATHS.values())
    assert bench_gpu.input_path_unavailable("gpu_decode", torch.device("cpu")) is None  # CPU tensors: runs


def test_input_path_flag_takes_several_and_defaults_to_all():
    parser = bench_gpu.build_parser()
    assert parser.parse_args([]).input_path is None  # bench_gpu: None = every path
    assert parser.parse_args(["--input-path", "gpu_decode", "cpu_workers"]).input_path == ["gpu_decode", "cpu_workers"]
    assert parser.parse_args(["--min-seconds", "0.5"]).min_seconds == 0.5


def test_bench_gpu_cpu_smoke(monkeypatch):
    """Both input paths by default; loader only and end to end with 0 workers and with 2 (colab_workers).
    Each loader run is 1 untimed + 1 timed batch (not workers+1 and 8 per worker): 16 of them here, and
    structure, not timing, is tested."""
    monkeypatch.setattr(bench_gpu, "skip_batches", lambda workers: 1)
    monkeypatch.setattr(bench_gpu, "timed_batches", lambda workers, at_least: at_least)
    with common.torch_threads(1):  # two intra-op threads on a busy 2-core machine make each step seconds long
        result = bench_gpu.bench_gpu(device="cpu", variants=["resnet18_gap"], image_size=32, batch_size=2, steps=1,
                                     n=8, workers=0, warmup=1, loader_batches=1)
    result = json.loads(json.dumps(result))  # JSON-safe, as --json/--save write it
    assert result["bench"] == "gpu"
    assert {"machine", "settings", "data", "model_only", "loader_only", "end_to_end", "gpu_decode",
            "loader_only_by_path", "e2e_2workers_vs_model_only"} <= set(result)
    machine = result["machine"]
    assert machine["torch"] == torch.__version__ and machine["cores"] >= 1 and machine["date_utc"]
    settings = result["settings"]
    assert settings["input_path"] == "cpu_workers"  # the path of the earlier keys (loader_only, end_to_end[v][dir])
    assert settings["input_paths"] == ["cpu_workers", "gpu_decode"] and not settings["skipped_input_paths"]

    rows = result["model_only"]["resnet18_gap"]
    assert set(rows) == {"fp32", "fp32_cl", "bf16_cl"}  # fp16 and compile are CUDA-only here
    assert set(settings["skipped_configs"]) == {"fp16_cl"}
    for row in rows.values():
        assert row["images_per_s"] > 0 and row["loss_finite"]

    paths = ("cpu_workers", "gpu_decode")
    assert set(result["loader_only_by_path"]) == set(paths)
    assert result["loader_only"] == result["loader_only_by_path"]["cpu_workers"]
    for path in paths:
        for name in ("originals", "prepared"):
            runs = result["loader_only_by_path"][path][name]
            assert set(runs) == {"workers_0", "workers_2"}
            assert all(r.get("images_per_s", 0) > 0 and r["images"] > 0 for r in runs.values()), runs
    e2e = result["end_to_end"]["resnet18_gap"]
    assert e2e["config"] == "bf16_cl"
    for name in ("originals", "prepared"):  # the earlier layout: the first path, this machine's workers
        assert e2e[name] == e2e["input_paths"]["cpu_workers"][name]["workers_0"]
    for path in paths:
        for name in ("originals", "prepared"):
            for w in ("workers_0", "workers_2"):
                run = e2e["input_paths"][path][name][w]
                assert run.get("images_per_s", 0) > 0 and run["vs_model_only"] > 0, run
                assert isinstance(run["keeps_up"], bool)

    ratios = result["e2e_2workers_vs_model_only"]["resnet18_gap"]
    for path in paths:
        for name in ("originals", "prepared"):
            expected = e2e["input_paths"][path][name]["workers_2"]["images_per_s"] / e2e["model_only_images_per_s"]
            assert ratios[path][name] > 0 and abs(ratios[path][name] - expected) < 0.01
    assert ratios["best"] == max(ratios[p]["prepared"] for p in paths)
    assert ratios[ratios["best_input_path"]]["prepared"] == ratios["best"]
    assert ratios["target_met"] is (ratios["best"] >= 0.9)

    assert "skipped" in result["gpu_decode"]
    assert result["data"]["prepared"]["mean_kb"] < result["data"]["originals"]["mean_kb"]

    text = bench_gpu.format_gpu(result)
    for heading in ("model only", "loader only", "end to end", "with 2 workers", "GPU JPEG decoding: skipped",
                    "gpu_decode   originals"):
        assert heading in text
    assert "failed" not in text


def test_e2e_2workers_summary_picks_the_best_path_on_prepared_files():
    def run(rate):
        return {"images_per_s": rate, "vs_model_only": round(rate / 100, 3)} if rate else {"error": "boom"}

    end_to_end = {"m": {"config": "bf16_cl", "model_only_images_per_s": 100.0, "input_paths": {
        "cpu_workers": {"originals": {"workers_2": run(30)}, "prepared": {"workers_2": run(60)}},
        "gpu_decode": {"originals": {"workers_2": run(80)}, "prepared": {"workers_2": run(95)}}}},
                  "n": {"config": "bf16_cl", "model_only_images_per_s": 100.0, "input_paths": {
        "cpu_workers": {"originals": {"workers_2": run(0)}, "prepared": {"workers_2": run(0)}}}}}
    summary = bench_gpu.e2e_vs_model_only(end_to_end, 2)
    assert summary["m"] == {"cpu_workers": {"originals": 0.3, "prepared": 0.6},
                            "gpu_decode": {"originals": 0.8, "prepared": 0.95},
                            "best": 0.95, "best_input_path": "gpu_decode", "target_met": True}
    assert summary["n"]["cpu_workers"] == {"originals": None, "prepared": None}  # failed runs
    assert summary["n"]["best"] is None and summary["n"]["target_met"] is False


def test_gpu_decode_loader_on_cpu_yields_uint8_channels_last_batches_and_closes(sample_dir):
    """The GPU input path with device="cpu": `batches` full batches of the requested size, uint8 and
    channels_last, from 2 workers that exit when the bench closes the loader."""
    loader = bench_gpu.gpu_decode_loader(sample_dir, 32, 4, 2, 3, 0, torch.device("cpu"))
    before = set(multiprocessing.active_children())
    try:
        batches = list(loader)
        workers = set(multiprocessing.active_children()) - before
        assert len(workers) == 2  # persistent: alive after the epoch, until closed
    finally:
        bench_gpu.close_loader(loader)
    assert len(batches) == 3
    for images, targets in batches:
        assert images.dtype == torch.uint8 and images.shape == (4, 3, 32, 32)
        assert images.is_contiguous(memory_format=torch.channels_last)
        assert targets.shape == (4, 3) and targets.dtype == torch.long
    assert not workers & set(multiprocessing.active_children())
    assert all(not w.is_alive() for w in workers)


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
