"""API keys: random, stored as SHA-256 digests, one role each; and the per-route role check."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timezone
from functools import wraps
from typing import Callable

from flask import g, request
from sqlalchemy import select

from booru.errors import Forbidden, NotFound, Unauthorized, Unusable
from booru.extensions import db
from booru.models import ROLES, ApiKey

KEY_PREFIX = "lzb_"
HEADER = "X-API-Key"
WRITERS = ("admin", "greg", "parsa", "coco")  # every role but reader


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
    return row


def revoke_key(key_id: int) -> ApiKey:
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id}")
    row.revoked = row.revoked or datetime.now(timezone.utc)
    db.session.commit()
    return row


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def authenticate(key: str | None) -> ApiKey:
    if not key:
        raise Unauthorized(f"missing {HEADER} header")
    wanted = digest(key)
    row = db.session.scalar(select(ApiKey).where(ApiKey.digest == wanted, ApiKey.revoked.is_(None)))
    if row is None or not hmac.compare_digest(row.digest, wanted):
        raise Unauthorized("unknown or revoked API key")
    return row


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
            return method(*args, **kwargs)

        checked.roles = allowed
        return checked

    return decorate


def public(method: Callable) -> Callable:
    """Mark a resource method as open to everyone (only health)."""
    method.roles = None
    return method
