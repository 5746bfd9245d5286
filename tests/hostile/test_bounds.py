"""Every request's cost is bounded before the work, and odd input gets a JSON 4xx, never a 500."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from booru import create_app, metrics
from booru.extensions import db
from booru.func import images
from tests.booru.helpers import submission
from tests.support import free_port

WRITE_ROUTES = [("POST", "/api/submission", "greg"), ("POST", "/api/image", "parsa"),
                ("POST", "/api/link", "parsa"), ("POST", "/api/chapter", "parsa"),
                ("POST", "/api/image/fingerprints", "coco"), ("PUT", "/api/image", "coco")]


def _is_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    return response.get_json()


# --- tag queries ---------------------------------------------------------------------------------

def test_tag_terms_are_capped_before_any_query(api, monkeypatch):
    def no_query(*args, **kwargs):
        raise AssertionError("a query ran")

    monkeypatch.setattr(images, "views", no_query)
    started = time.monotonic()
    terms = " ".join(f"tag{n}" for n in range(600))
    body = _is_json_error(api.get("/api/image", query_string={"tags": terms}, role="reader"), 422)
    assert "at most 8 tags" in body["message"] and "tags" in body["errors"]
    assert time.monotonic() - started < 1.0


def test_eight_terms_and_repeats_are_accepted(api):
    eight = " ".join(f"-tag{n}" for n in range(8))
    assert api.get("/api/image", query_string={"tags": eight}, role="reader").status_code == 200
    repeated = " ".join(["rating:safe"] * 50)  # one distinct term
    assert api.get("/api/image", query_string={"tags": repeated}, role="reader").status_code == 200


def test_statement_timeout_bounds_every_session(database_uri, monkeypatch):
    monkeypatch.setenv("STATEMENT_TIMEOUT", "0.2")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "TESTING": True})
    with app.app_context():
        assert db.session.execute(text("SHOW statement_timeout")).scalar_one() == "200ms"
        started = time.monotonic()
        with pytest.raises(OperationalError):
            db.session.execute(text("SELECT pg_sleep(5)"))
        assert time.monotonic() - started < 2
        db.session.rollback()
        db.engine.dispose()


def test_a_statement_past_the_timeout_answers_503_json(app, api, monkeypatch):
    def slow(*args, **kwargs):
        db.session.execute(text("SET LOCAL statement_timeout = '100ms'"))
        db.session.execute(text("SELECT pg_sleep(5)"))

    monkeypatch.setattr(images, "views", slow)
    body = _is_json_error(api.get("/api/image", role="reader"), 503)
    assert "STATEMENT_TIMEOUT" in body["message"]


def test_the_default_statement_timeout_is_five_seconds(app):
    with app.app_context():
        assert db.session.execute(text("SHOW statement_timeout")).scalar_one() == "5s"


# --- bulk bodies ---------------------------------------------------------------------------------

def test_an_oversized_batch_is_refused_by_its_count_before_its_items(api):
    items = [{"id": "x"}] * 100_000  # every item invalid: validating them would take seconds
    started = time.monotonic()
    response = api.post("/api/submission", json={"submissions": items}, role="greg")
    elapsed = time.monotonic() - started
    body = _is_json_error(response, 422)
    assert body["errors"] == {"submissions": ["at most 5000 items"]}
    assert len(response.data) < 500 and elapsed < 3  # (encoding the request itself is most of it)


def test_a_batch_of_bad_items_names_only_the_first_errors(api):
    items = [submission(f"p{n}", created="not a time") for n in range(5000)]
    response = api.post("/api/submission", json={"submissions": items}, role="greg")
    body = _is_json_error(response, 422)
    named = body["errors"]["submissions"]
    assert len([k for k in named if k.isdigit()]) == 20
    assert named["_more"] == ["4980 more items have errors"]
    assert len(response.data) < 10_000


def test_chapter_count_kinds_cannot_add_metric_series(api):
    other = re.compile(r'lzbooru_daemon_items_total\{daemon="parsa",kind="other"\} (\S+)')

    def scrape() -> str:
        return api.get("/metrics", role="reader").get_data(as_text=True)

    found = other.search(scrape())
    before = float(found.group(1)) if found else 0.0
    for n in range(40):
        counts = {"done": 1, f"made_up_{n}": 2}
        assert api.post("/api/chapter", json={"daemon": "parsa", "counts": counts, "elapsed": 1},
                        role="parsa").status_code == 204
    after = scrape()
    assert "made_up" not in after
    kinds = set(re.findall(r'lzbooru_daemon_items_total\{daemon="parsa",kind="([a-z_]+)"\}', after))
    assert "done" in kinds and kinds <= metrics.KINDS | {"other"}
    assert float(other.search(after).group(1)) - before == 80


# --- odd JSON, methods, leaks ----------------------------------------------------------------------

@pytest.mark.parametrize("method, path, role", WRITE_ROUTES)
@pytest.mark.parametrize("depth", [20, 1000, 5000])
def test_deeply_nested_json_is_400(api, method, path, role, depth):
    nested = "[" * depth + "]" * depth
    response = api.request(method, path, role=role, data=f'{{"items": {nested}, "submissions": {nested}}}',
                           content_type="application/json")
    _is_json_error(response, 400)


@pytest.mark.parametrize("method, path, role", WRITE_ROUTES + [("POST", "/api/similarity/url", "reader")])
@pytest.mark.parametrize("text_value", ['"\\ud800"', '"a\\udfffb"', '"\\ud800\\u0041"'])
def test_lone_surrogates_are_400(api, method, path, role, text_value):
    data = ('{"submissions": [{"id": "abc", "title": %s}], "items": [{"id": 1, "error": %s}], '
            '"daemon": %s, "url": %s}') % ((text_value,) * 4)
    response = api.request(method, path, role=role, data=data, content_type="application/json")
    _is_json_error(response, 400)


def test_raw_invalid_utf8_is_400(api):
    response = api.request("POST", "/api/submission", role="greg", data=b'{"submissions": ["\xed\xa0\x80"]}',
                           content_type="application/json")
    _is_json_error(response, 400)


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/stats", {"GET"}), ("PATCH", "/api/image", {"GET", "POST", "PUT", "DELETE"}),
    ("GET", "/api/similarity/file", {"POST"}), ("PUT", "/api/health", {"GET"}),
])
def test_405_names_the_allowed_methods(api, method, path, allowed):
    response = api.request(method, path, role="admin")
    _is_json_error(response, 405)
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_health_with_the_database_down_names_no_address(monkeypatch):
    port = free_port()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"postgresql://postgres@127.0.0.1:{port}/booru", "TESTING": True})
    response = app.test_client().get("/api/health")
    body = _is_json_error(response, 503)
    text_ = response.get_data(as_text=True)
    assert body["status"] == "unavailable"
    assert "127.0.0.1" not in text_ and str(port) not in text_


def test_answers_carry_no_object_addresses(api, monkeypatch):
    from booru.api import similarity
    from booru.errors import Unusable

    def unreachable(url: str) -> bytes:
        raise Unusable("could not fetch: HTTPSConnectionPool(host='x', port=443): Max retries exceeded "
                       "(Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at "
                       "0x7f3a2b1c9d50>: Failed to establish a new connection'))",
                       {"url": ["<Foo object at 0xdeadbeef>"]})

    monkeypatch.setattr(similarity, "fetch_image", unreachable)
    response = api.post("/api/similarity/url", json={"url": "https://example.com/a.jpg"}, role="reader")
    _is_json_error(response, 422)
    assert not re.search(r"0x[0-9a-f]{6,}", response.get_data(as_text=True))
    assert "<HTTPSConnection>" in response.get_json()["message"]


def test_migrations_are_not_bound_by_the_statement_timeout(postgres_server, monkeypatch):
    """STATEMENT_TIMEOUT bounds requests; a migration on a big archive may take longer."""
    from flask_migrate import upgrade

    from tests.conftest import _execute

    _execute(postgres_server, "CREATE DATABASE lzb_slow_migration")
    try:
        monkeypatch.setenv("STATEMENT_TIMEOUT", "0.05")
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"{postgres_server}/lzb_slow_migration"})
        seen = []
        from sqlalchemy import event

        with app.app_context():
            @event.listens_for(db.engine, "before_cursor_execute")
            def slow_ddl(connection, cursor, statement, *args) -> None:
                if statement.lstrip().upper().startswith("CREATE TABLE") and not seen:
                    seen.append(connection.exec_driver_sql("SHOW statement_timeout").scalar())

            upgrade()
            db.engine.dispose()
        assert seen == ["0"]
    finally:
        _execute(postgres_server, "DROP DATABASE IF EXISTS lzb_slow_migration WITH (FORCE)")
