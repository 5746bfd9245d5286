"""The daemons' one reading of a failed HTTP request: how long the other side asked us to wait
(Retry-After), whether trying again later can help (transient) or not (permanent), and how long
to back off when nobody said.

    retry_after(response | headers | value) -> seconds, or None
    classify(status | exception)            -> PERMANENT or TRANSIENT
    Backoff(base, cap)                      -> doubling waits, per key (a source, a host)

Transient: every 5xx, 408 (request timeout), 425 (too early), 429 (rate limited), and failures
of the transport (refused, reset, timed out, DNS). Everything else a server answers (404, 410,
403, 400 ...) is permanent: asking again gets the same answer. An exception that carries its
own `permanent` flag (the safe fetcher's FetchError) is taken at its word.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

PERMANENT, TRANSIENT = "permanent", "transient"
TRANSIENT_4XX = frozenset({408, 425, 429})
MAX_RETRY_AFTER = 30 * 86400.0  # a longer wait than this is a mistake on the other side


def retry_after(source: Any) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), clipped to
    [0, MAX_RETRY_AFTER]; None when there is none or it cannot be read. `source` is a response
    (anything with `.headers`), a headers mapping, or the header's value."""
    headers = getattr(source, "headers", source)
    value = headers.get("Retry-After") if isinstance(headers, Mapping) else headers
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def transient_status(status: int) -> bool:
    return status >= 500 or status in TRANSIENT_4XX


def classify(failure: int | BaseException) -> str:
    """PERMANENT or TRANSIENT for an HTTP status or an exception raised while requesting."""
    if isinstance(failure, int):
        return TRANSIENT if transient_status(failure) else PERMANENT
    flag = getattr(failure, "permanent", None)
    if isinstance(flag, bool):
        return PERMANENT if flag else TRANSIENT
    status = getattr(getattr(failure, "response", None), "status_code", None)
    if isinstance(status, int):
        return classify(status)
    return TRANSIENT  # the transport failed (or something unforeseen): later may work


@dataclass
class Backoff:
    """Waits that double from `base` up to `cap` while failures repeat; a Retry-After wins.
    Kept per key, so one failing source or host does not hold back the others."""

    base: float = 1.0
    cap: float = 60.0
    _delay: dict[str, float] = field(default_factory=dict)
    _until: dict[str, float] = field(default_factory=dict)

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (0: the first retry)."""
        return min(self.cap, self.base * 2 ** attempt)

    def fail(self, key: str = "", retry_after: float | None = None) -> float:
        """Record a failure; return how long to wait before trying `key` again."""
        delay = self._delay[key] = min(self.cap, self._delay[key] * 2) if key in self._delay else self.base
        wait = retry_after if retry_after is not None else delay
        self._until[key] = time.monotonic() + wait
        return wait

    def ready(self, key: str = "") -> bool:
        return time.monotonic() >= self._until.get(key, 0.0)

    def ok(self, key: str = "") -> None:
        self._delay.pop(key, None)
        self._until.pop(key, None)
