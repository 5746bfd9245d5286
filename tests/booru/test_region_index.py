"""The region index returns what measuring every window of every archived image returns: an
oracle written here, with Python integers and sorting of its own (nothing from the index)."""
from __future__ import annotations

from contextlib import nullcontext
from unittest import mock

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booru.func.similarity import dhash_index
from booru.func.similarity.region_index import KEYS, RegionHits, RegionIndex
from common.regions import INNER_WINDOW
from tests.booru.helpers import with_bits_flipped

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _as_int(words: np.ndarray) -> int:
    return (int(words[0]) << 128) | (int(words[1]) << 64) | int(words[2])


def oracle(ids: list[int], dhashes: np.ndarray, queries: np.ndarray, mirrored: list[bool], limit: int,
           radius: float, inner: list[bool] | None = None) -> list[tuple[int, float, bool, int, int]]:
    """(id, distance, mirrored, window, query row) of the `limit` images nearest to any query,
    by (distance, id); within one image the direct query before the mirrored one, then the
    first query row, then the first window. A query row flagged `inner` is measured against
    the INNER_WINDOW window alone."""
    best: dict[int, tuple[int, bool, int, int]] = {}
    inner = inner or [False] * len(queries)
    for image, windows in zip(ids, dhashes):
        for row, (query, flag) in enumerate(zip(queries, mirrored)):
            for number, stored in enumerate(windows):
                distance = bin(_as_int(stored) ^ _as_int(query)).count("1")
                if distance > radius or (inner[row] and number != INNER_WINDOW):
                    continue
                mine = (distance, flag, row, number)
                if image not in best or mine < best[image]:
                    best[image] = mine
    ranked = sorted(best.items(), key=lambda item: (item[1][0], item[0]))
    return [(image, float(d), flag, number, row) for image, (d, flag, row, number) in ranked[:limit]]


