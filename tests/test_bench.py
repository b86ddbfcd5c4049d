"""The CPU benchmark scripts (benchmarks/bench_*.py): tiny smoke runs (structure and positive rates only; no
timing is asserted), their command lines, and the layering rules that moved them out of the package:
`wikiart_utils` holds no bench module and no module of it uses another's private (underscore) names."""
from __future__ import annotations

import ast
import io
import json
import pkgutil
import sys
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # `benchmarks` is a folder of scripts beside the package, not installed
    sys.path.insert(0, str(REPO_ROOT))

import wikiart_utils  # noqa: E402
from benchmarks import bench_features, bench_loader, bench_train, common  # noqa: E402
from wikiart_utils import data  # noqa: E402

PACKAGE_DIR = Path(wikiart_utils.__file__).parent


def _json_safe(result: dict) -> dict:
    return json.loads(json.dumps(result))


def test_make_photo_is_deterministic_and_jpeg_sized_like_wikiart(tmp_path):
    a, b = common.make_photo(1280, 1024, seed=3), common.make_photo(1280, 1024, seed=3)
    assert a.size == (1280, 1024) and a.tobytes() == b.tobytes()
    a.save(tmp_path / "a.jpg", quality=90)
    assert 150_000 < (tmp_path / "a.jpg").stat().st_size < 600_000  # ~300 KB, like an average WikiArt file


def test_older_loader_output(tmp_path):
    common.make_photo(90, 60, seed=0).save(tmp_path / "x.jpg")
    out = bench_loader.older_load(tmp_path / "x.jpg", 32)
    assert out.shape == (3, 32, 32) and out.dtype == torch.float32


def test_bench_loader_smoke():
    result = _json_safe(bench_loader.bench_loader(n=3, image_size=32, rounds=1, prepare_size=40, width=120, height=96))
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
    assert "ours on prepared" in bench_loader.format_loader(result)


def test_bench_loader_times_what_the_model_consumes(sample_dir):
    """Ours is timed up to the normalised float tensor the older loader also returns."""
    dataset = data.WikiArtDataset(sample_dir, "val", 48, train=False)
    out = bench_loader.to_model_input(dataset)(0)
    assert out.shape == (1, 3, 48, 48) and out.dtype == torch.float32
    assert out.is_contiguous(memory_format=torch.channels_last)  # the layout the CNNs run in
    assert torch.allclose(out[0], data.normalize(dataset[0][0]), atol=1e-6)


def test_bench_features_smoke():
    result = _json_safe(bench_features.bench_features(n=60, sample_size=32, image_size=32,
                                                      variants=["resnet18_lstm_patch"], epochs=1, batch_size=8))
    assert result["bench"] == "features"
    assert result["ratios"]["cached_vs_end_to_end"] > 0
    assert set(result["ratios"]["by_variant"]) == {"resnet18_lstm_patch"}
    run = result["variants"]["resnet18_lstm_patch"]
    assert run["backbone_unchanged"]
    for name in ("cached", "end_to_end"):
        assert run[name]["median_epoch_cpu_seconds"] > 0 and "val_mean_f1" in run[name]["metrics"]
    assert abs(run["metric_diff"]["val_loss"]) < 0.05  # same head, data and order; only fp16 rounding differs
    assert "cached vs e2e" in bench_features.format_features(result)


def test_bench_train_steps_are_the_packages(monkeypatch):
    """`ours` runs engine.train_one_epoch (the package's step), capped at the steps asked for."""
    from wikiart_utils import engine
    calls = []
    real = engine.train_one_epoch

    def spy(*args, **kwargs):
        stats = real(*args, **kwargs)
        calls.append(stats["steps"])
        return stats

    monkeypatch.setattr(engine, "train_one_epoch", spy)
    result = _json_safe(bench_train.bench_train(sizes=[32], variants=["resnet18_gap"], batch_size=2, steps=2))
    assert calls == [1, 2]  # the warm-up step, then the timed ones
    assert result["rows"][0]["ours"]["steps"] == 2


