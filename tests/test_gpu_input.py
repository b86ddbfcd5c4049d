"""The GPU input path (gpu_input): byte-only workers, batched decoding that drops bad files one by one,
the device transforms against data.train_transform / data.eval_transform, and a GpuBatches epoch
against the CPU loader. Everything runs on the CPU; the tests taking `device` run again on CUDA (nvJPEG)
where `gpu_input.available("cuda")`, and are skipped elsewhere: ``pytest tests/test_gpu_input.py -k cuda``."""
from __future__ import annotations

import io
import logging

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from wikiart_utils import data, images, labels, metadata
from wikiart_utils.speed import gpu_input

SIZE = 32
needs_cuda = pytest.mark.skipif(not gpu_input.available("cuda"),
                                reason="needs a CUDA GPU whose torchvision decodes JPEGs there (nvJPEG)")


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=needs_cuda)])
def device(request) -> torch.device:
    return torch.device(request.param)


def _smooth(width: int, height: int, seed: int, mode: str = "RGB") -> Image.Image:
    """A painting-like image (gradients and soft waves): JPEG decoders agree on it to a level or two,
    where on noise nvJPEG's and libjpeg-turbo's chroma upsampling differ a lot."""
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    phase = np.random.default_rng(seed).uniform(0, 6, 3)
    channels = [127 + 100 * np.sin(5 * x + 3 * y + p) * np.cos(2 * y - p) for p in phase]
    return Image.fromarray(np.stack(channels, -1).clip(0, 255).astype(np.uint8), "RGB").convert(mode)


def _jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=options.pop("format", "JPEG"), **options)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def odd_dir(tmp_path_factory, make_images):
    """A dataset directory (metadata.csv, val split) of JPEGs of different sizes, a grey JPEG, a PNG, a
    truncated JPEG, a zero-byte file and a row whose file is missing; row k has style k, so a target
    says which file it came from. Returns (root, names of the rows that must decode)."""
    root = tmp_path_factory.mktemp("gpu_odd") / "wikiart"
    (root / "Impressionism").mkdir(parents=True)
    noise = make_images.noise
    files = {
        "a-painter_rgb-80x60.jpg": _jpeg(noise(80, 60, 1)),
        "b-painter_rgb-45x90.jpg": _jpeg(noise(45, 90, 2), quality=80),
        "c-painter_square-64.jpg": _jpeg(noise(64, 64, 3)),
        "d-painter_grey.jpg": _jpeg(noise(50, 40, 4, "L")),
        "e-painter_png.png": _jpeg(noise(30, 50, 5), format="PNG"),
        "f-painter_truncated.jpg": make_images.truncated_jpeg(),
        "g-painter_empty.jpg": b"",
        "h-painter_cmyk.jpg": _jpeg(noise(36, 36, 6, "CMYK")),
    }
    for name, payload in files.items():
        (root / "Impressionism" / name).write_bytes(payload)
    names = [*files, "i-painter_missing.jpg"]
    styles = labels.vocab("style")
    pd.DataFrame({"path": [f"Impressionism/{n}" for n in names], "style": styles[:len(names)],
                  "genre": "", "artist": "", "split": "val"}).to_csv(root / metadata.METADATA, index=False)
    good = [n for n in names if not any(bad in n for bad in ("truncated", "empty", "missing"))]
    return root, good


def _encoded(dataset: data.WikiArtDataset) -> list[torch.Tensor]:
    return [torch.frombuffer(bytearray((dataset.root / p).read_bytes()), dtype=torch.uint8)
            if (dataset.root / p).is_file() and (dataset.root / p).stat().st_size
            else torch.empty(0, dtype=torch.uint8) for p in dataset.paths]


def _decoded(odd_dir) -> list[torch.Tensor]:
    """The decodable paintings of `odd_dir`, of five different sizes, as the CPU path decodes them."""
    root, good = odd_dir
    return [images.decode(root / "Impressionism" / name) for name in good[:5]]


# --------------------------------------------------------------------------- workers and collate

