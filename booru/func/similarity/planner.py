"""Query planning: which indexes an algorithm reads, its default radius, the queries a
fingerprinted image turns into (its dhash and mirrored dhash with their clipped bits, its
normalised histogram), and the searches to try in turn."""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np

from booru.func.similarity.combined import combined_search
from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.distances import DhashQuery, dhash_words, normalise_histograms
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.index import Hits
from booru.func.similarity.nearest import Nearest
from booru.func.similarity.visual import GLOBAL_CANDIDATES
from common.fingerprint import CHANNELS, Fingerprint

# Defaults from bench/search_quality.py: about the p95 distance of a captioned copy of a photo
# (crop 5 %: p95 22 bits / 0.20 / 0.075; caption: 31 / 0.38 / 0.135), where 1.2 % of pairs of
# different corpus pictures fall within 32 bits (most of them flat, featureless images).
# combined: 40 holds a captioned photo's p95 (27) with margin and lets in about as few pairs of
# different corpus pictures (1.6 %) as 32 bits of dhash do (1.5 %); the weight 3 (one abs_norm unit
# = 3 bits) ranked best. (56 would hold the farthest captioned photo, 54, but takes 3× the time at
# a million images.)
DEFAULT_RADIUS = {"combined": 40.0, "dhash_xor_norm": 32.0, "abs_norm": 0.4, "eucl_norm": 0.15}
COMBINED_WEIGHT = 3.0
INDEXES = {"combined": ("dhash", "histogram"), "dhash_xor_norm": ("dhash",), "abs_norm": ("histogram",),
           "eucl_norm": ("histogram",)}
NORM_P = {"abs_norm": 1, "eucl_norm": 2}
# Beyond the largest distance each algorithm can give (192 bits; L1 and L2 of three channels each
# summing to 1: 6 and √6), so that a search at this radius reaches every image.
MAX_DISTANCE = {"combined": 192.0 + COMBINED_WEIGHT * 6.0 + 1.0, "dhash_xor_norm": 193.0, "abs_norm": 6.5,
                "eucl_norm": 2.5}


def search_indexes(indexes: dict[str, DhashIndex | HistogramIndex], query: Fingerprint, algorithm: str,
                   radius: float, limit: int) -> Hits:
    """The `limit` images nearest to `query` within `radius` by `algorithm`, best first."""
    dhashes = dhash_queries(query)
    histogram = histogram_query(query)
    if algorithm == "combined":
        return combined_search(indexes["dhash"], indexes["histogram"], dhashes, histogram, radius, limit,
                               COMBINED_WEIGHT)
    if algorithm == "dhash_xor_norm":
        return indexes["dhash"].search(dhashes, radius, limit)
    return indexes["histogram"].search(histogram, radius, limit, NORM_P[algorithm])


def dhash_queries(query: Fingerprint) -> list[DhashQuery]:
    """The query's dhash and, if it has one, its mirrored dhash, each with its clipped bits."""
    found = []
    for words, clipped in ((query.dhash, query.dhash_clipped), (query.dhash_mirrored, query.dhash_mirrored_clipped)):
        if words:
            found.append(DhashQuery.of(dhash_words(*(words[c] for c in CHANNELS)),
                                       dhash_words(*(clipped[c] for c in CHANNELS)) if clipped else None))
    return found


def histogram_query(query: Fingerprint) -> np.ndarray:
    """The query's normalised histogram (12 float64)."""
    return normalise_histograms(np.array([[v for c in CHANNELS for v in query.histogram[c]]]))[0]


class Remembered:
    """A search for the nearest `n` images that answers a later call from the last one while
    the indexes are unchanged and that one holds the answer: it asked for at least `n`, or
    found fewer than it asked for (every image within the search's radius). The `visual`
    search asks `combined` for its global candidates and for the fill of its answer; this is
    one search, not two. Started `ahead`, it runs beside the caller's other work."""

    def __init__(self, search: Callable[[int], Hits], indexes: dict[str, DhashIndex | HistogramIndex]):
        self.search, self.indexes = search, indexes
        self.asked, self.hits, self.snapshots = 0, None, ()
        self._ahead: threading.Thread | None = None

    def ahead(self, n: int) -> None:
        """Begin the search for `n` on another thread, to be answered from when asked: its
        numpy work leaves the GIL to the caller's own work meanwhile."""
        if self._ahead is None:
            self._ahead = threading.Thread(target=self, args=(n,), name="similarity-ahead", daemon=True)
            self._ahead.start()

    def __call__(self, n: int) -> Hits:
        if self._ahead is not None and self._ahead is not threading.current_thread():
            self._ahead.join()
            self._ahead = None
        snapshots = tuple(index.snapshot for index in self.indexes.values())
        fresh = self.hits is not None and all(a is b for a, b in zip(snapshots, self.snapshots))
        if not fresh or (n > self.asked and len(self.hits) >= self.asked):
            self.asked, self.hits, self.snapshots = n, self.search(n), snapshots
        return self.hits.first(n)


def searches(indexes: dict[str, DhashIndex | HistogramIndex], query: Fingerprint, algorithm: str,
             max_distance: float | None) -> list[tuple[Callable[[int], Hits], bool]]:
    """The searches to try in turn, each as (the nearest `n` images, whether it reaches every
    image): within `max_distance` when given; else for the histograms within the largest
    distance (their k-d tree bounds it by the n-th nearest), and for the dhash searches within
    the default radius first (the multi-index lookups, fast while enough copies lie there), then
    the exact nearest from one scan (nearest.Nearest)."""
    def within(radius: float) -> Callable[[int], Hits]:
        return lambda n: search_indexes(indexes, query, algorithm, radius, n)

    if max_distance is not None:
        return [(within(float(max_distance)), True)]
    if algorithm in NORM_P:
        return [(within(MAX_DISTANCE[algorithm]), True)]
    if algorithm == "dhash_xor_norm":
        nearest = Nearest(indexes["dhash"], dhash_queries(query))
    else:
        nearest = Nearest(indexes["dhash"], dhash_queries(query), indexes["histogram"], histogram_query(query),
                          COMBINED_WEIGHT)
    return [(Remembered(within(DEFAULT_RADIUS[algorithm]), indexes), False), (Remembered(nearest, indexes), True)]


def visual_plan(indexes: dict[str, DhashIndex | HistogramIndex], query: Fingerprint, limit: int,
                max_distance: float | None) -> tuple[np.ndarray, list[tuple[Callable[[int], Hits], bool]]]:
    """The `visual` search's global candidates (the GLOBAL_CANDIDATES images nearest by
    `combined` within its default radius) and the `combined` searches its fill tries in turn.
    Without `max_distance` they are one plan: its first search asks for as many images as the
    fill will (at most 2 × `limit`: the visual pictures plus `limit`) and for no fewer than the
    global candidates, so that the fill is answered from it when enough lie within the radius;
    when too few do, the fill's scan of the whole archive is started ahead, on another thread,
    while the visual search runs."""
    if max_distance is None:
        plan = searches(indexes, query, "combined", None)
        asked = max(2 * limit, GLOBAL_CANDIDATES)
        near = plan[0][0](asked)
        if len(near) < asked:  # the fill will scan: it does so beside the visual search
            plan[1][0].ahead(asked)
        return near.ids[:GLOBAL_CANDIDATES], plan
    nearest = search_indexes(indexes, query, "combined", DEFAULT_RADIUS["combined"], GLOBAL_CANDIDATES)
    return nearest.ids, searches(indexes, query, "combined", max_distance)
