"""Search by a fingerprinted image: plan, search the indexes, describe the hits."""
from __future__ import annotations

from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.follow import followers
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.planner import DEFAULT_RADIUS, INDEXES, search_indexes
from booru.func.similarity.results import describe_hits
from common.fingerprint import Fingerprint


def search_fingerprint(query: Fingerprint, algorithm: str, limit: int, max_distance: float | None) -> dict:
    """The hits for a fingerprinted query image, best first (distance, then image id)."""
    radius = DEFAULT_RADIUS[algorithm] if max_distance is None else float(max_distance)
    indexes = indexes_for(algorithm)
    for _ in range(5):
        hits = search_indexes(indexes, query, algorithm, radius, limit)
        described = describe_hits(hits, algorithm)
        if len(described) == len(hits):
            break
        gone = sorted(set(hits.ids.tolist()) - {hit["id"] for hit in described})
        for index in indexes.values():
            index.remove(gone)  # deleted with their image since the index saw them
    return {"algorithm": algorithm, "max_distance": radius, "hits": described}


def indexes_for(algorithm: str) -> dict[str, DhashIndex | HistogramIndex]:
    """This process's indexes that `algorithm` reads, brought up to date."""
    return {kind: followers()[kind].current() for kind in INDEXES[algorithm]}
