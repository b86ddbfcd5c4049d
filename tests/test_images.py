"""Safe decoding: odd valid files come out as upright 8-bit RGB; damaged/hostile files raise BadImage."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import torch
from PIL import Image

from wikiart_utils import images


@pytest.fixture(scope="module")
def odd(tmp_path_factory, make_images):
    folder = tmp_path_factory.mktemp("odd")
    return folder, make_images.valid(folder)


@pytest.fixture(scope="module")
def bad(tmp_path_factory, make_images):
    folder = tmp_path_factory.mktemp("bad")
    return folder, make_images.bad(folder)


def test_every_odd_valid_file_probes_and_decodes(odd):
    folder, expected = odd
    assert len(expected) == 11
    for name, size in expected.items():
        assert images.probe(folder / name) == size, name
        image = images.open_rgb(folder / name)
        assert image.mode == "RGB", name
        assert image.size == size, name
        assert np.asarray(image).dtype == np.uint8


def test_exif_rotation_swaps_width_and_height(odd):
    folder, _ = odd
    path = folder / "rotated-painter_exif6.jpg"
    with Image.open(path) as raw:
        assert raw.size == (40, 20) and raw.getexif()[0x0112] == 6
    assert images.probe(path) == (20, 40)
    assert images.open_rgb(path).size == (20, 40)
    drafted = images.open_rgb(path, min_side=10)  # decoded at 1/2 (20x10), then rotated upright
    assert drafted.size == (10, 20)


def test_gif_named_jpg(odd):
    folder, _ = odd
    with Image.open(folder / "gif-painter_named-jpg.jpg") as raw:
        assert raw.format == "GIF"
    assert images.open_rgb(folder / "gif-painter_named-jpg.jpg", min_side=8).size == (20, 14)


def test_transparency_composited_on_white(odd):
    folder, _ = odd
    rgba = np.asarray(images.open_rgb(folder / "rgba-painter_rgba.png"))
    assert rgba[0, 0].tolist() == [255, 255, 255]  # fully transparent -> white
    assert rgba[1, 1].tolist() == [10, 200, 30]
    palette = np.asarray(images.open_rgb(folder / "palette-painter_transparent.png"))
    assert palette[0, 0].tolist() == [0, 0, 255]  # opaque palette entry 1
    assert palette[5, 5].tolist() == [255, 255, 255]  # transparent palette entry 0


def test_16bit_scaled_to_8bit(odd):
    folder, _ = odd
    with Image.open(folder / "deep-painter_16bit.png") as raw:
        assert raw.mode.startswith("I")
    pixels = np.asarray(images.open_rgb(folder / "deep-painter_16bit.png"))
    assert pixels[0, :3, 0].tolist() == [0, 128, 255]
    assert (pixels[..., 0] == pixels[..., 2]).all()


def test_cmyk_and_grey_become_rgb(odd):
    folder, _ = odd
    for name in ("cmyk-painter_cmyk.jpg", "grey-painter_grey.jpg"):
        image = images.open_rgb(folder / name)
        assert image.mode == "RGB"
    grey = np.asarray(images.open_rgb(folder / "grey-painter_grey.jpg")).astype(int)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()


def test_mojibake_file_names(odd):
    folder, _ = odd
    for name in ("grã©goire-michonze_birds.jpg", "joaquã\xadn-sorolla_study-of-vineyard.jpg"):
        assert (folder / name).is_file()
        assert images.open_rgb(folder / name).size == images.probe(folder / name)


@pytest.mark.parametrize("function", [images.probe, images.open_rgb, images.decode])
def test_bad_files_refused_with_one_line_reason(bad, function):
    folder, expected = bad
    for name, fragment in expected.items():
        with pytest.raises(images.BadImage) as info:
            function(folder / name)
        reason = str(info.value)
        assert fragment in reason, (name, reason)
        assert "\n" not in reason and len(reason) < 200


def test_missing_file_refused(tmp_path):
    with pytest.raises(images.BadImage, match="cannot read file"):
        images.probe(tmp_path / "nope.jpg")


def test_bomb_refused_without_allocating(tmp_path, make_images, monkeypatch):
    path = tmp_path / "bomb.png"
    path.write_bytes(make_images.bomb_png())
    # also with Pillow's own limit switched off (a notebook might do that): our header check still holds
    for pil_limit in (Image.MAX_IMAGE_PIXELS, None):
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", pil_limit)
        tracemalloc.start()
        try:
            for function in (images.probe, images.open_rgb):
                with pytest.raises(images.BadImage, match="decompression bomb refused"):
                    function(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 5 * 2**20, peak


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_AS and /proc (Linux)")
def test_bomb_refused_under_address_space_limit(tmp_path, make_images):
    """Pillow allocates pixel buffers outside tracemalloc's view: cap the address space instead.

    The child process may grow by at most 256 MiB; decoding 60000x60000 RGB would need 10.8 GB, so any
    attempt to allocate it would surface as a MemoryError ('cannot decode'), not as a bomb refusal.
    """
    path = tmp_path / "bomb.png"
    path.write_bytes(make_images.bomb_png())
    script = textwrap.dedent(f"""
        import resource, sys
        from PIL import Image
        from wikiart_utils import images
        vm = [l for l in open('/proc/self/status') if l.startswith('VmSize:')][0].split()[1]
        limit = int(vm) * 1024 + 256 * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            bytearray(1024 * 2**20)  # the limit is in force: 1 GiB must fail
            print('limit not enforced'); sys.exit(3)
        except MemoryError:
            pass
        for pil_limit in (Image.MAX_IMAGE_PIXELS, None):
            Image.MAX_IMAGE_PIXELS = pil_limit
            for function in (images.probe, images.open_rgb):
                try:
                    function({str(path)!r})
                except images.BadImage as exc:
                    print(exc)
                else:
                    print('accepted'); sys.exit(4)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    reasons = result.stdout.strip().splitlines()
    assert len(reasons) == 4
    assert all(r.startswith("decompression bomb refused") for r in reasons), reasons
    assert "60000x60000" in reasons[-1]


