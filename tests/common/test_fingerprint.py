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
from common.fingerprint import ImageError


# --- an independent reference: the documented steps, written out plainly ----------------------

def reference(image: Image.Image) -> tuple[dict, dict]:
    """PIL image -> RGB -> resize 512×512 -> calcHist 4 bins -> imagehash.dhash per channel."""
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


# --- known images ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt, mime", [("PNG", "image/png"), ("WEBP", "image/webp"), ("JPEG", "image/jpeg")])
def test_known_image_gives_the_documented_fingerprint(fmt, mime):
    options = {"lossless": True} if fmt == "WEBP" else {"quality": 90} if fmt == "JPEG" else {}
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


def test_large_jpeg_decoded_with_draft_stays_within_a_few_bits():
    data = encode(photo(3000, 2000), "JPEG", quality=92)
    result = fp.fingerprint(data)
    hist, hashes = reference(Image.open(io.BytesIO(data)))
    assert bits_apart(result.dhash, hashes) <= 3
    for channel in hist:
        assert sum(abs(a - b) for a, b in zip(result.histogram[channel], hist[channel])) <= 0.02 * 512 * 512
    assert (result.width, result.height) == (3000, 2000)


def test_draft_decodes_near_512_not_at_full_size():
    data = encode(picture(4096, 3072), "JPEG", quality=85)
    decoded = fp.decode(data)
    assert decoded.mode == "RGB"
    assert 512 <= min(decoded.size) and max(decoded.size) <= 1024


def test_dhash_equals_imagehash_per_channel():
    small = picture(512, 512, seed=3)
    expected = {name: str(imagehash.dhash(band)) for name, band in zip(fp.CHANNELS, small.split())}
    assert fp.dhash(small) == expected


def test_mirrored_dhash_is_the_dhash_of_the_flipped_image():
    data = encode(picture(640, 480, seed=5), "PNG")
    result = fp.fingerprint(data, mirrored=True)
    flipped = encode(ImageOps.mirror(picture(640, 480, seed=5)), "PNG")
    assert result.dhash_mirrored == fp.fingerprint(flipped).dhash
    assert result.dhash_mirrored != result.dhash


def test_payload_matches_the_client_contract():
    result = fp.fingerprint(encode(picture(64, 48), "PNG"))
    payload = result.to_payload(id=7, lease="abc")
    assert set(payload) == {"id", "lease", "sha256", "md5", "width", "height", "bytes", "mime",
                            "histogram", "dhash"}
    assert set(payload["histogram"]) == set(payload["dhash"]) == {"red", "green", "blue"}


# --- what a real image can be ---------------------------------------------------------------

def test_exif_orientation_is_applied():
    upright = picture(300, 200, seed=11)
    exif = Image.Exif()
    exif[fp.ORIENTATION] = 6  # "rotate 90° clockwise to display"
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a camera held sideways writes
    data = encode(stored, "PNG", exif=exif)
    result = fp.fingerprint(data)
    hist, hashes = reference(upright)
    assert (result.width, result.height) == (300, 200)
    assert result.dhash == hashes and result.histogram == hist


@pytest.mark.parametrize("side", [200, 1600])  # composed then resized; resized then composed
def test_alpha_is_composed_onto_white(side):
    solid = photo(side, side)
    rgba = solid.convert("RGBA")
    alpha = Image.new("L", (side, side), 255)
    alpha.paste(0, (0, 0, side // 2, side))  # left half fully transparent
    rgba.putalpha(alpha)
    expected = solid.copy()
    expected.paste((255, 255, 255), (0, 0, side // 2, side))
    result = fp.fingerprint(encode(rgba, "PNG"))
    hist, hashes = reference(expected)
    # resized before composing (linear, premultiplied): equal but for the filter's ringing
    # along the transparent edge, a column or two of 512
    assert bits_apart(result.dhash, hashes) <= 1
    for channel in hist:
        assert sum(abs(a - b) for a, b in zip(result.histogram[channel], hist[channel])) <= 4 * 512


def test_transparent_palette_gif_is_composed_onto_white():
    image = Image.new("P", (64, 64), 0)
    image.putpalette([0, 0, 0, 200, 30, 30] + [0] * 762)
    image.paste(1, (32, 0, 64, 64))
    data = encode(image, "GIF", transparency=0)
    expected = Image.new("RGB", (64, 64), (255, 255, 255))
    expected.paste((200, 30, 30), (32, 0, 64, 64))
    hist, hashes = reference(expected)
    result = fp.fingerprint(data)
    assert bits_apart(result.dhash, hashes) <= 1
    for channel in hist:
        assert sum(abs(a - b) for a, b in zip(result.histogram[channel], hist[channel])) <= 4 * 512


def test_animated_gif_uses_its_first_frame():
    frames = [Image.new("RGB", (80, 60), colour) for colour in ((220, 20, 20), (20, 220, 20), (20, 20, 220))]
    frames[0].paste((250, 250, 0), (0, 0, 40, 30))
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    first = fp.fingerprint(encode(frames[0], "GIF"))
    result = fp.fingerprint(data)
    assert result.mime == "image/gif"
    assert result.histogram == first.histogram and result.dhash == first.dhash


def test_grayscale_and_palette_images_become_rgb():
    gray = picture(100, 80).convert("L")
    result = fp.fingerprint(encode(gray, "PNG"))
    hist, hashes = reference(gray)
    assert result.histogram == hist and result.dhash == hashes
    assert result.histogram["red"] == result.histogram["green"] == result.histogram["blue"]


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


def test_truncated_jpeg_is_undecodable():
    data = encode(picture(640, 480), "JPEG", quality=90)
    with pytest.raises(ImageError) as caught:
        fp.fingerprint(data[: len(data) // 2])
    assert caught.value.permanent and "undecodable" in caught.value.reason


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
