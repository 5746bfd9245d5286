"""The booru HTTP client every daemon uses: JSON over HTTP with the X-API-Key header.

Payload shapes (all datetimes are ISO 8601 UTC strings):

* submission: {id, title, author, subreddit, created, flair, nsfw, removed, crosspost_parent,
  links: [{url, type?}]}   (type: reddit | imgur | booru | generic | null = unsupported;
  left out: booru classifies the URL)
* claimed link: {id, url, type, tries, lease}
* image to post: {submission_id, url, md5?, source_url?, posted?, tags?: ["ns:name" | "name"]}
* claimed image: {id, url, md5, lease}
* fingerprint: {id, lease, sha256, md5, width, height, bytes, mime,
  histogram: {red: [4 ints], green: [...], blue: [...]}, dhash: {red: hex16, green: hex16, blue: hex16},
  version, thumbnail: {width, height, data: base64 JPEG} | null, regions: [8 × hex48] | null}
* claimed upgrade: {id, url, lease, thumbnail: bool}
* upgrade: {id, lease, version, histogram, dhash, thumbnail?, regions}
* failure report: {id, lease, error, permanent}
"""
from __future__ import annotations

import logging
import time
from typing import Any

import requests

from common import http_failures

log = logging.getLogger(__name__)


class BooruError(Exception):
    """booru refused a request (4xx): retrying the same request will not help."""

    def __init__(self, status: int, message: str, payload: Any = None):
        super().__init__(f"booru answered {status}: {message}")
        self.status = status
        self.message = message
        self.payload = payload


class BooruUnavailable(Exception):
    """booru or its database is away (connection refused, timeout, 5xx) or asks us to slow down
    (429): try again later, after `retry_after` seconds when booru said so."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class BooruClient:
    def __init__(self, url: str, api_key: str, timeout: float = 30.0, report_patience: float = 60.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.report_patience = report_patience
        self.session = requests.Session()
        self.session.headers.update({"X-API-Key": api_key, "User-Agent": "lzbooru-daemon/1.0"})
        # booru is reached directly even when HTTPS_PROXY is set for the outside world.
        self.session.trust_env = False

    def request(self, method: str, path: str, timeout: float | None = None, **kwargs: Any) -> Any:
        try:
            response = self.session.request(method, self.url + path, timeout=timeout or self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise BooruUnavailable(f"booru at {self.url} unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 400 and http_failures.classify(response.status_code) == http_failures.TRANSIENT:
            raise BooruUnavailable(f"booru answered {response.status_code}: {_message(response)}",
                                   http_failures.retry_after(response))
        if response.status_code >= 400:
            raise BooruError(response.status_code, _message(response), _json(response))
        return _json(response)

    def report(self, method: str, path: str, body: Any) -> Any:
        """Send finished work, retrying while booru is away for up to `report_patience` seconds:
        the worker still holds its leases, and dropping the results would mean doing it again."""
        deadline = time.monotonic() + self.report_patience
        backoff = http_failures.Backoff(base=1.0, cap=15.0)
        while True:
            try:
                return self.request(method, path, json=body)
            except BooruUnavailable as exc:
                wait = backoff.fail(retry_after=exc.retry_after)
                if time.monotonic() + wait > deadline:
                    raise
                log.warning("%s; sending the results again in %.0fs", exc, wait)
                time.sleep(wait)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def delete(self, path: str, body: Any) -> Any:
        return self.request("DELETE", path, json=body)

    # subreddits and submissions (greg)
    def subreddits(self) -> list[dict]:
        return self.get("/subreddit")["items"]

    def update_subreddit(self, name: str, **fields: Any) -> dict:
        """Move a subreddit's `updated` / `backfilled_until` / `last_polled` forward."""
        return self.put(f"/subreddit/{name}", fields)

    def post_submissions(self, submissions: list[dict]) -> dict:
        return self.post("/submission", {"submissions": submissions})

    # links (parsa)
    def claim_links(self, limit: int, link_type: str | None = None) -> list[dict]:
        body = {"limit": limit} if link_type is None else {"limit": limit, "type": link_type}
        return self.post("/link/claim", body)["items"]

    def links_done(self, reports: list[dict]) -> dict:
        """reports: [{id, lease}]"""
        return self.report("DELETE", "/link", {"items": reports})

    def links_failed(self, reports: list[dict]) -> dict:
        """reports: [{id, lease, error, permanent}]"""
        return self.report("PUT", "/link", {"items": reports})

    def release_links(self, leased: list[dict]) -> dict:
        """Give back links not begun (stopping): [{id, lease}]"""
        return self.post("/link/release", {"items": leased})

    def post_images(self, images: list[dict]) -> dict:
        return self.report("POST", "/image", {"images": images})

    # images (coco)
    def claim_images(self, limit: int) -> list[dict]:
        return self.post("/image/claim", {"limit": limit})["items"]

    def release_images(self, leased: list[dict]) -> dict:
        """Give back images not begun (stopping): [{id, lease}]"""
        return self.post("/image/release", {"items": leased})

    def post_fingerprints(self, fingerprints: list[dict]) -> dict:
        return self.report("POST", "/image/fingerprints", {"items": fingerprints})

    def images_failed(self, reports: list[dict]) -> dict:
        """reports: [{id, lease, error, permanent}]"""
        return self.report("PUT", "/image", {"items": reports})

    # re-fingerprinting images of an older fingerprint version (coco)
    def claim_upgrades(self, limit: int, version: int) -> list[dict]:
        return self.post("/image/upgrade/claim", {"limit": limit, "version": version})["items"]

    def thumbnail(self, image_id: int) -> bytes | None:
        """The image's stored thumbnail (JPEG), None if it has none."""
        try:
            response = self.session.get(f"{self.url}/image/{image_id}/thumbnail", timeout=self.timeout)
        except requests.RequestException as exc:
            raise BooruUnavailable(f"booru at {self.url} unreachable: {exc.__class__.__name__}") from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 500:
            raise BooruUnavailable(f"booru answered {response.status_code}: {_message(response)}")
        if response.status_code >= 400:
            raise BooruError(response.status_code, _message(response), _json(response))
        return response.content

    def post_upgrades(self, upgrades: list[dict]) -> dict:
        return self.report("POST", "/image/upgrade", {"items": upgrades})

    def upgrades_failed(self, reports: list[dict]) -> dict:
        """reports: [{id, lease, error, permanent}]"""
        return self.report("PUT", "/image/upgrade", {"items": reports})

    def release_upgrades(self, leased: list[dict]) -> dict:
        return self.post("/image/upgrade/release", {"items": leased})

    # every daemon
    def report_chapter(self, daemon: str, counts: dict[str, int], elapsed: float) -> None:
        """Count a finished chapter in booru's /metrics (quickly: it is only metrics)."""
        self.request("POST", "/chapter", timeout=min(self.timeout, 5.0),
                     json={"daemon": daemon, "counts": counts, "elapsed": round(elapsed, 3)})


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _message(response: requests.Response) -> str:
    body = _json(response)
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return response.reason or "no message"
