"""CANVAS_EDITS of bench/search_quality.py: a picture turned a few degrees the way editors turn
one, the canvas grown to hold all of it and the corners it uncovers filled with one colour
(PIL's `rotate(expand=True)`, ImageMagick's `-rotate`), where the EDITS table's rotations keep
the frame and cut the picture's corners. Saved as JPEG q90.

* `canvas_rot5_white`: 5° anticlockwise on white;
* `canvas_rot3_black`: 3° clockwise on black;
* `canvas_rot8_white`: 8° anticlockwise on white (beyond the 5° the search aims at);
* `canvas_rot4_crop8`: 8 % cut from every side, then 4° clockwise on white;
* `canvas_rot5_caption`: 5° anticlockwise on white, then the caption bar of the EDITS table
  above it.

The search's tilt detection (common.tilt) was designed on the first of them, on a probe of
these photos; the other four were written with it and their rules fixed before their first
figures. Reported in a table of their own per photo set, never in the means of the others.
"""
from __future__ import annotations

from typing import Callable

from PIL import Image

from edit_basics import crop, jpeg

CANVAS_EDITS = ("canvas_rot5_white", "canvas_rot3_black", "canvas_rot8_white", "canvas_rot4_crop8",
                "canvas_rot5_caption")


def _turned(picture: Image.Image, degrees: float, fill: str) -> Image.Image:
    return picture.convert("RGB").rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)


def canvas_edit(picture: Image.Image, name: str, caption: Callable[[Image.Image], Image.Image]) -> bytes:
    """One of CANVAS_EDITS of the "posted" picture; `caption` puts the EDITS table's caption bar
    above a picture."""
    if name == "canvas_rot5_white":
        return jpeg(_turned(picture, 5, "white"))
    if name == "canvas_rot3_black":
        return jpeg(_turned(picture, -3, "black"))
    if name == "canvas_rot8_white":
        return jpeg(_turned(picture, 8, "white"))
    if name == "canvas_rot4_crop8":
        return jpeg(_turned(crop(picture, 0.08, 0.08, 0.08, 0.08), -4, "white"))
    if name == "canvas_rot5_caption":
        return jpeg(caption(_turned(picture, 5, "white")))
    raise ValueError(name)
