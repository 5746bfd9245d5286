"""The chapter loop every daemon runs: claim -> work -> report -> wait, until SIGTERM."""
from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass, field

from common.client import BooruUnavailable

log = logging.getLogger(__name__)


@dataclass
class Chapter:
    """What one chapter did; logged as one line and exported as metrics."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def __getitem__(self, key: str) -> int:
        return self.counts.get(key, 0)


class Daemon:
    """Subclasses set `name` and implement `chapter(report)`; `run()` loops until stopped."""

    name = "daemon"
    max_backoff = 60.0

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
        report = Chapter()
        started = time.monotonic()
        self.chapter(report)
        details = " ".join(f"{k}={v}" for k, v in sorted(report.counts.items())) or "idle"
        log.info("%s chapter: %s elapsed=%.2fs", self.name, details, time.monotonic() - started,
                 extra={"fields": {"chapter": report.counts, "elapsed": time.monotonic() - started}})
        return report

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        backoff = 0.0
        while not self.stopping:
            try:
                self.run_once()
                backoff = 0.0
                wait = self.interval
            except BooruUnavailable as exc:
                backoff = min(self.max_backoff, max(1.0, backoff * 2))
                log.warning("%s: %s; retrying in %.0fs", self.name, exc, backoff)
                wait = backoff
            except Exception:  # a bug or an upstream surprise must not crash-loop the daemon
                backoff = min(self.max_backoff, max(1.0, backoff * 2))
                log.exception("%s: chapter failed; retrying in %.0fs", self.name, backoff)
                wait = backoff
            self.stop_event.wait(wait)
        log.info("%s stopped", self.name)
        return 0
