"""Exact nearest-`limit` searches without a radius, from one scan of the dhash groups.

When the default radius holds too few images, a search scans every dhash group once (a few
popcounts per group) and keeps the distances: the smallest radius holding `limit` images comes
from counting them per whole bit, and the images within it hold the nearest `limit`. For the
combined measure (dhash + weight × abs_norm, never below its dhash part), the `limit`-th best sum
S among those images bounds the answer: every image with a smaller sum is within S by dhash,
so measuring those gives the exact nearest `limit`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.distances import DHASH_BITS, DhashQuery, hamming, l1
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.index import Hits, Snapshot, best


@dataclass(frozen=True)
class Scan:
    """Every alive image's dhash distance to each query, kept per group."""

    snapshot: Snapshot
    groups: list[np.ndarray]  # per query: distance of each base group
    delta: list[np.ndarray]   # per query: distance of each delta image

    @classmethod
    def of(cls, index: DhashIndex, queries: list[DhashQuery]) -> "Scan":
        snapshot = index.snapshot
        keys = snapshot.base.groups.keys
        return cls(snapshot, [snapshot.base.distances(q) if len(keys) else np.empty(0) for q in queries],
                   [_distances(q, snapshot.delta_values) if len(snapshot.delta_ids) else np.empty(0)
                    for q in queries])

    def radius_holding(self, limit: int) -> float:
        """The smallest whole radius within which at least `limit` images lie (192: all)."""
        near = np.minimum.reduce(self.groups) if self.groups else np.empty(0)
        delta = np.minimum.reduce(self.delta) if self.delta else np.empty(0)
        levels = _levels(near)
        uneven, alive = self.snapshot.uneven_groups
        # every group counted once, then the few holding another number of alive images than one
        counts = _per_level(levels) + _per_level(levels[uneven], alive - 1) + _per_level(_levels(delta))
        enough = np.flatnonzero(np.cumsum(counts) >= limit)
        return float(DHASH_BITS) if not len(enough) else float(enough[0] + 1)

    def within(self, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, distances, mirrored) of the alive images within `radius` of any query."""
        snapshot, parts = self.snapshot, []
        for n, (groups, delta) in enumerate(zip(self.groups, self.delta)):
            found = np.flatnonzero(_within(groups, radius))
            ids, distances = snapshot.base.groups.expand(found, groups[found].astype(np.float64), snapshot.alive)
            near = _within(delta, radius)
            ids = np.concatenate([ids, snapshot.delta_ids[near]])
            distances = np.concatenate([distances, delta[near].astype(np.float64)])
            parts.append((ids, distances, np.full(len(ids), n > 0)))
        if not parts:
            return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=bool)
        return tuple(np.concatenate(p) for p in zip(*parts))


def _distances(query: DhashQuery, values: np.ndarray) -> np.ndarray:
    """The query's distance to every row of `values` (the delta), in the types of
    DhashBase.distances: whole bits as uint8 when all its bits count, else floats."""
    return hamming(values, query.words) if query.clipped is None else query.distance(values)


def _levels(distances: np.ndarray) -> np.ndarray:
    """Each distance's whole bits (what radius_holding counts by)."""
    if np.issubdtype(distances.dtype, np.integer):
        return distances
    return np.floor(distances).astype(np.int64)


def _per_level(levels: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """How many (or how much weight) at each whole distance 0..DHASH_BITS."""
    return np.bincount(levels, weights=weights, minlength=DHASH_BITS + 1)[:DHASH_BITS + 1].astype(np.int64)


def _within(distances: np.ndarray, radius: float) -> np.ndarray:
    """distances <= radius, compared in the distances' own type (whole bits: within its floor)."""
    if np.issubdtype(distances.dtype, np.integer):
        return distances <= math.floor(min(radius, DHASH_BITS))
    return distances <= radius


class Nearest:
    """The nearest `limit` images to a query, for growing limits, rescanning only when the
    index changed (e.g. images found deleted were removed)."""

    def __init__(self, dhashes: DhashIndex, queries: list[DhashQuery], histograms: HistogramIndex | None = None,
                 histogram: np.ndarray | None = None, weight: float = 0.0):
        self.dhashes, self.queries = dhashes, queries
        self.histograms, self.histogram, self.weight = histograms, histogram, weight
        self.scan: Scan | None = None

    def __call__(self, limit: int) -> Hits:
        if self.scan is None or self.scan.snapshot is not self.dhashes.snapshot:
            self.scan = Scan.of(self.dhashes, self.queries)
        near = self.scan.within(self.scan.radius_holding(limit))
        if self.histograms is None:
            return best(*near, limit)
        top = best(*self._summed(*near), limit)
        if len(top) < limit:  # some images have no histogram yet: take every image
            return best(*self._summed(*self.scan.within(float(DHASH_BITS))), limit)
        return best(*self._summed(*self.scan.within(float(top.distances[-1]))), limit)

    def _summed(self, ids: np.ndarray, dhash: np.ndarray, mirrored: np.ndarray) -> tuple[np.ndarray, ...]:
        """The combined sums of those images that have a histogram."""
        held, values = self.histograms.snapshot.values_of(ids)
        return ids[held], dhash[held] + self.weight * l1(values[held], self.histogram), mirrored[held]
