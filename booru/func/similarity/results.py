"""Describing hits as pictures, each with every post it appeared in.

A *picture* is one file: the images with the same sha256 (a file posted again, or linked from
several posts, is one picture); an image without a sha256 (fingerprinted through the seed's
bulk endpoints) is a picture of its own. Its posts are those of all its images, oldest first (then by
image id), so the first poster comes first; the filters (subreddit, author, nsfw, date range)
apply to posts, and a picture none of whose posts pass is not a result. A picture's distance
is that of its nearest image among the hits.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from booru.errors import Malformed
from booru.extensions import db
from booru.func.similarity.confidence import confidence, score
from booru.func.similarity.index import Hits
from booru.func.tags import TAGS_OF_IMAGE

POSTS_LIMIT = 20  # posts per picture in a search answer; the rest are paged


@dataclass(frozen=True)
class PostFilter:
    """Which posts count: any field left None does not filter."""

    subreddit: str | None = None
    author: str | None = None
    nsfw: bool | None = None
    after: datetime | None = None   # created at or after
    before: datetime | None = None  # created before

    def where(self) -> tuple[str, dict]:
        """An SQL condition on `s` (submission) and its parameters."""
        clauses, params = [], {}
        if self.subreddit is not None:
            clauses.append("lower(s.subreddit) = lower(:f_subreddit)")
            params["f_subreddit"] = self.subreddit
        if self.author is not None:
            clauses.append("lower(s.author) = lower(:f_author)")
            params["f_author"] = self.author
        if self.nsfw is not None:
            clauses.append("s.nsfw = :f_nsfw")
            params["f_nsfw"] = self.nsfw
        if self.after is not None:
            clauses.append("s.created >= :f_after")
            params["f_after"] = self.after
        if self.before is not None:
            clauses.append("s.created < :f_before")
            params["f_before"] = self.before
        return " AND ".join(clauses) or "TRUE", params


SHA_OF = text("SELECT id, coalesce(sha256, 'id:' || id) AS key FROM image WHERE id = ANY(:ids)")
PICTURE_KEY = "coalesce(i.sha256, 'id:' || i.id)"
POST_COLUMNS = ("i.id AS image_id, i.url, i.sha256, s.id AS submission_id, s.title, s.subreddit, s.author, "
                "s.created, s.nsfw")


def encode_cursor(created: datetime, image_id: int) -> str:
    return base64.urlsafe_b64encode(f"{created.isoformat()}|{image_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        created, image_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        return datetime.fromisoformat(created), int(image_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Malformed("the cursor is not one this API gave out", {"cursor": ["invalid"]}) from None


def describe_post(row) -> dict:
    return {"image_id": row.image_id, "url": row.url, "submission_id": row.submission_id,
            "post": f"https://redd.it/{row.submission_id}", "subreddit": row.subreddit, "title": row.title,
            "author": row.author, "created": row.created, "nsfw": row.nsfw}


def posts_by_picture(keys: list[str], posts: PostFilter, limit: int) -> dict[str, tuple[list, int]]:
    """picture key -> (its first `limit` posts passing the filter, how many pass), for pictures
    with any; the first post's row carries its image's tags."""
    condition, params = posts.where()
    shas = [k for k in keys if not k.startswith("id:")]
    lone = [int(k[3:]) for k in keys if k.startswith("id:")]
    rows = db.session.execute(text(f"""
        SELECT ranked.*, CASE WHEN n = 1 THEN {TAGS_OF_IMAGE} END AS tags
        FROM image i JOIN (
            SELECT {POST_COLUMNS}, {PICTURE_KEY} AS key,
                   row_number() OVER (PARTITION BY {PICTURE_KEY} ORDER BY s.created, i.id) AS n,
                   count(*) OVER (PARTITION BY {PICTURE_KEY}) AS total
            FROM image i JOIN submission s ON s.id = i.submission_id
            WHERE (i.sha256 = ANY(:shas) OR (i.id = ANY(:lone) AND i.sha256 IS NULL)) AND {condition}) ranked
          ON i.id = ranked.image_id
        WHERE n <= :limit ORDER BY key, n"""), {"shas": shas, "lone": lone, "limit": limit, **params})
    found: dict[str, tuple[list, int]] = {}
    for row in rows:
        found.setdefault(row.key, ([], row.total))[0].append(row)
    return found


def describe_pictures(hits: Hits, algorithm: str, posts: PostFilter, posts_limit: int,
                      judged: dict[int, str] | None = None) -> tuple[list[dict], list[int]]:
    """(pictures in the hits' order, ids of hits whose image is gone). Each picture carries its
    first posts (`posts_limit`), how many there are and a cursor to the rest; its top-level
    fields (id, url, title, …) describe its oldest post, as a single hit did before. Its
    confidence is `judged[id of its nearest image]` when given, else that of its distance."""
    ids = [int(i) for i in hits.ids]
    if not ids:
        return [], []
    sha_of = {row.id: row.key for row in db.session.execute(SHA_OF, {"ids": ids})}
    gone = [i for i in ids if i not in sha_of]
    nearest: dict[str, tuple[float, bool, int]] = {}
    for image_id, distance, mirrored in zip(ids, hits.distances.tolist(), hits.mirrored.tolist()):
        sha = sha_of.get(image_id)
        if sha is not None and sha not in nearest:
            nearest[sha] = (distance, bool(mirrored), image_id)
    found = posts_by_picture(list(nearest), posts, posts_limit) if nearest else {}
    pictures = []
    for sha, (distance, mirrored, image_id) in nearest.items():
        if sha not in found:
            continue
        rows, total = found[sha]
        first = describe_post(rows[0])
        pictures.append({
            **first, "id": first["image_id"], "tags": list(rows[0].tags or []),
            "sha256": None if sha.startswith("id:") else sha,
            "distance": distance, "score": score(distance, algorithm),
            "confidence": judged[image_id] if judged is not None else confidence(distance, algorithm),
            "mirrored": mirrored, "posts": [describe_post(row) for row in rows], "posts_total": total,
            "posts_next": encode_cursor(rows[-1].created, rows[-1].image_id) if total > len(rows) else None})
    return pictures, gone


def picture_posts(image_id: int, posts: PostFilter, limit: int, cursor: str | None) -> dict | None:
    """One page of the posts of the picture that image `image_id` is (None: no such image)."""
    sha = db.session.execute(text("SELECT sha256 FROM image WHERE id = :id"), {"id": image_id}).first()
    if sha is None:
        return None
    condition, params = posts.where()
    if sha.sha256 is None:  # not fingerprinted yet: a picture of its own
        match, params["key"] = "i.id = :key", image_id
    else:
        match, params["key"] = "i.sha256 = :key", sha.sha256
    after = ""
    if cursor:
        params["c_created"], params["c_id"] = decode_cursor(cursor)
        after = "AND (s.created, i.id) > (:c_created, :c_id)"
    base = f"FROM image i JOIN submission s ON s.id = i.submission_id WHERE {match} AND {condition}"
    total = db.session.execute(text(f"SELECT count(*) {base}"), params).scalar_one()
    rows = db.session.execute(text(f"SELECT {POST_COLUMNS} {base} {after} ORDER BY s.created, i.id LIMIT :limit"),
                              {**params, "limit": limit + 1}).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"image": image_id, "sha256": sha.sha256, "total": total, "posts": [describe_post(row) for row in rows],
            "next": encode_cursor(rows[-1].created, rows[-1].image_id) if more else None}
