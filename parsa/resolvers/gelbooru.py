"""Gelbooru 0.2.x post pages (`index.php?page=post&s=view&id=N`), read like the Hydrus guide:
file URL from og:image, else the "Original image" link; `tag-type-*` list; md5 from the file
name; `Posted:` time; the `#source` input."""
from __future__ import annotations

from common import links
from parsa.resolvers.base import Context, Gone, ResolvedImage, Unsupported
from parsa.resolvers.booru_page import BooruPage, md5_of

LINKS = links.BY_NAME["gelbooru"]  # shared with the classifier
type, pattern, examples = LINKS.type, LINKS.regex, list(LINKS.examples)
NAMESPACES = {"artist": "creator", "copyright": "series", "metadata": "meta", "general": "",
              "character": "character", "meta": "meta"}
# Gelbooru's "Safe" is what it (and Danbooru) have called "General" since 2022.
RATINGS = {"safe": "general", "general": "general", "sensitive": "sensitive",
           "questionable": "questionable", "explicit": "explicit"}
_HTML = ["text/html", "application/xhtml+xml"]


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    match = pattern.match(url)
    if not match:
        raise Unsupported(f"not a Gelbooru post page: {url}")
    page_url = f"{url.split('://')[0]}://{match.group('host')}{match.group('path')}index.php" \
               f"?page=post&s=view&id={match.group('id')}"
    page = ctx.fetch(page_url, accept_types=_HTML, what="Gelbooru post page")
    content = page.content if isinstance(page.content, str) else page.content.decode("utf-8", "replace")
    return [image_from_html(content, page_url)]


def image_from_html(html: str, where: str = "") -> ResolvedImage:
    page = BooruPage(html)
    url = page.meta.get("og:image") or page.link_with_text("original image")
    if not url:
        raise Gone(f"{where}: no file on the page (deleted or login-only)")
    tags = page.tags(NAMESPACES)
    rating = RATINGS.get(page.rating() or "")
    if rating:
        tags.append(f"rating:{rating}")
    return ResolvedImage(url=url.replace("//images/", "/images/"), md5=md5_of(url),
                         source_url=page.inputs.get("source") or None, posted=page.posted(), tags=tags)
