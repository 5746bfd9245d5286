"""Arctic Shift: the public Reddit archive API, oldest first, paged by `after`.

    GET {ARCTIC_SHIFT_URL}/api/posts/search?subreddit=S&after=T&before=U&limit=100&sort=asc
    -> {"data": [post, ...]}   (an "error" member instead on failure)

Paging: the next page asks for `after` = the last post's created_utc minus one second, so
posts sharing the boundary second are asked for again whether the API's `after` is
inclusive or exclusive; ids already yielded at the boundary are dropped. No gaps, no
duplicates.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Iterator

from common.config import Settings
from greg.format import BadPost, created_at, post_id
from greg.sources.base import JsonGetter, Page, UpstreamError, log

PAGE_SIZE = 100


class ArcticShiftSource:
    name = "arctic_shift"
    example = "GREG_SOURCE=arctic_shift  ARCTIC_SHIFT_URL=https://arctic-shift.photon-reddit.com"
    live = False

    def __init__(self, settings: Settings, stop: threading.Event):
        self.url = settings.arctic_shift_url.rstrip("/") + "/api/posts/search"
        self.http = JsonGetter(self.name, stop, timeout=max(settings.fetch_timeout, 30.0))

    def problem(self) -> str | None:
        return None

    def fetch_since(self, subreddit: str, after: datetime,
                    before: datetime | None = None) -> Iterator[Page]:
        cursor = int(after.timestamp())
        seen: dict[str, int] = {}   # id -> created second, for posts near the boundary
        while True:
            params = {"subreddit": subreddit, "after": cursor - 1, "limit": PAGE_SIZE,
                      "sort": "asc"}
            if before is not None:
                params["before"] = int(before.timestamp())
            posts = self.page(params)
            fresh = [p for p in posts if _key(p) not in seen and _in_range(p, after, before)]
            if not posts or (not fresh and len(posts) < PAGE_SIZE):
                return
            if not fresh:
                # A whole page inside one boundary second: step past it rather than loop.
                log.warning("%s: more than %d posts of r/%s share second %d; stepping over it",
                            self.name, PAGE_SIZE, subreddit, cursor)
                cursor += 1
                continue
            last = max(_ts(p) for p in posts)
            seen.update((_key(p), _ts(p)) for p in posts)
            seen = {key: ts for key, ts in seen.items() if ts >= last - 1}
            yield Page(fresh, until=datetime.fromtimestamp(last, timezone.utc))
            if len(posts) < PAGE_SIZE:
                return
            cursor = last

    def page(self, params: dict) -> list[dict]:
        body = self.http.get(self.url, params)
        if not isinstance(body, dict):
            raise UpstreamError(f"{self.url} answered {type(body).__name__}, not an object")
        if body.get("error"):
            raise UpstreamError(f"{self.url} answered error: {str(body['error'])[:200]}")
        data = body.get("data")
        if not isinstance(data, list):
            raise UpstreamError(f"{self.url} answered without a data list")
        return [p for p in data if isinstance(p, dict) and _valid(p)]


def _valid(post: dict) -> bool:
    try:
        created_at(post), post_id(post)
    except BadPost as exc:
        log.warning("arctic_shift: skipping a malformed post: %s", exc)
        return False
    return True


def _ts(post: dict) -> int:
    return int(float(post.get("created_utc", post.get("created"))))


def _key(post: dict) -> str:
    return post_id(post)


def _in_range(post: dict, after: datetime, before: datetime | None) -> bool:
    moment = created_at(post)
    return moment >= after.replace(microsecond=0) and (before is None or moment < before)
