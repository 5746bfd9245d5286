"""The visual search finds the original first for each edit class, from archived thumbnails
alone (region dhashes and ORB features computed from them, as Coco stores them), and says
`match` only for pictures it verified."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from booru.func.similarity import visual
from booru.func.similarity.region_index import NEAR_RADIUS, RegionIndex
from booru.func.similarity.verify import features, inliers
from booru.func.similarity.visual import confidence, search_upload
from common import pad_bands, vignette
from common.regions import (INNER_KEPT, INNER_WINDOW, WINDOWS, archive_dhashes, inner_dhashes, query_dhashes,
                            window)
from tests.booru.helpers import with_bits_flipped
from tests.photos import (detail_on_a_plain_ground, in_an_app, jpeg, on_a_blurred_pad, out_of_focus_above, picture,
                          smooth_picture, turned_on_a_canvas, vignetted)

ARCHIVED = 12


def _thumbnail(pixels: np.ndarray) -> np.ndarray:
    height, width = pixels.shape[:2]
    scale = 320 / max(height, width)
    small = cv2.resize(pixels, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    return cv2.imdecode(np.frombuffer(jpeg(small, 85), np.uint8), cv2.IMREAD_COLOR_RGB)


def _archived(pictures: list[np.ndarray]) -> tuple[RegionIndex, dict]:
    """An index of the pictures' thumbnails' windows (ids in order) and their ORB features by id."""
    thumbnails = [_thumbnail(p) for p in pictures]
    index = RegionIndex(np.arange(len(pictures)), np.stack([archive_dhashes(t) for t in thumbnails]))
    return index, {n: features(t) for n, t in enumerate(thumbnails)}


@pytest.fixture(scope="module")
def archive() -> tuple[RegionIndex, dict]:
    return _archived([picture(100 + n) for n in range(ARCHIVED)])


def _rotate(pixels: np.ndarray, degrees: float) -> np.ndarray:
    height, width = pixels.shape[:2]
    return cv2.warpAffine(pixels, cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0), (width, height))


def _screenshot(pixels: np.ndarray) -> np.ndarray:
    canvas = np.full((1170, 540, 3), 255, np.uint8)
    canvas[:45] = 30
    cv2.putText(canvas, "12:34", (20, 32), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2)
    cv2.putText(canvas, "u/someone 5h", (20, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (60, 60, 60), 2)
    canvas[190:190 + 324, 54:54 + 432] = cv2.resize(pixels, (432, 324), interpolation=cv2.INTER_AREA)
    for n in range(4):
        cv2.circle(canvas, (60 + 130 * n, 570), 18, (90, 90, 90), 3)
    canvas[1100:] = 245
    return canvas


def _caption(pixels: np.ndarray) -> np.ndarray:
    bar = np.full((120, pixels.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, "when the repost hits", (20, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (0, 0, 0), 3)
    return np.vstack([bar, pixels])


NO_SEAMS = lambda grey: (0, 0)  # noqa: E731  (pad_bands._seam_band switched off)
EDITS = {
    "resize": lambda p: cv2.resize(p, (320, 240), interpolation=cv2.INTER_AREA),
    "mirror": lambda p: np.ascontiguousarray(p[:, ::-1]),
    "grayscale": lambda p: cv2.cvtColor(cv2.cvtColor(p, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB),
    "brightness": lambda p: cv2.convertScaleAbs(p, alpha=1.2),
    "crop 15 % every side": lambda p: p[72:408, 96:544],
    "crop 15 % one side": lambda p: p[:, 96:],
    "cropped square": lambda p: p[:, 80:560],
    "crop 8 % from a corner": lambda p: p[38:, 51:],
    "caption": _caption,
    "letterbox": lambda p: cv2.copyMakeBorder(p, 0, 0, 107, 107, cv2.BORDER_CONSTANT, value=(0, 0, 0)),
    "border": lambda p: cv2.copyMakeBorder(p, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=(235, 235, 235)),
    "rotate 5°": lambda p: _rotate(p, 5),
    "rotate 5° on a grown white canvas": lambda p: turned_on_a_canvas(p, 5, (255, 255, 255))[0],
    "rotate 3° the other way on a grown black canvas": lambda p: turned_on_a_canvas(p, -3, (0, 0, 0))[0],
    "screenshot": _screenshot,
    "crop and caption": lambda p: _caption(p[:, 96:]),
    "squeezed": lambda p: cv2.resize(p, (448, 480), interpolation=cv2.INTER_AREA),
    "beside another picture": lambda p: np.hstack([picture(999), p]),
    "above another picture": lambda p: np.vstack([p, picture(998)]),
    "beside a wider picture, a gutter between": lambda p: np.hstack([
        cv2.resize(p, (480, 360), interpolation=cv2.INTER_AREA), np.full((360, 24, 3), 255, np.uint8),
        cv2.resize(picture(999), (640, 360), interpolation=cv2.INTER_AREA)]),
    "quarter turn": lambda p: np.ascontiguousarray(np.rot90(p)),
    "on a blurred copy of itself (a story)": lambda p: on_a_blurred_pad(p, 9 / 16),
    "a story, the picture moved up, text under it": lambda p: on_a_blurred_pad(p, 9 / 16, 0.12, "wait for the end"),
    "mirrored, then rotated 5° on a grown white canvas": lambda p: turned_on_a_canvas(p[:, ::-1], 5, (255, 255, 255))[0],
    "mirrored, then on a blurred copy of itself": lambda p: on_a_blurred_pad(np.ascontiguousarray(p[:, ::-1]), 9 / 16),
}


@pytest.mark.parametrize("edit", EDITS)
def test_each_edit_finds_its_original_first(archive, edit: str) -> None:
    index, stored = archive
    original = 3
    hits = search_upload(jpeg(EDITS[edit](picture(100 + original))), index, lambda ids: {i: stored[i] for i in ids}, 5)
    assert hits[0].id == original
    assert hits[0].confidence in ("match", "likely"), hits[0]
    assert hits[0].mirrored == edit.startswith("mirror")
    if edit != "rotate 5°":  # the regions alone meet the original; rotation is left to verification
        assert hits[0].distance <= 12
    assert all(hit.distance <= NEAR_RADIUS for hit in hits)


def test_a_picture_not_in_the_archive_is_not_a_match(archive) -> None:
    index, stored = archive
    hits = search_upload(jpeg(picture(999)), index, lambda ids: {i: stored[i] for i in ids}, 3)
    assert len(hits) <= 3
    assert all(hit.confidence != "match" for hit in hits)


def test_confidence_thresholds() -> None:
    assert confidence(100.0, visual.MATCH_INLIERS) == "match"
    assert confidence(100.0, visual.MATCH_INLIERS - 1) == "likely"
    assert confidence(100.0, visual.LIKELY_INLIERS) == "likely"
    assert confidence(visual.LIKELY_DISTANCE, None) == "likely"
    assert confidence(visual.LIKELY_DISTANCE + 1, visual.LIKELY_INLIERS - 1) == "weak"
    # met through the query's whole frame: the distance is the surroundings', inliers alone count
    assert confidence(visual.LIKELY_DISTANCE, None, framed=True) == "weak"
    assert confidence(100.0, visual.LIKELY_INLIERS, framed=True) == "likely"
    assert confidence(100.0, visual.MATCH_INLIERS, framed=True) == "match"


@pytest.mark.parametrize("found, first", [(visual.LIKELY_INLIERS, "verified"), (visual.MATCH_INLIERS - 1, "verified"),
                                          (visual.LIKELY_INLIERS - 1, "near")])
def test_a_hit_verified_as_likely_outranks_an_unverified_nearer_one(monkeypatch, found: int, first: str) -> None:
    """Two images: one whose region lies 30 bits from the query's with `found` inliers, one 18
    bits from it that verification gives none (a bonus of 24 − 18 = 6 for its distance). Inliers
    that make a hit `likely` count, and rank it first; fewer are what an unrelated picture may
    reach, and the nearer region ranks first."""
    query = visual.query_of(jpeg(picture(130)))
    words = query.dhashes[query.content_row]
    flipped = lambda bits: words ^ np.array([(1 << bits) - 1, 0, 0], dtype=np.uint64)  # noqa: E731
    windows = np.stack([np.repeat(flipped(30)[None], len(WINDOWS), axis=0),
                        np.repeat(flipped(18)[None], len(WINDOWS), axis=0)])
    index = RegionIndex(np.array([7, 8]), windows)
    monkeypatch.setattr(visual, "inliers", lambda ours, theirs: theirs)  # each image's stored "features": its inliers
    hits = visual.visual_search(query, index, lambda ids: {7: found, 8: 0}, 2)
    assert [(h.id, h.distance, h.inliers) for h in hits] == (
        [(7, 30.0, found), (8, 18.0, 0)] if first == "verified" else [(8, 18.0, 0), (7, 30.0, found)])


def test_a_copy_beyond_the_region_search_is_verified_among_the_global_candidates(archive) -> None:
    """Rotated 10° and cropped to no corner, no region of the copy lies within NEAR_RADIUS of its
    original's windows; the whole-picture search's nearest images are verified all the same and
    the original comes first."""
    index, stored = archive
    turned = _rotate(picture(103), 10)
    height, width = turned.shape[:2]
    query = visual.query_of(jpeg(turned[height // 8:height - height // 8, width // 8:width - width // 8]))
    assert index.measure(np.array([3]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    assert 3 not in [h.id for h in visual.visual_search(query, index, lookup, 5)]
    hits = visual.visual_search(query, index, lookup, 5, global_ids=[7, 3])
    assert hits[0].id == 3 and hits[0].confidence == "match", hits[0]
    assert hits[0].distance == index.measure(np.array([3]), query.dhashes, query.mirrored).distances[0]


def test_the_turned_box_meets_only_images_within_its_radius() -> None:
    """Searched as a picture it may not be, the turned box meets an image only within
    TURNED_RADIUS bits, the query's boxes within NEAR_RADIUS."""
    query = visual.query_of(jpeg(picture(104)))
    turned = query.dhashes[-1]

    def flipped(words: np.ndarray, bits: int) -> np.ndarray:
        changed = words.copy()
        changed[0] ^= np.uint64((1 << bits) - 1)
        return changed

    near, far = flipped(turned, visual.TURNED_RADIUS - 2), flipped(turned, visual.TURNED_RADIUS + 4)
    boxed = flipped(query.dhashes[0], visual.TURNED_RADIUS + 4)
    windows = [np.tile(words, (len(WINDOWS), 1)) for words in (near, far, boxed)]
    index = RegionIndex(np.array([1, 2, 3]), np.stack(windows))
    hits = visual.nearest(query, index, 10)
    assert sorted(hits.ids.tolist()) == [1, 3]
    assert hits.queries[hits.ids.tolist().index(1)] >= query.boxes_rows


