"""Image decoding and fingerprints: the one code path for Coco and for booru's similarity search.

Steps (DESIGN §8):

1. Sniff the format from magic bytes (JPEG, PNG, GIF, WEBP only) and read the header with that
   format's Pillow plugin alone; refuse more than `max_pixels` before anything is decoded.
2. Decode the first frame into a numpy array. Still JPEG/PNG/WEBP in grey or RGB(A) go to
   OpenCV (`cv2.imdecode`) or, PNG, to libspng (`pyspng`, the same pixels in about two thirds
   of the time); both only ever see bytes the sniff and Pillow's header accepted and decode
   straight into an array. JPEG at 1/8 scale from libjpeg once both sides are at least 2048
   (4× the target; a progressive one from its DC scans alone, see common.jpeg_dc, which gives the
   whole file's 1/8 pixels without Huffman-decoding its AC scans), otherwise at the largest of
   1/2, 1/4, 1/8 that stays at least 512×512. Palette, CMYK, 16-bit grey, tRNS transparency,
   GIF and animations go to Pillow. EXIF orientation is never applied by a decoder
   (IMREAD_IGNORE_ORIENTATION).
3. Alpha composed onto white: 255 − (255 − c)·a/255, rounded (what Pillow's paste gives).
4. Resize to 512×512: 2×2 means while a side is at least twice the target (an odd last row or
   column dropped), then one bicubic step (`cv2.resize`, INTER_CUBIC; up by at most 2 from a
   JPEG's 1/8 scale).
5. EXIF orientation from the header, applied once, to the 512×512 result (the resize was to
   the transposed target when the orientation transposes).
6. A 4-bin-per-channel `cv2.calcHist` histogram and an `imagehash.dhash` per channel of the
   512×512 RGB image; sha256 and md5 of the bytes.
7. Optionally a thumbnail from the same (reduced) decode: aspect ratio kept, longest side at most
   `thumbnail_size` (never enlarged), area-averaged, upright, JPEG quality 85. Fingerprints must
   be computable from it alone (FINGERPRINT_VERSION says which way they were computed), so an
   archive can be re-fingerprinted without downloading again.
8. With a thumbnail, the region dhashes of common.regions (`archive_dhashes`) computed from the
   thumbnail's JPEG alone (`thumbnail_regions`), what the `visual` search indexes: an archive
   upgraded from its stored thumbnails gets the very same ones.

The seed decoded the whole image and resized it with Pillow's bicubic filter. Against that,
reduced JPEG decoding and the resize above change a median of 0 dhash bits of 192 (p95 4; up
to 13 on pixel-art patterns) and move a median of 0.2% of the pixels to another histogram bin
(p95 1%); JPEGs of 2048 px and more, at 1/8, change at most 3 bits and move up to 3.5% of the
pixels (histogram L1 0.07, p95 0.03). bench/fingerprint_bench.py measures both;
bench/search_quality.py the recall.
"""
from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np
import pyspng
from PIL import Image

from common import jpeg_dc
from common.regions import archive_dhashes

SIZE = (512, 512)
BINS = 4
HASH = 8  # dhash: 8 rows of 8 differences = 64 bits per channel
DEFAULT_MAX_PIXELS = 64_000_000
CHANNELS = ("red", "green", "blue")
ORIENTATION = 0x0112
# dhash comparisons between two cells at or beyond these levels (clipped highlights or shadows)
CLIPPED_DARK, CLIPPED_LIGHT = 5, 250
QUERY_ONLY = ("dhash_mirrored", "dhash_clipped", "dhash_mirrored_clipped")
# Which way fingerprints are computed; booru re-fingerprints images stored with an older one.
# 2: region dhashes (common.regions) computed from the thumbnail.
# 3: the content box of a flat picture, whose own rows and columns are uniform, told from a
#    border around it by brightness (common.regions.content_box).
# 4: one more archived window, the content box's centre square (common.regions.WINDOWS).
# 5: the archived crop windows cut from the whole frame (common.regions.archived_window).
FINGERPRINT_VERSION = 5
THUMBNAIL_QUALITY = 85