def test_budgeted_batches_stop_after_the_budget():
    assert len(list(bench_train.Budgeted("b", 3))) == 3
    assert list(bench_train.Budgeted("b", 3, budget_s=0.0)) == ["b"]  # the first batch always comes


def test_bench_train_smoke():
    result = _json_safe(bench_train.bench_train(sizes=[32], variants=["resnet18_gap"], batch_size=2, steps=1))
    (row,) = result["rows"]
    assert row["variant"] == "resnet18_gap" and row["image_size"] == 32
    for config in ("plain", "ours"):
        assert row[config]["images_per_s"] > 0 and row[config]["steps"] == 1 and row[config]["finite_loss"]
    assert row["speedup"] > 0 and result["ratios"]["ours_vs_plain"]["resnet18_gap@32"] == row["speedup"]
    assert "geometric mean speedup" in bench_train.format_train(result)


@pytest.mark.parametrize("script", [bench_loader, bench_features, bench_train])
def test_script_help(script):
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as stop:
        script.main(["--help"])
    assert stop.value.code == 0 and "--json" in out.getvalue() and "--save" in out.getvalue()


def test_script_json_output(tmp_path):
    out = io.StringIO()
    argv = ["--sizes", "32", "--variants", "resnet18_gap", "--batch-size", "2", "--steps", "1", "--json",
            "--save", str(tmp_path / "r.json")]
    with redirect_stdout(out):
        code = bench_train.main(argv)
    assert code == 0
    printed = json.loads(out.getvalue())
    assert printed["bench"] == "train" and "ratios" in printed
    assert printed["command"].startswith("python benchmarks/bench_train.py --sizes 32")
    assert list(printed)[:3] == ["bench", "command", "machine"]
    assert json.loads((tmp_path / "r.json").read_text())["rows"] == printed["rows"]


# --------------------------------------------------------------------------- layering

def _sibling_modules() -> set[str]:
    return {m.name for m in pkgutil.iter_modules([str(PACKAGE_DIR)])}


def private_uses(source: str, siblings: set[str], package: str = "wikiart_utils") -> list[str]:
    """`from .x import _y` (or from wikiart_utils.x / from . import _y) and `x._y` where the name x is bound
    to a sibling module by an import in this source (dunders such as x.__file__ are public)."""
    def private(name: str) -> bool:
        return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))

    tree = ast.parse(source)
    bound: dict[str, str] = {}  # local name -> sibling module
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1 or (node.level == 0 and (module == package or module.startswith(package + "."))):
                inner = module if node.level == 1 else module[len(package):].lstrip(".")
                for alias in node.names:
                    if not inner and alias.name in siblings:  # from . import x [as y]
                        bound[alias.asname or alias.name] = alias.name
                    elif private(alias.name):               # from .x import _y / from . import _y
                        found.append(f"line {node.lineno}: from {'.' * node.level}{module} import {alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:                         # import wikiart_utils.x as y
                parts = alias.name.split(".")
                if parts[0] == package and len(parts) == 2 and parts[1] in siblings and alias.asname:
                    bound[alias.asname] = parts[1]
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                and private(node.attr)):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr} ({bound[node.value.id]} module)")
    return found


def test_private_use_checker_catches_both_forms():
    siblings = {"data", "images", "train"}
    source = ("from . import data as wdata, images\nfrom .train import _step, param_groups\n"
              "import wikiart_utils.train as wt\nx = wdata._cache(images.__name__)\ny = wt._z\n"
              "class C:\n    def f(self):\n        return self._own, images.decode\n")
    found = private_uses(source, siblings)
    assert len(found) == 3, found
    assert any("_step" in f for f in found) and any("wdata._cache" in f for f in found)
    assert any("wt._z" in f for f in found)


def test_no_module_uses_another_modules_private_names():
    siblings = _sibling_modules()
    offenders = {path.name: found for path in sorted(PACKAGE_DIR.glob("*.py"))
                 if (found := private_uses(path.read_text(encoding="utf-8"), siblings))}
    assert not offenders, f"private names of sibling modules used (make them public or keep them in one module): " \
                          f"{offenders}"