def test_encoded_dataset_reads_bytes_only(odd_dir, caplog):
    root, _ = odd_dir
    dataset = data.WikiArtDataset(root, "val", SIZE)
    encoded = gpu_input.EncodedDataset(dataset)
    assert len(encoded) == len(dataset)
    data_bytes, targets, i = encoded[0]
    assert data_bytes.dtype == torch.uint8 and data_bytes.ndim == 1 and i == 0
    assert data_bytes.numpy().tobytes() == (root / dataset.paths[0]).read_bytes()
    assert torch.equal(targets, dataset.targets[0])
    empty = dataset.paths.index("Impressionism/g-painter_empty.jpg")
    assert encoded[empty][0].shape == (0,)  # readable: decode_batch drops it, with the reason
    with caplog.at_level(logging.WARNING, logger="wikiart_utils.speed.gpu_input"):
        assert encoded[len(dataset) - 1] is None  # the missing file
    assert "i-painter_missing.jpg" in caplog.text


def test_collate_encoded_drops_unreadable():
    items = [(torch.arange(5, dtype=torch.uint8), torch.tensor([1, 2, 3]), 4), None,
             (torch.empty(0, dtype=torch.uint8), torch.tensor([-1, 0, 1]), 7)]
    encoded, targets, index_ = gpu_input.collate_encoded(items)
    assert [e.tolist() for e in encoded] == [[0, 1, 2, 3, 4], []]
    assert targets.tolist() == [[1, 2, 3], [-1, 0, 1]] and index_.tolist() == [4, 7]
    assert gpu_input.collate_encoded([None, None]) is None


# --------------------------------------------------------------------------- decoding

def test_decode_batch_drops_bad_files_one_by_one(odd_dir, caplog):
    root, good = odd_dir
    dataset = data.WikiArtDataset(root, "val", SIZE)
    encoded = _encoded(dataset)
    with caplog.at_level(logging.INFO, logger="wikiart_utils.speed.gpu_input"):
        decoded, kept = gpu_input.decode_batch(encoded, "cpu", dataset.paths)
    assert kept.dtype == torch.bool
    assert [p.split("/")[1] for p, k in zip(dataset.paths, kept) if k] == good
    assert "one by one" not in caplog.text  # the truncated JPEG never reaches the batched call
    assert "f-painter_truncated.jpg: truncated" in caplog.text and "g-painter_empty.jpg: empty" in caplog.text
    for image, path in zip(decoded, [p for p, k in zip(dataset.paths, kept) if k]):
        assert image.dtype == torch.uint8 and image.shape[0] == 3 and image.device.type == "cpu"
        assert torch.equal(image, images.decode(root / path)), path  # the CPU path's pixels
    grey = decoded[good.index("d-painter_grey.jpg")]
    assert torch.equal(grey[0], grey[1]) and torch.equal(grey[1], grey[2])


def test_decode_batch_handles_odd_and_hostile_files(tmp_path, make_images, caplog):
    expected = make_images.valid(tmp_path / "valid")  # CMYK, grey, EXIF-rotated, PNG, GIF named .jpg, ...
    reasons = make_images.bad(tmp_path / "bad")       # empty, text, truncated, decompression bomb
    paths = [tmp_path / "valid" / n for n in expected] + [tmp_path / "bad" / n for n in reasons]
    encoded = [torch.frombuffer(bytearray(p.read_bytes()), dtype=torch.uint8) if p.stat().st_size
               else torch.empty(0, dtype=torch.uint8) for p in paths]
    with caplog.at_level(logging.WARNING, logger="wikiart_utils.speed.gpu_input"):
        decoded, kept = gpu_input.decode_batch(encoded, torch.device("cpu"), [p.name for p in paths])
    assert kept.tolist() == [True] * len(expected) + [False] * len(reasons)
    for image, (name, (width, height)) in zip(decoded, expected.items()):
        assert image.shape == (3, height, width), name  # upright: EXIF orientation applied
        assert torch.equal(image, images.decode(tmp_path / "valid" / name)), name
    for name, reason in reasons.items():
        assert f"skipping {name}: " in caplog.text and reason in caplog.text