# mime -> Pillow format name; the only formats we ever hand to a decoder.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
SNIFFED = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Modes OpenCV decodes exactly as Pillow would; the others (palette, CMYK, 16-bit grey, ...)
# are Pillow's conversions.
OPENCV_MODES = ("L", "LA", "RGB", "RGBA")
# The scale bits of IMREAD_REDUCED_*; the colour comes from IMREAD_COLOR_RGB.
JPEG_SCALES = {8: cv2.IMREAD_REDUCED_GRAYSCALE_8, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4,
               2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 1: 0}
# EXIF orientation -> what makes the stored pixels upright (Pillow's exif_transpose, in numpy).
UPRIGHT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: a.swapaxes(0, 1)[:, ::-1],
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
    8: lambda a: a.swapaxes(0, 1)[::-1],
}
TRANSPOSING = (5, 6, 7, 8)
# JPEGs at least this many times the target size on both sides are decoded at 1/8 scale (then
# upscaled by at most 2; progressive ones from their DC scans alone, common.jpeg_dc); smaller
# ones at the largest scale that keeps the target size.
EIGHTH = 4

# Every image is fingerprinted on one core (Coco's process pool, booru's workers): OpenCV's
# own threads would only contend with the other images.
cv2.setNumThreads(1)


class ImageError(Exception):
    """An image that cannot be fingerprinted; `permanent` unless retrying could help."""

    def __init__(self, reason: str, permanent: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __reduce__(self) -> tuple:
        return (type(self), (self.reason, self.permanent))


@dataclass(frozen=True)
class Thumbnail:
    """A small upright JPEG of the image."""

    width: int
    height: int
    jpeg: bytes

    def to_payload(self) -> dict:
        return {"width": self.width, "height": self.height, "data": base64.b64encode(self.jpeg).decode()}


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
    # a search query's extras (fingerprint(query=True)), never stored
    dhash_mirrored: dict[str, str] | None = None
    dhash_clipped: dict[str, str] | None = None
    dhash_mirrored_clipped: dict[str, str] | None = None
    version: int = FINGERPRINT_VERSION
    thumbnail: Thumbnail | None = None
    # the thumbnail's region dhashes (`thumbnail_regions`): one 48-hex-digit string per window
    regions: list[str] | None = None

    def to_payload(self, **extra: Any) -> dict:
        """The fingerprint as booru takes it (client docstring), plus e.g. id and lease."""
        payload = asdict(self)
        for name in QUERY_ONLY:
            del payload[name]
        payload["thumbnail"] = self.thumbnail.to_payload() if self.thumbnail is not None else None
        return {**extra, **payload}


def thumbnail_regions(jpeg: bytes) -> list[str]:
    """common.regions.archive_dhashes of a thumbnail (its JPEG bytes): per window, its 3 words as
    48 hex digits."""
    pixels = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR_RGB)
    if pixels is None:
        raise ImageError("undecodable thumbnail")
    return [words.astype(">u8").tobytes().hex() for words in archive_dhashes(pixels)]


def regions_array(regions: list[str]) -> np.ndarray:
    """`thumbnail_regions` back to len(WINDOWS) × 3 uint64."""
    return np.stack([np.frombuffer(bytes.fromhex(r), dtype=">u8").astype(np.uint64) for r in regions])


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
    """The EXIF (or XMP) orientation the header gives, 1 if none.

    Image.getexif itself, not PngImageFile's, which decodes the whole image to look for an
    eXIf chunk after IDAT; the PNG spec puts eXIf before IDAT.
    """
    try:
        return int(Image.Image.getexif(image).get(ORIENTATION, 1))
    except Exception:  # a broken EXIF block must not fail the image
        return 1


def displayed_size(image: Image.Image) -> tuple[int, int]:
    """Width and height as shown, i.e. after EXIF orientation."""
    width, height = image.size
    return (height, width) if orientation(image) in TRANSPOSING else (width, height)


def decode(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *,
           size: tuple[int, int] | None = SIZE) -> Image.Image:
    """The upright RGB image fingerprints are computed on: `size` (512×512), or full size if None."""
    image, _ = open_image(data, max_pixels)
    return Image.fromarray(render(image, data, size))


def render(image: Image.Image, data: bytes, size: tuple[int, int] | None = SIZE) -> np.ndarray:
    """The upright RGB pixels (height × width × 3) of `data`, opened as `image`, at `size`."""
    return render_with_thumbnail(image, data, size, 0)[0]


