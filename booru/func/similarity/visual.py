"""The `visual` search: region dhashes find candidates, ORB + RANSAC against their archived
thumbnails confirms and re-ranks the nearest few, `confidence` says how sure the answer is.

1. The query's region dhashes (common.regions.query_dhashes: whole frame and content box, each
   mirrored too) find the images whose archived windows are nearest (RegionIndex, exact).
2. The CANDIDATES nearest are verified: the inliers of a RANSAC similarity fit between the
   query's ORB features and those of the image's thumbnail (verify.py), with the mirrored
   query's features where a mirrored region met it.
3. Hits are ranked by inliers (counted from MIN_INLIERS on; fewer is what unrelated pictures
   reach), then by region distance, then by id; the nearest `limit` always come back.

Thresholds (bench/search_quality.py, tuning photos) live in `confidence`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from booru.func.similarity.region_index import RegionIndex
from booru.func.similarity.verify import Features, features, inliers
from common.fingerprint import DEFAULT_MAX_PIXELS, SIZE, displayed_size, open_image, render
from common.regions import query_dhashes

CANDIDATES = 10
MIN_INLIERS = 15
MATCH_INLIERS, LIKELY_INLIERS = 40, 20
MATCH_DISTANCE, LIKELY_DISTANCE = 10.0, 24.0


@dataclass(frozen=True)
class VisualQuery:
    dhashes: np.ndarray  # n × 3 uint64
    mirrored: np.ndarray  # n bools
    pixels: np.ndarray  # the query upright at its own aspect ratio, RGB, for ORB

    @classmethod
    def of(cls, small: np.ndarray, width: int, height: int) -> "VisualQuery":
        """From the 512×512 render and the image's displayed size."""
        import cv2
        dhashes, mirrored = query_dhashes(small)
        scale = 512 / max(width, height)
        upright = cv2.resize(small, (max(1, round(width * scale)), max(1, round(height * scale))),
                             interpolation=cv2.INTER_AREA)
        return cls(dhashes, mirrored, upright)


@dataclass(frozen=True)
class VisualHit:
    id: int
    distance: float
    inliers: int | None  # None: not verified (beyond the CANDIDATES nearest)
    mirrored: bool
    window: int
    confidence: str


def confidence(distance: float, found: int | None) -> str:
    """`match`, `likely` or `weak` from the region distance (bits of 192) and the inliers."""
    found = found or 0
    if found >= MATCH_INLIERS or distance <= MATCH_DISTANCE:
        return "match"
    if found >= LIKELY_INLIERS or distance <= LIKELY_DISTANCE:
        return "likely"
    return "weak"


def visual_search(query: VisualQuery, index: RegionIndex,
                  thumbnails: Callable[[list[int]], Mapping[int, np.ndarray]], limit: int,
                  candidates: int = CANDIDATES) -> list[VisualHit]:
    """The `limit` best images for `query`; `thumbnails` gives the RGB thumbnails of image ids
    (an image without one is ranked by its distance alone)."""
    near = index.nearest(query.dhashes, query.mirrored, max(limit, candidates))
    checked = [int(i) for i in near.ids[:candidates]]
    stored = thumbnails(checked)
    direct: dict[bool, Features] = {}
    found: dict[int, int] = {}
    for image_id, mirrored in zip(checked, near.mirrored[:candidates].tolist()):
        if image_id in stored:
            if mirrored not in direct:
                direct[mirrored] = features(query.pixels, mirrored)
            found[image_id] = inliers(direct[mirrored], features(stored[image_id]))
    hits = [VisualHit(int(i), float(d), found.get(int(i)), bool(m), int(w), confidence(float(d), found.get(int(i))))
            for i, d, m, w in zip(near.ids, near.distances, near.mirrored, near.windows)]
    hits.sort(key=lambda h: (-_counted(h.inliers), h.distance, h.id))
    return hits[:limit]


def _counted(found: int | None) -> int:
    return found if found is not None and found >= MIN_INLIERS else 0


def query_of(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> VisualQuery:
    """An uploaded image's VisualQuery (common.fingerprint's decode; ImageError if unusable)."""
    image, _ = open_image(data, max_pixels)
    width, height = displayed_size(image)
    return VisualQuery.of(render(image, data, SIZE), width, height)


def search_upload(data: bytes, index: RegionIndex, thumbnails: Callable[[list[int]], Mapping[int, np.ndarray]],
                  limit: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[VisualHit]:
    """What the similarity endpoint does with an uploaded file under `visual`."""
    return visual_search(query_of(data, max_pixels), index, thumbnails, limit)
