"""Region fingerprints: dhashes of parts of a picture, so a cropped, captioned, letterboxed or
screenshotted copy still meets its original.

Both sides work on the 512×512 RGB render (common.fingerprint.SIZE, the whole frame squashed to
a square), so a rectangle here is a share of the picture's height and width:

* the content box (`content_box`): the tallest run of rows that are not uniform, then within it
  the widest run of columns that are not, then the rows again within those columns. A uniform
  row or column (spread between its 5th and 95th percentile of brightness below UNIFORM) is a
  border, a bar, a letterbox, the white of a screenshot around its picture, or the gap between
  a caption and the picture; what is left is the picture itself, on the query and on the
  archived image alike. Where uniform rows and columns leave no box (a flat picture), those of
  another brightness than the frame's uniform edges are picture.
* archived images (`archive_dhashes`): the dhash of the content box and of WINDOWS inside it,
  the ones a cropped copy shows (5, 10 and 15 % cut from every side, 15 % from one side, the
  middle square at the picture's true aspect ratio); a crop is of the whole file, so its
  window is what the crop keeps of the content box (`archived_window`);
* queries (`query_dhashes`): the dhash of the content box (`query_boxes`; and of the whole
  frame when the box is not all of it, and of the picture with its own plain sides kept inside
  a border, `framed_picture`), each also mirrored; the sides of the content box when it is
  two pictures put side by side or stacked (a before/after collage, `collage_sides`), each a
  picture of its own; the content box turned a quarter either way (`turned_dhashes`); a
  picture tilted on a plain canvas, made upright (common.tilt), and mirrored;
  and, asked for when those find no match, the content box (and the whole frame and the
  framed picture, where searched) with 15 % cut from two opposite sides, or cut to what a copy
  cropped from a corner (by 5, 8, 11 or 14 %) keeps of its original's 15 % window, and the
  bands of the content box that may be a picture on a blurred copy of itself
  (common.pad_bands), each also mirrored (`inner_dhashes`).

A region's dhash is 192 bits of brightness alone (`region_dhash`: horizontal and vertical
differences between cells and cells against their median), so grey, desaturated and recoloured
copies keep it; it has the seed dhash's width, so the region index is an ordinary dhash index
over (image, window) keys. All of an image's regions come from one integral image. Archived images get theirs from the
thumbnail Coco stores (an existing archive is upgraded from it), rendered to 512×512 first.
"""
from __future__ import annotations

import functools
from typing import Callable

import cv2
import numpy as np

SIZE = 512
SCAN = 256  # the content box is looked for on a SCAN×SCAN grey reduction (area means)
UNIFORM = 10.0  # brightness spread (p95 − p5, of 255) below which a row or column is uniform
# A uniform row or column this much brighter or darker (of 255) than the uniform first and last
# lines of the frame is a flat part of the picture, not more of the border around it.
BORDER_STEP = 24.0
# A content box thinner than this share of the frame is not trusted: an archived picture is
# mostly itself, a query may be a phone screenshot whose picture is a fifth of its height.
ARCHIVE_SHARE, QUERY_SHARE = 0.5, 0.12
Cut = tuple[float, float, float, float]  # (top, bottom, left, right) shares cut from a box
# The middle square of the content box at the picture's true aspect ratio (its longer side cut
# evenly to the shorter, `centre_square`): what a copy cropped square for a feed shows.
CENTRE_SQUARE = "centre square"
# The archived windows, in key order: cuts from the content box, then its centre square
WINDOWS: tuple[Cut | str, ...] = (
    (0.0, 0.0, 0.0, 0.0),
    (0.05, 0.05, 0.05, 0.05),
    (0.10, 0.10, 0.10, 0.10),
    (0.15, 0.15, 0.15, 0.15),
    (0.15, 0.0, 0.0, 0.0),
    (0.0, 0.15, 0.0, 0.0),
    (0.0, 0.0, 0.15, 0.0),
    (0.0, 0.0, 0.0, 0.15),
    CENTRE_SQUARE,
)
Box = tuple[int, int, int, int]  # top, bottom, left, right (bottom and right exclusive)
# A seam between two pictures put together: a column (or row) of the content box, within
# SEAM_SPAN of its width (height), across which the brightness steps, in the median row, by
# SEAM_CONTRAST (of 255) more than across the columns SEAM_GAP either side of it (a picture's
# own edges step about as much there: texture, or an edge that crosses only some rows), or
# where one colour channel steps by COLOUR_SEAM times that (two pictures of one brightness).
SEAM_SPAN = (0.2, 0.8)
SEAM_CONTRAST = 12.0
SEAM_GAP = 3
COLOUR_SEAM = 2.0
# Two pictures put together with a uniform gutter between them: the content box is the larger,
# the other (`gutter_side`) is searched too when it is at least this share of the frame.
GUTTER_SIDE = 0.25


