"""GET /metrics: requests by route, queue depths, daemon chapters; across gunicorn workers too."""
from __future__ import annotations

import glob
import os
import re
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.booru.helpers import add_subreddit, submission
from tests.support import wait_until


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, by name and labels."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(text: str, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(api, role: str = "reader") -> str:
    response = api.get("/metrics", role=role)
    assert response.status_code == 200, response.data
    return response.get_data(as_text=True)


def test_metrics_need_a_key_which_may_come_as_a_bearer_token(api, keys):
    assert api.get("/metrics", role=None).status_code == 401
    assert api.get("/metrics", role=None, headers={"X-API-Key": "lzb_wrong"}).status_code == 401
    response = api.get("/metrics", role=None, headers={"Authorization": f"Bearer {keys['reader']}"})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    assert "# TYPE lzbooru_http_requests_total counter" in response.get_data(as_text=True)


def test_requests_are_counted_by_route_rule_method_and_status(api):
    before = scrape(api)
    for image_id in (1, 2, 3):
        assert api.get(f"/api/image/{image_id}", role="reader").status_code == 404
    assert api.get("/api/health", role=None).status_code == 200
    assert api.get("/no/such/path", role="reader").status_code == 404
    after = scrape(api)
    image = {"route": "/api/image/<int:image_id>", "method": "GET", "status": "404"}
    assert value(after, "lzbooru_http_requests_total", **image) - value(before, "lzbooru_http_requests_total",
                                                                      **image) == 3
    assert value(after, "lzbooru_http_request_duration_seconds_count", **image) - value(
        before, "lzbooru_http_request_duration_seconds_count", **image) == 3
    health = {"route": "/api/health", "method": "GET", "status": "200"}
    assert value(after, "lzbooru_http_requests_total", **health) - value(before, "lzbooru_http_requests_total",
                                                                       **health) == 1
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "lzbooru_http_requests_total", **unmatched) >= 1
    assert not re.search(r'route="/api/image/\d', after), "raw paths must not become labels"
    assert 'le="0.005"' in after and 'le="+Inf"' in after


def test_queue_depths_reflect_the_database(app, api):
    add_subreddit(app)
    subs = [submission(f"q{i}") for i in range(4)] + [submission("qv", url="https://v.redd.it/x", link_type=None)]
    assert api.post("/api/submission", json={"submissions": subs}).status_code == 200
    assert len(api.post("/api/link/claim", json={"limit": 1}, role="parsa").json["items"]) == 1
    images = [{"submission_id": "q0", "url": "https://i.redd.it/q0.jpg"},
              {"submission_id": "q1", "url": "https://i.redd.it/q1.jpg"}]
    assert api.post("/api/image", json={"images": images}, role="parsa").status_code == 200
    text = scrape(api)
    links = {state: value(text, "lzbooru_links", state=state) for state in
             ("pending", "claimed", "done", "failed", "dead", "unsupported")}
    assert links == {"pending": 3, "claimed": 1, "done": 0, "failed": 0, "dead": 0, "unsupported": 1}
    assert value(text, "lzbooru_images", state="pending") == 2
    assert value(text, "lzbooru_images", state="encoded") == 0
    assert value(text, "lzbooru_database_up") == 1
    assert "# TYPE lzbooru_links gauge" in text


def test_a_database_outage_leaves_metrics_up_without_the_queues(app, api, keys, database_uri):
    assert value(scrape(api), "lzbooru_database_up") == 1  # the reader key is now known to this process
    server, name = database_uri.rsplit("/", 1)
    connection = psycopg2.connect(f"{server}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {name} WITH (FORCE)")
    connection.close()
    text = scrape(api)
    assert value(text, "lzbooru_database_up") == 0
    assert "lzbooru_links" not in text and "lzbooru_http_requests_total" in text
    unknown = api.get("/metrics", role="admin")  # never verified: cannot be checked now
    assert unknown.status_code == 503 and unknown.json["message"].startswith("the database is unavailable")


