"""An exact index of one fingerprint kind: an immutable base (of the subclass's `base_type`), an
`alive` mask retiring its rows, and a small delta scanned brute force. Changes land in the delta;
when it grows the base is rebuilt (in a background thread; under gunicorn follow.py stores the
rebuilt base for every worker instead). Readers use an immutable Snapshot, so searches never see
a half-applied change."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from booru.func.similarity.groups import Groups, search_sorted


class Base(Protocol):
    """What an index kind builds from its images: groups of identical fingerprints, searchable;
    made of arrays it can be restored from (stored.py keeps them in files every worker maps)."""

    groups: Groups

    @classmethod
    def of(cls, ids: np.ndarray, values: np.ndarray) -> "Base": ...

    def arrays(self) -> dict[str, np.ndarray]: ...

    @classmethod
    def restored(cls, arrays: dict[str, np.ndarray]) -> "Base": ...

    @property
    def nbytes(self) -> int: ...


@dataclass(frozen=True)
class Snapshot:
    base: Base
    alive: np.ndarray         # (n,) bool over base.groups.ids
    delta_ids: np.ndarray     # (m,) int64
    delta_values: np.ndarray  # (m, width)

    @property
    def size(self) -> int:
        return int(self.alive.sum()) + len(self.delta_ids)

    @cached_property
    def alive_per_group(self) -> np.ndarray:
        """How many alive images each base group holds."""
        start = self.base.groups.start
        if len(start) < 2:
            return np.zeros(0, dtype=np.int64)
        return np.add.reduceat(self.alive.astype(np.int64), start[:-1]) * (np.diff(start) > 0)

    @cached_property
    def uneven_groups(self) -> tuple[np.ndarray, np.ndarray]:
        """The base groups holding another number of alive images than one, and those numbers."""
        alive = self.alive_per_group
        uneven = np.flatnonzero(alive != 1)
        return uneven, alive[uneven]

    def values_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(held, values): which of these images the snapshot holds, and their fingerprints
        (rows of images not held are undefined)."""
        ids = np.asarray(ids, dtype=np.int64)
        values = np.zeros((len(ids), self.delta_values.shape[1]), dtype=self.delta_values.dtype)
        held = np.zeros(len(ids), dtype=bool)
        groups = self.base.groups
        if len(groups.sorted_ids) and len(ids):
            at = search_sorted(groups.sorted_ids, ids).clip(max=len(groups.sorted_ids) - 1)
            rows = groups.position[at].astype(np.int64)
            found = (groups.sorted_ids[at] == ids) & self.alive[rows]
            values[found] = groups.keys[search_sorted(groups.start, rows[found], side="right") - 1]
            held |= found
        if len(self.delta_ids) and len(ids):
            order = np.argsort(self.delta_ids)
            at = np.searchsorted(self.delta_ids, ids, sorter=order).clip(max=len(order) - 1)
            found = self.delta_ids[order[at]] == ids
            values[found] = self.delta_values[order[at[found]]]
            held |= found
        return held, values


@dataclass(frozen=True)
class Changes:
    """The changes not folded into the base yet, in arrays: one entry per image, its latest (a
    fingerprint, or its removal), stamped with the number of the change that made it."""

    ids: np.ndarray       # (m,) int64
    values: np.ndarray    # (m, width); rows of removals are zeros
    present: np.ndarray   # (m,) bool: False = removed
    stamps: np.ndarray    # (m,) int64

    @classmethod
    def none(cls, values: np.ndarray) -> "Changes":
        return cls(np.empty(0, dtype=np.int64), values, np.empty(0, dtype=bool), np.empty(0, dtype=np.int64))

    def then(self, ids: np.ndarray, values: np.ndarray, present: bool, stamp: int) -> "Changes":
        """These changes followed by those to `ids` (the last of an id repeated in them wins)."""
        last = len(ids) - 1 - np.unique(ids[::-1], return_index=True)[1]
        ids, values = ids[last], values[last]
        kept = self.take(~np.isin(self.ids, ids))
        return Changes(np.concatenate([kept.ids, ids]), np.concatenate([kept.values, values]),
                       np.concatenate([kept.present, np.full(len(ids), present)]),
                       np.concatenate([kept.stamps, np.full(len(ids), stamp, dtype=np.int64)]))

    def take(self, rows: np.ndarray) -> "Changes":
        return Changes(self.ids[rows], self.values[rows], self.present[rows], self.stamps[rows])

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Hits:
    """Search results, best first: image ids, distances, and whether the mirrored query matched."""

    ids: np.ndarray
    distances: np.ndarray
    mirrored: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def first(self, n: int) -> "Hits":
        """The best `n` of these hits."""
        return Hits(self.ids[:n], self.distances[:n], self.mirrored[:n])


