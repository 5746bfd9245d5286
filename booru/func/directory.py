"""Ask the configured source whether a subreddit exists, and when it was created."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

import praw
import prawcore
import requests

from booru.errors import NotFound, Unavailable
from common.config import Settings
from common.sources import plan

log = logging.getLogger(__name__)
TIMEOUT = 15


def lookup_subreddit(name: str, settings: Settings, source: str | None = None) -> tuple[str, datetime]:
    """Return the subreddit's canonical name and creation time, or raise NotFound / Unavailable.

    Asked of the subreddit's own source (else GREG_SOURCE): Arctic Shift when it is the only
    source that can answer (no `reddit` in it), Reddit otherwise (Pushshift has no such lookup)."""
    try:
        chosen = plan(source or settings.greg_source)
    except ValueError as exc:  # a bad subreddit source is refused before; this is GREG_SOURCE
        raise Unavailable(f"GREG_SOURCE is misconfigured: {exc}") from None
    if "reddit" not in (chosen.live, chosen.archive) and "arctic_shift" in (chosen.live, chosen.archive):
        return _arctic_shift(name, settings)
    if settings.reddit_client_id and settings.reddit_client_secret:
        return _praw(name, settings)
    return _reddit_public(name, settings)


def _created(value: object) -> datetime:
    return datetime.fromtimestamp(float(value), timezone.utc)  # type: ignore[arg-type]


def _praw(name: str, settings: Settings) -> tuple[str, datetime]:
    reddit = praw.Reddit(client_id=settings.reddit_client_id, client_secret=settings.reddit_client_secret,
                         user_agent=settings.reddit_user_agent, check_for_updates=False, timeout=TIMEOUT)
    try:
        subreddit = reddit.subreddit(name)
        return subreddit.display_name, _created(subreddit.created_utc)
    except (prawcore.NotFound, prawcore.Redirect, prawcore.Forbidden, prawcore.UnavailableForLegalReasons):
        raise NotFound(f"subreddit {name!r} does not exist on Reddit (or is private or banned)")
    except prawcore.PrawcoreException as exc:
        raise Unavailable(f"Reddit could not be asked about {name!r}: {exc.__class__.__name__}: {exc}")


def _get_json(url: str, params: dict | None = None, headers: dict | None = None) -> tuple[int, object]:
    try:
        response = requests.get(url, params=params, headers=headers, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise Unavailable(f"{url} unreachable: {exc.__class__.__name__}")
    if response.status_code >= 500 or response.status_code == 429:
        raise Unavailable(f"{url} answered {response.status_code}")
    try:
        return response.status_code, response.json()
    except ValueError:
        if response.status_code >= 300:
            return response.status_code, None
        raise Unavailable(f"{url} answered something that is not JSON")


def _reddit_public(name: str, settings: Settings) -> tuple[str, datetime]:
    status, body = _get_json(f"https://www.reddit.com/r/{name}/about.json",
                             headers={"User-Agent": settings.reddit_user_agent})
    data = body.get("data") if isinstance(body, dict) else None
    if status != 200 or not isinstance(data, dict) or "created_utc" not in data:
        raise NotFound(f"subreddit {name!r} does not exist on Reddit (or is private or banned)")
    return data.get("display_name") or name, _created(data["created_utc"])


def _arctic_shift(name: str, settings: Settings) -> tuple[str, datetime]:
    status, body = _get_json(f"{settings.arctic_shift_url}/api/subreddits/search", params={"subreddit": name})
    rows = body.get("data") if isinstance(body, dict) else None
    for row in rows or []:
        if str(row.get("display_name", "")).lower() == name.lower() and row.get("created_utc"):
            return row["display_name"], _created(row["created_utc"])
    raise NotFound(f"subreddit {name!r} is unknown to Arctic Shift")
