"""Danbooru post pages: `/posts/N.json` first (file_url, md5, created_at, source, tag_string_*,
rating), the post's HTML page as the fallback."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from common import links
from parsa.resolvers.base import Context, Gone, ResolvedImage, Transient, Unsupported
from parsa.resolvers.booru_page import BooruPage, md5_of

LINKS = links.BY_NAME["danbooru"]  # shared with the classifier
type, pattern, examples = LINKS.type, LINKS.regex, list(LINKS.examples)

# JSON categories and the HTML `tag-type-N` numbers -> Hydrus namespaces ("" = unnamespaced)
CATEGORY_NAMESPACES = {"artist": "creator", "character": "character", "copyright": "series",
                       "meta": "meta", "general": ""}
TYPE_NAMESPACES = {"0": "", "1": "creator", "3": "series", "4": "character", "5": "meta"}
RATINGS = {"g": "general", "s": "sensitive", "q": "questionable", "e": "explicit"}
RATING_WORDS = {"safe": "s", "general": "g", "sensitive": "s", "questionable": "q", "explicit": "e"}
_JSON = ["application/json"]
_HTML = ["text/html", "application/xhtml+xml"]


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    match = pattern.match(url)
    if not match:
        raise Unsupported(f"not a Danbooru post: {url}")
    base = f"https://{match.group('host')}/posts/{match.group('id')}"
    try:
        post = ctx.fetch(base + ".json", accept_types=_JSON, what="Danbooru post JSON").content
        return [image_from_json(_loads(post), base)]
    except Transient:
        raise
    except Gone as exc:
        if exc.status in (404, 410):  # the post does not exist: the page would say the same
            raise
    page = ctx.fetch(base, accept_types=_HTML, what="Danbooru post page")
    return [image_from_html(_text(page.content), base)]


def image_from_json(post: Any, where: str = "") -> ResolvedImage:
    if not isinstance(post, dict) or not post.get("id"):
        raise Gone(f"{where}: not a Danbooru post")
    if post.get("is_deleted") and not post.get("file_url"):
        raise Gone(f"{where}: deleted")
    if not post.get("file_url"):
        raise Gone(f"{where}: no file URL (deleted, banned or login-only)")
    tags = []
    for category, namespace in CATEGORY_NAMESPACES.items():
        for name in str(post.get(f"tag_string_{category}") or "").split():
            tags.append(f"{namespace}:{name}" if namespace else name)
    rating = RATINGS.get(str(post.get("rating") or ""))
    if rating:
        tags.append(f"rating:{rating}")
    return ResolvedImage(url=post["file_url"], md5=post.get("md5") or md5_of(post["file_url"]),
                         source_url=post.get("source") or None, posted=_iso(post.get("created_at")),
                         tags=tags)


def image_from_html(html: str, where: str = "") -> ResolvedImage:
    page = BooruPage(html)
    url = (page.data.get("data-file-url") or page.link_with_text("view original")
           or page.link_with_text("original image") or page.meta.get("og:image"))
    if not url:
        raise Gone(f"{where}: no file on the page")
    tags = page.tags(TYPE_NAMESPACES)
    rating = _html_rating(page)
    if rating:
        tags.append(f"rating:{rating}")
    posted = _page_time(page)
    return ResolvedImage(url=url, md5=page.data.get("data-md5") or md5_of(url),
                         source_url=page.data.get("data-source") or page.inputs.get("source") or None,
                         posted=posted, tags=tags)


def _html_rating(page: BooruPage) -> str | None:
    letter = page.data.get("data-rating") or RATING_WORDS.get(page.rating() or "")
    return RATINGS.get(letter or "")


def _page_time(page: BooruPage) -> datetime | None:
    """The post's `<time>`: its title has the seconds (`2020-07-26 10:38:10 -0400`), the
    datetime attribute only minutes; else a `Posted:` line."""
    if not page.times:
        return page.posted()
    stamp, title = page.times[0]
    try:
        return datetime.strptime(title, "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return _iso(stamp)


def _iso(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _loads(content: bytes) -> Any:
    import json

    try:
        return json.loads(content)
    except ValueError:
        raise Gone("Danbooru post JSON: not JSON") from None


def _text(content: bytes | str) -> str:
    return content if isinstance(content, str) else content.decode("utf-8", "replace")
