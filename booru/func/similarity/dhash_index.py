"""The dhash index: groups of 192-bit dhashes with multi-index hashing over twelve 16-bit chunks.

Generalised pigeonhole: if every chunk c differed by more than t_c bits the total would be
at least sum(t_c + 1); so with sum(t_c + 1) = d + 1, a hash within d bits has some chunk c
within t_c bits of the query's (t_c = -1: chunk c not searched). The thresholds are handed
out greedily to the chunks whose buckets around the query hold the fewest postings (real
hashes are skewed: flat areas give runs of zero bits). Bucket lookups enumerate the chunk
values, compiled loops measure the candidates (kernels.py); when the lookups would read a
large share of the groups (far radii), a scan of the groups is cheaper and is done instead.
A query with clipped bits (DhashQuery) looks up by its other bits only: a chunk's lookups
take every value of its clipped bits (the planner weighs that like any other cost).
A base may mark some of its keys (`marked_keys`, a subclass's choice: the region index marks
one window of every image): marked keys are grouped apart and their groups come first, so each
bucket holds their postings first and a lookup can read those alone (`within(..., marked=True)`).
"""
from __future__ import annotations

import sys
from itertools import combinations
from typing import Iterator, Sequence

import numpy as np

from booru.func.similarity.distances import ALL_COUNTED, DHASH_BITS, DhashQuery, dhash_distance
from booru.func.similarity.groups import Groups
from booru.func.similarity.index import Hits, Index, best, search_one
from booru.func.similarity.kernels import distances_all, hamming_all, plan, within_all, within_postings

CHUNK_BITS = 16
CHUNKS = DHASH_BITS // CHUNK_BITS
BUCKETS = 1 << CHUNK_BITS
MAX_THRESHOLD = 4  # per-chunk bit thresholds go up to this (2517 bucket lookups per chunk)
MAX_FREE_BITS = 8  # a chunk with more clipped query bits than this is not looked up
SCAN_SHARE = 0.3  # scan all groups instead when the lookups would read more than this share
SINGLE_STEP_RADIUS = 47  # dhash radii up to this are searched in one step


def _masks_within(bits: int) -> list[np.ndarray]:
    """masks[t]: every 16-bit value with exactly t bits set, for t = 0..bits."""
    found = []
    for t in range(bits + 1):
        found.append(np.array([sum(1 << b for b in chosen) for chosen in combinations(range(CHUNK_BITS), t)],
                              dtype=np.int64))
    return found


# every flip pattern of thresholds up to MAX_THRESHOLD, ring by ring: ring t at FLIPS[RING_BOUNDS[t]:RING_BOUNDS[t + 1]]
RINGS = _masks_within(MAX_THRESHOLD)
FLIPS = np.concatenate(RINGS)
RING_BOUNDS = np.concatenate([[0], np.cumsum([len(ring) for ring in RINGS])])


