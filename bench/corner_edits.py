"""CORNER_EDITS of bench/search_quality.py: copies cropped from a corner (from one end of each
axis: the top and the left, say), alone and with other edits. The corner is fixed per photo
from its file name, as the one-side crops fix their side. Saved as JPEG q90.

* `corner8`, `corner12`, `corner15`: 8, 12 and 15 % from one corner;
* `corner_uneven`: 12 % from the top or bottom and 5 % from the left or right;
* `corner10_caption`: 10 % from one corner, then the caption bar of the EDITS table above it;
* `corner10_mirror`: mirrored, then 10 % from one corner;
* `corner10_letterbox`: 10 % from one corner, then letterboxed on black 16:9 as in the EDITS
  table.

The second look's corner crops (common.regions.CORNER_CROPS) were chosen on a probe of these
photos with corner crops of 6, 8, 10, 12 and 15 % and 12 % under a caption; the uneven, mirrored
and letterboxed rows, and the caption at 10 %, were written with this table and their rules
fixed before their first figures. Reported in a table of their own per photo set, never in the
means of the others.
"""
from __future__ import annotations

import hashlib
from typing import Callable

from PIL import Image, ImageOps

from edit_basics import crop, jpeg

CORNER_EDITS = ("corner8", "corner12", "corner15", "corner_uneven", "corner10_caption", "corner10_mirror",
                "corner10_letterbox")


def _corner(picture: Image.Image, photo: str, down: float, across: float) -> Image.Image:
    """`down` cut from the top or the bottom and `across` from the left or the right, which of
    them fixed per photo from its file name."""
    which = int(hashlib.sha1(("corner" + photo).encode()).hexdigest(), 16) % 4
    top, bottom = (down, 0.0) if which < 2 else (0.0, down)
    left, right = (across, 0.0) if which % 2 == 0 else (0.0, across)
    return crop(picture, top, bottom, left, right)


def corner_edit(picture: Image.Image, name: str, photo: str, caption: Callable[[Image.Image], Image.Image],
                letterbox: Callable[[Image.Image], Image.Image]) -> bytes:
    """One of CORNER_EDITS of the "posted" picture; `photo` is its file name, `caption` and
    `letterbox` the EDITS table's."""
    if name in ("corner8", "corner12", "corner15"):
        share = int(name[6:]) / 100
        return jpeg(_corner(picture, photo, share, share))
    if name == "corner_uneven":
        return jpeg(_corner(picture, photo, 0.12, 0.05))
    if name == "corner10_caption":
        return jpeg(caption(_corner(picture, photo, 0.10, 0.10)))
    if name == "corner10_mirror":
        return jpeg(_corner(ImageOps.mirror(picture), photo, 0.10, 0.10))
    if name == "corner10_letterbox":
        return jpeg(letterbox(_corner(picture, photo, 0.10, 0.10)))
    raise ValueError(name)
