"""Bulk, idempotent upserts of submissions with their links."""
from __future__ import annotations

from psycopg2.extras import execute_values
from sqlalchemy import func, select

from booru.errors import NotFound
from booru.extensions import db
from booru.models import Submission, Subreddit
from common.links import classify

UNSUPPORTED = "no resolver handles this URL"

UPDATABLE = ("title", "flair", "nsfw", "removed", "crosspost_parent")


def _canonical_subreddits(names: set[str]) -> dict[str, str]:
    """Map lower-cased names to the registered spelling; refuse unregistered ones."""
    rows = db.session.execute(select(Subreddit.name).where(func.lower(Subreddit.name).in_(names))).scalars()
    known = {name.lower(): name for name in rows}
    missing = sorted(names - known.keys())
    if missing:
        raise NotFound("register these subreddits first: " + ", ".join(missing),
                       {"subreddit": [f"not registered: {name}" for name in missing]})
    return known


def posted_type(link: dict) -> str | None:
    """The type a posted link gives (None: unsupported, e.g. a self post), or the classifier's
    when it gives none."""
    return link["type"] if "type" in link else classify(link["url"])


def link_row(submission_id: str, url: str, link_type: str | None) -> dict:
    state = "pending" if link_type else "unsupported"
    error = None if link_type else UNSUPPORTED
    return {"id": submission_id, "url": url, "type": link_type, "state": state, "error": error}


SUBMISSION_COLUMNS = ("id", "title", "author", "subreddit", "created", "flair", "nsfw", "removed", "crosspost_parent")
UPSERT_SUBMISSIONS = (
    f"INSERT INTO submission ({', '.join(SUBMISSION_COLUMNS)}) VALUES %s "
    f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in UPDATABLE)} "
    f"RETURNING xmax = 0")
# A known link stays as it is, except one no resolver handled (type NULL) that now has a type.
REEXAMINE = ("DO UPDATE SET type = excluded.type, state = 'pending', error = NULL, tries = 0, available_at = now() "
             "WHERE link.type IS NULL AND excluded.type IS NOT NULL")
INSERT_LINKS = f"INSERT INTO link (id, url, type, state, error) VALUES %s ON CONFLICT (id) {REEXAMINE}"


def upsert_submissions(submissions: list[dict]) -> dict[str, int]:
    """Insert new submissions and links; update what may change on known ones. Returns counts.

    The hot path of aggregation: rows go to PostgreSQL as one multi-row statement per table
    (psycopg2's execute_values), without per-row ORM work."""
    by_id = {s["id"]: s for s in submissions}  # the last copy of a repeated id wins
    names = _canonical_subreddits({s["subreddit"].lower() for s in by_id.values()})
    rows, links = [], []
    for s in by_id.values():
        rows.append((s["id"], s["title"], s["author"], names[s["subreddit"].lower()], s["created"], s["flair"],
                     s["nsfw"], s["removed"], s["crosspost_parent"]))
        for link in s["links"][:1]:
            row = link_row(s["id"], link["url"], posted_type(link))
            links.append((row["id"], row["url"], row["type"], row["state"], row["error"]))
    cursor = db.session.connection().connection.cursor()
    inserted = execute_values(cursor, UPSERT_SUBMISSIONS, rows, page_size=len(rows), fetch=True)
    if links:
        execute_values(cursor, INSERT_LINKS, links, page_size=len(links))
    db.session.commit()
    return {"received": len(submissions), "created": sum(1 for (new,) in inserted if new)}


def get_submission(submission_id: str) -> Submission:
    row = db.session.get(Submission, submission_id)
    if row is None:
        raise NotFound(f"no submission {submission_id!r}")
    return row


def list_submissions(subreddit: str | None, limit: int, cursor: str | None) -> tuple[list[Submission], str | None]:
    query = select(Submission).order_by(Submission.id.desc()).limit(limit + 1)
    if subreddit:
        query = query.where(func.lower(Submission.subreddit) == subreddit.lower())
    if cursor:
        query = query.where(Submission.id < cursor)
    rows = list(db.session.scalars(query))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor
