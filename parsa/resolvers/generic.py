"""Any other direct link to an image file, kept only if the server says it is an image."""
from __future__ import annotations

from common import links
from parsa.resolvers.base import Context, Gone, ResolvedImage

LINKS = links.BY_NAME["generic"]  # shared with the classifier
type, pattern, examples = LINKS.type, LINKS.regex, list(LINKS.examples)
# What the fetcher and Coco treat as images (Coco sniffs the bytes before decoding).
IMAGE_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")
PROBE_BYTES = 256 * 1024


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    """GET through the safe fetcher with a small byte cap: the content type is checked before
    the body is read, so "too large" also confirms an image without downloading it twice."""
    try:
        fetched = ctx.fetch(url, accept_types=IMAGE_TYPES, max_bytes=PROBE_BYTES, what="image")
    except Gone as exc:
        if "too large" not in exc.reason:
            raise
        return [ResolvedImage(url=url)]
    if not any(fetched.content_type.startswith(t) for t in IMAGE_TYPES):
        raise Gone(f"{url}: not an image ({fetched.content_type or 'no content type'})")
    return [ResolvedImage(url=url)]