def render_with_thumbnail(image: Image.Image, data: bytes, size: tuple[int, int] | None,
                          thumbnail_size: int) -> tuple[np.ndarray, Thumbnail | None]:
    """render(), and from the same decode a thumbnail whose longest side is at most
    `thumbnail_size` (None when 0)."""
    try:
        turn = orientation(image)
        pixels = _compose(*_read(image, data, size))
        small = _thumbnail(pixels, thumbnail_size, turn) if thumbnail_size > 0 else None
        if size is not None:
            pixels = _resize(pixels, size[::-1] if turn in TRANSPOSING else size)
        return (np.ascontiguousarray(UPRIGHT[turn](pixels)) if turn in UPRIGHT else pixels), small
    except ImageError:
        raise
    except Exception as exc:  # truncated data, corrupt streams, decoder limits
        raise ImageError(f"undecodable {image.format or 'image'}: {_short(exc)}") from None


def _read(image: Image.Image, data: bytes, size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The first frame as RGB pixels and its alpha channel (None if it has none)."""
    if not _opencv_decodes(image):
        return _read_pillow(image, size)
    if sniff(data) != SNIFFED[image.format]:  # OpenCV picks its decoder from the bytes it is given
        raise ImageError(f"undecodable {image.format}: these bytes are not the image that was opened")
    alpha = image.mode in ("LA", "RGBA")
    if image.format == "PNG":
        return _read_png(image, data, alpha)
    scale = _jpeg_scale(image.size, size) if image.format in ("JPEG", "MPO") else 1
    if scale == 8 and image.info.get("progressive"):
        pixels = _read_dc_only(image, data)
        if pixels is not None:
            return pixels, None
    pixels = _imdecode(image, data, scale, alpha)
    if pixels is None:
        raise ImageError(f"undecodable {image.format}: truncated or corrupt data")
    if not alpha:
        return pixels, None
    return cv2.cvtColor(pixels, cv2.COLOR_BGRA2RGB), cv2.extractChannel(pixels, 3)


def _imdecode(image: Image.Image, data: bytes, scale: int, alpha: bool) -> np.ndarray | None:
    """`data` (the bytes of `image`, or a stream reduced from them) by OpenCV: RGB at 1/`scale`,
    or BGRA at full size with `alpha` (IMREAD_UNCHANGED never applies EXIF orientation); None
    unless it comes out whole."""
    if alpha:
        flags = cv2.IMREAD_UNCHANGED
    else:
        flags = JPEG_SCALES[scale] | cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    width, height = image.size
    if pixels is None or pixels.shape != (-(-height // scale), -(-width // scale), 4 if alpha else 3):
        return None
    return pixels


def _read_png(image: Image.Image, data: bytes, alpha: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A PNG in grey or RGB(A), 8 or 16 bits, by libspng (pyspng): RGB or RGBA, 8 bits (the high
    byte of 16), the pixels OpenCV gives, in about two thirds of its time."""
    pixels = pyspng.load(data, format="RGBA" if alpha else "RGB")
    width, height = image.size
    if pixels.shape != (height, width, 4 if alpha else 3) or pixels.dtype != np.uint8:
        raise ImageError("undecodable PNG: truncated or corrupt data")
    if not alpha:
        return pixels, None
    return cv2.cvtColor(pixels, cv2.COLOR_RGBA2RGB), cv2.extractChannel(pixels, 3)


def _opencv_decodes(image: Image.Image) -> bool:
    """Still JPEG, PNG and WEBP in grey or RGB(A), without tRNS transparency."""
    if image.format == "GIF" or image.mode not in OPENCV_MODES or "transparency" in image.info:
        return False
    return image.format in ("JPEG", "MPO") or not getattr(image, "is_animated", False)


def _jpeg_scale(full: tuple[int, int], size: tuple[int, int] | None) -> int:
    """1/8 once both sides are at least EIGHTH times `size`; otherwise the largest libjpeg
    scale-down (1/2, 1/4, 1/8) that keeps both sides at least `size`."""
    if size is None:
        return 1
    if full[0] >= EIGHTH * size[0] and full[1] >= EIGHTH * size[1]:
        return 8
    fits = min(full[0] // size[0], full[1] // size[1])
    return next(scale for scale in JPEG_SCALES if scale <= max(fits, 1))  # JPEG_SCALES: largest first


def _read_dc_only(image: Image.Image, data: bytes) -> np.ndarray | None:
    """A progressive JPEG at 1/8 scale from its DC scans (common.jpeg_dc); None to decode the
    whole file. The pixels are the whole file's at 1/8 (equal on every corpus image; tests hold
    it) while the AC scans, nearly all of the data and of the Huffman decoding, are skipped."""
    stream = jpeg_dc.dc_stream(data)
    return None if stream is None else _imdecode(image, stream, 8, alpha=False)


def _read_pillow(image: Image.Image, size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray | None]:
    if size is not None and image.format in ("JPEG", "MPO"):
        image.draft("RGB", size)
    image.load()
    if not _has_alpha(image):
        return np.asarray(image.convert("RGB")), None
    rgba = np.asarray(image.convert("RGBA"))
    return cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB), cv2.extractChannel(rgba, 3)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _compose(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """RGB composed onto white in place: 255 − round((255 − c)·a/255), as Pillow's paste with a mask."""
    if alpha is None or cv2.minMaxLoc(alpha)[0] == 255:
        return rgb
    cv2.bitwise_not(rgb, dst=rgb)
    cv2.multiply(rgb, cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB), dst=rgb, scale=1 / 255)
    return cv2.bitwise_not(rgb, dst=rgb)


def _resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """2×2 means (an odd last row or column dropped) while a side is at least twice `size`,
    then one bicubic step to it."""
    width, height = size
    while True:
        rows, columns = pixels.shape[:2]
        across, down = 2 if columns >= 2 * width else 1, 2 if rows >= 2 * height else 1
        if across == down == 1:
            break
        pixels = cv2.resize(pixels[:rows - rows % down, :columns - columns % across],
                            (columns // across, rows // down), interpolation=cv2.INTER_AREA)
    if (columns, rows) == tuple(size):
        return pixels
    return cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC)


def _thumbnail(pixels: np.ndarray, longest: int, turn: int) -> Thumbnail:
    """The decoded RGB pixels scaled down to `longest` at most, upright, as JPEG."""
    rows, columns = pixels.shape[:2]
    scale = min(1.0, longest / max(rows, columns))
    size = (max(1, round(columns * scale)), max(1, round(rows * scale)))
    small = cv2.resize(pixels, size, interpolation=cv2.INTER_AREA) if scale < 1.0 else pixels
    if turn in UPRIGHT:
        small = np.ascontiguousarray(UPRIGHT[turn](small))
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR),
                               [cv2.IMWRITE_JPEG_QUALITY, THUMBNAIL_QUALITY])
    if not ok:
        raise ImageError("cannot encode the thumbnail")
    return Thumbnail(small.shape[1], small.shape[0], encoded.tobytes())


