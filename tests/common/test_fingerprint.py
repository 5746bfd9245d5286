"""common.fingerprint: known images give the fingerprints the documented steps give, and
hostile or broken input ends as a clear permanent ImageError."""
from __future__ import annotations

import hashlib
import io
import pickle
import struct
import zlib

import cv2
import imagehash
import numpy as np
import pytest
from PIL import Image, ImageOps

from common import fingerprint as fp
from common import jpeg_dc
from common.fingerprint import ImageError


# --- an independent reference: the documented steps, written out plainly ----------------------

def reference(image: Image.Image) -> tuple[dict, dict]:
    """Pillow decode -> RGB -> 2×2 means (rounded half up) while the sides are at least 1024 ->
    bicubic (OpenCV) to 512×512 -> calcHist 4 bins -> imagehash.dhash per channel.

    For the images these tests make: both sides at least 1024 or neither, and even sides while
    they are halved (the module also halves one side alone and drops an odd row or column).
    """
    pixels = np.asarray(image.convert("RGB"), dtype=np.int32)
    while min(pixels.shape[:2]) >= 1024:
        assert pixels.shape[0] % 2 == pixels.shape[1] % 2 == 0
        pixels = (pixels[0::2, 0::2] + pixels[0::2, 1::2] + pixels[1::2, 0::2] + pixels[1::2, 1::2] + 2) // 4
    assert max(pixels.shape[:2]) < 1024
    pixels = pixels.astype(np.uint8)
    if pixels.shape[:2] != (512, 512):
        pixels = cv2.resize(pixels, (512, 512), interpolation=cv2.INTER_CUBIC)
    hist = {name: [int(v) for v in cv2.calcHist([pixels], [i], None, [4], [0, 256]).flatten()]
            for i, name in enumerate(("red", "green", "blue"))}
    small = Image.fromarray(pixels)
    hashes = {name: str(imagehash.dhash(band)) for name, band in zip(("red", "green", "blue"), small.split())}
    return hist, hashes


def seed(image: Image.Image) -> tuple[dict, dict]:
    """The seed's steps: full decode -> RGB -> Pillow's bicubic resize to 512×512 -> the same."""
    small = image.convert("RGB").resize((512, 512))
    pixels = np.array(small)
    hist = {name: [int(v) for v in cv2.calcHist([pixels], [i], None, [4], [0, 256]).flatten()]
            for i, name in enumerate(("red", "green", "blue"))}
    hashes = {name: str(imagehash.dhash(band)) for name, band in zip(("red", "green", "blue"), small.split())}
    return hist, hashes


def picture(width: int = 640, height: int = 480, seed: int = 1) -> Image.Image:
    """A deterministic RGB picture with structure in every channel."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(1, width - 1))
    green = (y * 255 // max(1, height - 1))
    blue = ((x // 37 + y // 29) % 2) * 200 + rng.integers(0, 40, size=(height, width))
    return Image.fromarray(np.dstack([red, green, blue]).astype(np.uint8), "RGB")


def photo(width: int, height: int) -> Image.Image:
    """A smooth, photo-like picture: dhash bits away from ties, as in real photos."""
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    red = 128 + 100 * np.sin(7 * x + 1) * np.cos(5 * y)
    green = 128 + 110 * np.cos(9 * x * y + 2)
    blue = 128 + 90 * np.sin(11 * (x - y))
    return Image.fromarray(np.dstack([red, green, blue]).astype(np.uint8), "RGB")


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def bits_apart(a: dict, b: dict) -> int:
    return sum(bin(int(a[k], 16) ^ int(b[k], 16)).count("1") for k in ("red", "green", "blue"))


def histogram_apart(a: dict, b: dict) -> float:
    """The largest L1 distance between the channels' normalised histograms (0 to 2)."""
    return max(sum(abs(x - y) for x, y in zip(a[k], b[k])) / sum(a[k]) for k in ("red", "green", "blue"))


