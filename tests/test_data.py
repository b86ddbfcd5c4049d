"""WikiArtDataset items, transforms, and a DataLoader that survives a file corrupted after indexing."""
from __future__ import annotations

import logging
import shutil

import pytest
import torch
from PIL import Image

from wikiart_utils import data, images, labels, metadata


@pytest.fixture(scope="module")
def corrupted(sample_dir, tmp_path_factory):
    """A copy of the sample in which one indexed file was truncated after metadata.csv was written."""
    root = tmp_path_factory.mktemp("corrupt") / "wikiart"
    shutil.copytree(sample_dir, root)
    meta = metadata.read_metadata(root)
    victim = meta["path"].iloc[len(meta) // 2]
    payload = (root / victim).read_bytes()
    (root / victim).write_bytes(payload[: len(payload) // 3])
    with pytest.raises(images.BadImage):
        images.open_rgb(root / victim)
    return root, victim


def test_item_shapes_and_dtypes(sample_dir):
    dataset = data.WikiArtDataset(sample_dir, "val", image_size=32)
    meta = metadata.read_metadata(sample_dir, "val")
    assert len(dataset) == len(meta) > 0
    image, targets = dataset[0]
    assert image.shape == (3, 32, 32) and image.dtype == torch.uint8  # normalised on the model's device
    assert targets.shape == (3,) and targets.dtype == torch.long
    shown = data.to_display(image)
    assert shown.dtype == torch.float32 and 0 <= shown.min() and shown.max() <= 1


def test_normalize_matches_torchvision_and_keeps_layout():
    from torchvision.transforms.v2 import functional as F

    images = torch.randint(0, 256, (2, 3, 8, 8), dtype=torch.uint8)
    expected = F.normalize(images.float() / 255, data.IMAGENET_MEAN, data.IMAGENET_STD)
    assert torch.allclose(data.normalize(images), expected, atol=1e-5)
    assert torch.allclose(data.normalize(images.float() / 255), expected, atol=1e-5)  # floats in [0, 1]
    last = data.normalize(images.contiguous(memory_format=torch.channels_last))
    assert last.is_contiguous(memory_format=torch.channels_last) and torch.allclose(last, expected, atol=1e-5)
    floats = (images.float() / 255).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    before = floats.detach().clone()
    data.normalize(floats).sum().backward()  # differentiable (Grad-CAM), and the input is left untouched
    assert torch.equal(floats.detach(), before) and floats.grad is not None


def test_model_normalises_uint8_input_itself():
    from wikiart_utils import models

    model = models.build_model("resnet18_gap").eval()
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        a = model.tokens(images)
        b = model.backbone(data.normalize(images))
    assert torch.equal(a, b)
    assert "normalize" not in " ".join(model.state_dict())  # checkpoints unchanged by the design


def test_targets_match_metadata_with_minus_one_for_unknown(sample_dir):
    dataset = data.WikiArtDataset(sample_dir, split=None, image_size=32)
    meta = dataset.meta
    assert dataset.targets.shape == (len(meta), 3)
    for i, row in meta.iterrows():
        for t, task in enumerate(labels.TASKS):
            expected = labels.vocab(task).index(row[task]) if row[task] else -1
            assert dataset.targets[i, t].item() == expected
    artist, genre, style = dataset.targets.T
    assert (artist == -1).any() and (artist >= 0).any()
    assert (genre == -1).any() and (genre >= 0).any()
    assert (style >= 0).all()  # every painting has a style
    assert artist.max() < 128 and genre.max() < 10 and style.max() < 27


def test_train_and_eval_transforms(sample_dir):
    train = data.WikiArtDataset(sample_dir, "train", image_size=48)
    assert train.transform is not None
    first, _ = train[0]
    assert first.shape == (3, 48, 48)
    torch.manual_seed(0)
    a, _ = train[0]
    torch.manual_seed(1)
    b, _ = train[0]
    assert not torch.equal(a, b)  # random crop / flip / jitter
    evaluation = data.WikiArtDataset(sample_dir, "train", image_size=40, train=False)
    c1, _ = evaluation[0]
    c2, _ = evaluation[0]
    assert c1.shape == (3, 40, 40) and torch.equal(c1, c2)  # deterministic
    # non-square source images: eval resizes the short side to 256/224 x the crop and centre-crops
    assert data.eval_resize(224) == 256 and data.eval_resize(40) == 46
    decoded = evaluation.load(0)
    assert decoded.dtype == torch.uint8 and min(decoded.shape[1:]) >= data.eval_resize(40)
    out = data.eval_transform(24)(decoded)
    assert out.shape == (3, 24, 24)
    assert data.train_transform(24)(decoded).shape == (3, 24, 24)
    pil = Image.fromarray(decoded.permute(1, 2, 0).numpy())  # PIL input works too, with the same result
    assert torch.equal(data.eval_transform(24)(pil), out)


def test_split_subsets(sample_dir):
    sizes = {s: len(data.WikiArtDataset(sample_dir, s, image_size=16)) for s in ("train", "val", "test")}
    assert sum(sizes.values()) == len(data.WikiArtDataset(sample_dir, None, image_size=16))
    assert sizes["train"] > sizes["val"] > 0 and sizes["test"] > 0


def test_empty_split(tmp_path, sample_dir):
    shutil.copy(sample_dir / metadata.METADATA, tmp_path / metadata.METADATA)
    meta = metadata.read_metadata(tmp_path)
    meta["split"] = "train"
    metadata.write_metadata(tmp_path, meta)
    empty = data.WikiArtDataset(tmp_path, "test", image_size=16)
    assert len(empty) == 0 and empty.targets.shape == (0, 3)


def test_corrupted_item_is_none_and_logged(corrupted, caplog):
    root, victim = corrupted
    dataset = data.WikiArtDataset(root, split=None, image_size=32, train=False)
    i = dataset.paths.index(victim)
    with caplog.at_level(logging.WARNING, logger="wikiart_utils.data"):
        assert dataset[i] is None
    assert victim in caplog.text and "truncated" in caplog.text
    assert dataset[(i + 1) % len(dataset)] is not None


def test_collate_skip_bad():
    good = (torch.arange(48, dtype=torch.uint8).view(4, 4, 3).permute(2, 0, 1), torch.tensor([1, -1, 2]))
    batch = data.collate_skip_bad([good, None, good])
    images_, targets = batch
    assert images_.shape == (2, 3, 4, 4) and targets.tolist() == [[1, -1, 2], [1, -1, 2]]
    assert images_.is_contiguous(memory_format=torch.channels_last) and torch.equal(images_[1], good[0])
    with pytest.raises(ValueError, match="one size"):
        data.collate_skip_bad([good, (torch.zeros(3, 5, 4, dtype=torch.uint8), good[1])])
    assert data.collate_skip_bad([None, None]) is None


def test_loader_with_workers_survives_corrupt_file(corrupted):
    root, victim = corrupted
    dataset = data.WikiArtDataset(root, split=None, image_size=24, train=False)
    loader = data.make_loader(dataset, batch_size=16, shuffle=True, workers=2, seed=0)
    assert loader.num_workers == 2
    seen, batches = 0, 0
    for batch in loader:
        assert batch is not None
        inputs, targets = batch
        assert inputs.shape[1:] == (3, 24, 24) and targets.shape[1:] == (3,)
        seen += len(inputs)
        batches += 1
    assert batches == -(-len(dataset) // 16)
    assert seen == len(dataset) - 1


def test_loader_without_workers_is_seeded(sample_dir):
    dataset = data.WikiArtDataset(sample_dir, "val", image_size=16, train=False)
    order = [torch.cat([t for _, t in data.make_loader(dataset, 8, shuffle=True, workers=0, seed=s)])
             for s in (3, 3, 4)]
    assert torch.equal(order[0], order[1])
    assert order[0].shape == (len(dataset), 3)
    assert not torch.equal(order[0], order[2]) or len(dataset) < 3


def test_train_transform_takes_the_recipe():
    steps = [type(t).__name__ for t in data.train_transform(64).transforms]
    assert steps == ["PILToTensor", "RandomResizedCrop", "RandomHorizontalFlip"]  # no jitter by default
    assert data.train_transform(64).transforms[1].scale == (0.5, 1.0)
    jittered = data.train_transform(64, crop_scale=0.8, color_jitter=0.1)
    assert "ColorJitter" in [type(t).__name__ for t in jittered.transforms]
    assert jittered.transforms[1].scale == (0.8, 1.0)