def test_chapter_reports_are_counted_per_daemon_and_kind(api):
    before = scrape(api)
    report = {"daemon": "parsa", "counts": {"claimed": 5, "done": 4, "failed": 1, "dead": 1}, "elapsed": 1.5}
    for _ in range(2):
        response = api.post("/api/chapter", json=report, role="parsa")
        assert response.status_code == 204, response.json
    assert api.post("/api/chapter", json={**report, "daemon": "coco"}, role="admin").status_code == 204
    after = scrape(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("lzbooru_daemon_chapters_total", daemon="parsa") == 2
    assert delta("lzbooru_daemon_chapters_total", daemon="coco") == 1
    assert delta("lzbooru_daemon_items_total", daemon="parsa", kind="claimed") == 10
    assert delta("lzbooru_daemon_items_total", daemon="parsa", kind="dead") == 2
    assert delta("lzbooru_daemon_chapter_duration_seconds_count", daemon="parsa") == 2
    assert delta("lzbooru_daemon_chapter_duration_seconds_sum", daemon="parsa") == pytest.approx(3.0)
    assert value(after, "lzbooru_daemon_last_chapter_timestamp_seconds", daemon="parsa") > 1.7e9


@pytest.mark.parametrize("role, body, status", [
    ("coco", {"daemon": "parsa", "counts": {}, "elapsed": 1}, 403),   # a daemon reports only itself
    ("reader", {"daemon": "parsa", "counts": {}, "elapsed": 1}, 403),
    (None, {"daemon": "parsa", "counts": {}, "elapsed": 1}, 401),
    ("parsa", {"daemon": "someone", "counts": {}, "elapsed": 1}, 422),
    ("parsa", {"daemon": "parsa", "counts": {"Bad Name": 1}, "elapsed": 1}, 422),
    ("parsa", {"daemon": "parsa", "counts": {"done": -1}, "elapsed": 1}, 422),
    ("parsa", {"daemon": "parsa", "counts": {"done": "3"}, "elapsed": 1}, 422),
    ("parsa", {"daemon": "parsa", "counts": {f"k{i}": 1 for i in range(65)}, "elapsed": 1}, 422),
    ("parsa", {"daemon": "parsa", "counts": {}, "elapsed": -1}, 422),
    ("parsa", {"daemon": "parsa", "counts": {}}, 422),
])
def test_chapter_reports_are_checked(api, role, body, status):
    assert api.post("/api/chapter", json=body, role=role).status_code == status


def test_the_chapter_route_is_in_the_openapi_document(api):
    operation = api.get("/api/openapi.json", role="reader").json["paths"]["/api/chapter"]["post"]
    assert operation["security"] == [{"ApiKey": []}]
    assert {"204", "401", "403", "422"} <= set(operation["responses"])
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/Chapter")


# --- under gunicorn, two workers ------------------------------------------------------------------


def live_scrape(live_booru) -> str:
    response = requests.get(live_booru.url.removesuffix("/api") + "/metrics",
                            headers={"Authorization": f"Bearer {live_booru.admin_key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.text


@pytest.mark.slow
def test_counts_add_up_across_gunicorn_workers(live_booru):
    health = {"route": "/api/health", "method": "GET", "status": "200"}
    before = value(live_scrape(live_booru), "lzbooru_http_requests_total", **health)
    sent = 300

    def one(_: int) -> int:
        return requests.get(f"{live_booru.url}/health", timeout=10).status_code  # a new connection each

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(sent))) == {200}
    workers = {re.search(r"_(\d+)\.db$", f).group(1)
               for f in glob.glob(os.path.join(live_booru.env["PROMETHEUS_MULTIPROC_DIR"], "counter_*.db"))}
    assert len(workers) == 2, "the requests should have reached both workers"
    for _ in range(4):  # whichever worker answers the scrape sees every worker's requests
        assert value(live_scrape(live_booru), "lzbooru_http_requests_total", **health) - before == sent


@pytest.mark.slow
def test_a_daemon_reports_its_chapters(live_booru, run_daemon):
    parsa = run_daemon("parsa")  # nothing to do: idle chapters are chapters too
    wait_until(lambda: value(live_scrape(live_booru), "lzbooru_daemon_chapters_total", daemon="parsa") >= 2,
               timeout=30, message="two parsa chapters in /metrics")
    assert parsa.stop() == 0
    chapters = parsa.output().count("parsa chapter:")
    text = live_scrape(live_booru)
    assert value(text, "lzbooru_daemon_chapters_total", daemon="parsa") == chapters
    assert value(text, "lzbooru_daemon_items_total", daemon="parsa", kind="claimed") == 0
    assert ("lzbooru_daemon_items_total", frozenset({"daemon": "parsa", "kind": "done"}.items())) in samples(text)


def test_gunicorn_starts_with_an_empty_metrics_directory_and_marks_dead_workers(tmp_path, monkeypatch):
    import importlib.util
    import logging
    from types import SimpleNamespace

    from common.config import PROJECT_ROOT

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        spec = importlib.util.spec_from_file_location("lzb_gunicorn_conf", PROJECT_ROOT / "booru" / "gunicorn_conf.py")
        conf = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(conf)
    finally:
        root.handlers[:], root.level = saved
    (tmp_path / "counter_4242.db").write_bytes(b"old run")
    (tmp_path / "gauge_livesum_4343.db").write_bytes(b"")
    (tmp_path / "gauge_max_4343.db").write_bytes(b"")
    conf.on_starting(None)
    assert not (tmp_path / "counter_4242.db").exists()
    (tmp_path / "gauge_livesum_4343.db").write_bytes(b"")
    (tmp_path / "gauge_max_4343.db").write_bytes(b"")
    conf.child_exit(None, SimpleNamespace(pid=4343))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gauge_max_4343.db"]  # a max gauge outlives its worker
    assert conf.worker_class == "booru.serving.Worker" and conf.logger_class is conf.Logger


def test_openmetrics_is_served_when_asked_for(api):
    response = api.get("/metrics", role="reader", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.status_code == 200
    assert response.content_type.startswith("application/openmetrics-text")
    assert response.get_data(as_text=True).rstrip().endswith("# EOF")
