"""Reddit-hosted files: i.redd.it, and preview.redd.it folded onto i.redd.it without the query."""
from __future__ import annotations

from common import links
from parsa.resolvers.base import Context, ResolvedImage

LINKS = links.BY_NAME["reddit_direct"]  # shared with the classifier
type, pattern, examples = LINKS.type, LINKS.regex, list(LINKS.examples)


def direct_url(url: str) -> str | None:
    """The i.redd.it URL of a Reddit-hosted file, or None when `url` is not one."""
    match = pattern.match(url)
    if not match:
        return None
    name = match.group("name")
    if "-v0-" in name:  # newer previews: <title-slug>-v0-<media id>.<ext>
        name = name.rsplit("-v0-", 1)[1]
    return f"https://i.redd.it/{name}"


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    return [ResolvedImage(url=direct_url(url) or url)]
