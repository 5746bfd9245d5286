"""The in-memory similarity indexes equal a brute-force scan, through inserts, rewrites,
deletions and rebuilds (property tests with random, clustered and duplicated fingerprints)."""
from __future__ import annotations

import threading
from contextlib import nullcontext
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booru.func.similarity import dhash_index
from booru.func.similarity.combined import combined_search
from booru.func.similarity.dhash_index import CHUNKS, MAX_THRESHOLD, DhashIndex
from booru.func.similarity.distances import DHASH_BITS, DhashQuery, hamming, normalise_histograms
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.index import Hits
from booru.func.similarity.nearest import Nearest
from booru.func.similarity.planner import Remembered
from tests.booru import oracle
from tests.booru.helpers import with_bits_flipped

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(fast: Hits, slow: Hits) -> None:
    assert fast.ids.tolist() == slow.ids.tolist()
    assert fast.distances.tolist() == slow.distances.tolist()
    assert fast.mirrored.tolist() == slow.mirrored.tolist()


def _dhashes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Clusters of near-duplicates, exact duplicates and skewed (mostly-zero) chunks."""
    centres = rng.integers(0, 2**64, size=(max(1, n // 8), 3), dtype=np.uint64)
    centres[: len(centres) // 3] &= rng.integers(0, 2**64, size=(len(centres[: len(centres) // 3]), 3),
                                                 dtype=np.uint64)  # sparse bits: crowded buckets
    values = np.array([with_bits_flipped(rng, centres[rng.integers(len(centres))], int(rng.integers(0, 40)))
                       for _ in range(n)]).reshape(-1, 3)
    duplicates = rng.random(n) < 0.3
    values[duplicates] = values[rng.integers(0, n, int(duplicates.sum()))]
    return values


CLIPPING = ("none", "scattered", "chunks", "all")


def _clipped(rng: np.random.Generator, kind: str) -> np.ndarray | None:
    """Bits a query leaves out: none, scattered ones, whole 16-bit chunks and more, or every bit."""
    if kind == "none":
        return None
    if kind == "all":
        return np.full(3, 2**64 - 1, dtype=np.uint64)
    bits = rng.random(DHASH_BITS) < (0.15 if kind == "scattered" else 0.05)
    if kind == "chunks":
        for chunk in rng.choice(CHUNKS, size=int(rng.integers(1, CHUNKS)), replace=False):
            bits[16 * chunk: 16 * chunk + 16] = rng.random(16) < 0.9
    return np.array([sum(1 << b for b in range(64) if bits[64 * w + b]) for w in range(3)], dtype=np.uint64)


def _left_out(query: np.ndarray, clipped: np.ndarray | None) -> DhashQuery:
    """A query whose clipped bits are zeros, as two equal (clipped) cells compare."""
    return DhashQuery.of(query if clipped is None else query & ~clipped, clipped)


def _queries(rng: np.random.Generator, query: np.ndarray, kind: str) -> list[list[DhashQuery]]:
    """The query alone, and with a mirrored query (a distant one), each with its own left-out bits."""
    direct = _left_out(query, _clipped(rng, kind))
    mirrored = _left_out(with_bits_flipped(rng, query, int(rng.integers(0, 100))), _clipped(rng, kind))
    return [[direct], [direct, mirrored]]


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


def _change(rng: np.random.Generator, mirror: Mirror, make, n: int, existing: list[int]) -> None:
    """Add new images or rewrite some; sometimes delete some."""
    new = rng.integers(1, 4 * n + 10, size=int(rng.integers(1, 12)))
    mirror.upsert(new, make(rng, len(new)))
    if existing and rng.random() < 0.5:
        mirror.remove(rng.choice(existing, size=min(len(existing), int(rng.integers(1, 6))), replace=False))


def _rebuild(rng: np.random.Generator, mirror: Mirror, make, n: int, existing: list[int]) -> None:
    """Rebuild; half the time with changes made while the new base is being built."""
    if rng.random() < 0.5:
        mirror.index.rebuild()
        return
    build = mirror.index.folded

    def folded_meanwhile(snapshot):
        base = build(snapshot)
        _change(rng, mirror, make, n, existing)
        return base

    with mock.patch.object(mirror.index, "folded", folded_meanwhile):
        mirror.index.rebuild()


def _churn(rng: np.random.Generator, mirror: Mirror, make, n: int) -> None:
    """Add new images, rewrite some, delete some; sometimes rebuild."""
    existing = list(mirror.truth)
    for _ in range(int(rng.integers(0, 4))):
        _change(rng, mirror, make, n, existing)
        if rng.random() < 0.3:
            _rebuild(rng, mirror, make, n, existing)


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), radius=st.integers(0, 70),
       limit=st.integers(1, 30), near=st.booleans(), rebuild_at=st.sampled_from([1, 5, 10_000]),
       clipping=st.sampled_from(CLIPPING), lookups_only=st.booleans())
def test_dhash_index_equals_brute_force(seed, n, radius, limit, near, rebuild_at, clipping, lookups_only):
    """(`lookups_only`: the bucket lookups answer even where a scan would be cheaper.)"""
    rng = np.random.default_rng(seed)
    ids = rng.choice(10 * n + 10, size=n, replace=False).astype(np.int64) + 1
    values = _dhashes(rng, n)
    mirror = Mirror(DhashIndex(ids, values, rebuild_at=rebuild_at), dict(zip(ids.tolist(), values)))
    _churn(rng, mirror, _dhashes, n)
    all_ids, all_values = mirror.arrays(3, np.uint64)
    if near and len(all_values):
        query = with_bits_flipped(rng, all_values[rng.integers(len(all_values))], int(rng.integers(0, 30)))
    else:
        query = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    for queries in _queries(rng, query, clipping):
        with mock.patch.object(dhash_index, "SCAN_SHARE", float("inf")) if lookups_only else nullcontext():
            found = mirror.index.search(queries, radius, limit)
        _same(found, oracle.dhash_search(all_ids, all_values, queries, radius, limit))


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
          oracle.histogram_search(all_ids, all_values, query, radius, limit, p))


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), radius=st.integers(0, 70), limit=st.integers(1, 30),
       weight=st.sampled_from([0.0, 1.0, 3.0, 10.0]), near=st.booleans(), rebuild_at=st.sampled_from([1, 5, 10_000]),
       clipping=st.sampled_from(CLIPPING))
def test_combined_search_equals_brute_force(seed, n, radius, limit, weight, near, rebuild_at, clipping):
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
        query = with_bits_flipped(rng, all_dhashes[pick], int(rng.integers(0, 30)))
        histogram = all_histograms[pick]
    else:
        query, histogram = rng.integers(0, 2**64, size=3, dtype=np.uint64), _histograms(rng, 1)[0]
    for queries in _queries(rng, query, clipping):
        _same(combined_search(dhash_mirror.index, histogram_mirror.index, queries, histogram, radius, limit, weight),
              oracle.combined_search(all_ids, all_dhashes, all_histograms, queries, histogram, radius, limit, weight))


@FAST
@given(seed=st.integers(0, 2**32 - 1), radius=st.integers(0, 60), limit=st.integers(1, 12),
       weight=st.sampled_from([0.0, 0.5, 3.0, 10.0]), clipping=st.sampled_from(CLIPPING))
def test_combined_search_equals_brute_force_among_many_near_copies(seed, radius, limit, weight, clipping):
    """Far more candidates within the radius than `limit`: the sums are measured nearest-first."""
    rng = np.random.default_rng(seed)
    centre = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    dhashes = np.array([with_bits_flipped(rng, centre, int(rng.integers(0, 40))) for _ in range(300)])
    dhashes[rng.random(300) < 0.2] = centre  # ties by dhash, told apart (or not) by the histogram
    histograms = _histograms(rng, 300)
    ids = rng.choice(5000, size=300, replace=False).astype(np.int64)
    dhash_index, histogram_index = DhashIndex(ids, dhashes), HistogramIndex(ids, histograms)
    histogram = histograms[rng.integers(300)] if rng.random() < 0.5 else _histograms(rng, 1)[0]
    for queries in _queries(rng, with_bits_flipped(rng, centre, int(rng.integers(0, 6))), clipping):
        _same(combined_search(dhash_index, histogram_index, queries, histogram, radius, limit, weight),
              oracle.combined_search(ids, dhashes, histograms, queries, histogram, radius, limit, weight))


def test_thresholds_satisfy_the_pigeonhole_bound():
    rng = np.random.default_rng(11)
    index = DhashIndex(np.arange(300), _dhashes(rng, 300))
    for query in (np.zeros(3, dtype=np.uint64), rng.integers(0, 2**64, size=3, dtype=np.uint64)):
        for radius in range(0, CHUNKS * (MAX_THRESHOLD + 1)):
            thresholds, cost, _ = index.snapshot.base.thresholds(query, radius)
            assert int((thresholds + 1).sum()) == radius + 1 and thresholds.max() <= MAX_THRESHOLD
            assert cost >= radius + 1
        assert index.snapshot.base.thresholds(query, CHUNKS * (MAX_THRESHOLD + 1))[1] == float("inf")


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
    index = DhashIndex([5, 6], np.array([flipped, with_bits_flipped(rng, direct, 3)]))
    hits = index.search([direct, flipped], 32, 10)
    assert hits.ids.tolist() == [5, 6]
    assert hits.mirrored.tolist() == [True, False]
    assert hits.distances.tolist() == [0.0, 3.0]


def test_lookups_take_every_value_of_the_left_out_bits():
    """A copy that differs from the query only in its clipped bits (three in every chunk) is
    found at distance 0 through the bucket lookups of the unclipped form."""
    rng = np.random.default_rng(9)
    stored = rng.integers(0, 2**64, size=(20_000, 3), dtype=np.uint64)
    clipped = np.zeros(3, dtype=np.uint64)
    for chunk in range(CHUNKS):
        for bit in rng.choice(16, size=3, replace=False):
            clipped[chunk // 4] |= np.uint64(1) << np.uint64(16 * (chunk % 4) + int(bit))
    stored[0] |= clipped
    query = DhashQuery.of(stored[0] & ~clipped, clipped)
    index = DhashIndex(np.arange(20_000), stored)
    base = index.snapshot.base
    for radius in (0, 8, 16):
        _, cost, _ = base.thresholds(query.words, query.lookup_radius(radius), query.counted)
        assert cost < len(base.groups.keys) * dhash_index.SCAN_SHARE  # the lookups answer, not a scan
        hits = index.search([query], radius, 1)
        assert hits.ids.tolist() == [0] and hits.distances.tolist() == [0.0]
        assert index.search([query.words], radius, 1).ids.tolist() == []  # 36 bits apart when all count


def test_the_dhash_distance_is_the_smaller_of_all_bits_and_the_unclipped_ones_scaled():
    rng = np.random.default_rng(5)
    clipped = np.array([2**64 - 1, 0, 0], dtype=np.uint64)  # the first 64 bits compare clipped cells
    original = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    query = original.copy()
    query[0] = np.uint64(0)  # clipped: all 0, where the original had its gradients
    query[1] ^= np.uint64(0b111)  # and three more bits differ
    white_anyway = query.copy()
    white_anyway[1] ^= np.uint64(0b111)  # a picture that is white there too, three bits away
    searched = DhashQuery.of(query, clipped)
    assert hamming(original[None], query)[0] == int(np.bitwise_count(original[0])) + 3 > 32
    assert searched.distance(np.array([original, white_anyway])).tolist() == [3 * 192 / 128, 3.0]
    index = DhashIndex([1, 2, 3], np.array([original, white_anyway, rng.integers(0, 2**64, size=3, dtype=np.uint64)]))
    hits = index.search([searched], 32, 10)
    assert hits.ids.tolist() == [2, 1] and hits.distances.tolist() == [3.0, 4.5]
    assert index.search([query], 32, 10).ids.tolist() == [2]  # without the clipped bits known
    everything = DhashQuery.of(query, np.full(3, 2**64 - 1, dtype=np.uint64))  # a flat picture: plain distance
    assert everything.distance(original[None]).tolist() == hamming(original[None], query).tolist()


def _spread(rng: np.random.Generator, words: np.ndarray, per_chunk: int, avoid: np.ndarray) -> np.ndarray:
    """`words` with `per_chunk` bits flipped in every 16-bit chunk, none of them in `avoid`."""
    flipped = words.copy()
    for chunk in range(CHUNKS):
        word, shift = chunk // 4, 16 * (chunk % 4)
        free = [b for b in range(16) if not int(avoid[word]) >> (shift + b) & 1]
        for bit in rng.choice(free, size=per_chunk, replace=False):
            flipped[word] ^= np.uint64(1) << np.uint64(shift + int(bit))
    return flipped


def test_a_hash_at_the_radius_with_its_differences_in_every_chunk_is_found_by_the_lookups():
    """The pigeonhole bound is tight here: every chunk differs by 3 bits, 36 in all."""
    rng = np.random.default_rng(21)
    stored = rng.integers(0, 2**64, size=(20_000, 3), dtype=np.uint64)
    none = np.zeros(3, dtype=np.uint64)
    clipped = _clipped(rng, "scattered") & np.uint64(0x0F0F0F0F0F0F0F0F)  # at most 8 per chunk
    for query in (DhashQuery.of(stored[7]), DhashQuery.of(stored[7] & ~clipped, clipped)):
        words = _spread(rng, query.words, 3, none if query.clipped is None else query.clipped)
        index = DhashIndex(np.arange(20_000), np.vstack([stored[:7], [words], stored[8:]]))
        with mock.patch.object(dhash_index, "SCAN_SHARE", float("inf")):
            assert index.search([query], 36, 1).ids.tolist() == [7]
            assert index.search([query], 35, 1).ids.tolist() == []


@FAST
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), limit=st.integers(1, 40),
       weight=st.sampled_from([None, 0.0, 3.0, 10.0]), rebuild_at=st.sampled_from([1, 5, 10_000]),
       clipping=st.sampled_from(CLIPPING))
def test_nearest_without_a_radius_equals_brute_force(seed, n, limit, weight, rebuild_at, clipping):
    """The scan's nearest `limit` images (dhash alone, or combined with `weight`) equal the
    oracle's with no radius at all; images without a histogram are never combined hits."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(10 * n + 10, size=n, replace=False).astype(np.int64) + 1
    dhashes, histograms = _dhashes(rng, n), _histograms(rng, n)
    with_histogram = rng.random(n) > 0.1
    dhash_mirror = Mirror(DhashIndex(ids, dhashes, rebuild_at=rebuild_at), dict(zip(ids.tolist(), dhashes)))
    histogram_mirror = Mirror(HistogramIndex(ids[with_histogram], histograms[with_histogram], rebuild_at=rebuild_at),
                              dict(zip(ids[with_histogram].tolist(), histograms[with_histogram])))
    _churn(rng, dhash_mirror, _dhashes, n)
    _churn(rng, histogram_mirror, _histograms, n)
    all_ids, all_dhashes = dhash_mirror.arrays(3, np.uint64)
    query = with_bits_flipped(rng, all_dhashes[0], int(rng.integers(0, 30))) if len(all_dhashes) else \
        rng.integers(0, 2**64, size=3, dtype=np.uint64)
    histogram = _histograms(rng, 1)[0]
    for queries in _queries(rng, query, clipping):
        if weight is None:
            _same(Nearest(dhash_mirror.index, queries)(limit),
                  oracle.dhash_search(all_ids, all_dhashes, queries, float("inf"), limit))
            continue
        both = sorted(set(dhash_mirror.truth) & set(histogram_mirror.truth))
        _same(Nearest(dhash_mirror.index, queries, histogram_mirror.index, histogram, weight)(limit),
              oracle.combined_search(np.array(both, dtype=np.int64),
                                     [dhash_mirror.truth[i] for i in both], [histogram_mirror.truth[i] for i in both],
                                     queries, histogram, float("inf"), limit, weight))


