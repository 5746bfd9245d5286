"""Per-principal quotas: token buckets shared by booru's workers, answered with 429 and Retry-After.

Each role has a budget per minute (QUOTA_<ROLE>=<requests>,<searches>, or `none`). What a request
takes is declared by its route (`requires(..., cost=...)`): REQUEST, one token from the principal's
`requests` bucket; SEARCH (a search by upload or URL, API or page), also one from its `searches`
bucket; THUMBNAIL, a twentieth of a request token (a page of pictures loads dozens). A bucket holds a minute's budget and refills continuously, so a client may burst
a minute's worth and then keeps to the rate. The principal is the API key (by id), or the client
address for requests without one (the `public` role).

The buckets live in a small SQLite file under VAR_DIR (one per database booru serves), updated in
one statement per bucket inside a short write transaction, so every gunicorn worker of the machine
shares them. Not PostgreSQL: a write there on every request would end a transaction per request,
and booru's caches that hold while the database's snapshot is unchanged (GET /api/stats) would
never hold. Each booru machine keeps its own buckets: behind a load balancer over N machines, a
key may get up to N budgets unless the balancer routes a key to one machine.
"""
from __future__ import annotations

import hashlib
import math
import os
import sqlite3
import threading
import time
from pathlib import Path

from flask import current_app, request

from booru.errors import TooManyRequests

REQUEST = {"requests": 1.0}
SEARCH = {"requests": 1.0, "searches": 1.0}
THUMBNAIL = {"requests": 0.05}
SCHEMA = """CREATE TABLE IF NOT EXISTS bucket (
    principal TEXT NOT NULL, kind TEXT NOT NULL, tokens REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (principal, kind))"""
# Take `cost` tokens if the bucket, refilled since it was last touched, holds them; no row comes
# back when it does not. A new principal starts with a full bucket.
TAKE = """
    INSERT INTO bucket (principal, kind, tokens, updated) VALUES (:principal, :kind, :capacity - :cost, :now)
    ON CONFLICT (principal, kind) DO UPDATE
    SET tokens = min(:capacity, tokens + (:now - updated) * :rate) - :cost, updated = :now
    WHERE min(:capacity, tokens + (:now - updated) * :rate) >= :cost
    RETURNING tokens"""
LEFT = """SELECT min(:capacity, tokens + (:now - updated) * :rate) FROM bucket
          WHERE principal = :principal AND kind = :kind"""

_lock = threading.Lock()
_connections: dict[tuple[int, str], sqlite3.Connection] = {}


def store_path(var_dir: Path, database_uri: str) -> Path:
    """The buckets' file: one per database, so two boorus (or test databases) never share keys' ids."""
    return var_dir / "quota" / f"{hashlib.sha256(database_uri.encode()).hexdigest()[:16]}.sqlite3"


def _connection(path: Path) -> sqlite3.Connection:
    """This process's connection to `path` (a forked worker opens its own)."""
    key = (os.getpid(), str(path))
    connection = _connections.get(key)
    if connection is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")  # buckets lost in a crash only refill
        connection.execute(SCHEMA)
        _connections[key] = connection
    return connection


def principal(key_id: int | None) -> str:
    return f"key:{key_id}" if key_id is not None else f"address:{request.remote_addr or 'unknown'}"


def charge(role: str, key_id: int | None, cost: dict[str, float] = REQUEST) -> None:
    """Take this request's tokens (`cost`: tokens by bucket) for the principal, or raise
    TooManyRequests (429)."""
    settings = current_app.config["SETTINGS"]
    budget = settings.quotas.get(role)
    if budget is None:
        return
    per_minute = {"requests": budget[0], "searches": budget[1]}
    path = store_path(settings.var_dir, current_app.config["SQLALCHEMY_DATABASE_URI"])
    wait = _take(_connection(path), principal(key_id), per_minute, cost)
    if wait is not None:
        kind, seconds = wait
        raise TooManyRequests(f"the {role} quota of {per_minute[kind]} {kind} a minute is spent; "
                              f"try again in {seconds} s", seconds)


def _take(connection: sqlite3.Connection, who: str, per_minute: dict[str, int],
          cost: dict[str, float]) -> tuple[str, int] | None:
    """Take `cost` from each bucket, all or none: None, or the empty bucket and the seconds until
    it holds the cost."""
    with _lock:
        connection.execute("BEGIN IMMEDIATE")
        try:
            for kind, tokens in cost.items():
                capacity = per_minute[kind]
                params = {"principal": who, "kind": kind, "capacity": capacity, "rate": capacity / 60.0,
                          "now": time.time(), "cost": tokens}
                if capacity > 0 and connection.execute(TAKE, params).fetchone() is not None:
                    continue
                left = (connection.execute(LEFT, params).fetchone() or (0.0,))[0] if capacity > 0 else 0.0
                connection.execute("ROLLBACK")
                return kind, max(1, math.ceil((tokens - left) * 60.0 / capacity)) if capacity > 0 else 60
            connection.execute("COMMIT")
            return None
        except BaseException:
            connection.execute("ROLLBACK")
            raise