def test_screenshots_of_other_pictures_in_the_same_app_are_not_a_match() -> None:
    """The app around the picture matches between any two of its screenshots; what says two
    screenshots show the same picture is the picture. A copy of an archived screenshot is
    still found first."""
    shots = [_thumbnail(in_an_app(picture(120 + n))) for n in range(5)]
    index = RegionIndex(np.arange(5), np.stack([archive_dhashes(t) for t in shots]))
    stored = {n: features(t) for n, t in enumerate(shots)}
    other = visual.query_of(jpeg(in_an_app(picture(130))))
    assert other.boxes_rows == 4  # the picture is small in the screenshot: its whole frame is searched too
    hits = visual.visual_search(other, index, lambda ids: {i: stored[i] for i in ids}, 5)
    assert hits and all(hit.confidence == "weak" for hit in hits), hits
    copy = cv2.resize(in_an_app(picture(122)), (432, 936), interpolation=cv2.INTER_AREA)
    hits = visual.visual_search(visual.query_of(jpeg(copy)), index, lambda ids: {i: stored[i] for i in ids}, 5)
    assert hits[0].id == 2, hits


def _on_plain_background(pixels: np.ndarray) -> np.ndarray:
    """A small picture (a logo, say) in the middle of a wide, smooth grey gradient."""
    gradient = np.linspace(200, 250, 960, dtype=np.float32)
    canvas = np.repeat(np.repeat(gradient[None, :, None], 720, axis=0), 3, axis=2).astype(np.uint8)
    canvas[285:435, 380:580] = cv2.resize(pixels, (200, 150), interpolation=cv2.INTER_AREA)
    return canvas