def histogram(image: Image.Image | np.ndarray) -> dict[str, list[int]]:
    """4 bins per channel with cv2.calcHist over the RGB pixels."""
    pixels = np.asarray(image)
    return {name: [int(v) for v in cv2.calcHist([pixels], [index], None, [BINS], [0, 256]).ravel()]
            for index, name in enumerate(CHANNELS)}


def dhash(image: Image.Image | np.ndarray) -> dict[str, str]:
    """imagehash.dhash of each channel, as 16 hex digits.

    Equal bit for bit to `str(imagehash.dhash(channel))` (a test holds it to that): Pillow
    resamples each band of an RGB image alone, so one 9×8 LANCZOS resize of the RGB image
    replaces three grey conversions and three resizes.
    """
    return _dhash_bits(_dhash_grid(image))


def mirrored_dhash(image: Image.Image | np.ndarray) -> dict[str, str]:
    """dhash of the horizontally mirrored image (search finds flipped reposts with it).

    The LANCZOS weights are symmetric, so the 9×8 grid of the mirror is the grid mirrored: one
    resize serves both (equal to hashing the flipped image on every corpus image; tests hold it).
    """
    return _dhash_bits(_dhash_grid(image)[:, ::-1])


def _dhash_grid(image: Image.Image | np.ndarray) -> np.ndarray:
    """The 9×8 LANCZOS reduction whose neighbours dhash compares."""
    if not isinstance(image, Image.Image):
        image = Image.fromarray(image)
    return np.asarray(image.resize((HASH + 1, HASH), Image.Resampling.LANCZOS))


