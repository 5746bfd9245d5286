"""What the search-quality edits share: the font, the JPEG saving, the crop by shares, the
size of a canvas of another shape around a picture."""
from __future__ import annotations

import io

from PIL import Image, ImageFont


def font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=max(8, size))


def jpeg(picture: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def crop(picture: Image.Image, top: float, bottom: float, left: float, right: float) -> Image.Image:
    """The picture with these shares of its height (top, bottom) and width (left, right) cut."""
    width, height = picture.size
    return picture.crop((round(left * width), round(top * height), width - round(right * width),
                         height - round(bottom * height)))


def canvas_size(width: int, height: int, aspect: float) -> tuple[int, int]:
    """The smallest canvas of width / height `aspect` that holds a picture of this size (it fills
    the canvas on one axis)."""
    return (width, round(width / aspect)) if width / height > aspect else (round(height * aspect), height)
