"""Pushshift-compatible archives through PMAW, oldest window first.

PMAW slices a time range into parallel `since`/`until` requests against
`{PUSHSHIFT_URL}/reddit/submission/search`. Greg asks it for one window at a time
(adaptive: widened when quiet, narrowed when busy) so each window is a checkpoint.
Three things PMAW leaves to its caller are done here, in a subclass:

* the transport: an optional `PUSHSHIFT_TOKEN` bearer, timeouts, Retry-After (JsonGetter);
* the metadata: the 2021 API answers `metadata.total_results`, the Dec-2022 API
  `metadata.es.hits.total.value`; both are handed to PMAW in the second form;
* signals: PMAW installs its own SIGTERM/SIGINT handlers during a search; greg's are put
  back afterwards and a stop requested meanwhile is passed on (the window is not used).
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from pmaw import PushshiftAPI
from pmaw.Metadata import Metadata

from common.config import Settings
from greg.format import BadPost, created_at, post_id
from greg.sources.base import Interrupted, JsonGetter, Page, UpstreamError, log

MIN_WINDOW, MAX_WINDOW = timedelta(hours=1), timedelta(days=365)
FIRST_WINDOW = timedelta(days=7)
QUIET, BUSY = 200, 2000           # posts per window that widen / narrow the next one
SETTLE = timedelta(hours=36)      # archives ingest late: recent windows checkpoint at the newest post


class GregPushshiftAPI(PushshiftAPI):
    """PMAW with greg's transport and metadata normalisation."""

    def __init__(self, base_url: str, http: JsonGetter, **kwargs: Any):
        super().__init__(**kwargs)
        self._base_url = base_url.rstrip("/") + "/{endpoint}"
        self.http = http
        self.failure: Exception | None = None

    @property
    def base_url(self) -> str:
        return self._base_url

    def _get(self, url: str, payload: dict | None = None) -> list[dict]:
        payload = payload or {}
        self._impose_rate_limit()
        try:
            body = self.http.get(url, payload)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise UpstreamError(f"{url} answered without a data list")
        except (UpstreamError, Interrupted) as exc:
            # PMAW retries its own HTTPError forever; anything else ends the search.
            self.failure = exc
            raise
        data = body["data"]
        self.meta = Metadata(normalise_metadata(body.get("metadata"), len(data)))
        if len(data) < int(payload.get("size") or 100):
            # A short page is the whole slice, whatever the metadata estimates.
            self.meta = Metadata(normalise_metadata({"total_results": len(data)}, len(data)))
        if "since" in payload and "until" in payload and self.meta.total_results:
            self.resp_dict[(payload["since"], payload["until"])] = self.meta.total_results
        return data


def normalise_metadata(metadata: Any, returned: int) -> dict:
    """Both API generations' metadata in the Dec-2022 shape PMAW reads."""
    metadata = metadata if isinstance(metadata, dict) else {}
    es = metadata.get("es") if isinstance(metadata.get("es"), dict) else {}
    total = (es.get("hits") or {}).get("total") if es else None
    if isinstance(total, dict):
        total = total.get("value")
    if not isinstance(total, (int, float)):
        total = metadata.get("total_results", returned)
    shards = es.get("_shards") or metadata.get("shards") or {"total": 1, "successful": 1}
    return {"es": {"hits": {"total": {"value": int(total or 0)}}, "_shards": shards}}


@contextmanager
def own_signals() -> Iterator[list[int]]:
    """Restore greg's signal handlers after PMAW; yields the signals received meanwhile."""
    names = [s for s in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, s)]
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    saved = {name: signal.getsignal(getattr(signal, name)) for name in names}
    received: list[int] = []
    try:
        yield received
    finally:
        for name, handler in saved.items():
            current = signal.getsignal(getattr(signal, name))
            signal.signal(getattr(signal, name), handler)
            if current is not handler and getattr(current, "__self__", None) is not None:
                request = current.__self__
                if getattr(request, "exit", None) is not None and request.exit.is_set():
                    received.append(getattr(signal, name))
        for signum in received[:1]:
            handler = saved[signal.Signals(signum).name]
            if callable(handler):
                handler(signum, None)


class PushshiftSource:
    name = "pushshift"
    example = "GREG_SOURCE=pushshift  PUSHSHIFT_URL=https://api.pushshift.io  PUSHSHIFT_TOKEN=..."
    live = False

    def __init__(self, settings: Settings, stop: threading.Event):
        headers = {"Authorization": f"Bearer {settings.pushshift_token}"} if settings.pushshift_token else {}
        self.stop = stop
        self.http = JsonGetter(self.name, stop, timeout=max(settings.fetch_timeout, 30.0),
                               headers=headers)
        self.base_url = settings.pushshift_url

    def problem(self) -> str | None:
        return None

    def fetch_since(self, subreddit: str, after: datetime,
                    before: datetime | None = None) -> Iterator[Page]:
        start, window = after, FIRST_WINDOW
        while True:
            now = datetime.now(timezone.utc)
            end = min(before or now, now)
            if start >= end:
                return
            stop = min(start + window, end)
            posts = self.window(subreddit, start, stop)
            newest = max((created_at(p) for p in posts), default=None)
            settled = stop <= now - SETTLE
            yield Page(posts, until=stop if settled else newest)
            if stop >= end:
                return
            start = stop
            window = adapt(window, len(posts))

    def window(self, subreddit: str, since: datetime, until: datetime) -> list[dict]:
        """Every post of `subreddit` created in [since, until), oldest first, once each."""
        api = GregPushshiftAPI(self.base_url, self.http, num_workers=2, rate_limit=120,
                               shards_down_behavior=None, file_checkpoint=10**9)
        with own_signals() as received:
            posts = api.search_submissions(subreddit=subreddit, since=int(since.timestamp()),
                                           until=int(until.timestamp()))
            posts = list(posts)
        if api.failure is not None:
            raise api.failure
        if received or self.stop.is_set():
            raise Interrupted(f"{self.name}: stopping")
        return unique_in_range(posts, subreddit, since, until)


def unique_in_range(posts: list[dict], subreddit: str, since: datetime, until: datetime) -> list[dict]:
    keep: dict[str, dict] = {}
    for post in posts:
        try:
            moment, key = created_at(post), post_id(post)
        except BadPost as exc:
            log.warning("pushshift: skipping a malformed post: %s", exc)
            continue
        if since.replace(microsecond=0) <= moment < until and \
                str(post.get("subreddit", subreddit)).lower() == subreddit.lower():
            keep[key] = post
    return sorted(keep.values(), key=lambda p: float(p.get("created_utc", p.get("created"))))


def adapt(window: timedelta, count: int) -> timedelta:
    if count < QUIET:
        return min(MAX_WINDOW, window * 2)
    if count > BUSY:
        return max(MIN_WINDOW, window / 2)
    return window
