"""What the search-quality edits share: the font, the JPEG saving, the crop by shares."""
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