def opened(data: bytes) -> Image.Image:
    return ImageOps.exif_transpose(Image.open(io.BytesIO(data)))


# --- known images ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, mime, options", [
    ("PNG", "image/png", {}),
    ("WEBP", "image/webp", {"lossless": True}),
    ("JPEG", "image/jpeg", {"quality": 90}),
    ("JPEG", "image/jpeg", {"quality": 90, "progressive": True}),
])
def test_known_image_gives_the_documented_fingerprint(fmt, mime, options):
    data = encode(picture(640, 480), fmt, **options)
    result = fp.fingerprint(data)
    hist, hashes = reference(Image.open(io.BytesIO(data)))
    assert result.histogram == hist
    assert result.dhash == hashes
    assert (result.width, result.height, result.bytes, result.mime) == (640, 480, len(data), mime)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.md5 == hashlib.md5(data).hexdigest()
    assert sum(result.histogram["red"]) == 512 * 512
    assert all(len(v) == 16 and int(v, 16) >= 0 for v in result.dhash.values())


def test_large_image_is_halved_by_2x2_means_then_resized():
    data = encode(picture(2400, 2400, seed=4), "PNG", compress_level=1)  # 2400 -> 1200 -> 600 -> bicubic 512
    result = fp.fingerprint(data)
    assert (result.histogram, result.dhash) == reference(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("progressive", [False, True])
def test_large_jpeg_is_decoded_at_reduced_scale_as_libjpeg_draft_does(progressive):
    data = encode(photo(2040, 1536), "JPEG", quality=85, progressive=progressive)
    image, _ = fp.open_image(data)
    pixels, alpha = fp._read(image, data, fp.SIZE)
    draft = Image.open(io.BytesIO(data))
    draft.draft("RGB", (512, 512))
    assert alpha is None and pixels.shape == (768, 1020, 3)  # 1/2 scale: the short side stays 512
    assert np.array_equal(pixels, np.asarray(draft.convert("RGB")))


def eighth(data: bytes) -> np.ndarray:
    """libjpeg's 1/8 scale decode of the whole file."""
    flags = cv2.IMREAD_REDUCED_GRAYSCALE_8 | cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    return cv2.imdecode(np.frombuffer(data, np.uint8), flags)


def test_large_progressive_jpeg_is_decoded_from_its_dc_scans(monkeypatch):
    data = encode(photo(2400, 2048), "JPEG", quality=85, progressive=True)
    decoded = []
    imdecode = fp.cv2.imdecode

    def spy(buffer, flags):
        decoded.append(len(buffer))
        return imdecode(buffer, flags)

    monkeypatch.setattr(fp.cv2, "imdecode", spy)
    image, _ = fp.open_image(data)
    pixels, alpha = fp._read(image, data, fp.SIZE)
    assert decoded == [len(jpeg_dc.dc_stream(data))] and decoded[0] < len(data)
    assert alpha is None and np.array_equal(pixels, eighth(data)) and pixels.shape == (256, 300, 3)
    result = fp.fingerprint(data)
    hist, hashes = seed(Image.open(io.BytesIO(data)))
    assert bits_apart(result.dhash, hashes) <= 3 and histogram_apart(result.histogram, hist) <= 0.02


@pytest.mark.parametrize("full, scale", [((2048, 2048), 8), ((4000, 2048), 8), ((2047, 4000), 2), ((2048, 1535), 2),
                                         ((1535, 1024), 2), ((1023, 5000), 1), ((512, 512), 1), ((100, 80), 1)])
def test_jpeg_scale_is_an_eighth_from_four_times_the_target_on_both_sides(full, scale):
    assert fp._jpeg_scale(full, fp.SIZE) == scale
    assert fp._jpeg_scale(full, None) == 1


def test_smaller_progressive_and_large_baseline_jpegs_decode_the_whole_file(monkeypatch):
    monkeypatch.setattr(jpeg_dc, "dc_stream", lambda data: pytest.fail("DC scans taken"))
    small = encode(photo(2047, 2400), "JPEG", quality=85, progressive=True)
    image, _ = fp.open_image(small)
    assert fp._read(image, small, fp.SIZE)[0].shape == (1200, 1024, 3)
    baseline = encode(photo(2400, 2048), "JPEG", quality=85)
    image, _ = fp.open_image(baseline)
    assert np.array_equal(fp._read(image, baseline, fp.SIZE)[0], eighth(baseline))


def test_large_progressive_jpeg_keeps_its_exif_orientation():
    exif = Image.Exif()
    exif[fp.ORIENTATION] = 6
    plain = encode(photo(2400, 2048), "JPEG", quality=90, progressive=True)
    data = encode(Image.open(io.BytesIO(plain)), "JPEG", quality=90, progressive=True, exif=exif)
    result = fp.fingerprint(data)
    assert (result.width, result.height) == (2048, 2400)
    upright = np.ascontiguousarray(eighth(data).swapaxes(0, 1)[:, ::-1])
    small = fp._resize(upright, fp.SIZE)
    assert (result.histogram, result.dhash) == (fp.histogram(small), fp.dhash(small))
    assert result.dhash != fp.fingerprint(plain).dhash


def test_truncated_large_progressive_jpeg_is_undecodable():
    data = encode(photo(2048, 2048), "JPEG", quality=85, progressive=True)
    for cut in (len(data) // 2, len(data) - 2, len(data) - 300):  # in the DC scans, the AC scans, EOI
        with pytest.raises(ImageError, match="undecodable"):
            fp.fingerprint(data[:cut])


@pytest.mark.parametrize("fmt, options", [("JPEG", {"quality": 92}), ("JPEG", {"quality": 92, "progressive": True}),
                                          ("PNG", {}), ("WEBP", {"quality": 90})])
def test_large_image_stays_within_a_few_bits_of_the_seeds_full_decode(fmt, options):
    data = encode(photo(3000, 2000), fmt, **options)
    result = fp.fingerprint(data)
    hist, hashes = seed(Image.open(io.BytesIO(data)))
    assert bits_apart(result.dhash, hashes) <= 3
    assert histogram_apart(result.histogram, hist) <= 0.02
    assert (result.width, result.height) == (3000, 2000)


@pytest.mark.parametrize("sample", [picture(512, 512, seed=3), photo(512, 512)])
def test_dhash_equals_imagehash_per_channel(sample):
    expected = {name: str(imagehash.dhash(band)) for name, band in zip(fp.CHANNELS, sample.split())}
    assert fp.dhash(sample) == expected
    assert fp.dhash(np.asarray(sample)) == expected


@pytest.mark.parametrize("sample", [picture(512, 512, seed=seed) for seed in range(6)] + [photo(512, 512)])
def test_mirrored_dhash_equals_the_dhash_of_the_mirrored_pixels(sample):
    assert fp.mirrored_dhash(sample) == fp.dhash(ImageOps.mirror(sample))
    assert fp.mirrored_dhash(np.asarray(sample)) == fp.dhash(ImageOps.mirror(sample))


def test_mirrored_dhash_is_the_dhash_of_the_flipped_image():
    data = encode(picture(640, 480, seed=5), "PNG")
    result = fp.fingerprint(data, query=True)
    flipped = encode(ImageOps.mirror(picture(640, 480, seed=5)), "PNG")
    assert result.dhash_mirrored == fp.fingerprint(flipped).dhash
    assert result.dhash_mirrored != result.dhash


def test_payload_matches_the_client_contract():
    result = fp.fingerprint(encode(picture(64, 48), "PNG"))
    payload = result.to_payload(id=7, lease="abc")
    assert set(payload) == {"id", "lease", "sha256", "md5", "width", "height", "bytes", "mime",
                            "histogram", "dhash", "version", "thumbnail", "regions"}
    assert set(payload["histogram"]) == set(payload["dhash"]) == {"red", "green", "blue"}


def test_full_size_decode_is_upright_rgb():
    exif = Image.Exif()
    exif[fp.ORIENTATION] = 6
    data = encode(picture(300, 200, seed=9), "JPEG", quality=90, exif=exif)
    decoded = fp.decode(data, size=None)
    assert decoded.mode == "RGB" and decoded.size == (200, 300)
    assert np.array_equal(np.asarray(decoded), np.asarray(opened(data).convert("RGB")))


# --- what a real image can be ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_once(fmt, orientation):
    exif = Image.Exif()
    exif[fp.ORIENTATION] = orientation
    options = {"JPEG": {"quality": 90}, "PNG": {}, "WEBP": {"lossless": True}}[fmt]
    data = encode(picture(640, 480, seed=11), fmt, exif=exif, **options)
    result = fp.fingerprint(data)
    upright = opened(data)  # Pillow's exif_transpose
    assert (result.width, result.height) == upright.size
    assert (result.histogram, result.dhash) == reference(upright)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
@pytest.mark.parametrize("orientation", [3, 6])
def test_exif_orientation_is_applied_once_to_images_with_alpha(fmt, orientation):
    exif = Image.Exif()
    exif[fp.ORIENTATION] = orientation
    rgba = picture(640, 480, seed=12).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((640, 480)))
    data = encode(rgba, fmt, exif=exif, **({"lossless": True} if fmt == "WEBP" else {}))
    result = fp.fingerprint(data)
    assert (result.width, result.height) == opened(data).size
    assert (result.histogram, result.dhash) == reference(on_white(opened(data)))


def on_white(image: Image.Image) -> Image.Image:
    """Pillow's own composition onto white, for comparison."""
    rgba = image.convert("RGBA")
    canvas = Image.new("RGB", rgba.size, (255, 255, 255))
    canvas.paste(rgba, mask=rgba.getchannel("A"))
    return canvas


@pytest.mark.parametrize("fmt, mode, side", [("PNG", "RGBA", 200), ("PNG", "RGBA", 1600), ("PNG", "LA", 200),
                                             ("WEBP", "RGBA", 200)])
def test_alpha_is_composed_onto_white(fmt, mode, side):
    rgba = photo(side, side).convert("RGBA")
    y, x = np.mgrid[0:side, 0:side]
    alpha = np.where(x < side // 2, 0, (x + y) * 255 // (2 * side))  # left half clear, then a ramp
    rgba.putalpha(Image.fromarray(alpha.astype(np.uint8)))
    data = encode(rgba.convert(mode), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    result = fp.fingerprint(data)
    assert (result.histogram, result.dhash) == reference(on_white(Image.open(io.BytesIO(data))))


def test_16_bit_png_reads_as_its_high_bytes():
    rgb16 = (np.asarray(picture(200, 150, seed=2), dtype=np.uint16) * 257)[:, :, ::-1]  # OpenCV writes BGR
    alpha16 = np.full((150, 200, 1), 65535, np.uint16)
    alpha16[:, :80] = 0
    for pixels in (rgb16, np.dstack([rgb16, alpha16])):
        data = cv2.imencode(".png", pixels)[1].tobytes()
        result = fp.fingerprint(data)
        assert (result.histogram, result.dhash) == reference(on_white(Image.open(io.BytesIO(data))))


@pytest.mark.parametrize("channels, depth", [(1, np.uint8), (1, np.uint16), (2, np.uint8), (3, np.uint8),
                                             (3, np.uint16), (4, np.uint8), (4, np.uint16)])
def test_png_decoder_gives_opencvs_pixels(channels, depth):
    """libspng (pyspng) reads grey, grey+alpha, RGB and RGBA PNGs, 8 or 16 bits, as OpenCV does
    (the high byte of 16 bits); 16-bit grey is Pillow's."""
    rng = np.random.default_rng(channels)
    top = np.iinfo(depth).max
    pixels = rng.integers(0, top + 1, size=(97, 131, channels), dtype=depth)
    pixels[:, :40, -1] = top if channels in (2, 4) else pixels[:, :40, -1]  # some opaque, some not
    if channels == 2:  # OpenCV writes no grey+alpha PNG, Pillow no 16-bit one
        data = encode(Image.fromarray(pixels, "LA"), "PNG")
    else:
        data = cv2.imencode(".png", pixels[:, :, 0] if channels == 1 else pixels)[1].tobytes()
    image, _ = fp.open_image(data)
    if image.mode not in fp.OPENCV_MODES:  # 16-bit grey
        assert channels == 1 and depth == np.uint16
        return
    rgb, alpha = fp._read(image, data, None)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded.dtype == np.uint16:
        decoded = (decoded >> 8).astype(np.uint8)
    if decoded.ndim == 2:
        decoded = cv2.cvtColor(decoded, cv2.COLOR_GRAY2BGR)
    assert np.array_equal(rgb, cv2.cvtColor(decoded[:, :, :3], cv2.COLOR_BGR2RGB))
    if channels in (2, 4):
        assert np.array_equal(alpha, decoded[:, :, 3])
    else:
        assert alpha is None


def test_png_decoder_reads_a_maximally_compressed_png_as_opencv_does():
    rows = np.asarray(photo(300, 200))
    data = encode(Image.fromarray(rows), "PNG", optimize=True)  # zlib level 9, adaptive filters
    image, _ = fp.open_image(data)
    assert np.array_equal(fp._read(image, data, None)[0],
                          cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR_RGB))


@pytest.mark.parametrize("fmt, mode", [("GIF", "P"), ("PNG", "P"), ("PNG", "L"), ("PNG", "RGB")])
def test_transparent_colour_is_composed_onto_white(fmt, mode):
    image = Image.new("RGB", (64, 64), (0, 0, 0))
    image.paste((200, 30, 30), (32, 0, 64, 64))
    image = image.convert(mode)
    data = encode(image, fmt, transparency=image.getpixel((0, 0)))
    expected = Image.new("RGB", (64, 64), (255, 255, 255))
    expected.paste(Image.open(io.BytesIO(data)).convert("RGB").crop((32, 0, 64, 64)), (32, 0))
    result = fp.fingerprint(data)
    assert (result.histogram, result.dhash) == reference(expected)


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animation_uses_its_first_frame(fmt):
    frames = [Image.new("RGB", (80, 60), colour) for colour in ((220, 20, 20), (20, 220, 20), (20, 20, 220))]
    frames[0].paste((250, 250, 0), (0, 0, 40, 30))
    options = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=50, loop=0, **options)
    assert Image.open(io.BytesIO(data)).is_animated
    first = fp.fingerprint(encode(frames[0], fmt, **options))
    result = fp.fingerprint(data)
    assert result.mime == f"image/{fmt.lower()}"
    assert result.histogram == first.histogram and result.dhash == first.dhash


def test_cmyk_jpeg_is_converted_by_pillow():
    data = encode(picture(640, 480, seed=6).convert("CMYK"), "JPEG", quality=90)
    result = fp.fingerprint(data)
    assert (result.histogram, result.dhash) == reference(Image.open(io.BytesIO(data)))


def test_multi_picture_jpeg_uses_its_first_picture():
    frames = [picture(640, 480, seed=7), picture(640, 480, seed=8)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:], quality=90)
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = fp.fingerprint(data)
    assert result.mime == "image/jpeg"
    assert (result.histogram, result.dhash) == reference(Image.open(io.BytesIO(data)))


