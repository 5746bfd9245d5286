"""Link classification: which link type (and which of parsa's resolvers) handles a URL.

One registry of patterns, each with its examples, shared by greg (types on the links it posts),
booru (links posted without a type, links re-examined after an upgrade) and parsa, whose
resolver modules take their `pattern` and `examples` from here, so the classifier and the
resolvers cannot disagree.

    normalize(url) -> the canonical form every pattern is written against
    match(url)     -> the LinkPattern that matches, or None (unsupported)
    classify(url)  -> its link type (`reddit`, `imgur`, `booru`, `generic`) or None

Patterns are written so that at most one matches a URL (a test holds every example to that).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

LINK_TYPES = ("reddit", "imgur", "booru", "generic")


@dataclass(frozen=True)
class LinkPattern:
    name: str  # the parsa resolver module (parsa/resolvers/<name>.py) that resolves these links
    type: str  # the link type booru stores and parsa claims by
    regex: re.Pattern
    examples: tuple[str, ...]


_IMGUR_ID = r"[a-zA-Z0-9]{5}(?:[a-zA-Z0-9]{2})?"
_IMGUR_RESERVED = (r"(?!(?:about|gallery|topic|upload|signin|register|search|privacy|removed|rules|apps"
                   r"|emerald|hot|new|top|random|user|account|blog|jobs|help|tos|memegen|vidgif|stats|ads)\b)")


def _imgur_slug(group: str) -> str:
    """An Imgur id, optionally after a title slug (`some-title-<id>`)."""
    return rf"(?:[\w-]*-)?(?P<{group}>{_IMGUR_ID})"


PATTERNS: tuple[LinkPattern, ...] = (
    LinkPattern("reddit_direct", "reddit", re.compile(
        r"^https://(?P<host>i|preview)\.redd\.it/(?P<name>[\w.-]+\.(?:jpe?g|png|gif|webp))(?:[?#].*)?$", re.I), (
        "https://i.redd.it/pb7qsvi6i3c51.png",
        "https://preview.redd.it/14wmudl6i3c51.jpg?width=128&format=pjpg&auto=webp&s=978f65bc49a7bc65ed5b0cb7",
    )),
    LinkPattern("reddit_gallery", "reddit", re.compile(
        r"^https://(?:www\.reddit\.com/(?:gallery/(?P<gallery>[a-z0-9]+)"
        r"|(?:(?:r|u|user)/[^/?#]+/)?comments/(?P<comments>[a-z0-9]+))"
        r"|redd\.it/(?P<short>[a-z0-9]+))/?(?:[/?#].*)?$", re.I), (
        "https://www.reddit.com/gallery/huw6vs",
        "https://www.reddit.com/r/test/comments/huw6vs/test_gallery/",
        "https://redd.it/huw6vs",
    )),
    LinkPattern("imgur", "imgur", re.compile(
        r"^https://(?:"
        rf"(?:i\.)?imgur\.com/(?!removed\.)(?P<file>{_IMGUR_ID}[sbtmlh]?)\.(?P<ext>jpe?g|png|gif|gifv|webp|mp4|webm)"
        rf"|imgur\.com/a/{_imgur_slug('album')}"
        rf"|imgur\.com/(?:gallery|t/[\w-]+)/{_imgur_slug('gallery')}"
        rf"|imgur\.com/{_IMGUR_RESERVED}(?P<image>{_IMGUR_ID})"
        r")/?(?:[?#].*)?$"), (
        "https://i.imgur.com/zVpyzhWh.gif",
        "https://i.imgur.com/zVpyzhW.gifv",
        "https://imgur.com/a/5F5Cy",
        "https://imgur.com/gallery/25-films-on-netflix-id-like-to-recommend-dO484",
        "https://imgur.com/t/funny/rNdMhHm",
        "https://imgur.com/PdvlRWc",
    )),
    LinkPattern("danbooru", "booru", re.compile(
        r"^https?://(?P<host>(?:[\w-]+\.)*(?:danbooru\.donmai\.us|safebooru\.donmai\.us))"
        r"/posts/(?P<id>\d+)(?:\.json)?/?(?:[?#].*)?$"), (
        "https://danbooru.donmai.us/posts/4018221",
        "https://safebooru.donmai.us/posts/4018204?q=arknights",
    )),
    LinkPattern("gelbooru", "booru", re.compile(
        r"^https?://(?P<host>[\w.-]+(?::\d+)?)(?P<path>/(?:[\w.-]+/)*)index\.php\?"
        r"(?=(?:[^#]*&)?page=post(?:&|#|$))(?=(?:[^#]*&)?s=view(?:&|#|$))"
        r"(?=(?:[^#]*&)?id=(?P<id>\d+)(?:&|#|$))[^#]*(?:#.*)?$"), (
        "https://gelbooru.com/index.php?page=post&s=view&id=3837615",
        "https://safebooru.org/index.php?id=3837615&page=post&s=view",
    )),
    # Hosts with their own pattern are excluded so every URL has exactly one.
    LinkPattern("generic", "generic", re.compile(
        r"^https?://(?!(?:[^/?#@]*\.)?(?:redd\.it|reddit\.com|imgur\.com|donmai\.us)(?:[:/?#]|$))"
        r"[^/?#]+/[^?#]*\.(?:jpe?g|png|gif|webp)(?:[?#].*)?$", re.I), (
        "https://upload.wikimedia.org/wikipedia/commons/a/a9/Example.jpg",
        "http://cdn.example.net/pics/cat.PNG?size=orig",
    )),
)
BY_NAME: dict[str, LinkPattern] = {pattern.name: pattern for pattern in PATTERNS}

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


def match(url: str) -> LinkPattern | None:
    """The pattern that matches the (normalised) URL, or None."""
    url = normalize(url)
    for pattern in PATTERNS:
        if pattern.regex.match(url):
            return pattern
    return None


def classify(url: str) -> str | None:
    """The link type (`reddit`, `imgur`, `booru`, `generic`) or None for unsupported."""
    found = match(url)
    return found.type if found else None
