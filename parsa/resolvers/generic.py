"""Any other direct link to an image file, kept only if the server says it is an image."""
from __future__ import annotations

import re

from parsa.resolvers.base import Context, Gone, ResolvedImage

type = "generic"
# Hosts with their own resolver are excluded so every URL has exactly one resolver.
pattern = re.compile(
    r"^https?://(?!(?:[^/?#@]*\.)?(?:redd\.it|reddit\.com|imgur\.com|donmai\.us)(?:[:/?#]|$))"
    r"[^/?#]+/[^?#]*\.(?:jpe?g|png|gif|webp)(?:[?#].*)?$", re.I)
examples = [
    "https://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg",
    "http://cdn.example.net/pics/cat.PNG?size=orig",
]
IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
PROBE_BYTES = 64 * 1024 * 1024


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    fetched = ctx.fetch(url, accept_types=IMAGE_TYPES, max_bytes=PROBE_BYTES, what="image")
    content_type = (getattr(fetched, "content_type", "") or "").split(";")[0].strip().lower()
    if content_type and content_type not in IMAGE_TYPES:
        raise Gone(f"{url}: not an image ({content_type})")
    return [ResolvedImage(url=getattr(fetched, "url", None) or url)]
