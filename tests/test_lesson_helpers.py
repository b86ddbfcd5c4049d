"""Helpers the evaluation notebooks show a learner: captions marked right or wrong in words and symbols,
an unreadable upload answered in one line, the LSTM's reading order drawn, the committed references."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from wikiart_utils import labels, lesson, plots, results


def test_verdict_lines_mark_right_and_wrong_without_colour_and_keep_whole_names():
    renoir, monet = labels.vocab("artist").index("pierre-auguste-renoir"), labels.vocab("artist").index("claude-monet")
    right = lesson.verdict_line("artist", renoir, renoir)
    wrong = lesson.verdict_line("artist", renoir, monet)
    unknown = lesson.verdict_line("artist", -1, monet)
    assert right.startswith("\u2713") and "pierre-auguste-renoir" in right.replace("\n", "")
    assert wrong.startswith("\u2717") and "pierre-auguste-renoir" in wrong and "claude-monet" in wrong
    assert unknown.startswith("?")
    assert all(len(line) <= 30 for line in wrong.splitlines())


@pytest.mark.parametrize("content", [b"\x00\x00\x00\x18ftypheic\x00\x00", b"%PDF-1.4 not an image", b"\xff\xd8\xff\xe0trunc"])
def test_an_unreadable_upload_gets_one_line(tmp_path, capsys, content):
    upload = tmp_path / "photo.heic"
    upload.write_bytes(content)
    assert lesson.explain_or_say(None, upload) is None
    out = capsys.readouterr().out.strip()
    assert out.startswith("cannot read photo.heic:") and "\n" not in out and "JPEG" in out


def test_the_reading_order_is_numbered_row_by_row(tmp_path):
    image = np.zeros((70, 70, 3), dtype=np.uint8)
    fig = plots.reading_order(image, 7, path=tmp_path / "order.png")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == [str(i) for i in range(1, 50)]
    first, second, eighth = (fig.axes[0].texts[i].get_position() for i in (0, 1, 7))
    assert first[1] == second[1] < eighth[1] and second[0] > first[0]  # along the row, then down
    assert (tmp_path / "order.png").is_file()


def test_the_older_convention_keeps_the_scores_of_the_run_it_repeats():
    reference = results.older_convention_reference()
    durer = results.metrics(older_convention=True)["resnet18_gap_unknown_as_durer"]["artist"]
    assert reference["trained"] == "2026-11-27" and reference["artist"]["n"] < durer["n"]
    assert durer["majority_baseline"] > reference["artist"]["majority_baseline"]
