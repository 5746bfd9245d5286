"""The `visual` search as booru answers it: the query's regions against this process's region
index (visual.visual_search), verified against the candidates' stored thumbnails, grouped per
picture with their posts, then filled up to `limit` pictures with the nearest by `combined`
(a search always answers with `limit` pictures, fewer only when the archive holds fewer).

A visual hit's `distance` is its region distance (bits of 192) and its `confidence` visual's
(verified inliers, region distance); a picture filling the answer keeps its `combined` distance
and confidence: its regions met none of the query's within region_index.NEAR_RADIUS, or it has
none (archived without a thumbnail, or not yet upgraded), and `combined` judges it then.
`max_distance`, when given, filters the visual hits by region distance and the fill by its
`combined` distance.
"""
from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np
from sqlalchemy import text

from booru.extensions import db
from booru.func.similarity.confidence import score
from booru.func.similarity.follow import followers
from booru.func.similarity.index import Hits
from booru.func.similarity.query import Query
from booru.func.similarity.results import POSTS_LIMIT, PostFilter, describe_pictures
from booru.func.similarity.verify import Features, features
from booru.func.similarity.visual import VisualHit, VisualQuery, visual_search

RETRIES = 5  # searches repeated after dropping images deleted since the index saw them
# an image's own thumbnail, else that of another image with the same file
THUMBNAILS_OF = text("""
    SELECT DISTINCT ON (i.id) i.id, t.data FROM image i
    JOIN image o ON o.id = i.id OR (i.sha256 IS NOT NULL AND o.sha256 = i.sha256)
    JOIN thumbnail t ON t.id = o.id
    WHERE i.id = ANY(:ids) ORDER BY i.id, o.id <> i.id, o.id""")


def stored_features(ids: list[int]) -> dict[int, Features]:
    """ORB features of the stored thumbnails of `ids` (those that have one)."""
    if not ids:
        return {}
    found = {}
    for row in db.session.execute(THUMBNAILS_OF, {"ids": ids}):
        pixels = cv2.imdecode(np.frombuffer(row.data, np.uint8), cv2.IMREAD_COLOR_RGB)
        if pixels is not None:
            found[row.id] = features(pixels)
    return found


def stored_colours(ids: list[int]) -> dict[int, np.ndarray]:
    """The normalised seed histograms of `ids` from this process's histogram index."""
    held, values = followers()["histogram"].current().snapshot.values_of(np.asarray(ids, dtype=np.int64))
    return {int(i): values[n] for n, i in enumerate(ids) if held[n]}


def identical_first(pictures: list[dict], sha256: str) -> list[dict]:
    """The picture whose file is the upload itself, if found, first: at distance 0, a match
    (its regions, made from its thumbnail, differ from the upload's by a few bits)."""
    same = [p for p in pictures if p["sha256"] == sha256]
    if not same:
        return pictures
    exact = {**same[0], "distance": 0.0, "score": score(0.0, "visual"), "confidence": "match"}
    return [exact] + [p for p in pictures if p is not same[0]]


def _hits(found: list[VisualHit]) -> Hits:
    return Hits(np.array([h.id for h in found], dtype=np.int64), np.array([h.distance for h in found]),
                np.array([h.mirrored for h in found], dtype=bool))


def search_visual(query: Query, fill: Callable[[int], list[dict]], limit: int,
                  max_distance: float | None = None, posts: PostFilter = PostFilter(),
                  posts_limit: int = POSTS_LIMIT, global_ids: Sequence[int] = ()) -> dict:
    """The best `limit` pictures for the query image, best first; `fill(n)` gives the nearest
    `n` pictures by `combined` (within `max_distance`), `global_ids` the nearest images by
    `combined` (visual.visual_search verifies the first few)."""
    region_query = VisualQuery.of(query.render, query.width, query.height)
    index = followers()["region"].current()
    pictures: list[dict] = []
    for _ in range(RETRIES + 1):
        found = visual_search(region_query, index, stored_features, limit, colours=stored_colours,
                              global_ids=global_ids)
        if max_distance is not None:
            found = [h for h in found if h.distance <= max_distance]
        judged = {h.id: h.confidence for h in found}
        pictures, gone = describe_pictures(_hits(found), "visual", posts, posts_limit, judged)
        if not gone:
            break
        index.remove(np.asarray(gone, dtype=np.int64))  # deleted with their image since the index saw them
    pictures = identical_first(pictures, query.sha256)
    if len(pictures) < limit:
        seen = {p["sha256"] or p["id"] for p in pictures}
        for picture in fill(limit + len(pictures)):
            if (picture["sha256"] or picture["id"]) not in seen and len(pictures) < limit:
                pictures.append(picture)
    return {"algorithm": "visual", "max_distance": max_distance, "hits": pictures[:limit]}
