"""A picture turned a few degrees on a plain canvas, and the same picture made upright again.

An editor that rotates a picture by a few degrees usually grows the canvas to hold all of it and
fills the corners it uncovers with one colour (white, black, transparent): the picture is then a
tilted rectangle on that colour, and neither its content box nor its whole frame is the picture
its original's windows hold. `tilted_corners` finds the four corners of that rectangle on the
512×512 render (where the rectangle is a parallelogram: the render squashes the frame to a
square) and `straightened` maps them back onto the whole render, the picture upright and
squashed as an archived picture is.

The picture is the largest outline around pixels unlike the fill, the fill being the colour
the frame's four corners share; its convex hull must reduce to four corners that it fills, and its edges must lean by at least MIN_TILT (an upright picture on a plain canvas, a
letterbox say, is the content box's business).
"""
from __future__ import annotations

import math

import cv2
import numpy as np

CORNER = 6  # px of the 512×512 render: the patch at each corner of the frame that must be fill
# of 255: a pixel this far from the fill colour in any channel is picture (JPEG noise on a plain
# fill stays well under it)
FILL_STEP = 24.0
LEAST_SHARE = 0.3  # of the frame: a smaller picture is not looked for
SOLID = 0.9  # the share of its four corners' quadrilateral the picture must fill
MIN_TILT, MAX_TILT = 0.5, 45.0  # degrees, the mean lean of the quadrilateral's edges


def tilted_corners(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray | None:
    """The corners (4×2 float32, x and y in the render: top left, top right, bottom right,
    bottom left) of a tilted picture on a plain canvas in `pixels` (the RGB render of an image
    of displayed `size`), or None."""
    fill = _fill(pixels)
    if fill is None:
        return None
    low, high = np.clip(fill - FILL_STEP, 0, 255), np.clip(fill + FILL_STEP, 0, 255)
    unlike = cv2.bitwise_not(cv2.inRange(pixels, low, high))
    contours, _ = cv2.findContours(unlike, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    outline = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(outline)
    if area < LEAST_SHARE * unlike.size:
        return None
    hull = cv2.convexHull(outline)
    corners = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float32)
    if len(corners) != 4 or area < SOLID * cv2.contourArea(corners):
        return None
    corners = _in_order(corners)
    return corners if MIN_TILT <= _lean(corners, pixels.shape, size) <= MAX_TILT else None


def straightened(pixels: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The picture within `corners` (`tilted_corners`) mapped onto a render of the same size."""
    height, width = pixels.shape[:2]
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    return cv2.warpPerspective(pixels, cv2.getPerspectiveTransform(corners, target), (width, height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _fill(pixels: np.ndarray) -> np.ndarray | None:
    """The colour the frame's four corner patches share, if they do."""
    patches = [pixels[:CORNER, :CORNER], pixels[:CORNER, -CORNER:], pixels[-CORNER:, :CORNER],
               pixels[-CORNER:, -CORNER:]]
    colours = np.concatenate([patch.reshape(-1, 3) for patch in patches]).astype(np.int16)
    fill = np.median(colours, axis=0)
    return fill if np.abs(colours - fill).max() <= FILL_STEP else None


def _in_order(corners: np.ndarray) -> np.ndarray:
    """Four corners from the top left one, clockwise on screen (y grows downwards)."""
    centre = corners.mean(axis=0)
    corners = corners[np.argsort(np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0]))]
    return np.roll(corners, -int(np.argmin(corners[:, 0] + corners[:, 1])), axis=0)


def _lean(corners: np.ndarray, shape: tuple[int, ...], size: tuple[int, int]) -> float:
    """The mean angle, in degrees, by which the quadrilateral's edges lean off the nearest axis,
    measured in the image at its displayed `size` (the render squashes it)."""
    scale = np.array([size[0] / shape[1], size[1] / shape[0]])
    true = corners * scale
    leans = []
    for start, stop in zip(true, np.roll(true, -1, axis=0)):
        dx, dy = stop - start
        angle = math.degrees(math.atan2(abs(dy), abs(dx)))
        leans.append(min(angle, 90.0 - angle))
    return float(np.mean(leans))
