"""The source registry: GREG_SOURCE names one source, or `archive,live` (e.g.
`arctic_shift,reddit`): the archive fills history from the subreddit's creation
(tracked by `backfilled_until`), the live source keeps it current from `updated`.

    reddit        the official API through PRAW (live)
    pushshift     a Pushshift-compatible archive through PMAW (archive)
    arctic_shift  the public Arctic Shift API (archive)

Monthly dump files are imported with `python -m greg import FILE.zst ...`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from common.config import Settings
from greg.sources.arctic_shift import ArcticShiftSource
from greg.sources.base import Interrupted, Page, Source, UpstreamError, trouble
from greg.sources.pushshift import PushshiftSource
from greg.sources.reddit import RedditSource

__all__ = ["SOURCES", "Interrupted", "Page", "Plan", "Source", "UpstreamError", "build",
           "plan", "trouble"]

SOURCES: dict[str, type] = {cls.name: cls for cls in (RedditSource, PushshiftSource, ArcticShiftSource)}


@dataclass(frozen=True)
class Plan:
    """Which source keeps `updated` current and which (if any) backfills history."""

    live: str
    archive: str | None = None

    def __str__(self) -> str:
        return f"{self.archive},{self.live}" if self.archive else self.live


def plan(spec: str) -> Plan:
    """`reddit` -> Plan(live=reddit); `arctic_shift,reddit` -> archive + live."""
    names = [part.strip().lower() for part in spec.replace("+", ",").split(",") if part.strip()]
    unknown = [name for name in names if name not in SOURCES]
    if unknown or not 1 <= len(names) <= 2:
        raise ValueError(f"GREG_SOURCE={spec!r}: expected one of {', '.join(SOURCES)} "
                         f"or 'archive,live' such as 'arctic_shift,reddit'")
    if len(names) == 1:
        return Plan(live=names[0])
    archive, live = names
    if SOURCES[archive].live:
        archive, live = live, archive
    if SOURCES[archive].live:
        raise ValueError(f"GREG_SOURCE={spec!r}: two live sources; pair an archive with a live one")
    return Plan(live=live, archive=archive)


def build(name: str, settings: Settings, stop: threading.Event) -> Source:
    return SOURCES[name](settings, stop)
