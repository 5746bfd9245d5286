"""Compiled loops (numba) of the dhash index: planning a query's bucket lookups, and measuring
the candidates they find (or, for a scan, every key).

Planning (`plan`) costs each chunk's rings of lookups from the bucket sizes and grows the
thresholds greedily where the postings are fewest (dhash_index.py says why that is exact):
a few thousand bucket sizes read and a few hundred steps, which in Python cost as much as
the lookups of a near radius.

A lookup's candidates are scattered over the whole key array (millions of rows), so measuring
them is bound by memory latency: numpy pays it once per word and pass, gathering each word of
every candidate into a new array. Here each candidate's key, one row of three words, is asked
of memory a few dozen candidates ahead of its turn (`_prefetch`), and measured in one pass
that stops at the first word taking it beyond the radius.

The distance is DhashQuery's (distances.py): the plain Hamming distance, or for a query with
clipped bits the smaller of that and the bits differing outside the clipped ones scaled by
`scale` (192 / the bits that count); a query whose bits all count passes counted = all ones
and scale = 1. Rows are kept when their distance is within `radius`; any row differing in
more than `bits` counted bits is beyond it (the distance is at least that count).
"""
from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

AHEAD = 32  # candidates whose keys are being fetched while one is measured


def _compiled(function):
    """The function compiled on first use, kept in numba's cache where numba finds a place it
    can write one (beside this module, NUMBA_CACHE_DIR, or the user's cache directory); where it
    finds none (a read-only install run by a user without a home), compiled in every process."""
    try:
        return njit(nogil=True, cache=True)(function)
    except RuntimeError:  # numba: "cannot cache function …: no locator available"
        return njit(nogil=True)(function)


@intrinsic
def _prefetch(typing_context, keys, row):
    """Ask memory for keys[row, 0]'s cache line (a hint: nothing is read or faulted)."""

    def codegen(context, builder, signature, args):
        array_type, row_type = signature.args
        array = context.make_array(array_type)(context, builder, args[0])
        at = [context.cast(builder, args[1], row_type, types.intp), context.get_constant(types.intp, 0)]
        pointer = builder.bitcast(cgutils.get_item_pointer(context, builder, array_type, array, at),
                                  ir.IntType(8).as_pointer())
        function = cgutils.get_or_insert_function(builder.module, ir.FunctionType(
            ir.VoidType(), [ir.IntType(8).as_pointer()] + [ir.IntType(32)] * 3), "llvm.prefetch.p0")
        # read, no temporal locality to keep, data cache
        builder.call(function, [pointer] + [ir.Constant(ir.IntType(32), v) for v in (0, 0, 1)])
        return context.get_dummy_value()

    return types.void(keys, row), codegen


