"""Registering, listing and moving subreddits forward."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import func, select

from booru.errors import Conflict, NotFound
from booru.extensions import db
from booru.func.directory import lookup_subreddit
from booru.models import Subreddit


def list_subreddits() -> list[Subreddit]:
    return list(db.session.scalars(select(Subreddit).order_by(Subreddit.name)))


def get_subreddit(name: str) -> Subreddit:
    row = db.session.scalar(select(Subreddit).where(func.lower(Subreddit.name) == name.lower()))
    if row is None:
        raise NotFound(f"subreddit {name!r} is not registered")
    return row


def register_subreddit(name: str, source: str | None = None) -> Subreddit:
    """Check with the configured source that the subreddit exists, then record it."""
    if db.session.scalar(select(Subreddit).where(func.lower(Subreddit.name) == name.lower())) is not None:
        raise Conflict(f"subreddit {name!r} is already registered")
    canonical, created = lookup_subreddit(name, current_app.config["SETTINGS"])
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
        setattr(row, key, value)
    db.session.commit()
    return row


def delete_subreddit(name: str) -> None:
    db.session.delete(get_subreddit(name))
    db.session.commit()