def _archive(rng: np.random.Generator, images: int) -> tuple[list[int], np.ndarray]:
    """Windows clustered around a few centres (near-duplicates, equal distances), duplicated ids
    never; ids sparse and unordered."""
    centres = rng.integers(0, 2**64, size=(max(1, images // 4), 3), dtype=np.uint64)
    dhashes = np.array([[with_bits_flipped(rng, centres[rng.integers(len(centres))], int(rng.integers(0, 30)))
                         for _ in range(KEYS)] for _ in range(images)]).reshape(images, KEYS, 3)
    ids = rng.choice(10 * images + 10, size=images, replace=False).tolist()
    return ids, dhashes


def _queries(rng: np.random.Generator, dhashes: np.ndarray, count: int, bits: int) -> tuple[np.ndarray, list[bool]]:
    """`count` queries, each within `bits` of an archived window (random without an archive),
    and whether each is mirrored."""
    if len(dhashes):
        sources = dhashes.reshape(-1, 3)[rng.integers(0, dhashes.size // 3, count)]
        queries = np.array([with_bits_flipped(rng, words, int(rng.integers(0, bits))) for words in sources])
    else:
        queries = rng.integers(0, 2**64, size=(count, 3), dtype=np.uint64)
    return queries, [bool(rng.random() < 0.5) for _ in range(count)]


def _check(index: RegionIndex, ids: list[int], dhashes: np.ndarray, queries: np.ndarray, mirrored: list[bool],
           limit: int, radius: float, inner: list[bool] | None = None) -> None:
    hits = index.nearest(queries, np.array(mirrored), limit, radius, None if inner is None else np.array(inner))
    found = list(zip(hits.ids.tolist(), hits.distances.tolist(), hits.mirrored.tolist(), hits.windows.tolist(),
                     hits.queries.tolist()))
    assert found == oracle(ids, dhashes, queries, mirrored, limit, radius, inner)


@FAST
@given(seed=st.integers(0, 2**32 - 1), images=st.integers(0, 60), limit=st.integers(1, 12),
       radius=st.sampled_from([192.0, 40.0, 12.0, 0.0]), count=st.integers(1, 4))
def test_nearest_equals_the_oracle(seed: int, images: int, limit: int, radius: float, count: int) -> None:
    rng = np.random.default_rng(seed)
    ids, dhashes = _archive(rng, images)
    queries, mirrored = _queries(rng, dhashes, count, 20)
    _check(RegionIndex(np.array(ids, dtype=np.int64), dhashes), ids, dhashes, queries, mirrored, limit, radius)


@FAST
@given(seed=st.integers(0, 2**32 - 1), limit=st.integers(1, 8), radius=st.sampled_from([192.0, 30.0]))
def test_nearest_follows_upserts_and_removals(seed: int, limit: int, radius: float) -> None:
    rng = np.random.default_rng(seed)
    ids, dhashes = _archive(rng, 40)
    index = RegionIndex(np.array(ids[:30], dtype=np.int64), dhashes[:30])
    index.upsert(np.array(ids[30:], dtype=np.int64), dhashes[30:])
    rewritten = _archive(rng, 5)[1]
    index.upsert(np.array(ids[:5], dtype=np.int64), rewritten)
    dhashes = dhashes.copy()
    dhashes[:5] = rewritten
    index.remove(np.array(ids[5:10], dtype=np.int64))
    kept = list(range(len(ids)))
    del kept[5:10]
    queries = np.array([with_bits_flipped(rng, dhashes[n, rng.integers(KEYS)], 8) for n in rng.integers(0, 40, 3)])
    _check(index, [ids[n] for n in kept], dhashes[kept], queries, [False, True, False], limit, radius)
    assert len(index) == 35


@FAST
@given(seed=st.integers(0, 2**32 - 1), images=st.integers(0, 60), limit=st.integers(1, 12),
       radius=st.sampled_from([40.0, 20.0, 12.0, 0.0]), count=st.integers(1, 4), changed=st.booleans(),
       lookups_only=st.booleans())
def test_inner_rows_meet_the_inner_window_alone(seed: int, images: int, limit: int, radius: float, count: int,
                                                changed: bool, lookups_only: bool) -> None:
    """Rows flagged `inner` (the second look's corner cuts) against the INNER_WINDOW windows
    alone, other rows against every window; also where one dhash is both an inner window and
    another window (of the same image or another), for images changed since the base, and with
    bucket lookups where a scan of so few windows would be cheaper."""
    rng = np.random.default_rng(seed)
    ids, dhashes = _archive(rng, images)
    for image in range(0, images, 3):  # an inner window's dhash also as another window
        other = int(rng.integers(images))
        dhashes[other, int(rng.choice([n for n in range(KEYS) if n != INNER_WINDOW]))] = dhashes[image, INNER_WINDOW]
    index = RegionIndex(np.array(ids, dtype=np.int64), dhashes)
    if changed and images:
        moved = rng.choice(images, size=min(images, 5), replace=False)
        dhashes[moved] = _archive(rng, len(moved))[1]
        index.upsert(np.array(ids, dtype=np.int64)[moved], dhashes[moved])
    queries, mirrored = _queries(rng, dhashes, count, 16)
    inner = [bool(rng.random() < 0.6) for _ in range(count)]
    with mock.patch.object(dhash_index, "SCAN_SHARE", float("inf")) if lookups_only else nullcontext():
        _check(index, ids, dhashes, queries, mirrored, limit, radius, inner)


def test_equal_distances_rank_the_smaller_id_then_the_direct_query() -> None:
    words = np.array([[1, 2, 3]] * KEYS, dtype=np.uint64)
    index = RegionIndex(np.array([9, 4], dtype=np.int64), np.stack([words, words]))
    hits = index.nearest(np.array([[1, 2, 3], [1, 2, 3]], dtype=np.uint64), np.array([True, False]), 2)
    assert hits.ids.tolist() == [4, 9]
    assert hits.mirrored.tolist() == [False, False]
    assert hits.windows.tolist() == [0, 0]
    assert hits.queries.tolist() == [1, 1]


@FAST
@given(seed=st.integers(0, 2**32 - 1), radius=st.sampled_from([32.0, 20.0, 60.0]), inner=st.booleans())
def test_a_window_several_rows_meet_is_met_by_the_nearest(seed: int, radius: float, inner: bool) -> None:
    """Rows near one archived window at other distances, the nearest last: each image's hit is
    that row's, looked up at once or row by row (by bucket lookups: a scan of so few windows
    would be cheaper)."""
    rng = np.random.default_rng(seed)
    ids, dhashes = _archive(rng, 12)
    target = dhashes[int(rng.integers(12)), INNER_WINDOW]
    queries = np.array([with_bits_flipped(rng, target, bits) for bits in (18, 12, 6, 1)])
    mirrored = [bool(rng.random() < 0.5) for _ in range(4)]
    with mock.patch.object(dhash_index, "SCAN_SHARE", float("inf")):
        _check(RegionIndex(np.array(ids, dtype=np.int64), dhashes), ids, dhashes, queries, mirrored, 5, radius,
               [inner] * 4)


def test_an_image_with_equal_windows_does_not_crowd_out_the_next() -> None:
    """Eight equal windows of one image are eight keys at one distance: the next image must
    still come back when two are asked for."""
    near = np.array([[0, 0, 1]] * KEYS, dtype=np.uint64)
    far = np.array([[0, 0, 2**50 - 1]] * KEYS, dtype=np.uint64)  # beyond the index's first lookup radius
    index = RegionIndex(np.array([1, 2], dtype=np.int64), np.stack([near, far]))
    hits = index.nearest(np.array([[0, 0, 0]], dtype=np.uint64), np.array([False]), 2, 192.0)
    assert hits.ids.tolist() == [1, 2]
    assert hits.distances.tolist() == [1.0, 50.0]


@FAST
@given(seed=st.integers(0, 2**32 - 1), images=st.integers(1, 30), count=st.integers(1, 4),
       asked=st.integers(0, 8))
def test_measure_equals_the_oracle_without_a_radius(seed: int, images: int, count: int, asked: int) -> None:
    """The global candidates' region distances: each asked image's own nearest query and window,
    however far, in the order asked; images the index lacks left out."""
    rng = np.random.default_rng(seed)
    ids, dhashes = _archive(rng, images)
    index = RegionIndex(np.array(ids, dtype=np.int64), dhashes)
    queries = rng.integers(0, 2**64, size=(count, 3), dtype=np.uint64)
    mirrored = [bool(rng.random() < 0.5) for _ in range(count)]
    chosen = [int(i) for i in rng.choice(ids + [-1, 10**9], size=asked)]
    hits = index.measure(np.array(chosen, dtype=np.int64), queries, np.array(mirrored))
    whole = {image: hit for image, *hit in oracle(ids, dhashes, queries, mirrored, len(ids), 192.0)}
    expected = [(image, *whole[image]) for image in chosen if image in whole]
    assert list(zip(hits.ids.tolist(), hits.distances.tolist(), hits.mirrored.tolist(), hits.windows.tolist(),
                    hits.queries.tolist())) == expected


@FAST
@given(seed=st.integers(0, 2**32 - 1), parts=st.integers(0, 4), count=st.integers(0, 10))
def test_nearest_of_keeps_each_image_nearest_hit(seed: int, parts: int, count: int) -> None:
    """Several lookups' hits merged: each image once, by its nearest hit (the lowest query row on
    a tie), the `count` nearest by (distance, id); against a plain loop over the hits."""
    rng = np.random.default_rng(seed)
    lookups = []
    for _ in range(parts):
        size = int(rng.integers(0, 8))
        lookups.append(RegionHits(rng.integers(0, 10, size), rng.integers(0, 6, size).astype(float),
                                  rng.random(size) < 0.5, rng.integers(0, KEYS, size), rng.integers(0, 4, size)))
    best: dict[int, tuple] = {}
    for hits in lookups:
        for image, distance, flag, number, row in zip(hits.ids.tolist(), hits.distances.tolist(),
                                                      hits.mirrored.tolist(), hits.windows.tolist(),
                                                      hits.queries.tolist()):
            if image not in best or (distance, row) < best[image][:2]:
                best[image] = (distance, row, flag, number)
    expected = sorted(((d, image, flag, number, row) for image, (d, row, flag, number) in best.items()))[:count]
    merged = RegionHits.nearest_of(lookups, count)
    assert list(zip(merged.distances.tolist(), merged.ids.tolist(), merged.mirrored.tolist(),
                    merged.windows.tolist(), merged.queries.tolist())) == expected