@njit(inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(inline="always")
def _chunk(words, chunk, chunk_bits):
    """The value of chunk `chunk` (`chunk_bits` wide) of three words, the chunks of each word low bits first."""
    per_word = 64 // chunk_bits
    return np.int64((words[chunk // per_word] >> np.uint64(chunk_bits * (chunk % per_word)))
                    & np.uint64((1 << chunk_bits) - 1))


@_compiled
def plan(sizes, words, counted_words, need, top, flips, ring_bounds, chunk_bits, max_free_bits):
    """(thresholds, cost, buckets) of a lookup of `need` - 1 counted bits: per-chunk thresholds
    t_c (-1: not looked up) with sum(t_c + 1) = need, each at most `top`, grown greedily where
    the next ring reads the fewest postings (`sizes` per bucket, plus one per lookup); the
    postings they read; the buckets to read (chunk c's value v at c << chunk_bits | v). A chunk
    whose bits all count enumerates the flip patterns `flips`, ring t at
    flips[ring_bounds[t]:ring_bounds[t + 1]]; one with clipped bits every value of them, ringed
    by its counted bits flipped (never, past `max_free_bits` clipped bits). Cost ∞ and no
    buckets when the thresholds cannot reach `need`."""
    buckets_per_chunk = 1 << chunk_bits
    chunks = 192 // chunk_bits
    all_counted = buckets_per_chunk - 1
    cost = np.zeros((chunks, top + 1))
    for c in range(chunks):
        first, value, counted = c * buckets_per_chunk, _chunk(words, c, chunk_bits), _chunk(counted_words, c,
                                                                                           chunk_bits)
        if counted == all_counted:
            for t in range(top + 1):
                for k in range(ring_bounds[t], ring_bounds[t + 1]):
                    cost[c, t] += sizes[first + (value ^ flips[k])] + 1
        elif chunk_bits - _popcount(np.uint64(counted)) > max_free_bits:
            cost[c, :] = np.inf  # at least 2^free lookups at every threshold: never worth it
        else:
            for flip in range(buckets_per_chunk):
                level = _popcount(np.uint64(flip & counted))
                if level <= top:
                    cost[c, level] += sizes[first + (value ^ flip)] + 1
    thresholds = np.full(chunks, -1, dtype=np.int64)
    total = 0.0
    for _ in range(need):
        chosen, step = -1, np.inf
        for c in range(chunks):
            if thresholds[c] < top and cost[c, thresholds[c] + 1] < step:
                chosen, step = c, cost[c, thresholds[c] + 1]
        if chosen < 0:  # no chunk can grow (clipped query bits)
            return np.full(chunks, top, dtype=np.int64), np.inf, np.empty(0, dtype=np.int64)
        thresholds[chosen] += 1
        total += step
    buckets = np.empty(chunks * buckets_per_chunk, dtype=np.int64)
    taken = 0
    for c in range(chunks):
        if thresholds[c] < 0:
            continue
        first, value, counted = c * buckets_per_chunk, _chunk(words, c, chunk_bits), _chunk(counted_words, c,
                                                                                           chunk_bits)
        if counted == all_counted:
            for k in range(ring_bounds[thresholds[c] + 1]):
                buckets[taken] = first + (value ^ flips[k])
                taken += 1
        else:
            for flip in range(buckets_per_chunk):
                if _popcount(np.uint64(flip & counted)) <= thresholds[c]:
                    buckets[taken] = first + (value ^ flip)
                    taken += 1
    return thresholds, total, buckets[:taken]


@njit(inline="always")
def _distance(keys, row, words, counted, scale, bits):
    """keys[row]'s distance to the query, or -1.0 once it differs in more than `bits` counted bits."""
    outside = 0
    clipped = 0
    for word in range(3):
        differing = keys[row, word] ^ words[word]
        outside += _popcount(differing & counted[word])
        if outside > bits:
            return -1.0
        clipped += _popcount(differing & ~counted[word])
    return min(float(outside + clipped), outside * scale)


@_compiled
def within_postings(postings, starts, lengths, owners, keys, words, counted, scales, bits, radius):
    """(rows, distances, found): the rows postings[starts[i]:starts[i] + lengths[i]], for every
    i, that lie within `radius` of the query owners[i] (its words[q], counted[q] and scales[q];
    `owners` ascending), in that order (a row met twice is kept twice); found[q] of them query q's."""
    total = np.sum(lengths)
    rows = np.empty(total, dtype=np.int64)
    taken = 0
    for bucket in range(len(starts)):
        for at in range(starts[bucket], starts[bucket] + lengths[bucket]):
            rows[taken] = postings[at]
            taken += 1
    distances = np.empty(total, dtype=np.float64)
    found = np.zeros(len(words), dtype=np.int64)
    kept = 0
    bucket, end, query = -1, 0, 0
    mine, bits_counted, scale = words[0], counted[0], scales[0]
    for at in range(total):
        while at == end:  # the next bucket's rows start here
            bucket += 1
            end += lengths[bucket]
            query = owners[bucket]
            mine, bits_counted, scale = words[query], counted[query], scales[query]
        if at + AHEAD < total:
            _prefetch(keys, rows[at + AHEAD])
        distance = _distance(keys, rows[at], mine, bits_counted, scale, bits)
        if 0.0 <= distance <= radius:
            rows[kept] = rows[at]
            distances[kept] = distance
            found[query] += 1
            kept += 1
    return rows[:kept], distances[:kept], found


@_compiled
def within_all(keys, words, counted, scale, bits, radius):
    """(rows, distances): every row of `keys` within `radius`, ascending."""
    rows = np.empty(len(keys), dtype=np.int64)
    distances = np.empty(len(keys), dtype=np.float64)
    kept = 0
    for row in range(len(keys)):
        distance = _distance(keys, row, words, counted, scale, bits)
        if 0.0 <= distance <= radius:
            rows[kept] = row
            distances[kept] = distance
            kept += 1
    return rows[:kept], distances[:kept]


@_compiled
def hamming_all(keys, words):
    """Every row's plain Hamming distance to `words`, as uint8 (a query whose bits all count)."""
    distances = np.empty(len(keys), dtype=np.uint8)
    for row in range(len(keys)):
        distances[row] = (_popcount(keys[row, 0] ^ words[0]) + _popcount(keys[row, 1] ^ words[1])
                          + _popcount(keys[row, 2] ^ words[2]))
    return distances


@_compiled
def distances_all(keys, words, counted, scale):
    """Every row's distance to the query (one with clipped bits)."""
    distances = np.empty(len(keys), dtype=np.float64)
    for row in range(len(keys)):
        distances[row] = _distance(keys, row, words, counted, scale, 192)
    return distances
