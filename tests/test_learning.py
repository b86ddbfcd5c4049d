"""On the embedded sample, the main variant learns: validation style accuracy beats the majority
baseline (most frequent training style) by at least 10 points within a CPU-minutes budget."""
import pytest

from wikiart_utils import evaluate, train
from wikiart_utils.ingest import sample


@pytest.mark.slow
def test_patch_model_beats_the_majority_baseline_on_style(tmp_path_factory):
    root = tmp_path_factory.mktemp("learn") / "sample"
    sample.generate_sample(root, n=1000, size=64, seed=0)
    result = train.train(root, "resnet18_lstm_patch", out=tmp_path_factory.mktemp("run"), epochs=5,
                         image_size=48, batch_size=32, pretrained=False, workers=0, seed=0, progress=False)
    metrics, _ = evaluate.evaluate_checkpoint(root, result.best_path, split="val", workers=0, n_boot=200)
    style = metrics["style"]
    assert style["n"] >= 90
    assert style["top1"] - style["majority_baseline"] >= 0.10, style
