"""The real-paintings tables (README.md, results/README.md) are results/<run>/metrics.json, cell for cell.

The numbers are committed twice (the run's metrics.json and the README prose); this catches a rerun
whose README row was not updated, or a hand-edited number.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(?P<run>[a-z0-9_]+)`[^|]*\|(?P<cells>.*)\|$")


def interval(value: float, ci: list[float]) -> str:
    return f"{value:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def table_lines(document: str) -> list[str]:
    return (ROOT / document).read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("document", ["README.md", "results/README.md"])
def test_every_real_run_in_the_table_matches_its_metrics_json(document):
    lines = table_lines(document)
    header = next(line for line in lines if line.startswith("| model (") and "top-1 (n = " in line)
    lines = lines[lines.index(header):]
    lines = lines[:lines.index("")] if "" in lines else lines  # the table ends at the first blank line
    rows = {m["run"]: [c.strip() for c in m["cells"].split("|")] for m in map(ROW.match, lines) if m}
    runs = sorted(p.parent.name for p in (ROOT / "results").glob("*/metrics.json") if "_unknown_as_" not in p.parent.name)
    assert sorted(rows) == runs, "the README table and results/ list different runs"
    baseline = next(line for line in lines if line.startswith("| majority baseline"))
    for run in runs:
        m = json.loads((ROOT / "results" / run / "metrics.json").read_text())
        expected = [interval(m[t]["top1"], m[t]["top1_ci"]) for t in ("artist", "genre", "style")]
        expected.append(interval(m["style"]["macro_f1"], m["style"]["macro_f1_ci"]))
        assert [c.replace("**", "") for c in rows[run]] == expected, run
        for task in ("artist", "genre", "style"):
            assert f"{task} top-1 (n = {m[task]['n']:,})" in header, (run, task)
            assert f"{m[task]['majority_baseline']:.3f}" in baseline, (run, task)


def test_the_older_convention_rows_on_the_subset_match_their_metrics_json():
    lines = table_lines("results/README.md")
    older = lines.index(next(line for line in lines if "older convention (unknown = Dürer)" in line and "subset" in line))
    durer = ROOT / "results" / "resnet18_gap_unknown_as_durer"
    for line, scores in ((lines[older], durer / "metrics.json"), (lines[older + 1], durer / "honest_reference.json")):
        m = json.loads(scores.read_text())["artist"]
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[2:] == [f"{m['n']:,}", interval(m["top1"], m["top1_ci"]), f"{m['majority_baseline']:.3f}",
                             f"{m['macro_f1']:.3f}"], run


def test_results_module_reads_the_committed_files():
    """wikiart_utils.results is what notebooks 04 and 08 read: every run, its settings, the paired table."""
    from wikiart_utils import results

    scored = results.metrics()
    assert sorted(scored) == sorted(p.parent.name for p in (ROOT / "results").glob("*/metrics.json")
                                    if "_unknown_as_" not in p.parent.name)
    settings = results.settings()
    assert set(settings.index) == set(scored)
    for run, row in settings.iterrows():  # every run names the weights it started from
        weights = json.loads((ROOT / "results" / run / "run.json").read_text()).get("weights", "")
        assert row["pretrained"] == run.startswith("efficientnet_lite0"), run
        assert not row["pretrained"] or "EfficientNet-Lite0 ImageNet" in weights, run
    paired = results.paired()
    text = (ROOT / "results" / "paired.md").read_text(encoding="utf-8")
    assert len(paired) == 3 * sum(line.startswith("| `") for line in text.splitlines())
    for row in paired.itertuples():
        assert row.lo <= row.difference <= row.hi and row.n > 0
        assert f"{row.difference:+.3f} [{row.lo:+.3f}, {row.hi:+.3f}] (n = {row.n})" in text


def test_verdict_reads_the_interval():
    from wikiart_utils import results

    row = {"a": "x", "b": "y", "lo": 0.01, "hi": 0.05}
    assert results.verdict(row) == "x better"
    assert results.verdict({**row, "lo": -0.05, "hi": -0.01}) == "y better"
    assert results.verdict({**row, "lo": -0.01, "hi": 0.02}) == "cannot tell apart"


def test_chance_of_the_committed_runs_counts_only_classes_with_test_paintings():
    import pandas as pd
    from wikiart_utils import results

    for run, scored in results.metrics_with_chance_present().items():
        for task in ("artist", "genre", "style"):
            support = pd.read_csv(ROOT / "results" / run / f"per_class_{task}.csv")["support"]
            assert scored[task]["chance"] == 1 / int((support > 0).sum())
            assert scored[task]["chance"] >= results.metrics()[run][task]["chance"]
