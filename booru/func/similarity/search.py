"""Search by a fingerprinted image: the nearest `limit` pictures, each with all its posts.

A search always answers with the nearest `limit` pictures whose posts pass the filters (fewer
only when the archive holds fewer): it searches the default radius first and, while too few
pictures are found there, asks the index for more images (a picture may be many images) and
then searches without a radius (planner.searches). Every search is exact, so the nearest `limit`
pictures among the images it returns are the nearest overall. `max_distance`, when given, is a filter: nothing farther is returned.
"""
from __future__ import annotations

from typing import Callable

from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.follow import followers
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.index import Hits
from booru.func.similarity.planner import INDEXES, searches, visual_plan
from booru.func.similarity.query import Query
from booru.func.similarity.results import POSTS_LIMIT, PostFilter, describe_pictures
from booru.func.similarity.visual_answer import search_visual
from common.fingerprint import Fingerprint

RETRIES = 5  # searches repeated after dropping images deleted since the index saw them


def search_fingerprint(query: Fingerprint, algorithm: str, limit: int, max_distance: float | None = None,
                       posts: PostFilter = PostFilter(), posts_limit: int = POSTS_LIMIT) -> dict:
    """The nearest `limit` pictures to a fingerprinted query image, best first (distance, then
    the id of their nearest image); `visual` needs the query's render (a `Query`)."""
    if algorithm == "visual":
        if not isinstance(query, Query) or query.render is None:
            raise TypeError("the visual search needs the query image's render: fingerprint it with fingerprint_query")
        return _search_visual(query, limit, max_distance, posts, posts_limit)
    indexes = indexes_for(algorithm)
    pictures = nearest_pictures(searches(indexes, query, algorithm, max_distance), indexes, algorithm, limit,
                                posts, posts_limit)
    return {"algorithm": algorithm, "max_distance": max_distance, "hits": pictures}


def _search_visual(query: Query, limit: int, max_distance: float | None, posts: PostFilter,
                   posts_limit: int) -> dict:
    """`visual`, its global candidates and its fill from planner.visual_plan."""
    indexes = indexes_for("combined")
    global_ids, plan = visual_plan(indexes, query, limit, max_distance)

    def fill(count: int) -> list[dict]:
        return nearest_pictures(plan, indexes, "combined", count, posts, posts_limit)

    return search_visual(query, fill, limit, max_distance, posts, posts_limit, global_ids=global_ids)


def nearest_pictures(plan: list[tuple[Callable[[int], Hits], bool]], indexes: dict[str, DhashIndex | HistogramIndex],
                     algorithm: str, limit: int, posts: PostFilter, posts_limit: int) -> list[dict]:
    """The nearest `limit` pictures by the plan's searches (planner.searches), tried in turn."""
    pictures: list[dict] = []
    for search, complete in plan:
        wanted, retries = limit, RETRIES
        while True:
            hits = search(wanted)
            if len(hits) < limit and not complete:
                break  # fewer images than `limit` within its radius: fewer pictures too
            pictures, gone = describe_pictures(hits, algorithm, posts, posts_limit)
            if gone and retries:
                retries -= 1
                for index in indexes.values():
                    index.remove(gone)  # deleted with their image since the index saw them
                continue
            if len(pictures) >= limit or len(hits) < wanted:
                break
            wanted *= 4  # several hits were one picture, or their posts were filtered out
        if len(pictures) >= limit:
            break
    return pictures[:limit]


def indexes_for(algorithm: str) -> dict[str, DhashIndex | HistogramIndex]:
    """This process's indexes that `algorithm` reads, brought up to date."""
    return {kind: followers()[kind].current() for kind in INDEXES[algorithm]}
