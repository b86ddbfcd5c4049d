"""Benchmarks: tiny smoke runs (structure and positive rates only; no timing is asserted)."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
import torch

from wikiart_utils import bench, cli, data


def _json_safe(result: dict) -> dict:
    return json.loads(json.dumps(result))


def test_make_photo_is_deterministic_and_jpeg_sized_like_wikiart(tmp_path):
    a, b = bench.make_photo(1280, 1024, seed=3), bench.make_photo(1280, 1024, seed=3)
    assert a.size == (1280, 1024) and a.tobytes() == b.tobytes()
    a.save(tmp_path / "a.jpg", quality=90)
    assert 150_000 < (tmp_path / "a.jpg").stat().st_size < 600_000  # ~300 KB, like an average WikiArt file


def test_older_loader_output(tmp_path):
    bench.make_photo(90, 60, seed=0).save(tmp_path / "x.jpg")
    out = bench.older_load(tmp_path / "x.jpg", 32)
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32


def test_bench_loader_smoke():
    result = _json_safe(bench.bench_loader(n=3, image_size=32, rounds=1, prepare_size=40, width=120, height=96))
    assert result["bench"] == "loader"
    assert {"older", "ours_originals", "ours_originals_train", "ours_prepared", "ours_prepared_train"} <= set(result["pipelines"])
    for rates in result["pipelines"].values():
        assert rates["images_per_s"] > 0 and rates["images_per_s_wall"] > 0
    assert result["ratios"]["prepared_vs_older"] > 0 and result["ratios"]["originals_vs_older"] > 0
    assert set(result["targets"]) == {"prepared_vs_older", "originals_vs_older"}
    prep = result["prepare"]
    assert prep["images"] == 3 and prep["bytes_per_image_prepared"] < prep["bytes_per_image_original"]
    assert prep["full_wikiart"]["prepared_gb"] > 0
    machine = result["machine"]
    assert machine["cores"] >= 1 and machine["torch"] == torch.__version__ and machine["cpu"] and machine["date"]
    assert result["settings"]["threads"] == 1


def test_bench_loader_times_what_the_model_consumes(sample_dir):
    """Ours is timed up to the normalised float tensor the older loader also returns."""
    dataset = data.WikiArtDataset(sample_dir, "val", 48, train=False)
    out = bench._to_model_input(dataset)(0)
    assert out.shape == (1, 3, 48, 48) and out.dtype == torch.float32
    assert out.is_contiguous(memory_format=torch.channels_last)  # the layout the CNNs run in
    assert torch.allclose(out[0], data.normalize(dataset[0][0]), atol=1e-6)


def test_bench_features_smoke():
    result = _json_safe(bench.bench_features(n=60, sample_size=32, image_size=32, variants=["resnet18_lstm_patch"],
                                             epochs=1, batch_size=8))
    assert result["bench"] == "features"
    assert result["ratios"]["cached_vs_end_to_end"] > 0
    assert set(result["ratios"]["by_variant"]) == {"resnet18_lstm_patch"}
    run = result["variants"]["resnet18_lstm_patch"]
    assert run["backbone_unchanged"]
    for name in ("cached", "end_to_end"):
        assert run[name]["median_epoch_cpu_seconds"] > 0 and "val_mean_f1" in run[name]["metrics"]
    assert abs(run["metric_diff"]["val_loss"]) < 0.05  # same head, data and order; only fp16 rounding differs


def test_bench_train_smoke():
    result = _json_safe(bench.bench_train(sizes=[32], variants=["resnet18_gap"], batch_size=2, steps=1))
    (row,) = result["rows"]
    assert row["variant"] == "resnet18_gap" and row["image_size"] == 32
    for config in ("plain", "ours"):
        assert row[config]["images_per_s"] > 0 and row[config]["steps"] == 1 and row[config]["finite_loss"]
    assert row["speedup"] > 0 and result["ratios"]["ours_vs_plain"]["resnet18_gap@32"] == row["speedup"]


@pytest.mark.parametrize("name", ["loader", "features", "train"])
def test_cli_help(name):
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as stop:
        cli.main(["bench", name, "--help"])
    assert stop.value.code == 0 and "--json" in out.getvalue()


def test_cli_json_output(tmp_path):
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["bench", "train", "--sizes", "32", "--variants", "resnet18_gap", "--batch-size", "2",
                         "--steps", "1", "--json", "--save", str(tmp_path / "r.json")])
    assert code == 0
    printed = json.loads(out.getvalue())
    assert printed["bench"] == "train" and "ratios" in printed
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == printed["rows"]
