"""The Coco daemon: claim images -> download on threads -> fingerprint on processes -> report.

One chapter: claim a batch; download each distinct URL once (threads, the safe fetcher);
fingerprint each distinct content once (sha256) on a process pool, or inline when
COCO_PROCESSES=1, with a thumbnail from the same decode (THUMBNAIL_SIZE); post the fingerprints
in bulk and report the failures with their reasons. When there is nothing new to fingerprint,
a chapter re-fingerprints images of an older fingerprint version instead (coco.upgrade).
On SIGTERM, downloads not yet started are cancelled and their images are reported nowhere:
their lease expires and another Coco takes them.
"""
from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Callable
from urllib.parse import urlsplit

from common import fetch, http_failures
from common.client import BooruClient, BooruError
from common.config import Settings
from common.daemon import Chapter, Daemon, give_back
from common.fingerprint import Fingerprint, ImageError, fingerprint
from coco.upgrade import upgrade_chapter

log = logging.getLogger(__name__)
REPORT_CHUNK = 500
# Known "this file is gone" answers that come back as 200 with an image.
REMOVED_PLACEHOLDERS = {
    ("imgur.com", "/removed.png"),
}
REMOVED_MD5 = frozenset({"d835884373f4d6c8f24742ceabe74946"})  # imgur's removed.png


class Skipped(Exception):
    """Not attempted because Coco is stopping; the image is left to its lease."""


