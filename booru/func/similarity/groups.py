"""Images grouped by identical fingerprint: an index searches groups and expands a matching
group to all its images at once, so an image posted 1000 times costs one row."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + l) for every (s, l), vectorised."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


def lexicographic(values: np.ndarray) -> np.ndarray:
    """The stable order of the rows of `values` (n × width) by their columns left to right, as
    np.lexsort of the reversed columns gives; sorted by the first column alone, then the rows
    tied there by all (most rows are not: far faster than sorting by every column)."""
    order = np.argsort(values[:, 0], kind="stable")
    leading = values[order, 0]
    tied = np.zeros(len(order), dtype=bool)
    same = leading[1:] == leading[:-1]
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any() and values.shape[1] > 1:
        at = np.flatnonzero(tied)
        rows = order[at]
        order[at] = rows[np.lexsort(values[rows][:, ::-1].T)]
    return order


def narrow(values: np.ndarray) -> np.ndarray:
    """int32 where every value fits, else int64: ids and offsets are most of an index's memory
    after its fingerprints, and int32 halves them up to two billion rows and ids."""
    limits = np.iinfo(np.int32)
    fits = len(values) == 0 or (int(values.min()) >= limits.min and int(values.max()) <= limits.max)
    return values.astype(np.int32 if fits else np.int64, copy=False)


def search_sorted(haystack: np.ndarray, needles: np.ndarray, side: str = "left") -> np.ndarray:
    """np.searchsorted with the needles in the haystack's integer type: given int64 needles,
    numpy would convert the whole int32 haystack on every call. Needles beyond that type's range
    are clipped to it, so they can only be told apart from a value of the haystack by comparing
    it with them, as callers looking values up do."""
    needles = np.asarray(needles)
    if needles.dtype != haystack.dtype:
        limits = np.iinfo(haystack.dtype)
        needles = np.clip(needles, limits.min, limits.max).astype(haystack.dtype)
    return np.searchsorted(haystack, needles, side=side)


@dataclass(frozen=True)
class Groups:
    """Images grouped by identical fingerprint: group g holds ids[start[g]:start[g + 1]]."""

    keys: np.ndarray        # (u, width) the distinct fingerprints
    start: np.ndarray       # (u + 1,) int32 (`narrow`)
    ids: np.ndarray         # (n,) int32 (`narrow`) image ids, group by group
    sorted_ids: np.ndarray  # (n,) the same ascending
    position: np.ndarray    # (n,) int32: index into `ids` of sorted_ids[i]

    @classmethod
    def of(cls, ids: np.ndarray, values: np.ndarray, leading: np.ndarray | None = None) -> "Groups":
        """Images of identical fingerprints grouped; with `leading` (a bool per image), images
        are grouped by (leading, fingerprint) and the groups whose `leading` is False come first."""
        if len(ids) == 0:
            empty = np.empty(0, dtype=np.int64)
            return cls(values[:0], np.zeros(1, dtype=np.int64), empty, empty, empty.astype(np.int32))
        order = lexicographic(values)
        if leading is not None:
            order = order[np.argsort(leading[order].view(np.uint8), kind="stable")]
        ordered = values[order]
        first = np.ones(len(order), dtype=bool)
        first[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
        if leading is not None:
            classes = leading[order]
            first[1:] |= classes[1:] != classes[:-1]
        keys = ordered[first]
        start = narrow(np.append(np.flatnonzero(first), len(ordered)))
        grouped = narrow(np.ascontiguousarray(ids[order], dtype=np.int64))
        by_id = np.argsort(grouped, kind="stable")
        return cls(np.ascontiguousarray(keys), start, grouped, grouped[by_id], by_id.astype(np.int32))

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that make these groups, by field name (stored.py writes them)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def restored(cls, arrays: dict[str, np.ndarray]) -> "Groups":
        return cls(**{f.name: arrays[f.name] for f in fields(cls)})

    def rows_of(self, image_ids: np.ndarray) -> np.ndarray:
        """Positions in `ids` of those `image_ids` that are here."""
        if len(self.sorted_ids) == 0:
            return np.empty(0, dtype=np.int64)
        at = search_sorted(self.sorted_ids, image_ids).clip(max=len(self.sorted_ids) - 1)
        found = self.sorted_ids[at] == image_ids
        return self.position[at[found]].astype(np.int64)

    def expand(self, groups: np.ndarray, distances: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image ids, distances) of the alive images of `groups`."""
        rows, of = self.members(groups, alive)
        return self.ids[rows], distances[of]

    def members(self, groups: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, of): the rows in `ids` of the alive images of `groups`, and which of `groups` each is in."""
        counts = self.start[groups + 1] - self.start[groups]
        rows = ranges(self.start[groups], counts)
        of = np.repeat(np.arange(len(groups)), counts)
        keep = alive[rows]
        return rows[keep], of[keep]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.keys, self.start, self.ids, self.sorted_ids, self.position))
