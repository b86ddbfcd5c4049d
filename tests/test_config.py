"""One declaration per training setting: its default lives in `config.TrainConfig` (or `config.REGIMES`)
and nowhere else in the package -- no function repeats it as a parameter default, no call or argparse
flag passes it as a literal."""
from __future__ import annotations

import ast
import inspect
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from wikiart_utils import config, train
from wikiart_utils.config import REGIMES, Session, TrainConfig

PACKAGE = Path(config.__file__).resolve().parent


def trivial(value) -> bool:
    """None, a bool, 0 or "": "off" is not a default worth declaring twice (and is everywhere)."""
    return value is None or isinstance(value, bool) or value == "" or (isinstance(value, (int, float)) and value == 0)


def declared_defaults() -> dict[str, list]:
    """setting -> the values it may default to: its field default, or the regimes' values."""
    wanted: dict[str, list] = {}
    for f in fields(TrainConfig):
        values = [r[f.name] for r in REGIMES.values()] if f.name in config.BY_REGIME else [f.default]
        values = [v for v in values if not trivial(v)]
        if values and not isinstance(f.default, bool) and f.default is not MISSING:
            wanted[f.name] = values
    return wanted


def repeated_defaults(source: str, wanted: dict[str, list]) -> list[str]:
    """Places in `source` where a setting's default is written again: `def f(epochs=10)`, `g(lr=3e-4)`,
    `add_argument("--epochs", default=10)`, `settings.get("epochs", 10)` or `settings["epochs"] = 10`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        pairs = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            positional = node.args.posonlyargs + node.args.args
            pairs += list(zip(positional[len(positional) - len(node.args.defaults):], node.args.defaults))
            pairs += [(a, d) for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults) if d is not None]
            pairs = [(a.arg, d) for a, d in pairs]
        elif isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
            flag = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
            if getattr(node.func, "attr", "") == "add_argument" and isinstance(flag, str) and flag.startswith("--"):
                pairs = [(flag[2:].replace("-", "_") if k == "default" else k, v) for k, v in pairs]
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("get", "setdefault") \
                and len(node.args) == 2 and isinstance(node.args[0], ast.Constant):
            pairs.append((node.args[0].value, node.args[1]))
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript) \
                and isinstance(node.targets[0].slice, ast.Constant):
            pairs.append((node.targets[0].slice.value, node.value))
        for key, value in pairs:
            if key in wanted and isinstance(value, ast.Constant) and value.value in wanted[key]:
                found.append(f"line {value.lineno}: {key}={value.value!r}")
    return found


def test_each_default_is_declared_once():
    wanted = declared_defaults()
    assert {"epochs", "image_size", "batch_size", "lr", "weight_decay", "crop_scale", "patience"} <= set(wanted)
    repeats = {path.relative_to(PACKAGE).as_posix(): hits for path in sorted(PACKAGE.rglob("*.py"))
               if path.name != "config.py" and (hits := repeated_defaults(path.read_text("utf-8"), wanted))}
    assert not repeats, repeats


def test_the_scanner_finds_a_repeated_default():
    wanted = declared_defaults()
    source = ("def f(data, epochs=15, *, lr=2e-3):\n    g(weight_decay=0.05, seed=0)\n"
              "p.add_argument('--crop-scale', type=float, default=0.5)\n"
              "size = s.get('image_size', 224)\ns['batch_size'] = 32\n")
    assert sorted(repeated_defaults(source, wanted)) == ["line 1: epochs=15", "line 1: lr=0.002",
                                                         "line 2: weight_decay=0.05", "line 3: crop_scale=0.5",
                                                         "line 4: image_size=224", "line 5: batch_size=32"]


def test_train_has_no_default_of_its_own_for_a_setting():
    settings = {f.name for cls in (TrainConfig, Session) for f in fields(cls)}
    assert not settings & set(inspect.signature(train.train).parameters) - {"variant"}


def test_a_choice_outside_its_list_is_refused():
    with pytest.raises(ValueError, match="schedule must be one of warmup_cosine, onecycle"):
        TrainConfig(schedule="cosine")


def test_resolved_fills_only_what_the_regime_decides():
    config_ = TrainConfig(pretrained=False, lr=1e-3)
    assert config_.resolved().lr == 1e-3 and config_.resolved().task_weights == REGIMES["scratch"]["task_weights"]
    assert TrainConfig().resolved().changes().keys() == {"lr", "backbone_lr_scale", "warmup_epochs", "task_weights",
                                                         "freeze_backbone", "cached_features"}


@pytest.mark.parametrize("given, frozen, cached, regime", [
    (dict(), True, True, "pretrained_heads"),                          # ImageNet weights: frozen, on cached tokens
    (dict(pretrained=False), False, False, "scratch"),                 # from scratch: end to end, on images
    (dict(freeze_backbone=0), 0, False, "pretrained"),                 # fine-tuned end to end, asked for
    (dict(freeze_backbone=2, epochs=6), 2, False, "pretrained"),       # frozen for 2 epochs, then end to end
    (dict(cached_features=False), True, False, "pretrained_heads"),    # frozen, but images every epoch
])
def test_freezing_and_caching_follow_the_weights_unless_given(given, frozen, cached, regime):
    resolved = TrainConfig(**given).resolved()
    assert (resolved.freeze_backbone, resolved.cached_features, resolved.regime) == (frozen, cached, regime)
