"""Feature caching: extraction layout, fidelity to model.tokens, resume, refusals, head training on the cache."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from wikiart_utils import data, engine, labels, models, train
from wikiart_utils.speed import features

IMAGE_SIZE = 64  # ResNet-18 tokens: a 2x2 map of 512-d -> [4, 512]


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One intra-op thread: on a busy 2-core CI runner, two OpenMP threads make the small LSTM ~10x slower."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return models.build_model("resnet18_lstm_patch", pretrained=False, image_size=IMAGE_SIZE).eval()


@pytest.fixture(scope="module")
def val_set(sample_dir):
    return data.WikiArtDataset(sample_dir, "val", IMAGE_SIZE, train=False)


@pytest.fixture(scope="module")
def val_cache(model, val_set, tmp_path_factory):
    return features.extract_features(model, val_set, tmp_path_factory.mktemp("cache") / "val", batch_size=8,
                                     device="cpu", progress=False)


def test_extraction_layout_shape_and_dtype(model, val_set, val_cache):
    tokens = np.load(val_cache / "tokens.npy", mmap_mode="r")
    with torch.no_grad():
        t, d = model.tokens(val_set[0][0][None]).shape[1:]
    assert tokens.dtype == np.float16 and tokens.shape == (len(val_set), t, d) == (len(val_set), 4, 512)
    assert np.load(val_cache / "targets.npy").tolist() == val_set.targets.tolist()
    assert np.load(val_cache / "valid.npy").all()
    meta = json.loads((val_cache / "meta.json").read_text())
    assert meta["shape"] == [len(val_set), 4, 512] and meta["n_valid"] == len(val_set)
    assert meta["paths"] == val_set.paths
    assert not features._part_dir(val_cache).exists()


def test_cached_tokens_equal_model_tokens(model, val_set, val_cache):
    cache = features.CachedFeatureDataset(val_cache)
    assert len(cache) == len(val_set) and cache.token_shape == (4, 512)
    with torch.no_grad():
        expected = model.tokens(torch.stack([val_set[i][0] for i in range(len(val_set))]))
    got = torch.stack([cache[i][0] for i in range(len(cache))])
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=2e-3, atol=2e-3)  # float16 rounding only
    assert torch.equal(cache[3][1], val_set.targets[3])
    batch_tokens, batch_targets = cache.batch([5, 1, 2])
    assert torch.equal(batch_tokens[0], cache[5][0]) and torch.equal(batch_targets, val_set.targets[[5, 1, 2]])
    seen = torch.cat([targets for _, targets in cache.loader(batch_size=4, shuffle=True, seed=1)])
    assert sorted(seen.tolist()) == sorted(val_set.targets.tolist())  # a shuffled epoch covers every item once


def test_existing_cache_is_reused_and_another_model_refused(model, val_set, val_cache):
    before = (val_cache / "tokens.npy").stat().st_mtime_ns
    assert features.extract_features(model, val_set, val_cache, device="cpu", progress=False) == val_cache
    assert (val_cache / "tokens.npy").stat().st_mtime_ns == before
    other = models.build_model("resnet18_lstm_patch", pretrained=False, image_size=IMAGE_SIZE)
    with pytest.raises(FileExistsError, match="another model"):
        features.extract_features(other, val_set, val_cache, device="cpu", progress=False)
    with pytest.raises(ValueError, match="other backbone weights"):
        features.check_cache_matches(other, features.CachedFeatureDataset(val_cache))


def test_a_cache_made_now_leaves_the_training_random_stream_as_a_reused_one(model, val_set, tmp_path):
    """Extraction iterates a DataLoader (which draws a seed from the global RNG): without the fork in
    `cached_split`, a first run and its rerun on the same cache would train on different random streams."""
    states = []
    for _ in range(2):  # the first call extracts, the second reuses the cache
        torch.manual_seed(1)
        features.cached_split(model, val_set, tmp_path / "val", torch.device("cpu"), progress=False)
        states.append(torch.get_rng_state())
    torch.manual_seed(1)
    assert torch.equal(states[0], torch.get_rng_state()) and torch.equal(states[1], torch.get_rng_state())


def test_random_transforms_are_refused(model, sample_dir, tmp_path):
    augmenting = data.WikiArtDataset(sample_dir, "val", IMAGE_SIZE, train=True)
    with pytest.raises(ValueError, match="eval"):
        features.extract_features(model, augmenting, tmp_path / "c", device="cpu", progress=False)


class _Interrupting(data.WikiArtDataset):
    """A dataset that dies (like Ctrl-C) at item `stop_at`, and counts the items it served."""

    stop_at: int | None = None
    served = 0

    def __getitem__(self, i):
        if self.stop_at is not None and i == self.stop_at:
            raise KeyboardInterrupt
        type(self).served += 1
        return super().__getitem__(i)


def test_interrupted_extraction_resumes(model, sample_dir, val_cache, tmp_path):
    dataset = _Interrupting(sample_dir, "val", IMAGE_SIZE, train=False)
    out = tmp_path / "val"
    _Interrupting.stop_at = 13
    with pytest.raises(KeyboardInterrupt):
        features.extract_features(model, dataset, out, batch_size=4, device="cpu", flush_every_s=0, progress=False)
    assert not out.exists()
    progress = json.loads((features._part_dir(out) / "progress.json").read_text())
    assert progress["done"] == 12  # three whole batches flushed
    with pytest.raises(FileNotFoundError, match="interrupted"):
        features.CachedFeatureDataset(out)
    _Interrupting.stop_at, _Interrupting.served = None, 0
    features.extract_features(model, dataset, out, batch_size=4, device="cpu", progress=False)
    assert _Interrupting.served == len(dataset) - 12  # only the rest was computed
    assert np.array_equal(np.load(out / "tokens.npy"), np.load(val_cache / "tokens.npy"))
    assert not features._part_dir(out).exists()


def test_undecodable_image_row_is_skipped(model, sample_dir, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(sample_dir, root)
    dataset = data.WikiArtDataset(root, "val", IMAGE_SIZE, train=False)
    (root / dataset.paths[2]).write_bytes(b"not a jpeg")
    out = features.extract_features(model, dataset, tmp_path / "c", batch_size=4, device="cpu", progress=False)
    valid = np.load(out / "valid.npy")
    assert valid.tolist() == [i != 2 for i in range(len(dataset))]
    assert (np.load(out / "targets.npy")[2] == labels.UNKNOWN).all()
    cache = features.CachedFeatureDataset(out)
    assert len(cache) == len(dataset) - 1
    assert torch.equal(cache.targets, dataset.targets[[i for i in range(len(dataset)) if i != 2]])


def test_head_trained_on_cache_reduces_loss(sample_dir, tmp_path):
    torch.manual_seed(0)
    net = models.build_model("resnet18_lstm_patch", pretrained=False, image_size=IMAGE_SIZE)
    split = data.WikiArtDataset(sample_dir, "train", IMAGE_SIZE, train=False)
    cache = features.CachedFeatureDataset(
        features.extract_features(net, split, tmp_path / "train", batch_size=32, device="cpu", progress=False))
    backbone = features.backbone_fingerprint(net)
    loss_before = engine.validate(features.HeadOnly(net), cache.loader(64), torch.device("cpu"))["val_loss"]
    net.set_backbone_trainable(False)
    head = features.HeadOnly(net)
    optimizer = torch.optim.AdamW(net.head_parameters(), lr=3e-3)
    losses_ = [engine.train_one_epoch(head, train.losses.MultitaskLoss(), optimizer, cache.loader(32, shuffle=True),
                                      torch.device("cpu"))["train_loss"] for _ in range(4)]
    loss_after = engine.validate(head, cache.loader(64), torch.device("cpu"))["val_loss"]
    assert loss_after < 0.8 * loss_before
    assert losses_[-1] < losses_[0]
    assert features.backbone_fingerprint(net) == backbone  # the frozen backbone is untouched
