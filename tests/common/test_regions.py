"""Region fingerprints: the content box finds the picture inside bars, borders, letterboxes and
screenshots; region dhashes are the seed's layout; archived windows meet cropped copies."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from booru.func.similarity.region_index import NEAR_RADIUS
from common import pad_bands, regions
from common.regions import (CENTRE_SQUARE, SIZE, WINDOWS, archive_dhashes, content_box, query_boxes, query_dhashes,
                            region_dhash)
from tests.photos import on_a_blurred_pad, out_of_focus_above, pasted_top, picture


def _share(box: tuple[int, int, int, int], height: int, width: int) -> tuple[float, ...]:
    top, bottom, left, right = box
    return top / SIZE * height, bottom / SIZE * height, left / SIZE * width, right / SIZE * width


def _framed(inner: np.ndarray, top: int, bottom: int, left: int, right: int, colour: int) -> np.ndarray:
    return cv2.copyMakeBorder(inner, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(colour,) * 3)


@pytest.mark.parametrize("top, bottom, left, right, colour", [
    (120, 0, 0, 0, 255),  # a caption bar's white
    (80, 80, 0, 0, 0),  # bars above and below
    (0, 0, 200, 200, 0),  # pillarbox
    (40, 40, 40, 40, 235),  # a border
])
def test_content_box_is_the_picture_inside_uniform_bars(top: int, bottom: int, left: int, right: int,
                                                         colour: int) -> None:
    inner = picture(1)
    framed = _framed(inner, top, bottom, left, right, colour)
    height, width = framed.shape[:2]
    found = _share(content_box(regions.square(framed)), height, width)
    expected = (top, top + inner.shape[0], left, left + inner.shape[1])
    assert np.allclose(found, expected, atol=0.01 * max(height, width) + 2)


def _flat_picture() -> np.ndarray:
    """A dark, mostly flat picture (a night sky, say): its rows and columns are uniform but for
    a few lit shapes."""
    flat = np.full((480, 640, 3), (10, 12, 40), np.uint8)
    cv2.circle(flat, (150, 140), 30, (90, 120, 160), -1)
    cv2.rectangle(flat, (420, 300), (470, 330), (70, 90, 60), -1)
    return flat


@pytest.mark.parametrize("top, bottom, left, right, colour", [
    (40, 40, 40, 40, 235),  # a light border
    (0, 0, 200, 200, 255),  # on white, as a screenshot shows it
])
def test_content_box_of_a_flat_picture_is_inside_its_border(top: int, bottom: int, left: int, right: int,
                                                            colour: int) -> None:
    """The flat picture's uniform rows and columns are of another brightness than the border,
    so they are picture, not more border."""
    inner = _flat_picture()
    framed = _framed(inner, top, bottom, left, right, colour)
    height, width = framed.shape[:2]
    found = _share(content_box(regions.square(framed)), height, width)
    expected = (top, top + inner.shape[0], left, left + inner.shape[1])
    assert np.allclose(found, expected, atol=0.01 * max(height, width) + 2)


def test_a_flat_picture_without_a_border_keeps_its_box() -> None:
    """Unframed, the flat picture's own dark rows and columns at its edges set the background: its
    box is what it was before borders were told apart by brightness (the archived side of the
    query above, which verification then meets at the scale it expects)."""
    flat = regions.square(_flat_picture())
    assert content_box(flat, regions.ARCHIVE_SHARE) == (0, SIZE, 0, SIZE)


def test_content_box_of_a_screenshot_with_text_and_icons() -> None:
    canvas = np.full((2340, 1080, 3), 255, np.uint8)
    canvas[:90] = 30
    cv2.putText(canvas, "12:34", (40, 70), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    cv2.putText(canvas, "Look what I found", (40, 320), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 3)
    canvas[380:380 + 648, 108:108 + 864] = cv2.resize(picture(2), (864, 648))
    cv2.circle(canvas, (100, 1100), 35, (90, 90, 90), 6)
    canvas[2200:] = 245
    found = _share(content_box(regions.square(canvas)), 2340, 1080)
    assert np.allclose(found, (380, 1028, 108, 972), atol=0.01 * 2340 + 2)


def test_a_picture_without_bars_is_its_own_content_box() -> None:
    assert content_box(regions.square(picture(3))) == (0, SIZE, 0, SIZE)
    assert query_boxes(picture(3)) == [(0, SIZE, 0, SIZE)]


def _cell_means(grey: np.ndarray, box: tuple[int, int, int, int], rows: int, columns: int) -> np.ndarray:
    top, bottom, left, right = box
    down = [round(top + (bottom - top) * n / rows) for n in range(rows + 1)]
    across = [round(left + (right - left) * n / columns) for n in range(columns + 1)]
    return np.array([[grey[down[r]:down[r + 1], across[c]:across[c + 1]].mean() for c in range(columns)]
                     for r in range(rows)])


def _word(bits: list[bool]) -> int:
    return sum(int(bit) << (63 - n) for n, bit in enumerate(bits))


def _expected_words(grey: np.ndarray, box: tuple[int, int, int, int]) -> list[int]:
    across, down, cells = _cell_means(grey, box, 8, 9), _cell_means(grey, box, 9, 8), _cell_means(grey, box, 8, 8)
    return [_word([across[r, c + 1] > across[r, c] for r in range(8) for c in range(8)]),
            _word([down[r + 1, c] > down[r, c] for r in range(8) for c in range(8)]),
            _word([cells[r, c] > np.median(cells) for r in range(8) for c in range(8)])]


@pytest.mark.parametrize("box", [(0, 512, 0, 512), (37, 401, 113, 490)])
def test_region_dhash_bits(box: tuple[int, int, int, int]) -> None:
    """Word 0: in 8×9 cells, the right neighbour brighter, row by row, most significant bit
    first; word 1: in 9×8 cells, the cell below brighter; word 2: 8×8 cells above their median."""
    pixels = regions.square(picture(4))
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(float)
    integral = regions._integral(pixels)
    assert [int(w) for w in region_dhash(integral, box)] == _expected_words(grey, box)
    flipped = regions._integral(np.ascontiguousarray(pixels[:, ::-1]))
    assert np.array_equal(region_dhash(integral, (0, 512, 0, 512), mirrored=True),
                          region_dhash(flipped, (0, 512, 0, 512)))


def test_a_grey_copy_keeps_its_region_dhash() -> None:
    pixels = picture(7)
    grey = cv2.cvtColor(cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    assert _bits(archive_dhashes(pixels)[0], archive_dhashes(grey)[0]) <= 2


def _bits(first: np.ndarray, second: np.ndarray) -> int:
    return int(np.bitwise_count(np.asarray(first) ^ np.asarray(second)).sum())


def _crop_of(cut: tuple[float, float, float, float] | str, height: int, width: int) -> tuple[int, int, int, int]:
    """The window's rows and columns in a picture without borders (its content box is whole)."""
    if cut == CENTRE_SQUARE:  # the middle square, cut from the longer side
        side = min(height, width)
        return (height - side) // 2, (height + side) // 2, (width - side) // 2, (width + side) // 2
    return (round(cut[0] * height), height - round(cut[1] * height),
            round(cut[2] * width), width - round(cut[3] * width))


