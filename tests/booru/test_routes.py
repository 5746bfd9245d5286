"""Every route needs a key (but health and the OpenAPI document), and a reader key cannot write anything."""
from __future__ import annotations

import re
import time

import psycopg2
import pytest

from booru import auth
from booru.api import ROUTES

READ_ONLY_POSTS = {"/api/similarity/url", "/api/similarity/file"}  # queries sent as POST
PUBLIC = {"/api/health", "/api/openapi.json"}


def _concrete(rule: str) -> str:
    return re.sub(r"<int:\w+>", "1", re.sub(r"<(?:string:)?\w+>", "pics", rule))


def _endpoints(app) -> list[tuple[str, str]]:
    """Every method of every resource (under /api and the Danbooru API at the root)."""
    routed = {path for _, path in ROUTES}
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule in routed:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, rule.rule))
    return found


def test_every_resource_is_routed(app):
    rules = {rule for _, rule in _endpoints(app)}
    assert {path for _, path in ROUTES} <= rules
    assert len(_endpoints(app)) >= 25


def test_no_route_answers_without_a_key_but_health_and_the_document(app, api):
    for method, rule in _endpoints(app):
        response = api.request(method, _concrete(rule), role=None, json={})
        if rule in PUBLIC:
            assert response.status_code == 200
        else:
            assert response.status_code == 401, (method, rule, response.json)
            assert "X-API-Key" in response.json["message"]


def test_unknown_and_revoked_keys_are_refused(app, api, keys):
    assert api.get("/api/stats", headers={"X-API-Key": "lzb_not-a-key"}, role=None).status_code == 401
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["keys", "list"]).output
    reader_id = next(line.split()[0] for line in listing.splitlines() if "reader" in line)
    assert api.get("/api/stats", role="reader").status_code == 200
    assert runner.invoke(args=["keys", "revoke", reader_id]).exit_code == 0
    response = api.get("/api/stats", role="reader")
    assert response.status_code == 401
    assert "revoked" in response.json["message"]


def test_a_key_revoked_elsewhere_stops_working_within_the_cache_time(app, api, keys, database_uri, monkeypatch):
    monkeypatch.setattr(auth, "KEY_CACHE_SECONDS", 0.5)
    assert api.get("/api/stats", role="reader").status_code == 200
    with psycopg2.connect(database_uri) as connection, connection.cursor() as cursor:  # another process
        cursor.execute("UPDATE api_key SET revoked = now() WHERE digest = %s", (auth.digest(keys["reader"]),))
    assert api.get("/api/stats", role="reader").status_code == 200  # verified moments ago: remembered
    time.sleep(0.6)
    assert api.get("/api/stats", role="reader").status_code == 401
    assert api.get("/api/stats", role="reader").status_code == 401  # refusals are never remembered as good


def test_a_reader_cannot_write_anything(app, api):
    writes = [(m, r) for m, r in _endpoints(app) if m != "GET" and r not in READ_ONLY_POSTS]
    assert len(writes) >= 14
    for method, rule in writes:
        response = api.request(method, _concrete(rule), role="reader", json={})
        assert response.status_code == 403, (method, rule, response.json)


@pytest.mark.parametrize("role,method,path,allowed", [
    ("greg", "POST", "/api/submission", True),
    ("greg", "POST", "/api/link/claim", False),
    ("parsa", "POST", "/api/link/claim", True),
    ("parsa", "POST", "/api/image/claim", False),
    ("coco", "POST", "/api/image/claim", True),
    ("coco", "POST", "/api/submission", False),
    ("greg", "POST", "/api/subreddit", False),
    ("admin", "POST", "/api/image/claim", True),
])
def test_each_role_does_its_own_work(api, role, method, path, allowed):
    response = api.request(method, path, role=role, json={"limit": 1})
    assert (response.status_code != 403) == allowed, response.json


def test_keys_are_stored_as_digests_and_printed_once(app):
    from booru.models import ApiKey
    from booru.extensions import db

    result = app.test_cli_runner().invoke(args=["keys", "create", "--role", "coco", "--name", "second coco"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("lzb_") and len(key) > 40
    with app.app_context():
        stored = [row.digest for row in db.session.query(ApiKey)]
    assert key not in stored
    import hashlib
    assert hashlib.sha256(key.encode()).hexdigest() in stored
    bad = app.test_cli_runner().invoke(args=["keys", "create", "--role", "wizard"])
    assert bad.exit_code != 0
