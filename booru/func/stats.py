"""The state of the archive and its queues."""
from __future__ import annotations

from sqlalchemy import func, select, text

from booru.extensions import db
from booru.func.subreddits import list_subreddits
from booru.models import IMAGE_STATES, LINK_STATES, Dhash, Image, Link, Submission


def database_state() -> str:
    """'ok' and the server version, or raise the database's error."""
    version = db.session.execute(text("SHOW server_version")).scalar()
    return f"ok (PostgreSQL {version})"


def _counts(model, states: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(states, 0)
    counts.update(db.session.execute(select(model.state, func.count()).group_by(model.state)).all())
    return counts


def archive_stats() -> dict:
    return {
        "links": _counts(Link, LINK_STATES),
        "images": _counts(Image, IMAGE_STATES),
        "submissions": db.session.scalar(select(func.count()).select_from(Submission)),
        "fingerprints": db.session.scalar(select(func.count()).select_from(Dhash)),
        "subreddits": list_subreddits(),
    }


def queue_depths(timeout_ms: int = 3000) -> dict[str, dict[str, int]]:
    """Links and images per state only (cheap: the state indexes), bounded in time, for /metrics."""
    db.session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
    try:
        return {"links": _counts(Link, LINK_STATES), "images": _counts(Image, IMAGE_STATES)}
    finally:
        db.session.rollback()  # ends the transaction SET LOCAL applies to
