"""predict: one painting in a notebook (top-k and Grad-CAM), the default sample painting, the upload path."""
from __future__ import annotations

import pandas as pd
import pytest

from wikiart_utils import labels, lesson, plots, predict, provenance, train
from wikiart_utils.data import REAL_SAMPLE


@pytest.fixture(scope="module")
def checkpoint(sample_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("ckpt")
    train.train(sample_dir, "resnet18_gap", out=out, epochs=1, image_size=32, batch_size=16, pretrained=False,
                workers=0, limit_batches=2, progress=False)
    return out / "best.pt"


def test_sample_painting_is_public_domain_with_three_labels():
    row = lesson.sample_painting(REAL_SAMPLE)
    assert bool(provenance.showable(row.to_frame().T).iloc[0])
    assert all(row[t] for t in labels.TASKS) and (REAL_SAMPLE / row["path"]).is_file()


def test_choose_painting_keeps_provenance_for_the_sample_only(tmp_path):
    path, rows, what = lesson.choose_painting(None, None, REAL_SAMPLE)
    assert path.is_file() and list(rows["path"]) == [str(path.relative_to(REAL_SAMPLE))] and "true artist" in what
    mine = tmp_path / "mine.jpg"
    path, rows, what = lesson.choose_painting(mine, None, REAL_SAMPLE)
    assert path == mine and rows is None and "your file" in what


def test_no_upload_widget_outside_an_interactive_session(monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delenv("VSCODE_PID", raising=False)
    assert lesson.upload_widget() is None and lesson.uploaded_path(None) is None


def test_uploaded_path_writes_the_bytes(monkeypatch):
    class Upload:  # the shape of ipywidgets 8's FileUpload.value
        value = ({"name": "../odd name.jpg", "content": memoryview(b"abc")},)
    path = lesson.uploaded_path(Upload())
    assert path.name == "odd name.jpg" and path.read_bytes() == b"abc"


def test_explain_painting_top_k_and_gradcam(checkpoint, tmp_path):
    path, rows, _ = lesson.choose_painting(None, None, REAL_SAMPLE)
    report = lesson.explain_painting(checkpoint, path, k=3, min_cells=4)  # a 32-px model: layer2 is 4x4
    assert [len(report["top"][t]) for t in labels.TASKS] == [3, 3, 3]
    assert report["cams"]["style"].shape == (32, 32) and report["layer"] == "layer2 (4x4 cells)"
    panels, captions = lesson.painting_panels(report)
    assert len(panels) == 3 and captions[0].startswith("artist, top 3")
    plots.image_grid(panels, captions, ncols=3, path=tmp_path / "mine.png", paintings=rows)
    assert len(pd.read_csv(tmp_path / "mine.provenance.csv")) == 1
