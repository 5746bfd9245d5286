"""common.vignette: a falloff towards the corners found, fitted and divided out; none where a
corner is as bright as the inside, or where the corners are a canvas's black fill."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from common import vignette
from common.vignette import CELLS, corner_steps, darkened_corners, devignetted, falloff_terms, log_cells
from tests.photos import picture, turned_on_a_canvas, vignetted


def _cell_radii(cells: int) -> np.ndarray:
    """Each cell centre's distance from the middle, 1 at the middle of a side (the test's own)."""
    centres = np.linspace(-1 + 1 / cells, 1 - 1 / cells, cells)
    return np.hypot(centres[:, None], centres[None, :])


@pytest.mark.parametrize("b, c", [(-0.9, 0.0), (-0.2, -0.5), (0.3, -0.6), (0.0, 0.0)])
def test_the_falloff_fit_recovers_a_known_field_through_outliers(b: float, c: float) -> None:
    """Log brightness a + b·r² + c·r⁴, a tenth of the cells thrown far off it (the picture's own
    light and dark): the reweighted fit still finds b and c."""
    rng = np.random.default_rng(7)
    radii = _cell_radii(CELLS)
    cells = 4.5 + b * radii ** 2 + c * radii ** 4 + rng.normal(0, 0.02, radii.shape)
    off = rng.random(radii.shape) < 0.1
    cells[off] += rng.choice([-1.5, 1.5], int(off.sum()))
    fitted = falloff_terms(cells)
    assert fitted == pytest.approx((b, c), abs=0.08)


def test_corner_steps_are_each_corner_against_its_diagonal_least_bright_first() -> None:
    rng = np.random.default_rng(3)
    cells = rng.normal(4.0, 0.3, (CELLS, CELLS))
    size, inner = vignette.CORNER_CELLS, vignette.INNER_AT
    corners = [(slice(0, size), slice(0, size)), (slice(0, size), slice(CELLS - size, CELLS)),
               (slice(CELLS - size, CELLS), slice(0, size)), (slice(CELLS - size, CELLS), slice(CELLS - size, CELLS))]
    insides = [(slice(inner, inner + size), slice(inner, inner + size)),
               (slice(inner, inner + size), slice(CELLS - inner - size, CELLS - inner)),
               (slice(CELLS - inner - size, CELLS - inner), slice(inner, inner + size)),
               (slice(CELLS - inner - size, CELLS - inner), slice(CELLS - inner - size, CELLS - inner))]
    expected = sorted(cells[corner].mean() - cells[inside].mean() for corner, inside in zip(corners, insides))
    assert corner_steps(cells) == pytest.approx(expected)


def _corners_stepped(steps: list[float]) -> np.ndarray:
    """Flat cells whose four corner patches are `steps` brighter than the rest (negative: darker)."""
    cells = np.full((CELLS, CELLS), 4.0)
    size = vignette.CORNER_CELLS
    for (rows, columns), step in zip([(slice(0, size), slice(0, size)), (slice(0, size), slice(-size, None)),
                                      (slice(-size, None), slice(0, size)), (slice(-size, None), slice(-size, None))],
                                     steps):
        cells[rows, columns] += step
    return cells


@pytest.mark.parametrize("steps, darkened", [
    ([-1.0, -1.0, -1.0, -1.0], True),
    ([-0.25, -0.25, -0.25, -0.25], True),  # all four a little darker
    ([-1.0, -0.5, -0.4, 0.0], True),  # one corner holds its own light (a lamp, sky) under the falloff
    ([-1.0, -1.0, -1.0, 0.5], False),  # one corner clearly brighter than the inside: the darkness is the picture's
    ([-1.0, -1.0, 0.0, 0.0], False),  # two corners as bright as the inside
    ([-1.0, -0.25, -0.25, 0.0], False),  # three corners, two of them too little darker
    ([-0.25, -0.25, -0.25, -0.1], False),  # all four too little darker
])
def test_darkened_corners_are_four_or_three_and_a_fourth_no_brighter(steps: list[float], darkened: bool) -> None:
    assert darkened_corners(_corners_stepped(steps)) == darkened


@pytest.mark.parametrize("seed", [100, 104, 109])
def test_a_vignette_is_divided_out_of_the_box_alone(seed: int) -> None:
    """A picture under a caption bar, darkened towards its corners: within its box the result is
    far nearer the undarkened picture than the query is; the bar is left as it was."""
    original = picture(seed, 512, 412)
    render = np.full((512, 512, 3), 255, dtype=np.uint8)
    render[100:] = vignetted(original, 0.9)
    lifted = devignetted(render, (100, 512, 0, 512))
    assert lifted is not None
    error = lambda pixels: np.abs(pixels[100:].astype(float) - original).mean()  # noqa: E731
    assert error(lifted) < error(render) / 2, (error(lifted), error(render))
    assert (lifted[:100] == 255).all()


def test_no_vignette_is_undone_where_a_corner_is_bright() -> None:
    """The picture's own corners: the fit is not even tried. One bright corner (sky, a lamp) on a
    darkened picture says the same."""
    original = picture(101, 512, 512)
    original[:96, :96] = 250
    assert devignetted(original, (0, 512, 0, 512)) is None
    darkened = vignetted(original, 0.9)
    darkened[:96, :96] = 250
    assert devignetted(darkened, (0, 512, 0, 512)) is None
    assert devignetted(vignetted(picture(101, 512, 512), 0.9), (0, 512, 0, 512)) is not None


def test_the_black_corners_of_a_picture_turned_on_its_canvas_are_no_vignette() -> None:
    """Turned 5° on a black canvas: its corners are darker than its inside, as a vignette's are,
    but black, which no division brightens; a strong vignette keeps some of the picture there."""
    turned = turned_on_a_canvas(picture(102, 512, 512), 5, (0, 0, 0))[0]
    turned = cv2.resize(turned, (512, 512), interpolation=cv2.INTER_AREA)
    assert darkened_corners(log_cells(turned))
    assert devignetted(turned, (0, 512, 0, 512)) is None
    assert devignetted(vignetted(picture(102, 512, 512), 1.5), (0, 512, 0, 512)) is not None
