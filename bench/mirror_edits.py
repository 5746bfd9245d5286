"""MIRROR_EDITS of bench/search_quality.py: mirrored copies with each other kind of edit. Each is
the picture mirrored, then one edit of another table applied as that table applies it (its name
after `mirror_`): a rotation, a caption, a letterbox, padding, a phone screenshot, a centred crop,
bars, a crop from one side under a caption, a rotation then a crop, a turn on a grown white
canvas, a blurred 9:16 pad.

Written as a probe, its rules fixed before its first figures, after the second look learnt to
search its corner cuts mirrored: the special rows of the search (a tilted picture made upright,
a picture's bands on a blurred pad) were searched direct only. Reported in a table of its own
per photo set, never in the means of the others.
"""
from __future__ import annotations

MIRRORED = {"mirror_rotate5": "rotate5", "mirror_caption": "caption", "mirror_letterbox": "letterbox",
            "mirror_padding": "padding", "mirror_screenshot": "screenshot", "mirror_crop15": "crop15",
            "mirror_bars": "bars", "mirror_crop_caption": "crop_caption", "mirror_rotate_crop": "rotate_crop",
            "mirror_canvas_rot5_white": "canvas_rot5_white", "mirror_blur_pad_916": "blur_pad_916"}
MIRROR_EDITS = tuple(MIRRORED)
