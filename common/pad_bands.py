"""Pad bands: the bands of a query's content box (or of its whole frame) that may be a picture
posted on a blurred, enlarged copy of itself, which visual's second look searches (their dhashes:
common.regions.inner_dhashes)."""
from __future__ import annotations

import numpy as np

from common.regions import SCAN, SEAM_CONTRAST, SIZE, Box, longest_run, scan, seam_contrasts, window

# A picture posted on a blurred, enlarged copy of itself (a phone story; a video's blurred sides)
# keeps its pad in the content box, which is not uniform. (Where the picture is plain the pad may
# be, and the box cuts into it: visual.py looks for bands in the whole frame too.) The picture is
# a band of that box, centred (or moved: PAD_SHIFT) and spanning its width (or its height), of one
# of PAD_ASPECTS (photos' and screens', a phone's 9:16 and about 1:2 included) or near one: a band
# a little short of the picture meets the archived windows cut from it. Such a band is searched
# when it fills PAD_SHARE of the box and its brightness changes from pixel to pixel PAD_SHARPNESS
# times as much as the pad's on either side of it (`_padded`: the blur leaves the pad smooth).
PAD_ASPECTS = (1 / 2, 9 / 16, 2 / 3, 3 / 4, 4 / 5, 1.0, 5 / 4, 4 / 3, 3 / 2, 16 / 9, 2.0)
PAD_SHARE = (0.3, 0.92)
PAD_SHARPNESS = 3.0
# The picture may be moved up or down (left or right) on its pad: the bands are also cut around
# the middle of the box's sharpest stretch (`_sharp_centre`) when that lies more than PAD_SHIFT of
# the box's length from its middle.
PAD_SHIFT = 0.03
# Where the pad is darkened or the picture's edges are sharp, the picture's two edges are seams
# across the whole box (common.regions.seam_contrasts): the band between the box's strongest
# seam and the strongest one PAD_SHARE of its length from it is searched too (`_seam_band`),
# whatever its aspect ratio and wherever it lies (a story's picture moved up, a picture whose
# sharpest stretch is off its middle).


def pad_bands(pixels: np.ndarray, boxes: list[tuple[Box, float]]) -> list[Box]:
    """The bands of each box of the render `pixels` (given with its true width / height: the
    content box, the whole frame) that may be a picture on a blurred pad of itself, each band
    once."""
    grey = scan(pixels).astype(np.float32)
    changes = np.zeros_like(grey)
    changes[:, 1:] += np.abs(np.diff(grey, axis=1))
    changes[1:] += np.abs(np.diff(grey, axis=0))
    scale = SIZE // SCAN
    found: dict[Box, None] = {}
    for box, aspect in boxes:
        top, bottom, left, right = (edge // scale for edge in box)
        for along, brightness in enumerate((grey[top:bottom, left:right].T, grey[top:bottom, left:right])):
            start, end = _seam_band(brightness)  # between rows (along 0), between columns (1)
            if end > start:
                cut = (start / brightness.shape[1], 1 - end / brightness.shape[1])
                found[window(box, cut + (0.0, 0.0) if along == 0 else (0.0, 0.0) + cut)] = None
        inside = changes[top:bottom, left:right]
        lines = (inside.mean(axis=1), inside.mean(axis=0))  # each line's mean change: down (0), across (1)
        centres = [_sharp_centre(line) for line in lines]
        for band in PAD_ASPECTS:
            share = min(aspect / band, band / aspect)
            if not PAD_SHARE[0] <= share <= PAD_SHARE[1]:
                continue
            along = int(aspect >= band)
            for centre in (0.5, centres[along]) if abs(centres[along] - 0.5) > PAD_SHIFT else (0.5,):
                start = min(max(centre - share / 2, 0.0), 1 - share)
                if _padded(lines[along], start, share):
                    cut = (start, 1 - share - start)
                    found[window(box, cut + (0.0, 0.0) if along == 0 else (0.0, 0.0) + cut)] = None
    return list(found)


def _seam_band(grey: np.ndarray) -> tuple[int, int]:
    """[start, end) columns of `grey` (a box's brightness, or its transpose for rows) between its
    strongest seam and the strongest one PAD_SHARE of its width from it, both reaching
    SEAM_CONTRAST; (0, 0) if there are not two such."""
    contrasts = seam_contrasts(grey)
    width = len(contrasts)
    first = int(np.argmax(contrasts))
    apart = np.abs(np.arange(width) - first)
    reach = (apart >= PAD_SHARE[0] * width) & (apart <= PAD_SHARE[1] * width)
    if contrasts[first] < SEAM_CONTRAST or not reach.any():
        return 0, 0
    second = int(np.flatnonzero(reach)[np.argmax(contrasts[reach])])
    if contrasts[second] < SEAM_CONTRAST:
        return 0, 0
    start, end = sorted(_edge(contrasts, seam) for seam in (first, second))
    return start, end


def _edge(contrasts: np.ndarray, seam: int) -> int:
    """The first column past the edge found at column `seam`: a step between columns e − 1 and e
    lifts the contrast of both (a column's contrast measures the step between its neighbours),
    so the edge lies after `seam` when the column after it is lifted more than the one before
    it, else before it."""
    after = contrasts[seam + 1] if seam + 1 < len(contrasts) else -np.inf
    return seam + int(after >= contrasts[seam - 1])


def _padded(lines: np.ndarray, start: float, share: float) -> bool:
    """Whether the band from `start` over `share` of a box's `lines` (each one's mean change)
    changes PAD_SHARPNESS times as much as the pad on either side of it: the median line of each
    side (a line of text on a story's pad is a few lines)."""
    first, last = round(start * len(lines)), round((start + share) * len(lines))
    sides = [lines[:first], lines[last:]]
    if last <= first or not all(len(side) for side in sides):
        return False
    sharpness = float(lines[first:last].mean())
    return all(sharpness >= PAD_SHARPNESS * float(np.median(side)) for side in sides)


def _sharp_centre(lines: np.ndarray) -> float:
    """Where along a box (a share of its length) the middle of its sharpest stretch lies, from its
    `lines`' mean pixel-to-pixel changes: the longest run of lines changing more than a quarter
    of the way from the smooth lines' level (the 10th percentile) to the sharp ones' (the 90th),
    gaps of up to a fiftieth of the length closed (a story's picture moved up or down from the
    centre, text on its pad apart from it)."""
    if len(lines) < 2:
        return 0.5
    smooth, sharp = np.percentile(lines, (10, 90))
    busy = lines > smooth + (sharp - smooth) / 4
    span = np.ones(2 * max(1, len(lines) // 100) + 1)
    grown = np.convolve(busy, span, "same") > 0
    start, end = longest_run(np.convolve(~grown, span, "same") == 0)  # grown, then shrunk: gaps closed
    return (start + end) / 2 / len(lines) if end > start else 0.5
