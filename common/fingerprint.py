"""Image decoding and fingerprints: the one code path for Coco and for booru's similarity search.

Steps (DESIGN §8): sniff the format from magic bytes (JPEG, PNG, GIF, WEBP only); read the
header and refuse more than `max_pixels` before decoding anything; for JPEG let libjpeg
decode at 1/2, 1/4 or 1/8 scale (`draft`) while staying at least 512×512; first frame of an
animation; EXIF orientation applied; alpha and transparent palettes composed onto a white
background; RGB; resize to 512×512 (Pillow's default filter, as the seed did; images at
least 4× larger are first box-reduced by an integer factor); then a 4-bin-per-channel
`cv2.calcHist` histogram and an `imagehash.dhash` per channel.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageOps

SIZE = (512, 512)
BINS = 4
HASH = 8  # dhash: 8 rows of 8 differences = 64 bits per channel
DEFAULT_MAX_PIXELS = 64_000_000
BACKGROUND = (255, 255, 255)
CHANNELS = ("red", "green", "blue")
ORIENTATION = 0x0112
# Large PNG/WEBP are first box-reduced by an integer factor to ≥ 2× the target, then resized:
# a fraction of the work of one big bicubic pass, a few dhash bits apart at most (bench/).
REDUCING_GAP = 2.0
RESIZE_FIRST_FACTOR = 8  # images with alpha over 8× the target's pixels are resized, then flattened

# mime -> Pillow format name; the only formats we ever hand to a decoder.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


class ImageError(Exception):
    """An image that cannot be fingerprinted; `permanent` unless retrying could help."""

    def __init__(self, reason: str, permanent: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __reduce__(self) -> tuple:
        return (type(self), (self.reason, self.permanent))


@dataclass(frozen=True)
class Fingerprint:
    sha256: str
    md5: str
    width: int
    height: int
    bytes: int
    mime: str
    histogram: dict[str, list[int]]
    dhash: dict[str, str]
    dhash_mirrored: dict[str, str] | None = None

    def to_payload(self, **extra: Any) -> dict:
        """The fingerprint as booru takes it (client docstring), plus e.g. id and lease."""
        payload = asdict(self)
        del payload["dhash_mirrored"]
        return {**extra, **payload}


def sniff(data: bytes) -> str | None:
    """The mime type the magic bytes announce, if it is one we decode."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def open_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[Image.Image, str]:
    """Open lazily (header only) with the sniffed format's plugin, refusing pixel bombs."""
    mime = sniff(data)
    if mime is None:
        raise ImageError("not an image: unrecognised format" + _looks_like(data))
    try:
        image = Image.open(io.BytesIO(data), formats=[FORMATS[mime]])
    except Image.DecompressionBombError as exc:
        raise ImageError(f"decompression bomb: {exc}") from None
    except Exception as exc:  # Pillow raises many types on hostile headers
        raise ImageError(f"undecodable {mime}: {_short(exc)}") from None
    width, height = image.size
    if width <= 0 or height <= 0:
        raise ImageError(f"undecodable {mime}: empty image")
    if width * height > max_pixels:
        raise ImageError(f"decompression bomb: {width}x{height} pixels exceeds the cap of {max_pixels}")
    return image, mime


def _looks_like(data: bytes) -> str:
    head = data[:256].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return " (HTML page)"
    if head.startswith((b"<?xml", b"<svg")):
        return " (XML/SVG)"
    return ""


def orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not fail the image
        return 1


def displayed_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as shown, i.e. after EXIF orientation."""
    width, height = image.size
    return (height, width) if orientation(image) in (5, 6, 7, 8) else (width, height)


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *,
           size: tuple[int, int] | None = SIZE) -> Image.Image:
    """The upright RGB image fingerprints are computed on: `size` (512×512), or full size if None."""
    image, _ = open_image(data, max_pixels)
    return render(image, size)


def render(image: Image.Image, size: tuple[int, int] | None = SIZE) -> Image.Image:
    """Load an opened image (JPEG via draft), orient it, flatten it to RGB, resize it.

    Large images with alpha are resized before they are flattened: Pillow resizes RGBA/LA with
    premultiplied alpha and composing onto a flat background is linear, so the result is the
    same up to rounding while the per-pixel composing runs on 512×512 instead of the full
    image. Below ~2 MP composing first is the cheaper order.
    """
    try:
        if size is not None and image.format in ("JPEG", "MPO"):
            image.draft("RGB", size)
        image.load()
        if orientation(image) != 1:
            image = ImageOps.exif_transpose(image) or image
        if size is None or image.size == tuple(size):
            return _flatten(_resizable(image))
        if image.width * image.height <= RESIZE_FIRST_FACTOR * size[0] * size[1]:
            return _flatten(_resizable(image)).resize(size, reducing_gap=REDUCING_GAP)
        return _flatten(_resizable(image).resize(size, reducing_gap=REDUCING_GAP))
    except ImageError:
        raise
    except Exception as exc:  # truncated data, corrupt streams, decoder limits
        raise ImageError(f"undecodable {image.format or 'image'}: {_short(exc)}") from None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _resizable(image: Image.Image) -> Image.Image:
    """An image in a mode whose resize is a plain linear filter: RGB, RGBA, L or LA."""
    if image.mode in ("RGB", "L") and "transparency" not in image.info:
        return image
    if image.mode in ("RGBA", "LA"):
        return image
    return image.convert("RGBA" if _has_alpha(image) else "RGB")


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composed onto the fixed background."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA"):
        rgba = image.convert("RGBA") if image.mode == "LA" else image
        canvas = Image.new("RGB", rgba.size, BACKGROUND)
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return image.convert("RGB")


def histogram(image: Image.Image) -> dict[str, list[int]]:
    """4 bins per channel with cv2.calcHist over the RGB pixels."""
    pixels = np.asarray(image)
    return {name: [int(v) for v in cv2.calcHist([pixels], [index], None, [BINS], [0, 256]).ravel()]
            for index, name in enumerate(CHANNELS)}


def dhash(image: Image.Image) -> dict[str, str]:
    """imagehash.dhash of each channel, as 16 hex digits.

    Equal bit for bit to `str(imagehash.dhash(channel))` (a test holds it to that): Pillow
    resamples each band of an RGB image alone, so one 9×8 LANCZOS resize of the RGB image
    replaces three grey conversions and three resizes.
    """
    pixels = np.asarray(image.resize((HASH + 1, HASH), Image.Resampling.LANCZOS))
    brighter = pixels[:, 1:, :] > pixels[:, :-1, :]
    return {name: np.packbits(brighter[:, :, index]).tobytes().hex() for index, name in enumerate(CHANNELS)}


def mirrored_dhash(image: Image.Image) -> dict[str, str]:
    """dhash of the horizontally mirrored image (search finds flipped reposts with it)."""
    return dhash(ImageOps.mirror(image))


def fingerprint(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *, mirrored: bool = False) -> Fingerprint:
    """Everything booru stores about an image's content, from its bytes."""
    image, mime = open_image(data, max_pixels)
    width, height = displayed_size(image)
    small = render(image, SIZE)
    return Fingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data).hexdigest(),
        width=width,
        height=height,
        bytes=len(data),
        mime=mime,
        histogram=histogram(small),
        dhash=dhash(small),
        dhash_mirrored=mirrored_dhash(small) if mirrored else None,
    )


def _short(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."
