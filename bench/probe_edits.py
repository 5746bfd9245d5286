"""PROBE_EDITS of bench/search_quality.py: the issue's edit classes with other parameters than
EDITS uses (a crop on one axis only, uneven crops, wider padding, a caption below, a white
letterbox, a desktop screenshot, a rotation with a crop) and further common repost edits (a
square or 4:5 crop of the whole picture, larger crops, a 10° turn, meme text on the picture,
sepia, contrast, a dark social-media card), each saved as JPEG q90 unless it says otherwise.

Their rules were fixed before any of their figures was read. They were written after the
EDITS and EXTRA_EDITS figures were known, and the search's second look (visual.inner_hits) was
designed after their first figures were read: they measure the same method on more edits, not
edits it never saw. `square`, `portrait45`, `crop25` and `crop30_side` cut more than the 15 %
the search is meant for and are reported for information.
"""
from __future__ import annotations

import hashlib

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from edit_basics import crop as _crop
from edit_basics import font as _font
from edit_basics import jpeg as _jpeg

PROBE_EDITS = ("crop_lr12", "crop_tb12", "crop_asym", "crop10_side", "crop8_two", "padding12", "rotate4_crop8",
               "caption_bottom", "letterbox_white43", "screenshot_landscape", "desktop", "twitter", "border20",
               "impact", "sepia", "contrast", "rotate10", "square", "portrait45", "crop25", "crop30_side")


def _one_side(photo: str, salt: str, share: float) -> tuple[float, float, float, float]:
    """`share` cut from one side, the side fixed per photo from its file name."""
    cut = [0.0, 0.0, 0.0, 0.0]
    cut[int(hashlib.sha1((salt + photo).encode()).hexdigest(), 16) % 4] = share
    return tuple(cut)


def _centre(picture: Image.Image, aspect: float) -> Image.Image:
    """The largest centred part of the picture of this width / height."""
    width, height = picture.size
    kept_width, kept_height = min(width, round(height * aspect)), min(height, round(width / aspect))
    left, top = (width - kept_width) // 2, (height - kept_height) // 2
    return picture.crop((left, top, left + kept_width, top + kept_height))


def _on_canvas(picture: Image.Image, canvas: Image.Image, box: tuple[int, int, int, int]) -> Image.Image:
    """The picture scaled (aspect kept, LANCZOS) to fit `box` (left, top, width, height) of
    `canvas`, pasted at its top left."""
    left, top, width, height = box
    scale = min(width / picture.width, height / picture.height)
    shown = picture.resize((max(1, round(picture.width * scale)), max(1, round(picture.height * scale))),
                           Image.Resampling.LANCZOS)
    canvas.paste(shown, (left, top))
    return canvas


def _desktop(picture: Image.Image) -> Image.Image:
    """A 1920×1080 desktop screenshot: a blue background, a taskbar, an image viewer window with
    a title bar showing the picture at most 760×800."""
    canvas = Image.new("RGB", (1920, 1080), (40, 70, 110))
    pen = ImageDraw.Draw(canvas)
    pen.rectangle((0, 1040, 1920, 1080), fill=(20, 20, 20))
    scale = min(760 / picture.width, 800 / picture.height)
    width, height = round(picture.width * scale), round(picture.height * scale)
    pen.rectangle((300, 100, 320 + width, 160 + height), fill=(240, 240, 240))
    pen.text((320, 110), "image viewer - photo.jpg", font=_font(24), fill="black")
    return _on_canvas(picture, canvas, (310, 150, width, height))


