"""Web pages for people, served by booru itself: search by picture, browse, an image's posts,
the archive's state, sign-in, and the API's documentation (see README, "Web pages")."""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

from booru.web.secret import secret_key
from booru.web.security import init_security

SESSION_DAYS = 30


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed cookie, marked Secure whenever the request came over https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def init_web(app: Flask) -> None:
    from booru.web import account, apidocs, pages, pictures  # noqa: F401  (they add their routes)
    from booru.web.blueprint import web

    app.secret_key = app.config.get("SECRET_KEY") or secret_key(app.config["SETTINGS"])
    app.config.update(SESSION_COOKIE_NAME="lzbooru_session", SESSION_COOKIE_HTTPONLY=True,
                      SESSION_COOKIE_SAMESITE="Lax", PERMANENT_SESSION_LIFETIME=timedelta(days=SESSION_DAYS),
                      WTF_CSRF_TIME_LIMIT=None)
    app.session_interface = SessionCookies()
    app.register_blueprint(web)
    init_security(app)
