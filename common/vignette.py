"""A picture darkened towards its corners (a vignette, as photo filters add one), and the same
picture with that darkening divided out again.

A vignette multiplies a picture by a falloff that is 1 in its middle and drops towards its
corners. The region dhash (brightness differences between cells, and cells against their
median: common.regions) loses the bits where the picture's own differences are smaller than the
falloff's, most of them in a picture of sky, grass or water. `devignetted` looks for the falloff
in a box of the 512×512 render (visual.py gives it the content box: a caption added after the
filter is not darkened):

* the box's corners must be darker than the box further in along their diagonals (natural log of
  brightness): all four by DARK_CORNERS, or three by DARKER_CORNERS while the fourth is no
  brighter than LIGHT_CORNER (the picture's own light, a lamp or a patch of sky, may hold out in
  one corner under the falloff). A corner clearly brighter than the inside says the darkness of
  the others is the picture's own, and black corners are the fill of a canvas the picture was
  turned on;
* the falloff is fitted to the log brightness of CELLS × CELLS cells of the box as a + b·r² + c·r⁴
  (r: the distance from the box's middle, 1 at the middle of its sides), by least squares
  reweighted so that cells far off the fit (the picture's own light and dark) count less;
* where the fit darkens (b·r² + c·r⁴ < 0), it is divided out of the box's pixels.

The fit is no better than a guess at the original's brightness: the dhash of the result is
searched beside the query's own, never instead of it.
"""
from __future__ import annotations

import cv2
import numpy as np

from common.regions import Box

CELLS = 32
CORNER_CELLS = 4  # the corner patch, and the patch further in along its diagonal, in cells
INNER_AT = 8  # where along the diagonal the inner patch starts, in cells from the corner
# log brightness: all four corners this much darker (about 18 %), or three this much darker
# (about 26 %) and the fourth at most this much brighter (about 10 %)
DARK_CORNERS, DARKER_CORNERS, LIGHT_CORNER = 0.2, 0.3, 0.1
FIT_ROUNDS = 4
OFFSET = 4.0  # added to brightness (of 255) before its log: black stays finite
BLACK = 2.0  # of 255: corner cells this dark are a canvas's fill (`_black_corners`)
GAIN_GRID = 64  # the falloff is computed on this grid and enlarged to the box (it is smooth)


def log_cells(pixels: np.ndarray) -> np.ndarray:
    """The natural log of the pixels' brightness (plus OFFSET) in CELLS × CELLS cells."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    cells = cv2.resize(grey, (CELLS, CELLS), interpolation=cv2.INTER_AREA).astype(np.float64)
    return np.log(cells + OFFSET)


def corner_steps(cells: np.ndarray) -> np.ndarray:
    """How much brighter (log brightness) each of the four corner patches of these cells is than
    the patch further in along its diagonal (negative: darker), least bright first."""
    steps = []
    for rows in (cells, cells[::-1]):
        for turned in (rows, rows[:, ::-1]):
            corner = turned[:CORNER_CELLS, :CORNER_CELLS].mean()
            inner = turned[INNER_AT:INNER_AT + CORNER_CELLS, INNER_AT:INNER_AT + CORNER_CELLS].mean()
            steps.append(corner - inner)
    return np.sort(steps)


def darkened_corners(cells: np.ndarray) -> bool:
    """Whether these cells' corners are darkened as a vignette darkens them: all four by
    DARK_CORNERS, or three by DARKER_CORNERS and the fourth brighter by LIGHT_CORNER at most."""
    steps = corner_steps(cells)
    return bool(steps[3] <= -DARK_CORNERS or (steps[2] <= -DARKER_CORNERS and steps[3] <= LIGHT_CORNER))


def _black_corners(cells: np.ndarray) -> bool:
    """Whether the outermost cells of two corners or more are black: the fill a picture turned
    on its canvas leaves there, which no division brightens (a vignette keeps some of the
    picture in its corners)."""
    return int((cells[[0, 0, -1, -1], [0, -1, 0, -1]] < np.log(BLACK + OFFSET)).sum()) >= 2


def _radii(height: int, width: int) -> np.ndarray:
    down = (np.arange(height) + 0.5) / height * 2 - 1
    across = (np.arange(width) + 0.5) / width * 2 - 1
    return np.sqrt(down[:, None] ** 2 + across[None, :] ** 2)


def falloff_terms(cells: np.ndarray) -> tuple[float, float]:
    """(b, c) of the fit a + b·r² + c·r⁴ to these log brightness cells, robustly reweighted."""
    radii = _radii(*cells.shape).ravel()
    terms = np.stack([np.ones_like(radii), radii ** 2, radii ** 4], axis=1)
    values = cells.ravel()
    weights = np.ones_like(values)
    for _ in range(FIT_ROUNDS):
        fit, *_ = np.linalg.lstsq(terms * weights[:, None], values * weights, rcond=None)
        residuals = np.abs(values - terms @ fit)
        scale = 1.5 * np.median(residuals) + 1e-6
        weights = np.sqrt(1.0 / np.maximum(1.0, residuals / scale))
    return float(fit[1]), float(fit[2])


def devignetted(pixels: np.ndarray, box: Box) -> np.ndarray | None:
    """A copy of the render `pixels` with the falloff fitted to `box` divided out of it, or None
    when the box's corners are not `darkened_corners`, or are black (no vignette to undo)."""
    top, bottom, left, right = box
    inside = pixels[top:bottom, left:right]
    if min(inside.shape[:2]) < CELLS:
        return None
    cells = log_cells(inside)
    if not darkened_corners(cells) or _black_corners(cells):
        return None
    b, c = falloff_terms(cells)
    radii = _radii(GAIN_GRID, GAIN_GRID)
    gain = np.exp(-np.minimum(b * radii ** 2 + c * radii ** 4, 0.0)).astype(np.float32)
    gain = cv2.resize(gain, (inside.shape[1], inside.shape[0]), interpolation=cv2.INTER_LINEAR)
    lifted = pixels.copy()
    lifted[top:bottom, left:right] = cv2.multiply(inside, cv2.merge([gain] * 3), dtype=cv2.CV_8U)  # saturating
    return lifted