def test_largest_allowed_header_is_not_a_bomb(tmp_path, make_images):
    # a header just under MAX_PIXELS is not refused as a bomb by our check (it fails later, as truncated
    # data, since the IDAT is tiny) -- guards against an off-by-far limit
    path = tmp_path / "big-header.png"
    path.write_bytes(make_images.bomb_png(10000, 10000))
    with pytest.raises(images.BadImage) as info:
        images.probe(path)
    assert "decompression bomb" not in str(info.value)


def test_draft_decoding_for_large_jpeg(tmp_path, make_images):
    path = tmp_path / "big.jpg"
    make_images.noise(2400, 1600, 11).save(path, format="JPEG", quality=85)
    full = images.open_rgb(path)
    assert full.size == (2400, 1600)
    small = images.open_rgb(path, min_side=200)
    assert min(small.size) >= 200
    assert small.size[0] < 2400 and small.size[1] < 1600
    assert small.size == (300, 200)  # DCT scaling by 1/8
    medium = images.open_rgb(path, min_side=500)
    assert medium.size == (1200, 800)  # 1/2: 1/4 would give a short side of 400 < 500
    assert images.open_rgb(path, min_side=5000).size == (2400, 1600)  # never upscales
    assert images.probe(path) == (2400, 1600)


@pytest.fixture(params=["simplejpeg", "pillow"])
def decoder(request, monkeypatch):
    """images.decode with its fast JPEG path, and as on a machine without simplejpeg."""
    if request.param == "pillow":
        monkeypatch.setattr(images, "simplejpeg", None)
    elif images.simplejpeg is None:
        pytest.skip("simplejpeg not installed")
    return images.decode


def test_decode_gives_the_pixels_of_open_rgb(odd, decoder):
    folder, expected = odd
    for name in expected:
        reference = np.asarray(images.open_rgb(folder / name))
        tensor = decoder(folder / name)
        assert tensor.dtype == torch.uint8 and tensor.shape == (3, *reference.shape[:2]), name
        diff = np.abs(tensor.permute(1, 2, 0).numpy().astype(int) - reference.astype(int)).max()
        assert diff <= 1, (name, diff)  # both are libjpeg-turbo: equal up to its version's rounding
        drafted, pillow = decoder(folder / name, min_side=10), images.open_rgb(folder / name, min_side=10)
        assert 10 <= min(drafted.shape[1:]) or drafted.shape[1:] == reference.shape[:2], name
        assert drafted.shape[1] <= pillow.size[1] and drafted.shape[2] <= pillow.size[0], name
    assert decoder(folder / "rotated-painter_exif6.jpg").shape == (3, 40, 20)  # EXIF rotation applied


