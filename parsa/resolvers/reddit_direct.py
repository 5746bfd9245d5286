"""Reddit-hosted files: i.redd.it, and preview.redd.it folded onto i.redd.it without the query."""
from __future__ import annotations

import re

from parsa.resolvers.base import Context, ResolvedImage

type = "reddit"
pattern = re.compile(r"^https://(?P<host>i|preview)\.redd\.it/(?P<name>[\w.-]+\.(?:jpe?g|png|gif|webp))"
                     r"(?:[?#].*)?$", re.I)
examples = [
    "https://i.redd.it/pb7qsvi6i3c51.png",
    "https://preview.redd.it/14wmudl6i3c51.jpg?width=128&format=pjpg&auto=webp&s=978f65bc49a7bc65ed5b0cb7",
]


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
