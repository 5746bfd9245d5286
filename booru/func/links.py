"""The link queue Parsa works on."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from booru.extensions import db
from booru.func import leases
from booru.errors import NotFound
from booru.func.submissions import link_row
from booru.models import Link, Submission


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
    """Add links to known submissions (a link per submission; known ones are left alone)."""
    ids = {link["id"] for link in links}
    known = set(db.session.scalars(select(Submission.id).where(Submission.id.in_(ids))))
    if ids - known:
        raise NotFound("no such submissions: " + ", ".join(sorted(ids - known)))
    rows = [link_row(link["id"], link["url"], link["type"]) for link in {l["id"]: l for l in links}.values()]
    result = db.session.execute(insert(Link.__table__).on_conflict_do_nothing(index_elements=["id"])
                                .returning(Link.__table__.c.id), rows)
    created = len(result.all())
    db.session.commit()
    return created


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
