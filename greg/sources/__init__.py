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

from common.config import Settings
from common.sources import Plan, plan
from greg.sources.arctic_shift import ArcticShiftSource
from greg.sources.base import Interrupted, Page, Source, UpstreamError, trouble
from greg.sources.pushshift import PushshiftSource
from greg.sources.reddit import RedditSource

__all__ = ["SOURCES", "Interrupted", "Page", "Plan", "Source", "UpstreamError", "build",
           "plan", "trouble"]

SOURCES: dict[str, type] = {cls.name: cls for cls in (RedditSource, PushshiftSource, ArcticShiftSource)}


def build(name: str, settings: Settings, stop: threading.Event) -> Source:
    return SOURCES[name](settings, stop)
