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

from booru.func.similarity.groups import Groups


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

    def values_of(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(held, values): which of these images the snapshot holds, and their fingerprints
        (rows of images not held are undefined)."""
        ids = np.asarray(ids, dtype=np.int64)
        values = np.zeros((len(ids), self.delta_values.shape[1]), dtype=self.delta_values.dtype)
        held = np.zeros(len(ids), dtype=bool)
        groups = self.base.groups
        if len(groups.sorted_ids) and len(ids):
            at = np.searchsorted(groups.sorted_ids, ids).clip(max=len(groups.sorted_ids) - 1)
            rows = groups.position[at].astype(np.int64)
            found = (groups.sorted_ids[at] == ids) & self.alive[rows]
            values[found] = groups.keys[np.searchsorted(groups.start, rows[found], side="right") - 1]
            held |= found
        if len(self.delta_ids) and len(ids):
            order = np.argsort(self.delta_ids)
            at = np.searchsorted(self.delta_ids, ids, sorter=order).clip(max=len(order) - 1)
            found = self.delta_ids[order[at]] == ids
            values[found] = self.delta_values[order[at[found]]]
            held |= found
        return held, values


@dataclass(frozen=True)
class Hits:
    """Search results, best first: image ids, distances, and whether the mirrored query matched."""

    ids: np.ndarray
    distances: np.ndarray
    mirrored: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


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
        self._delta: dict[int, np.ndarray | None] = {}
        if base is None:
            ids = np.asarray(ids, dtype=np.int64)
            values = self._empty() if values is None else np.asarray(values, dtype=self.dtype).reshape(-1, self.width)
            base = self.base_type.of(ids, values)
        # fresh empty arrays: views like ids[:0] would keep the caller's whole arrays alive
        self.snapshot = Snapshot(base, np.ones(len(base.groups.ids), dtype=bool), np.empty(0, dtype=np.int64),
                                 self._empty())

    def _empty(self) -> np.ndarray:
        return np.empty((0, self.width), dtype=self.dtype)

    # changes
    def upsert(self, ids: Sequence[int] | np.ndarray, values: np.ndarray) -> None:
        """Add or replace the fingerprints of these images."""
        values = np.asarray(values, dtype=self.dtype).reshape(-1, self.width)
        self._change({int(i): values[n].copy() for n, i in enumerate(np.asarray(ids, dtype=np.int64))})

    def remove(self, ids: Sequence[int] | np.ndarray) -> None:
        self._change({int(i): None for i in np.asarray(ids, dtype=np.int64)})

    def _change(self, changes: dict[int, np.ndarray | None]) -> None:
        if not changes:
            return
        with self._lock:
            self._delta.update(changes)
            snapshot = self.snapshot
            rows = snapshot.base.groups.rows_of(np.fromiter(changes, dtype=np.int64, count=len(changes)))
            alive = snapshot.alive
            if len(rows) and alive[rows].any():
                alive = alive.copy()
                alive[rows] = False
            self.snapshot = Snapshot(snapshot.base, alive, *self._delta_arrays())

    def _delta_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        present = [(i, v) for i, v in self._delta.items() if v is not None]
        if not present:
            return np.empty(0, dtype=np.int64), self._empty()
        return (np.fromiter((i for i, _ in present), dtype=np.int64, count=len(present)),
                np.stack([v for _, v in present]))

    def needs_rebuild(self) -> bool:
        return len(self._delta) >= max(self.rebuild_at, len(self.snapshot.alive) // 20) and not self._rebuilding

    def rebuild(self) -> None:
        """Fold the delta into a new base; changes made meanwhile stay in the new delta."""
        with self._lock:
            if self._rebuilding:
                return
            self._rebuilding = True
            snapshot, folded = self.snapshot, dict(self._delta)
        try:
            base = self.folded(snapshot)
            with self._lock:
                self._delta = {i: v for i, v in self._delta.items() if folded.get(i, _MISSING) is not v}
                alive = np.ones(len(base.groups.ids), dtype=bool)
                if self._delta:
                    alive[base.groups.rows_of(np.fromiter(self._delta, dtype=np.int64))] = False
                self.snapshot = Snapshot(base, alive, *self._delta_arrays())
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


_MISSING = object()


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

