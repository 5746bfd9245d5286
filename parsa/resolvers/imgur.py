"""Imgur: direct files, single images, albums, gallery posts, tag pages and title slugs (API v3).

API calls carry `Authorization: Client-ID <IMGUR_CLIENT_ID>` and are paced by the answers'
`X-RateLimit-*` headers (and a 429's `Retry-After`) instead of a fixed sleep.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import requests

from common import http_failures, links
from parsa.resolvers.base import (Context, Gone, ResolvedImage, ResolveError, Transient,
                                  Unsupported, http_error)

API = "https://api.imgur.com/3"
LINKS = links.BY_NAME["imgur"]  # shared with the classifier
type, pattern, examples = LINKS.type, LINKS.regex, list(LINKS.examples)
THUMBNAIL_SUFFIXES = "sbtmlh"
MAX_ATTEMPTS = 3
CLIENT_QUOTA_PAUSE = 3600.0


def resolve(url: str, ctx: Context) -> list[ResolvedImage]:
    match = pattern.match(url)
    if not match:
        raise Unsupported(f"not an Imgur URL: {url}")
    if match.group("file"):
        return _direct(strip_thumbnail(match.group("file")), match.group("ext").lower(), ctx)
    if match.group("album"):
        return _album(match.group("album"), ctx)
    if match.group("gallery"):
        return _gallery(match.group("gallery"), ctx)
    return _image_page(match.group("image"), ctx)


def strip_thumbnail(name: str) -> str:
    """`zVpyzhWh` -> `zVpyzhW`: a 7- or 5-character id with one thumbnail-size letter appended."""
    if len(name) in (6, 8) and name[-1] in THUMBNAIL_SUFFIXES:
        return name[:-1]
    return name


def _direct(ident: str, ext: str, ctx: Context) -> list[ResolvedImage]:
    if ext == "gifv":
        if ctx.imgur_client_id:
            return images_of(api_get(f"/image/{ident}", ctx), f"image {ident}")
        return [ResolvedImage(url=f"https://i.imgur.com/{ident}.mp4")]
    url = f"https://i.imgur.com/{ident}.{'jpg' if ext == 'jpeg' else ext}"
    check_file(url, ctx)
    return [ResolvedImage(url=url)]


def _image_page(ident: str, ctx: Context) -> list[ResolvedImage]:
    if not ctx.imgur_client_id:
        url = f"https://i.imgur.com/{ident}.jpg"  # Imgur serves the original whatever the extension
        check_file(url, ctx)
        return [ResolvedImage(url=url)]
    return images_of(api_get(f"/image/{ident}", ctx), f"image {ident}")


def _album(ident: str, ctx: Context) -> list[ResolvedImage]:
    _need_api(ctx, f"album {ident}")
    data = api_get(f"/album/{ident}", ctx)
    if isinstance(data, dict) and "images" not in data:
        data = {"images": api_get(f"/album/{ident}/images", ctx)}
    return images_of(data, f"album {ident}")


def _gallery(ident: str, ctx: Context) -> list[ResolvedImage]:
    """A gallery post is an album or an image; a plain album may also sit behind /gallery/."""
    _need_api(ctx, f"gallery {ident}")
    last: Gone | None = None
    for path in (f"/gallery/album/{ident}", f"/gallery/image/{ident}", f"/album/{ident}"):
        try:
            return images_of(api_get(path, ctx), f"gallery {ident}")
        except Gone as exc:
            last = exc
    raise last or Gone(f"gallery {ident}: not found")


def _need_api(ctx: Context, what: str) -> None:
    if not ctx.imgur_client_id:
        raise Transient(f"{what}: IMGUR_CLIENT_ID is not configured")


# --- API answers -> images ----------------------------------------------------------------------

def images_of(data: Any, what: str) -> list[ResolvedImage]:
    """An image object, an album object (`images`) or a list of images -> direct files."""
    if isinstance(data, list):
        items = data
    elif isinstance(data, dict) and isinstance(data.get("images"), list):
        items = data["images"]
    elif isinstance(data, dict):
        items = [data]
    else:
        raise Gone(f"{what}: unexpected answer")
    images = [image for image in map(image_of, items) if image is not None]
    if not images:
        raise Gone(f"{what}: no images")
    return images


def image_of(item: dict) -> ResolvedImage | None:
    link = file_url(item)
    if not link:
        return None
    posted = None
    if isinstance(item.get("datetime"), (int, float)):
        posted = datetime.fromtimestamp(item["datetime"], timezone.utc)
    return ResolvedImage(url=link, posted=posted)


def file_url(item: dict) -> str | None:
    """The full-size file: `link` with the thumbnail letter dropped; a GIF stays a GIF (Coco can
    fingerprint it), anything else animated becomes its mp4."""
    link = str(item.get("link") or "")
    match = pattern.match(link.replace("http://", "https://", 1))
    if not match or not match.group("file"):
        return None
    ident, ext = strip_thumbnail(match.group("file")), match.group("ext").lower()
    if ext == "gifv" or (item.get("animated") and ext not in ("gif", "mp4")):
        ext = "gif" if item.get("type") == "image/gif" else "mp4"
    return f"https://i.imgur.com/{ident}.{ext}"


# --- HTTP ----------------------------------------------------------------------------------------

def check_file(url: str, ctx: Context) -> None:
    """HEAD a direct file without following redirects: `removed.png` or 404 means gone."""
    try:
        response = ctx.session.head(url, allow_redirects=False, timeout=ctx.timeout)
    except requests.RequestException as exc:
        raise Transient(f"{url}: {exc.__class__.__name__}") from exc
    location = response.headers.get("Location", "")
    if response.is_redirect and "removed" in urlsplit(location).path:
        raise Gone(f"{url}: removed from Imgur")
    if response.status_code in (404, 410) or response.status_code == 429 or response.status_code >= 500:
        raise http_error(response.status_code, url, http_failures.retry_after(response))


class RateLimiter:
    """Imgur's quotas as last reported; waits (up to `max_wait`) instead of hammering."""

    def __init__(self, ctx: Context):
        self.clock, self.sleep, self.max_wait = ctx.clock, ctx.sleep, ctx.max_wait
        self.lock = threading.Lock()
        self.user_remaining: int | None = None
        self.client_remaining: int | None = None
        self.user_reset: float | None = None
        self.client_retry_at: float | None = None  # the daily client quota is spent until then

    def update(self, headers: Any) -> None:
        with self.lock:
            self.user_remaining = _int(headers.get("X-RateLimit-UserRemaining"), self.user_remaining)
            self.client_remaining = _int(headers.get("X-RateLimit-ClientRemaining"), self.client_remaining)
            reset = _int(headers.get("X-RateLimit-UserReset"), None)
            if reset is not None:
                self.user_reset = float(reset)
            if self.client_remaining is not None and self.client_remaining <= 0:
                self.client_retry_at = self.clock() + CLIENT_QUOTA_PAUSE  # Imgur sends no reset time
                self.client_remaining = None

    def wait_for_quota(self) -> None:
        with self.lock:
            now = self.clock()
            if self.client_retry_at is not None and now < self.client_retry_at:
                raise Transient("Imgur daily client quota spent", retry_after=self.client_retry_at - now)
            delay = 0.0
            if self.user_remaining is not None and self.user_remaining <= 0 and self.user_reset:
                delay = self.user_reset - self.clock()
        self.pause(delay, "Imgur user quota spent")

    def after_429(self, headers: Any, attempt: int) -> None:
        self.update(headers)
        delay = http_failures.retry_after(headers)
        if delay is None and self.user_reset:
            delay = self.user_reset - self.clock()
        self.pause(delay if delay is not None else 2.0 ** attempt, "Imgur rate limit (429)")
        with self.lock:
            self.user_remaining = None  # the wait is over: ask again

    def pause(self, delay: float, why: str) -> None:
        if delay <= 0:
            return
        if delay > self.max_wait:
            raise Transient(f"{why}; retry in {delay:.0f}s", retry_after=delay)
        self.sleep(delay)


