"""A picture turned a few degrees on a plain canvas, and the same picture made upright again.

An editor that rotates a picture by a few degrees usually grows the canvas to hold all of it and
fills the corners it uncovers with one colour (white, black, transparent): the picture is then a
tilted rectangle on that colour, and neither its content box nor its whole frame is the picture
its original's windows hold. `tilted_corners` finds the four corners of that rectangle on the
512×512 render (where the rectangle is a parallelogram: the render squashes the frame to a
square) and `straightened` maps them back onto the whole render, the picture upright and
squashed as an archived picture is.

The picture is the largest outline around pixels unlike the fill, the fill being the colour
the frame's four corners share; its convex hull must reduce to four sides (a corner of the
picture that is the fill's colour cuts it short: the sides are extended to meet) that it
fills, and its edges must lean by at least MIN_TILT (an upright picture on a plain canvas, a
letterbox say, is the content box's business). The fill must be plain (`_plain_fill`): a
canvas's corners are one colour, and where a small turn leaves the picture's edge in them, the
frame outside the picture is that colour; the dark corners of a vignette, which a photo filter
darkens towards black, are picture still, and an outline drawn around its bright middle is no
picture's.
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
SOLID = 0.9  # the share of its four corners' quadrilateral the picture's convex hull must fill
MIN_TILT, MAX_TILT = 0.5, 45.0  # degrees, the mean lean of the quadrilateral's edges
# A corner of the picture lost in the fill (the picture is that colour there) cuts it short:
# up to MAX_CUT corners, each cut by an edge at most CUT_EDGE of the picture's shortest side.
MAX_CUT, CUT_EDGE = 2, 0.5
OUTSIDE = 0.1  # of the frame's width and height: how far beyond it sides extended so may meet
# of 255: how far the corner patches' pixels may stray from their colour, JPEG's noise on a plain
# fill; else the median step from the fill of the frame outside the picture (PLAIN_MARGIN px off
# its edges, where the picture's edge blurs into the fill)
FILL_NOISE, PLAIN_FILL, PLAIN_MARGIN = 4, 10.0, 3


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
    if cv2.contourArea(outline) < LEAST_SHARE * unlike.size:
        return None
    hull = cv2.convexHull(outline)
    polygon = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float64)
    corners = _quadrilateral(polygon)
    if corners is None or cv2.contourArea(hull) < SOLID * cv2.contourArea(corners):
        return None
    frame = np.array(unlike.shape[::-1], dtype=np.float32)  # width, height
    if (corners < -OUTSIDE * frame).any() or (corners > (1 + OUTSIDE) * frame).any():
        return None
    corners = _in_order(corners)
    if not MIN_TILT <= _lean(corners, pixels.shape, size) <= MAX_TILT or not _plain_fill(pixels, corners, fill):
        return None
    return corners


def _quadrilateral(polygon: np.ndarray) -> np.ndarray | None:
    """The four corners of a convex polygon that is a quadrilateral, or one with corners cut
    short (where the picture is the fill's colour at a corner: a white sky on white): the
    meeting points of its four longest edges, the others being at most CUT_EDGE of the
    shortest of those."""
    if not 4 <= len(polygon) <= 4 + MAX_CUT:
        return None
    ends = np.roll(polygon, -1, axis=0)
    lengths = np.hypot(*(ends - polygon).T)
    sides = np.sort(np.argsort(lengths)[-4:])
    if len(polygon) > 4 and np.delete(lengths, sides).max() > CUT_EDGE * lengths[sides].min():
        return None
    corners = [_meeting(polygon[a], ends[a], polygon[b], ends[b]) for a, b in zip(np.roll(sides, 1), sides)]
    if any(corner is None for corner in corners):
        return None
    return np.array(corners, dtype=np.float32)


def _meeting(start: np.ndarray, stop: np.ndarray, other_start: np.ndarray, other_stop: np.ndarray) -> np.ndarray | None:
    """Where the line through start and stop meets the line through the other two (None if
    they are nearly parallel)."""
    direction, other = stop - start, other_stop - other_start
    across = direction[0] * other[1] - direction[1] * other[0]
    if abs(across) < 1e-6 * np.hypot(*direction) * np.hypot(*other):
        return None
    along = ((other_start - start)[0] * other[1] - (other_start - start)[1] * other[0]) / across
    return start + along * direction


def straightened(pixels: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The picture within `corners` (`tilted_corners`) mapped onto a render of the same size."""
    height, width = pixels.shape[:2]
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    return cv2.warpPerspective(pixels, cv2.getPerspectiveTransform(corners, target), (width, height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _corner_colours(pixels: np.ndarray) -> np.ndarray:
    """The pixels of the frame's four CORNER × CORNER corner patches, n × 3."""
    patches = [pixels[:CORNER, :CORNER], pixels[:CORNER, -CORNER:], pixels[-CORNER:, :CORNER],
               pixels[-CORNER:, -CORNER:]]
    return np.concatenate([patch.reshape(-1, 3) for patch in patches])


def _fill(pixels: np.ndarray) -> np.ndarray | None:
    """The colour the frame's four corner patches share, if they do."""
    colours = _corner_colours(pixels).astype(np.int16)
    fill = np.median(colours, axis=0)
    return fill if np.abs(colours - fill).max() <= FILL_STEP else None


def _plain_fill(pixels: np.ndarray, corners: np.ndarray, fill: np.ndarray) -> bool:
    """Whether the fill is one colour: the frame's corner patches within FILL_NOISE of it, or
    else the frame outside the quadrilateral `corners` (PLAIN_MARGIN px off its edges) the fill
    colour but for the odd pixel (a caption's letters); true where nothing is left of it to tell."""
    if np.abs(_corner_colours(pixels).astype(np.int16) - fill).max() <= FILL_NOISE:
        return True
    picture = np.zeros(pixels.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(picture, np.round(corners).astype(np.int32), 255)
    side = 2 * PLAIN_MARGIN + 1
    outside = cv2.erode(cv2.bitwise_not(picture), np.ones((side, side), dtype=np.uint8)) > 0
    if not outside.any():
        return True
    steps = np.abs(pixels[outside].astype(np.int16) - fill.astype(np.int16)).max(axis=1)
    return float(np.median(steps)) <= PLAIN_FILL


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