class DhashBase:
    """Groups of dhash words with 16-bit-chunk postings (multi-index hashing)."""

    def __init__(self, groups: Groups, postings: np.ndarray, offsets: np.ndarray, sizes: np.ndarray,
                 marked_sizes: np.ndarray):
        self.groups, self.postings, self.offsets, self.sizes = groups, postings, offsets, sizes
        self.marked_sizes = marked_sizes  # per bucket: its first postings, those of the marked keys' groups
        for array in self.arrays().values():  # immutable, as the mapped ones are: one type for the loops
            array.flags.writeable = False

    @staticmethod
    def marked_keys(ids: np.ndarray) -> np.ndarray | None:
        """Which of these keys a lookup can be restricted to (None: none)."""
        return None

    @classmethod
    def of(cls, ids: np.ndarray, values: np.ndarray) -> "DhashBase":
        ids = np.asarray(ids)
        marked = cls.marked_keys(ids)
        groups = Groups.of(ids, np.asarray(values, dtype=np.uint64).reshape(-1, 3),
                           None if marked is None else ~marked)  # the marked keys' groups first
        postings, offsets, marked_sizes = cls._postings(groups.keys, 0 if marked is None else int(
            cls.marked_keys(groups.ids[groups.start[:-1]]).sum()))
        return cls(groups, postings, offsets, np.diff(offsets).astype(np.int32),  # sizes: postings per bucket
                   marked_sizes)

    def arrays(self) -> dict[str, np.ndarray]:
        return {**self.groups.arrays(), "postings": self.postings, "offsets": self.offsets, "sizes": self.sizes,
                "marked_sizes": self.marked_sizes}

    @classmethod
    def restored(cls, arrays: dict[str, np.ndarray]) -> "DhashBase":
        return cls(Groups.restored(arrays), arrays["postings"], arrays["offsets"], arrays["sizes"],
                   arrays["marked_sizes"])

    @staticmethod
    def chunks(words: np.ndarray) -> np.ndarray:
        """(u, 3) uint64 -> (u, 12) chunk values, chunk c = 16 bits of word c // 4."""
        words = words.reshape(-1, 3)
        parts = [(words[:, c // 4] >> np.uint64(16 * (c % 4))) & np.uint64(0xFFFF) for c in range(CHUNKS)]
        return np.stack(parts, axis=1).astype(np.int64) if len(words) else np.empty((0, CHUNKS), np.int64)

    @classmethod
    def _postings(cls, keys: np.ndarray, marked: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For chunk c and value v, groups postings[offsets[c·65536 + v]:offsets[… + 1]],
        ascending: the first `marked` groups' first (marked_sizes[c·65536 + v] of them)."""
        chunks = cls.chunks(keys)
        u = len(keys)
        postings = np.empty(CHUNKS * u, dtype=np.int32)
        offsets = np.empty(CHUNKS * BUCKETS + 1, dtype=np.int64)
        marked_sizes = np.zeros(CHUNKS * BUCKETS, dtype=np.int32)
        for c in range(CHUNKS):
            column = chunks[:, c].astype(np.uint16)
            postings[c * u:(c + 1) * u] = np.argsort(column, kind="stable")
            counts = np.bincount(column, minlength=BUCKETS)
            if marked:
                marked_sizes[c * BUCKETS:(c + 1) * BUCKETS] = np.bincount(column[:marked], minlength=BUCKETS)
            offsets[c * BUCKETS] = c * u
            np.cumsum(counts[:-1], out=offsets[c * BUCKETS + 1:(c + 1) * BUCKETS])
            offsets[c * BUCKETS + 1:(c + 1) * BUCKETS] += c * u
        offsets[-1] = CHUNKS * u
        return postings, offsets, marked_sizes

    def _sizes(self, marked: bool) -> np.ndarray:
        """Postings per bucket: all of them, or the marked keys' groups' alone."""
        return self.marked_sizes if marked else self.sizes

    def thresholds(self, words: np.ndarray, radius: int, counted: np.ndarray | None = None,
                   marked: bool = False) -> tuple[np.ndarray, float, np.ndarray]:
        """Per-chunk bit thresholds t_c (-1: chunk not searched) with sum(t_c + 1) = radius + 1,
        grown greedily where the postings are fewest (the marked keys' alone, if `marked`);
        the postings they read; and the buckets they read (kernels.plan). The cost is ∞ when
        the radius is too large for thresholds up to MAX_THRESHOLD, or the query's clipped
        bits (those outside `counted`) leave too few chunks to look up."""
        need = radius + 1
        if need > CHUNKS * (MAX_THRESHOLD + 1):
            return np.full(CHUNKS, MAX_THRESHOLD), float("inf"), np.empty(0, dtype=np.int64)
        # A query whose bits all count grows no chunk more than one past an even share of `need`
        # (so most rings of a near radius need no costing); one with clipped bits may need to.
        top = MAX_THRESHOLD if counted is not None else min(MAX_THRESHOLD, -(-need // CHUNKS))
        return plan(self._sizes(marked), np.asarray(words, dtype=np.uint64), ALL_COUNTED if counted is None else counted,
                    need, top, FLIPS, RING_BOUNDS, CHUNK_BITS, MAX_FREE_BITS)

    def within(self, query: DhashQuery, radius: float, marked: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Every group within `radius` of `query`, with its distance (exact); if `marked`, every
        group with a marked key within it, and perhaps others (a scan reads them all)."""
        keys = self.groups.keys
        bits = query.lookup_radius(radius)
        if len(keys) == 0 or bits < 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        thresholds, cost, buckets = self.thresholds(query.words, bits, query.counted, marked)
        if cost == float("inf") or cost > len(keys) * SCAN_SHARE:
            return within_all(keys, *query.terms(), bits, float(radius))
        words, counted, scale = query.terms()
        candidates, distances, _ = within_postings(
            self.postings, self.offsets[buckets], self._sizes(marked)[buckets], np.zeros(len(buckets), dtype=np.int64),
            keys, words[None], counted[None], np.array([scale]), bits, float(radius))
        found, first = np.unique(candidates, return_index=True)
        return found, distances[first]

    def within_each(self, queries: Sequence[DhashQuery], radius: float,
                    marked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(groups, distances, rows): `within` of each query at once, with the row of the query
        each group is within `radius` of (a group once per query); `marked` flags the queries
        looked up as `within(..., marked=True)`. The bucket lookups of all of them are measured
        in one compiled loop."""
        keys = self.groups.keys
        bits = int(np.floor(radius + 1e-9))  # DhashQuery.lookup_radius, the same for every query
        none = np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.int64)
        if len(keys) == 0 or bits < 0:
            return none
        found, lookups = [], []
        for row, (query, only) in enumerate(zip(queries, marked)):
            thresholds, cost, buckets = self.thresholds(query.words, bits, query.counted, bool(only))
            if cost == float("inf") or cost > len(keys) * SCAN_SHARE:
                groups, distances = within_all(keys, *query.terms(), bits, float(radius))
                found.append((groups, distances, np.full(len(groups), row)))
            else:
                lookups.append((row, buckets, self._sizes(bool(only))[buckets]))
        if lookups:
            rows = np.array([row for row, _, _ in lookups])
            terms = [queries[row].terms() for row in rows]
            groups, distances, found_by = within_postings(
                self.postings, self.offsets[np.concatenate([buckets for _, buckets, _ in lookups])],
                np.concatenate([sizes for _, _, sizes in lookups]),
                np.repeat(np.arange(len(lookups)), [len(buckets) for _, buckets, _ in lookups]), keys,
                np.stack([words for words, _, _ in terms]), np.stack([counted for _, counted, _ in terms]),
                np.array([scale for _, _, scale in terms], dtype=np.float64), bits, float(radius))
            owners = np.repeat(np.arange(len(lookups)), found_by)
            _, first = np.unique(owners * len(keys) + groups, return_index=True)  # met in several buckets
            found.append((groups[first], distances[first], rows[owners[first]]))
        if not found:
            return none
        return tuple(np.concatenate(part) for part in zip(*found))

    def distances(self, query: DhashQuery) -> np.ndarray:
        """The query's distance to every group: whole bits as uint8 when all its bits count (an
        eighth of the memory of floats, for a scan of every group), else floats."""
        if query.clipped is None:
            return hamming_all(self.groups.keys, query.words)
        return distances_all(self.groups.keys, *query.terms())

    def radii(self, query: np.ndarray, radius: float, limit: int) -> Iterator[float]:
        """Radii to try in turn; the last is `radius` itself."""
        if radius > SINGLE_STEP_RADIUS:
            yield SINGLE_STEP_RADIUS
        yield radius

    @property
    def nbytes(self) -> int:
        return (self.groups.nbytes + self.postings.nbytes + self.offsets.nbytes + self.sizes.nbytes
                + self.marked_sizes.nbytes)



class DhashIndex(Index):
    width, dtype, base_type = 3, np.uint64, DhashBase

    def search(self, queries: Sequence[DhashQuery | np.ndarray], radius: float, limit: int) -> Hits:
        """The `limit` images nearest to any of `queries` (the 2nd one mirrored) within `radius`
        (plain words are queries whose bits all count)."""
        return best(*self.candidates(queries, radius, limit), limit)

    def candidates(self, queries: Sequence[DhashQuery | np.ndarray], radius: float,
                   limit: int = sys.maxsize, marked: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, distances, mirrored), unordered and an image perhaps twice: a superset of the
        `limit` nearest within `radius` (every image within `radius` when no limit is given); if
        `marked`, a superset of the marked keys' (the caller keeps those it wants)."""
        snapshot = self.snapshot
        within = snapshot.base.within
        if marked:  # every candidate within the radius: those of a first, nearer radius may not be marked
            within, limit = (lambda query, tried: snapshot.base.within(query, tried, True)), sys.maxsize
        found = [search_one(snapshot, DhashQuery.of(q), radius, limit, within, snapshot.base.radii,
                            dhash_distance, n > 0)
                 for n, q in enumerate(queries)]
        return tuple(np.concatenate(parts) for parts in zip(*found))

    def within_each(self, queries: np.ndarray, radius: float,
                    marked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, distances, rows): every image within `radius` of each of `queries` (n × 3
        words, every bit counting), with its distance and the row of the query, once per query;
        for the queries `marked` flags, a superset of the marked keys' (DhashBase.within_each)."""
        snapshot = self.snapshot
        queries = [DhashQuery.of(words) for words in np.asarray(queries, dtype=np.uint64)]
        groups, distances, rows = snapshot.base.within_each(queries, radius, marked)
        members, of = snapshot.base.groups.members(groups, snapshot.alive)
        found = [(snapshot.base.groups.ids[members].astype(np.int64), distances[of], rows[of])]
        if len(snapshot.delta_ids):
            for row, query in enumerate(queries):
                delta = query.distance(snapshot.delta_values)
                near = np.flatnonzero(delta <= radius)
                found.append((snapshot.delta_ids[near], delta[near], np.full(len(near), row)))
        return tuple(np.concatenate(part) for part in zip(*found))


def compile_loops() -> None:
    """Compile the loops a search of any base runs (kernels.py; numba compiles on first use, or
    reads what it compiled before from its cache): gunicorn's master does it before it forks the
    workers, which then share them instead of each compiling its own."""
    base = DhashBase.of(np.arange(2), np.zeros((2, 3), dtype=np.uint64))
    none = np.empty(0, dtype=np.int64)  # gathered, as `within` gathers its buckets' ranges
    for query in (DhashQuery.of(np.zeros(3, dtype=np.uint64)),
                  DhashQuery.of(np.zeros(3, dtype=np.uint64), np.array([1, 0, 0], dtype=np.uint64))):
        base.thresholds(query.words, 0, query.counted)
        terms = (*query.terms(), 0, 0.0)
        words, counted, scale = query.terms()
        within_postings(base.postings, base.offsets[none], base.sizes[none], none, base.groups.keys, words[None],
                        counted[None], np.array([scale]), 0, 0.0)
        within_all(base.groups.keys, *terms)
        base.distances(query)
