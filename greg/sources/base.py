"""What every source shares: the Page it yields, its errors, and a careful JSON GET.

A source is a module-level class with

    name: str                 registry key, the value of GREG_SOURCE
    example: str              how to configure it
    live: bool                True: keeps a subreddit current (reddit);
                              False: an archive that can reach back to the creation date
    problem() -> str | None   configuration trouble, logged once per chapter
    fetch_since(subreddit, after, before=None) -> Iterator[Page]

`fetch_since` yields every post created at or after `after` (and strictly before `before`
when given) in pages. A page's `until` is a checkpoint: every post created before it has been
yielded by this page or an earlier one, so the caller may record it once booru accepted
the posts. Archive sources go oldest first and checkpoint every page; the live Reddit
source walks newest first and checkpoints only on its last page.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Protocol

import requests
import urllib3

from common import http_failures

log = logging.getLogger("greg.sources")

MAX_BODY = 64 * 1024 * 1024     # an archive page is ~1 MB; anything near this is not one
BACKOFF = http_failures.Backoff(base=1.0, cap=60.0)  # between the retries of one request


@dataclass
class Page:
    posts: list[dict]
    until: datetime | None = None


class Source(Protocol):
    name: str
    example: str
    live: bool

    def problem(self) -> str | None: ...

    def fetch_since(self, subreddit: str, after: datetime,
                    before: datetime | None = None) -> Iterator[Page]: ...


class UpstreamError(Exception):
    """The outside world failed us (429, 5xx, timeout, bad JSON, credentials).

    `retry_after` is the wait the upstream asked for; `subreddit_only` marks trouble with
    one subreddit (private, banned, missing) rather than with the whole source.
    """

    def __init__(self, reason: str, retry_after: float | None = None,
                 subreddit_only: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.subreddit_only = subreddit_only


class Interrupted(Exception):
    """The daemon is stopping: abandon the fetch without checkpointing."""


class Trouble:
    """Log each upstream problem once (per source and reason), and its recovery once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[str, str] = {}

    def report(self, key: str, reason: str, detail: str = "", level: int = logging.WARNING) -> bool:
        """Log `key: reason detail` unless `reason` is already the known trouble of `key`."""
        with self._lock:
            if self._current.get(key) == reason:
                log.debug("%s: still failing: %s%s", key, reason, detail)
                return False
            self._current[key] = reason
        log.log(level, "%s: %s%s", key, reason, detail)
        return True

    def clear(self, key: str) -> None:
        with self._lock:
            reason = self._current.pop(key, None)
        if reason is not None:
            log.info("%s: recovered (was: %s)", key, reason)

    def failing(self, key: str) -> bool:
        return key in self._current


trouble = Trouble()


def reset_seconds(value: str | None) -> float | None:
    """X-RateLimit-Reset as seconds from now: epoch seconds or a delta, whichever it looks like."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return max(0.0, number - time.time()) if number > 1e9 else max(0.0, number)


@dataclass
class JsonGetter:
    """GET JSON with retries: 429 (Retry-After), 5xx, timeouts and bad JSON back off and
    retry up to `attempts` times; 4xx other than 429 fail at once. Honours X-RateLimit-*."""

    name: str
    stop: threading.Event
    timeout: float = 30.0
    attempts: int = 4
    max_wait: float = 60.0
    headers: dict[str, str] = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session)

    def get(self, url: str, params: dict[str, Any] | None = None) -> Any:
        reason, wait = "no attempt made", 0.0
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(wait)
            try:
                response = self.fetch(url, params)
            except (requests.RequestException, urllib3.exceptions.HTTPError, TimeoutError) as exc:
                reason, wait = describe(url, exc, self.timeout), BACKOFF.delay(attempt)
            else:
                self.respect_rate_limit(response)
                reason, wait = self.judge(response, attempt)
                if not reason:
                    trouble.clear(self.name)
                    return response.json()
            if wait > self.max_wait:
                break
            trouble.report(self.name, reason, f"; retrying in {wait:.0f}s")
        raise UpstreamError(reason, retry_after=wait)

    def fetch(self, url: str, params: dict[str, Any] | None) -> requests.Response:
        """GET with a wall-clock deadline and a size cap, so a trickling server cannot hang greg."""
        deadline = time.monotonic() + self.timeout * 3
        with self.session.get(url, params=params, headers=self.headers, timeout=self.timeout,
                              stream=True) as response:
            chunks, size = [], 0
            while chunk := response.raw.read1(1 << 16, decode_content=True):
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no complete answer within {self.timeout * 3:.0f}s")
                if size > MAX_BODY:
                    raise requests.RequestException(f"answer larger than {MAX_BODY} bytes")
            response._content = b"".join(chunks)
        return response

    def judge(self, response: requests.Response, attempt: int) -> tuple[str, float]:
        """('', 0) for a usable answer, else (reason, seconds to wait before retrying)."""
        status = response.status_code
        if status == 429:
            asked = http_failures.retry_after(response)
            return (f"rate limited (429) by {response.url}",
                    asked if asked is not None else BACKOFF.delay(attempt + 2))
        if status >= 400 and http_failures.classify(status) == http_failures.TRANSIENT:
            asked = http_failures.retry_after(response)
            return f"{response.url} answered {status}", asked if asked is not None else BACKOFF.delay(attempt)
        if status in (401, 403):
            raise UpstreamError(f"{response.url} refused the credentials ({status}); "
                                f"check the token in the configuration")
        if status >= 400:
            raise UpstreamError(f"{response.url} answered {status}: {response.text[:200]!r}")
        try:
            response.json()
        except ValueError:
            return f"{response.url} answered with bad JSON", BACKOFF.delay(attempt)
        return "", 0.0

    def respect_rate_limit(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        try:
            if remaining is None or float(remaining) > 0:
                return
        except ValueError:
            return
        wait = reset_seconds(response.headers.get("X-RateLimit-Reset"))
        wait = min(self.max_wait, wait if wait is not None else 1.0)
        log.info("%s: rate limit used up; waiting %.1fs for the reset", self.name, wait)
        self.sleep(wait)

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(max(0.0, seconds)):
            raise Interrupted(f"{self.name}: stopping")


def describe(url: str, exc: BaseException, timeout: float) -> str:
    """A clear reason for a failed request: timeouts named as such, whatever layer raised them."""
    text = f"{exc.__class__.__name__}: {exc}"
    if isinstance(exc, (requests.Timeout, TimeoutError)) or "timed out" in text.lower():
        return f"{url} timed out (timeout {timeout:.0f}s)"
    return f"{url} unreachable ({exc.__class__.__name__})"
