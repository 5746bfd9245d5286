"""The in-memory similarity indexes equal a brute-force scan, through inserts, rewrites,
deletions and rebuilds (property tests with random, clustered and duplicated fingerprints)."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booru.func.similarity_index import (CHUNKS, MAX_THRESHOLD, DhashBase, DhashIndex, HistogramIndex, Hits, brute_force,
                                         brute_force_combined, combined_search, hamming, l1, l2,
                                         normalise_histograms)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(fast: Hits, slow: Hits) -> None:
    assert fast.ids.tolist() == slow.ids.tolist()
    assert fast.distances.tolist() == slow.distances.tolist()
    assert fast.mirrored.tolist() == slow.mirrored.tolist()


def _flip(rng: np.random.Generator, words: np.ndarray, bits: int) -> np.ndarray:
    flipped = words.copy()
    for bit in rng.choice(192, size=bits, replace=False):
        flipped[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return flipped


def _dhashes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Clusters of near-duplicates, exact duplicates and skewed (mostly-zero) chunks."""
    centres = rng.integers(0, 2**64, size=(max(1, n // 8), 3), dtype=np.uint64)
    centres[: len(centres) // 3] &= rng.integers(0, 2**64, size=(len(centres[: len(centres) // 3]), 3),
                                                 dtype=np.uint64)  # sparse bits: crowded buckets
    values = np.array([_flip(rng, centres[rng.integers(len(centres))], int(rng.integers(0, 40)))
                       for _ in range(n)]).reshape(-1, 3)
    duplicates = rng.random(n) < 0.3
    values[duplicates] = values[rng.integers(0, n, int(duplicates.sum()))]
    return values


class Mirror:
    """The index and a plain dict of what it should hold, changed the same way."""

    def __init__(self, index, truth: dict[int, np.ndarray]):
        self.index, self.truth = index, truth

    def upsert(self, ids, values):
        self.index.upsert(ids, values)
        self.truth.update({int(i): v for i, v in zip(ids, values)})

    def remove(self, ids):
        self.index.remove(ids)
        for i in ids:
            self.truth.pop(int(i), None)

    def arrays(self, width, dtype):
        ids = np.array(sorted(self.truth), dtype=np.int64)
        values = np.array([self.truth[i] for i in ids.tolist()], dtype=dtype).reshape(-1, width)
        return ids, values


def _churn(rng: np.random.Generator, mirror: Mirror, make, n: int) -> None:
    """Add new images, rewrite some, delete some; sometimes rebuild."""
    existing = list(mirror.truth)
    for _ in range(int(rng.integers(0, 4))):
        new = rng.integers(1, 4 * n + 10, size=int(rng.integers(1, 12)))
        mirror.upsert(new, make(rng, len(new)))
        if existing and rng.random() < 0.5:
            mirror.remove(rng.choice(existing, size=min(len(existing), int(rng.integers(1, 6))), replace=False))
        if rng.random() < 0.3:
            mirror.index.rebuild()


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), radius=st.integers(0, 70),
       limit=st.integers(1, 30), near=st.booleans(), rebuild_at=st.sampled_from([1, 5, 10_000]))
def test_dhash_index_equals_brute_force(seed, n, radius, limit, near, rebuild_at):
    rng = np.random.default_rng(seed)
    ids = rng.choice(10 * n + 10, size=n, replace=False).astype(np.int64) + 1
    values = _dhashes(rng, n)
    mirror = Mirror(DhashIndex(ids, values, rebuild_at=rebuild_at), dict(zip(ids.tolist(), values)))
    _churn(rng, mirror, _dhashes, n)
    all_ids, all_values = mirror.arrays(3, np.uint64)
    if near and len(all_values):
        query = _flip(rng, all_values[rng.integers(len(all_values))], int(rng.integers(0, 30)))
    else:
        query = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    mirrored = _flip(rng, query, int(rng.integers(0, 100)))
    for queries in ([query], [query, mirrored]):
        _same(mirror.index.search(queries, radius, limit),
              brute_force(all_ids, all_values, queries, radius, limit, hamming))


def _histograms(rng: np.random.Generator, n: int) -> np.ndarray:
    """Normalised histograms: clusters, exact duplicates, and coarse values that tie."""
    centres = rng.integers(0, 8, size=(max(1, n // 6), 12)) * 1000
    counts = centres[rng.integers(0, len(centres), n)] + rng.integers(0, 3, size=(n, 12)) * rng.integers(0, 300, (n, 1))
    counts[rng.random(n) < 0.05] = 0  # empty channels normalise to zeros
    return normalise_histograms(counts)


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), limit=st.integers(1, 30), p=st.sampled_from([1, 2]),
       radius=st.one_of(st.floats(0, 3), st.sampled_from([0.0, 0.05, 0.25, 10.0])), near=st.booleans(),
       rebuild_at=st.sampled_from([1, 5, 10_000]))
def test_histogram_index_equals_brute_force(seed, n, limit, p, radius, near, rebuild_at):
    rng = np.random.default_rng(seed)
    ids = rng.choice(10 * n + 10, size=n, replace=False).astype(np.int64) + 1
    values = _histograms(rng, n)
    mirror = Mirror(HistogramIndex(ids, values, rebuild_at=rebuild_at), dict(zip(ids.tolist(), values)))
    _churn(rng, mirror, _histograms, n)
    all_ids, all_values = mirror.arrays(12, np.float64)
    if near and len(all_values):
        query = all_values[rng.integers(len(all_values))]
    else:
        query = _histograms(rng, 1)[0]
    _same(mirror.index.search(query, radius, limit, p),
          brute_force(all_ids, all_values, [query], radius, limit, l1 if p == 1 else l2))


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), radius=st.integers(0, 70), limit=st.integers(1, 30),
       weight=st.sampled_from([0.0, 1.0, 3.0, 10.0]), near=st.booleans(), rebuild_at=st.sampled_from([1, 5, 10_000]))
