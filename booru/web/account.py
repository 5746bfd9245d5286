"""Signing in with an API key (a session cookie from then on) and out."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from booru import auth
from booru.errors import Unauthorized
from booru.web.blueprint import web


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("web.index")
    return target


@web.get("/login")
def login_form():
    return render_template("login.html", next=safe_next(request.args.get("next")))


@web.post("/login")
def login():
    target = safe_next(request.form.get("next"))
    key = request.form.get("key", "").strip()
    try:
        if not key:
            raise Unauthorized("enter an API key")
        auth.sign_in(key)
    except Unauthorized as exc:
        return render_template("login.html", message=exc.message, next=target), 401
    return redirect(target, 303)


@web.post("/logout")
def logout():
    auth.sign_out()
    return redirect(url_for("web.index"), 303)