def test_nearest_without_a_radius_skips_the_groups_whose_images_were_all_deleted():
    """The images nearest to the query deleted (their groups stay in the base, holding no alive
    image) and some stored twice: the scan still answers the nearest `limit` of those left."""
    rng = np.random.default_rng(5)
    query = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    near = np.array([with_bits_flipped(rng, query, bits) for bits in range(1, 13)])
    far = np.array([with_bits_flipped(rng, query, int(bits)) for bits in rng.integers(40, 90, size=300)])
    dhashes = np.vstack([near, near[:3], far])  # the three nearest each stored twice
    ids = np.arange(1, len(dhashes) + 1, dtype=np.int64)
    index = DhashIndex(ids, dhashes, rebuild_at=10_000)
    gone = ids[3:12]
    index.remove(gone)
    kept = ~np.isin(ids, gone)
    for limit in (1, 5, 10, 20):
        _same(Nearest(index, [DhashQuery.of(query)])(limit),
              oracle.dhash_search(ids[kept], dhashes[kept], [query], float("inf"), limit))


def _query_and_near_images(seed: int) -> tuple[np.ndarray, DhashIndex]:
    """A random dhash and an index of 200 images 0–59 bits from it."""
    rng = np.random.default_rng(seed)
    query = rng.integers(0, 2**64, size=3, dtype=np.uint64)
    dhashes = np.array([with_bits_flipped(rng, query, int(bits)) for bits in rng.integers(0, 60, size=200)])
    return query, DhashIndex(np.arange(len(dhashes), dtype=np.int64), dhashes, rebuild_at=10_000)


