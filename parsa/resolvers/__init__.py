"""The resolver registry: one module per site, each with `type`, `pattern`, `examples`, `resolve`.

    normalize(url)     -> the canonical form every pattern is written against
    classify(url)      -> link type of the first matching resolver, or None (unsupported)
    find_resolver(url) -> that resolver module, or None
    resolve(url, ctx)  -> list[ResolvedImage]; raises Unsupported / Gone / Transient
"""
from __future__ import annotations

import re
from types import ModuleType

from parsa.resolvers import danbooru, gelbooru, generic, imgur, reddit_direct, reddit_gallery
from parsa.resolvers.base import (Context, Gone, ResolvedImage, ResolveError, Transient,
                                  Unsupported)

__all__ = ["RESOLVERS", "Context", "Gone", "ResolveError", "ResolvedImage", "Transient",
           "Unsupported", "classify", "find_resolver", "normalize", "resolve"]

# Order matters only for readability: patterns are written so that at most one matches.
RESOLVERS: list[ModuleType] = [reddit_direct, reddit_gallery, imgur, danbooru, gelbooru, generic]

_REDDIT_HOST = re.compile(r"^(?:(?:www|old|new|m|np|i|amp)\.)?reddit\.com$")
_IMGUR_HOST = re.compile(r"^(?:www|m)\.imgur\.com$")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


def normalize(url: str) -> str:
    """Canonical URL: trimmed, `&amp;` unescaped, https scheme added, reddit/imgur hosts folded."""
    url = (url or "").strip()
    while "&amp;" in url:
        url = url.replace("&amp;", "&")
    if url.startswith("//"):
        url = "https:" + url
    elif url.startswith("/r/") or url.startswith("/u/") or url.startswith("/user/"):
        url = "https://www.reddit.com" + url  # relative permalinks (crossposts)
    elif not _SCHEME.match(url):
        url = "https://" + url
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    userinfo, at, hostport = host.rpartition("@")
    hostport = hostport.lower().rstrip(".")
    hostname = hostport.split(":")[0]
    if _REDDIT_HOST.match(hostname):
        hostport, scheme = "www.reddit.com", "https"
    elif _IMGUR_HOST.match(hostname):
        hostport, scheme = "imgur.com", "https"
    elif hostname.endswith("redd.it") or hostname.endswith("imgur.com"):
        scheme = "https"
    return f"{scheme.lower()}://{userinfo}{at}{hostport}{slash}{path}".replace(" ", "%20")


def find_resolver(url: str) -> ModuleType | None:
    """The resolver whose pattern matches the (normalised) URL, or None."""
    url = normalize(url)
    for resolver in RESOLVERS:
        if resolver.pattern.match(url):
            return resolver
    return None


def classify(url: str) -> str | None:
    """The link type (`reddit`, `imgur`, `booru`, `generic`) or None for unsupported."""
    resolver = find_resolver(url)
    return resolver.type if resolver else None


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    """Resolve a link into direct image URLs with the matching resolver."""
    resolver = find_resolver(url)
    if resolver is None:
        raise Unsupported(f"no resolver for {url}")
    images = resolver.resolve(normalize(url), ctx)
    if not images:
        raise Gone(f"no images at {url}")
    return images