@pytest.mark.parametrize("mode", ["L", "P", "1"])
def test_grayscale_and_palette_images_become_rgb(mode):
    image = picture(100, 80).convert(mode)
    result = fp.fingerprint(encode(image, "PNG"))
    assert (result.histogram, result.dhash) == reference(image)
    if mode != "P":
        assert result.histogram["red"] == result.histogram["green"] == result.histogram["blue"]


def test_render_decodes_only_the_bytes_the_image_was_opened_from():
    image, _ = fp.open_image(encode(picture(64, 48), "PNG"))
    with pytest.raises(ImageError, match="not the image that was opened"):
        fp.render(image, encode(picture(64, 48), "BMP"))


@pytest.mark.parametrize("orientation", [1, 6])
def test_the_render_handed_out_is_the_one_fingerprinted(orientation):
    """fingerprint_rendered gives the fingerprint `fingerprint` gives and the upright render
    `render` makes, from one decode."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = orientation
    picture(640, 480).save(buffer, "JPEG", quality=90, exif=exif)
    data = buffer.getvalue()
    found, small = fp.fingerprint_rendered(data, query=True)
    assert found == fp.fingerprint(data, query=True)
    image, _ = fp.open_image(data)
    assert np.array_equal(small, fp.render(image, data, fp.SIZE))
    assert small.shape == (512, 512, 3) and (found.width, found.height) == ((480, 640) if orientation == 6 else (640, 480))


# --- hostile and broken input ---------------------------------------------------------------

def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width×height (a decompression bomb's calling card)."""
    data = bytearray(encode(Image.new("RGB", (1, 1)), "PNG"))
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def test_bomb_is_refused_from_the_header_before_decoding():
    with pytest.raises(ImageError) as caught:
        fp.fingerprint(png_claiming(100_000, 100_000))
    assert caught.value.permanent and "bomb" in caught.value.reason


