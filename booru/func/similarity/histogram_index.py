"""The histogram index: groups of normalised histograms in a scipy cKDTree, with exact radius
queries (p=1 for abs_norm, p=2 for eucl_norm) and exact kNN to bound the radius when only the
`limit` nearest are wanted. Candidates are re-measured with the canonical distance, so results
equal a brute-force scan bit for bit."""
from __future__ import annotations

from typing import Iterator

import numpy as np
from scipy.spatial import cKDTree

from booru.func.similarity.distances import NORMS
from booru.func.similarity.groups import Groups
from booru.func.similarity.index import Hits, Index, best, search_one

PAD = 1e-9  # relative slack for tree queries; candidates are re-measured exactly


class HistogramBase:
    """Groups of normalised histograms in a k-d tree (exact radius and kNN queries)."""

    def __init__(self, groups: Groups):
        self.groups = groups
        self.tree = cKDTree(groups.keys, copy_data=False, balanced_tree=False) if len(groups.keys) else None

    @classmethod
    def of(cls, ids: np.ndarray, values: np.ndarray) -> "HistogramBase":
        return cls(Groups.of(ids, np.asarray(values, dtype=np.float64).reshape(-1, 12)))

    def arrays(self) -> dict[str, np.ndarray]:
        """The groups; the tree is made again from their keys (quick, and small beside them)."""
        return self.groups.arrays()

    @classmethod
    def restored(cls, arrays: dict[str, np.ndarray]) -> "HistogramBase":
        return cls(Groups.restored(arrays))

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



class HistogramIndex(Index):
    width, dtype, base_type = 12, np.float64, HistogramBase

    def search(self, query: np.ndarray, radius: float, limit: int, p: int) -> Hits:
        """The `limit` images nearest to `query` (normalised) within `radius` in the L`p` norm."""
        snapshot = self.snapshot
        base = snapshot.base
        found = search_one(snapshot, np.asarray(query, dtype=np.float64), radius, limit,
                           lambda q, r: base.within(q, r, p), lambda q, r, k: base.radii(q, r, k, p),
                           NORMS[p], False)
        return best(*found, limit)


