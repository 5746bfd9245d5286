"""Per-key quotas: 429 with Retry-After once a role's budget is spent, per principal, shared by
every process on the database; daemon roles have none by default."""
from __future__ import annotations

import io
import math
import time

import pytest
import requests
from PIL import Image

from booru import auth, create_app
from booru.extensions import db
from tests.conftest import Api


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def quota_app(database_uri, monkeypatch):
    monkeypatch.setenv("QUOTA_READER", "20,3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_uri, "TESTING": True})
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def quota_keys(quota_app) -> dict[str, str]:
    with quota_app.app_context():
        return {name: auth.create_key(role, name)[1] for name, role in
                [("reader", "reader"), ("other reader", "reader"), ("coco", "coco"), ("admin", "admin")]}


def _statuses(api: Api, role: str, n: int, path: str = "/api/stats") -> list:
    return [api.get(path, role=role) for _ in range(n)]


def test_a_reader_gets_429_with_retry_after_once_its_requests_are_spent(quota_app, quota_keys):
    api = Api(quota_app.test_client(), quota_keys)
    answers = _statuses(api, "reader", 25)
    codes = [a.status_code for a in answers]
    assert codes[:20] == [200] * 20 and set(codes[20:]) == {429}
    refused = answers[-1]
    assert refused.mimetype == "application/json" and "quota" in refused.get_json()["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= math.ceil(60 / 20)
    # another key of the same role has its own bucket; daemon and admin keys have none
    assert api.get("/api/stats", role="other reader").status_code == 200
    assert {a.status_code for a in _statuses(api, "coco", 30, "/api/link")} == {200}
    assert {a.status_code for a in _statuses(api, "admin", 30)} == {200}


def test_searches_have_their_own_smaller_budget(quota_app, quota_keys):
    api = Api(quota_app.test_client(), quota_keys)
    png = _png()
    codes = [api.post("/api/similarity/file", role="reader",
                      data={"image": (io.BytesIO(png), "q.png")}).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert api.get("/api/stats", role="reader").status_code == 200  # listings are still allowed


def test_a_search_from_the_web_page_spends_the_same_search_budget(quota_app, quota_keys):
    """The pages' search by upload is a search too: the API's and the page's share one budget."""
    api = Api(quota_app.test_client(), quota_keys)
    png = _png()
    assert api.post("/api/similarity/file", role="reader", data={"image": (io.BytesIO(png), "q.png")}).status_code == 200
    codes = [api.post("/search", role="reader", data={"image": (io.BytesIO(png), "q.png")}).status_code
             for _ in range(3)]
    assert codes == [200, 200, 429]


def test_thumbnails_cost_a_twentieth_of_a_request(quota_app, quota_keys):
    """A page of pictures loads dozens of thumbnails: 20 a minute buys 400 of them (answered 404
    here, there being none), not 20."""
    api = Api(quota_app.test_client(), quota_keys)
    codes = [api.get("/api/image/1/thumbnail", role="reader").status_code for _ in range(120)]
    assert 429 not in codes and set(codes) == {404}
    assert [a.status_code for a in _statuses(api, "reader", 15)] == [200] * 14 + [429]


def test_the_bucket_refills_at_the_rate(quota_app, quota_keys):
    api = Api(quota_app.test_client(), quota_keys)
    assert 429 in [a.status_code for a in _statuses(api, "reader", 21)]
    time.sleep(3.1)  # 20 a minute: one token every 3 s
    assert api.get("/api/stats", role="reader").status_code == 200
    assert api.get("/api/stats", role="reader").status_code == 429


def test_gunicorn_workers_share_the_buckets(live_booru, app):
    """booru under gunicorn (2 workers, requests spread over them) grants one budget, not one each."""
    with app.app_context():
        key = auth.create_key("reader", "quota")[1]
    live_booru.process.stop()
    live_booru.env["QUOTA_READER"] = "20,3"
    live_booru.start_again()
    codes = []
    for _ in range(30):  # a new connection each time: any worker may answer
        codes.append(requests.get(f"{live_booru.url}/stats", headers={auth.HEADER: key}, timeout=10).status_code)
    assert codes.count(200) == 20 and codes.count(429) == 10, codes


def test_stats_are_still_answered_from_the_last_count_for_a_quota_key(quota_app, quota_keys, monkeypatch):
    """Charging a quota writes nothing to PostgreSQL, so the stats cache (kept while no
    transaction ends) still holds for reader keys."""
    from booru.func import stats

    api = Api(quota_app.test_client(), quota_keys)
    counted = []
    real = stats.count_archive

    def counting():
        counted.append(1)
        return real()

    monkeypatch.setattr(stats, "count_archive", counting)
    first = api.get("/api/stats", role="reader").json
    assert api.get("/api/stats", role="reader").json == first
    assert len(counted) == 1