@pytest.mark.parametrize("turned", [False, True], ids=["landscape", "portrait"])
@pytest.mark.parametrize("cut", WINDOWS)
def test_a_cropped_copy_meets_its_archived_window(cut: tuple[float, float, float, float] | str,
                                                  turned: bool) -> None:
    original = np.ascontiguousarray(np.rot90(picture(5))) if turned else picture(5)
    height, width = original.shape[:2]
    top, bottom, left, right = _crop_of(cut, height, width)
    stored = archive_dhashes(original)
    words, _ = query_dhashes(original[top:bottom, left:right], query_boxes(original[top:bottom, left:right]))
    nearest = min(range(len(WINDOWS)), key=lambda n: _bits(stored[n], words[0]))
    assert nearest == WINDOWS.index(cut)
    assert _bits(stored[nearest], words[0]) <= 12
    others = archive_dhashes(picture(6))
    assert min(_bits(w, words[0]) for w in others) > 40


def _nearest_window(stored: np.ndarray, copy: np.ndarray) -> tuple[int, int]:
    """The archived window nearest the copy's content box, and its distance in bits."""
    boxes = query_boxes(copy)
    words, _ = query_dhashes(copy, boxes)
    distances = [_bits(words[len(boxes) - 1], window) for window in stored]
    return int(np.argmin(distances)), min(distances)


