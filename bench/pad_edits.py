"""PAD_EDITS of bench/search_quality.py: a picture pasted onto a blurred, darkened, enlarged copy
of itself, the way phone stories and videos show a picture of another shape. The canvas is 9:16
(a story), square (a feed) or 16:9 (a video); the picture is centred and fills the canvas on one
axis; the rest is the picture enlarged to cover the canvas, blurred (Gaussian, radius 1/40 of the
canvas's longest side) and darkened to 70 %. Saved as JPEG q90.

The 9:16 and square edits were written, with these rules, after every other figure of the
benchmark was known; the 16:9 one was added when the pad bands of the search's second look
(common.pad_bands) were designed, and those were designed on the tuning photos' figures
of all three. The tuning rows are therefore no fair measure of them: the held-out and added
photos' rows are. Reported in a fourth table per photo set, never in the means of the others.

Added later, with these rules fixed before their first figures: the 9:16 story with its picture
moved up by 12 % of the canvas's height (`story_up12`), and the same with a line of white text on
the pad under the picture (`story_up12_text`). The bands cut around the sharpest stretch of the
frame (common.pad_bands.PAD_SHIFT) were then designed on their tuning figures.
"""
from __future__ import annotations

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from edit_basics import canvas_size, font, jpeg as _jpeg

PAD_EDITS = ("blur_pad_916", "blur_pad_square", "blur_pad_169", "story_up12", "story_up12_text")
ASPECTS = {"blur_pad_916": 9 / 16, "blur_pad_square": 1.0, "blur_pad_169": 16 / 9, "story_up12": 9 / 16,
           "story_up12_text": 9 / 16}
MOVED_UP = {"story_up12": 0.12, "story_up12_text": 0.12}  # shares of the canvas's height
TEXT = {"story_up12_text": "wait for the end"}


def _on_blurred_pad(picture: Image.Image, aspect: float, moved_up: float = 0.0, text: str = "") -> Image.Image:
    width, height = picture.size
    canvas_width, canvas_height = canvas_size(width, height, aspect)
    scale = max(canvas_width / width, canvas_height / height)
    enlarged = picture.resize((round(width * scale) + 1, round(height * scale) + 1), Image.Resampling.BILINEAR)
    left, top = (enlarged.width - canvas_width) // 2, (enlarged.height - canvas_height) // 2
    canvas = enlarged.crop((left, top, left + canvas_width, top + canvas_height))
    canvas = canvas.filter(ImageFilter.GaussianBlur(max(canvas_width, canvas_height) / 40))
    canvas = ImageEnhance.Brightness(canvas).enhance(0.7)
    top = min(max((canvas_height - height) // 2 - round(moved_up * canvas_height), 0), canvas_height - height)
    canvas.paste(picture, ((canvas_width - width) // 2, top))
    if text:
        size = max(12, canvas_width // 18)
        ImageDraw.Draw(canvas).text((canvas_width // 10, min(canvas_height - 2 * size, top + height + size)), text,
                                    font=font(size), fill="white")
    return canvas


def pad_edit(picture: Image.Image, name: str) -> bytes:
    """One of PAD_EDITS of the "posted" picture."""
    return _jpeg(_on_blurred_pad(picture, ASPECTS[name], MOVED_UP.get(name, 0.0), TEXT.get(name, "")))