def test_scripts_use_only_public_names():
    """The same rule for the benchmark scripts: no underscore name of wikiart_utils or of another script."""
    bench_dir = REPO_ROOT / "benchmarks"
    siblings = {p.stem for p in bench_dir.glob("*.py")}
    offenders = {}
    for path in sorted(bench_dir.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        found = private_uses(source, _sibling_modules()) + private_uses(source, siblings, package="benchmarks")
        if found:
            offenders[path.name] = found
    assert not offenders, offenders


@pytest.mark.parametrize("classes_of, input_path, model_of, step_of", [
    ("present", "torchvision", "torchvision", "torchvision"), ("all", "course", "torchvision", "torchvision"),
    ("present", "course-loader", "course", "torchvision"), ("present", "course-loader", "course", "course")])
def test_recipe_vs_plain_plain_loop_and_its_diagnostics(classes_of, input_path, model_of, step_of):
    """The plain side of benchmarks/recipe_vs_plain.py on a few real paintings, 1 epoch at 32 px: softmax
    over the 27-style vocabulary whatever its head (`--plain-classes`), network (`--plain-model`) and input
    path (`--plain-input`: the course's decoder, transforms and normalisation give the same test pixels as
    PIL + torchvision; `course-loader` also trains from the course's Dataset and DataLoader; `--plain-step
    course` takes the steps through engine.train_one_epoch and the masked loss)."""
    from benchmarks import recipe_vs_plain
    from wikiart_utils import labels
    from wikiart_utils import metadata

    root = REPO_ROOT / "data" / "real-sample"
    meta = metadata.read_metadata(root)
    train_rows = meta[meta["split"] == "train"].groupby("style").head(2)
    test_rows = meta[meta["split"] == "test"].groupby("style").head(2)
    y, probs = recipe_vs_plain.plain_loop(root, train_rows, test_rows, epochs=1, size=32, batch_size=8,
                                          workers=0, seed=0, classes_of=classes_of, input_path=input_path,
                                          model_of=model_of, step_of=step_of)
    vocab = labels.vocab("style")
    assert probs.shape == (len(test_rows), len(vocab)) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert [vocab[i] for i in y] == test_rows["style"].tolist()
    present = [vocab.index(s) for s in sorted(set(train_rows["style"]) | set(test_rows["style"]))]
    absent = np.setdiff1d(np.arange(len(vocab)), present)
    all_27 = classes_of == "all" or model_of == "course" or input_path == "course-loader"
    assert (probs[:, absent] > 0).all() if all_27 else (probs[:, absent] == 0).all()
    tv = recipe_vs_plain.StyleFolder(root, test_rows, vocab, recipe_vs_plain.v2.Compose([
        recipe_vs_plain.v2.Resize((32, 32)), recipe_vs_plain.v2.ToImage(),
        recipe_vs_plain.v2.ToDtype(torch.float32, scale=True), recipe_vs_plain.v2.Normalize(data.IMAGENET_MEAN, data.IMAGENET_STD)]))
    ours = recipe_vs_plain.CourseInput(root, test_rows, vocab, recipe_vs_plain.v2.Resize((32, 32), antialias=True), 32)
    assert (tv[0][0] - ours[0][0]).abs().mean() < 0.03 and tv[0][1] == ours[0][1]  # resamplers: a level or two


def test_recipe_vs_plain_paired_difference_aligns_paintings_by_path():
    """The verdict of benchmarks/recipe_vs_plain.py: course minus plain on the same paintings, matched by
    path whatever order each side scored them in; a painting scored by one side only is an error."""
    from benchmarks import recipe_vs_plain

    course = pd.Series([True, True, False, False, True], index=["a", "b", "c", "d", "e"])
    plain = pd.Series([True, True, False, True, False], index=["e", "c", "d", "a", "b"])  # e, c right
    d = recipe_vs_plain.paired_difference(course, plain, n_boot=500)
    assert (d["n"], d["only_course_right"], d["only_plain_right"]) == (5, 1, 1)  # b only course, c only plain
    assert d["course_minus_plain"] == 0.0 and d["ci"][0] < 0 < d["ci"][1]
    same = recipe_vs_plain.paired_difference(course, course.iloc[::-1], n_boot=100)
    assert same["course_minus_plain"] == 0.0 and same["ci"] == [0.0, 0.0]
    with pytest.raises(SystemExit, match="different test paintings"):
        recipe_vs_plain.paired_difference(course.iloc[:4], plain)


def test_recipe_vs_plain_plain_cache_reuses_one_run_of_the_same_settings(tmp_path):
    """`--plain-cache`: the plain loop runs once and is saved; the same settings on the same test paintings
    read it back (no training); other settings or paintings are refused in one line, never silently reused."""
    from benchmarks import recipe_vs_plain

    calls = []

    def run():
        calls.append(1)
        return np.array([2, 0]), np.array([[0.1] * 27, [0.2] * 27])

    cache, settings = tmp_path / "plain.npz", {"seed": 1, "epochs": 6}
    first = recipe_vs_plain.cached_plain(cache, settings, ["a.jpg", "b.jpg"], run)
    again = recipe_vs_plain.cached_plain(cache, dict(reversed(settings.items())), ["a.jpg", "b.jpg"], run)
    assert len(calls) == 1 and (first[2], again[2]) == (False, True)
    assert (again[0] == first[0]).all() and np.allclose(again[1], first[1])
    for other, paths in (({"seed": 0, "epochs": 6}, ["a.jpg", "b.jpg"]), (settings, ["b.jpg", "a.jpg"])):
        with pytest.raises(SystemExit, match="other settings or test paintings"):
            recipe_vs_plain.cached_plain(cache, other, paths, run)
    assert recipe_vs_plain.cached_plain(None, settings, ["a.jpg"], run)[2] is False and len(calls) == 2


def test_real_results_paired_table_from_test_predictions(sample_dir, tmp_path):
    """tools/real_results.py --paired: per task, A minus B on the same test paintings, from each run's
    committed test_predictions.csv (no checkpoint needed); a run against itself differs by exactly 0."""
    import importlib.util

    from wikiart_utils import evaluate, train

    spec = importlib.util.spec_from_file_location("real_results", REPO_ROOT / "tools" / "real_results.py")
    real_results = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(real_results)
    tiny = dict(image_size=64, batch_size=16, pretrained=False, workers=0, progress=False, limit_batches=2, epochs=1)
    for run, seed in (("a", 0), ("b", 1)):
        result = train.train(sample_dir, "resnet18_gap", tmp_path / "runs" / run, seed=seed, **tiny)
        _, pred = evaluate.evaluate_checkpoint(sample_dir, result.best_path, split="test", workers=0)
        (tmp_path / "results" / run).mkdir(parents=True)
        real_results.write_test_predictions(pred, tmp_path / "results" / run / "test_predictions.csv")
    table = real_results.paired((("a", "b"), ("a", "a")), folder=tmp_path / "results").splitlines()
    assert len(table) == 4 and table[2].startswith("| `a` - `b` |")
    assert table[3].count("+0.000 [+0.000, +0.000]") == 3
    n_artist = pd.read_csv(sample_dir / "metadata.csv").query("split == 'test'")["artist"].notna().sum()
    assert f"(n = {n_artist})" in table[2]


def test_bench_cache_prints_one_json_line_with_rates_and_the_token_check(sample_dir, capsys):
    """benchmarks/bench_cache.py on a tiny dataset: end-to-end and model-only rates, the eager baseline,
    their ratio and the engine's largest token difference from PyTorch (speed is not asserted here)."""
    from benchmarks import bench_cache

    result = bench_cache.main(["--data", str(sample_dir), "--variant", "efficientnet_lite0_gap", "--image-size", "64",
                               "--limit", "24", "--batch-size", "4", "--repeats", "1", "--workers", "0"])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line == json.loads(json.dumps(result))
    assert result["img_per_s"] > 0 and result["model_only_img_per_s"] > 0 and result["eager_model_only_img_per_s"] > 0
    assert result["max_token_difference"] <= 1e-3 and result["settings"]["paintings"] >= 20
    ratio = result["img_per_s"] / result["eager_model_only_img_per_s"]
    assert abs(result["ratios"]["end_to_end_vs_eager_model_only"] - ratio) < 0.05 * ratio + 0.01
