"""Reddit posts: galleries (in order), crossposts (through their parent), posts linking to a file.

Post JSON comes from `oauth.reddit.com/comments/<id>?raw_json=1` through prawcore (PRAW's
transport: app-only OAuth token, refreshed by itself, paced by `x-ratelimit-*`) when Reddit
credentials are configured; otherwise from the public `www.reddit.com/comments/<id>.json`,
which Reddit throttles hard for anonymous clients, so it is only the fallback.
"""
from __future__ import annotations

import threading
from typing import Any

from common import http_failures, links
from parsa.resolvers import reddit_direct
from parsa.resolvers.base import (Context, Gone, ResolvedImage, Transient, Unsupported,
                                  http_error, strip_query)

LINKS = links.BY_NAME["reddit_gallery"]  # shared with the classifier
type, pattern, examples = LINKS.type, LINKS.regex, list(LINKS.examples)
PERMANENT_403_REASONS = {"private", "quarantined", "gold_only", "banned", "gated"}


def post_id(url: str) -> str | None:
    match = pattern.match(url)
    if not match:
        return None
    return (match.group("gallery") or match.group("comments") or match.group("short")).lower()


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    ident = post_id(url)
    if ident is None:
        raise Unsupported(f"not a Reddit post URL: {url}")
    listing = fetch_post(ident, ctx)
    return images_of_post(submission_of(listing, ident), ctx)


def submission_of(listing: Any, ident: str) -> dict:
    """The t3 `data` of a `/comments/<id>` answer ([Listing(t3), Listing(t1)])."""
    try:
        first = listing[0] if isinstance(listing, list) else listing
        return first["data"]["children"][0]["data"]
    except (KeyError, IndexError, TypeError):
        raise Gone(f"post {ident}: no submission in Reddit's answer") from None


def images_of_post(post: dict, ctx: Context | None = None) -> list[ResolvedImage]:
    """The images of one submission's JSON (crossposts resolve through their parent)."""
    parents = post.get("crosspost_parent_list") or []
    if parents:
        post = parents[-1]
    if "gallery_data" in post or post.get("is_gallery"):
        return gallery_images(post)
    direct = reddit_direct.direct_url(str(post.get("url_overridden_by_dest") or post.get("url") or ""))
    if direct:
        return [ResolvedImage(url=direct)]
    if post.get("removed_by_category") or post.get("url") in (None, "", "[deleted]"):
        raise Gone(f"post {post.get('id')} removed ({post.get('removed_by_category') or 'deleted'})")
    if post.get("is_self"):
        raise Unsupported(f"post {post.get('id')} is a self post")
    if post.get("is_video") or "v.redd.it" in str(post.get("url")):
        raise Unsupported(f"post {post.get('id')} is a Reddit video")
    return linked_images(str(post.get("url")), ctx)


def linked_images(url: str, ctx: Context | None) -> list[ResolvedImage]:
    """A link post pointing at another site: resolve it there (never back through this module)."""
    from parsa import resolvers  # late import: the registry imports this module

    target = resolvers.find_resolver(url)
    if target is None or target.type == "reddit" or ctx is None:
        raise Unsupported(f"post links to an unsupported URL: {url}")
    return target.resolve(resolvers.normalize(url), ctx)


def gallery_images(post: dict) -> list[ResolvedImage]:
    """Walk `gallery_data.items` in order, keeping only `valid` media with a source (`s`)."""
    gallery = post.get("gallery_data")
    if not gallery:
        raise Gone(f"gallery {post.get('id')} deleted (gallery_data is null)")
    metadata = post.get("media_metadata") or {}
    images = []
    for item in gallery.get("items") or []:
        url = media_url(metadata.get(item.get("media_id")))
        if url:
            images.append(ResolvedImage(url=url))
    if not images:
        raise Gone(f"gallery {post.get('id')} has no valid items")
    return images


def media_url(media: dict | None) -> str | None:
    """`s.u`, else `s.gif`, else `s.mp4`; query stripped; preview. -> i. (the extension comes from
    the URL, never from `m`)."""
    if not media or media.get("status") != "valid" or not isinstance(media.get("s"), dict):
        return None
    source = media["s"]
    url = source.get("u") or source.get("gif") or source.get("mp4")
    if not url:
        return None
    url = strip_query(url.replace("&amp;", "&"))
    return reddit_direct.direct_url(url) or url.replace("://preview.redd.it/", "://i.redd.it/")


# --- fetching the post -------------------------------------------------------------------------

def fetch_post(ident: str, ctx: Context) -> Any:
    if ctx.reddit_client_id and ctx.reddit_client_secret:
        return _fetch_oauth(ident, ctx)
    return _fetch_public(ident, ctx)


def _fetch_public(ident: str, ctx: Context) -> Any:
    import requests

    url = f"https://www.reddit.com/comments/{ident}.json"
    try:
        response = ctx.session.get(url, params={"raw_json": 1, "limit": 1}, timeout=ctx.timeout,
                                   allow_redirects=True)
    except requests.RequestException as exc:
        raise Transient(f"post {ident}: {exc.__class__.__name__}") from exc
    if response.status_code == 403 and not _forbidden_for_good(response):
        raise Transient(f"post {ident}: Reddit refused anonymous access (HTTP 403); set REDDIT_CLIENT_ID")
    if response.status_code != 200:
        raise http_error(response.status_code, f"post {ident}",
                         http_failures.retry_after(response))
    try:
        return response.json()
    except ValueError:
        raise Transient(f"post {ident}: Reddit answered with something that is not JSON") from None


def _forbidden_for_good(response: Any) -> bool:
    """A 403 about the post's subreddit (private, quarantined, banned), not a block of our client."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("reason") in PERMANENT_403_REASONS


class _OAuth:
    """One prawcore session per context, used by one thread at a time."""

    def __init__(self, ctx: Context):
        import prawcore

        requestor = prawcore.Requestor(user_agent=ctx.user_agent, session=ctx.session, timeout=ctx.timeout)
        authenticator = prawcore.TrustedAuthenticator(client_id=ctx.reddit_client_id,
                                                      client_secret=ctx.reddit_client_secret,
                                                      requestor=requestor)
        self.session = prawcore.Session(authorizer=prawcore.ReadOnlyAuthorizer(authenticator=authenticator))
        self.lock = threading.Lock()
        self.timeout = ctx.timeout  # Session.request passes its own 16 s default over the requestor's

    def get(self, path: str) -> Any:
        with self.lock:
            return self.session.request(method="GET", path=path, params={"raw_json": 1, "limit": 1},
                                        timeout=self.timeout)


def _fetch_oauth(ident: str, ctx: Context) -> Any:
    import prawcore

    client = ctx.shared("reddit_oauth", lambda: _OAuth(ctx))
    try:
        return client.get(f"/comments/{ident}")
    except (prawcore.NotFound, prawcore.Redirect) as exc:
        raise Gone(f"post {ident}: not found") from exc
    except (prawcore.Forbidden, prawcore.UnavailableForLegalReasons) as exc:
        raise Gone(f"post {ident}: forbidden (private, quarantined or banned)") from exc
    except prawcore.TooManyRequests as exc:
        raise Transient(f"post {ident}: rate limited",
                        http_failures.retry_after(exc.response)) from exc
    except prawcore.BadRequest as exc:
        raise Gone(f"post {ident}: bad request") from exc
    except prawcore.PrawcoreException as exc:
        raise Transient(f"post {ident}: {exc.__class__.__name__}: {exc}") from exc
