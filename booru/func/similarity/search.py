"""Search by a fingerprinted image: the nearest `limit` pictures, each with all its posts.

A search always answers with the nearest `limit` pictures whose posts pass the filters (fewer
only when the archive holds fewer): it searches the default radius first and, while too few
pictures are found there, asks the index for more images (a picture may be many images) and
then widens the radius (radii()) up to the largest distance the algorithm has. Every search at
a radius is exact, so the nearest `limit` pictures within the first radius holding that many
are the nearest overall. `max_distance`, when given, is a filter: nothing farther is returned.
"""
from __future__ import annotations

from typing import Iterator

from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.follow import followers
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.planner import (COMBINED_WEIGHT, DEFAULT_RADIUS, INDEXES, MAX_DISTANCE, NORM_P,
                                           dhash_queries, search_indexes)
from booru.func.similarity.results import POSTS_LIMIT, PostFilter, describe_pictures
from common.fingerprint import Fingerprint

RETRIES = 5  # searches repeated after dropping images deleted since the index saw them


def radii(algorithm: str, max_distance: float | None, indexes: dict, query: Fingerprint,
          limit: int) -> Iterator[tuple[float, bool]]:
    """(radius, whether it is the last) in turn: `max_distance` alone; for the histograms the
    largest (their k-d tree bounds it by the `limit`-th nearest); for the dhash searches the
    default, then from the dhash radius holding `limit` images (one scan) out to the largest."""
    largest = MAX_DISTANCE[algorithm]
    if max_distance is not None:
        yield float(max_distance), True
        return
    if algorithm in NORM_P:
        yield largest, True
        return
    yield DEFAULT_RADIUS[algorithm], False
    holding = indexes["dhash"].radius_holding(dhash_queries(query), limit)
    # the combined sum adds the histogram term to the dhash bits: widen by steps of it
    steps = [0.0] if algorithm == "dhash_xor_norm" else [COMBINED_WEIGHT * s for s in (0.5, 1, 2, 4)]
    for radius in sorted({holding + step for step in steps}):
        if DEFAULT_RADIUS[algorithm] < radius < largest:
            yield radius, False
            holding = radius
    radius = max(holding, DEFAULT_RADIUS[algorithm]) * 2
    while radius < largest:
        yield radius, False
        radius *= 2
    yield largest, True


def search_fingerprint(query: Fingerprint, algorithm: str, limit: int, max_distance: float | None = None,
                       posts: PostFilter = PostFilter(), posts_limit: int = POSTS_LIMIT) -> dict:
    """The nearest `limit` pictures to a fingerprinted query image, best first (distance, then
    the id of their nearest image)."""
    indexes = indexes_for(algorithm)
    pictures: list[dict] = []
    for radius, last in radii(algorithm, max_distance, indexes, query, limit):
        wanted, retries = limit, RETRIES
        while True:
            hits = search_indexes(indexes, query, algorithm, radius, wanted)
            if len(hits) < limit and not last:
                break  # fewer images than `limit` within this radius: fewer pictures too
            pictures, gone = describe_pictures(hits, algorithm, posts, posts_limit)
            if gone and retries:
                retries -= 1
                for index in indexes.values():
                    index.remove(gone)  # deleted with their image since the index saw them
                continue
            if len(pictures) >= limit or len(hits) < wanted:
                break
            wanted *= 4  # several hits were one picture, or their posts were filtered out
        if len(pictures) >= limit:
            break
    return {"algorithm": algorithm, "max_distance": max_distance, "hits": pictures[:limit]}


def indexes_for(algorithm: str) -> dict[str, DhashIndex | HistogramIndex]:
    """This process's indexes that `algorithm` reads, brought up to date."""
    return {kind: followers()[kind].current() for kind in INDEXES[algorithm]}
