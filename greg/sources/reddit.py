"""The official Reddit API through PRAW: `/r/<sub>/new`, newest first, back to `after`.

Reddit listings end near 1,000 items, so this source keeps a subreddit current; history
older than that needs an archive source (GREG_SOURCE=arctic_shift,reddit). prawcore reads
the `x-ratelimit-remaining/used/reset` headers and spaces requests by them; a 429 or an
outage surfaces as UpstreamError and greg backs the source off. Only the last page carries
a checkpoint (the newest post seen): a walk cut short records nothing.
"""
from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, Iterator

import praw
import prawcore

from common import http_failures
from common.config import Settings
from greg.format import BadPost, created_at
from greg.sources.base import Interrupted, Page, UpstreamError, log

PAGE_SIZE = 100
CREDENTIALS = "REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET"


class RedditSource:
    name = "reddit"
    example = ("GREG_SOURCE=reddit  REDDIT_CLIENT_ID=...  REDDIT_CLIENT_SECRET=...  "
               "REDDIT_USER_AGENT='lzbooru/1.0 by u/you'")
    live = True

    def __init__(self, settings: Settings, stop: threading.Event):
        self.settings = settings
        self.stop = stop
        self._reddit: praw.Reddit | None = None

    def problem(self) -> str | None:
        if self.settings.reddit_client_id and self.settings.reddit_client_secret:
            return None
        return (f"reddit source: {CREDENTIALS} are not set; create an app at "
                f"https://www.reddit.com/prefs/apps and put them in .env (polling skipped)")

    def reddit(self) -> praw.Reddit:
        if self._reddit is None:
            self._reddit = praw.Reddit(
                client_id=self.settings.reddit_client_id,
                client_secret=self.settings.reddit_client_secret,
                user_agent=self.settings.reddit_user_agent,
                check_for_updates=False, check_for_async=False,
                timeout=max(self.settings.fetch_timeout, 16.0),
            )
            self._reddit.read_only = True
        return self._reddit

    def fetch_since(self, subreddit: str, after: datetime,
                    before: datetime | None = None) -> Iterator[Page]:
        page: list[dict] = []
        newest: datetime | None = None
        for post in self.walk(subreddit):
            if self.stop.is_set():
                raise Interrupted(f"{self.name}: stopping")
            try:
                moment = created_at(post)
            except BadPost as exc:
                log.warning("reddit: skipping a malformed post in r/%s: %s", subreddit, exc)
                continue
            if moment < after:
                break
            if before is not None and moment >= before:
                continue
            newest = moment if newest is None or moment > newest else newest
            page.append(post)
            if len(page) >= PAGE_SIZE:
                yield Page(page)
                page = []
        yield Page(page, until=newest)

    def walk(self, subreddit: str) -> Iterator[dict]:
        """Raw post dicts of /r/<subreddit>/new, prawcore's errors turned into UpstreamError."""
        try:
            for item in self.reddit().subreddit(subreddit).new(limit=None):
                if isinstance(item, praw.models.Submission):
                    yield as_dict(item)
        except prawcore.exceptions.PrawcoreException as exc:
            raise translate(exc, subreddit) from exc
        except praw.exceptions.PRAWException as exc:
            raise UpstreamError(f"reddit: {exc}") from exc


def as_dict(submission: Any) -> dict:
    """The listing's JSON fields back from a PRAW Submission (author/subreddit as names)."""
    post = {k: v for k, v in vars(submission).items() if not k.startswith("_")}
    post["author"] = str(post["author"]) if post.get("author") is not None else "[deleted]"
    if post.get("subreddit") is not None:
        post["subreddit"] = str(post["subreddit"])
    post.pop("poll_data", None)
    return post


def translate(exc: Exception, subreddit: str) -> UpstreamError:
    """A clear reason for each prawcore failure."""
    exceptions = prawcore.exceptions
    if isinstance(exc, exceptions.OAuthException):
        return UpstreamError(f"reddit refused the credentials ({exc}); check {CREDENTIALS}")
    if isinstance(exc, exceptions.TooManyRequests):
        return UpstreamError("reddit rate limited us (429)",
                             retry_after=http_failures.retry_after(exc.response))
    if isinstance(exc, (exceptions.InvalidToken, exceptions.InsufficientScope)):
        return UpstreamError(f"reddit refused the token ({exc}); check {CREDENTIALS}")
    if isinstance(exc, exceptions.ServerError):
        return UpstreamError(f"reddit answered {exc.response.status_code} (server error)")
    if isinstance(exc, exceptions.BadJSON):
        return UpstreamError("reddit answered with bad JSON")
    if isinstance(exc, exceptions.RequestException):
        return UpstreamError(f"reddit unreachable ({exc.original_exception.__class__.__name__})")
    if isinstance(exc, (exceptions.Redirect, exceptions.NotFound)):
        return UpstreamError(f"r/{subreddit} does not exist on reddit", subreddit_only=True)
    if isinstance(exc, (exceptions.Forbidden, exceptions.UnavailableForLegalReasons)):
        return UpstreamError(f"r/{subreddit} is private, banned or quarantined ({exc})",
                             subreddit_only=True)
    if isinstance(exc, exceptions.ResponseException):
        status = exc.response.status_code
        if status == 401:
            return UpstreamError(f"reddit refused the credentials (401); check {CREDENTIALS}")
        return UpstreamError(f"reddit answered {status}")
    return UpstreamError(f"reddit: {exc.__class__.__name__}: {exc}")
