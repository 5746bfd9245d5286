"""Work leases: claim in one statement, report with the lease token.

A claim picks claimable rows with FOR UPDATE SKIP LOCKED and stamps them with one lease token and
an expiry; concurrent claimers therefore get disjoint rows. A row whose lease expired is claimable
again. Reports must present the row's current token, or nothing is changed and 409 is answered.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, text

from booru.errors import Conflict
from booru.extensions import db


@dataclass(frozen=True)
class Queue:
    table: str
    waiting: tuple[str, ...]  # states ready to be claimed once available_at has passed
    returned: tuple[str, ...]  # columns handed to the worker
    done: str
    retry: str  # state of a transient failure, claimable again after the delay
    permanent: str  # state of a permanent failure
    unsupported: str | None  # state of what no worker can use, if the queue has one
    error_column: str
    done_set: str  # what else completion records
    order: str


LINKS = Queue("link", ("pending", "failed"), ("id", "url", "type", "tries"), "done", "failed", "dead",
              "unsupported", "error", ", last_visited = now()", "priority DESC, available_at, id")
IMAGES = Queue("image", ("pending",), ("id", "url", "md5"), "encoded", "pending", "failed",
               None, "last_error", "", "available_at, id")


def claim(queue: Queue, limit: int, lease_seconds: int, where: str = "", **params) -> tuple[list[dict], datetime | None]:
    """Lease up to `limit` rows; returns them (each with its `lease`) and the lease expiry."""
    waiting = ", ".join(f"'{state}'" for state in queue.waiting)
    statement = text(f"""
        WITH picked AS (
            SELECT id FROM {queue.table}
            WHERE ((state IN ({waiting}) AND available_at <= now())
                   OR (state = 'claimed' AND lease_expires <= now())) {where}
            ORDER BY {queue.order}
            LIMIT :limit
            FOR UPDATE SKIP LOCKED)
        UPDATE {queue.table} AS t
        SET state = 'claimed', lease = :lease, lease_expires = now() + make_interval(secs => :seconds)
        FROM picked WHERE t.id = picked.id
        RETURNING {", ".join("t." + c for c in queue.returned)}, t.lease_expires""")
    token = str(uuid.uuid4())
    rows = db.session.execute(statement, {"limit": limit, "lease": token, "seconds": lease_seconds, **params})
    items, expires = [], None
    for row in rows.mappings():
        item = {c: row[c] for c in queue.returned}
        item["lease"] = token
        expires = row["lease_expires"]
        items.append(item)
    db.session.commit()
    return items, expires


def _lock_leased(queue: Queue, reports: list[dict]) -> dict:
    """Lock the reported rows that still carry the presented lease; 409 if any does not."""
    wanted = {(str(r["id"]), str(r["lease"])) for r in reports}
    ids = [r["id"] for r in reports]
    statement = text(f"SELECT id, lease::text AS lease, tries FROM {queue.table} "
                     f"WHERE id IN :ids AND state = 'claimed' FOR UPDATE").bindparams(bindparam("ids", expanding=True))
    held = {str(row.id): row for row in db.session.execute(statement, {"ids": ids})
            if (str(row.id), row.lease) in wanted}
    stale = sorted(str(i) for i, _ in wanted if i not in held)
    if stale:
        db.session.rollback()
        raise Conflict("these leases are no longer held (expired and claimed again, or already reported): "
                       + ", ".join(stale), {"stale": stale})
    return held


def complete(queue: Queue, reports: list[dict]) -> int:
    """Mark leased rows done, in the caller's transaction (the caller commits)."""
    if not reports:
        return 0
    _lock_leased(queue, reports)
    statement = text(f"UPDATE {queue.table} SET state = :done, lease = NULL, lease_expires = NULL, "
                     f"{queue.error_column} = NULL{queue.done_set} "
                     f"WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    result = db.session.execute(statement, {"done": queue.done, "ids": [r["id"] for r in reports]})
    return result.rowcount


def release(queue: Queue, reports: list[dict]) -> int:
    """Give leased rows back untouched (a worker stopping before it began them): claimable at once,
    no try counted."""
    if not reports:
        return 0
    _lock_leased(queue, reports)
    statement = text(f"UPDATE {queue.table} SET state = :waiting, lease = NULL, lease_expires = NULL, "
                     f"available_at = now() WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    result = db.session.execute(statement, {"waiting": queue.waiting[0], "ids": [r["id"] for r in reports]})
    db.session.commit()
    return result.rowcount


def fail(queue: Queue, reports: list[dict], retry_delay: int, max_tries: int) -> int:
    """Record failures: permanent ones at once, transient ones retried later until max_tries."""
    held = _lock_leased(queue, reports)
    rows = []
    for report in reports:
        tries = held[str(report["id"])].tries + (0 if report.get("permanent") else 1)
        if report.get("unsupported") and queue.unsupported:
            state = queue.unsupported
        elif report.get("permanent") or tries >= max_tries:
            state = queue.permanent
        else:
            state = queue.retry
        delay = report.get("retry_after")
        rows.append({"id": report["id"], "state": state, "tries": tries, "error": report.get("error"),
                     "delay": retry_delay if delay is None else delay})
    statement = text(f"UPDATE {queue.table} SET state = :state, tries = :tries, {queue.error_column} = :error, "
                     f"lease = NULL, lease_expires = NULL, available_at = now() + make_interval(secs => :delay) "
                     f"WHERE id = :id")
    db.session.execute(statement, rows)
    db.session.commit()
    return len(rows)
