"""The region index: every archived window's dhash (common.regions) in one exact dhash index,
keyed image id × len(WINDOWS) + window, searched for the images nearest to any of a query's
region dhashes; or to its inner windows' (common.regions.INNER), within the archived
INNER_WINDOW windows alone (the index's marked keys: dhash_index)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from booru.func.similarity.dhash_index import DhashBase, DhashIndex
from booru.func.similarity.index import Snapshot
from common.regions import INNER_WINDOW, WINDOWS

KEYS = len(WINDOWS)
# bits: the region search's candidates lie within it. Its lookups' cost grows steeply with it;
# copies farther than this (rotations, mostly) are met by the global candidates (visual.py).
NEAR_RADIUS = 32


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

    def take(self, rows: slice | np.ndarray) -> "RegionHits":
        return RegionHits(self.ids[rows], self.distances[rows], self.mirrored[rows], self.windows[rows],
                          self.queries[rows])

    def then(self, other: "RegionHits") -> "RegionHits":
        """These hits, then those of `other` on images these lack."""
        new = np.flatnonzero(~np.isin(other.ids, self.ids))
        added = other.take(new)
        return RegionHits(*(np.concatenate(pair) for pair in zip(
            (self.ids, self.distances, self.mirrored, self.windows, self.queries),
            (added.ids, added.distances, added.mirrored, added.windows, added.queries))))

    @staticmethod
    def nearest_of(parts: list["RegionHits"], count: int) -> "RegionHits":
        """The `count` images nearest in any of `parts`, each by its nearest hit (the lowest query
        row on a tie), ordered by (distance, id)."""
        if not parts:
            return RegionHits.none()
        ids, distances, mirrored, windows, rows = (np.concatenate(field) for field in zip(
            *((h.ids, h.distances, h.mirrored, h.windows, h.queries) for h in parts)))
        order = np.lexsort((rows, ids, distances))
        _, kept = np.unique(ids[order], return_index=True)
        chosen = order[np.sort(kept)][:count]
        return RegionHits(ids[chosen], distances[chosen], mirrored[chosen], windows[chosen], rows[chosen])

    @staticmethod
    def none() -> "RegionHits":
        return RegionHits(*(np.empty(0, dtype=t) for t in (np.int64, np.float64, bool, np.int64, np.int64)))


def keys_of(ids: np.ndarray) -> np.ndarray:
    return (np.asarray(ids, dtype=np.int64)[:, None] * KEYS + np.arange(KEYS)).ravel()


class RegionBase(DhashBase):
    """A dhash base over region keys whose INNER_WINDOW keys are marked."""

    @staticmethod
    def marked_keys(ids: np.ndarray) -> np.ndarray:
        return ids % KEYS == INNER_WINDOW


class RegionDhashIndex(DhashIndex):
    base_type = RegionBase


class RegionIndex:
    """Exact: `nearest` returns what measuring every window of every image would (tests hold it
    to a brute-force oracle)."""

    base_type = RegionBase

    def __init__(self, ids: np.ndarray | None = None, dhashes: np.ndarray | None = None,
                 base: RegionBase | None = None):
        """Over the images `ids` with their windows' `dhashes` (n × KEYS × 3), or over a `base`
        already made (its keys are keys_of the images)."""
        if base is not None:
            self.index = RegionDhashIndex(base=base)
            return
        ids = np.empty(0, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        dhashes = np.empty((0, KEYS, 3), dtype=np.uint64) if dhashes is None else dhashes
        self.index = RegionDhashIndex(keys_of(ids), np.asarray(dhashes, dtype=np.uint64).reshape(-1, 3))

    def upsert(self, ids: np.ndarray, dhashes: np.ndarray) -> None:
        self.index.upsert(keys_of(ids), np.asarray(dhashes, dtype=np.uint64).reshape(-1, 3))

    def remove(self, ids: np.ndarray) -> None:
        self.index.remove(keys_of(ids))

    def __len__(self) -> int:
        return len(self.index) // KEYS

    def rebuild_in_background(self) -> None:
        self.index.rebuild_in_background()

    def needs_rebuild(self) -> bool:
        return self.index.needs_rebuild()

    @property
    def snapshot(self) -> Snapshot:
        return self.index.snapshot

    def folded(self, snapshot: Snapshot) -> RegionBase:
        return self.index.folded(snapshot)

    @property
    def nbytes(self) -> int:
        return self.index.nbytes

    def _nearest_keys(self, words: np.ndarray, radius: float, count: int,
                      inner: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The keys within `radius` at or nearer than the `count`-th nearest (ties kept), of
        INNER_WINDOW windows alone if `inner`: first looked up within NEAR_RADIUS, the index's
        fast lookup, then, if that holds fewer, wider."""
        keys, distances = self._candidates(words, min(radius, NEAR_RADIUS), count, inner)
        if len(keys) < count and radius > NEAR_RADIUS:
            keys, distances = self._candidates(words, radius, count, inner)
        if len(keys) > count:
            cut = np.partition(distances, count - 1)[count - 1]
            near = distances <= cut
            keys, distances = keys[near], distances[near]
        return keys, distances

    def _candidates(self, words: np.ndarray, radius: float, count: int,
                    inner: bool) -> tuple[np.ndarray, np.ndarray]:
        keys, distances, _ = self.index.candidates([words], radius, count, marked=inner)
        if inner:
            kept = keys % KEYS == INNER_WINDOW
            keys, distances = keys[kept], distances[kept]
        return keys, distances

    def measure(self, ids: np.ndarray, queries: np.ndarray, mirrored: np.ndarray) -> RegionHits:
        """The region hits of these images (those the index holds, in the given order): each
        one's smallest distance to any of `queries` over its windows, ties as in `nearest`."""
        ids = np.asarray(ids, dtype=np.int64)
        held, values = self.index.snapshot.values_of(keys_of(ids))
        held = held.reshape(len(ids), KEYS).all(axis=1)
        ids, values = ids[held], values.reshape(len(ids), KEYS, 3)[held]
        if not len(ids) or not len(queries):
            return RegionHits.none()
        queries = np.asarray(queries, dtype=np.uint64)
        # distances[image, query row, window]; the first of the smallest in (direct, row, window) order
        distances = np.bitwise_count(values[:, None, :, :] ^ queries[None, :, None, :]).sum(axis=-1)
        rows = np.argsort(np.asarray(mirrored, dtype=bool), kind="stable")
        ordered = distances[:, rows, :].reshape(len(ids), -1)
        at = np.argmin(ordered, axis=1)
        row, window = rows[at // KEYS], at % KEYS
        return RegionHits(ids, ordered[np.arange(len(ids)), at].astype(np.float64),
                          np.asarray(mirrored, dtype=bool)[row], window, row)

    def nearest(self, queries: np.ndarray, mirrored: np.ndarray, limit: int, radius: float = NEAR_RADIUS,
                inner: np.ndarray | None = None) -> RegionHits:
        """The `limit` images nearest to any of `queries` (n × 3 uint64) within `radius`, by
        (distance, id); an image's hit is its nearest query and window (direct before mirrored,
        then the first query row, then the first window). The query rows `inner` flags are
        measured against INNER_WINDOW windows alone. Within NEAR_RADIUS every row's keys within
        it are looked up at once (DhashIndex.within_each); wider, row by row, the nearest first."""
        queries = np.asarray(queries, dtype=np.uint64).reshape(-1, 3)
        inner = np.zeros(len(queries), dtype=bool) if inner is None else np.asarray(inner, dtype=bool)
        if not len(queries):
            return RegionHits.none()
        if radius <= NEAR_RADIUS:
            keys, distances, rows = self.index.within_each(queries, radius, inner)
            kept = ~inner[rows] | (keys % KEYS == INNER_WINDOW)
            keys, distances, rows = keys[kept], distances[kept], rows[kept]
        else:
            parts = []
            for row, (words, only) in enumerate(zip(queries, inner)):
                # the nearest limit × KEYS keys hold at least `limit` images: a superset of the answer
                keys, distances = self._nearest_keys(words, radius, limit * KEYS, bool(only))
                parts.append((keys, distances, np.full(len(keys), row)))
            keys, distances, rows = (np.concatenate(p) for p in zip(*parts))
        flags = np.asarray(mirrored, dtype=bool)[rows]
        ids = keys // KEYS
        order = np.lexsort((keys % KEYS, rows, flags, ids, distances))
        ids, distances, flags, keys, rows = ids[order], distances[order], flags[order], keys[order], rows[order]
        _, first = np.unique(ids, return_index=True)
        first = np.sort(first)[:limit]
        return RegionHits(ids[first], distances[first], flags[first], keys[first] % KEYS, rows[first])