XMP_ROTATED = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="6"/></x:xmpmeta>'


@pytest.mark.parametrize("orientation, xmp, batched", [
    (None, None, True), (1, None, True), (6, None, False), (3, None, False), (None, XMP_ROTATED, False),
    (1, XMP_ROTATED, True),  # Pillow reads the Exif tag first: upright
])
def test_rotated_jpegs_leave_the_batched_decoder(make_images, orientation, xmp, batched):
    """nvJPEG ignores EXIF orientation, so the header walk sends rotated files to the CPU path's decoder,
    and agrees with Pillow on which files are rotated."""
    options = {"xmp": xmp} if xmp else {}
    if orientation is not None:
        options["exif"] = Image.Exif()
        options["exif"][0x0112] = orientation
        options["exif"][0x010F] = "Canon"
    payload = _jpeg(make_images.noise(40, 20, 6), **options)
    encoded = torch.frombuffer(bytearray(payload), dtype=torch.uint8)
    assert gpu_input._nvjpeg_ready(encoded) is batched
    (decoded,), kept = gpu_input.decode_batch([encoded], "cpu")
    assert kept.all() and torch.equal(decoded, images.decode(payload))


def test_truncated_jpegs_leave_the_batched_decoder(make_images):
    """nvJPEG decodes a JPEG cut off inside its scan without an error (the missing rows come out grey;
    seen on an H200, 2026-11-26), so the header walk sends a file with no end marker after its scan to
    the CPU path, which refuses it; an end marker before the scan (in a comment or a thumbnail) does not
    count, and bytes after the end marker are allowed."""
    def ready(payload: bytes) -> bool:
        return gpu_input._nvjpeg_ready(torch.frombuffer(bytearray(payload), dtype=torch.uint8))

    whole = _jpeg(make_images.noise(120, 80, 9), comment=b"an end marker \xff\xd9 before the scan")
    assert whole.endswith(b"\xff\xd9") and whole.index(b"\xff\xd9") < whole.index(b"\xff\xda")
    assert ready(whole) and ready(whole + b"\x00" * 7) and ready(whole + b"trailing bytes")
    assert not ready(whole[: len(whole) // 2]) and not ready(whole[:-2])
    assert not ready(make_images.truncated_jpeg())
    decoded, kept = gpu_input.decode_batch([torch.frombuffer(bytearray(whole[: len(whole) // 2]), dtype=torch.uint8)], "cpu")
    assert decoded == [] and kept.tolist() == [False]


def test_decode_batch_on_the_device_drops_bad_files(make_images, device, caplog):
    """The batched decoder of `device` (nvJPEG on CUDA): bad files dropped one by one with a warning, the
    others close to the CPU path's pixels (nvJPEG's IDCT and upsampling differ from libjpeg-turbo's by a
    level or two), and the device still decodes afterwards."""
    good = [_jpeg(_smooth(300, 200, 1)), _jpeg(_smooth(181, 257, 2), quality=80),
            _jpeg(_smooth(256, 256, 3), progressive=True), _jpeg(_smooth(120, 90, 4, "L")),
            _jpeg(_smooth(60, 70, 5), format="PNG"), _jpeg(_smooth(64, 48, 6, "CMYK"))]
    bad = [make_images.truncated_jpeg(), b"", b"not a JPEG at all"]
    payloads = good[:2] + bad[:1] + good[2:4] + bad[1:] + good[4:]
    encoded = [torch.frombuffer(bytearray(x), dtype=torch.uint8) if x else torch.empty(0, dtype=torch.uint8)
               for x in payloads]
    with caplog.at_level(logging.WARNING, logger="wikiart_utils.speed.gpu_input"):
        decoded, kept = gpu_input.decode_batch(encoded, device)
    assert kept.tolist() == [x in good for x in payloads] and len(decoded) == len(good)
    assert caplog.text.count("skipping") == len(bad)
    for image, payload in zip(decoded, [x for x in payloads if x in good]):
        reference = images.decode(payload)
        assert image.device.type == device.type and image.dtype == torch.uint8
        assert image.shape == reference.shape
        diff = (image.cpu().int() - reference.int()).abs().float()
        assert diff.mean() <= 2, (image.shape, diff.mean(), diff.max())
    again, kept = gpu_input.decode_batch(encoded[:2], device)
    assert kept.all() and all(torch.equal(a, b) for a, b in zip(again, decoded[:2]))


def test_decode_batch_falls_back_when_the_batched_call_fails(odd_dir, monkeypatch):
    """nvJPEG refusing a whole batch (one odd file) must cost only speed: every file decodes alone."""
    root, good = odd_dir
    dataset = data.WikiArtDataset(root, "val", SIZE)
    encoded = [e for e, p in zip(_encoded(dataset), dataset.paths) if p.split("/")[1] in good]
    reference, _ = gpu_input.decode_batch(encoded, "cpu")
    real = gpu_input._decode_jpegs

    def refuse_batches(batch, device):
        if len(batch) > 1:
            raise RuntimeError("nvjpeg: batch refused")
        return real(batch, device)

    monkeypatch.setattr(gpu_input, "_decode_jpegs", refuse_batches)
    decoded, kept = gpu_input.decode_batch(encoded, "cpu")
    assert kept.all() and all(torch.equal(a, b) for a, b in zip(decoded, reference))


def test_available_is_false_without_cuda():
    assert gpu_input.available("cpu") is False
    if not torch.cuda.is_available():
        assert gpu_input.available("cuda") is False


def test_auto_decodes_on_the_gpu_only_with_few_workers(monkeypatch):
    """'auto' takes the GPU path on CUDA with at most 4 loader workers (where an H200 run measured it
    feeding every variant faster), the CPU workers with more; 'gpu' and 'cpu' are obeyed."""
    monkeypatch.setattr(gpu_input, "available", lambda device="cuda": torch.device(device).type == "cuda")
    cuda = torch.device("cuda")
    assert [gpu_input.use_gpu("auto", cuda, w) for w in (0, 2, 4, 5, 8, 15)] == [True] * 3 + [False] * 3
    assert gpu_input.use_gpu("gpu", cuda, 15) and not gpu_input.use_gpu("cpu", cuda, 2)
    assert not gpu_input.use_gpu("auto", "cpu", 2)
    monkeypatch.setattr(gpu_input.data, "default_workers", lambda: 8)
    assert not gpu_input.use_gpu("auto", cuda)
    monkeypatch.setattr(gpu_input.data, "default_workers", lambda: 1)  # a 2-core Colab machine
    assert gpu_input.use_gpu("auto", cuda)


# --------------------------------------------------------------------------- transforms

def _check_batch(batch: torch.Tensor, n: int, size: int = SIZE) -> None:
    assert batch.shape == (n, 3, size, size) and batch.dtype == torch.uint8
    assert batch.is_contiguous(memory_format=torch.channels_last)
    assert 0 <= int(batch.min()) and int(batch.max()) <= 255


def test_eval_transform_equals_cpu_eval_transform(odd_dir, device):
    decoded = _decoded(odd_dir)
    batch = gpu_input.GpuEvalTransform(SIZE)([image.to(device) for image in decoded])
    _check_batch(batch, len(decoded))
    assert batch.device.type == device.type
    batch = batch.cpu()
    reference = torch.stack([data.eval_transform(SIZE)(image) for image in decoded])
    diff = (batch.int() - reference.int()).abs()
    assert diff.max() <= 2 and diff.float().mean() <= 0.5


def test_train_transform_is_reproducible_and_varies(odd_dir, device):
    decoded = [image.to(device) for image in _decoded(odd_dir)[:1]] * 8  # one painting, eight draws
    transform = gpu_input.GpuTrainTransform(SIZE)
    first = transform(decoded, torch.Generator().manual_seed(7))
    _check_batch(first, 8)
    assert first.device.type == device.type
    assert torch.equal(first, transform(decoded, torch.Generator().manual_seed(7)))
    assert not torch.equal(first, transform(decoded, torch.Generator().manual_seed(8)))
    distinct = {tuple(row.flatten().tolist()) for row in first}
    assert len(distinct) == 8  # a crop, flip and jitter of its own per sample


def test_train_transform_without_randomness_is_a_resize(odd_dir):
    decoded = _decoded(odd_dir)
    transform = gpu_input.GpuTrainTransform(SIZE, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip=False, jitter=None)
    batch = transform(decoded, torch.Generator().manual_seed(0))
    _check_batch(batch, len(decoded))
    same = v2.RandomResizedCrop(SIZE, scale=(1.0, 1.0), ratio=(1.0, 1.0), antialias=True)  # deterministic here
    assert torch.equal(batch, torch.stack([same(image) for image in decoded]))
    square = next(i for i, image in enumerate(decoded) if image.shape[1] == image.shape[2])
    assert torch.equal(batch[square], TF.resize(decoded[square], [SIZE, SIZE], antialias=True))


def test_train_transform_on_the_device_matches_the_cpu(odd_dir, device):
    """Same seed, same crops, flips and jitter factors (drawn on the CPU) wherever the pixels are."""
    decoded = _decoded(odd_dir)
    transform = gpu_input.GpuTrainTransform(SIZE)
    on_device = transform([image.to(device) for image in decoded], torch.Generator().manual_seed(11))
    on_cpu = transform(decoded, torch.Generator().manual_seed(11))
    _check_batch(on_device, len(decoded))
    diff = (on_device.cpu().int() - on_cpu.int()).abs()
    assert diff.max() <= 3 and diff.float().mean() <= 0.5, (diff.max(), diff.float().mean())


def test_crop_params_follow_torchvision_rule():
    sizes = torch.tensor([[60, 80], [90, 45], [64, 64], [20, 600]] * 500)
    boxes = gpu_input.crop_params(sizes, (0.35, 1.0), (3 / 4, 4 / 3), torch.Generator().manual_seed(0))
    top, left, h, w = boxes.unbind(1)
    height, width = sizes.unbind(1)
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= height).all() and (left + w <= width).all()
    smaller = (h < height) & (w < width)  # positions uniform over every place the crop fits, edges included
    assert ((top == 0) & smaller).any() and ((top + h == height) & smaller).any()
    assert ((left == 0) & smaller).any() and ((left + w == width) & smaller).any()
    fraction = (h * w).double() / (height * width)
    torch.manual_seed(0)
    reference = torch.tensor([v2.RandomResizedCrop.get_params(torch.empty(1, *s), (0.35, 1.0), (3 / 4, 4 / 3))
                              for s in sizes[:1000].tolist()])
    ref_fraction = (reference[:, 2] * reference[:, 3]).double() / (sizes[:1000, 0] * sizes[:1000, 1])
    assert abs(fraction[:1000].mean() - ref_fraction.mean()) < 0.03
    # the fallback (no draw fits): the largest centred crop of the allowed aspect ratio
    for size in ([100, 50], [50, 100], [20, 600]):
        expected = v2.RandomResizedCrop.get_params(torch.empty(1, *size), (1.0, 1.0), (1.0, 1.0))
        assert gpu_input.crop_params(torch.tensor([size]), (1.0, 1.0), (1.0, 1.0))[0].tolist() == list(expected)


def test_color_jitter_matches_v2_color_jitter_and_clamps():
    rng = np.random.default_rng(0)
    batch = torch.from_numpy(rng.integers(0, 256, (6, 3, 16, 16), dtype=np.uint8))
    batch[0] = 255
    batch[1] = 0
    batch[2, :, :8] = 250  # brightening must saturate at 255, not wrap around
    batch = batch.contiguous(memory_format=torch.channels_last)
    out = gpu_input.color_jitter(batch, 0.9, 0.9, torch.Generator().manual_seed(3))
    _check_batch(out, 6, 16)
    generator = torch.Generator().manual_seed(3)  # replay its draws: brightness, contrast, order
    b = torch.empty(6).uniform_(0.1, 1.9, generator=generator).tolist()
    c = torch.empty(6).uniform_(0.1, 1.9, generator=generator).tolist()
    brightness_first = (torch.rand(6, generator=generator) < 0.5).tolist()
    for k in range(6):
        steps = [lambda x: TF.adjust_brightness(x, b[k]), lambda x: TF.adjust_contrast(x, c[k])]
        expected = batch[k]
        for step in steps if brightness_first[k] else steps[::-1]:
            expected = step(expected)
        assert (out[k].int() - expected.int()).abs().max() <= 1, k
    assert out[0].min() > 0 or b[0] >= 1  # saturated white stays white unless darkened


# --------------------------------------------------------------------------- the loader

def test_gpu_batches_epoch_matches_cpu_eval_loader(sample_dir, device):
    dataset = data.WikiArtDataset(sample_dir, "val", 64, train=False)
    cpu = [b for b in data.make_loader(dataset, batch_size=16, workers=0) if b is not None]
    gpu_loader = gpu_input.make_gpu_loader(dataset, batch_size=16, workers=2, device=device, train=False)
    assert len(gpu_loader) == len(cpu) and gpu_loader.dataset is dataset
    gpu = [b for b in gpu_loader if b is not None]
    assert len(gpu) == len(cpu)
    for (images_cpu, targets_cpu), (images_gpu, targets_gpu) in zip(cpu, gpu):
        _check_batch(images_gpu, len(images_cpu), 64)
        assert images_gpu.device.type == targets_gpu.device.type == device.type
        images_gpu, targets_gpu = images_gpu.cpu(), targets_gpu.cpu()
        assert torch.equal(targets_gpu, targets_cpu)
        means_cpu = images_cpu.float().mean(dim=(0, 2, 3))
        means_gpu = images_gpu.float().mean(dim=(0, 2, 3))
        assert (means_cpu - means_gpu).abs().max() <= 3, (means_cpu, means_gpu)
        if device.type == "cpu":  # the same decoder and resize: the same pixels, near enough
            assert (images_gpu.int() - images_cpu.int()).abs().float().mean() <= 2


def test_gpu_batches_drop_targets_of_dropped_files(odd_dir, caplog):
    root, good = odd_dir
    dataset = data.WikiArtDataset(root, "val", SIZE)
    loader = gpu_input.make_gpu_loader(dataset, batch_size=4, workers=0, device="cpu", train=False)
    with caplog.at_level(logging.WARNING, logger="wikiart_utils.speed.gpu_input"):
        batches = [b for b in loader if b is not None]
    images_ = torch.cat([b[0] for b in batches])
    targets = torch.cat([b[1] for b in batches])
    style = labels.TASKS.index("style")
    assert len(images_) == len(targets) == len(good)
    assert [dataset.paths[i].split("/")[1] for i in targets[:, style].tolist()] == good  # style k = row k
    assert caplog.text.count("skipping") == 3  # truncated, empty, missing


def test_gpu_batches_replay_an_epoch_from_the_seed(sample_dir):
    dataset = data.WikiArtDataset(sample_dir, "train", 32)
    loader = gpu_input.make_gpu_loader(dataset, batch_size=32, shuffle=True, workers=0, seed=1, device="cpu",
                                       train=True, drop_last=True)
    assert isinstance(loader.transform, gpu_input.GpuTrainTransform)

    def epoch(seed: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        loader.generator.manual_seed(seed)  # what train.py does to its loader each epoch
        return [b for _, b in zip(range(2), loader)]

    first, again, other = epoch(5), epoch(5), epoch(6)
    _check_batch(first[0][0], 32)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again))
    assert not torch.equal(first[0][1], other[0][1])  # another shuffle order
    assert loader.seed(5) is loader
    assert torch.equal(epoch(5)[0][0], first[0][0])


def test_set_epoch_reaches_a_distributed_sampler(sample_dir):
    dataset = data.WikiArtDataset(sample_dir, "val", 32)
    sampler = torch.utils.data.DistributedSampler(dataset, num_replicas=2, rank=0, shuffle=True, seed=0)
    loader = gpu_input.make_gpu_loader(dataset, batch_size=8, workers=0, device="cpu", sampler=sampler)
    loader.set_epoch(3)
    assert sampler.epoch == 3 and len(loader) == -(-len(sampler) // 8)


# --------------------------------------------------------------------------- wired into train and evaluate

def test_train_and_evaluate_run_on_the_gpu_path_logic(sample_dir, tmp_path, monkeypatch, capsys):
    """With the GPU path forced on a CPU device (its functions run on CPU tensors), train and evaluate take
    it end to end: a corrupt file is dropped, the run finishes, predictions stay aligned with metadata."""
    import shutil

    from wikiart_utils import evaluate, train
    from wikiart_utils.speed import gpu_input

    root = tmp_path / "data"
    shutil.copytree(sample_dir, root)
    meta = metadata.read_metadata(root)
    broken = meta.loc[meta["split"] == "test", "path"].iloc[0]
    (root / broken).write_bytes((root / broken).read_bytes()[:200])  # truncated JPEG
    monkeypatch.setattr(gpu_input, "available", lambda device="cuda": True)
    calls = []
    real = gpu_input.make_gpu_loader
    monkeypatch.setattr(gpu_input, "make_gpu_loader", lambda *a, **k: calls.append(k.get("train", a[7] if len(a) > 7
                                                                                         else False)) or real(*a, **k))
    result = train.train(root, "resnet18_gap", tmp_path / "run", epochs=1, image_size=32, batch_size=16,
                         pretrained=False, workers=0, progress=False, limit_batches=2, decode="gpu", device="cpu")
    assert result.epochs_done == 1 and calls == [True, False]
    assert "JPEGs decoded on the GPU)" in capsys.readouterr().out  # the banner says which input path
    scores, pred = evaluate.evaluate_checkpoint(root, result.best_path, split="test", workers=0, n_boot=10,
                                                device="cpu", decode="gpu")
    test_rows = (meta["split"] == "test").sum()
    assert len(pred.rows) == test_rows - 1 and broken not in set(pred.meta["path"])
    assert (pred.meta["style"].map(lambda s: train.labels.encode("style", s)).to_numpy() == pred.y("style")).all()


def test_decode_gpu_without_a_gpu_is_a_one_line_error(sample_dir, tmp_path):
    from wikiart_utils import cli
    code = cli.main(["train", "--data", str(sample_dir), "--out", str(tmp_path / "r"), "--decode", "gpu",
                     "--device", "cpu", "--no-pretrained", "--epochs", "1"])
    assert code == 2


@pytest.mark.parametrize("crop_scale, jitter", [(0.5, 0.0), (0.7, 0.2)])
def test_gpu_augmentation_reads_the_dataset_s_own_transform(crop_scale, jitter):
    """crop_scale and color_jitter travel once, in the CPU transform; the GPU path reads them from it."""
    assert gpu_input.augmentation(data.train_transform(64, crop_scale, jitter)) == pytest.approx((crop_scale, jitter))
    assert gpu_input.augmentation(data.eval_transform(64)) == (1.0, 0.0)


def test_gpu_train_loader_augments_as_the_dataset_says(sample_dir):
    dataset = data.WikiArtDataset(sample_dir, "train", 32, transform=data.train_transform(32, 0.8, 0.3))
    batches = gpu_input.make_gpu_loader(dataset, 4, device="cpu", workers=0, train=True)
    assert (batches.transform.scale, batches.transform.jitter) == ((0.8, 1.0), pytest.approx((0.3, 0.3)))
