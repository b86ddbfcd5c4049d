"""The `full` profile -- ImageNet weights, 224 px, the backbone frozen for the first epoch then fine-tuned,
workers and batch chosen for the machine -- run top to bottom in notebooks 03-08, on a CPU, offline.

Stand-in weight files (random tensors of the right shapes, never ImageNet: `tools/standin_weights.py`)
sit in a temporary torch hub cache, so `pretrained=True` runs the very loading code it runs online; any
download attempt would fail (proxies point at a closed port). The data is a small real dataset cut from
the embedded sample (`prepare --limit`), and `CAPS` sets 2 epochs: everything else is the profile's own.
The numbers such a run prints mean nothing (random features, a few dozen paintings); that it finishes,
and loads the weights from that cache, is what is checked."""
from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import nbformat
import pytest

from wikiart_utils import data, reproduce
from wikiart_utils.ingest import prepare

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("standin_weights", ROOT / "tools" / "standin_weights.py")
standin = importlib.util.module_from_spec(spec)
spec.loader.exec_module(standin)
TRAINING = ["03", "04", "05", "06", "07", "08"]
CAPS = {"epochs": 2}


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def printed(notebook: Path) -> str:
    cells = nbformat.read(notebook, as_version=4).cells
    return "".join(o.get("text", "") for c in cells for o in c.get("outputs", []) if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("full")
    hub = base / "torch" / "hub"
    standin.write(hub)
    small = base / "small"
    prepare.prepare(data.dataset_dir(None), small, size=128, workers=1, limit=8)
    committed = {**digest(ROOT / "notebooks"), **digest(ROOT / "figures")}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TORCH_HOME", str(base / "torch"))
        for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env.setenv(proxy, "http://127.0.0.1:9")
        env.setenv("HF_HUB_OFFLINE", "1")
        written = reproduce.reproduce(data=str(small), profile="full", only=TRAINING, output_dir=base / "runs",
                                      caps=CAPS)
    return base, hub, written, committed


@pytest.mark.slow
def test_every_training_notebook_finishes_on_the_full_profile(full_run):
    base, _, written, _ = full_run
    assert [p.name[:2] for p in written] == TRAINING
    for notebook in written:
        outputs = [o for c in nbformat.read(notebook, as_version=4).cells for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], notebook.name
    assert (base / "runs" / "figures" / "08_comparison.png").is_file()


@pytest.mark.slow
def test_the_pretrained_weights_come_from_the_temporary_cache(full_run):
    """The torchvision backbones the full profile loads with ImageNet weights -- VGG-16 (05) and ViT-B/16 (06) --
    load them from the hub cache. ResNet-18 is not among them: it is notebook 03's from-scratch comparison."""
    base, hub, written, _ = full_run
    log = "".join(printed(nb) for nb in written)
    for name in ("vgg16", "vit_b16"):
        weights, _ = standin.STANDINS[name]
        line = f"loaded pretrained weights {type(weights).__name__}.{weights.name} from {standin.cache_file(weights, hub)}"
        assert line in log


@pytest.mark.slow
def test_the_profile_s_own_settings_run(full_run):
    """224 px, ImageNet weights frozen for the first epoch then fine-tuned, workers and batch for this machine."""
    _, _, written, _ = full_run
    patch = printed(written[0])
    assert "this machine: workers" in patch and "batch 32 (no GPU)" in patch
    assert "ImageNet weights, frozen for the first 1 epoch, then trained end to end" in patch
    assert "224 px" in patch and "epoch 2/2" in patch


@pytest.mark.slow
def test_the_committed_notebooks_and_figures_are_untouched(full_run):
    _, _, _, committed = full_run
    assert {**digest(ROOT / "notebooks"), **digest(ROOT / "figures")} == committed
