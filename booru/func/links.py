"""The link queue Parsa works on."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from booru.extensions import db
from booru.func import leases
from booru.errors import NotFound
from booru.func.submissions import link_row, posted_type
from booru.models import Link, Submission
from common.links import classify


def claim_links(limit: int, link_type: str | None) -> tuple[list[dict], datetime | None]:
    settings = current_app.config["SETTINGS"]
    where, params = ("AND type = :type", {"type": link_type}) if link_type else ("AND type IS NOT NULL", {})
    return leases.claim(leases.LINKS, limit, settings.lease_seconds, where, **params)


def links_done(reports: list[dict]) -> int:
    count = leases.complete(leases.LINKS, reports)
    db.session.commit()
    return count


def release_links(reports: list[dict]) -> int:
    return leases.release(leases.LINKS, reports)


def links_failed(reports: list[dict]) -> int:
    settings = current_app.config["SETTINGS"]
    return leases.fail(leases.LINKS, reports, settings.retry_delay, settings.max_tries)


def add_links(links: list[dict]) -> int:
    """Add links to known submissions (a link per submission). Known ones are left alone, except
    an unsupported one that now has a type: it goes back to the queue. Returns the rows written."""
    ids = {link["id"] for link in links}
    known = set(db.session.scalars(select(Submission.id).where(Submission.id.in_(ids))))
    if ids - known:
        raise NotFound("no such submissions: " + ", ".join(sorted(ids - known)))
    rows = [link_row(link["id"], link["url"], posted_type(link)) for link in {l["id"]: l for l in links}.values()]
    table = Link.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["id"], where=table.c.type.is_(None) & statement.excluded.type.is_not(None),
        set_={"type": statement.excluded.type, "state": "pending", "error": None, "tries": 0,
              "available_at": func.now()})
    result = db.session.execute(statement.returning(table.c.id), rows)
    created = len(result.all())
    db.session.commit()
    return created


def reclassify_links(batch: int = 5000) -> dict[str, int]:
    """Classify again every link no resolver handled (type NULL); those a pattern now supports
    go back to the queue as pending, with their type. For `flask links reclassify` (run by
    `flask setup`, so after an upgrade that adds a resolver)."""
    examined = requeued = 0
    after = ""
    while True:
        rows = db.session.execute(select(Link.id, Link.url).where(Link.type.is_(None), Link.id > after)
                                  .order_by(Link.id).limit(batch)).all()
        if not rows:
            break
        examined += len(rows)
        after = rows[-1].id
        typed = [{"link_id": row.id, "link_type": kind} for row in rows if (kind := classify(row.url))]
        if typed:
            db.session.execute(text(
                "UPDATE link SET type = :link_type, state = 'pending', error = NULL, tries = 0, available_at = now() "
                "WHERE id = :link_id AND type IS NULL"), typed)
            requeued += len(typed)
        db.session.commit()
    return {"examined": examined, "requeued": requeued}


def list_links(link_type: str | None, state: str | None, limit: int, cursor: str | None) -> tuple[list[Link], str | None]:
    query = select(Link).order_by(Link.id).limit(limit + 1)
    if link_type == "unsupported":
        query = query.where(Link.type.is_(None))
    elif link_type:
        query = query.where(Link.type == link_type)
    if state:
        query = query.where(Link.state == state)
    if cursor:
        query = query.where(Link.id > cursor)
    rows = list(db.session.scalars(query))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
