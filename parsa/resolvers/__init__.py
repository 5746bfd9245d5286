"""The resolver registry: one module per pattern of `common.links` (whose `type`, `pattern` and
`examples` it takes), each with its `resolve`.

    normalize(url)     -> the canonical form every pattern is written against (common.links)
    classify(url)      -> link type of the matching pattern, or None (unsupported) (common.links)
    find_resolver(url) -> that resolver module, or None
    resolve(url, ctx)  -> list[ResolvedImage]; raises Unsupported / Gone / Transient
"""
from __future__ import annotations

from types import ModuleType

from common.links import classify, match, normalize
from parsa.resolvers import danbooru, gelbooru, generic, imgur, reddit_direct, reddit_gallery
from parsa.resolvers.base import (Context, Gone, ResolvedImage, ResolveError, Transient,
                                  Unsupported)

__all__ = ["RESOLVERS", "Context", "Gone", "ResolveError", "ResolvedImage", "Transient",
           "Unsupported", "classify", "find_resolver", "normalize", "resolve"]

# One module per pattern of common.links, in its order; the module is named after its pattern.
RESOLVERS: list[ModuleType] = [reddit_direct, reddit_gallery, imgur, danbooru, gelbooru, generic]
_BY_PATTERN = {module.LINKS.name: module for module in RESOLVERS}


def find_resolver(url: str) -> ModuleType | None:
    """The resolver whose pattern matches the (normalised) URL, or None."""
    found = match(url)
    return _BY_PATTERN[found.name] if found else None


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    """Resolve a link into direct image URLs with the matching resolver."""
    resolver = find_resolver(url)
    if resolver is None:
        raise Unsupported(f"no resolver for {url}")
    images = resolver.resolve(normalize(url), ctx)
    if not images:
        raise Gone(f"no images at {url}")
    return images
