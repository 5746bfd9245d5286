"""Photo-like test pictures made with numpy and OpenCV: textured, with corners ORB can find, or
smooth, with few; such a picture inside a phone screenshot of an app, or on a blurred copy of
itself (a phone story), or turned on a grown canvas, or darkened by a vignette."""
from __future__ import annotations

import cv2
import numpy as np


def picture(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
    """An RGB picture: smooth colour noise at two scales, ellipses, rectangles and lines."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (width, height),
                        interpolation=cv2.INTER_CUBIC)
    fine = cv2.resize(rng.integers(0, 256, (height // 16, width // 16, 3), dtype=np.uint8), (width, height),
                      interpolation=cv2.INTER_LINEAR)
    pixels = cv2.addWeighted(coarse, 0.6, fine, 0.4, 0)
    for _ in range(25):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        kind = rng.integers(3)
        if kind == 0:
            cv2.ellipse(pixels, (x, y), (int(rng.integers(5, 60)), int(rng.integers(5, 60))),
                        float(rng.integers(180)), 0, 360, colour, -1)
        elif kind == 1:
            cv2.rectangle(pixels, (x, y), (x + int(rng.integers(5, 80)), y + int(rng.integers(5, 80))), colour, -1)
        else:
            cv2.line(pixels, (x, y), (int(rng.integers(0, width)), int(rng.integers(0, height))), colour,
                     int(rng.integers(1, 6)))
    return pixels


def jpeg(pixels: np.ndarray, quality: int = 90) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return data.tobytes()


def in_an_app(pixels: np.ndarray) -> np.ndarray:
    """A phone screenshot of a picture in an app with plenty of text around it (a status bar, a
    title, counts, comments, a navigation bar): the same around every picture."""
    canvas = np.full((1170, 540, 3), 255, np.uint8)
    canvas[:45] = 30
    cv2.putText(canvas, "12:34   5G  87%", (20, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    cv2.putText(canvas, "r/pics - u/someone - 5h", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (60, 60, 60), 2)
    cv2.putText(canvas, "Look what I found today", (20, 150), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2)
    canvas[190:190 + 324, 54:54 + 432] = cv2.resize(pixels, (432, 324), interpolation=cv2.INTER_AREA)
    lines = ("123 upvotes  45 comments  Share", "top comment: this is a repost", "reply: no it is not",
             "reply: I saw it yesterday", "another comment with words", "Sort by: best")
    for n, line in enumerate(lines):
        cv2.putText(canvas, line, (20, 600 + 70 * n), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (40, 40, 40), 2)
    canvas[1100:] = 235
    for n in range(4):
        cv2.circle(canvas, (70 + 133 * n, 1135), 20, (80, 80, 80), 3)
    return canvas


def on_a_blurred_pad(pixels: np.ndarray, aspect: float, moved_up: float = 0.0, caption: str = "") -> np.ndarray:
    """The picture in the middle of a canvas of width / height `aspect` (9 / 16: a phone story)
    that it fills on one axis, the rest a blurred, darkened, enlarged copy of itself; optionally
    moved up by `moved_up` of the canvas's height, with a `caption` in white on the pad under it."""
    height, width = pixels.shape[:2]
    canvas_width, canvas_height = (width, round(width / aspect)) if width / height > aspect \
        else (round(height * aspect), height)
    scale = max(canvas_width / width, canvas_height / height)
    enlarged = cv2.resize(pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_LINEAR)
    top, left = (enlarged.shape[0] - canvas_height) // 2, (enlarged.shape[1] - canvas_width) // 2
    canvas = enlarged[top:top + canvas_height, left:left + canvas_width]
    canvas = (cv2.GaussianBlur(canvas, (0, 0), max(canvas_width, canvas_height) / 40) * 0.7).astype(np.uint8)
    top, left = pasted_top(canvas_height, height, moved_up), (canvas_width - width) // 2
    canvas[top:top + height, left:left + width] = pixels
    if caption:
        scale = canvas_width / 600
        cv2.putText(canvas, caption, (canvas_width // 10, min(canvas_height - 10, top + height + round(60 * scale))),
                    cv2.FONT_HERSHEY_SIMPLEX, 1.5 * scale, (255, 255, 255), max(1, round(3 * scale)), cv2.LINE_AA)
    return canvas


def out_of_focus_above(pixels: np.ndarray, share: float) -> np.ndarray:
    """The picture with its top `share` strongly blurred (a shallow depth of field), its sharp
    part near the bottom."""
    blurred = cv2.GaussianBlur(pixels, (0, 0), pixels.shape[0] / 30)
    edge = round(share * pixels.shape[0])
    return np.concatenate([blurred[:edge], pixels[edge:]])


def pasted_top(canvas_height: int, height: int, moved_up: float = 0.0) -> int:
    """Where on_a_blurred_pad puts the top of the picture."""
    return min(max((canvas_height - height) // 2 - round(moved_up * canvas_height), 0), canvas_height - height)


def smooth_picture(seed: int, width: int = 640, height: int = 480) -> np.ndarray:
    """A picture with few features for ORB: smooth colour at one scale and three discs."""
    rng = np.random.default_rng(seed)
    pixels = cv2.resize(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8), (width, height),
                        interpolation=cv2.INTER_CUBIC)
    for _ in range(3):
        centre = (int(rng.integers(width // 6, width * 5 // 6)), int(rng.integers(height // 5, height * 4 // 5)))
        cv2.circle(pixels, centre, int(rng.integers(height // 16, height * 3 // 16)),
                   tuple(int(c) for c in rng.integers(0, 256, 3)), -1, cv2.LINE_AA)
    return pixels


def detail_on_a_plain_ground(seed: int, width: int = 640, height: int = 480, share: float = 0.4) -> np.ndarray:
    """A picture that is mostly a plain ground, a faint smooth tint over it (its rows and columns
    uniform), with a photo-like detail `share` of its size off its middle (a logo on a plain
    wallpaper): an archived copy keeps its whole frame, a crop that loses a corner of the ground
    has the detail as its content box."""
    rng = np.random.default_rng(seed)
    tint = cv2.resize(rng.uniform(0, 8, (3, 4)), (width, height), interpolation=cv2.INTER_CUBIC) + 90
    pixels = np.clip(tint[:, :, None] * np.array([0.6, 1.0, 0.7]) + rng.integers(0, 60, 3), 0, 255).astype(np.uint8)
    top, left, detail = round(0.45 * height), round(0.45 * width), (round(share * width), round(share * height))
    pixels[top:top + detail[1], left:left + detail[0]] = cv2.resize(picture(seed), detail, interpolation=cv2.INTER_AREA)
    return pixels


def turned_on_a_canvas(pixels: np.ndarray, degrees: float, fill: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The picture turned `degrees` anticlockwise as an editor turns it, the canvas grown to hold
    all of it and the corners it uncovers filled with `fill`; and where the picture's corners
    went (4×2, x and y in the canvas: top left, top right, bottom right, bottom left)."""
    height, width = pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    grown = (round(width * cos + height * sin), round(width * sin + height * cos))
    matrix[:, 2] += ((grown[0] - width) / 2, (grown[1] - height) / 2)
    canvas = cv2.warpAffine(pixels, matrix, grown, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=fill)
    corners = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1]], dtype=np.float64) @ matrix.T
    return canvas, corners


def vignetted(pixels: np.ndarray, strength: float) -> np.ndarray:
    """The picture darkened towards its corners as a photo filter's vignette darkens it: times
    exp(−strength · r²), r the distance from its middle (1 at the middle of each side)."""
    height, width = pixels.shape[:2]
    down = (np.arange(height) - (height - 1) / 2) / (height / 2)
    across = (np.arange(width) - (width - 1) / 2) / (width / 2)
    falloff = np.exp(-strength * (down[:, None] ** 2 + across[None, :] ** 2))
    return np.clip(pixels * falloff[:, :, None], 0, 255).astype(np.uint8)