def test_combined_search_equals_brute_force(seed, n, radius, limit, weight, near, rebuild_at):
    """dhash + weight × abs_norm over two indexes changed apart; images with one fingerprint only
    (not yet or no longer in the other index) are never hits."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(10 * n + 10, size=n, replace=False).astype(np.int64) + 1
    dhashes, histograms = _dhashes(rng, n), _histograms(rng, n)
    only_dhash = rng.random(n) < 0.1
    dhash_mirror = Mirror(DhashIndex(ids, dhashes, rebuild_at=rebuild_at), dict(zip(ids.tolist(), dhashes)))
    histogram_mirror = Mirror(HistogramIndex(ids[~only_dhash], histograms[~only_dhash], rebuild_at=rebuild_at),
                              dict(zip(ids[~only_dhash].tolist(), histograms[~only_dhash])))
    _churn(rng, dhash_mirror, _dhashes, n)
    _churn(rng, histogram_mirror, _histograms, n)
    both = sorted(set(dhash_mirror.truth) & set(histogram_mirror.truth))
    all_ids = np.array(both, dtype=np.int64)
    all_dhashes = np.array([dhash_mirror.truth[i] for i in both], dtype=np.uint64).reshape(-1, 3)
    all_histograms = np.array([histogram_mirror.truth[i] for i in both], dtype=np.float64).reshape(-1, 12)
    if near and both:
        pick = int(rng.integers(len(both)))
        query = _flip(rng, all_dhashes[pick], int(rng.integers(0, 30)))
        histogram = all_histograms[pick]
    else:
        query, histogram = rng.integers(0, 2**64, size=3, dtype=np.uint64), _histograms(rng, 1)[0]
    mirrored = _flip(rng, query, int(rng.integers(0, 100)))
    for queries in ([query], [query, mirrored]):
        _same(combined_search(dhash_mirror.index, histogram_mirror.index, queries, histogram, radius, limit, weight),
              brute_force_combined(all_ids, all_dhashes, all_histograms, queries, histogram, radius, limit, weight))


def test_thresholds_satisfy_the_pigeonhole_bound():
    rng = np.random.default_rng(11)
    index = DhashIndex(np.arange(300), _dhashes(rng, 300))
    for query in (np.zeros(3, dtype=np.uint64), rng.integers(0, 2**64, size=3, dtype=np.uint64)):
        query_chunks = DhashBase.chunks(query)[0]
        for radius in range(0, CHUNKS * (MAX_THRESHOLD + 1)):
            thresholds, cost = index.snapshot.base.thresholds(query_chunks, radius)
            assert int((thresholds + 1).sum()) == radius + 1 and thresholds.max() <= MAX_THRESHOLD
            assert cost >= radius + 1
        assert index.snapshot.base.thresholds(query_chunks, CHUNKS * (MAX_THRESHOLD + 1))[1] == float("inf")


def test_identical_fingerprints_form_one_group_and_come_back_together():
    rng = np.random.default_rng(7)
    copy = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    others = rng.integers(0, 2**64, size=(500, 3), dtype=np.uint64)
    values = np.vstack([np.tile(copy, (1000, 1)), others])
    ids = np.arange(1, len(values) + 1)
    index = DhashIndex(ids, values)
    assert len(index.snapshot.base.groups.keys) == 501
    hits = index.search([copy], 32, 1000)
    assert hits.ids.tolist() == list(range(1, 1001)) and set(hits.distances.tolist()) == {0.0}
    assert index.search([copy], 32, 10).ids.tolist() == list(range(1, 11))


def test_a_mirrored_match_says_so():
    rng = np.random.default_rng(3)
    direct, flipped = rng.integers(0, 2**64, size=(2, 3), dtype=np.uint64)
    index = DhashIndex([5, 6], np.array([flipped, _flip(rng, direct, 3)]))
    hits = index.search([direct, flipped], 32, 10)
    assert hits.ids.tolist() == [5, 6]
    assert hits.mirrored.tolist() == [True, False]
    assert hits.distances.tolist() == [0.0, 3.0]