def _dhash_bits(grid: np.ndarray) -> dict[str, str]:
    brighter = grid[:, 1:, :] > grid[:, :-1, :]
    return _hex(brighter)


def dhash_clipped(grid: np.ndarray) -> dict[str, str]:
    """The dhash bits (same layout) that compare two clipped cells of the 9×8 grid: both at
    least CLIPPED_LIGHT or both at most CLIPPED_DARK. Such a bit is 0 whatever the picture
    there was (a +20 % brighter copy of a light background is all 255), so a search leaves it
    out (booru.func.similarity.distances.DhashQuery)."""
    light, dark = grid >= CLIPPED_LIGHT, grid <= CLIPPED_DARK
    return _hex((light[:, 1:, :] & light[:, :-1, :]) | (dark[:, 1:, :] & dark[:, :-1, :]))


def _hex(bits: np.ndarray) -> dict[str, str]:
    """8×8×3 booleans -> 16 hex digits per channel, row by row, most significant bit first."""
    return {name: np.packbits(bits[:, :, index]).tobytes().hex() for index, name in enumerate(CHANNELS)}


def decoded_pixels(image: Image.Image) -> int:
    """How many pixels decoding `image` holds at once: JPEG decodes reduced, the others whole."""
    width, height = image.size
    scale = _jpeg_scale(image.size, SIZE) if image.format in ("JPEG", "MPO") else 1
    return -(-width // scale) * -(-height // scale)


def fingerprint(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *, query: bool = False,
                thumbnail_size: int = 0, max_decode_pixels: int | None = None,
                is_thumbnail: bool = False) -> Fingerprint:
    """Everything booru stores about an image's content, from its bytes; for a search `query`
    also the mirrored dhash and the clipped bits of both; a thumbnail and its region dhashes when
    `thumbnail_size`, or the region dhashes of `data` itself when it `is_thumbnail` (a stored one).
    `max_decode_pixels` bounds the memory of the decode (about 8 bytes a pixel at its peak): a PNG,
    GIF or WEBP beyond it is refused."""
    return fingerprint_rendered(data, max_pixels, query=query, thumbnail_size=thumbnail_size,
                                max_decode_pixels=max_decode_pixels, is_thumbnail=is_thumbnail)[0]


def fingerprint_rendered(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS, *, query: bool = False,
                         thumbnail_size: int = 0, max_decode_pixels: int | None = None,
                         is_thumbnail: bool = False) -> tuple[Fingerprint, np.ndarray]:
    """`fingerprint`, and the upright SIZE render it was computed from (`render`), for whatever
    else looks at the picture (a search's regions) without decoding it again."""
    image, mime = open_image(data, max_pixels)
    if max_decode_pixels is not None and decoded_pixels(image) > max_decode_pixels:
        width, height = image.size
        raise ImageError(f"too large to decode: {width}x{height} {image.format} pixels exceed the "
                         f"decode budget of {max_decode_pixels} (a JPEG of this size is decoded reduced)")
    width, height = displayed_size(image)
    small, thumbnail = render_with_thumbnail(image, data, SIZE, thumbnail_size)
    grid = _dhash_grid(small)
    found = Fingerprint(
        sha256=hashlib.sha256(data).hexdigest(),
        md5=hashlib.md5(data).hexdigest(),
        width=width,
        height=height,
        bytes=len(data),
        mime=mime,
        histogram=histogram(small),
        dhash=_dhash_bits(grid),
        dhash_mirrored=_dhash_bits(grid[:, ::-1]) if query else None,
        dhash_clipped=dhash_clipped(grid) if query else None,
        dhash_mirrored_clipped=dhash_clipped(grid[:, ::-1]) if query else None,
        thumbnail=thumbnail,
        regions=(thumbnail_regions(data) if is_thumbnail
                 else thumbnail_regions(thumbnail.jpeg) if thumbnail is not None else None),
    )
    return found, small


def _short(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."
