"""metrics: scores agree with scikit-learn, unknown labels are ignored, intervals are deterministic."""
from __future__ import annotations

import ast
import inspect
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    precision_recall_fscore_support,
)

from wikiart_utils import metrics


def one_hot_probs(pred: list[int], n_classes: int, confidence: float = 0.7) -> np.ndarray:
    """Probabilities whose argmax is `pred`, the rest spread evenly."""
    probs = np.full((len(pred), n_classes), (1 - confidence) / (n_classes - 1))
    probs[np.arange(len(pred)), pred] = confidence
    return probs


def random_case(n: int = 400, n_classes: int = 7, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    logits = rng.normal(size=(n, n_classes))
    logits[np.arange(n), y] += 1.0
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y[rng.random(n) < 0.15] = -1
    return y, probs


def test_scores_match_sklearn_on_labelled_rows():
    y, probs = random_case()
    out = metrics.task_metrics(y, probs, n_boot=50)
    keep = y >= 0
    yk, pred = y[keep], probs[keep].argmax(axis=1)
    assert out["n"] == keep.sum()
    assert out["top1"] == pytest.approx(accuracy_score(yk, pred))
    assert out["macro_f1"] == pytest.approx(f1_score(yk, pred, average="macro"))
    assert out["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(yk, pred))
    p, r, f, _ = precision_recall_fscore_support(yk, pred, average="weighted", zero_division=0)
    assert (out["precision"], out["recall"], out["f1"]) == pytest.approx((p, r, f))
    assert out["recall"] == pytest.approx(out["top1"])  # weighted recall is accuracy
    assert out["chance"] == pytest.approx(1 / 7)


def test_top5_by_hand():
    probs = np.array([
        [0.30, 0.20, 0.15, 0.12, 0.10, 0.08, 0.05],  # ranks: 0 1 2 3 4 | 5 6
        [0.05, 0.08, 0.10, 0.12, 0.15, 0.20, 0.30],  # ranks: 6 5 4 3 2 | 1 0
        [0.10, 0.10, 0.10, 0.10, 0.10, 0.10, 0.40],
    ])
    y = np.array([4, 0, 6])  # in top 5 / 6th / top 1
    out = metrics.task_metrics(y, probs, n_boot=0)
    assert out["top5"] == pytest.approx(2 / 3)
    assert out["top1"] == pytest.approx(1 / 3)
    assert out["top_k"] == 5
    assert "top1_ci" not in out


def test_top_k_is_capped_by_number_of_classes():
    out = metrics.task_metrics(np.array([0, 1, 2]), one_hot_probs([1, 2, 0], 3), n_boot=0)
    assert out["top_k"] == 3 and out["top5"] == 1.0 and out["top1"] == 0.0


def test_unknown_rows_do_not_change_scores():
    y, probs = random_case()
    keep = y >= 0
    with_unknown = metrics.task_metrics(y, probs, n_boot=100, seed=1)
    without = metrics.task_metrics(y[keep], probs[keep], n_boot=100, seed=1)
    assert with_unknown == without


def test_macro_f1_uses_classes_in_truth_or_predictions():
    # class 3 appears nowhere: it is not averaged in as F1 = 0 (sklearn's default rule)
    y = np.array([0, 0, 1, 1, 2])
    probs = one_hot_probs([0, 1, 1, 1, 2], 4)
    out = metrics.task_metrics(y, probs, n_boot=0)
    assert out["macro_f1"] == pytest.approx(f1_score(y, [0, 1, 1, 1, 2], average="macro"))
    assert out["macro_f1"] > f1_score(y, [0, 1, 1, 1, 2], labels=range(4), average="macro", zero_division=0)


def test_predicting_a_class_absent_from_the_split_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = metrics.task_metrics(np.array([0, 0, 0]), one_hot_probs([1, 0, 2], 3), n_boot=10)
    assert out["balanced_accuracy"] == pytest.approx(1 / 3)


def test_empty_task_returns_only_n_and_chance():
    out = metrics.task_metrics(np.full(5, -1), one_hot_probs([0] * 5, 10))
    assert out == {"n": 0, "n_classes": 10, "chance": 0.1}
    json.dumps(out, allow_nan=False)


def test_bad_labels_and_shapes_are_refused():
    with pytest.raises(ValueError):
        metrics.task_metrics(np.array([0, 5]), one_hot_probs([0, 1], 3))
    with pytest.raises(ValueError):
        metrics.task_metrics(np.array([0, 1, 2]), one_hot_probs([0, 1], 3))


def test_bootstrap_ci_contains_estimate_and_is_deterministic():
    y, probs = random_case(n=600)
    a = metrics.task_metrics(y, probs, n_boot=300, seed=7)
    b = metrics.task_metrics(y, probs, n_boot=300, seed=7)
    c = metrics.task_metrics(y, probs, n_boot=300, seed=8)
    for key in ("top1", "macro_f1"):
        lo, hi = a[f"{key}_ci"]
        assert lo <= a[key] <= hi and hi - lo < 0.2
    assert a == b
    assert a["top1_ci"] != c["top1_ci"]


def test_bootstrap_macro_f1_matches_sklearn_on_each_resample():
    y, probs = random_case(n=120)
    keep = y >= 0
    yk, pred = y[keep], probs[keep].argmax(axis=1)
    idx = np.random.default_rng(0).integers(0, len(yk), size=(5, len(yk)))
    fast = metrics._macro_f1_stat(yk, pred, probs.shape[1])(idx)
    slow = [f1_score(yk[i], pred[i], average="macro") for i in idx]
    np.testing.assert_allclose(fast, slow)


def test_bootstrap_ci_chunks_do_not_matter(monkeypatch):
    stat = lambda idx: idx.mean(axis=1)  # noqa: E731
    whole = metrics.bootstrap_ci(stat, n=50, n_boot=200, seed=0)
    monkeypatch.setattr(metrics, "BOOT_CHUNK_CELLS", 50 * 7)  # 7 resamples per chunk
    chunked = metrics.bootstrap_ci(stat, n=50, n_boot=200, seed=0)
    np.testing.assert_allclose(whole, chunked)


def test_majority_baseline_from_training_counts_or_eval_labels():
    y = np.array([0, 0, 0, 1, 2, -1])
    probs = one_hot_probs([0, 0, 0, 0, 0, 0], 3)
    from_eval = metrics.task_metrics(y, probs, n_boot=0)
    assert from_eval["majority_baseline"] == pytest.approx(0.6)
    assert (from_eval["majority_class"], from_eval["majority_source"]) == (0, "eval")
    from_train = metrics.task_metrics(y, probs, train_counts=np.array([5, 50, 10]), n_boot=0)
    assert from_train["majority_baseline"] == pytest.approx(0.2)
    assert (from_train["majority_class"], from_train["majority_source"]) == (1, "train")


def test_task_scores_is_json_ready():
    y, probs = random_case()
    result = metrics.task_scores(
        {"style": y, "artist": np.full(len(y), -1)},
        {"style": probs, "artist": probs},
        train_counts={"style": np.arange(1, 8)}, n_boot=20)
    assert list(result) == ["artist", "style"]  # TASKS order
    assert result["artist"]["n"] == 0
    text = metrics.to_json(result)
    assert json.loads(text)["style"]["top1"] == pytest.approx(result["style"]["top1"])
    for value in result["style"].values():
        assert type(value) in (int, float, str, list)


def test_to_json_converts_numpy_and_writes_file(tmp_path):
    path = tmp_path / "out" / "m.json"
    metrics.to_json({"a": np.float32(0.5), "b": np.arange(3), "c": np.nan, "d": np.bool_(True)}, path)
    assert json.loads(path.read_text()) == {"a": 0.5, "b": [0, 1, 2], "c": None, "d": True}


def test_per_class_report():
    y = np.array([0, 0, 1, 1, -1, 2])
    pred = [0, 1, 1, 1, 0, 1]
    report = metrics.per_class_report(y, one_hot_probs(pred, 4), ["a", "b", "c", "d"], train_counts=[9, 5, 3, 1])
    assert list(report.columns) == ["class", "support", "precision", "recall", "f1", "train_count"]
    assert report["support"].tolist() == [2, 2, 1, 0]
    assert report.loc[0, "precision"] == 1.0 and report.loc[0, "recall"] == 0.5
    assert report.loc[1, "precision"] == pytest.approx(2 / 4)
    assert report.loc[2, "f1"] == 0.0 and report.loc[3, "f1"] == 0.0
    same = metrics.per_class_report(y, np.array(pred), ["a", "b", "c", "d"])  # 1-D predictions work too
    pd.testing.assert_frame_equal(same, report.drop(columns="train_count"))


def test_confusion_rows_are_normalized_and_empty_rows_stay_zero():
    y = np.array([0, 0, 0, 1, -1, 1])
    pred = np.array([0, 0, 1, 1, 2, 0])
    counts = metrics.confusion(y, pred, 3, normalize=None)
    np.testing.assert_array_equal(counts, [[2, 1, 0], [1, 1, 0], [0, 0, 0]])
    cm = metrics.confusion(y, pred, 3)
    np.testing.assert_allclose(cm, [[2 / 3, 1 / 3, 0], [0.5, 0.5, 0], [0, 0, 0]])
    np.testing.assert_allclose(metrics.confusion(y, one_hot_probs(pred.tolist(), 3), 3), cm)
    with pytest.raises(ValueError):
        metrics.confusion(y, pred, 3, normalize="rows")


def test_most_confused_pairs():
    y = np.array([0, 0, 0, 0, 1, 1, 2, -1])
    pred = np.array([1, 1, 2, 0, 0, 1, 2, 1])
    pairs = metrics.most_confused_pairs(y, pred, ["a", "b", "c"], k=2)
    assert pairs[["true", "predicted", "count"]].values.tolist() == [["a", "b", 2], ["b", "a", 1]]
    assert pairs["share"].tolist() == pytest.approx([0.5, 0.5])


def test_entropy_outliers_and_uncertain():
    probs = np.array([
        [0.96, 0.02, 0.02],   # 0: label 1, confidently class 0 -> strongest contradiction
        [1 / 3, 1 / 3, 1 / 3],  # 1: most uncertain
        [0.10, 0.85, 0.05],   # 2: right
        [0.05, 0.15, 0.80],   # 3: label 0, class 2 -> second contradiction
        [0.99, 0.005, 0.005],  # 4: label unknown -> never an outlier
        [0.50, 0.45, 0.05],   # 5: label 1, wrong but hesitant
    ])
    y = np.array([1, 0, 1, 0, -1, 1])
    np.testing.assert_allclose(metrics.predictive_entropy(probs)[1], np.log(3))
    assert metrics.predictive_entropy(probs, normalized=True)[1] == pytest.approx(1.0)
    assert metrics.predictive_entropy(np.array([[1.0, 0.0]]))[0] == 0.0
    assert metrics.outliers(y, probs, k=10).tolist() == [0, 3, 5]
    assert metrics.outliers(y, probs, k=1).tolist() == [0]
    assert metrics.outliers(y, probs, k=10, max_label_prob=0.1, min_pred_prob=0.7).tolist() == [0, 3]
    assert metrics.most_uncertain(probs, k=2).tolist() == [1, 5]


def test_correct_count_groups_only_fully_labelled_rows():
    correct = np.array([
        [1, 1, 1],
        [1, 0, 1],
        [0, 0, 1],
        [0, 0, 0],
        [1, np.nan, 1],  # genre unknown -> excluded
    ], dtype=float)
    np.testing.assert_array_equal(metrics.correct_count_groups(correct), [3, 2, 1, 0, -1])
    groups = metrics.gallery_groups(correct)
    assert list(groups) == [3, 2, 1, 0]
    assert {m: idx.tolist() for m, idx in groups.items()} == {3: [0], 2: [1], 1: [2], 0: [3]}
    np.testing.assert_array_equal(metrics.correct_count_groups(correct[:4].astype(bool)), [3, 2, 1, 0])


def test_correct_matrix_marks_unknown_as_nan():
    y = {"artist": np.array([0, -1]), "genre": np.array([1, 1]), "style": np.array([0, 1])}
    probs = {task: one_hot_probs([0, 1], 2) for task in y}
    c = metrics.correct_matrix(y, probs)
    assert c[0].tolist() == [1.0, 0.0, 1.0]
    assert np.isnan(c[1, 0]) and c[1, 1:].tolist() == [1.0, 1.0]


def test_paired_difference_is_tighter_than_the_two_intervals():
    """Two models right on nearly the same rows: their own intervals overlap widely, the paired one does
    not reach zero; identical models differ by exactly 0; mismatched rows are refused."""
    rng = np.random.default_rng(0)
    a = rng.random(2000) < 0.6
    b = a.copy()
    b[np.flatnonzero(a)[:60]] = False  # B is wrong on 60 rows where A is right, never the other way
    d = metrics.paired_difference(a, b)
    assert (d["n"], d["only_a_right"], d["only_b_right"]) == (2000, 60, 0)
    assert d["difference"] == pytest.approx(0.03) and 0 < d["ci"][0] < d["ci"][1]
    lo_a, _ = metrics.bootstrap_ci(lambda idx: a[idx].mean(axis=1), 2000)
    _, hi_b = metrics.bootstrap_ci(lambda idx: b[idx].mean(axis=1), 2000)
    assert lo_a < hi_b  # the separate intervals overlap
    assert metrics.paired_difference(a, a)["ci"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="equally long"):
        metrics.paired_difference(a, b[:-1])


def test_chance_is_one_over_the_classes_present():
    # 27 classes, only 3 in the labelled rows: guessing among the classes present scores 1/3, not 1/27
    y = np.array([0, 0, 4, 9, -1, 9])
    out = metrics.task_metrics(y, one_hot_probs([0, 4, 4, 9, 1, 0], 27), n_boot=0)
    assert out["classes_present"] == 3 and out["chance"] == pytest.approx(1 / 3) and out["n_classes"] == 27


# ----------------------------------------------------------------------------------------------------------
# one bootstrap setting: metrics.BOOTSTRAP_RESAMPLES and metrics.BOOTSTRAP_SEED, never a literal elsewhere

REPO = Path(__file__).resolve().parents[1]
CONSTANTS = {"n_boot": "BOOTSTRAP_RESAMPLES", "seed": "BOOTSTRAP_SEED"}
ALLOWED_BOOT_NAMES = {"BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "BOOT_CHUNK_CELLS"}  # defined in metrics.py only


def _bootstrap_sources() -> dict[str, str]:
    """Every .py file of the package, tools, benchmarks (not their dated records) and the notebook pairs."""
    paths = [*(REPO / "wikiart_utils").rglob("*.py"), *(REPO / "tools").glob("*.py"),
             *(REPO / "benchmarks").glob("*.py"), *(REPO / "notebooks").glob("*.py")]
    return {p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8") for p in sorted(paths)}


def _number(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _is_constant(node: ast.AST | None, name: str) -> bool:
    """`BOOTSTRAP_RESAMPLES` or `metrics.BOOTSTRAP_RESAMPLES` (any prefix)."""
    return (isinstance(node, ast.Name) and node.id == name) or (isinstance(node, ast.Attribute) and node.attr == name)


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _bootstrap_functions(trees: dict[str, ast.Module]) -> dict[str, dict[str, set[int]]]:
    """name -> {"n_boot": positions, "seed": positions} of every function that takes `n_boot`: the calls
    whose arguments the check reads."""
    found: dict[str, dict[str, set[int]]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                if "n_boot" in names + [a.arg for a in node.args.kwonlyargs]:
                    slots = found.setdefault(node.name, {"n_boot": set(), "seed": set()})
                    for key in slots:
                        if key in names:
                            slots[key].add(names.index(key) - (names[:1] in (["self"], ["cls"])))
    return found


def bootstrap_literals(sources: dict[str, str]) -> list[str]:
    """'file:line: what' for every bootstrap resample count or seed given as a number instead of
    metrics.BOOTSTRAP_RESAMPLES / BOOTSTRAP_SEED (n_boot=0, "no interval", is not a second setting)."""
    trees = {name: ast.parse(text, filename=name) for name, text in sources.items()}
    functions = _bootstrap_functions(trees)
    found = []
    for name, tree in trees.items():
        boots = any(word in sources[name] for word in ("N_BOOT", "n_boot", "BOOTSTRAP_RESAMPLES"))
        for node in ast.walk(tree):
            where = f"{name}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in functions:
                positional = node.args.posonlyargs + node.args.args
                pairs = list(zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults))
                pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
                for arg, default in pairs:
                    if arg.arg in CONSTANTS and not _is_constant(default, CONSTANTS[arg.arg]):
                        found.append(f"{where}: def {node.name}: {arg.arg}'s default is not metrics.{CONSTANTS[arg.arg]}")
            elif isinstance(node, ast.Call):
                callee = _callee(node)
                if callee in functions:
                    given = [(kw.arg, kw.value) for kw in node.keywords if kw.arg in CONSTANTS]
                    given += [(key, node.args[i]) for key, slots in functions[callee].items()
                              for i in slots if i < len(node.args)]
                    for key, value in given:
                        if _number(value) and not (key == "n_boot" and value.value == 0):
                            found.append(f"{where}: {callee}({key}={value.value})")
                if (callee == "add_argument" and node.args and isinstance(node.args[0], ast.Constant)
                        and "boot" in str(node.args[0].value)):
                    found += [f"{where}: {node.args[0].value} default={kw.value.value}"
                              for kw in node.keywords if kw.arg == "default" and _number(kw.value)]
                if callee == "default_rng" and boots:  # a generator seeded by hand beside a bootstrap
                    seeds = list(node.args[:1]) + [kw.value for kw in node.keywords if kw.arg == "seed"]
                    found += [f"{where}: default_rng({s.value})" for s in seeds if _number(s)]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and _number(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if (isinstance(t, ast.Name) and "BOOT" in t.id.upper()
                            and not (name == "wikiart_utils/metrics.py" and t.id in ALLOWED_BOOT_NAMES)):
                        found.append(f"{where}: {t.id} = {node.value.value}")
    return found


def test_one_bootstrap_setting_everywhere():
    """Notebook 08 once quoted a paired difference with 1,000 resamples and results/paired.md with 2,000:
    every bootstrap must take its resamples and seed from metrics.BOOTSTRAP_RESAMPLES / BOOTSTRAP_SEED."""
    sources = _bootstrap_sources()
    assert "wikiart_utils/metrics.py" in sources and any(n.startswith("notebooks/") for n in sources)
    assert bootstrap_literals(sources) == []
    for fn in (metrics.bootstrap_ci, metrics.paired_difference, metrics.task_metrics, metrics.task_scores):
        params = inspect.signature(fn).parameters
        assert params["n_boot"].default == metrics.BOOTSTRAP_RESAMPLES, fn.__name__
        assert params["seed"].default == metrics.BOOTSTRAP_SEED, fn.__name__


def test_bootstrap_literal_check_finds_each_kind_of_second_setting():
    """The check above can fail: each line here is a second setting it must name; the clean file is not."""
    clean = ("from wikiart_utils import metrics\nN_BOOT = None\nN_BOOT = N_BOOT or metrics.BOOTSTRAP_RESAMPLES\n"
             "rng = np.random.default_rng(metrics.BOOTSTRAP_SEED)\nd = metrics.paired_difference(a, b, n_boot=N_BOOT)\n"
             "m = metrics.task_metrics(y, p, n_boot=0)\ntorch.manual_seed(0)\n")
    bad = ["N_BOOT = 2000", "rng = np.random.default_rng(0)\nN_BOOT = None",
           "d = metrics.paired_difference(a, b, n_boot=2000)", "lo, hi = metrics.bootstrap_ci(f, n, 500, 1)",
           "m = metrics.task_metrics(y, p, seed=3)", "p.add_argument('--n-boot', type=int, default=1000)",
           "def paired_against(preds, reference, n_boot=2000): ..."]
    library = "".join(f"def {fn}(a, b, n_boot=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED): ...\n"
                      for fn in ("bootstrap_ci", "paired_difference"))
    library += "def task_metrics(y, p, counts=None, n_boot=BOOTSTRAP_RESAMPLES, seed=BOOTSTRAP_SEED): ...\n"
    for text in bad:
        found = bootstrap_literals({"wikiart_utils/metrics.py": library, "tools/x.py": text})
        assert found and all(f.startswith("tools/x.py:") for f in found), text
    assert len(bootstrap_literals({"wikiart_utils/metrics.py": library, "tools/x.py": bad[3]})) == 2  # both
    assert bootstrap_literals({"wikiart_utils/metrics.py": library, "notebooks/x.py": clean}) == []


def test_committed_metrics_were_computed_with_the_one_setting():
    """The setting is the one results/*/metrics.json were computed with: the course model's style interval
    comes back from its committed test predictions."""
    run = REPO / "results" / "efficientnet_lite0_gap_frozen"
    if not (run / "test_predictions.csv").is_file() or not (run / "metrics.json").is_file():
        pytest.skip(f"{run} holds no committed predictions")
    table = pd.read_csv(run / "test_predictions.csv")
    known = table["style"] >= 0
    right = (table["style_pred"] == table["style"])[known].to_numpy()
    ci = metrics.bootstrap_ci(lambda idx: right[idx].mean(axis=1), len(right))
    committed = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["style"]["top1_ci"]
    assert ci.tolist() == pytest.approx(committed, abs=1e-12)