class Index:
    """An exact index of one fingerprint kind; safe for concurrent searches and updates."""

    width: int
    dtype: type
    base_type: type[Base]

    def __init__(self, ids: Sequence[int] | np.ndarray = (), values: np.ndarray | None = None,
                 rebuild_at: int = 20_000, base: Base | None = None):
        """Over the images `ids` with fingerprints `values`, or over a `base` already made."""
        self.rebuild_at = rebuild_at
        self._lock = threading.Lock()
        self._rebuilding = False
        self._changes = Changes.none(self._empty())
        self._stamp = 0
        if base is None:
            ids = np.asarray(ids, dtype=np.int64)
            values = self._empty() if values is None else np.asarray(values, dtype=self.dtype)
            values = values.reshape(-1, self.width)
            base = self.base_type.of(ids, values)
        # fresh empty arrays: views like ids[:0] would keep the caller's whole arrays alive
        self.snapshot = Snapshot(base, np.ones(len(base.groups.ids), dtype=bool), np.empty(0, dtype=np.int64),
                                 self._empty())

    def _empty(self) -> np.ndarray:
        return np.empty((0, self.width), dtype=self.dtype)

    # changes
    def upsert(self, ids: Sequence[int] | np.ndarray, values: np.ndarray) -> None:
        """Add or replace the fingerprints of these images."""
        self._change(np.asarray(ids, dtype=np.int64), np.asarray(values, dtype=self.dtype).reshape(-1, self.width),
                     True)

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self._change(ids, np.zeros((len(ids), self.width), dtype=self.dtype), False)

    def _change(self, ids: np.ndarray, values: np.ndarray, present: bool) -> None:
        if not len(ids):
            return
        with self._lock:
            self._stamp += 1
            self._changes = self._changes.then(ids, values, present, self._stamp)
            snapshot = self.snapshot
            rows = snapshot.base.groups.rows_of(ids)
            alive = snapshot.alive
            if len(rows) and alive[rows].any():
                alive = alive.copy()
                alive[rows] = False
            self.snapshot = self._with_changes(snapshot.base, alive)

    def _with_changes(self, base: Base, alive: np.ndarray) -> Snapshot:
        present = self._changes.present
        return Snapshot(base, alive, self._changes.ids[present], self._changes.values[present])

    @property
    def pending(self) -> int:
        """Changes not folded into the base."""
        return len(self._changes)

    def needs_rebuild(self) -> bool:
        return self.pending >= max(self.rebuild_at, len(self.snapshot.alive) // 20) and not self._rebuilding

    def rebuild(self) -> None:
        """Fold the delta into a new base; changes made meanwhile stay in the new delta."""
        with self._lock:
            if self._rebuilding:
                return
            self._rebuilding = True
            snapshot, folded = self.snapshot, self._stamp
        try:
            base = self.folded(snapshot)
            with self._lock:
                self._changes = self._changes.take(self._changes.stamps > folded)
                alive = np.ones(len(base.groups.ids), dtype=bool)
                alive[base.groups.rows_of(self._changes.ids)] = False
                self.snapshot = self._with_changes(base, alive)
        finally:
            self._rebuilding = False

    def rebuild_in_background(self) -> None:
        if self.needs_rebuild():
            threading.Thread(target=self.rebuild, name="similarity-index-rebuild", daemon=True).start()

    def folded(self, snapshot: Snapshot) -> Base:
        """A new base holding what `snapshot` holds (its alive base images and its delta)."""
        groups = snapshot.base.groups
        keep = snapshot.alive
        base_ids = groups.ids[keep]
        base_values = np.repeat(groups.keys, np.diff(groups.start), axis=0)[keep]
        return self.base_type.of(np.concatenate([base_ids, snapshot.delta_ids]),
                                 np.concatenate([base_values, snapshot.delta_values]))

    # searching
    def __len__(self) -> int:
        return self.snapshot.size

    @property
    def nbytes(self) -> int:
        snapshot = self.snapshot
        return snapshot.base.nbytes + snapshot.alive.nbytes + snapshot.delta_ids.nbytes + snapshot.delta_values.nbytes


def best(ids: np.ndarray, distances: np.ndarray, mirrored: np.ndarray, limit: int) -> Hits:
    """One entry per image (its smallest distance, the direct query winning ties), best
    `limit` by (distance, id)."""
    order = np.lexsort((mirrored, ids, distances))
    ids, distances, mirrored = ids[order], distances[order], mirrored[order]
    _, first = np.unique(ids, return_index=True)
    first.sort()
    first = first[:limit]
    return Hits(ids[first], distances[first], mirrored[first])



def search_one(snapshot: Snapshot, query, radius: float, limit: int,
               within: Callable[..., tuple[np.ndarray, np.ndarray]], radii: Callable[..., Iterator[float]],
               distance: Callable[[np.ndarray, object], np.ndarray], mirrored: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alive base images within the first tried radius holding ≥ `limit` of them (or all within
    `radius`), plus every delta image within `radius`: a superset of the true top `limit`."""
    for tried in radii(query, radius, limit):
        groups, distances = within(query, min(tried, radius))
        ids, distances = snapshot.base.groups.expand(groups, distances, snapshot.alive)
        if len(ids) >= limit:
            break
    delta = distance(snapshot.delta_values, query) if len(snapshot.delta_ids) else np.empty(0)
    near = delta <= radius
    ids = np.concatenate([ids, snapshot.delta_ids[near]])
    distances = np.concatenate([distances.astype(np.float64), delta[near].astype(np.float64)])
    return ids, distances, np.full(len(ids), mirrored)

