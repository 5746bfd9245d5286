"""Registering, listing and moving subreddits forward."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from booru.errors import Conflict, NotFound, Unusable
from booru.extensions import db
from booru.func.directory import lookup_subreddit
from booru.models import Image, Link, Submission, Subreddit
from common.sources import plan


def list_subreddits() -> list[Subreddit]:
    return list(db.session.scalars(select(Subreddit).order_by(Subreddit.name)))


def get_subreddit(name: str) -> Subreddit:
    row = db.session.scalar(select(Subreddit).where(func.lower(Subreddit.name) == name.lower()))
    if row is None:
        raise NotFound(f"subreddit {name!r} is not registered")
    return row


def check_source(source: str | None) -> str | None:
    """The subreddit's own source spec in its canonical form (None: the configured GREG_SOURCE)."""
    if source is None or not source.strip():
        return None
    try:
        return str(plan(source))
    except ValueError as exc:
        raise Unusable(str(exc), {"source": [str(exc)]}) from None


def register_subreddit(name: str, source: str | None = None) -> Subreddit:
    """Check with the subreddit's source (or the configured one) that it exists, then record it."""
    source = check_source(source)
    if db.session.scalar(select(Subreddit).where(func.lower(Subreddit.name) == name.lower())) is not None:
        raise Conflict(f"subreddit {name!r} is already registered")
    canonical, created = lookup_subreddit(name, current_app.config["SETTINGS"], source)
    row = Subreddit(name=canonical, created=created, source=source)
    db.session.add(row)
    db.session.commit()
    return row


def update_subreddit(name: str, fields: dict[str, datetime | str | None]) -> Subreddit:
    """Set `updated`, `backfilled_until`, `last_polled` or `source`; times never move backwards."""
    row = get_subreddit(name)
    for key, value in fields.items():
        current = getattr(row, key)
        if isinstance(value, datetime) and isinstance(current, datetime) and value < current:
            continue
        if key == "source":
            value = check_source(value)
        setattr(row, key, value)
    db.session.commit()
    return row


def contents(name: str) -> dict[str, int]:
    """What unregistering the subreddit removes with it: its submissions, links and images."""
    row = get_subreddit(name)
    ids = select(Submission.id).where(Submission.subreddit == row.name).scalar_subquery()
    return {"submissions": db.session.scalar(select(func.count()).where(Submission.subreddit == row.name)),
            "links": db.session.scalar(select(func.count()).select_from(Link).where(Link.id.in_(ids))),
            "images": db.session.scalar(select(func.count()).select_from(Image).where(Image.submission_id.in_(ids)))}


def delete_subreddit(name: str, confirm: str | None) -> dict[str, int]:
    """Unregister the subreddit with everything it holds, only when `confirm` repeats its name."""
    row = get_subreddit(name)
    removed = contents(row.name)
    if (confirm or "").lower() != row.name.lower():
        raise Conflict(f"unregistering r/{row.name} deletes its {removed['submissions']} submissions, "
                       f"{removed['links']} links and {removed['images']} images with their fingerprints; "
                       f"repeat its name to confirm: ?confirm={row.name}",
                       {"confirm": [f"required: {row.name}"], **{k: [str(n)] for k, n in removed.items()}})
    db.session.delete(row)
    db.session.commit()
    return removed
