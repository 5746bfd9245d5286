"""Domain errors and their one mapping to JSON HTTP answers."""
from __future__ import annotations

import logging
import re

import psycopg2.errors
from flask import Flask, jsonify, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from booru.extensions import db

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict | None = None, status: int | None = None,
                 headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        if status is not None:
            self.status = status


class Malformed(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    status = 409


class Gone(ApiError):
    """Beyond what may be asked for (a page past the last numbered one)."""

    status = 410


class Unusable(ApiError):
    """Well-formed request whose content cannot be used (bad field, not an image)."""

    status = 422


class Unavailable(ApiError):
    status = 503


class TooManyRequests(ApiError):
    """A quota is spent; `Retry-After` says when the next request is allowed."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, headers={"Retry-After": str(retry_after)})


# Python object addresses (`<… object at 0x7f…>`) that exception text may carry: nothing a client
# should see, and a hint about the server's memory layout.
OBJECT_ADDRESS = re.compile(r"<([\w.]+) object at 0x[0-9a-fA-F]+>")


def scrubbed(value: object) -> object:
    """An answer's text without Python object addresses: `<a.B object at 0x…>` -> `<B>`."""
    if isinstance(value, str):
        return OBJECT_ADDRESS.sub(lambda m: f"<{m.group(1).rsplit('.', 1)[-1]}>", value)
    if isinstance(value, dict):
        return {k: scrubbed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrubbed(v) for v in value]
    return value


def error_response(status: int, message: str, errors: dict | None = None, headers: dict | None = None):
    """Every error booru answers: JSON `{"message", "errors"}` with `status`."""
    body = {"message": scrubbed(message)}
    if errors:
        body["errors"] = scrubbed(errors)
    response = jsonify(body)
    response.status_code = status
    response.headers.extend(headers or {})
    return response


MAX_REPORTED_ITEMS = 20  # items of a list whose errors an answer names; the rest are counted


def first_errors(messages: object) -> object:
    """Marshmallow's errors with at most MAX_REPORTED_ITEMS list items named at each level
    (their keys are the items' indexes), so a bad batch gets a small answer."""
    if not isinstance(messages, dict):
        return messages
    items = sorted(k for k in messages if isinstance(k, int))
    named = set(items[:MAX_REPORTED_ITEMS])
    kept = {str(k): first_errors(v) for k, v in messages.items() if not isinstance(k, int) or k in named}
    if len(items) > MAX_REPORTED_ITEMS:
        kept["_more"] = [f"{len(items) - MAX_REPORTED_ITEMS} more items have errors"]
    return kept


def _database_down(exc: DBAPIError) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError)) or bool(exc.connection_invalidated)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.message, exc.errors, exc.headers)

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return error_response(422, "the request is not valid", first_errors(errors))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}  # e.g. 405's Allow
        return error_response(exc.code or 500, exc.description or exc.name, headers=headers)

    @app.before_request
    def refuse_nul():
        if "\x00" in request.path:
            return error_response(400, "the URL path must not contain NUL characters")

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        db.session.rollback()
        if isinstance(exc, DataError):
            return error_response(422, "a value is out of range or of the wrong kind")
        if isinstance(exc.orig, psycopg2.errors.QueryCanceled):
            log.warning("a statement ran past STATEMENT_TIMEOUT on %s %s", request.method, request.path)
            return error_response(503, "the request took longer than the database allows "
                                       "(STATEMENT_TIMEOUT); narrow it and try again")
        if isinstance(exc.orig, psycopg2.errors.UndefinedTable):
            log.error("the database schema is missing: run `flask --app booru db upgrade` (scripts/start does)")
            return error_response(503, "the database schema is not installed yet; try again shortly")
        if _database_down(exc):
            log.warning("database unavailable: %s", str(exc.orig).strip().splitlines()[0] if exc.orig else exc)
            return error_response(503, "the database is unavailable; try again shortly")
        log.exception("database error")
        return error_response(500, "internal error")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error")
        return error_response(500, "internal error")
