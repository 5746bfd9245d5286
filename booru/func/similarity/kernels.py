"""Compiled loops (numba) that measure dhash candidates: the dhash index's bucket lookups and scans.

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


@njit(nogil=True, cache=True)
def _kept(rows, keys, words, counted, scale, bits, radius):
    """(rows, distances) of the given rows within `radius`, in their order (`rows` is reused)."""
    distances = np.empty(len(rows), dtype=np.float64)
    kept = 0
    for at in range(len(rows)):
        if at + AHEAD < len(rows):
            _prefetch(keys, rows[at + AHEAD])
        distance = _distance(keys, rows[at], words, counted, scale, bits)
        if 0.0 <= distance <= radius:
            rows[kept] = rows[at]
            distances[kept] = distance
            kept += 1
    return rows[:kept], distances[:kept]


@njit(nogil=True, cache=True)
def within_postings(postings, starts, lengths, keys, words, counted, scale, bits, radius):
    """(rows, distances): the rows postings[starts[i]:starts[i] + lengths[i]], for every i,
    that lie within `radius`, in that order (a row met twice is kept twice)."""
    rows = np.empty(np.sum(lengths), dtype=np.int64)
    taken = 0
    for bucket in range(len(starts)):
        for at in range(starts[bucket], starts[bucket] + lengths[bucket]):
            rows[taken] = postings[at]
            taken += 1
    return _kept(rows, keys, words, counted, scale, bits, radius)


@njit(nogil=True, cache=True)
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