def square(pixels: np.ndarray) -> np.ndarray:
    """Any RGB image (e.g. a decoded thumbnail) squashed to the SIZE×SIZE render regions use."""
    if pixels.shape[:2] == (SIZE, SIZE):
        return pixels
    return cv2.resize(pixels, (SIZE, SIZE), interpolation=cv2.INTER_AREA if min(pixels.shape[:2]) >= SIZE
                      else cv2.INTER_CUBIC)


def _spread(grey: np.ndarray, axis: int) -> np.ndarray:
    """p95 − p5 of each row (axis 1) or column (axis 0), by partial sorts."""
    count = grey.shape[axis]
    low, high = int(0.05 * (count - 1)), int(0.95 * (count - 1))
    ordered = np.partition(grey, (low, high), axis=axis)
    return np.take(ordered, high, axis=axis).astype(np.int16) - np.take(ordered, low, axis=axis)


def longest_run(busy: np.ndarray) -> tuple[int, int]:
    """[start, end) of the longest run of True (the first of equals); (0, 0) if none."""
    padded = np.concatenate(([0], busy.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    if len(edges) == 0:
        return 0, 0
    starts, ends = edges[0::2], edges[1::2]
    best = int(np.argmax(ends - starts))
    return int(starts[best]), int(ends[best])


def scan(pixels: np.ndarray) -> np.ndarray:
    """The SCAN×SCAN grey reduction (area means) boxes are looked for on."""
    return cv2.resize(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), (SCAN, SCAN), interpolation=cv2.INTER_AREA)


def _not_uniform(grey: np.ndarray, axis: int) -> np.ndarray:
    """Which rows (axis 1) or columns (axis 0) are not uniform."""
    return _spread(grey, axis) >= UNIFORM


def _not_border(grey: np.ndarray, axis: int) -> np.ndarray:
    """Which rows (axis 1) or columns (axis 0) are not border: those not uniform, and the
    uniform ones more than BORDER_STEP from the brightness of each end of the frame whose line
    is uniform (a border's colour)."""
    uniform = ~_not_uniform(grey, axis)
    level = grey.mean(axis=axis)
    ends = level[[end for end in (0, -1) if uniform[end]]]
    bordering = (np.abs(level[:, None] - ends[None, :]) <= BORDER_STEP).any(axis=1)
    return ~(uniform & bordering)


def _box(grey: np.ndarray, least: float, busy: Callable[[np.ndarray, int], np.ndarray]) -> Box | None:
    """The tallest run of `busy` rows, then within it the widest run of busy columns, then the
    rows again within those columns (on the SCAN grey `grey`); None when thinner than `least`."""
    height, width = grey.shape
    top, bottom = longest_run(busy(grey, 1))
    if bottom - top < least * height:
        return None
    left, right = longest_run(busy(grey[top:bottom], 0))
    if right - left < least * width:
        return None
    again_top, again_bottom = longest_run(busy(grey[top:bottom, left:right], 1))
    if again_bottom - again_top >= least * height:
        top, bottom = top + again_top, top + again_bottom
    return top, bottom, left, right


def content_box(pixels: np.ndarray, least: float = QUERY_SHARE, grey: np.ndarray | None = None) -> Box:
    """The picture inside borders, bars and screenshot chrome (module docstring); the whole
    frame when the box found is thinner than `least` of the frame. A box too thin by uniform
    rows and columns is looked for again by `_not_border`: a flat picture (a night sky, a
    drawing) has uniform rows and columns of its own, which make no box at all, but inside a
    border of another brightness those are picture. Where the first way finds a box, the
    second is not asked: an archived picture's own flat margins are cut by the first, and its
    copy's must be too. `grey`: the `scan` of `pixels`, if already made."""
    grey = scan(pixels) if grey is None else grey
    box = _box(grey, least, _not_uniform) or _box(grey, least, _not_border)
    if box is None:
        return 0, pixels.shape[0], 0, pixels.shape[1]
    return _rendered(box, pixels)


def _rendered(box: Box, pixels: np.ndarray) -> Box:
    """A box found on the SCAN grey reduction, in the pixels of `pixels`."""
    scale = pixels.shape[0] / SCAN
    return tuple(round(edge * scale) for edge in box)


def framed_picture(pixels: np.ndarray, least: float = QUERY_SHARE, grey: np.ndarray | None = None) -> Box | None:
    """The picture inside a border with its own uniform rows and columns kept where they are of
    another brightness than the border (`_not_border`); None when thinner than `least`. The
    content box trims a plain side of a flat picture along with the border around it, which
    an archived copy, without the border, may have kept. `grey`: as content_box's."""
    box = _box(scan(pixels) if grey is None else grey, least, _not_border)
    return None if box is None else _rendered(box, pixels)


def _runs(busy: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], busy.astype(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def gutter_side(grey: np.ndarray, box: Box) -> list[Box]:
    """The other picture where `box` (the content box, on the SCAN grey `grey`) is one of two put
    side by side (or else stacked) with a uniform gutter between them: the longest other run of
    columns (rows) that are not uniform, at least GUTTER_SIDE of the frame, trimmed as
    content_box trims; none if there is no such run."""
    top, bottom, left, right = box
    beside = [run for run in _runs(_spread(grey[top:bottom], 0) >= UNIFORM)
              if run[1] - run[0] >= GUTTER_SIDE * SCAN and (run[1] <= left or run[0] >= right)]
    if beside:
        start, end = max(beside, key=lambda run: run[1] - run[0])
        again_top, again_bottom = longest_run(_spread(grey[top:bottom, start:end], 1) >= UNIFORM)
        found = (top + again_top, top + again_bottom, start, end)
    else:
        above = [run for run in _runs(_spread(grey[:, left:right], 1) >= UNIFORM)
                 if run[1] - run[0] >= GUTTER_SIDE * SCAN and (run[1] <= top or run[0] >= bottom)]
        if not above:
            return []
        start, end = max(above, key=lambda run: run[1] - run[0])
        again_left, again_right = longest_run(_spread(grey[start:end, left:right], 0) >= UNIFORM)
        found = (start, end, left + again_left, left + again_right)
    return [found] if min(found[1] - found[0], found[3] - found[2]) >= GUTTER_SIDE * SCAN else []


def centre_square(box: Box, aspect: float) -> Cut:
    """The cut leaving the middle square of `box` (in the SIZE×SIZE render) of a picture whose
    true width / height is `aspect`."""
    top, bottom, left, right = box
    shape = aspect * (right - left) / max(bottom - top, 1)  # the box's true width / height
    if shape >= 1:
        cut = (1 - 1 / shape) / 2
        return 0.0, 0.0, cut, cut
    cut = (1 - shape) / 2
    return cut, cut, 0.0, 0.0


def window(box: Box, cut: Cut) -> Box:
    top, bottom, left, right = box
    height, width = bottom - top, right - left
    return (top + round(cut[0] * height), bottom - round(cut[1] * height),
            left + round(cut[2] * width), right - round(cut[3] * width))


def cell_edges(starts: np.ndarray, stops: np.ndarray, cells: int) -> np.ndarray:
    """For each [start, stop), a row of `cells` + 1 integer edges splitting it as evenly as
    rounding allows."""
    return np.round(np.linspace(starts, stops, cells + 1, axis=1)).astype(np.intp)


def _means(integral: np.ndarray, boxes: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """boxes × rows × columns: the mean brightness of each box's cells (`cell_edges`)."""
    down, across = cell_edges(boxes[:, 0], boxes[:, 1], rows), cell_edges(boxes[:, 2], boxes[:, 3], columns)
    corners = integral[down[:, :, None], across[:, None, :]]
    sums = corners[:, 1:, 1:] - corners[:, :-1, 1:] - corners[:, 1:, :-1] + corners[:, :-1, :-1]
    return sums / np.maximum(np.diff(down)[:, :, None] * np.diff(across)[:, None, :], 1)


def region_dhashes(integral: np.ndarray, boxes: list[Box], mirrored: bool = False) -> np.ndarray:
    """len(boxes) × 3 uint64: each box's 192 bits of brightness, from `integral` (cv2.integral
    of the grey pixels): in 8×9 cells, whether each cell's right neighbour is brighter (word 0,
    row by row, most significant bit first); in 9×8 cells, whether the cell below is brighter
    (word 1); in 8×8 cells, whether each is brighter than their median (word 2); optionally of
    the mirrored boxes."""
    cells = _cells(integral, boxes)
    return _bits(*(_mirrored(cells) if mirrored else cells))


def both_ways(integral: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """2 × len(boxes) × 3 uint64: `region_dhashes` of the boxes, then of the boxes mirrored,
    from one reading of their cells."""
    cells = _cells(integral, boxes)
    return np.concatenate([_bits(*cells), _bits(*_mirrored(cells))])


def _cells(integral: np.ndarray, boxes: list[Box]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The boxes' 8×9, 9×8 and 8×8 cell means (`region_dhashes`)."""
    boxes = np.asarray(boxes, dtype=np.intp).reshape(-1, 4)
    return _means(integral, boxes, 8, 9), _means(integral, boxes, 9, 8), _means(integral, boxes, 8, 8)


def _mirrored(cells: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return tuple(means[:, :, ::-1] for means in cells)


def region_dhash(integral: np.ndarray, box: Box, mirrored: bool = False) -> np.ndarray:
    """3 uint64: one box's `region_dhashes`."""
    return region_dhashes(integral, [box], mirrored)[0]


def turned_dhashes(integral: np.ndarray, box: Box) -> np.ndarray:
    """2 × 3 uint64: `region_dhash` of the box turned a quarter clockwise, then anticlockwise
    (a copy posted on its side meets its archived windows upright)."""
    boxes = np.asarray([box], dtype=np.intp)
    tall, wide, square_cells = (_means(integral, boxes, 9, 8)[0], _means(integral, boxes, 8, 9)[0],
                                _means(integral, boxes, 8, 8)[0])
    clockwise = (tall[::-1].T, wide[::-1].T, square_cells[::-1].T)
    anticlockwise = (tall[:, ::-1].T, wide[:, ::-1].T, square_cells[:, ::-1].T)
    return _bits(*(np.stack(turns) for turns in zip(clockwise, anticlockwise)))


def _bits(across: np.ndarray, down: np.ndarray, square_cells: np.ndarray) -> np.ndarray:
    """n × 3 words of region_dhashes from n boxes' 8×9, 9×8 and 8×8 cell means."""
    count = len(across)
    median = np.median(square_cells.reshape(count, -1), axis=1)[:, None, None]
    bits = np.stack([(across[:, :, 1:] > across[:, :, :-1]).reshape(count, -1),
                     (down[:, 1:] > down[:, :-1]).reshape(count, -1),
                     (square_cells > median).reshape(count, -1)], axis=1)
    return np.ascontiguousarray(np.packbits(bits, axis=2)).view(">u8").astype(np.uint64).reshape(count, 3)


def _integral(pixels: np.ndarray) -> np.ndarray:
    return cv2.integral(cv2.cvtColor(square(pixels), cv2.COLOR_RGB2GRAY)).astype(np.int64)


def archive_dhashes(pixels: np.ndarray) -> np.ndarray:
    """len(WINDOWS) × 3 uint64: the dhash of each window of an archived image's content box
    (`pixels` at the picture's true aspect ratio, a thumbnail say)."""
    aspect = pixels.shape[1] / pixels.shape[0]
    pixels = square(pixels)
    box, integral = content_box(pixels, ARCHIVE_SHARE), _integral(pixels)
    regions = [window(box, centre_square(box, aspect)) if cut is CENTRE_SQUARE else archived_window(box, cut)
               for cut in WINDOWS]
    return region_dhashes(integral, regions)


def archived_window(box: Box, cut: Cut) -> Box:
    """The window `cut` of an archived image whose content box is `box`: what of the box a copy
    cropped by `cut` from the whole frame keeps, as the copy's own content box loses what is
    left of the plain margins the archived box lost (a sky, a studio backdrop). Where the cut
    keeps all of the box, it is taken of the box instead: the archived file may be a picture in
    a border, the copy a crop of the picture."""
    top, bottom, left, right = window((0, SIZE, 0, SIZE), cut)
    kept = (max(top, box[0]), min(bottom, box[1]), max(left, box[2]), min(right, box[3]))
    return window(box, cut) if kept == box else kept


def query_boxes(pixels: np.ndarray, grey: np.ndarray | None = None) -> list[Box]:
    """The regions a query is searched by: the whole frame, then its picture with its plain sides
    kept inside a border (`framed_picture`), each only where it differs from the content box,
    which comes last. An archived copy of the query would have kept its whole frame where the
    box is thinner than ARCHIVE_SHARE; and a crop's box can lose more than its original's did
    (the crop can leave a side of a flat picture uniform, which the original's box kept for
    what lay beyond the cut). `grey`: the `scan` of the SIZE×SIZE `pixels`, if already made."""
    whole = (0, SIZE, 0, SIZE)
    pixels = square(pixels)
    grey = scan(pixels) if grey is None else grey
    box = content_box(pixels, QUERY_SHARE, grey)
    if box == whole:
        return [box]
    picture = framed_picture(pixels, QUERY_SHARE, grey)
    return [whole] + ([picture] if picture not in (None, box, whole) else []) + [box]


def seam_contrasts(lines: np.ndarray) -> np.ndarray:
    """Per column of `lines` (a box's brightness, or its colour channels along a third axis): by
    how much it steps across the column, in the median row, more than across the columns
    SEAM_GAP either side of it (0 where there are no such columns); in colour, a pixel's step is
    its largest channel's. A seam, where two pictures meet, steps by SEAM_CONTRAST or more in
    brightness (COLOUR_SEAM times that in a colour channel)."""
    rows, width = lines.shape[:2]
    contrasts = np.zeros(width)
    if width < 4 * SEAM_GAP + 2 or rows == 0:
        return contrasts
    values = lines.astype(np.int16)
    steps = np.abs(values[:, 2:] - values[:, :-2])  # across column x + 1
    if steps.ndim == 3:  # the largest channel's, one channel at a time (numpy's max over a short last axis is slow)
        steps = functools.reduce(np.maximum, [steps[:, :, channel] for channel in range(steps.shape[2])])
    steps = np.sort(steps, axis=0)
    step = (steps[(rows - 1) // 2] + steps[rows // 2]) / 2  # the median row's (np.median is slower down columns)
    contrasts[SEAM_GAP + 1:width - SEAM_GAP - 1] = (step[SEAM_GAP:-SEAM_GAP]
                                                    - np.maximum(step[:-2 * SEAM_GAP], step[2 * SEAM_GAP:]))
    return contrasts


def _seam(grey: np.ndarray, colour: np.ndarray) -> tuple[int, float]:
    """The column of a box (`grey`, its brightness, and `colour`, its RGB) most likely to be where
    two pictures side by side meet, within SEAM_SPAN, and its contrast (`seam_contrasts`, in
    brightness; a colour step counts for 1 / COLOUR_SEAM of it: pictures of one brightness meet
    in a change of hue)."""
    width = grey.shape[1]
    low, high = max(0, round(SEAM_SPAN[0] * width) - SEAM_GAP - 1), round(SEAM_SPAN[1] * width) - SEAM_GAP - 1
    if width < 4 * SEAM_GAP + 2 or high <= low:
        return 0, 0.0
    contrasts = np.maximum(seam_contrasts(grey), seam_contrasts(colour) / COLOUR_SEAM)
    best = low + SEAM_GAP + 1 + int(np.argmax(contrasts[low + SEAM_GAP + 1:high + SEAM_GAP + 1]))
    return best, float(contrasts[best])


def collage_sides(pixels: np.ndarray, box: Box, grey: np.ndarray | None = None) -> list[Box]:
    """The pictures of a collage: the two sides of `box` where it holds two pictures put side by
    side or stacked, meeting at a seam (`_seam`; the stronger of the two ways), else the other
    picture across a uniform gutter from it (`gutter_side`); none for a single picture. `grey`:
    as query_boxes'."""
    pixels = square(pixels)
    grey = scan(pixels) if grey is None else grey
    colour = cv2.resize(pixels, (SCAN, SCAN), interpolation=cv2.INTER_AREA)
    scale = SIZE / SCAN
    top, bottom, left, right = (round(edge / scale) for edge in box)
    inside, inside_colour = grey[top:bottom, left:right], colour[top:bottom, left:right]
    across, sideways = _seam(inside, inside_colour)
    down, upright = _seam(inside.T, inside_colour.transpose(1, 0, 2))
    if max(sideways, upright) >= SEAM_CONTRAST:
        if sideways >= upright:
            sides = [(top, bottom, left, left + across), (top, bottom, left + across, right)]
        else:
            sides = [(top, top + down, left, right), (top + down, bottom, left, right)]
    else:
        sides = gutter_side(grey, (top, bottom, left, right))
    return [tuple(round(edge * scale) for edge in side) for side in sides]


# The archived window every cut of INNER aims at: INNER_KEPT cut from every side of the content box.
INNER_KEPT = 0.15
# A copy cropped from a corner is taken to have lost one of CORNER_CROPS of its original from one
# end of each axis (the top and the left, say); each one's cuts serve crops a point and a half
# either way (a region dhash loses 15–45 bits when its window is 3 % off).
CORNER_CROPS = (0.05, 0.08, 0.11, 0.14)


def corner_cuts(crop: float, kept: float = INNER_KEPT) -> tuple[Cut, ...]:
    """The cuts of a copy cropped `crop` from one end of each axis that leave its original's
    window with `kept` cut from every side: (kept − crop) / (1 − crop) from the cropped end,
    kept / (1 − crop) from the other; one per corner."""
    near, far = (kept - crop) / (1 - crop), kept / (1 - crop)
    ends = ((near, far), (far, near))
    return tuple((top, bottom, left, right) for top, bottom in ends for left, right in ends)


# Cut from a query's boxes for the second look (visual.inner_hits). A copy cropped on one
# axis only (a landscape photo from its top and bottom, say; one cut to a square meets the centre
# square) shows the middle of its original's width or height whole, which then meets the archived
# INNER_KEPT window once the other axis is cut the same (the first two). A copy cropped from a
# corner meets that window through its corner's cut (`corner_cuts`).
INNER = ((INNER_KEPT, INNER_KEPT, 0.0, 0.0), (0.0, 0.0, INNER_KEPT, INNER_KEPT)) + tuple(
    cut for crop in CORNER_CROPS for cut in corner_cuts(crop))
AXIS_CUTS = 2  # INNER's first two; the corner cuts after them are looked up among INNER_WINDOW windows alone
INNER_WINDOW = WINDOWS.index((INNER_KEPT,) * 4)  # that window's key


def inner_dhashes(pixels: np.ndarray, boxes: list[Box], bands: list[Box] = ()) -> np.ndarray:
    """(2 × (len(INNER) × len(boxes) + len(bands))) × 3 uint64: the region dhash of each INNER
    window of each of a query's `boxes` (query_boxes': its content box, and its whole frame and
    framed picture where searched), then of each of `bands` (common.pad_bands); then all of them
    mirrored (a mirrored copy)."""
    integral = _integral(pixels)
    return both_ways(integral, [window(box, cut) for box in boxes for cut in INNER] + list(bands))


def query_dhashes(pixels: np.ndarray, boxes: list[Box], sides: list[Box] = (), turned: Box | None = None,
                  upright: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(dhashes, mirrored flags), a row each: each of `boxes` direct, then each mirrored; then
    each of `sides` (a collage's, `collage_sides`) direct; then, if `turned` is given, that box
    turned a quarter either way (`turned_dhashes`); then, if `upright` is given (a tilted
    picture made upright, common.tilt), all of it, direct and mirrored (visual.py searches the
    mirrored one only when the direct one met nothing near)."""
    integral = _integral(pixels)
    words = [*both_ways(integral, boxes), *(region_dhashes(integral, sides) if sides else [])]
    flags = [mirrored for mirrored in (False, True) for _ in boxes] + [False] * len(sides)
    if turned is not None:
        words += list(turned_dhashes(integral, turned))
        flags += [False, False]
    if upright is not None:
        words += list(both_ways(_integral(upright), [(0, upright.shape[0], 0, upright.shape[1])]))
        flags += [False, True]
    return np.stack(words), np.array(flags)