def _int(value: Any, default: int | None) -> int | None:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return default


def api_get(path: str, ctx: Context) -> Any:
    """GET an API v3 path and return its `data`, mapping failures to Gone / Transient."""
    limiter: RateLimiter = ctx.shared("imgur_limiter", lambda: RateLimiter(ctx))
    headers = {"Authorization": f"Client-ID {ctx.imgur_client_id}"}
    for attempt in range(MAX_ATTEMPTS):
        limiter.wait_for_quota()
        try:
            response = ctx.session.get(API + path, headers=headers, timeout=ctx.timeout)
        except requests.RequestException as exc:
            raise Transient(f"Imgur {path}: {exc.__class__.__name__}") from exc
        limiter.update(response.headers)
        if response.status_code == 429 and attempt + 1 < MAX_ATTEMPTS:
            limiter.after_429(response.headers, attempt)
            continue
        return _data(response, path)
    raise Transient(f"Imgur {path}: still rate limited")  # pragma: no cover - loop always returns


def _data(response: requests.Response, path: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):  # an HTML page: a 404 page means gone, anything else is a hiccup
        if response.status_code in (404, 410):
            raise Gone(f"Imgur {path}: HTTP {response.status_code}")
        raise Transient(f"Imgur {path}: HTTP {response.status_code}, not JSON")
    status = response.status_code
    if status == 200 and body.get("success") is False:
        status = _int(body.get("status"), 500) or 500
    if status != 200:
        raise _api_error(status, path, body, response.headers)
    return body.get("data")


def _api_error(status: int, path: str, body: dict, headers: Any) -> ResolveError:
    message = body.get("data", {}).get("error") if isinstance(body.get("data"), dict) else None
    if isinstance(message, dict):
        message = message.get("message")
    what = f"Imgur {path}" + (f" ({message})" if message else "")
    if status in (401, 403):
        return Transient(f"{what}: HTTP {status}, check IMGUR_CLIENT_ID")
    return http_error(status, what, http_failures.retry_after(headers))


