"""The region index: every archived window's dhash (common.regions) in one exact dhash index,
keyed image id × len(WINDOWS) + window, searched for the images nearest to any of a query's
region dhashes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from booru.func.similarity.dhash_index import DhashIndex
from common.regions import WINDOWS

KEYS = len(WINDOWS)
# bits: visual search's candidates lie within it (a farther region is not the same picture: the
# bench's originals were met within it), and the index's lookups find them quickly
NEAR_RADIUS = 40


@dataclass(frozen=True)
class RegionHits:
    """Images best first: their smallest distance to any query region, whether that query was
    mirrored, which query it was (its row) and the archived window it met."""

    ids: np.ndarray
    distances: np.ndarray
    mirrored: np.ndarray
    windows: np.ndarray
    queries: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def keys_of(ids: np.ndarray) -> np.ndarray:
    return (np.asarray(ids, dtype=np.int64)[:, None] * KEYS + np.arange(KEYS)).ravel()


class RegionIndex:
    """Exact: `nearest` returns what measuring every window of every image would (tests hold it
    to a brute-force oracle)."""

    def __init__(self, ids: np.ndarray | None = None, dhashes: np.ndarray | None = None):
        ids = np.empty(0, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        dhashes = np.empty((0, KEYS, 3), dtype=np.uint64) if dhashes is None else dhashes
        self.index = DhashIndex(keys_of(ids), np.asarray(dhashes, dtype=np.uint64).reshape(-1, 3))

    def upsert(self, ids: np.ndarray, dhashes: np.ndarray) -> None:
        self.index.upsert(keys_of(ids), np.asarray(dhashes, dtype=np.uint64).reshape(-1, 3))

    def remove(self, ids: np.ndarray) -> None:
        self.index.remove(keys_of(ids))

    def __len__(self) -> int:
        return len(self.index) // KEYS

    def rebuild_in_background(self) -> None:
        self.index.rebuild_in_background()

    @property
    def nbytes(self) -> int:
        return self.index.nbytes

    def _nearest_keys(self, words: np.ndarray, radius: float, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The keys within `radius` at or nearer than the `count`-th nearest (ties kept): first
        looked up within NEAR_RADIUS, the index's fast lookup, then, if that holds fewer, wider."""
        keys, distances, _ = self.index.candidates([words], min(radius, NEAR_RADIUS), count)
        if len(keys) < count and radius > NEAR_RADIUS:
            keys, distances, _ = self.index.candidates([words], radius, count)
        if len(keys) > count:
            cut = np.partition(distances, count - 1)[count - 1]
            near = distances <= cut
            keys, distances = keys[near], distances[near]
        return keys, distances

    def nearest(self, queries: np.ndarray, mirrored: np.ndarray, limit: int, radius: float = NEAR_RADIUS) -> RegionHits:
        """The `limit` images nearest to any of `queries` (n × 3 uint64) within `radius`, by
        (distance, id); an image's hit is its nearest query and window (direct before mirrored,
        then the first query row, then the first window)."""
        parts = []
        for row, (words, flag) in enumerate(zip(np.asarray(queries, dtype=np.uint64), mirrored)):
            # the nearest limit × KEYS keys hold at least `limit` images: a superset of the answer
            keys, distances = self._nearest_keys(words, radius, limit * KEYS)
            parts.append((keys, distances, np.full(len(keys), bool(flag)), np.full(len(keys), row)))
        if not parts:
            return RegionHits(*(np.empty(0, dtype=t) for t in (np.int64, np.float64, bool, np.int64, np.int64)))
        keys, distances, flags, rows = (np.concatenate(p) for p in zip(*parts))
        ids = keys // KEYS
        order = np.lexsort((keys % KEYS, rows, flags, ids, distances))
        ids, distances, flags, keys, rows = ids[order], distances[order], flags[order], keys[order], rows[order]
        _, first = np.unique(ids, return_index=True)
        first = np.sort(first)[:limit]
        return RegionHits(ids[first], distances[first], flags[first], keys[first] % KEYS, rows[first])
