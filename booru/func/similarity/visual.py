"""The `visual` search: region dhashes find candidates, ORB + RANSAC against their archived
thumbnails confirms and re-ranks the nearest few, `confidence` says how sure the answer is.

1. The query's regions (common.regions.query_boxes: its content box, and its whole frame and
   the picture with its plain sides kept inside a border too where they differ from the box,
   each also mirrored; the two sides of the content box where it is
   two pictures put side by side or stacked, common.regions.collage_sides; the content box
   turned a quarter either way; a picture tilted a few degrees on a plain canvas, made upright,
   common.tilt, and mirrored too when direct it met nothing near) find the images whose archived windows are nearest within
   region_index.NEAR_RADIUS (SIDES_RADIUS, TURNED_RADIUS for the sides and the turns;
   RegionIndex, exact).
   The caller adds the images nearest by the whole-picture fingerprints (`combined`), which
   meet copies whose regions moved too far for the region search (rotations, mostly): their
   region distances are measured from the index all the same.
2. The CANDIDATES nearest by regions and the GLOBAL_CANDIDATES nearest by the whole picture are
   verified: the inliers of a RANSAC affine fit between the ORB features of the query's
   content box (mirrored if the query that met the image was; the side of a collage if that
   side met it; where the content box is not the whole frame, and the frame, the framed
   picture or the box met it, the better of the content box and the whole frame's features
   inside the content box, `VisualQuery.focus`) and those of the image's thumbnail
   (verify.py).
   When none is a match and the query is no copy of a flat picture (`flat_copy`: an image
   within COPY_DISTANCE, and too few features on the query to verify), a second look (`inner_hits`)
   verifies the images nearest to the inner windows of the content box, and of the whole frame
   and the framed picture where searched (common.regions.INNER:
   15 % cut from two opposite sides, which a copy cropped on one axis only shares with its
   original's inner window; the cuts that bring a copy cropped from a corner back to that
   window, looked up among the archived inner windows alone) and to the bands that may be a
   picture on a blurred copy of itself (a phone story, common.pad_bands), each direct and
   mirrored, and to the content box with a vignette's darkening divided out (common.vignette:
   a filter's falloff moves most bits of a picture of sky or grass; its middle among the
   archived inner windows within NEAR_RADIUS, where the division leaves least of the falloff,
   and all of it within LIFTED_RADIUS, each direct and mirrored), and keeps those verification
   confirms, and those a band or the undarkened box meets within COPY_DISTANCE (a copy of a
   flat picture, which verification fails).
3. Hits are ranked by `rank`: inliers (counted from LIKELY_INLIERS on, what makes a hit
   `likely`; unrelated pictures seldom reach it) plus a bonus for a near region dhash (flat
   pictures have few features but a telling dhash) less a little for different colours (colour
   variants of one design share their brightness), then by region distance, then by id. The
   archived colours are the seed histogram of the whole frame; the query's are taken of its
   content box and of its whole frame, the nearer counting: the box where the copy added bars or
   borders, the frame where the archived picture's own plain margins were trimmed from the box
   as well. Only images with a region within region_index.NEAR_RADIUS, or among the global
   candidates, come back (at most `limit`): the search filling the answer up to the nearest
   `limit` takes the others from the seed's indexes.

`confidence`: `match` from MATCH_INLIERS verified inliers, `likely` from LIKELY_INLIERS or a
region distance of at most LIKELY_DISTANCE bits (not through the whole frame), else `weak`.
Measured on the tuning photos of bench/search_quality.py (its `calibrate` prints the
thresholds they give and what they do on the held-out photos): once degenerate fits are
refused (verify.py) the first hit of a query of a picture not in the archive has at most 3
inliers in 99 % of queries; MATCH_INLIERS is set higher, at the MIN_INLIERS the second look
keeps a hit from, for margin at archive sizes the bench does not reach.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Mapping, Sequence

import cv2
import numpy as np

from booru.func.similarity.distances import normalise_histograms
from booru.func.similarity.region_index import NEAR_RADIUS, RegionHits, RegionIndex
from booru.func.similarity.verify import Features, features, inliers
from common.fingerprint import CHANNELS, DEFAULT_MAX_PIXELS, SIZE, displayed_size, histogram, open_image, render
from common.pad_bands import pad_bands
from common.regions import (AXIS_CUTS, INNER, INNER_KEPT, Box, collage_sides, inner_dhashes, query_boxes, query_dhashes,
                            scan, window)
from common.tilt import straightened, tilted_corners
from common.vignette import devignetted

CANDIDATES = 10
GLOBAL_CANDIDATES = 5
STOP_INLIERS = 100  # a candidate this well verified ends the verification
VERIFY_BATCH = 3
MIN_INLIERS = 15
# confidence (bench/search_quality.py, tuning photos): at most 1 % of the first hits of queries
# of pictures not in the archive reach MATCH_INLIERS, at most about 10 % `likely`
MATCH_INLIERS, LIKELY_INLIERS = 15, 8
LIKELY_DISTANCE = 24.0
# ranking: counted inliers plus DISTANCE_WEIGHT for each bit a hit is nearer than DISTANCE_BONUS,
# less COLOUR_WEIGHT per unit of abs_norm between the query's and the hit's colour histograms
DISTANCE_BONUS, DISTANCE_WEIGHT = 24.0, 1.0
COLOUR_WEIGHT = 3.0
UPRIGHT = 320  # the query picture's longest side for ORB (verify.LONGEST)
# bits of 192: how near an archived window a collage side or the turned box must be to count
SIDES_RADIUS, TURNED_RADIUS = NEAR_RADIUS, NEAR_RADIUS // 2
# when nothing is a match: the INNER_CANDIDATES images nearest to the content box's inner windows
# (common.regions.INNER) and pad bands (common.pad_bands) within INNER_RADIUS, and twice as many
# to the box undarkened (common.vignette: its middle within NEAR_RADIUS, all of it within
# LIFTED_RADIUS), are verified too, and kept if they reach MIN_INLIERS or a pad band or the
# undarkened box meets them within COPY_DISTANCE; not when an image is within COPY_DISTANCE of a
# query with too few features to verify (`flat_copy`: the query is a copy of it, not a crop of
# another: a flat picture or a drawing)
INNER_CANDIDATES, INNER_RADIUS, COPY_DISTANCE = 3, 20, 12
LIFTED_RADIUS = 24  # bits: the whole box is looked up among every archived window, whose cost grows steeply with it


@dataclass
class VisualQuery:
    boxes: list[Box]  # in the 512×512 render: query_boxes', then the content box's collage sides
    dhashes: np.ndarray  # rows of 3 uint64: query_boxes' direct, then mirrored; the sides; the content box turned
    mirrored: np.ndarray
    boxes_rows: int  # the rows of query_boxes' boxes (direct and mirrored)
    sides_rows: int  # the rows of the collage sides, after them; the turned box's two rows follow
    upright_rows: int  # the last two rows: a tilted picture made upright, direct and mirrored (or none: 0)
    parts: list[Box]  # what hits are verified on: the content box, each collage side, the whole frame
    sources: list[tuple[int, ...]]  # per dhashes row: the `parts` a hit through that row is verified on
    histograms: np.ndarray  # the seed's 12 bins, each channel summing to 1: of the content box, the whole frame,
    # and the tilted picture made upright (if any)
    render: np.ndarray  # the 512×512 render
    size: tuple[int, int]  # the image's displayed width and height
    _pictures: dict[int, np.ndarray] = field(default_factory=dict)
    _features: dict[tuple[int, bool], Features] = field(default_factory=dict)

    @classmethod
    def of(cls, small: np.ndarray, width: int, height: int) -> "VisualQuery":
        """From the 512×512 render and the image's displayed size. The content box (the
        picture without bars, chrome or text around it, which would match other pictures'
        text, edges and white) is what verification and colours look at; a hit met through a
        side of a collage is verified on that side. Where the content box is not all of the
        frame, a hit met through the whole frame, the framed picture or the content box is
        verified on the content box and on the whole frame's features inside the content box
        (`focus`), the better counting: the archived copy of a small picture on a plain
        background, a logo say, is the whole frame, at a scale the content box alone, enlarged
        to UPRIGHT, is too far from for ORB."""
        grey = scan(small)
        boxes = query_boxes(small, grey)
        content = boxes[-1]
        sides = collage_sides(small, content, grey)
        corners = tilted_corners(small, (width, height))
        upright = None if corners is None else straightened(small, corners)
        dhashes, mirrored = query_dhashes(small, boxes, sides, turned=content, upright=upright)
        whole = boxes[:1] if len(boxes) > 1 else []  # the whole frame, if searched (query_boxes' first)
        parts = [content] + sides + whole
        verified_on = (0, len(parts) - 1) if whole else (0,)  # query_boxes' rows: the box, and the frame's focus
        upright_rows = 0 if upright is None else 2
        sources = ([verified_on] * (2 * len(boxes)) + [(side,) for side in range(1, len(sides) + 1)]
                   + [(0,), (0,)] + [(0,)] * upright_rows)
        top, bottom, left, right = content
        shares = np.stack([_colours(small[top:bottom, left:right]), _colours(small)]
                          + ([] if upright is None else [_colours(upright)]))
        return cls(boxes + sides, dhashes, mirrored, 2 * len(boxes), len(sides), upright_rows, parts, sources, shares,
                   small, (width, height))

    def picture_of(self, part: int) -> np.ndarray:
        """A part (`parts`) at its true aspect ratio, UPRIGHT px on its longest side, RGB (cached)."""
        if part not in self._pictures:
            top, bottom, left, right = self.parts[part]
            true_width, true_height = _true_size(self.parts[part], self.size)
            scale = UPRIGHT / max(true_width, true_height)
            size = (max(1, round(true_width * scale)), max(1, round(true_height * scale)))
            self._pictures[part] = cv2.resize(self.render[top:bottom, left:right], size, interpolation=cv2.INTER_AREA)
        return self._pictures[part]

    @property
    def content_row(self) -> int:
        """The dhashes row of the content box, direct."""
        return self.boxes_rows // 2 - 1

    def through_frame(self, row: int) -> bool:
        """Whether dhashes row `row` is the whole frame's (searched where the content box is not all of it)."""
        return self.frame_part is not None and row in (0, self.boxes_rows // 2)

    @property
    def frame_part(self) -> int | None:
        """The part that is the whole frame (searched where the content box is not all of it), if any."""
        return len(self.parts) - 1 if self.boxes_rows > 2 else None

    def focus(self, part: int) -> tuple[float, float, float, float] | None:
        """Where in the whole frame (`part`, if it is the whole frame) the content box lies, as
        shares of it: the frame's features are taken there alone. Elsewhere the frame is the
        query's own surroundings (an app's bars and text in a screenshot), which screenshots of
        other pictures in the same app share."""
        if part != self.frame_part:
            return None
        top, bottom, left, right = self.parts[part]
        inner_top, inner_bottom, inner_left, inner_right = self.parts[0]
        height, width = bottom - top, right - left
        return ((inner_top - top) / height, (inner_bottom - top) / height, (inner_left - left) / width,
                (inner_right - left) / width)

    def features(self, row: int) -> Iterator[Features]:
        """ORB features of each part a hit through dhash row `row` is verified on, in turn,
        mirrored as the row is (each made when first asked for, then cached)."""
        for part in self.sources[row]:
            key = (part, bool(self.mirrored[row]))
            if key not in self._features:
                self._features[key] = features(self.picture_of(part), key[1], self.focus(part))
            yield self._features[key]


@dataclass(frozen=True)
class VisualHit:
    id: int
    distance: float
    inliers: int | None  # None: not verified (beyond the CANDIDATES nearest, or no features stored)
    mirrored: bool
    window: int
    confidence: str
    framed: bool = False  # met through the query's whole frame (`confidence`)


def confidence(distance: float, found: int | None, framed: bool = False) -> str:
    """`match`, `likely` or `weak` from the inliers and the region distance (bits of 192). The
    distance of a hit met through the query's whole frame (`framed`) does not count: that
    frame may be mostly the picture's surroundings (a small content box), so a near one says
    the surroundings are alike (screenshots in one app), not the pictures."""
    found = found or 0
    if found >= MATCH_INLIERS:
        return "match"
    if found >= LIKELY_INLIERS or (distance <= LIKELY_DISTANCE and not framed):
        return "likely"
    return "weak"


Stored = Callable[[list[int]], Mapping[int, Features]]
Colours = Callable[[list[int]], Mapping[int, np.ndarray]]


def visual_search(query: VisualQuery, index: RegionIndex, stored: Stored, limit: int,
                  candidates: int = CANDIDATES, colours: Colours | None = None,
                  global_ids: Sequence[int] = ()) -> list[VisualHit]:
    """The `limit` best images for `query`; `stored` gives the ORB features of archived
    images' thumbnails by id (an image without them is ranked by its distance alone),
    `colours` their normalised seed histograms (booru's histogram index), `global_ids` the
    images nearest to the query by the whole-picture fingerprints, nearest first (the first
    GLOBAL_CANDIDATES of them are verified too)."""
    near = nearest(query, index, max(limit, candidates))
    wide = index.measure(np.asarray(list(global_ids)[:GLOBAL_CANDIDATES], dtype=np.int64), query.dhashes,
                         query.mirrored)
    top = near.take(slice(candidates))
    chosen = top.then(wide)  # the images verified: by regions and by the whole picture in turn
    chosen = chosen.take(_in_turn(len(top), len(chosen) - len(top)))
    near = chosen.then(near)
    found = verified(query, chosen, stored)
    if max(found.values(), default=0) < MATCH_INLIERS and not flat_copy(query, near):
        inner, confirmed = inner_hits(query, index, near.ids, stored)
        near = near.then(inner)
        found.update(confirmed)
    theirs_colours = colours([int(i) for i in near.ids]) if colours else {}
    apart = {i: float(np.abs(h - query.histograms).sum(axis=1).min()) for i, h in theirs_colours.items()}
    framed = [query.through_frame(int(row)) for row in near.queries]
    hits = [VisualHit(int(i), float(d), found.get(int(i)), bool(m), int(w),
                      confidence(float(d), found.get(int(i)), f), f)
            for i, d, m, w, f in zip(near.ids, near.distances, near.mirrored, near.windows, framed)]
    hits.sort(key=lambda h: (-rank(h.distance, h.inliers, apart.get(h.id, 0.0)), h.distance, h.id))
    return hits[:limit]


def flat_copy(query: VisualQuery, near: RegionHits) -> bool:
    """Whether the query is a copy of a flat picture: an image lies within COPY_DISTANCE of it
    and its content box has fewer ORB features than MIN_INLIERS, so no verification can confirm
    anything for it. (A query with features is searched further: a flat picture near it, a flag
    say, which it cannot be a copy of, says nothing about where it comes from.)"""
    return bool((near.distances <= COPY_DISTANCE).any()) and len(next(query.features(query.content_row))) < MIN_INLIERS


def nearest(query: VisualQuery, index: RegionIndex, count: int) -> RegionHits:
    """The `count` images nearest to the query's regions: within region_index.NEAR_RADIUS of
    its boxes and of its tilted picture made upright, SIDES_RADIUS of its collage sides,
    TURNED_RADIUS of its turned box (searched as pictures they may not be, they would otherwise
    bring in more unrelated images to verify). The upright picture is searched mirrored too
    when it met nothing within LIKELY_DISTANCE direct (a mirrored copy; a direct one, the
    common case, is spared a lookup)."""
    sides = query.boxes_rows + query.sides_rows
    upright = len(query.dhashes) - query.upright_rows
    groups = ((0, query.boxes_rows, NEAR_RADIUS), (query.boxes_rows, sides, SIDES_RADIUS),
              (sides, upright, TURNED_RADIUS), (upright, upright + min(query.upright_rows, 1), NEAR_RADIUS))
    hits = [(index.nearest(query.dhashes[start:stop], query.mirrored[start:stop], count, radius=radius), start)
            for start, stop, radius in groups if stop > start]
    if query.upright_rows == 2 and not (hits[-1][0].distances <= LIKELY_DISTANCE).any():
        hits.append((index.nearest(query.dhashes[upright + 1:], query.mirrored[upright + 1:], count), upright + 1))
    return RegionHits.nearest_of([RegionHits(h.ids, h.distances, h.mirrored, h.windows, h.queries + start)
                                  for h, start in hits], count)


def inner_hits(query: VisualQuery, index: RegionIndex, seen: np.ndarray,
               stored: Stored) -> tuple[RegionHits, dict[int, int]]:
    """The second look, for a query the first found no match for: the INNER_CANDIDATES images
    not `seen` nearest to the inner windows of each of query_boxes' boxes (the corner cuts among
    the archived common.regions.INNER_WINDOW windows alone, which is all they aim at and a ninth
    of the index to read) and pad bands, each direct and mirrored, within INNER_RADIUS, verified
    as a hit through that box's own row is (a band, on the content box; mirrored as the row
    was); those reaching MIN_INLIERS (a match), and those a pad band meets within
    COPY_DISTANCE, verified or not; and their inliers. A copy cropped on one axis only (a
    landscape photo from its top and bottom, say) or from a corner, mirrored or not, meets its
    original this way, and so does a picture on a blurred copy of itself, through the band of
    the box that it is; or of the whole frame, where the content box cut into the pad (a
    blurred pad is uniform where the picture is plain). The whole frame's windows serve a crop
    of a mostly plain picture whose content box shrank to its detail, while the archived
    picture kept its whole frame. A copy under a photo filter's vignette meets its original
    through the content box with the vignette divided out (`_devignetted_hits`)."""
    content, frame = query.parts[0], (0, query.render.shape[0], 0, query.render.shape[1])
    bands = pad_bands(query.render, [(box, _aspect(box, query.size)) for box in dict.fromkeys([content, frame])])
    boxes = query.boxes[:query.boxes_rows // 2]  # query_boxes': the content box last
    rows = inner_dhashes(query.render, boxes, bands)
    mirrored, place = np.divmod(np.arange(len(rows)), len(rows) // 2)  # the inner windows, then the bands
    box, cut = np.divmod(place, len(INNER))
    windows = place < len(boxes) * len(INNER)
    inner = index.nearest(rows, mirrored.astype(bool), INNER_CANDIDATES + len(seen), radius=INNER_RADIUS,
                          inner=windows & (cut >= AXIS_CUTS))  # the corner cuts
    inner = inner.take(np.flatnonzero(~np.isin(inner.ids, seen))[:INNER_CANDIDATES])
    # a pad band this near an archived window is a copy of it, if a flat one that verification fails
    copies = ~windows[inner.queries] & (inner.distances <= COPY_DISTANCE)
    # verified as the box's own row is (the bands on the content box), mirrored as the row was
    direct = np.where(windows[inner.queries], box[inner.queries], query.content_row)
    inner = RegionHits(inner.ids, inner.distances, inner.mirrored, inner.windows,
                       np.where(inner.mirrored, direct + query.boxes_rows // 2, direct))
    lifted = _devignetted_hits(query, index, np.concatenate([seen, inner.ids]))
    inner = inner.then(lifted)
    copies = np.concatenate([copies, lifted.distances <= COPY_DISTANCE])
    found = verified(query, inner, stored)
    kept = np.flatnonzero([found.get(int(i), 0) >= MIN_INLIERS or copy for i, copy in zip(inner.ids, copies)])
    return inner.take(kept), {int(i): found[int(i)] for i in inner.ids[kept] if int(i) in found}


def _devignetted_hits(query: VisualQuery, index: RegionIndex, seen: np.ndarray) -> RegionHits:
    """The 2 × INNER_CANDIDATES images not `seen` nearest to the content box with the darkening
    of a vignette divided out (common.vignette; none when its corners are not darker), direct
    and mirrored: its INNER_KEPT window (the middle, where least of the falloff is left) among
    the archived INNER_WINDOW windows within NEAR_RADIUS, and the whole box within LIFTED_RADIUS;
    each image by the nearer; as hits through the content box's row (mirrored as it met)."""
    content = query.parts[0]
    lifted = devignetted(query.render, content)
    if lifted is None:
        return RegionHits.none()
    count = 2 * INNER_CANDIDATES
    words, mirrored = query_dhashes(lifted, [window(content, (INNER_KEPT,) * 4), content])
    middle, whole = [0, 2], [1, 3]  # query_dhashes' rows: both boxes direct, then both mirrored
    near = RegionHits.nearest_of([
        index.nearest(words[middle], mirrored[middle], count + len(seen), inner=np.ones(2, dtype=bool)),
        index.nearest(words[whole], mirrored[whole], count + len(seen), radius=LIFTED_RADIUS)], count + len(seen))
    near = near.take(np.flatnonzero(~np.isin(near.ids, seen))[:count])
    row = np.where(near.mirrored, query.content_row + query.boxes_rows // 2, query.content_row)
    return RegionHits(near.ids, near.distances, near.mirrored, near.windows, row)


def _true_size(box: Box, size: tuple[int, int]) -> tuple[int, int]:
    """A box of the SIZE×SIZE render measured in the picture of displayed `size` (times SIZE)."""
    top, bottom, left, right = box
    return (right - left) * size[0], (bottom - top) * size[1]


def _aspect(box: Box, size: tuple[int, int]) -> float:
    """A box's true width / height in a picture of displayed `size`."""
    width, height = _true_size(box, size)
    return width / max(height, 1)


def _in_turn(first: int, second: int) -> np.ndarray:
    """Row order taking one of the first `first` rows, then one of the `second` after them, in turn."""
    turns = np.concatenate([np.arange(first) * 2, np.arange(second) * 2 + 1])
    return np.argsort(turns, kind="stable")


def verified(query: VisualQuery, chosen: RegionHits, stored: Stored) -> dict[int, int]:
    """The inliers of each chosen image that has stored features, in order, until one reaches
    STOP_INLIERS; stored features are asked for VERIFY_BATCH images at a time (making them is
    most of the cost)."""
    found: dict[int, int] = {}
    ids, rows = chosen.ids.tolist(), chosen.queries.tolist()
    for start in range(0, len(ids), VERIFY_BATCH):
        theirs = stored(ids[start:start + VERIFY_BATCH])
        for image_id, row in zip(ids[start:start + VERIFY_BATCH], rows[start:start + VERIFY_BATCH]):
            if image_id in theirs:
                found[image_id] = _inliers(query, int(row), theirs[image_id])
                if found[image_id] >= STOP_INLIERS:
                    return found
    return found


def _inliers(query: VisualQuery, row: int, theirs: Features) -> int:
    """The most inliers any part a hit through `row` is verified on gets, the parts taken in turn
    until one reaches STOP_INLIERS (the whole frame's features, the second part of a box's row,
    are then never made)."""
    best = 0
    for part in query.features(row):
        best = max(best, inliers(part, theirs))
        if best >= STOP_INLIERS:
            break
    return best


def _colours(pixels: np.ndarray) -> np.ndarray:
    """The seed's 12-bin histogram of these pixels, normalised as the archived ones are."""
    counts = histogram(pixels)
    return normalise_histograms(np.array([[value for c in CHANNELS for value in counts[c]]]))[0]


def rank(distance: float, found: int | None, colour: float = 0.0) -> float:
    """The ranking score: inliers from LIKELY_INLIERS on, plus a bonus for a near region dhash,
    less a little for different colours (the region dhash sees brightness alone)."""
    counted = found if found is not None and found >= LIKELY_INLIERS else 0
    return counted + DISTANCE_WEIGHT * max(0.0, DISTANCE_BONUS - distance) - COLOUR_WEIGHT * colour


def query_of(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> VisualQuery:
    """An uploaded image's VisualQuery (common.fingerprint's decode; ImageError if unusable)."""
    image, _ = open_image(data, max_pixels)
    width, height = displayed_size(image)
    return VisualQuery.of(render(image, data, SIZE), width, height)


def search_upload(data: bytes, index: RegionIndex, stored: Stored, limit: int,
                  max_pixels: int = DEFAULT_MAX_PIXELS, colours: Colours | None = None) -> list[VisualHit]:
    """What the similarity endpoint does with an uploaded file under `visual`."""
    return visual_search(query_of(data, max_pixels), index, stored, limit, colours=colours)
