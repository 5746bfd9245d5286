"""Health and stats, and what clients see when the database is away."""
from __future__ import annotations

from datetime import datetime, timezone

import psycopg2

from booru import create_app, extensions
from booru.extensions import db
from booru.func import stats as stats_func
from booru.models import Submission
from tests.booru.helpers import add_subreddit, submission
from tests.support import free_port


def test_health_reports_the_database(api):
    response = api.get("/api/health", role=None)
    assert response.status_code == 200
    assert response.json["status"] == "ok" and "PostgreSQL" in response.json["database"]


def test_stats_count_every_state(app, api):
    add_subreddit(app)
    subs = [submission("a1"), submission("a2"), submission("a3", url="https://v.redd.it/x", link_type=None)]
    api.post("/api/submission", json={"submissions": subs})
    api.post("/api/link/claim", json={"limit": 1}, role="parsa")
    stats = api.get("/api/stats", role="reader").json
    assert stats["links"] == {"pending": 1, "claimed": 1, "done": 0, "failed": 0, "dead": 0, "unsupported": 1}
    assert stats["images"] == {"pending": 0, "claimed": 0, "encoded": 0, "failed": 0}
    assert stats["submissions"] == 3
    assert [s["name"] for s in stats["subreddits"]] == ["pics"]
    output = app.test_cli_runner().invoke(args=["stats"]).output
    assert "submissions  3" in output and "unsupported 1" in output and "r/pics" in output


def test_stats_are_counted_again_only_when_the_database_changed(app, api, monkeypatch):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("c1"), submission("c2")]})
    counted = []
    count_archive = stats_func.count_archive
    monkeypatch.setattr(stats_func, "count_archive", lambda: counted.append(1) or count_archive())
    first = api.get("/api/stats", role="reader").json
    assert api.get("/api/stats", role="reader").json == first and len(counted) == 1  # nothing changed since
    api.post("/api/submission", json={"submissions": [submission("c3")]})
    assert api.get("/api/stats", role="reader").json["submissions"] == 3 and len(counted) == 2
    api.post("/api/link/claim", json={"limit": 1}, role="parsa")
    assert api.get("/api/stats", role="reader").json["links"]["claimed"] == 1
    with app.app_context():  # a transaction's own writes are counted, and never remembered
        db.session.add(Submission(id="c4", title="t", author="a", subreddit="pics",
                                  created=datetime(2024, 5, 1, tzinfo=timezone.utc)))
        db.session.flush()
        assert stats_func.archive_stats()["submissions"] == 4
        db.session.rollback()
        assert stats_func.archive_stats()["submissions"] == 3


def _terminate_other_connections(database_uri: str) -> None:
    with psycopg2.connect(database_uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")


def test_a_pooled_connection_that_died_while_idle_is_replaced_unnoticed(api, database_uri, monkeypatch):
    assert api.get("/api/health", role=None).status_code == 200
    _terminate_other_connections(database_uri)  # as a restarted PostgreSQL would
    monkeypatch.setattr(extensions, "IDLE_PING_SECONDS", 0.0)  # idle long enough to be checked
    assert api.get("/api/health", role=None).status_code == 200


def test_a_connection_in_steady_use_is_not_pinged_and_a_dead_one_costs_one_503(api, database_uri, monkeypatch):
    monkeypatch.setattr(extensions, "IDLE_PING_SECONDS", 3600.0)
    assert api.get("/api/health", role=None).status_code == 200
    _terminate_other_connections(database_uri)
    assert api.get("/api/health", role=None).status_code == 503
    assert api.get("/api/health", role=None).status_code == 200  # the pool started afresh


def test_database_away_is_503_with_a_message_not_a_traceback():
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/booru"
    client = create_app({"SQLALCHEMY_DATABASE_URI": closed}).test_client()
    health = client.get("/api/health")
    assert health.status_code == 503
    assert health.json["status"] == "unavailable" and "unavailable" in health.json["database"]
    stats = client.get("/api/stats", headers={"X-API-Key": "lzb_anything"})
    assert stats.status_code == 503
    assert stats.json == {"message": "the database is unavailable; try again shortly"}


def test_cli_with_the_database_away_says_so_in_one_line():
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/booru"
    runner = create_app({"SQLALCHEMY_DATABASE_URI": closed}).test_cli_runner()
    for args in (["keys", "list"], ["stats"]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0
        assert "the database is unavailable" in result.output and "Traceback" not in result.output