@pytest.mark.parametrize("cut", [cut for cut in WINDOWS if cut != CENTRE_SQUARE and any(cut)])
def test_a_crop_of_a_picture_under_a_plain_sky_meets_its_archived_window(cut: tuple[float, ...]) -> None:
    """The archived content box leaves out the plain sky (its rows are uniform); a copy cropped
    from the whole file keeps some of the sky, which its own content box leaves out as well."""
    original = picture(5)
    height, width = original.shape[:2]
    original[:round(0.3 * height)] = (150, 190, 230)
    top, bottom, left, right = _crop_of(cut, height, width)
    window, distance = _nearest_window(archive_dhashes(original), original[top:bottom, left:right])
    assert distance <= 12
    assert window == (0 if cut == (0.15, 0.0, 0.0, 0.0) else WINDOWS.index(cut))  # a cut of the sky alone: the box


@pytest.mark.parametrize("cut", [(0.1, 0.1, 0.1, 0.1), (0.0, 0.15, 0.0, 0.0)])
def test_a_crop_of_a_picture_archived_in_a_border_meets_its_archived_window(cut: tuple[float, ...]) -> None:
    """Archived in a border wider than the cut (the cut of the whole file keeps all of the
    picture), the window is cut from the picture itself: a copy cropped from the picture
    meets it."""
    inner = picture(5)
    height, width = inner.shape[:2]
    archived = _framed(inner, height // 3, height // 3, width // 3, width // 3, 235)
    top, bottom, left, right = _crop_of(cut, height, width)
    window, distance = _nearest_window(archive_dhashes(archived), inner[top:bottom, left:right])
    assert window == WINDOWS.index(cut) and distance <= 12


@pytest.mark.parametrize("top, bottom, left, right", [
    (120, 0, 0, 0),  # a caption: the box is most of the frame
    (80, 80, 0, 0),
    (0, 0, 200, 200),
    (700, 700, 0, 0),  # the picture is a small part of a tall frame, as in a screenshot
    (0, 0, 900, 900),
])
def test_a_query_with_bars_searches_its_content_box_and_its_whole_frame(top: int, bottom: int, left: int,
                                                                        right: int) -> None:
    framed = regions.square(_framed(picture(1), top, bottom, left, right, 255))
    boxes = query_boxes(framed)
    assert boxes == [(0, SIZE, 0, SIZE), content_box(framed, regions.QUERY_SHARE)]
    # the box an archived copy of this very image would keep: the query's own box, or the frame
    assert content_box(framed, regions.ARCHIVE_SHARE) in boxes


def test_a_crop_that_leaves_a_side_of_a_flat_picture_uniform_meets_its_original_by_its_frame() -> None:
    """The original's left part is plain but for a band along its top, so its columns are not
    uniform and its box is whole; the crop cuts the band off, and its own box loses the left
    part. Its whole frame still meets the original's window."""
    original = regions.square(picture(5))
    original[:, :180] = (120, 140, 90)
    original[:40, :180] = (30, 30, 30)
    assert content_box(original, regions.ARCHIVE_SHARE) == (0, SIZE, 0, SIZE)
    cut = (0.15, 0.15, 0.15, 0.15)
    top, bottom, left, right = _crop_of(cut, SIZE, SIZE)
    copy = original[top:bottom, left:right]
    boxes = query_boxes(copy)
    assert boxes[-1][2] > 0.1 * SIZE  # the copy's box lost the plain left part
    words, _ = query_dhashes(copy, boxes)
    stored = archive_dhashes(original)[WINDOWS.index(cut)]
    assert _bits(words[0], stored) <= 8 and _bits(words[1], stored) > 24


@pytest.mark.parametrize("top, bottom, left, right", [(0, 0, 300, 300), (200, 200, 60, 60)])
def test_a_flat_picture_in_a_white_border_is_searched_with_its_plain_side(top: int, bottom: int, left: int,
                                                                        right: int) -> None:
    """Most of the picture is a plain dark side, so its archived box is its whole frame (the
    textured part is less than half of it). On white, the content box trims the plain side with
    the border; the framed picture keeps it and meets the archived box."""
    original = picture(5)
    original[:, :400] = (40, 50, 70)
    assert content_box(regions.square(original), regions.ARCHIVE_SHARE) == (0, SIZE, 0, SIZE)
    copy = regions.square(_framed(original, top, bottom, left, right, 255))
    boxes = query_boxes(copy)
    assert len(boxes) == 3 and boxes[0] == (0, SIZE, 0, SIZE) and boxes[1] == regions.framed_picture(copy)
    words, _ = query_dhashes(copy, boxes)
    stored = archive_dhashes(original)[0]
    assert _bits(words[1], stored) <= 20  # the plain side's cells, all alike, flip a few median bits
    assert _bits(words[0], stored) > NEAR_RADIUS and _bits(words[2], stored) > NEAR_RADIUS


@pytest.mark.parametrize("first, second", [(picture(7), picture(8)), (picture(7), picture(8, 360, 480))])
def test_the_sides_of_two_pictures_put_together_are_found_at_their_seam(first: np.ndarray, second: np.ndarray) -> None:
    """Side by side (a before/after post, of equal or unequal widths) or stacked; each side is
    searched as a picture of its own and meets that picture's archived box."""
    height = first.shape[0]
    second = cv2.resize(second, (round(second.shape[1] * height / second.shape[0]), height))
    beside = regions.square(np.hstack([first, second]))
    seam = round(first.shape[1] / (first.shape[1] + second.shape[1]) * SIZE)
    sides = regions.collage_sides(beside, (0, SIZE, 0, SIZE))
    assert len(sides) == 2 and abs(sides[0][3] - seam) <= 2 and sides[0][3] == sides[1][2]
    words, flags = query_dhashes(beside, [(0, SIZE, 0, SIZE)], sides)
    assert len(words) == 4 and not flags[2:].any()
    assert _bits(words[2], archive_dhashes(first)[0]) <= 12
    assert _bits(words[3], archive_dhashes(second)[0]) <= 12
    stacked = regions.square(np.vstack([first, cv2.resize(second, (first.shape[1], height))]))
    sides = regions.collage_sides(stacked, (0, SIZE, 0, SIZE))
    assert len(sides) == 2 and sides[0][:2] == (0, sides[1][0]) and abs(sides[1][0] - SIZE // 2) <= 2
    assert sides[1][1] == SIZE and all(side[2:] == (0, SIZE) for side in sides)


def test_two_pictures_of_one_brightness_meet_at_a_seam_of_colour(monkeypatch) -> None:
    """A picture beside its mirror image in opposite hues (YCrCb's chroma reflected): the
    brightness runs on across the seam, so only its colour steps there."""
    for seed in (7, 8, 9):
        left = picture(seed)
        mirror = cv2.cvtColor(np.ascontiguousarray(left[:, ::-1]), cv2.COLOR_RGB2YCrCb)
        mirror[:, :, 1:] = 255 - mirror[:, :, 1:]
        beside = regions.square(np.hstack([left, cv2.cvtColor(mirror, cv2.COLOR_YCrCb2RGB)]))
        sides = regions.collage_sides(beside, (0, SIZE, 0, SIZE))
        assert len(sides) == 2 and abs(sides[0][3] - SIZE // 2) <= 2 and sides[0][3] == sides[1][2], seed
        monkeypatch.setattr(regions, "COLOUR_SEAM", float("inf"))
        assert regions.collage_sides(beside, (0, SIZE, 0, SIZE)) == [], seed
        monkeypatch.undo()


def test_a_single_picture_has_no_seam() -> None:
    for seed in range(20, 40):
        assert regions.collage_sides(regions.square(picture(seed)), (0, SIZE, 0, SIZE)) == [], seed


def test_a_picture_turned_on_its_side_meets_its_upright_dhash() -> None:
    original = picture(9)
    stored = archive_dhashes(original)[0]
    for turn in (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_90_CLOCKWISE):
        turned = regions.square(cv2.rotate(original, turn))
        words, flags = query_dhashes(turned, [(0, SIZE, 0, SIZE)], turned=(0, SIZE, 0, SIZE))
        assert len(words) == 4 and not flags[2:].any()
        assert _bits(words[0], stored) > 60  # upright, the turned picture is another picture
        assert min(_bits(words[2], stored), _bits(words[3], stored)) <= 8


def test_the_other_picture_across_a_gutter_is_found() -> None:
    """Two pictures with a white gutter between them: the content box is the wider, the other
    is its collage side; bars, borders and captions around one picture have no other side."""
    gutter = np.full((360, 24, 3), 255, np.uint8)
    pair = regions.square(np.hstack([cv2.resize(picture(7), (480, 360)), gutter, cv2.resize(picture(8), (640, 360))]))
    box = content_box(pair)
    (other,) = regions.collage_sides(pair, box)
    width = 480 + 24 + 640
    assert np.allclose(_share(box, 360, width)[2:], (504, width), atol=0.01 * width + 2)
    assert np.allclose(_share(other, 360, width), (0, 360, 0, 480), atol=0.01 * width + 2)
    stacked = regions.square(np.vstack([picture(7), np.full((24, 640, 3), 255, np.uint8), picture(8)]))
    (other,) = regions.collage_sides(stacked, content_box(stacked))
    assert abs(other[1] - other[0] - SIZE * 480 // 984) <= 4 and other[2:] == (0, SIZE)
    for top, bottom, left, right in ((120, 0, 0, 0), (80, 80, 0, 0), (0, 0, 200, 200), (40, 40, 40, 40)):
        framed = regions.square(_framed(picture(1), top, bottom, left, right, 255))
        assert regions.collage_sides(framed, content_box(framed)) == []


@pytest.mark.parametrize("aspect, turned", [(9 / 16, False), (16 / 9, True), (1.0, False)])
def test_a_picture_on_a_blurred_copy_of_itself_is_a_band_of_its_frame(aspect: float, turned: bool) -> None:
    """The blurred pad is not uniform, so the content box keeps it; the picture (4:3, or 3:4
    turned on its side) is one of the centred bands pad_bands gives, and its region dhash meets
    the original's. A picture of its own, on no pad, has no band."""
    original = picture(12)
    if turned:
        original = np.ascontiguousarray(np.rot90(original))
    padded = on_a_blurred_pad(original, aspect)
    height, width = padded.shape[:2]
    render = regions.square(padded)
    box = content_box(render)
    assert box == (0, SIZE, 0, SIZE)
    bands = pad_bands.pad_bands(render, [(box, width / height)])
    top, left = (height - original.shape[0]) / 2, (width - original.shape[1]) / 2
    where = (top, height - top, left, width - left)
    placed = [band for band in bands if np.allclose(_share(band, height, width), where, atol=0.01 * max(height, width))]
    assert placed, bands  # by its aspect ratio, and between its edges where the pad steps from it (a seam)
    words, _ = query_dhashes(render, placed)
    assert max(_bits(word, archive_dhashes(original)[0]) for word in words[:len(placed)]) <= 8
    for seed in range(20, 30):
        alone = picture(seed)
        assert pad_bands.pad_bands(regions.square(alone), [((0, SIZE, 0, SIZE), alone.shape[1] / alone.shape[0])]) == []


@pytest.mark.parametrize("caption", ["", "wait for the end"])
def test_a_picture_moved_up_its_blurred_pad_is_a_band_where_it_lies(monkeypatch, caption: str) -> None:
    """A story whose picture was moved up by 12 % of the canvas (with text on the pad under it,
    or not): one band given is cut around the frame's sharpest stretch, where the picture lies,
    and its region dhash meets the original's. The centred bands alone miss it. (The band between
    the picture's edges, `_seam_band`, is left out here: below.)"""
    monkeypatch.setattr(pad_bands, "_seam_band", lambda grey: (0, 0))
    original = picture(12)
    padded = on_a_blurred_pad(original, 9 / 16, moved_up=0.12, caption=caption)
    height, width = padded.shape[:2]
    render = regions.square(padded)
    box = content_box(render)
    top = pasted_top(height, original.shape[0], 0.12)
    assert top < (height - original.shape[0]) / 2 - 0.1 * height
    where = (top, top + original.shape[0], 0, width)
    assert _one_band_meets(original, render, box, where, padded.shape)
    monkeypatch.setattr(pad_bands, "PAD_SHIFT", float("inf"))
    assert _placed(render, box, where, padded.shape) == []


def _placed(render: np.ndarray, box: tuple[int, int, int, int], where: tuple[float, ...],
            shape: tuple[int, ...]) -> list:
    """The bands pad_bands gives for the box that lie `where` (in the padded picture of `shape`)."""
    height, width = shape[:2]
    bands = pad_bands.pad_bands(render, [(box, width / height)])
    return [band for band in bands if np.allclose(_share(band, height, width), where, atol=0.01 * height)]


def _one_band_meets(original: np.ndarray, render: np.ndarray, box: tuple[int, int, int, int],
                    where: tuple[float, ...], shape: tuple[int, ...]) -> bool:
    """One band lies `where`, and its region dhash is within 8 bits of the original's."""
    placed = _placed(render, box, where, shape)
    if len(placed) != 1:
        return False
    words, _ = query_dhashes(render, placed)
    return _bits(words[0], archive_dhashes(original)[0]) <= 8


@pytest.mark.parametrize("seed", [13, 14, 15])
@pytest.mark.parametrize("aspect, moved_up", [(9 / 16, 0.12), (1.0, 0.05)])
def test_a_picture_sharp_off_its_middle_is_the_band_between_its_edges(monkeypatch, seed: int, aspect: float,
                                                                     moved_up: float) -> None:
    """A picture in focus only near its bottom (the rest a shallow depth of field's blur) on a
    darkened blurred pad, moved up or not: its sharpest stretch is not its middle, but its top
    and bottom edges are seams across the frame, and the band between them is the picture
    (its region dhash meets the original's). Without that band, none given is the picture."""
    original = out_of_focus_above(picture(seed), 0.7)
    padded = on_a_blurred_pad(original, aspect, moved_up=moved_up)
    height, width = padded.shape[:2]
    render = regions.square(padded)
    box = content_box(render)
    top = pasted_top(height, original.shape[0], moved_up)
    where = (top, top + original.shape[0], 0, width)
    assert _one_band_meets(original, render, box, where, padded.shape)
    monkeypatch.setattr(pad_bands, "_seam_band", lambda grey: (0, 0))
    assert _placed(render, box, where, padded.shape) == []


@pytest.mark.parametrize("rows", [1, 2, 7, 40])
@pytest.mark.parametrize("channels", [(), (3,)])
def test_seam_contrasts_are_the_median_rows_step_beyond_its_neighbours(rows: int, channels: tuple[int, ...]) -> None:
    """Column by column, the median row's step across the column (in colour, each pixel's
    largest channel step) less the larger of the steps SEAM_GAP columns either side (0 where
    those columns are missing), computed here directly."""
    rng = np.random.default_rng(rows)
    lines = rng.integers(0, 256, (rows, 60) + channels).astype(np.uint8)
    lines[:, 30:] //= 3  # one strong seam
    values = lines.astype(float).reshape(rows, 60, -1)

    def step(x: int) -> float:
        return float(np.median([max(abs(a - b) for a, b in zip(values[row, x + 1], values[row, x - 1]))
                                for row in range(rows)]))

    gap = regions.SEAM_GAP
    expected = [step(x) - max(step(x - gap), step(x + gap)) if gap + 1 <= x < 60 - gap - 1 else 0.0
                for x in range(60)]
    assert regions.seam_contrasts(lines).tolist() == expected


def test_many_boxes_hash_at_once_as_each_alone() -> None:
    """region_dhashes of several boxes of different shapes (one a thin strip, one small): each
    row is the box's own bits."""
    pixels = regions.square(picture(9))
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY).astype(float)
    boxes = [(0, 512, 0, 512), (37, 401, 113, 490), (200, 230, 0, 512), (500, 512, 3, 20)]
    found = regions.region_dhashes(regions._integral(pixels), boxes)
    assert [[int(w) for w in row] for row in found] == [_expected_words(grey, box) for box in boxes]
