"""Describing hits: each image with its post and tags, and a 0–100 score."""
from __future__ import annotations

from sqlalchemy import text

from booru.extensions import db
from booru.func.similarity.index import Hits
from booru.func.tags import TAGS_OF_IMAGE

# Distance at which the score reaches 0: about the median distance between different pictures
# of the corpus (90 bits + 3 × 3.2, 90 bits, 3.2, 1.2).
SCORE_SCALE = {"combined": 100.0, "dhash_xor_norm": 96.0, "abs_norm": 3.0, "eucl_norm": 1.2}


def score(distance: float, algorithm: str) -> float:
    """0–100, 100 for identical fingerprints, 0 at about the distance of unrelated images."""
    return round(max(0.0, 100.0 * (1.0 - distance / SCORE_SCALE[algorithm])), 2)


HIT_ROWS = text(f"""
    SELECT i.id, i.url, i.submission_id, s.title, s.subreddit, s.author, s.created, s.nsfw,
           {TAGS_OF_IMAGE} AS tags
    FROM image i JOIN submission s ON s.id = i.submission_id
    WHERE i.id = ANY(:ids)""")


def describe_hits(hits: Hits, algorithm: str) -> list[dict]:
    """Each hit with its image, post and tags (one query); hits whose image is gone are left out."""
    ids = [int(i) for i in hits.ids]
    if not ids:
        return []
    rows = {row.id: row for row in db.session.execute(HIT_ROWS, {"ids": ids})}
    described = []
    for image_id, distance, mirrored in zip(ids, hits.distances.tolist(), hits.mirrored.tolist()):
        row = rows.get(image_id)
        if row is None:
            continue
        described.append({
            "id": image_id, "url": row.url, "post": f"https://redd.it/{row.submission_id}",
            "submission_id": row.submission_id, "title": row.title, "subreddit": row.subreddit,
            "author": row.author, "created": row.created, "nsfw": row.nsfw, "tags": list(row.tags),
            "distance": distance, "score": score(distance, algorithm), "mirrored": bool(mirrored)})
    return described
