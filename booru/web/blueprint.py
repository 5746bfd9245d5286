"""The web pages' blueprint: CSRF on every form, errors as HTML pages, what every template sees."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from booru import auth
from booru.errors import ApiError, Unauthorized

web = Blueprint("web", __name__, template_folder="templates", static_folder="static",
                static_url_path="/assets")


@web.before_request
def forms_carry_csrf() -> None:
    """Every POST of a page (sign-in and search included) carries the session's token, unless it
    presents a key in the X-API-Key header, which no other site's form can send (HTTP Basic and
    `api_key` parameters can be, so they do not count here)."""
    if request.method not in auth.SAFE_METHODS and not request.headers.get(auth.HEADER):
        auth.check_csrf()


def viewer() -> auth.VerifiedKey | None:
    """Who is looking, or None if they must sign in first."""
    try:
        return auth.current_key()
    except Unauthorized:
        return None


@web.app_template_global()
def thumbnail_url(image: dict[str, Any]) -> str:
    """Where the page loads a picture's small version from: the web route that serves the stored
    thumbnail or sends the browser on to the archived URL."""
    return url_for("web.image_thumbnail", image_id=image["id"])


@web.context_processor
def page_globals() -> dict[str, Any]:
    return {"csrf_token": generate_csrf, "viewer": viewer()}


def error_page(status: int, message: str, errors: dict | None = None):
    if status == 401:
        return render_template("login.html", message=message, next=request.full_path.rstrip("?")), 401
    return render_template("error.html", status=status, message=message, errors=errors or {}), status


@web.errorhandler(ApiError)
def api_error(exc: ApiError):
    """The error as a page, with the error's headers (a spent quota's Retry-After)."""
    body, status = error_page(exc.status, exc.message, exc.errors)
    return body, status, exc.headers


@web.errorhandler(ValidationError)
def invalid(exc: ValidationError):
    errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
    return error_page(422, "the request is not valid", errors)


@web.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return error_page(exc.code or 500, exc.description or exc.name)
