"""Deterministic test images: gradients and shapes drawn from a seed."""
from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


def make_image(width: int = 640, height: int = 480, fmt: str = "JPEG", seed: int = 0,
               frames: int = 1) -> bytes:
    """Encoded image bytes; the same arguments always give the same bytes."""
    fmt = fmt.upper()
    if fmt not in FORMATS:
        raise ValueError(f"unsupported format {fmt!r}; choose from {sorted(FORMATS)}")
    pictures = [draw_picture(width, height, seed + i) for i in range(max(1, frames))]
    out = io.BytesIO()
    if fmt == "GIF":
        palette = [p.convert("P", palette=Image.Palette.ADAPTIVE) for p in pictures]
        palette[0].save(out, "GIF", save_all=frames > 1, append_images=palette[1:],
                        duration=100, loop=0)
    elif fmt == "JPEG":
        pictures[0].save(out, "JPEG", quality=90)
    else:
        pictures[0].save(out, fmt)
    return out.getvalue()


def draw_picture(width: int, height: int, seed: int) -> Image.Image:
    """An RGB picture with per-channel gradients and a few filled shapes."""
    rng = random.Random(seed)
    channels = [gradient(width, height, rng) for _ in range(3)]
    picture = Image.merge("RGB", channels)
    pen = ImageDraw.Draw(picture)
    for _ in range(rng.randint(3, 7)):
        box = random_box(width, height, rng)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(("rectangle", "ellipse", "polygon"))
        if shape == "rectangle":
            pen.rectangle(box, fill=colour)
        elif shape == "ellipse":
            pen.ellipse(box, fill=colour)
        else:
            points = [(rng.randrange(width), rng.randrange(height)) for _ in range(3)]
            pen.polygon(points, fill=colour)
    return picture


def gradient(width: int, height: int, rng: random.Random) -> Image.Image:
    """A linear or radial 8-bit gradient, rotated and resized to the canvas."""
    base = Image.linear_gradient("L") if rng.random() < 0.6 else Image.radial_gradient("L")
    base = base.rotate(rng.randrange(360), resample=Image.Resampling.BILINEAR, expand=False,
                       fillcolor=rng.randrange(256))
    return base.resize((width, height), Image.Resampling.BILINEAR)


def random_box(width: int, height: int, rng: random.Random) -> tuple[int, int, int, int]:
    x0, y0 = rng.randrange(width), rng.randrange(height)
    x1 = min(width, x0 + rng.randint(width // 10 + 1, width // 2 + 2))
    y1 = min(height, y0 + rng.randint(height // 10 + 1, height // 2 + 2))
    return x0, y0, x1, y1