class Failure(Exception):
    """Why an image could not be fingerprinted; `permanent` unless a retry could help."""

    def __init__(self, reason: str, permanent: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(eq=False)
class Work:
    """One distinct URL of the batch and the claimed images that point at it."""

    url: str
    items: list[dict] = field(default_factory=list)
    result: Fingerprint | None = None
    error: Failure | None = None

    @property
    def done(self) -> bool:
        return self.result is not None or self.error is not None


def group_by_url(items: list[dict]) -> list[Work]:
    """One Work per distinct URL, so the same file is downloaded once per batch."""
    works: dict[str, Work] = {}
    for item in items:
        works.setdefault(item["url"], Work(item["url"])).items.append(item)
    return list(works.values())


def removed_placeholder(url: str, data: bytes) -> bool:
    """True when the answer is a host's "removed" stand-in rather than the image."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    for domain, path in REMOVED_PLACEHOLDERS:
        if (host == domain or host.endswith("." + domain)) and parts.path.lower() == path:
            return True
    return hashlib.md5(data).hexdigest() in REMOVED_MD5


def as_failure(error: BaseException) -> Failure:
    if isinstance(error, Failure):
        return error
    if isinstance(error, fetch.FetchError):
        return Failure(error.reason, error.permanent, error.retry_after)
    if isinstance(error, ImageError):
        return Failure(error.reason, error.permanent)
    if isinstance(error, BrokenProcessPool):
        return Failure("fingerprinting process died (memory?)", permanent=False)
    return Failure(f"unexpected error: {error.__class__.__name__}: {error}",
                   permanent=http_failures.classify(error) == http_failures.PERMANENT)


def _ignore_signals() -> None:
    """Pool processes: leave SIGTERM/SIGINT to the parent, and exit if the parent dies."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def encode(data: bytes, max_pixels: int, thumbnail_size: int = 0, is_thumbnail: bool = False) -> Fingerprint:
    """Fingerprint in a pool process; picklable errors only cross back."""
    return fingerprint(data, max_pixels, thumbnail_size=thumbnail_size, is_thumbnail=is_thumbnail)


class Coco(Daemon):
    name = "coco"

    def __init__(self, client: BooruClient, settings: Settings, *, batch: int | None = None,
                 threads: int | None = None, processes: int | None = None,
                 fetcher: Callable[..., fetch.Fetched] = fetch.fetch):
        super().__init__(settings.chapter_interval)
        self.client = client
        self.settings = settings
        self.batch = batch or settings.coco_batch
        self.threads = max(1, threads or settings.coco_threads)
        self.processes = max(1, processes or settings.coco_processes)
        self.fetcher = fetcher
        self.downloads = ThreadPoolExecutor(self.threads, thread_name_prefix="coco-download")
        # Bodies held in memory at once (downloaded, not yet fingerprinted): bounded, because
        # a batch of large files arriving faster than the pool fingerprints them would pile up.
        self.slots = threading.BoundedSemaphore(self.threads + 2 * self.processes)
        self.pool: Executor | None = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor | None:
        if self.processes <= 1:
            return None
        return ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"), initializer=_ignore_signals)

    def close(self) -> None:
        self.downloads.shutdown(wait=False, cancel_futures=True)
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    # --- one chapter -------------------------------------------------------------------------

    def chapter(self, report: Chapter) -> None:
        items = self.client.claim_images(self.batch)
        report.add("claimed", len(items))
        if not items:
            upgrade_chapter(self, report)
            return
        for key in ("encoded", "failed", "skipped"):
            report.add(key, 0)
        works = group_by_url(items)
        report.add("urls", len(works))
        self.process(works, report)
        self.report(works, report)

    def process(self, works: list[Work], report: Chapter) -> None:
        """Download every Work and fingerprint each distinct content once; stop early on SIGTERM."""
        downloading: dict[Future, Work] = {self.downloads.submit(self.download, w.url): w for w in works}
        encoding: dict[Future, list[Work]] = {}
        by_sha: dict[str, Future] = {}
        while downloading or encoding:
            if self.stopping:
                for future in downloading:
                    future.cancel()  # not started yet: left to the lease
            finished, _ = wait([*downloading, *encoding], timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                if future in downloading:
                    self._downloaded(downloading.pop(future), future, by_sha, encoding, report)
                elif future in encoding:
                    apply_encoding(encoding.pop(future), future)
                    self.slots.release()

    def download(self, url: str) -> bytes:
        """Take a memory slot (released once fingerprinted or failed), then fetch."""
        self.slots.acquire()
        try:
            if self.stopping:
                raise Skipped(url)
            return self.fetch(url)
        except BaseException:
            self.slots.release()
            raise

    def fetch(self, url: str) -> bytes:
        """Fetch with the safe fetcher; a host's "removed" stand-in counts as gone."""
        fetched = self.fetcher(url, max_bytes=self.settings.max_image_bytes, timeout=self.settings.fetch_timeout,
                               deadline=self.settings.fetch_deadline, accept_types=fetch.IMAGE_TYPES)
        if removed_placeholder(fetched.url, fetched.content):
            raise Failure(f"removed: the host answers with its placeholder ({fetched.url})", permanent=True)
        if not fetched.content:
            raise Failure("empty body", permanent=False)
        return fetched.content

    def _downloaded(self, work: Work, future: Future, by_sha: dict[str, Future],
                    encoding: dict[Future, list[Work]], report: Chapter) -> None:
        if future.cancelled() or isinstance(future.exception(), Skipped):
            report.add("skipped", len(work.items))
            return
        error = future.exception()
        if error is not None:
            work.error = as_failure(error)
            return
        data: bytes = future.result()
        report.add("downloaded")
        report.add("bytes", len(data))
        digest = hashlib.sha256(data).hexdigest()
        shared = by_sha.get(digest)
        if shared is not None:
            report.add("same_content")
            self.slots.release()
            if shared in encoding:
                encoding[shared].append(work)
            else:
                apply_encoding([work], shared)
            return
        job = self._encode(data)
        by_sha[digest] = job
        encoding[job] = [work]

    def _encode(self, data: bytes, thumbnail: bool = True) -> Future:
        """A future fingerprint: with a thumbnail (and its region dhashes), or, told not to make
        one, of `data` as a stored thumbnail (its region dhashes its own); on the pool (a new one
        if the old broke), or computed inline."""
        arguments = (data, self.settings.max_image_pixels, self.settings.thumbnail_size if thumbnail else 0,
                     not thumbnail)
        if self.pool is not None:
            try:
                return self.pool.submit(encode, *arguments)
            except BrokenProcessPool:
                log.error("coco: the fingerprinting pool broke (a process died); starting a new one")
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = self._new_pool()
                return self.pool.submit(encode, *arguments)
        inline: Future = Future()
        try:
            inline.set_result(encode(*arguments))
        except Exception as exc:  # handed over like a pool's failure
            inline.set_exception(exc)
        return inline

    # --- reporting ---------------------------------------------------------------------------

    def report(self, works: list[Work], report: Chapter) -> None:
        fingerprints = [w.result.to_payload(id=item["id"], lease=item["lease"])
                        for w in works if w.result is not None for item in w.items]
        failures = [failure_report(item, w.error) for w in works if w.error is not None for item in w.items]
        for w in works:
            if w.error is not None:
                log.info("coco: %s failed (%s): %s", w.url, "permanent" if w.error.permanent else "transient",
                         w.error.reason)
        report.add("encoded", self._send(self.client.post_fingerprints, fingerprints, report))
        report.add("failed", self._send(self.client.images_failed, failures, report))
        give_back(self.client.release_images,
                  [item for w in works if w.result is None and w.error is None for item in w.items], "images")

    def _send(self, send: Callable[[list[dict]], dict], reports: list[dict], report: Chapter) -> int:
        """Send in chunks; leases lost meanwhile (409) are dropped and the rest sent again."""
        sent = 0
        for start in range(0, len(reports), REPORT_CHUNK):
            chunk = reports[start:start + REPORT_CHUNK]
            try:
                send(chunk)
            except BooruError as exc:
                stale = _stale_ids(exc)
                if exc.status != 409 or not stale:
                    raise
                report.add("stale", len({str(r["id"]) for r in chunk} & stale))
                chunk = [r for r in chunk if str(r["id"]) not in stale]
                if chunk:
                    send(chunk)
            sent += len(chunk)
        return sent


def apply_encoding(works: list[Work], future: Future) -> None:
    """Give each Work the fingerprint (or the failure) of its content."""
    error = future.exception()
    for work in works:
        if error is not None:
            work.error = as_failure(error)
        else:
            work.result = future.result()


def failure_report(item: dict, error: Failure) -> dict:
    """`{id, lease, error, permanent}` plus `retry_after` (whole seconds) when the host gave one."""
    body = {"id": item["id"], "lease": item["lease"], "error": error.reason[:2000], "permanent": error.permanent}
    if error.retry_after is not None and not error.permanent:
        body["retry_after"] = int(min(max(error.retry_after, 0), http_failures.MAX_RETRY_AFTER))
    return body


def _stale_ids(error: BooruError) -> set[str]:
    payload = error.payload if isinstance(error.payload, dict) else {}
    errors = payload.get("errors") if isinstance(payload.get("errors"), dict) else {}
    return {str(i) for i in errors.get("stale", [])}
