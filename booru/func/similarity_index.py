"""Exact in-memory similarity indexes over image fingerprints (DESIGN.md §9).

Pure numpy/scipy, no database: booru.func.search loads them and keeps them in step.

* Images with identical fingerprints form one *group*; an index searches groups and expands
  a matching group to all its images at once, so an image posted 1000 times costs one row.
* dhash (192 bits as three uint64 words): multi-index hashing over the twelve 16-bit chunks.
  Generalised pigeonhole: if every chunk c differed by more than t_c bits the total would be
  at least sum(t_c + 1); so with sum(t_c + 1) = d + 1, a hash within d bits has some chunk c
  within t_c bits of the query's (t_c = -1: chunk c not searched). The thresholds are handed
  out greedily to the chunks whose buckets around the query hold the fewest postings (real
  hashes are skewed: flat areas give runs of zero bits). Bucket lookups enumerate the chunk
  values, numpy popcounts verify the candidates; when the lookups would read a large share
  of the groups (far radii), a scan of the groups is cheaper and is done instead.
  A query with clipped bits (DhashQuery) looks up by its other bits only: a chunk's lookups
  take every value of its clipped bits (the planner weighs that like any other cost).
* Histograms (4 bins per channel, normalised per channel): a scipy cKDTree over the groups,
  with exact radius queries (p=1 for abs_norm, p=2 for eucl_norm) and exact kNN to bound the
  radius when only the `limit` nearest are wanted. Candidates are re-measured with the one
  canonical distance function, so results equal a brute-force scan bit for bit.
* Combined (dhash + weight × abs_norm): every image within the radius by dhash is a
  candidate (the histogram term is never negative); its histogram is looked up in the
  histogram index and the sum measured, nearest by dhash first, until no farther candidate
  can still be among the `limit` best; same exactness as the other two.
* Changes land in a small *delta* (scanned brute force) and retire base rows through an
  `alive` mask; when the delta grows, the base is rebuilt (in a background thread in booru).
  Readers use an immutable Snapshot, so searches never see a half-applied change.
"""
from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Callable, Iterator, Sequence

import numpy as np
from scipy.spatial import cKDTree

DHASH_BITS = 192
CHUNK_BITS = 16
CHUNKS = DHASH_BITS // CHUNK_BITS
BUCKETS = 1 << CHUNK_BITS
MAX_THRESHOLD = 4  # per-chunk bit thresholds go up to this (2517 bucket lookups per chunk)
MAX_FREE_BITS = 8  # a chunk with more clipped query bits than this is not looked up
SCAN_SHARE = 0.3  # scan all groups instead when the lookups would read more than this share
SINGLE_STEP_RADIUS = 47  # dhash radii up to this are searched in one step
PAD = 1e-9  # relative slack for tree queries; candidates are re-measured exactly


# --- canonical distances (the brute-force reference uses exactly these) ----------------------

