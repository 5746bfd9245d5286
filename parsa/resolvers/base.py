"""What every resolver shares: the result type, the three failure kinds and the context."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit, urlunsplit

import requests

from common import http_failures


@dataclass
class ResolvedImage:
    """One direct image URL with what the page told us about it."""

    url: str
    md5: str | None = None
    source_url: str | None = None
    posted: datetime | None = None
    tags: list[str] = field(default_factory=list)

    def as_payload(self, submission_id: str) -> dict[str, Any]:
        """The shape `BooruClient.post_images` takes."""
        payload: dict[str, Any] = {"submission_id": submission_id, "url": self.url}
        if self.md5:
            payload["md5"] = self.md5
        if self.source_url:
            payload["source_url"] = self.source_url
        if self.posted:
            payload["posted"] = self.posted.isoformat()
        if self.tags:
            payload["tags"] = list(self.tags)
        return payload


class ResolveError(Exception):
    """Base of the three ways a link can fail to resolve."""

    permanent = True
    state = "failed"
    status: int | None = None  # the upstream HTTP status, when there was one

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Unsupported(ResolveError):
    """Nothing we can turn into images (video, self post, unknown host)."""

    state = "unsupported"


class Gone(ResolveError):
    """The content is dead for good (404, deleted, removed)."""

    state = "dead"


class Transient(ResolveError):
    """Worth trying again later (timeouts, 5xx, rate limits)."""

    permanent = False
    state = "failed"

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class Fetcher(Protocol):
    """`common.fetch.fetch`'s signature."""

    def __call__(self, url: str, *, max_bytes: int, timeout: float, deadline: float,
                 accept_types: Any = None, session: Any = None, headers: Any = None) -> Any: ...


def _default_fetcher(url: str, **kwargs: Any) -> Any:
    from common.fetch import fetch  # the safe fetcher (DESIGN §10)

    return fetch(url, **kwargs)


def _api_session(user_agent: str) -> requests.Session:
    session = requests.Session()  # trust_env: honours HTTPS_PROXY and REQUESTS_CA_BUNDLE
    session.headers["User-Agent"] = user_agent
    return session


@dataclass
class Context:
    """Everything a resolver may use: credentials, HTTP sessions, limits, a clock."""

    imgur_client_id: str = ""
    reddit_client_id: str = ""
    reddit_client_secret: str = ""
    user_agent: str = "lzbooru/1.0 (parsa)"
    timeout: float = 10.0
    deadline: float = 60.0
    max_page_bytes: int = 8 * 1024 * 1024
    max_wait: float = 120.0  # longest a rate limit may hold one link before it is retried later
    fetcher: Callable[..., Any] = _default_fetcher
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    session: requests.Session | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # per-resolver state (rate limiters, API clients)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.session is None:
            self.session = _api_session(self.user_agent)

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """A per-context singleton (thread-safe), e.g. the Imgur rate limiter."""
        with self.lock:
            if key not in self.extras:
                self.extras[key] = factory()
            return self.extras[key]

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> "Context":
        values = dict(
            imgur_client_id=settings.imgur_client_id,
            reddit_client_id=settings.reddit_client_id,
            reddit_client_secret=settings.reddit_client_secret,
            user_agent=settings.reddit_user_agent or cls.user_agent,
            timeout=settings.fetch_timeout,
            deadline=settings.fetch_deadline,
        )
        values.update(overrides)
        return cls(**values)

    def fetch(self, url: str, *, accept_types: Any = None, max_bytes: int | None = None,
              headers: dict[str, str] | None = None, what: str = "page") -> Any:
        """Fetch a user-supplied URL through the safe fetcher, mapping its errors to ours."""
        try:
            return self.fetcher(url, max_bytes=max_bytes or self.max_page_bytes, timeout=self.timeout,
                                deadline=self.deadline,
                                accept_types=tuple(accept_types) if accept_types else None,
                                headers=headers)
        except ResolveError:
            raise
        except Exception as exc:  # common.fetch.FetchError(reason, permanent, status, retry_after)
            raise fetch_failure(exc, f"{what} {url}") from exc


def fetch_failure(exc: Exception, what: str) -> ResolveError:
    """The resolver failure for a safe-fetcher error (anything else is a transient hiccup)."""
    reason = f"{what}: {getattr(exc, 'reason', None) or exc.__class__.__name__}"
    error: ResolveError
    if http_failures.classify(exc) == http_failures.PERMANENT:
        error = Gone(reason)
    else:
        error = Transient(reason, getattr(exc, "retry_after", None))
    error.status = getattr(exc, "status", None)
    return error


def http_error(status: int, what: str, retry_after: float | None = None) -> ResolveError:
    """The failure an HTTP status means for a resolver."""
    if http_failures.classify(status) == http_failures.TRANSIENT:
        return Transient(f"{what}: HTTP {status}", retry_after)
    if status in (401, 403, 451):
        return Gone(f"{what}: HTTP {status} (private, removed or blocked)")
    return Gone(f"{what}: HTTP {status}")


def strip_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