def test_decode_draft_scales_like_pillow(tmp_path, make_images, decoder):
    path = tmp_path / "big.jpg"
    make_images.noise(2400, 1600, 11).save(path, format="JPEG", quality=85)
    assert decoder(path, min_side=200).shape == (3, 200, 300)  # 1/8
    assert decoder(path, min_side=400).shape == (3, 400, 600)  # 1/4
    assert decoder(path, min_side=5000).shape == (3, 1600, 2400)  # never upscales
    # Pillow's draft scales by 1/2, 1/4, 1/8 only; libjpeg-turbo also by eighths, so a smaller decode can do
    expected = (3, 600, 900) if decoder is images.decode and images.simplejpeg else (3, 800, 1200)
    assert decoder(path.read_bytes(), min_side=500).shape == expected


def test_decode_refuses_truncated_and_bomb_jpegs(tmp_path, make_images, decoder):
    path = tmp_path / "cut.jpg"
    make_images.noise(300, 200, 3).save(path, format="JPEG", quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(images.BadImage, match="truncated"):
        decoder(path, min_side=50)
    huge = bytearray(data)  # a 60000x60000 header: refused before any decoding
    sof = huge.index(b"\xff\xc0")
    huge[sof + 5:sof + 9] = (60000).to_bytes(2, "big") * 2
    with pytest.raises(images.BadImage, match="decompression bomb"):
        decoder(bytes(huge))


def test_small_jpeg_with_min_side_keeps_size(tmp_path, make_images):
    path = tmp_path / "small.jpg"
    make_images.noise(50, 30, 12).save(path, format="JPEG")
    assert images.open_rgb(path, min_side=224).size == (50, 30)


def test_file_sha256(tmp_path):
    a, b, c = tmp_path / "a.bin", tmp_path / "b.bin", tmp_path / "c.bin"
    a.write_bytes(b"painting")
    b.write_bytes(b"painting")
    c.write_bytes(b"painting!")
    assert images.file_sha256(a) == images.file_sha256(b) != images.file_sha256(c)
    assert images.file_sha256(a) == hashlib.sha256(b"painting").hexdigest()
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 9000)  # spans several read chunks
    assert images.file_sha256(big, chunk=1000) == hashlib.sha256(big.read_bytes()).hexdigest()


def test_is_image_name():
    assert images.is_image_name("a/b.JPG") and images.is_image_name("x.webp") and images.is_image_name("x.tiff")
    assert not images.is_image_name("notes.txt") and not images.is_image_name("jpg")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 4000), flips=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=8))
def test_decode_damaged_jpeg_bytes_give_bad_image_or_pixels(make_images, cut, flips):
    """Any truncation or corruption of a JPEG: a uint8 image or BadImage with one line, never another error."""
    import io

    buffer, exif = io.BytesIO(), Image.Exif()
    exif[0x0112] = 1  # an Exif segment, so the orientation check reads damaged metadata too
    make_images.noise(64, 48, 5).save(buffer, format="JPEG", quality=90, exif=exif)
    data = bytearray(buffer.getvalue()[: max(2, len(buffer.getvalue()) - cut)])
    for position, value in flips:
        data[position % len(data)] = value
    try:
        image = images.decode(bytes(data), min_side=16)
    except images.BadImage as exc:
        assert "\n" not in str(exc)
    else:
        assert image.dtype == torch.uint8 and image.shape[0] == 3


def test_decode_accepts_what_pillow_accepts_and_rotates_like_it(tmp_path, make_images, decoder):
    """libjpeg warnings Pillow tolerates (extraneous bytes) and XMP-only orientation: same result."""
    path = tmp_path / "extra.jpg"
    make_images.noise(200, 160, 4).save(path, format="JPEG", quality=90)
    data = path.read_bytes()
    path.write_bytes(data[:-2] + b"\x00\x00\x00" + data[-2:])  # stray bytes before the end marker
    assert decoder(path).shape == (3, 160, 200) == (3, *np.asarray(images.open_rgb(path)).shape[:2])
    xmp = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
           b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/></rdf:RDF></x:xmpmeta>')
    rotated = tmp_path / "xmp.jpg"
    make_images.noise(40, 20, 4).save(rotated, format="JPEG", xmp=xmp)
    expected = images.open_rgb(rotated).size  # (width, height) as Pillow turns it
    assert decoder(rotated).shape == (3, expected[1], expected[0])
