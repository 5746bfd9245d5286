"""The state of the archive and its queues."""
from __future__ import annotations

from typing import NamedTuple

from flask import current_app
from sqlalchemy import func, select, text

from booru.extensions import db
from booru.models import IMAGE_STATES, LINK_STATES, Dhash, Image, Link, Submission, Subreddit
from common.fingerprint import FINGERPRINT_VERSION


def database_state() -> str:
    """'ok' and the server version, or raise the database's error."""
    version = db.session.execute(text("SHOW server_version")).scalar()
    return f"ok (PostgreSQL {version})"


def _counts(model, states: tuple[str, ...]) -> dict[str, int]:
    counts = dict.fromkeys(states, 0)
    counts.update(db.session.execute(select(model.state, func.count()).group_by(model.state)).all())
    return counts


class Counted(NamedTuple):
    snapshot: str  # the database snapshot taken just before counting
    stats: dict


def archive_stats() -> dict:
    """Exact counts per state, totals and the subreddits (as rows).

    Counting a million rows takes a few hundred milliseconds of database CPU, so each process
    keeps its last answer with the snapshot (pg_current_snapshot) taken just before counting, and
    gives it again while the database's snapshot is still that one: then no transaction has
    ended since, so nothing a count sees has changed and the answer is still exact. Any write
    that commits (or rolls back) anywhere on the server means counting again; so does a
    transaction of our own that has written (the snapshot does not show its changes).
    """
    snapshot, written = db.session.execute(text(
        "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned() IS NOT NULL")).one()
    if written:
        return count_archive()
    last: Counted | None = current_app.extensions.get("lzb_stats")
    if last is not None and last.snapshot == snapshot:
        return last.stats
    stats = count_archive()
    current_app.extensions["lzb_stats"] = Counted(snapshot, stats)
    return stats


def count_archive() -> dict:
    # One process per count: parallel workers answer sooner but cost more CPU in all, and a
    # busy booru has none to spare.
    db.session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    return {
        "links": _counts(Link, LINK_STATES),
        "images": _counts(Image, IMAGE_STATES),
        "submissions": db.session.scalar(select(func.count()).select_from(Submission)),
        "fingerprints": db.session.scalar(select(func.count()).select_from(Dhash)),
        "subreddits": db.session.execute(select(*Subreddit.__table__.c).order_by(Subreddit.name)).all(),
        "versions": fingerprint_versions(),
    }


def fingerprint_versions() -> dict[int, int]:
    """Encoded images per fingerprint version (the partial index on the version answers)."""
    rows = db.session.execute(text("SELECT coalesce(fingerprint_version, 1), count(*) FROM image "
                                   "WHERE state = 'encoded' GROUP BY 1"))
    return {int(version): int(n) for version, n in rows}


def upgrade_progress(versions: dict[int, int]) -> str:
    """`upgrade: N of M images at version V` (V: the version Coco computes now)."""
    current = FINGERPRINT_VERSION
    done = sum(n for version, n in versions.items() if version >= current)
    return f"upgrade: {done} of {sum(versions.values())} images at version {current}"


def queue_depths(timeout_ms: int = 3000) -> dict[str, dict[str, int]]:
    """Links and images per state and encoded images per fingerprint version only (cheap: the
    state and version indexes), bounded in time, for /metrics."""
    db.session.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
    try:
        return {"links": _counts(Link, LINK_STATES), "images": _counts(Image, IMAGE_STATES),
                "versions": fingerprint_versions()}
    finally:
        db.session.rollback()  # ends the transaction SET LOCAL applies to
