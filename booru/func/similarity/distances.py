"""The canonical distances between fingerprints: the indexes measure every candidate with these.

* dhash (192 bits as three uint64 words, one 64-bit word per channel): bits differing, or
  for a query with clipped bits the smaller of that and the bits differing outside the
  clipped ones scaled to 192 (DhashQuery).
* Histograms (4 bins per channel, each channel normalised to sum 1): L1 (`abs_norm`) and
  L2 (`eucl_norm`), columns added left to right so that results are deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

DHASH_BITS = 192
ALL_COUNTED = np.full(3, np.iinfo(np.uint64).max, dtype=np.uint64)  # the bits that count when none is clipped


def hamming(values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Bits differing between each row of `values` (n×3 uint64) and `query` (3 uint64), as uint8."""
    total = np.bitwise_count(values[:, 0] ^ query[0])
    total += np.bitwise_count(values[:, 1] ^ query[1])
    total += np.bitwise_count(values[:, 2] ^ query[2])
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
    plain Hamming distance. The index measures its candidates by it in compiled loops
    (kernels.py, from `terms`), the rest here; the tests' brute-force oracles measure it on their own.
    """

    words: np.ndarray
    clipped: np.ndarray | None  # None: no bit is clipped (or every bit)

    @classmethod
    def of(cls, query: "DhashQuery | np.ndarray", clipped: np.ndarray | None = None) -> "DhashQuery":
        if isinstance(query, DhashQuery):
            return query
        if clipped is not None:
            clipped = np.array(clipped, dtype=np.uint64)
            if int(np.bitwise_count(clipped).sum()) in (0, DHASH_BITS):
                clipped = None
        return cls(np.array(query, dtype=np.uint64), clipped)  # copies: the compiled loops take one array type

    @property
    def counted(self) -> np.ndarray | None:
        """The bits outside the clipped ones (None: all of them)."""
        return None if self.clipped is None else ~self.clipped

    def lookup_radius(self, radius: float) -> int:
        """The most bits outside the clipped ones a hit within `radius` can differ in (either
        distance is at least that count): the index looks up by those bits alone."""
        return int(np.floor(radius + 1e-9))

    def distance(self, values: np.ndarray) -> np.ndarray:
        """The distance to each row of `values` (n×3 uint64)."""
        if self.clipped is None:
            return hamming(values, self.words).astype(np.float64)
        outside = self._differing(values, self.counted)
        plain = outside + self._differing(values, self.clipped)
        return np.minimum(plain.astype(np.float64), outside * self.scale)

    @property
    def scale(self) -> float:
        """What the bits differing outside the clipped ones are multiplied by: 192 / their count."""
        return 1.0 if self.clipped is None else DHASH_BITS / (DHASH_BITS - int(np.bitwise_count(self.clipped).sum()))

    def terms(self) -> tuple[np.ndarray, np.ndarray, float]:
        """What kernels.py measures this distance by: the words, the bits that count (all
        when none is clipped) and the scale of the bits differing outside the clipped ones."""
        return self.words, ALL_COUNTED if self.clipped is None else self.counted, self.scale

    def _differing(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        total = np.bitwise_count((values[:, 0] ^ self.words[0]) & mask[0]).astype(np.int32)
        for word in (1, 2):
            total += np.bitwise_count((values[:, word] ^ self.words[word]) & mask[word])
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

