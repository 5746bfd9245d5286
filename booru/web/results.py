"""Search answers and archive rows shaped for the templates."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable

POST_FIELDS = ("submission_id", "title", "subreddit", "author", "created", "nsfw")
NAMESPACE_ORDER = ("character", "series", "copyright", "creator", "artist", "meta", "rating")


def _created(post: dict) -> str:
    created = post.get("created")
    return created.isoformat() if isinstance(created, datetime) else str(created or "")


def posts_of_hit(hit: dict) -> list[dict]:
    """Every post a search hit appeared in, oldest first: its `posts` if the answer lists them
    (a list, or a page with `items`), else the one post the hit itself names."""
    posts = hit.get("posts")
    if isinstance(posts, dict):
        posts = posts.get("items")
    if not posts:
        posts = [{**{f: hit.get(f) for f in POST_FIELDS},
                  "post": hit.get("post") or f"https://redd.it/{hit.get('submission_id')}"}]
    return sorted(posts, key=_created)


def pictures(found: dict) -> list[dict]:
    """One entry per picture of a search answer, best first, each with its posts."""
    hits = found.get("results") or found.get("hits") or found.get("items") or []
    return [{**hit, "posts": posts_of_hit(hit)} for hit in hits]


def grouped_tags(tags: Iterable[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """[(namespace, [(tag, name), ...]), ...]: known namespaces first, plain tags last."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for tag in tags:
        namespace, sep, name = tag.partition(":")
        if not sep:
            namespace, name = "", tag
        groups.setdefault(namespace, []).append((tag, name))

    def order(namespace: str) -> tuple[int, str]:
        if namespace in NAMESPACE_ORDER:
            return NAMESPACE_ORDER.index(namespace), namespace
        return (len(NAMESPACE_ORDER) + (1 if namespace == "" else 0)), namespace

    return [(namespace, groups[namespace]) for namespace in sorted(groups, key=order)]


def http_url(value: Any) -> str:
    """`value` if it is an http(s) URL, else "": upstream URLs go into href and src attributes,
    where escaping alone would still let `javascript:` through."""
    if isinstance(value, str) and value.strip().lower().startswith(("https://", "http://")):
        return value.strip()
    return ""


def human_bytes(size: Any) -> str:
    if not isinstance(size, int):
        return ""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"


def when(value: Any) -> str:
    """A time as the pages write it: 2024-05-01 12:00 UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, datetime):
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M UTC")
