"""Coco's background work: re-fingerprint images booru holds at an older fingerprint version.

When the normal queue is empty, Coco claims such images (their own lease kind: the image stays
searchable with its old fingerprints), reads each one's stored thumbnail from booru, or
downloads the file through the safe fetcher where there is none, fingerprints it on the same
pool, and sends the new fingerprints (with a thumbnail when it had to download the file), and the
region dhashes of the thumbnail, stored or new.
"""
from __future__ import annotations

import logging
from concurrent.futures import Future
from typing import TYPE_CHECKING

from common.daemon import Chapter, give_back
from common.fingerprint import FINGERPRINT_VERSION, Fingerprint

if TYPE_CHECKING:
    from coco.worker import Coco

log = logging.getLogger(__name__)


def upgrade_chapter(coco: "Coco", report: Chapter) -> None:
    """One batch of re-fingerprinting."""
    from coco.worker import as_failure, failure_report

    items = coco.client.claim_upgrades(coco.batch, FINGERPRINT_VERSION)
    report.add("upgrade_claimed", len(items))
    if not items:
        return
    loading = {coco.downloads.submit(_source, coco, item): item for item in items}
    encoded: list[tuple[dict, Future]] = []
    failures, untouched = [], []
    for future, item in loading.items():
        if coco.stopping and not future.done():
            future.cancel()
        if future.cancelled():
            untouched.append(item)
            continue
        try:
            data, downloaded = future.result()
            encoded.append((item, coco._encode(data, thumbnail=downloaded)))
        except Exception as exc:  # fetch, decode or booru errors: the image stays at its version
            failures.append(failure_report(item, as_failure(exc)))
    upgrades = []
    for item, job in encoded:
        try:
            upgrades.append(upgrade_payload(item, job.result()))
        except Exception as exc:
            failures.append(failure_report(item, as_failure(exc)))
    if upgrades:
        coco.client.post_upgrades(upgrades)
    if failures:
        coco.client.upgrades_failed(failures)
    give_back(coco.client.release_upgrades, untouched, "upgrades")
    report.add("upgraded", len(upgrades))
    report.add("upgrade_failed", len(failures))


def _source(coco: "Coco", item: dict) -> tuple[bytes, bool]:
    """(bytes to fingerprint, whether they are the downloaded file rather than the thumbnail)."""
    if item.get("thumbnail"):
        data = coco.client.thumbnail(item["id"])
        if data is not None:
            return data, False
    return coco.fetch(item["url"]), True


def upgrade_payload(item: dict, found: Fingerprint) -> dict:
    payload = {"id": item["id"], "lease": item["lease"], "version": FINGERPRINT_VERSION,
               "histogram": found.histogram, "dhash": found.dhash, "regions": found.regions}
    if found.thumbnail is not None:
        payload["thumbnail"] = found.thumbnail.to_payload()
    return payload
