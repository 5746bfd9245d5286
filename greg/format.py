"""Reddit / Pushshift / Arctic Shift post dicts -> booru submission payloads.

    format_submission(post) -> {id, title, author, subreddit, created, flair, nsfw, removed,
                                crosspost_parent, links: [{url, type}]}

All three sources (and the monthly dumps) share Reddit's field names; they differ in
details this module absorbs: `created_utc` as int, float or string, HTML entities in
Pushshift text, relative crosspost URLs, PRAW objects for `author` / `subreddit`.
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import Any

from common.links import classify

REDDIT = "https://www.reddit.com"
TITLE_MAX, AUTHOR_MAX, FLAIR_MAX = 300, 20, 64
DELETED = "[deleted]"


class BadPost(ValueError):
    """A post dict without the fields a submission needs (id, subreddit, created time)."""


def created_at(post: dict) -> datetime:
    """The post's creation time (aware, UTC) from `created_utc` (int, float or string)."""
    value = post.get("created_utc", post.get("created"))
    if value is None or value == "":
        raise BadPost(f"post {post.get('id')!r} has no created_utc")
    try:  # Reddit times are whole seconds; a float's fraction is noise
        return datetime.fromtimestamp(int(float(value)), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise BadPost(f"post {post.get('id')!r} has a bad created_utc {value!r}") from exc


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC, the form booru stores and returns."""
    return moment.astimezone(timezone.utc).isoformat()


def parse_time(value: Any) -> datetime | None:
    """booru's ISO 8601 strings (naive means UTC), epoch numbers, or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)):
        return datetime.fromtimestamp(float(value), timezone.utc)
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def text(value: Any) -> str:
    """A display string: PRAW objects and numbers stringified, HTML entities unescaped."""
    if value is None:
        return ""
    return html.unescape(str(value)).strip()


def strip_kind(fullname: Any) -> str | None:
    """`t3_abc` -> `abc`; empty -> None."""
    if not fullname:
        return None
    value = str(fullname)
    return value.split("_", 1)[1] if value[:3] in ("t3_", "t1_", "t5_") else value


def post_id(post: dict) -> str:
    value = post.get("id") or strip_kind(post.get("name"))
    if not value:
        raise BadPost("post has no id")
    return str(value)


def subreddit_of(post: dict) -> str:
    name = text(post.get("subreddit"))
    if not name:
        name = text(post.get("subreddit_name_prefixed")).removeprefix("r/")
    if not name:
        raise BadPost(f"post {post.get('id')!r} has no subreddit")
    return name


def absolute(url: str) -> str:
    """Reddit's relative URLs (`/r/x/comments/...`) made absolute."""
    if url.startswith("//"):
        return "https:" + url
    if url.startswith("/"):
        return REDDIT + url
    return url


def permalink(post: dict) -> str:
    path = text(post.get("permalink"))
    if path:
        return absolute(path)
    return f"{REDDIT}/comments/{post_id(post)}/"


def is_self(post: dict) -> bool:
    return bool(post.get("is_self")) or str(post.get("domain") or "").startswith("self.")


def media_source(post: dict) -> dict:
    """The post whose media the link shows: the crossposted original, else the post itself."""
    parents = post.get("crosspost_parent_list")
    if isinstance(parents, list) and parents and isinstance(parents[-1], dict):
        return parents[-1]
    return post


def link_of(post: dict) -> dict:
    """{url, type}: the media URL and its parsa link type (None = unsupported, kept anyway)."""
    source = media_source(post)
    if is_self(source):
        return {"url": permalink(source), "type": None}
    if source.get("is_gallery") and (source.get("id") or source.get("name")):
        return _typed(f"{REDDIT}/gallery/{post_id(source)}")
    url = text(source.get("url") or source.get("url_overridden_by_dest"))
    if not url:
        return {"url": permalink(source), "type": None}
    return _typed(absolute(url))


def _typed(url: str) -> dict:
    return {"url": url, "type": classify(url)}


def format_submission(post: dict) -> dict:
    """One booru submission payload; raises BadPost when the essentials are missing."""
    return {
        "id": post_id(post),
        "title": text(post.get("title"))[:TITLE_MAX],
        "author": (text(post.get("author")) or DELETED)[:AUTHOR_MAX],
        "subreddit": subreddit_of(post),
        "created": iso(created_at(post)),
        "flair": text(post.get("link_flair_text"))[:FLAIR_MAX] or None,
        "nsfw": bool(post.get("over_18")),
        "removed": text(post.get("removed_by_category")) or None,
        "crosspost_parent": strip_kind(post.get("crosspost_parent")),
        "links": [link_of(post)],
    }
