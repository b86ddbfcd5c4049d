"""The readers compared in results/paired.md ("what reading buys"): each does what its docstring claims, on
small random tokens; EfficientNet-Lite0's stage statistics and its trainable last stages agree with the
frozen network; runs with other readers over one backbone share one token cache."""
from __future__ import annotations

import pytest
import torch

from wikiart_utils import data, models, readers, train
from wikiart_utils.speed import features


def test_the_shuffled_order_is_one_fixed_permutation():
    order = readers.shuffled_order(49)
    assert sorted(order.tolist()) == list(range(49)) and order.tolist() != list(range(49))
    assert torch.equal(order, readers.shuffled_order(49))  # the same at every call: nothing to store
    tokens = torch.arange(2 * 49 * 3, dtype=torch.float32).reshape(2, 49, 3)
    assert torch.equal(readers.reorder(tokens, "natural"), tokens)
    assert torch.equal(readers.reorder(tokens, "shuffled")[:, 0], tokens[:, order[0]])
    with pytest.raises(ValueError, match="order must be one of natural, shuffled"):
        readers.reorder(tokens, "reversed")


def test_the_lstm_reads_order_and_the_average_does_not():
    torch.manual_seed(0)
    tokens = torch.randn(3, 16, 8)
    natural = readers.SequenceReader(8, hidden_size=4).eval()
    shuffled = readers.SequenceReader(8, hidden_size=4, order="shuffled").eval()
    shuffled.load_state_dict(natural.state_dict())
    with torch.no_grad():
        assert not torch.allclose(natural(tokens), shuffled(tokens))
        assert torch.allclose(shuffled(tokens), natural(tokens[:, readers.shuffled_order(16)]))
        average = readers.SequenceReader(8, recurrent=False)
        assert torch.allclose(average(tokens), average(tokens[:, readers.shuffled_order(16)]), atol=1e-6)


def test_attention_pooling_starts_as_the_average_and_learns_to_look_elsewhere():
    torch.manual_seed(0)
    pool = readers.AttentionPool(8, queries=2, key_dim=4)
    tokens = torch.randn(3, 5, 8)
    assert torch.allclose(pool(tokens), tokens.mean(1).repeat(1, 2), atol=1e-6)  # queries at zero: uniform weights
    with torch.no_grad():
        pool.queries.normal_()
    weights = pool.weights(tokens)
    assert weights.shape == (3, 2, 5) and torch.allclose(weights.sum(-1), torch.ones(3, 2))
    assert not torch.allclose(pool(tokens), tokens.mean(1).repeat(1, 2))


def test_the_depth_lstm_reads_one_token_per_stage():
    reader = readers.DepthLSTM((4, 6, 2), hidden_size=5)
    stats = torch.randn(2, 1, 12)
    assert reader.stage_tokens(stats).shape == (2, 3, 5) and reader(stats).shape == (2, 5)


@pytest.fixture(scope="module")
def lite0_pair():
    torch.manual_seed(0)
    frozen = models.build_model("efficientnet_lite0_stats", pretrained=True, image_size=64).eval()
    tuned = models.build_model("efficientnet_lite0_stats", pretrained=True, image_size=64, tuned_stages=3).eval()
    return frozen, tuned


def test_stage_statistics_hold_the_average_and_the_tuned_stages_continue_the_frozen_net(lite0_pair):
    frozen, tuned = lite0_pair
    images = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    positions = models.build_model("efficientnet_lite0_gap", pretrained=True, image_size=64).eval()
    with torch.no_grad():
        stats = frozen.tokens(images)
        assert stats.shape == (2, 1, 2 * sum(models.LITE0_CHANNELS))
        last_mean = stats[:, 0, -2 * models.LITE0_CHANNELS[-1]:-models.LITE0_CHANNELS[-1]]
        assert torch.allclose(last_mean, positions.tokens(images).mean(1), atol=1e-5)  # the average is in it
        packed = tuned.tokens(images)  # stages 1-6 statistics and stage 6's map
        assert packed.shape[-1] == 2 * sum(models.LITE0_CHANNELS[:6]) + models.LITE0_CHANNELS[5] * 4 * 4
        assert torch.allclose(tuned.reader.front(packed), stats, atol=1e-4)


def test_what_trains_is_named(lite0_pair):
    frozen, tuned = lite0_pair
    assert frozen.trainable() == "reader+heads" and tuned.trainable() == "stages 7-9+reader+heads"
    assert models.build_model("efficientnet_lite0_gap").trainable() == "heads"
    assert models.build_model("resnet18_gap").trainable(backbone_trains=True) == "backbone+heads"
    assert "shuffled" in models.build_model("efficientnet_lite0_lstm", order="shuffled").reader_words()
    with pytest.raises(ValueError, match="only the EfficientNet-Lite0 variants"):
        models.build_model("resnet18_gap", tuned_stages=2)


def test_tuned_stages_learn_at_the_backbone_rate(lite0_pair):
    _, tuned = lite0_pair
    groups = train.param_groups(tuned, lr=1e-3, backbone_lr=1e-4, weight_decay=0.05)
    stage_params = {id(p) for p in tuned.reader.front.parameters()}
    backbone = {id(p) for g in groups if g["name"] == "backbone" for p in g["params"]}
    assert stage_params <= backbone and all(g["lr"] == 1e-4 for g in groups if g["name"] == "backbone")
    head = {id(p) for g in groups if g["name"] == "head" for p in g["params"]}
    assert head == {id(p) for n, p in tuned.named_parameters() if n.startswith(("reader.reader.", "heads."))}


def test_runs_over_one_backbone_share_one_cache_and_other_backbones_do_not(tmp_path):
    root = data.dataset_dir(None)
    dataset = data.WikiArtDataset(root, "val", 64, train=False, limit=None)
    gap = models.build_model("efficientnet_lite0_gap", pretrained=False, image_size=64)
    lstm = models.build_model("efficientnet_lite0_lstm", pretrained=False, image_size=64, order="shuffled")
    lstm.backbone.load_state_dict(gap.backbone.state_dict())
    stats = models.build_model("efficientnet_lite0_stats", pretrained=False, image_size=64)
    stats.backbone.load_state_dict(gap.backbone.state_dict())
    same = features.shared_cache_path(tmp_path, gap, dataset, "val")
    assert same == features.shared_cache_path(tmp_path, lstm, dataset, "val")  # another reader, one cache
    assert same != features.shared_cache_path(tmp_path, stats, dataset, "val")  # other tokens, another cache


def test_a_cached_run_reads_no_augmentation_setting(tmp_path):
    """On cached tokens every epoch sees the eval view of each painting, so crop scale and colour jitter do
    not act: two runs that differ only in them end with the same weights (results/pretrained_choices/)."""
    root = data.dataset_dir(None)
    weights = []
    for crop, jitter in ((0.5, 0.0), (1.0, 0.4)):
        result = train.train(root, "efficientnet_lite0_gap", tmp_path / f"run{crop}", epochs=1, image_size=32,
                             pretrained=False, freeze_backbone=True, cached_features=True, crop_scale=crop,
                             color_jitter=jitter, train_limit=64, progress=False, features_dir=tmp_path / "f")
        weights.append(torch.load(result.best_path, weights_only=True)["model"]["heads.style.weight"])
    assert torch.equal(*weights)
