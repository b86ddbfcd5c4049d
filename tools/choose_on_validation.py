"""Choose one training setting on the validation split: train a run of `tools/real_results.py` once per
candidate value, everything else as that run, and keep the value with the best validation mean macro-F1.

    python tools/choose_on_validation.py --run efficientnet_lite0_stats_frozen --setting lr --values 3e-4 1e-3 3e-3

Each candidate trains into checkpoints/choices/<run>/<its settings>/ (resumable: rerun after an
interruption; a candidate already trained for another record is read back) with the token caches shared with the real runs, and is read from its history alone: the epoch
of best validation mean macro-F1 over the three tasks, and that epoch's validation top-1 per task. The test
split is never read. Writes results/pretrained_choices/<setting>.json (one file per setting: the candidates,
the chosen value and the default it replaces), which `config.REGIMES` and `TrainConfig` cite.

`--base-settings key=value ...` puts settings over the run's (e.g. a shorter budget for a slow regime: the
record says which).
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

if __package__ in (None, ""):
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from tools import real_results  # noqa: E402
from wikiart_utils import labels, train  # noqa: E402
from wikiart_utils.config import MODEL_OPTIONS, TrainConfig  # noqa: E402
from wikiart_utils.models import DEFAULT_OPTIONS  # noqa: E402

ROOT = real_results.ROOT


def parse_value(text: str):
    """'1e-3' -> 0.001, '0' -> 0, 'true' -> True; other text stays text."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def candidate_settings(settings: dict, setting: str, value) -> dict:
    """The run's settings with `setting` = `value` (a model option goes into model_options)."""
    if setting in MODEL_OPTIONS:
        return {**settings, "model_options": {**settings.get("model_options", {}), setting: value}}
    return {**settings, setting: value}


def candidate_name(variant: str, settings: dict, overrides: dict) -> str:
    """The folder of a candidate, named by the settings it puts over the run that differ from what the run
    would use anyway (its regime's values included): the same candidate asked for again (another setting's
    record, with this one's value chosen) is read back, not trained twice."""
    config = TrainConfig(variant=variant, **{k: v for k, v in settings.items() if k in TrainConfig.__dataclass_fields__}
                         ).resolved()
    options = {**DEFAULT_OPTIONS, **settings.get("model_options", {})}
    differ = {k: v for k, v in overrides.items()
              if (options.get(k) if k in MODEL_OPTIONS else getattr(config, k, object())) != v}
    return ",".join(f"{k}={v}" for k, v in sorted(differ.items())) or "as-the-run"


def validation_summary(result: train.TrainResult) -> dict:
    """What the record keeps of a candidate: its best epoch by validation mean macro-F1 and that epoch's scores."""
    best = result.best_metrics
    return {"best_epoch": result.best_epoch, "epochs_run": result.epochs_done,
            "val_mean_macro_f1": round(result.best_score, 4),
            **{f"val_{task}_top1": round(best[f"val_{task}_acc"], 4) for task in labels.TASKS},
            "seconds": round(sum(row["seconds"] for row in result.history))}


def choose(run: str, setting: str, values: list, base: dict, workers: int) -> dict:
    variant, settings = real_results.RUNS[run]
    settings = {**settings, **base}
    data = ROOT / "data" / settings.pop("data")
    results = {}
    for value in values:
        kwargs = candidate_settings(settings, setting, value)
        out = ROOT / "checkpoints" / "choices" / run / candidate_name(variant, real_results.RUNS[run][1],
                                                                     {**base, setting: value})
        shared = {"features_dir": ROOT / real_results.FEATURES} if kwargs.get("cached_features") else {}
        result = train.train(data, variant, out, resume=True, progress=False, workers=workers, **shared, **kwargs)
        results[str(value)] = validation_summary(result)
        print(f"{setting}={value}: {results[str(value)]}", flush=True)
    chosen = max(results, key=lambda v: results[v]["val_mean_macro_f1"])
    default = TrainConfig(variant=variant, **{k: v for k, v in settings.items() if k in TrainConfig.__dataclass_fields__}
                          ).resolved()
    return {
        "date": f"{datetime.now(timezone.utc):%Y-%m-%d}", "setting": setting, "run": run, "variant": variant,
        "question": f"{setting} of {run} ({variant}), everything else as that run",
        "split_scored": "val (the test split was not read)", "data": real_results.in_repository(data),
        "weights": real_results.LITE0 if settings.get("pretrained") else "random initialisation",
        "machine": f"{real_results.cpu_name()}, {__import__('os').cpu_count()} cores, no GPU",
        "settings_over_the_run": {k: v for k, v in base.items()},
        "default_before": getattr(default, setting, None) if setting not in MODEL_OPTIONS else
        settings.get("model_options", {}).get(setting),
        "results": results, "chosen": parse_value(chosen),
        "rule": "highest validation mean macro-F1 over artist, genre and style (the epoch train keeps as best.pt)",
        "command": "python tools/choose_on_validation.py " + " ".join(sys.argv[1:]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", required=True, choices=list(real_results.RUNS))
    parser.add_argument("--setting", required=True, help="a TrainConfig field or a model option")
    parser.add_argument("--values", required=True, nargs="+", type=parse_value)
    parser.add_argument("--base-settings", nargs="*", default=[], metavar="KEY=VALUE")
    parser.add_argument("--name", default=None, help="the record's file name (default: the setting)")
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    base = {k: parse_value(v) for k, v in (item.split("=", 1) for item in args.base_settings)}
    record = choose(args.run, args.setting, args.values, base, args.workers)
    out = ROOT / "results" / "pretrained_choices" / f"{args.name or args.setting}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"chosen {args.setting} = {record['chosen']} -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
