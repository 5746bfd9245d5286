"""API keys: random, stored as SHA-256 digests, one role each; and the per-route role check.

Each process remembers the keys it verified for KEY_CACHE_SECONDS, so a busy client costs no
database query per request: a key revoked by another process (`flask keys revoke`, another
booru) stops working within that time; one revoked through this process, at once.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from typing import Callable

from flask import current_app, g, request
from sqlalchemy import select

from booru import quota
from booru.errors import Forbidden, NotFound, Unauthorized, Unusable
from booru.extensions import db
from booru.models import ROLES, ApiKey

KEY_PREFIX = "lzb_"
HEADER = "X-API-Key"
WRITERS = ("admin", "greg", "parsa", "coco")  # every role but reader
KEY_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class VerifiedKey:
    id: int
    role: str
    expires: float  # time.monotonic() after which it is checked again


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(role: str, name: str = "", key: str | None = None) -> tuple[ApiKey, str]:
    """Store a new key (or the given one) and return it with its plain text, shown once."""
    if role not in ROLES:
        raise Unusable(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    key = key or generate_key()
    row = ApiKey(name=name or role, role=role, digest=digest(key))
    db.session.add(row)
    db.session.commit()
    return row, key


def ensure_key(key: str, role: str, name: str) -> ApiKey:
    """Make sure `key` exists, unrevoked, with `role` (the daemons' key from .env)."""
    row = db.session.scalar(select(ApiKey).where(ApiKey.digest == digest(key)))
    if row is None:
        row, _ = create_key(role, name, key)
    elif row.revoked is not None or row.role != role:
        row.revoked, row.role = None, role
        db.session.commit()
        _verified().pop(row.digest, None)
    return row


def revoke_key(key_id: int) -> ApiKey:
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    row.revoked = row.revoked or datetime.now(timezone.utc)
    db.session.commit()
    _verified().pop(row.digest, None)
    return row


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def _verified() -> dict[str, VerifiedKey]:
    """This process's keys verified lately, by digest."""
    return current_app.extensions.setdefault("lzb_verified_keys", {})


def authenticate(key: str | None) -> VerifiedKey:
    if not key:
        raise Unauthorized(f"missing {HEADER} header")
    wanted = digest(key)  # looked up by digest, like the index does: timing tells nothing of the key
    verified = _verified()
    known = verified.get(wanted)
    if known is not None and known.expires > time.monotonic():
        return known
    row = db.session.scalar(select(ApiKey).where(ApiKey.digest == wanted, ApiKey.revoked.is_(None)))
    if row is None or not hmac.compare_digest(row.digest, wanted):
        verified.pop(wanted, None)
        raise Unauthorized("unknown or revoked API key")
    known = verified[wanted] = VerifiedKey(row.id, row.role, time.monotonic() + KEY_CACHE_SECONDS)
    return known


def requires(*roles: str) -> Callable:
    """Allow a resource method to keys with one of `roles` (admin may do everything)."""
    allowed = frozenset(roles) | {"admin"}

    def decorate(method: Callable) -> Callable:
        @wraps(method)
        def checked(*args, **kwargs):
            key = authenticate(request.headers.get(HEADER))
            if key.role not in allowed:
                raise Forbidden(f"role {key.role!r} may not {request.method} {request.path}")
            g.api_key = key
            quota.charge(key.role, key.id)
            return method(*args, **kwargs)

        checked.roles = allowed
        return checked

    return decorate


def public(method: Callable) -> Callable:
    """Mark a resource method as open to everyone (only health)."""
    method.roles = None
    return method
