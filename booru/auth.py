"""API keys: random, stored as SHA-256 digests, one role each; how a request presents one; and the
per-route role check.

Each process remembers the keys it verified for KEY_CACHE_SECONDS, so a busy client costs no
database query per request: a key revoked by another process (`flask keys revoke`, another
booru) stops working within that time; one revoked through this process, at once.

Who asks (current_key): the key the request presents; else the key a person signed in with on
the web pages (its id in the signed session cookie, re-checked like a presented key); else, with
PUBLIC_ACCESS on, the anonymous `public` pseudo-role, which has a reader's rights. A session
is ambient authority (the browser sends the cookie by itself), so its writes must carry the
session's CSRF token (header X-CSRF-Token, or the form field csrf_token of the web pages).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import wraps
from typing import Callable

from flask import current_app, g, request, session
from flask_wtf.csrf import validate_csrf
from sqlalchemy import select
from wtforms import ValidationError as CsrfInvalid

from booru import quota
from booru.errors import Conflict, Forbidden, NotFound, Unauthorized, Unusable
from booru.extensions import db
from booru.models import ROLES, ApiKey

KEY_PREFIX = "lzb_"
HEADER = "X-API-Key"
WRITERS = ("admin", "greg", "parsa", "coco")  # every role but reader
KEY_CACHE_SECONDS = 5.0
PUBLIC_ROLE = "public"  # anonymous visitors with PUBLIC_ACCESS on: a reader's rights
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class VerifiedKey:
    id: int | None  # None for the public pseudo-role
    role: str
    expires: float  # time.monotonic() after which it is checked again
    via: str = "key"  # "key" (presented), "session" (signed in on the web pages) or "public"


PUBLIC = VerifiedKey(None, PUBLIC_ROLE, math.inf, "public")


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
    """Make sure `key` exists with `role` (the daemons' key from .env); a revoked key stays revoked."""
    row = db.session.scalar(select(ApiKey).where(ApiKey.digest == digest(key)))
    if row is None:
        row, _ = create_key(role, name, key)
    elif row.revoked is not None:
        raise Conflict(f"the API_KEY in .env is key {row.id} ({row.name}), revoked on "
                       f"{row.revoked:%Y-%m-%d %H:%M}, and is not revived: create a new one "
                       f"(.venv/bin/flask --app booru keys create --role admin --name daemons), put it in .env "
                       f"as API_KEY and run scripts/start again")
    elif row.role != role:
        row.role = role
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
    _signed_in().pop(row.id, None)
    return row


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.id)))


def _verified() -> dict[str, VerifiedKey]:
    """This process's keys verified lately, by digest."""
    return current_app.extensions.setdefault("lzb_verified_keys", {})


def presented_key() -> str | None:
    """The API key the request carries: the X-API-Key header, `Authorization: Bearer <key>`,
    HTTP Basic with the key as password (any user name), or an `api_key` query or form parameter
    (Danbooru clients send it with `login`, which is ignored). First found wins, in that order."""
    key = request.headers.get(HEADER)
    if key:
        return key
    scheme, _, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer":
        return credentials.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    if request.args.get("api_key"):
        return request.args["api_key"]
    if request.mimetype == "application/x-www-form-urlencoded":  # never parse an upload before its key
        return request.form.get("api_key") or None
    return None


def authenticate(key: str | None) -> VerifiedKey:
    if not key:
        raise Unauthorized(f"missing API key: send it as the {HEADER} header, HTTP Basic password, "
                           "Bearer token or api_key parameter")
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


def _signed_in() -> dict[int, VerifiedKey]:
    """This process's signed-in keys verified lately, by key id."""
    return current_app.extensions.setdefault("lzb_signed_in_keys", {})


def sign_in(key: str) -> VerifiedKey:
    """Verify `key` and remember its id in the session (a fresh one: nothing carried over)."""
    known = authenticate(key)
    session.clear()
    session["key_id"] = known.id
    session.permanent = True
    return VerifiedKey(known.id, known.role, known.expires, "session")


def sign_out() -> None:
    session.clear()


def session_key() -> VerifiedKey | None:
    """The key this browser signed in with, if it is still valid."""
    key_id = session.get("key_id")
    if not isinstance(key_id, int):
        return None
    cache = _signed_in()
    known = cache.get(key_id)
    if known is not None and known.expires > time.monotonic():
        return known
    row = db.session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked.is_(None)))
    if row is None:
        cache.pop(key_id, None)
        session.clear()
        return None
    known = cache[key_id] = VerifiedKey(row.id, row.role, time.monotonic() + KEY_CACHE_SECONDS, "session")
    return known


def public_access() -> bool:
    return current_app.config["SETTINGS"].public_access


def current_key() -> VerifiedKey:
    """Who asks: the presented key, else the signed-in session, else the public pseudo-role."""
    presented = presented_key()
    if presented:
        return authenticate(presented)
    signed_in = session_key()
    if signed_in is not None:
        return signed_in
    if public_access():
        return PUBLIC
    return authenticate(None)


def check_csrf() -> None:
    """Refuse a write without this session's CSRF token (header or form field)."""
    token = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD)
    try:
        validate_csrf(token)
    except CsrfInvalid as exc:
        raise Forbidden(f"refused: {str(exc).rstrip('.')} (a CSRF check); reload the page and try again",
                        {CSRF_FIELD: [str(exc)]}) from None


def permitted(key: VerifiedKey, allowed: frozenset[str]) -> bool:
    return key.role in allowed or (key.role == PUBLIC_ROLE and "reader" in allowed)


def requires(*roles: str, cost: dict[str, float] = quota.REQUEST) -> Callable:
    """Allow a resource method to keys with one of `roles` (admin may do everything; the public
    pseudo-role what reader may), charging `cost` to the caller's quota (booru.quota)."""
    allowed = frozenset(roles) | {"admin"}

    def decorate(method: Callable) -> Callable:
        @wraps(method)
        def checked(*args, **kwargs):
            key = current_key()
            if not permitted(key, allowed):
                if key.via == "public":
                    raise Unauthorized(f"sign in or send an {HEADER} header to {request.method} {request.path}")
                raise Forbidden(f"role {key.role!r} may not {request.method} {request.path}")
            if key.via == "session" and request.method not in SAFE_METHODS:
                check_csrf()
            g.api_key = key
            quota.charge(key.role, key.id, cost)
            return method(*args, **kwargs)

        checked.roles = allowed
        return checked

    return decorate


def public(method: Callable) -> Callable:
    """Mark a resource method as open to everyone (only health)."""
    method.roles = None
    return method