def test_pixel_cap_is_configurable():
    data = encode(picture(200, 100), "PNG")
    with pytest.raises(ImageError, match="bomb"):
        fp.fingerprint(data, max_pixels=19_999)
    assert fp.fingerprint(data, max_pixels=20_000).width == 200


def test_gif_bomb_is_refused():
    data = bytearray(encode(Image.new("P", (1, 1)), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)
    with pytest.raises(ImageError, match="bomb"):
        fp.fingerprint(bytes(data))


@pytest.mark.parametrize("fmt, options", [("JPEG", {}), ("JPEG", {"progressive": True}), ("PNG", {}),
                                          ("WEBP", {}), ("WEBP", {"lossless": True}), ("GIF", {})])
def test_truncated_image_is_undecodable(fmt, options):
    data = encode(picture(640, 480), fmt, **options)
    with pytest.raises(ImageError) as caught:
        fp.fingerprint(data[: len(data) // 2])
    assert caught.value.permanent and "undecodable" in caught.value.reason


def test_opencv_sees_only_what_the_sniff_and_the_pixel_cap_let_through(monkeypatch):
    def refuse(*args):
        raise AssertionError("cv2.imdecode was handed these bytes")

    monkeypatch.setattr(fp.cv2, "imdecode", refuse)
    monkeypatch.setattr(fp.pyspng, "load", refuse)
    refused = [png_claiming(100_000, 100_000), encode(picture(32, 32), "BMP"), encode(picture(32, 32), "TIFF"),
               b"\xff\xd8\xff" + b"\x00" * 100, b"<!DOCTYPE html><html></html>"]
    for data in refused:
        with pytest.raises(ImageError):
            fp.fingerprint(data)


def test_html_is_not_an_image():
    with pytest.raises(ImageError) as caught:
        fp.fingerprint(b"<!DOCTYPE html><html><body>removed</body></html>")
    assert caught.value.permanent and "not an image" in caught.value.reason and "HTML" in caught.value.reason


@pytest.mark.parametrize("fmt", ["BMP", "TIFF", "ICO"])
def test_formats_outside_the_four_are_refused(fmt):
    with pytest.raises(ImageError, match="not an image"):
        fp.fingerprint(encode(picture(32, 32), fmt))


def test_garbage_after_a_magic_number_is_undecodable():
    with pytest.raises(ImageError, match="undecodable"):
        fp.fingerprint(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)


def test_image_error_survives_pickling_for_the_process_pool():
    error = pickle.loads(pickle.dumps(ImageError("undecodable", permanent=False)))
    assert (error.reason, error.permanent) == ("undecodable", False)
