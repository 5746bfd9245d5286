"""Brute-force oracles for the similarity indexes, written apart from booru.func.similarity.

Plain Python over every image: its own popcount, L1 and L2, its own clipped-bit scaling and
its own ranking (one entry per image, its smallest distance with the direct query winning a tie,
sorted by (distance, image id)). The arithmetic follows the documented definitions in the same
order of operations as the index, so distances agree to the last bit.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from booru.func.similarity.index import Hits

BITS = 192
FULL = (1 << BITS) - 1


def as_int(words: Sequence[int] | np.ndarray) -> int:
    """Three 64-bit words -> one 192-bit integer (word 0 lowest)."""
    return sum(int(w) << (64 * n) for n, w in enumerate(words))


def popcount(value: int) -> int:
    count = 0
    while value:
        value &= value - 1
        count += 1
    return count


class DhashOracle:
    """One dhash query: its words and clipped bits (None or all 192 clipped: plain Hamming)."""

    def __init__(self, words, clipped=None):
        self.words = as_int(words)
        self.clipped = as_int(clipped) if clipped is not None else 0
        if popcount(self.clipped) == BITS:
            self.clipped = 0

    @classmethod
    def of(cls, query) -> "DhashOracle":
        """From a DhashQuery (words, clipped) or plain words."""
        if hasattr(query, "words"):
            return cls(query.words, query.clipped)
        return cls(query)

    def distance(self, stored) -> float:
        differing = self.words ^ as_int(stored)
        plain = popcount(differing)
        if not self.clipped:
            return float(plain)
        outside = popcount(differing & (FULL ^ self.clipped))
        counted = BITS - popcount(self.clipped)
        return min(float(plain), outside * (BITS / counted))


def l1(a: Iterable[float], b: Iterable[float]) -> float:
    total = None
    for x, y in zip(a, b):
        term = abs(float(x) - float(y))
        total = term if total is None else total + term
    return total


def l2(a: Iterable[float], b: Iterable[float]) -> float:
    total = None
    for x, y in zip(a, b):
        difference = float(x) - float(y)
        term = difference * difference  # not `** 2`: libm's pow may miss the nearest double by an ulp
        total = term if total is None else total + term
    return math.sqrt(total)


def rank(found: dict[int, tuple[float, bool]], limit: int) -> Hits:
    """The `limit` best of image -> (distance, mirrored), by (distance, image id)."""
    ordered = sorted(found.items(), key=lambda item: (item[1][0], item[0]))[:limit]
    return Hits(np.array([i for i, _ in ordered], dtype=np.int64),
                np.array([d for _, (d, _) in ordered], dtype=np.float64),
                np.array([m for _, (_, m) in ordered], dtype=bool))


def nearest(ids, measure, queries: Sequence, radius: float, limit: int) -> Hits:
    """Every image measured against every query (the 2nd mirrored), kept within `radius`."""
    found: dict[int, tuple[float, bool]] = {}
    for row, image in enumerate(int(i) for i in ids):
        for n, query in enumerate(queries):
            distance = measure(row, query)
            if distance <= radius and (image not in found or distance < found[image][0]):
                found[image] = (distance, n > 0)
    return rank(found, limit)


def dhash_search(ids, dhashes, queries, radius: float, limit: int) -> Hits:
    oracles = [DhashOracle.of(q) for q in queries]
    return nearest(ids, lambda row, q: q.distance(dhashes[row]), oracles, radius, limit)


def histogram_search(ids, histograms, query, radius: float, limit: int, p: int) -> Hits:
    norm = l1 if p == 1 else l2
    return nearest(ids, lambda row, q: norm(histograms[row], q), [query], radius, limit)


def combined_search(ids, dhashes, histograms, queries, histogram, radius: float, limit: int,
                    weight: float) -> Hits:
    """dhash + weight × L1 over images that have both fingerprints (row-aligned)."""
    oracles = [DhashOracle.of(q) for q in queries]
    return nearest(ids, lambda row, q: q.distance(dhashes[row]) + weight * l1(histograms[row], histogram),
                   oracles, radius, limit)