def hamming(values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Bits differing between each row of `values` (n×3 uint64) and `query` (3 uint64)."""
    return hamming_at(values, slice(None), query)


def hamming_at(values: np.ndarray, rows: np.ndarray | slice, query: np.ndarray) -> np.ndarray:
    """hamming(values[rows], query), gathering word by word (fast when `values` is column-major)."""
    total = np.bitwise_count(values[:, 0][rows] ^ query[0]).astype(np.int32)
    total += np.bitwise_count(values[:, 1][rows] ^ query[1])
    total += np.bitwise_count(values[:, 2][rows] ^ query[2])
    return total


@dataclass(frozen=True)
class DhashQuery:
    """A query's 192-bit dhash (3 uint64 words) and its `clipped` bits: those comparing two
    clipped cells of the query image (blown highlights, crushed shadows; see
    common.fingerprint.dhash_clipped), which are 0 whatever the picture there was.

    Its distance to a stored dhash is the smaller of the plain Hamming distance and the bits
    differing outside the clipped ones scaled to 192: a brighter copy whose light background
    clipped still finds its original, while a picture that is white there anyway (clip art)
    keeps the plain distance. Without clipped bits (or with all 192: a flat picture) it is the
    plain Hamming distance. This is the one dhash distance, of the index and of brute_force.
    """

    words: np.ndarray
    clipped: np.ndarray | None  # None: no bit is clipped (or every bit)

    @classmethod
    def of(cls, query: "DhashQuery | np.ndarray", clipped: np.ndarray | None = None) -> "DhashQuery":
        if isinstance(query, DhashQuery):
            return query
        if clipped is not None:
            clipped = np.asarray(clipped, dtype=np.uint64)
            if int(np.bitwise_count(clipped).sum()) in (0, DHASH_BITS):
                clipped = None
        return cls(np.asarray(query, dtype=np.uint64), clipped)

    @property
    def counted(self) -> np.ndarray | None:
        """The bits outside the clipped ones (None: all of them)."""
        return None if self.clipped is None else ~self.clipped

    def lookup_radius(self, radius: float) -> int:
        """The most bits outside the clipped ones a hit within `radius` can differ in (either
        distance is at least that count): the index looks up by those bits alone."""
        return int(np.floor(radius + 1e-9))

    def distance(self, values: np.ndarray) -> np.ndarray:
        return self.distance_at(values, slice(None))

    def outside_at(self, values: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        """Bits differing outside the clipped ones, for values[rows]."""
        return self._differing_at(values, rows, self.counted)

    def distance_at(self, values: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        """distance(values[rows]), word by word like hamming_at."""
        if self.clipped is None:
            return hamming_at(values, rows, self.words).astype(np.float64)
        outside = self.outside_at(values, rows)
        plain = outside + self._differing_at(values, rows, self.clipped)
        counted = DHASH_BITS - int(np.bitwise_count(self.clipped).sum())
        return np.minimum(plain.astype(np.float64), outside * (DHASH_BITS / counted))

    def _differing_at(self, values: np.ndarray, rows: np.ndarray | slice, mask: np.ndarray) -> np.ndarray:
        total = np.zeros(len(values[:, 0][rows]), dtype=np.int32)
        for word in range(3):
            total += np.bitwise_count((values[:, word][rows] ^ self.words[word]) & mask[word])
        return total


def dhash_distance(values: np.ndarray, query: DhashQuery) -> np.ndarray:
    return query.distance(values)


def l1(values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """abs_norm: sum of absolute differences, columns added left to right (deterministic)."""
    total = np.abs(values[:, 0] - query[0])
    for column in range(1, values.shape[1]):
        total += np.abs(values[:, column] - query[column])
    return total


def l2(values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """eucl_norm: Euclidean distance, columns added left to right (deterministic)."""
    total = (values[:, 0] - query[0]) ** 2
    for column in range(1, values.shape[1]):
        total += (values[:, column] - query[column]) ** 2
    return np.sqrt(total)


NORMS: dict[int, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {1: l1, 2: l2}


def normalise_histograms(counts: np.ndarray) -> np.ndarray:
    """(n, 12) bin counts (red, green, blue × 4) -> per-channel fractions as float64."""
    channels = np.asarray(counts, dtype=np.float64).reshape(-1, 3, 4)
    totals = channels[:, :, 0] + channels[:, :, 1] + channels[:, :, 2] + channels[:, :, 3]
    totals[totals == 0] = 1.0
    return np.ascontiguousarray((channels / totals[:, :, None]).reshape(-1, 12))


def dhash_words(red: str, green: str, blue: str) -> np.ndarray:
    """Three 16-hex-digit channel hashes -> the 3 uint64 words the dhash index holds."""
    return np.array([int(red, 16), int(green, 16), int(blue, 16)], dtype=np.uint64)


# --- helpers ---------------------------------------------------------------------------------

def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Concatenation of arange(s, s + l) for every (s, l), vectorised."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


def _masks_within(bits: int) -> list[np.ndarray]:
    """masks[t]: every 16-bit value with exactly t bits set, for t = 0..bits."""
    found = []
    for t in range(bits + 1):
        found.append(np.array([sum(1 << b for b in chosen) for chosen in combinations(range(CHUNK_BITS), t)],
                              dtype=np.int64))
    return found


RINGS = _masks_within(5)
BALLS = [np.concatenate(RINGS[: t + 1]) for t in range(len(RINGS))]
ALL_VALUES = np.arange(BUCKETS, dtype=np.int64)
POPCOUNT16 = np.bitwise_count(ALL_VALUES).astype(np.int64)


def _partial_chunks(counted_chunks: np.ndarray | None) -> np.ndarray:
    """The chunks some of whose bits do not count."""
    if counted_chunks is None:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(counted_chunks != BUCKETS - 1)


def _flip_levels(counted_chunk: int) -> np.ndarray:
    """For every 16-bit flip pattern, how many counted bits it flips (the others flip freely)."""
    return POPCOUNT16[ALL_VALUES & int(counted_chunk)]


def _ball(chunk: int, threshold: int, counted_chunks: np.ndarray | None) -> np.ndarray:
    """The flip patterns a chunk's lookups enumerate: at most `threshold` counted bits flipped."""
    if counted_chunks is None or counted_chunks[chunk] == BUCKETS - 1:
        return BALLS[threshold]
    return ALL_VALUES[_flip_levels(counted_chunks[chunk]) <= threshold]


@dataclass(frozen=True)
class Groups:
    """Images grouped by identical fingerprint: group g holds ids[start[g]:start[g + 1]]."""

    keys: np.ndarray        # (u, width) the distinct fingerprints
    start: np.ndarray       # (u + 1,) int64
    ids: np.ndarray         # (n,) int64 image ids, group by group
    sorted_ids: np.ndarray  # (n,) int64 ascending
    position: np.ndarray    # (n,) int32: index into `ids` of sorted_ids[i]

    @classmethod
    def of(cls, ids: np.ndarray, values: np.ndarray) -> "Groups":
        if len(ids) == 0:
            empty = np.empty(0, dtype=np.int64)
            return cls(values[:0], np.zeros(1, dtype=np.int64), empty, empty, empty.astype(np.int32))
        keys, inverse = np.unique(values, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        order = np.argsort(inverse, kind="stable")
        start = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(inverse, minlength=len(keys)), out=start[1:])
        grouped = np.ascontiguousarray(ids[order], dtype=np.int64)
        by_id = np.argsort(grouped, kind="stable")
        return cls(np.ascontiguousarray(keys), start, grouped, grouped[by_id], by_id.astype(np.int32))

    def rows_of(self, image_ids: np.ndarray) -> np.ndarray:
        """Positions in `ids` of those `image_ids` that are here."""
        if len(self.sorted_ids) == 0:
            return np.empty(0, dtype=np.int64)
        at = np.searchsorted(self.sorted_ids, image_ids).clip(max=len(self.sorted_ids) - 1)
        found = self.sorted_ids[at] == image_ids
        return self.position[at[found]].astype(np.int64)

    def expand(self, groups: np.ndarray, distances: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(image ids, distances) of the alive images of `groups`."""
        counts = self.start[groups + 1] - self.start[groups]
        rows = ranges(self.start[groups], counts)
        keep = alive[rows]
        return self.ids[rows][keep], np.repeat(distances, counts)[keep]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.keys, self.start, self.ids, self.sorted_ids, self.position))


# --- the two kinds of base index ---------------------------------------------------------------

class DhashBase:
    """Groups of dhash words with 16-bit-chunk postings (multi-index hashing)."""

    def __init__(self, ids: np.ndarray, values: np.ndarray):
        groups = Groups.of(ids, np.asarray(values, dtype=np.uint64).reshape(-1, 3))
        # column-major: verifying candidates gathers from three contiguous word arrays
        self.groups = replace(groups, keys=np.asfortranarray(groups.keys))
        self.postings, self.offsets = self._postings(self.groups.keys)
        self.sizes = np.diff(self.offsets).astype(np.int32)  # postings per bucket

    @staticmethod
    def chunks(words: np.ndarray) -> np.ndarray:
        """(u, 3) uint64 -> (u, 12) chunk values, chunk c = 16 bits of word c // 4."""
        words = words.reshape(-1, 3)
        parts = [(words[:, c // 4] >> np.uint64(16 * (c % 4))) & np.uint64(0xFFFF) for c in range(CHUNKS)]
        return np.stack(parts, axis=1).astype(np.int64) if len(words) else np.empty((0, CHUNKS), np.int64)

    @classmethod
    def _postings(cls, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For chunk c and value v, groups postings[offsets[c·65536 + v]:offsets[… + 1]]."""
        chunks = cls.chunks(keys)
        u = len(keys)
        postings = np.empty(CHUNKS * u, dtype=np.int32)
        offsets = np.empty(CHUNKS * BUCKETS + 1, dtype=np.int64)
        for c in range(CHUNKS):
            column = chunks[:, c].astype(np.uint16)
            postings[c * u:(c + 1) * u] = np.argsort(column, kind="stable")
            counts = np.bincount(column, minlength=BUCKETS)
            offsets[c * BUCKETS] = c * u
            np.cumsum(counts[:-1], out=offsets[c * BUCKETS + 1:(c + 1) * BUCKETS])
            offsets[c * BUCKETS + 1:(c + 1) * BUCKETS] += c * u
        offsets[-1] = CHUNKS * u
        return postings, offsets

    def ring_costs(self, query_chunks: np.ndarray, counted_chunks: np.ndarray | None = None) -> np.ndarray:
        """cost[c, t]: postings read (plus one per lookup) when chunk c's threshold grows to t."""
        chunk_base = np.arange(CHUNKS)[:, None] * BUCKETS
        cost = np.empty((CHUNKS, MAX_THRESHOLD + 1))
        for t in range(MAX_THRESHOLD + 1):
            cost[:, t] = self.sizes[chunk_base + (query_chunks[:, None] ^ RINGS[t][None, :])].sum(axis=1) + len(RINGS[t])
        for c in _partial_chunks(counted_chunks):
            if CHUNK_BITS - POPCOUNT16[counted_chunks[c]] > MAX_FREE_BITS:
                cost[c] = np.inf  # at least 2^free lookups at every threshold: never worth it
                continue
            sizes = self.sizes[c * BUCKETS + (query_chunks[c] ^ ALL_VALUES)] + 1
            cost[c] = np.bincount(_flip_levels(counted_chunks[c]), weights=sizes, minlength=CHUNK_BITS + 1)[
                :MAX_THRESHOLD + 1]
        return cost

    def thresholds(self, query_chunks: np.ndarray, radius: int,
                   counted_chunks: np.ndarray | None = None) -> tuple[np.ndarray, float]:
        """Per-chunk bit thresholds t_c (-1: chunk not searched) with sum(t_c + 1) = radius + 1,
        grown greedily where the postings are fewest; and the postings they read. (∞ when
        the radius is too large for thresholds up to MAX_THRESHOLD, or the query's clipped
        bits leave too few chunks to look up.)"""
        need = radius + 1
        if need > CHUNKS * (MAX_THRESHOLD + 1):
            return np.full(CHUNKS, MAX_THRESHOLD), float("inf")
        cost = self.ring_costs(query_chunks, counted_chunks)
        levels = np.full(CHUNKS, -1)
        total = 0.0
        for _ in range(need):
            step = np.where(levels < MAX_THRESHOLD, cost[np.arange(CHUNKS), np.minimum(levels + 1, MAX_THRESHOLD)],
                            np.inf)
            chunk = int(np.argmin(step))
            if step[chunk] == np.inf:  # no chunk can grow (clipped query bits): scan instead
                return np.full(CHUNKS, MAX_THRESHOLD), float("inf")
            levels[chunk] += 1
            total += step[chunk]
        return levels, total

    def within(self, query: DhashQuery, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """Every group within `radius` of `query`, with its distance (exact)."""
        keys = self.groups.keys
        bits = query.lookup_radius(radius)
        if len(keys) == 0 or bits < 0:
            return np.empty(0, dtype=np.int64), np.empty(0)
        query_chunks = self.chunks(query.words)[0]
        counted_chunks = None if query.counted is None else self.chunks(query.counted)[0]
        thresholds, cost = self.thresholds(query_chunks, bits, counted_chunks)
        scan = cost == float("inf") or cost > len(keys) * SCAN_SHARE
        if scan and query.clipped is None:
            distances = query.distance(keys)
            found = np.flatnonzero(distances <= radius)
            return found, distances[found]
        if scan:  # the bits outside the clipped ones first
            candidates = np.flatnonzero(query.outside_at(keys, slice(None)) <= bits)
        else:
            buckets = np.concatenate([c * BUCKETS + (query_chunks[c] ^ _ball(c, t, counted_chunks))
                                      for c, t in enumerate(thresholds) if t >= 0])
            low = self.offsets[buckets]
            candidates = self.postings[ranges(low, self.sizes[buckets])]
        distances = query.distance_at(keys, candidates)
        keep = distances <= radius
        found, first = np.unique(candidates[keep], return_index=True)
        return found.astype(np.int64), distances[keep][first]

    def radii(self, query: np.ndarray, radius: float, limit: int) -> Iterator[float]:
        """Radii to try in turn; the last is `radius` itself."""
        if radius > SINGLE_STEP_RADIUS:
            yield SINGLE_STEP_RADIUS
        yield radius

    @property
    def nbytes(self) -> int:
        return self.groups.nbytes + self.postings.nbytes + self.offsets.nbytes + self.sizes.nbytes


class HistogramBase:
    """Groups of normalised histograms in a k-d tree (exact radius and kNN queries)."""

    def __init__(self, ids: np.ndarray, values: np.ndarray):
        self.groups = Groups.of(ids, np.asarray(values, dtype=np.float64).reshape(-1, 12))
        self.tree = cKDTree(self.groups.keys, copy_data=False, balanced_tree=False) if len(ids) else None

    def within(self, query: np.ndarray, radius: float, p: int) -> tuple[np.ndarray, np.ndarray]:
        if self.tree is None:
            return np.empty(0, dtype=np.int64), np.empty(0)
        found = np.asarray(self.tree.query_ball_point(query, radius * (1 + PAD) + PAD, p=p), dtype=np.int64)
        distances = NORMS[p](self.groups.keys[found], query)
        keep = distances <= radius
        return found[keep], distances[keep]

    def radii(self, query: np.ndarray, radius: float, limit: int, p: int) -> Iterator[float]:
        """Distance of the k-th nearest group (k = limit, 4·limit, …) while below `radius`."""
        k = limit
        while self.tree is not None and k < len(self.groups.keys):
            distances, _ = self.tree.query(query, k=k, p=p, distance_upper_bound=radius * (1 + PAD) + PAD)
            kth = float(np.atleast_1d(distances)[-1])
            if not np.isfinite(kth) or kth * (1 + PAD) + PAD >= radius:
                break
            yield kth * (1 + PAD) + PAD
            k *= 4
        yield radius

    @property
    def nbytes(self) -> int:
        tree = self.tree.indices.nbytes if self.tree is not None else 0
        return self.groups.nbytes + tree + 64 * max(1, len(self.groups.keys)) // 8  # nodes, roughly


# --- the index: base + delta, snapshots, updates ------------------------------------------------

@dataclass(frozen=True)
class Snapshot:
    base: DhashBase | HistogramBase
    alive: np.ndarray         # (n,) bool over base.groups.ids
    delta_ids: np.ndarray     # (m,) int64
    delta_values: np.ndarray  # (m, width)

    @property
    def size(self) -> int:
        return int(self.alive.sum()) + len(self.delta_ids)

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

    def __init__(self, ids: Sequence[int] | np.ndarray = (), values: np.ndarray | None = None,
                 rebuild_at: int = 20_000):
        ids = np.asarray(ids, dtype=np.int64)
        values = self._empty() if values is None else np.asarray(values, dtype=self.dtype).reshape(-1, self.width)
        self.rebuild_at = rebuild_at
        self._lock = threading.Lock()
        self._rebuilding = False
        self._delta: dict[int, np.ndarray | None] = {}
        base = self.build(ids, values)
        # fresh empty arrays: views like ids[:0] would keep the caller's whole arrays alive
        self.snapshot = Snapshot(base, np.ones(len(base.groups.ids), dtype=bool), np.empty(0, dtype=np.int64),
                                 self._empty())

    # subclass hooks
    def build(self, ids: np.ndarray, values: np.ndarray) -> DhashBase | HistogramBase:
        raise NotImplementedError

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
            groups = snapshot.base.groups
            keep = snapshot.alive
            base_ids = groups.ids[keep]
            base_values = np.repeat(groups.keys, np.diff(groups.start), axis=0)[keep]
            base = self.build(np.concatenate([base_ids, snapshot.delta_ids]),
                              np.concatenate([base_values, snapshot.delta_values]))
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

    # searching
    def __len__(self) -> int:
        return self.snapshot.size

    @property
    def nbytes(self) -> int:
        snapshot = self.snapshot
        return snapshot.base.nbytes + snapshot.alive.nbytes + snapshot.delta_ids.nbytes + snapshot.delta_values.nbytes


_MISSING = object()


def _best(ids: np.ndarray, distances: np.ndarray, mirrored: np.ndarray, limit: int) -> Hits:
    """One entry per image (its smallest distance, the direct query winning ties), best
    `limit` by (distance, id)."""
    order = np.lexsort((mirrored, ids, distances))
    ids, distances, mirrored = ids[order], distances[order], mirrored[order]
    _, first = np.unique(ids, return_index=True)
    first.sort()
    first = first[:limit]
    return Hits(ids[first], distances[first], mirrored[first])


class DhashIndex(Index):
    width, dtype = 3, np.uint64

    def build(self, ids: np.ndarray, values: np.ndarray) -> DhashBase:
        return DhashBase(ids, values)

    def search(self, queries: Sequence[DhashQuery | np.ndarray], radius: float, limit: int) -> Hits:
        """The `limit` images nearest to any of `queries` (the 2nd one mirrored) within `radius`
        (plain words are queries whose bits all count)."""
        return _best(*self.candidates(queries, radius, limit), limit)

    def candidates(self, queries: Sequence[DhashQuery | np.ndarray], radius: float,
                   limit: int = sys.maxsize) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, distances, mirrored), unordered and an image perhaps twice: a superset of the
        `limit` nearest within `radius` (every image within `radius` when no limit is given)."""
        snapshot = self.snapshot
        found = [_search_one(snapshot, DhashQuery.of(q), radius, limit, snapshot.base.within, snapshot.base.radii,
                             dhash_distance, n > 0)
                 for n, q in enumerate(queries)]
        return tuple(np.concatenate(parts) for parts in zip(*found))


class HistogramIndex(Index):
    width, dtype = 12, np.float64

    def build(self, ids: np.ndarray, values: np.ndarray) -> HistogramBase:
        return HistogramBase(ids, values)

    def search(self, query: np.ndarray, radius: float, limit: int, p: int) -> Hits:
        """The `limit` images nearest to `query` (normalised) within `radius` in the L`p` norm."""
        snapshot = self.snapshot
        base = snapshot.base
        found = _search_one(snapshot, np.asarray(query, dtype=np.float64), radius, limit,
                            lambda q, r: base.within(q, r, p), lambda q, r, k: base.radii(q, r, k, p),
                            NORMS[p], False)
        return _best(*found, limit)


def combined_search(dhashes: DhashIndex, histograms: HistogramIndex, queries: Sequence[DhashQuery | np.ndarray],
                    histogram: np.ndarray, radius: float, limit: int, weight: float) -> Hits:
    """The `limit` images nearest by dhash (the nearer of `queries`, the 2nd mirrored) plus
    `weight` × abs_norm of the histograms, within `radius`; images without both are left out.

    The sum is never below its dhash part, so once `limit` images are known within some sum,
    no image farther than that by dhash alone can be a hit: the sums are measured for the
    candidates nearest by dhash first, and for the others only while they could still win.
    """
    histograms_now = histograms.snapshot
    histogram = np.asarray(histogram, dtype=np.float64)

    def measured(ids: np.ndarray, dhash: np.ndarray, mirrored: np.ndarray) -> tuple[np.ndarray, ...]:
        held, values = histograms_now.values_of(ids)
        distances = dhash[held] + weight * l1(values[held], histogram)
        keep = distances <= radius
        return ids[held][keep], distances[keep], mirrored[held][keep]

    ids, dhash, mirrored = dhashes.candidates(queries, radius)
    head = 4 * limit
    if len(ids) > head:
        first = np.argpartition(dhash, head)[:head]
        best = _best(*measured(ids[first], dhash[first], mirrored[first]), limit)
        if len(best) == limit:
            near = dhash <= best.distances[-1]
            ids, dhash, mirrored = ids[near], dhash[near], mirrored[near]
    return _best(*measured(ids, dhash, mirrored), limit)


def _search_one(snapshot: Snapshot, query: np.ndarray, radius: float, limit: int, within, radii,
                distance, mirrored: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def brute_force(ids: np.ndarray, values: np.ndarray, queries: Sequence[np.ndarray], radius: float, limit: int,
                distance: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Hits:
    """The reference: measure every image, keep those within `radius`, best `limit` by (distance, id)."""
    ids = np.asarray(ids, dtype=np.int64)
    parts = []
    for n, query in enumerate(queries):
        d = distance(values, query).astype(np.float64)
        near = d <= radius
        parts.append((ids[near], d[near], np.full(int(near.sum()), n > 0)))
    return _best(*(np.concatenate(p) for p in zip(*parts)), limit)


def brute_force_combined(ids: np.ndarray, dhashes: np.ndarray, histograms: np.ndarray,
                         queries: Sequence[DhashQuery | np.ndarray], histogram: np.ndarray, radius: float, limit: int,
                         weight: float) -> Hits:
    """The reference for combined_search over images that have both fingerprints (row-aligned)."""
    extra = weight * l1(np.asarray(histograms, dtype=np.float64), np.asarray(histogram, dtype=np.float64))
    return brute_force(ids, dhashes, [DhashQuery.of(q) for q in queries], radius, limit,
                       lambda values, query: query.distance(values) + extra)
