"""Per-principal quotas: token buckets in PostgreSQL, answered with 429 and Retry-After when spent.

Each role has a budget per minute (QUOTA_<ROLE>=<requests>,<searches>, or `none`): every request
takes a token from the principal's `requests` bucket, a search by upload or URL also one from its
`searches` bucket. A bucket holds a minute's budget and refills continuously, so a client may burst
a minute's worth and then keeps to the rate. The principal is the API key (by id), or the client
address for requests without one (the `public` role). The buckets live in the UNLOGGED table
quota_bucket, updated in one statement in its own short transaction (no lock outlives it), so
every gunicorn worker and every booru instance on the same database share them.
"""
from __future__ import annotations

import math

from flask import current_app, request
from sqlalchemy import text

from booru.errors import TooManyRequests
from booru.extensions import db

SEARCH_PREFIX = "/api/similarity/"

# Take `cost` tokens if the bucket, refilled since it was last touched, holds them; no row comes
# back when it does not. A new principal starts with a full bucket.
TAKE = text("""
    INSERT INTO quota_bucket AS b (principal, kind, tokens, updated)
    VALUES (:principal, :kind, :capacity - 1, clock_timestamp())
    ON CONFLICT (principal, kind) DO UPDATE
    SET tokens = least(:capacity, b.tokens + extract(epoch FROM clock_timestamp() - b.updated) * :rate) - 1,
        updated = clock_timestamp()
    WHERE least(:capacity, b.tokens + extract(epoch FROM clock_timestamp() - b.updated) * :rate) >= 1
    RETURNING tokens""")
LEFT = text("""SELECT least(:capacity, tokens + extract(epoch FROM clock_timestamp() - updated) * :rate)
               FROM quota_bucket WHERE principal = :principal AND kind = :kind""")


def principal(key_id: int | None) -> str:
    return f"key:{key_id}" if key_id is not None else f"address:{request.remote_addr or 'unknown'}"


def charge(role: str, key_id: int | None) -> None:
    """Take this request's tokens for the principal, or raise TooManyRequests (429)."""
    budget = current_app.config["SETTINGS"].quotas.get(role)
    if budget is None:
        return
    per_minute = {"requests": budget[0]}
    if request.path.startswith(SEARCH_PREFIX):
        per_minute["searches"] = budget[1]
    who = principal(key_id)
    with db.engine.begin() as connection:
        for kind, capacity in per_minute.items():  # a refusal rolls back the tokens taken before it
            params = {"principal": who, "kind": kind, "capacity": capacity, "rate": capacity / 60.0}
            if capacity > 0 and connection.execute(TAKE, params).first() is not None:
                continue
            left = connection.execute(LEFT, params).scalar() or 0.0 if capacity > 0 else 0.0
            wait = max(1, math.ceil((1 - left) * 60.0 / capacity)) if capacity > 0 else 60
            raise TooManyRequests(f"the {role} quota of {capacity} {kind} a minute is spent; "
                                  f"try again in {wait} s", wait)
