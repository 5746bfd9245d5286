"""A picture turned a few degrees on a grown plain canvas is found and made upright; pictures
that are not tilted on a plain canvas are left alone."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from common import regions, tilt
from common.fingerprint import fingerprint_rendered
from common.tilt import straightened, tilted_corners
from tests.photos import jpeg, picture, turned_on_a_canvas, vignetted

WHOLE = (0, regions.SIZE, 0, regions.SIZE)


def _render(pixels: np.ndarray) -> tuple[np.ndarray, tuple[int, int]]:
    """The query's 512×512 render and displayed size, as the search makes them from an upload."""
    seed, small = fingerprint_rendered(jpeg(pixels), query=True)
    return small, (seed.width, seed.height)


def _dhash(pixels: np.ndarray) -> np.ndarray:
    return regions.region_dhash(regions._integral(pixels), WHOLE)


def _bits(first: np.ndarray, second: np.ndarray) -> int:
    return int(np.bitwise_count(first ^ second).sum())


@pytest.mark.parametrize("degrees, fill", [(5, (255, 255, 255)), (-3, (0, 0, 0)), (10, (255, 255, 255)),
                                           (-7, (30, 60, 200))])
def test_a_picture_turned_on_a_grown_canvas_is_made_upright(degrees: float, fill: tuple[int, int, int]) -> None:
    original = picture(7)
    canvas, truth = turned_on_a_canvas(original, degrees, fill)
    render, size = _render(canvas)
    corners = tilted_corners(render, size)
    assert corners is not None
    expected = truth * (regions.SIZE / canvas.shape[1], regions.SIZE / canvas.shape[0])
    assert np.abs(corners - expected).max() <= 4, (corners, expected)  # px of 512, in order from the top left
    upright = straightened(render, corners)
    archived = _dhash(_render(original)[0])
    assert _bits(_dhash(upright), archived) <= 8
    assert _bits(_dhash(render), archived) > 32  # the tilted frame itself is beyond the region search


@pytest.mark.parametrize("corners_white", [1, 2])
def test_corners_of_the_fill_colour_are_found_where_the_sides_meet(corners_white: int) -> None:
    """A picture white at one corner (or two), turned on white: its outline has the corner cut
    off, and the sides around it, extended, meet where the corner was."""
    original = picture(7)
    height, width = original.shape[:2]
    original[height * 3 // 4:, width * 3 // 4:] = 255
    if corners_white == 2:
        original[:height // 4, :width // 4] = 255
    canvas, truth = turned_on_a_canvas(original, 6, (255, 255, 255))
    render, size = _render(canvas)
    corners = tilted_corners(render, size)
    assert corners is not None
    expected = truth * (regions.SIZE / canvas.shape[1], regions.SIZE / canvas.shape[0])
    assert np.abs(corners - expected).max() <= 6, (corners, expected)


def _letterboxed(pixels: np.ndarray) -> np.ndarray:
    return cv2.copyMakeBorder(pixels, 0, 0, 107, 107, cv2.BORDER_CONSTANT, value=(0, 0, 0))


def _small_and_tilted(pixels: np.ndarray) -> np.ndarray:
    canvas, _ = turned_on_a_canvas(cv2.resize(pixels, (160, 120)), 5, (255, 255, 255))
    return cv2.copyMakeBorder(canvas, 200, 200, 260, 260, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def _corners_not_alike(pixels: np.ndarray) -> np.ndarray:
    canvas, _ = turned_on_a_canvas(pixels, 5, (255, 255, 255))
    canvas[:20, :20] = (0, 0, 0)
    return canvas


@pytest.mark.parametrize("edit", [lambda p: p, _letterboxed, _small_and_tilted, _corners_not_alike,
                                  lambda p: turned_on_a_canvas(p, 0.2, (255, 255, 255))[0]],
                         ids=["upright", "letterboxed", "small on the canvas", "corners unlike", "turned 0.2°"])
def test_no_tilted_picture_where_there_is_none(edit) -> None:
    render, size = _render(edit(picture(7)))
    assert tilted_corners(render, size) is None


def test_the_dark_corners_of_a_vignette_are_no_canvas(monkeypatch) -> None:
    """A strong vignette darkens the corners towards black, and the outline around the bright
    middle may reduce to a leaning quadrilateral: but outside it is picture, darkened, not a
    plain fill. (Without that test, some of these are taken for tilted pictures.)"""
    renders = [_render(vignetted(picture(9000 + n), 0.9)) for n in range(8)]
    assert all(tilted_corners(render, size) is None for render, size in renders)
    monkeypatch.setattr(tilt, "FILL_NOISE", 255)
    assert any(tilted_corners(render, size) is not None for render, size in renders)


@pytest.mark.parametrize("fill", [(255, 255, 255), (0, 0, 0), (30, 60, 200)])
def test_a_small_turn_saved_heavily_is_found_by_its_plain_surroundings(monkeypatch, fill) -> None:
    """Turned 1.5° and saved at JPEG quality 30: the thin corners the turn uncovers carry the
    compression's ringing off the picture's edge, so the corner patches stray from one colour;
    the frame outside the picture is still the fill, and the tilted picture is found (not when
    the surroundings are not counted)."""
    canvas, truth = turned_on_a_canvas(picture(7), 1.5, fill)
    seed, render = fingerprint_rendered(jpeg(canvas, 30), query=True)
    size = (seed.width, seed.height)
    assert np.abs(tilt._corner_colours(render).astype(int) - tilt._fill(render)).max() > tilt.FILL_NOISE
    corners = tilted_corners(render, size)
    assert corners is not None
    expected = truth * (regions.SIZE / canvas.shape[1], regions.SIZE / canvas.shape[0])
    assert np.abs(corners - expected).max() <= 6, (corners, expected)
    monkeypatch.setattr(tilt, "PLAIN_FILL", -1.0)
    assert tilted_corners(render, size) is None
