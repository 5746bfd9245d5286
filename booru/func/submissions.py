"""Bulk, idempotent upserts of submissions with their links."""
from __future__ import annotations

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import insert

from booru.errors import NotFound, Unusable
from booru.extensions import db
from booru.models import Link, Submission, Subreddit

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


def link_row(submission_id: str, url: str, link_type: str | None) -> dict:
    state = "pending" if link_type else "unsupported"
    error = None if link_type else "no resolver handles this URL"
    return {"id": submission_id, "url": url, "type": link_type, "state": state, "error": error}


def upsert_submissions(submissions: list[dict]) -> dict[str, int]:
    """Insert new submissions and links; update what may change on known ones. Returns counts."""
    by_id = {s["id"]: s for s in submissions}  # the last copy of a repeated id wins
    names = _canonical_subreddits({s["subreddit"].lower() for s in by_id.values()})
    rows, links = [], []
    for s in by_id.values():
        rows.append({"id": s["id"], "title": s["title"], "author": s["author"],
                     "subreddit": names[s["subreddit"].lower()], "created": s["created"], "flair": s["flair"],
                     "nsfw": s["nsfw"], "removed": s["removed"], "crosspost_parent": s["crosspost_parent"]})
        links.extend(link_row(s["id"], link["url"], link["type"]) for link in s["links"][:1])
    created = _execute_upsert(rows)
    if links:
        db.session.execute(insert(Link.__table__).on_conflict_do_nothing(index_elements=["id"]), links)
    db.session.commit()
    return {"received": len(submissions), "created": created}


def _execute_upsert(rows: list[dict]) -> int:
    """Upsert submission rows and count how many were new (xmax = 0 marks an inserted row)."""
    table = Submission.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.id], set_={column: statement.excluded[column] for column in UPDATABLE}
    ).returning(literal_column("xmax = 0"))
    return sum(1 for (inserted,) in db.session.execute(statement, rows) if inserted)


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
