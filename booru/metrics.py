"""Prometheus metrics at `GET /metrics`: HTTP requests by route, daemon chapters, queue depths.

Under gunicorn every worker is its own process, so the counters live in prometheus_client's
multiprocess mode: booru/gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR (default
VAR_DIR/prometheus) before any worker starts, empties it at start-up and marks dead workers, and
a scrape, answered by whichever worker, adds up the files of all of them. Without that variable
(the Flask test client, `flask run`) the process's own registry is served.

/metrics needs an API key of any role (reader is enough), like every route but /api/health. It
names no data, but booru may listen on a public address (BOORU_BIND=0.0.0.0:5000 behind a load
balancer), and a key is simpler to get right than an address filter in front of one path. Since
Prometheus cannot easily send custom headers, the key is also accepted as
`Authorization: Bearer <key>` here (Prometheus' `authorization:` block). While the database is
away, keys this worker verified in the last RECENT_KEY_SECONDS still open /metrics, and the
queue gauges are left out with lzbooru_database_up 0: an outage is exactly when metrics matter.
"""
from __future__ import annotations

import hmac
import logging
import os
import time
from pathlib import Path
from typing import Iterator, Mapping

from flask import Flask, Response, g, request
from prometheus_client import (REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               disable_created_metrics)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy.exc import DBAPIError

from booru import auth
from booru.errors import Unauthorized
from booru.extensions import db
from booru.func import stats

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
RECENT_KEY_SECONDS = 15 * 60
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CHAPTER_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)

# The counts daemons report that get their own `kind` label (lzbooru_daemon_items_total); any
# other name is added to kind="other". A daemon's new count needs its name here to be seen apart.
KINDS = frozenset({"claimed", "done", "failed", "skipped",  # every daemon
                   "fetched", "posted", "subreddits", "errors",  # greg
                   "images", "resolved", "dead", "unsupported", "stale",  # parsa
                   "bytes", "downloaded", "encoded", "same_content", "urls"})  # coco

disable_created_metrics()  # no *_created series next to every counter

REQUESTS = Counter("lzbooru_http_requests", "HTTP requests answered, by route rule, method and status",
                   ["route", "method", "status"])
LATENCY = Histogram("lzbooru_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["route", "method", "status"], buckets=LATENCY_BUCKETS)
CHAPTERS = Counter("lzbooru_daemon_chapters", "Chapters the daemons finished and reported", ["daemon"])
ITEMS = Counter("lzbooru_daemon_items", "Items the daemons' chapters counted, by kind "
                "(claimed, done, failed, skipped and each daemon's own counts)", ["daemon", "kind"])
CHAPTER_SECONDS = Histogram("lzbooru_daemon_chapter_duration_seconds", "How long the daemons' chapters took",
                            ["daemon"], buckets=CHAPTER_BUCKETS)
LAST_CHAPTER = Gauge("lzbooru_daemon_last_chapter_timestamp_seconds",
                     "Unix time of the last chapter reported by each daemon", ["daemon"],
                     multiprocess_mode="max")


def _multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV, "").strip()
    return Path(value) if value else None


# Read once, when prometheus_client makes the same choice (at import): the two must agree.
MULTIPROCESS_DIR = _multiprocess_dir()


def route_label() -> str:
    """The URL rule that matched (`/api/image/<int:image_id>`), never the raw path."""
    return request.url_rule.rule if request.url_rule is not None else "unmatched"


def _request_started() -> None:
    g.metrics_started = time.perf_counter()


def _request_finished(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    elapsed = time.perf_counter() - started if started is not None else 0.0
    method = request.method if request.method in METHODS else "other"
    labels = (route_label(), method, str(response.status_code))
    REQUESTS.labels(*labels).inc()
    LATENCY.labels(*labels).observe(elapsed)
    return response


def kind_label(kind: str) -> str:
    """A count's `kind` label: one of KINDS, else `other`, so reports cannot add series at will."""
    return kind if kind in KINDS else "other"


def record_chapter(daemon: str, counts: Mapping[str, int], elapsed: float) -> None:
    """Count one finished chapter of a daemon and its items."""
    CHAPTERS.labels(daemon).inc()
    for kind, n in counts.items():
        ITEMS.labels(daemon, kind_label(kind)).inc(n)
    CHAPTER_SECONDS.labels(daemon).observe(elapsed)
    LAST_CHAPTER.labels(daemon).set(time.time())


class QueueDepths:
    """Links and images per state, read from the database at scrape time (index-only counts)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("lzbooru_database_up", "1 if booru reached its database during this scrape")
        depths = None if g.get("metrics_database_down") else self._depths()
        up.add_metric([], 0 if depths is None else 1)
        yield up
        if depths is None:
            return
        versions = GaugeMetricFamily("lzbooru_images_fingerprint_version",
                                     "Encoded images per fingerprint version (older ones are being upgraded)",
                                     labels=["version"])
        for version, n in sorted(depths.pop("versions").items()):
            versions.add_metric([str(version)], n)
        yield versions
        for queue, counts in depths.items():
            family = GaugeMetricFamily(f"lzbooru_{queue}", f"{queue.capitalize()} per state", labels=["state"])
            for state, n in counts.items():
                family.add_metric([state], n)
            yield family

    @staticmethod
    def _depths() -> dict[str, dict[str, int]] | None:
        try:
            return stats.queue_depths()
        except DBAPIError as exc:
            db.session.rollback()
            log.warning("metrics: queue depths unavailable: %s", str(exc.orig or exc).strip().splitlines()[0])
            return None


class _Forward:
    """Serve another registry's metrics (the process's own, outside gunicorn)."""

    def __init__(self, registry: CollectorRegistry):
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        return self.registry.collect()


def render(accept: str | None) -> tuple[bytes, str]:
    """The exposition (text format, or OpenMetrics if asked for) and its content type."""
    registry = CollectorRegistry()
    path = MULTIPROCESS_DIR
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        MultiProcessCollector(registry, path=str(path))
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(QueueDepths())
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type


def check_scraper(recent: dict[str, float]) -> None:
    """Any valid key may scrape; while the database is away, a key verified lately still may."""
    key = auth.presented_key()
    if not key:
        raise Unauthorized(f"missing {auth.HEADER} header or Authorization: Bearer <key>")
    wanted = auth.digest(key)
    try:
        auth.authenticate(key)
    except DBAPIError:
        db.session.rollback()
        g.metrics_database_down = True
        if not any(hmac.compare_digest(wanted, d) and t > time.monotonic() for d, t in recent.items()):
            raise
        return
    recent[wanted] = time.monotonic() + RECENT_KEY_SECONDS


def init_metrics(app: Flask) -> None:
    """Time every request and serve /metrics (call before other before_request hooks)."""
    recent: dict[str, float] = {}
    app.before_request(_request_started)
    app.after_request(_request_finished)

    @app.get("/metrics")
    def metrics():
        check_scraper(recent)
        body, content_type = render(request.headers.get("Accept"))
        return Response(body, content_type=content_type)
