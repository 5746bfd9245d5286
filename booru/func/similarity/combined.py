"""The combined measure: dhash + weight × abs_norm over the two indexes. Every image within the
radius by dhash is a candidate (the histogram term is never negative); its histogram is looked
up and the sum measured, nearest by dhash first, until no farther candidate can still be among
the `limit` best. Exact like the two indexes."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.distances import DhashQuery, l1
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.index import Hits, best


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
        top = best(*measured(ids[first], dhash[first], mirrored[first]), limit)
        if len(top) == limit:
            near = dhash <= top.distances[-1]
            ids, dhash, mirrored = ids[near], dhash[near], mirrored[near]
    return best(*measured(ids, dhash, mirrored), limit)