def test_a_small_picture_on_a_plain_background_is_verified_on_the_whole_frame() -> None:
    """Archived whole (its content box is too small for an archived picture), the copy's content
    box alone is too far in scale from the archived thumbnail for ORB; the whole frame, searched
    where the content box is small, verifies it."""
    pictures = [_on_plain_background(picture(110)), picture(111), _on_plain_background(picture(112))]
    index, stored = _archived(pictures)
    query = visual.query_of(jpeg(cv2.resize(pictures[0], (480, 360), interpolation=cv2.INTER_AREA)))
    assert query.boxes[0] == (0, 512, 0, 512) and query.boxes_rows == 4  # the whole frame is searched
    hits = visual.visual_search(query, index, lambda ids: {i: stored[i] for i in ids}, 3)
    assert hits[0].id == 0 and hits[0].confidence == "match", hits


@pytest.mark.parametrize("original, crop", [
    (0, (slice(60, 420), slice(None))),  # 12.5 % from the top and the bottom
    (4, (slice(60, 420), slice(None))),
    (2, (slice(38, None), slice(51, None))),  # 8 % from the top and the left
    (7, (slice(None, 442), slice(None, 589))),  # 8 % from the bottom and the right
    (3, (slice(58, None), slice(None, 563))),  # 12 % from the top and the right
    (8, (slice(None, 413), slice(90, None))),  # 14 % from the bottom and the left
    (5, (slice(None, 432), slice(None, 576))),  # 10 % from the bottom and the right
    (10, (slice(10, 432), slice(64, None))),  # 2 % from the top, 10 % from the bottom and the left
])
def test_a_cropped_copy_is_found_by_the_second_look(archive, monkeypatch, original: int,
                                                    crop: tuple[slice, slice]) -> None:
    """No region of the copy lies within NEAR_RADIUS of its original's windows (a crop from the
    sides of this landscape picture would meet its centre square, a crop from every side its
    centred windows); the first look finds no match, so the content box's inner windows, cut
    for crops on one axis and from a corner, are searched and verified."""
    assert (INNER_KEPT,) * 4 in WINDOWS  # the archived window the inner windows aim at
    index, stored = archive
    query = visual.query_of(jpeg(np.ascontiguousarray(picture(100 + original)[crop])))
    assert index.measure(np.array([original]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    hits = visual.visual_search(query, index, lookup, 5)
    assert hits[0].id == original and hits[0].confidence == "match", hits[0]
    monkeypatch.setattr(visual, "INNER_CANDIDATES", 0)
    assert original not in [h.id for h in visual.visual_search(query, index, lookup, 5)]


@pytest.mark.parametrize("original, crop", [
    (2, (slice(38, None), slice(51, None))),  # 8 % from the top and the left
    (3, (slice(58, None), slice(None, 563))),  # 12 % from the top and the right
    (8, (slice(None, 413), slice(90, None))),  # 14 % from the bottom and the left
])
def test_a_mirrored_copy_cropped_from_a_corner_is_found_by_the_second_look(archive, monkeypatch, original: int,
                                                                         crop: tuple[slice, slice]) -> None:
    """Mirrored, the copy's corner cuts meet nothing direct: the second look searches them
    mirrored too, and verifies the hit on the mirrored content box."""
    index, stored = archive
    query = visual.query_of(jpeg(np.ascontiguousarray(picture(100 + original)[crop][:, ::-1])))
    assert index.measure(np.array([original]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    hits = visual.visual_search(query, index, lookup, 5)
    assert hits[0].id == original and hits[0].confidence == "match" and hits[0].mirrored, hits[0]
    monkeypatch.setattr(visual, "INNER_CANDIDATES", 0)
    assert original not in [h.id for h in visual.visual_search(query, index, lookup, 5)]


@pytest.mark.parametrize("seed, crop", [(100, 0.15), (102, 0.10), (104, 0.14)])
def test_a_corner_crop_of_a_mostly_plain_picture_is_found_by_the_inner_windows_of_its_frame(seed: int,
                                                                                           crop: float) -> None:
    """A detail on a plain ground, cropped from its top left corner: the archived copy kept its
    whole frame, the crop's content box is the detail alone, whose inner windows meet nothing;
    the first look misses too. The second look cuts the crop's whole frame as well, and the
    corner cut meets the original's inner window."""
    pictures = [detail_on_a_plain_ground(seed)] + [picture(200 + n) for n in range(6)]
    index, stored = _archived(pictures)
    height, width = pictures[0].shape[:2]
    query = visual.query_of(jpeg(np.ascontiguousarray(pictures[0][round(crop * height):, round(crop * width):])))
    assert query.boxes[0] == (0, 512, 0, 512) and query.parts[0] != query.boxes[0]  # the box is the detail
    assert index.measure(np.array([0]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    of_the_box = inner_dhashes(query.render, [query.parts[0]])
    box_mirrored = np.arange(len(of_the_box)) >= len(of_the_box) // 2
    assert index.measure(np.array([0]), of_the_box, box_mirrored).distances[0] > visual.INNER_RADIUS
    hits = visual.visual_search(query, index, lambda ids: {i: stored[i] for i in ids}, 3)
    assert hits and hits[0].id == 0 and hits[0].confidence == "match", hits


@pytest.mark.parametrize("seed", [100, 101, 102])
def test_a_small_detail_on_a_plain_ground_is_verified_at_the_scale_of_its_frame(seed: int) -> None:
    """Letterboxed, a picture whose detail is a fifth of it on a plain ground: its content box is
    the detail, met through the picture inside the bars; enlarged to the size ORB is run at, the
    detail alone is too far from its scale in the archived thumbnail to verify, the whole frame's
    features on it are not."""
    pictures = [detail_on_a_plain_ground(seed, share=0.2)] + [picture(200 + n) for n in range(6)]
    index, stored = _archived(pictures)
    query = visual.query_of(jpeg(EDITS["letterbox"](pictures[0])))
    hits = visual.visual_search(query, index, lambda ids: {i: stored[i] for i in ids}, 3)
    assert hits[0].id == 0 and hits[0].confidence == "match" and not hits[0].framed, hits
    assert inliers(next(query.features(query.content_row)), stored[0]) < visual.MIN_INLIERS


def test_a_copy_its_content_box_verifies_makes_no_features_of_its_frame(archive) -> None:
    """The parts a hit is verified on are taken in turn: once the content box reaches
    STOP_INLIERS, the whole frame's features (ORB over another picture) are never made."""
    index, stored = archive
    query = visual.query_of(jpeg(_caption(picture(103))))
    hits = visual.visual_search(query, index, lambda ids: {i: stored[i] for i in ids}, 3)
    assert hits[0].id == 3 and hits[0].inliers >= visual.STOP_INLIERS, hits
    assert query.frame_part is not None and query.frame_part in query.sources[query.content_row]
    assert [part for part, _ in query._features] == [0]


@pytest.mark.parametrize("original", [0, 5, 9])
@pytest.mark.parametrize("caption, mirrored", [(False, False), (True, False), (False, True)])
def test_a_vignetted_copy_is_found_by_the_second_look(archive, monkeypatch, original: int, caption: bool,
                                                      mirrored: bool) -> None:
    """Darkened towards its corners by a photo filter (and captioned after, or mirrored), no region
    of the copy lies within NEAR_RADIUS of its original's windows; the second look divides the
    vignette out of the content box (common.vignette) and finds it, and without that does not."""
    index, stored = archive
    copy = vignetted(picture(100 + original)[:, ::-1] if mirrored else picture(100 + original), 0.9)
    query = visual.query_of(jpeg(_caption(copy) if caption else copy))
    assert index.measure(np.array([original]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    hits = visual.visual_search(query, index, lookup, 5)
    assert hits[0].id == original and hits[0].confidence == "match" and hits[0].mirrored == mirrored, hits[0]
    monkeypatch.setattr(vignette, "DARK_CORNERS", float("inf"))
    monkeypatch.setattr(vignette, "DARKER_CORNERS", float("inf"))
    assert original not in [h.id for h in visual.visual_search(query, index, lookup, 5)]


def test_a_vignetted_copy_of_a_flat_picture_is_kept_unverified_when_undarkened_it_is_that_near(monkeypatch) -> None:
    """A featureless picture (its archived copy has no features either) under a vignette: the
    undarkened content box within COPY_DISTANCE of its windows is a copy of it, kept unverified
    and `likely`; farther, nothing verifies it and it is not kept."""
    query = visual.query_of(jpeg(vignetted(smooth_picture(0), 0.9)))
    assert len(next(query.features(query.content_row))) == 0
    lifted = vignette.devignetted(query.render, query.parts[0])
    undarkened = query_dhashes(lifted, [query.parts[0]])[0][0]
    thumbnails = [_thumbnail(picture(100 + n)) for n in range(ARCHIVED)]
    flat = np.repeat(undarkened[None], len(WINDOWS), axis=0)  # its windows: the undarkened box
    index = RegionIndex(np.arange(ARCHIVED + 1), np.stack([archive_dhashes(t) for t in thumbnails] + [flat]))
    stored = {n: features(t) for n, t in enumerate(thumbnails)}
    stored[ARCHIVED] = features(np.full((240, 320, 3), 128, np.uint8))
    assert index.measure(np.array([ARCHIVED]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    hits = visual.visual_search(query, index, lookup, 3)
    assert hits[0].id == ARCHIVED and hits[0].distance == 0 and hits[0].confidence == "likely", hits
    monkeypatch.setattr(visual, "COPY_DISTANCE", -1)
    assert ARCHIVED not in [h.id for h in visual.visual_search(query, index, lookup, 3)]


def test_the_undarkened_box_is_looked_up_by_its_middle_among_inner_windows_and_whole_nearer() -> None:
    """The second look's undarkened lookups: the box's INNER_KEPT middle among the archived
    INNER_WINDOW windows within NEAR_RADIUS (mirrored too), the whole box among every window
    within LIFTED_RADIUS; each image by the nearer of the two."""
    query = visual.query_of(jpeg(vignetted(picture(7), 0.9)))
    content = query.parts[0]
    lifted = vignette.devignetted(query.render, content)
    words, _ = query_dhashes(lifted, [window(content, (INNER_KEPT,) * 4), content])
    middle, whole, mirrored_middle = words[0], words[1], words[2]
    far = np.random.default_rng(1).integers(0, 2**64, size=(8, len(WINDOWS), 3), dtype=np.uint64)
    windows = far.copy()
    near = lambda words, bits, seed: with_bits_flipped(np.random.default_rng(seed), words, bits)  # noqa: E731
    windows[0, INNER_WINDOW] = near(middle, NEAR_RADIUS - 2, 0)  # found: its middle within NEAR_RADIUS
    windows[1, 0] = near(whole, NEAR_RADIUS - 2, 1)  # not: the whole box beyond LIFTED_RADIUS
    windows[2, 0] = near(whole, visual.LIFTED_RADIUS - 2, 2)  # found
    windows[3, 1] = near(middle, 4, 3)  # not: the middle meets inner windows alone
    windows[4, INNER_WINDOW] = near(mirrored_middle, 6, 4)  # found, mirrored
    windows[5, INNER_WINDOW] = near(middle, 20, 5)  # found by its whole box, the nearer
    windows[5, 0] = near(whole, 10, 6)
    index = RegionIndex(np.arange(len(windows)), windows)
    assert index.measure(np.arange(len(windows)), query.dhashes, query.mirrored).distances.min() > NEAR_RADIUS
    hits = visual._devignetted_hits(query, index, np.array([], dtype=np.int64))
    found = {i: (d, m) for i, d, m in zip(hits.ids.tolist(), hits.distances.tolist(), hits.mirrored.tolist())}
    assert found == {0: (NEAR_RADIUS - 2, False), 2: (visual.LIFTED_RADIUS - 2, False), 4: (6, True),
                     5: (10, False)}
    assert visual._devignetted_hits(query, index, np.array([5, 0])).ids.tolist() == [4, 2]


@pytest.mark.parametrize("original", [1, 6, 10])
@pytest.mark.parametrize("moved_up, caption, switch", [(0.0, "", "PAD_SHARPNESS"),
                                                       (0.12, "wait for the end", "PAD_SHIFT")])
def test_a_story_of_a_picture_is_found_by_the_second_look(archive, monkeypatch, original: int, moved_up: float,
                                                          caption: str, switch: str) -> None:
    """A phone story: the picture on a 9:16 blurred copy of itself, in the middle, or moved up with
    a line of text on the pad under it. The blurred pad is no uniform border: the content box
    keeps it, and no region of the copy meets its original. The second look searches the bands of
    the box that are much sharper than the pad on either side (common.pad_bands), cut in
    the middle and around the box's sharpest stretch (PAD_SHIFT), and the band between the
    picture's edges, where the darkened pad steps from it (`_seam_band`): each alone finds it."""
    index, stored = archive
    query = visual.query_of(jpeg(on_a_blurred_pad(picture(100 + original), 9 / 16, moved_up, caption)))
    assert index.measure(np.array([original]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    hits = visual.visual_search(query, index, lookup, 5)
    assert hits[0].id == original and hits[0].confidence == "match", hits[0]
    monkeypatch.setattr(pad_bands, "_seam_band", NO_SEAMS)
    assert visual.visual_search(query, index, lookup, 5)[0].id == original
    monkeypatch.setattr(pad_bands, switch, float("inf"))
    assert original not in [h.id for h in visual.visual_search(query, index, lookup, 5)]


def _rippled_sky(seed: int) -> np.ndarray:
    """A picture whose top and bottom quarters are a fine grey ripple: not uniform, but a blur
    as strong as a story's pad flattens it."""
    pixels = picture(seed).copy()
    phase = np.random.default_rng(seed).uniform(0, 2 * np.pi)
    ripple = np.clip(150 + 20 * np.sin(np.arange(pixels.shape[1]) * 2 * np.pi / 40 + phase), 0, 255)
    for rows in (slice(0, 120), slice(360, 480)):
        pixels[rows] = ripple.astype(np.uint8)[None, :, None]
    return pixels


@pytest.mark.parametrize("seed", [218, 221, 222])
def test_a_story_whose_pad_is_partly_uniform_is_found_by_the_bands_of_its_frame(monkeypatch, seed: int) -> None:
    """Where the picture is plain, its blurred pad is uniform: the content box cuts into the
    pad there, and its bands are not the picture. The bands of the whole frame are."""
    pictures = [_rippled_sky(seed)] + [picture(100 + n) for n in range(6)]
    index, stored = _archived(pictures)
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    query = visual.query_of(jpeg(on_a_blurred_pad(pictures[0], 9 / 16)))
    assert query.parts[0] != (0, 512, 0, 512)
    assert index.measure(np.array([0]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    hits = visual.visual_search(query, index, lookup, 3)
    assert hits[0].id == 0 and hits[0].confidence == "match", hits
    monkeypatch.setattr(pad_bands, "_seam_band", NO_SEAMS)  # which the frame's bands include
    bands = visual.pad_bands
    monkeypatch.setattr(visual, "pad_bands", lambda render, boxes: bands(
        render, [(box, aspect) for box, aspect in boxes if box == query.parts[0]]))
    assert 0 not in [h.id for h in visual.visual_search(query, index, lookup, 3)]


@pytest.mark.parametrize("size, pad", [((360, 640), 1.0), ((320, 640), 1.0), ((640, 320), 1.0)])
def test_a_phone_shaped_picture_on_a_blurred_pad_is_found_by_its_band(monkeypatch, size: tuple[int, int],
                                                                      pad: float) -> None:
    """A 9:16 or 1:2 portrait on a square blurred pad (a phone photo or screenshot posted to a
    square feed), a 2:1 panorama on one: the band of the picture's own aspect ratio."""
    pictures = [picture(300 + n, *size) for n in range(4)]
    index, stored = _archived(pictures)
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    query = visual.query_of(jpeg(on_a_blurred_pad(pictures[0], pad)))
    assert index.measure(np.array([0]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    hits = visual.visual_search(query, index, lookup, 3)
    assert hits[0].id == 0 and hits[0].confidence == "match", hits
    monkeypatch.setattr(pad_bands, "_seam_band", NO_SEAMS)  # the band between its edges finds it too
    phone_shapes = (1 / 2, 9 / 16, 2.0)
    monkeypatch.setattr(pad_bands, "PAD_ASPECTS", tuple(a for a in pad_bands.PAD_ASPECTS if a not in phone_shapes))
    assert 0 not in [h.id for h in visual.visual_search(query, index, lookup, 3)]


@pytest.mark.parametrize("seed", [310, 313, 319])  # of 310–325, the other bands miss 10 (these among them)
def test_a_story_of_a_picture_in_focus_near_its_bottom_is_found_by_the_band_between_its_edges(monkeypatch,
                                                                                             seed: int) -> None:
    """A picture whose top is a shallow depth of field's blur, moved up its blurred pad: the
    bands cut around its sharpest stretch miss it, the one between its edges (`_seam_band`)
    is the picture."""
    pictures = [out_of_focus_above(picture(seed + 10 * n), 0.7) for n in range(4)]
    index, stored = _archived(pictures)
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    query = visual.query_of(jpeg(on_a_blurred_pad(pictures[0], 9 / 16, 0.12)))
    assert index.measure(np.array([0]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    hits = visual.visual_search(query, index, lookup, 3)
    assert hits[0].id == 0 and hits[0].confidence != "weak", hits  # its sharp part alone is verified
    monkeypatch.setattr(pad_bands, "_seam_band", NO_SEAMS)
    assert 0 not in [h.id for h in visual.visual_search(query, index, lookup, 3)]


@pytest.fixture(scope="module")
def smooth_archive() -> tuple[RegionIndex, dict]:
    """Eight pictures with few features for ORB, and four textured ones."""
    pictures = [smooth_picture(n) for n in range(8)] + [picture(100 + n) for n in range(4)]
    return _archived(pictures)


@pytest.mark.parametrize("original", [3, 4, 7])
def test_a_story_of_a_flat_picture_is_found_by_its_band_unverified(smooth_archive, monkeypatch,
                                                                  original: int) -> None:
    """A picture with too few features for verification, on a blurred copy of itself: a pad
    band within COPY_DISTANCE of its archived window is a copy of it, kept unverified (and
    `likely`, never `match`)."""
    index, stored = smooth_archive
    query = visual.query_of(jpeg(on_a_blurred_pad(smooth_picture(original), 9 / 16)))
    assert index.measure(np.array([original]), query.dhashes, query.mirrored).distances[0] > NEAR_RADIUS
    lookup = lambda ids: {i: stored[i] for i in ids}  # noqa: E731
    hits = visual.visual_search(query, index, lookup, 3)
    assert hits[0].id == original and hits[0].distance <= visual.COPY_DISTANCE, hits
    assert (hits[0].inliers or 0) < visual.MIN_INLIERS and hits[0].confidence == "likely"
    monkeypatch.setattr(visual, "COPY_DISTANCE", -1)
    assert original not in [h.id for h in visual.visual_search(query, index, lookup, 3)]


def test_only_a_query_too_flat_to_verify_is_taken_for_a_copy_of_a_near_picture(archive, smooth_archive,
                                                                                monkeypatch) -> None:
    """An archived image within COPY_DISTANCE ends the search after the first look only when the
    query has too few features to verify (`flat_copy`): it is a copy of a flat picture. A story of
    a textured picture that a featureless picture (a flag, say) lies that near is searched
    further, and its original found."""
    looks = []
    second_look = visual.inner_hits
    monkeypatch.setattr(visual, "inner_hits", lambda *args: looks.append(args) or second_look(*args))
    original = 6
    query = visual.query_of(jpeg(on_a_blurred_pad(picture(100 + original), 9 / 16)))
    thumbnails = [_thumbnail(picture(100 + n)) for n in range(ARCHIVED)]
    flag = np.repeat(query.dhashes[query.content_row][None], len(WINDOWS), axis=0)  # its windows: the query's box
    index = RegionIndex(np.arange(ARCHIVED + 1), np.stack([archive_dhashes(t) for t in thumbnails] + [flag]))
    stored = {n: features(t) for n, t in enumerate(thumbnails)}
    stored[ARCHIVED] = features(np.full((240, 320, 3), 128, np.uint8))
    assert len(stored[ARCHIVED]) == 0
    hits = visual.visual_search(query, index, lambda ids: {i: stored[i] for i in ids}, 5)
    assert ARCHIVED in [h.id for h in hits if h.distance <= visual.COPY_DISTANCE] and len(looks) == 1
    assert hits[0].id == original and hits[0].confidence == "match", hits
    looks.clear()
    smooth_index, smooth_stored = smooth_archive
    flat = visual.query_of(jpeg(cv2.resize(smooth_picture(4), (400, 300), interpolation=cv2.INTER_AREA)))
    assert len(next(flat.features(flat.content_row))) < visual.MIN_INLIERS
    hits = visual.visual_search(flat, smooth_index, lambda ids: {i: smooth_stored[i] for i in ids}, 5)
    assert hits[0].id == 4 and hits[0].distance <= visual.COPY_DISTANCE and looks == [], hits


def _on_colour(pixels: np.ndarray, background: tuple[int, int, int]) -> np.ndarray:
    """A picture in the middle of a plain background of its own: a design shipped in colour
    variants that differ in the background's colour alone."""
    canvas = np.empty((480, 640, 3), np.uint8)
    canvas[:] = background
    canvas[120:360, 160:480] = cv2.resize(pixels, (320, 240), interpolation=cv2.INTER_AREA)
    return canvas


def _seed_colours(pixels: np.ndarray) -> np.ndarray:
    """The archived colours as booru's histogram index holds them: the seed histogram of the
    whole 512×512 render, 4 bins a channel, each channel summing to 1 (computed here with numpy)."""
    render = cv2.resize(pixels, (512, 512), interpolation=cv2.INTER_AREA)
    counts = np.stack([np.histogram(render[:, :, c], bins=4, range=(0, 256))[0] for c in range(3)])
    return (counts / counts.sum(axis=1, keepdims=True)).ravel()


def test_colour_variants_are_told_apart_by_the_colours_of_the_same_area() -> None:
    """Two variants of one design, whose plain backgrounds the content box trims: their regions
    are the same, so colour decides. The archived colours are of the whole frame, so a copy's
    are compared on its whole frame too, not on its content box alone (the design, the same in
    both). Without stored features, ranking falls back on distance and colour, then id."""
    design = picture(140)
    variants = {1: _on_colour(design, (200, 60, 60)), 2: _on_colour(design, (60, 104, 200))}  # one grey
    thumbnails = {n: _thumbnail(p) for n, p in variants.items()}
    index = RegionIndex(np.array([1, 2]), np.stack([archive_dhashes(thumbnails[n]) for n in (1, 2)]))
    colours = {n: _seed_colours(p) for n, p in variants.items()}
    for wanted in (1, 2):
        query = visual.query_of(jpeg(cv2.resize(variants[wanted], (480, 360), interpolation=cv2.INTER_AREA)))
        assert query.parts[0] != (0, 512, 0, 512)  # the backgrounds are trimmed
        measured = index.measure(np.array([1, 2]), query.dhashes, query.mirrored).distances
        assert abs(measured[0] - measured[1]) <= 1  # the regions barely tell the variants apart
        hits = visual.visual_search(query, index, lambda ids: {}, 2,
                                    colours=lambda ids: {i: colours[i] for i in ids})
        assert [hit.id for hit in hits] == [wanted, 3 - wanted], hits


def test_a_flat_picture_on_white_is_found_by_the_picture_with_its_plain_side() -> None:
    """Mostly a plain dark side, the picture is archived whole; on white, its content box is
    the textured part alone, and it is met through the picture with its plain side kept, a
    region of the picture (verified, as every region of a query with a frame apart from its
    box is, on the content box and the frame's features on it), not of the whole frame."""
    pictures = [picture(120 + n) for n in range(4)]
    for flat in pictures[:2]:
        flat[:, :400] = (40, 50, 70)
    index, stored = _archived(pictures)
    on_white = cv2.copyMakeBorder(pictures[1], 200, 200, 60, 60, cv2.BORDER_CONSTANT, value=(255, 255, 255))
    query = visual.query_of(jpeg(on_white))
    assert query.boxes_rows == 6 and query.sources[:6] == [(0, query.frame_part)] * 6
    hits = visual.visual_search(query, index, lambda ids: {i: stored[i] for i in ids}, 3)
    assert hits[0].id == 1 and not hits[0].framed, hits