def test_a_remembered_search_answers_from_its_last_call_while_that_holds_the_answer():
    """Asked for fewer than before, or for more when the last call found everything within
    its radius, it answers without searching; asked for more than it holds, or after the
    index changed, it searches again; every answer is the search's own."""
    query, index = _query_and_near_images(9)
    asked = []

    def search(n: int) -> Hits:
        asked.append(n)
        return index.search([query], 30, n)

    remembered = Remembered(search, {"dhash": index})
    within = len(index.search([query], 30, 1000))
    assert 12 < within < 100
    for n, searched in ((12, [12]), (5, [12]), (12, [12]), (100, [12, 100]), (1000, [12, 100])):
        _same(remembered(n), index.search([query], 30, n))
        assert asked == searched
    index.remove(remembered(1).ids)
    _same(remembered(5), index.search([query], 30, 5))
    assert asked == [12, 100, 5]


def test_a_remembered_search_started_ahead_answers_from_its_own_thread():
    """Started ahead, the search runs once, on another thread, and answers the later call
    (and any smaller one) without searching again; asked for more, it searches for more."""
    query, index = _query_and_near_images(10)
    threads = []

    def search(n: int) -> Hits:
        threads.append((n, threading.current_thread().name))
        return index.search([query], 192, n)

    remembered = Remembered(search, {"dhash": index})
    remembered.ahead(20)
    _same(remembered(20), index.search([query], 192, 20))
    _same(remembered(7), index.search([query], 192, 7))
    assert threads == [(20, "similarity-ahead")]
    _same(remembered(50), index.search([query], 192, 50))
    assert threads[1:] == [(50, threading.current_thread().name)]