def _twitter(picture: Image.Image) -> Image.Image:
    """A dark social-media card 1200 px wide (saved at half size): an avatar, a name, a line of
    text, the picture 1100 px wide, a line of counts."""
    height = round(picture.height * 1100 / picture.width)
    canvas = Image.new("RGB", (1200, height + 400), (21, 32, 43))
    pen = ImageDraw.Draw(canvas)
    pen.ellipse((30, 30, 110, 110), fill=(120, 160, 200))
    pen.text((130, 40), "Some Account @someaccount", font=_font(34), fill="white")
    pen.text((50, 140), "this picture is everywhere today", font=_font(40), fill="white")
    _on_canvas(picture, canvas, (50, 230, 1100, height))
    pen.text((50, height + 270), "12:00 PM - Dec 6   1.2K Reposts  9K Likes", font=_font(30), fill=(140, 150, 160))
    return canvas.resize((600, (height + 400) // 2), Image.Resampling.LANCZOS)


def _browser(picture: Image.Image) -> Image.Image:
    """A 1600×1000 browser screenshot: an address bar, the picture centred at most 960×860."""
    canvas = Image.new("RGB", (1600, 1000), (250, 250, 250))
    pen = ImageDraw.Draw(canvas)
    pen.rectangle((0, 0, 1600, 80), fill=(222, 225, 230))
    pen.text((20, 25), "reddit.com/r/pics/comments/abc123", font=_font(26), fill="black")
    scale = min(960 / picture.width, 860 / picture.height)
    return _on_canvas(picture, canvas, ((1600 - round(picture.width * scale)) // 2, 110, 960, 860))


def _impact(picture: Image.Image) -> Image.Image:
    """Meme text on the picture itself: white with a black outline, a ninth of its height, a
    line at the top and one at the bottom."""
    width, height = picture.size
    marked = picture.convert("RGB")
    pen = ImageDraw.Draw(marked)
    size = max(12, height // 9)
    outline = {"stroke_width": max(1, size // 12), "stroke_fill": "black", "fill": "white", "font": _font(size)}
    pen.text((width // 10, height // 30), "WHEN YOU SEE IT", **outline)
    pen.text((width // 8, height - size * 3 // 2), "YOU CANT UNSEE IT", **outline)
    return marked


def _caption_bottom(picture: Image.Image) -> Image.Image:
    """A white bar a fifth of the picture's height below it, one line of black text."""
    width, height = picture.size
    bar = max(40, height // 5)
    canvas = Image.new("RGB", (width, height + bar), "white")
    canvas.paste(picture, (0, 0))
    ImageDraw.Draw(canvas).text((width // 20, height + bar // 4), "nobody: absolutely nobody:", font=_font(bar // 3),
                                fill="black")
    return canvas


def _letterbox_white43(picture: Image.Image) -> Image.Image:
    """Centred on a white 4:3 canvas just large enough to hold it."""
    width, height = picture.size
    canvas_width = max(width, round(height * 4 / 3))
    canvas_height = max(height, round(canvas_width * 3 / 4))
    canvas = Image.new("RGB", (canvas_width, canvas_height), "white")
    canvas.paste(picture, ((canvas_width - width) // 2, (canvas_height - height) // 2))
    return canvas


def _sepia(picture: Image.Image) -> Image.Image:
    """The classic sepia matrix on RGB, clipped."""
    pixels = np.asarray(picture.convert("RGB"), dtype=np.float32)
    matrix = np.array([[.393, .769, .189], [.349, .686, .168], [.272, .534, .131]], dtype=np.float32)
    return Image.fromarray(np.clip(pixels @ matrix.T, 0, 255).astype(np.uint8))


def _contrast(picture: Image.Image) -> Image.Image:
    """PIL's contrast ×1.5, then gamma 0.8."""
    pixels = np.asarray(ImageEnhance.Contrast(picture.convert("RGB")).enhance(1.5), dtype=np.float32)
    return Image.fromarray(np.clip(255.0 * (pixels / 255.0) ** 0.8, 0, 255).astype(np.uint8))


def probe_edit(picture: Image.Image, name: str, photo: str) -> bytes:
    """One of PROBE_EDITS of the "posted" picture; `photo` (its file name) fixes per-photo choices."""
    picture = picture.convert("RGB")
    width = picture.width
    crops = {"crop_lr12": (0, 0, .125, .125), "crop_tb12": (.125, .125, 0, 0), "crop_asym": (.12, .03, .08, 0),
             "crop8_two": (.08, 0, .08, 0), "crop25": (.25, .25, .25, .25),
             "crop10_side": _one_side(photo, "side10:", .1), "crop30_side": _one_side(photo, "side30:", .3)}
    if name in crops:
        return _jpeg(_crop(picture, *crops[name]))
    if name == "square":
        return _jpeg(_centre(picture, 1.0))
    if name == "portrait45":
        return _jpeg(_centre(picture, 0.8))
    if name == "padding12":
        return _jpeg(ImageOps.expand(picture, border=max(4, width * 12 // 100), fill=(20, 20, 20)))
    if name == "border20":
        return _jpeg(ImageOps.expand(picture, border=max(4, width * 20 // 100), fill="white"))
    if name == "rotate4_crop8":
        return _jpeg(_crop(picture.rotate(-4, resample=Image.Resampling.BICUBIC), .08, .08, .08, .08))
    if name == "rotate10":
        return _jpeg(picture.rotate(10, resample=Image.Resampling.BICUBIC))
    if name == "desktop":
        return _jpeg(_desktop(picture), 85)
    if name == "twitter":
        return _jpeg(_twitter(picture), 85)
    if name == "screenshot_landscape":
        return _jpeg(_browser(picture), 85)
    edits = {"impact": _impact, "caption_bottom": _caption_bottom, "letterbox_white43": _letterbox_white43,
             "sepia": _sepia, "contrast": _contrast}
    if name in edits:
        return _jpeg(edits[name](picture))
    raise ValueError(name)
