"""The chapter loop every daemon runs: claim -> work -> report -> wait, until SIGTERM."""
from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from common import http_failures
from common.client import BooruError, BooruUnavailable

log = logging.getLogger(__name__)


# The four counts every chapter line starts with, and the daemons' own names that feed them:
# greg polls subreddits and posts submissions (its problems are "errors"), parsa resolves links
# (dead = failed for good, unsupported = nothing to resolve), coco encodes images.
SUMMARY: dict[str, tuple[str, ...]] = {
    "claimed": ("claimed", "subreddits"),
    "done": ("done", "resolved", "encoded", "posted"),
    "failed": ("failed", "dead", "errors"),
    "skipped": ("skipped", "unsupported"),
}


def give_back(release: Callable[[list[dict]], object], items: list[dict], what: str) -> None:
    """Release leased items not begun (stopping) through `release` (the client's release_links or
    release_images), so another copy takes them now; if booru cannot take them, they come back
    when their leases expire."""
    if not items:
        return
    try:
        release([{"id": item["id"], "lease": item["lease"]} for item in items])
    except (BooruError, BooruUnavailable) as exc:
        log.warning("could not give back %d %s (%s); they return when their leases expire", len(items), what, exc)


@dataclass
class Chapter:
    """What one chapter did; logged as one line and exported as metrics."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)

    def summary(self) -> dict[str, int]:
        """claimed, done, failed and skipped, whatever the daemon calls them."""
        return {name: sum(self[key] for key in keys) for name, keys in SUMMARY.items()}

    def details(self) -> dict[str, int]:
        """The daemon's own counts that are not one of the summary's names."""
        return {k: v for k, v in sorted(self.counts.items()) if k not in SUMMARY}

    def line(self, elapsed: float) -> str:
        """`claimed=5 done=4 failed=1 skipped=0 elapsed=1.23s dead=1 images=7 resolved=4`"""
        parts = [f"{k}={v}" for k, v in self.summary().items()] + [f"elapsed={elapsed:.2f}s"]
        return " ".join(parts + [f"{k}={v}" for k, v in self.details().items()])

    def fields(self, daemon: str, elapsed: float) -> dict:
        """The same, for LOG_FORMAT=json."""
        return {"daemon": daemon, **self.summary(), "elapsed": round(elapsed, 3), "counts": dict(self.counts)}


class Daemon:
    """Subclasses set `name` and implement `chapter(report)`; `run()` loops until stopped."""

    name = "daemon"
    max_backoff = 60.0
    _publish_failed = False  # warn once per streak of failed chapter reports

    def __init__(self, interval: float):
        self.interval = interval
        self.stop_event = threading.Event()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    def stop(self, *_: object) -> None:
        if not self.stopping:
            log.info("%s: stop requested, finishing the current batch", self.name)
        self.stop_event.set()

    def chapter(self, report: Chapter) -> None:
        raise NotImplementedError

    def run_once(self) -> Chapter:
        """One chapter: do it, log its line, report it to booru for /metrics."""
        report = Chapter()
        started = time.monotonic()
        self.chapter(report)
        elapsed = time.monotonic() - started
        log.info("%s chapter: %s", self.name, report.line(elapsed), extra={"fields": report.fields(self.name, elapsed)})
        self.publish(report, elapsed)
        return report

    def publish(self, report: Chapter, elapsed: float) -> None:
        """Send the chapter's counts to booru; best-effort, a failure never stops the daemon."""
        send = getattr(getattr(self, "client", None), "report_chapter", None)
        if send is None:
            return
        try:
            counts = {k: v for k, v in report.counts.items() if isinstance(v, int) and v >= 0}
            send(self.name, {**counts, **report.summary()}, elapsed)
        except Exception as exc:  # metrics are not worth a chapter
            level = logging.DEBUG if self._publish_failed else logging.WARNING
            log.log(level, "%s: chapter not reported to booru (%s); metrics will miss it", self.name, exc)
            self._publish_failed = True
        else:
            self._publish_failed = False

    def close(self) -> None:
        """Release what the daemon holds (pools, sessions); called once when it ends."""

    def main(self, once: bool = False) -> int:
        """The daemon's exit code: run until stopped, or one chapter (1 if booru is away)."""
        try:
            if not once:
                return self.run()
            try:
                self.run_once()
            except BooruUnavailable as exc:
                log.error("%s", exc)
                return 1
            return 0
        finally:
            self.close()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        backoff = http_failures.Backoff(base=1.0, cap=self.max_backoff)
        while not self.stopping:
            try:
                self.run_once()
                backoff.ok()
                wait = self.interval
            except BooruUnavailable as exc:
                wait = backoff.fail(retry_after=exc.retry_after)
                log.warning("%s: %s; retrying in %.0fs", self.name, exc, wait)
            except Exception:  # a bug or an upstream surprise must not crash-loop the daemon
                wait = backoff.fail()
                log.exception("%s: chapter failed; retrying in %.0fs", self.name, wait)
            self.stop_event.wait(wait)
        log.info("%s stopped", self.name)
        return 0
