"""Coco's chapter logic against the fake internet and an in-memory booru client."""
from __future__ import annotations

import base64
import dataclasses
import logging
import threading
import time

import pytest

from coco.worker import Coco, removed_placeholder
from common.client import BooruError
from common.config import load_settings
from common.fingerprint import fingerprint
from tests.common.test_fingerprint import png_claiming


class FakeBooru:
    """The calls Coco makes, with leases and 409s like booru's."""

    def __init__(self, urls: list[str]):
        self.queue = [{"id": n, "url": url, "md5": None, "lease": f"lease-{n}"} for n, url in enumerate(urls, 1)]
        self.fingerprints: list[dict] = []
        self.failures: list[dict] = []
        self.stale: set[int] = set()
        self.released: list[dict] = []
        self.calls: list[str] = []

    def claim_images(self, limit: int) -> list[dict]:
        batch, self.queue = self.queue[:limit], self.queue[limit:]
        return batch

    def _check(self, reports: list[dict]) -> None:
        stale = sorted(str(r["id"]) for r in reports if r["id"] in self.stale)
        if stale:
            raise BooruError(409, "these leases are no longer held", {"message": "stale", "errors": {"stale": stale}})

    def post_fingerprints(self, items: list[dict]) -> dict:
        self.calls.append("fingerprints")
        self._check(items)
        self.fingerprints += items
        return {"updated": len(items)}

    def images_failed(self, items: list[dict]) -> dict:
        self.calls.append("failed")
        self._check(items)
        self.failures += items
        return {"updated": len(items)}

    def release_images(self, items: list[dict]) -> dict:
        self.calls.append("release")
        self._check(items)
        self.released += items
        return {"updated": len(items)}

    def claim_upgrades(self, limit: int, version: int) -> list[dict]:
        return []

    def by_id(self) -> dict[int, dict]:
        return {**{f["id"]: f for f in self.fingerprints}, **{f["id"]: f for f in self.failures}}


@pytest.fixture
def settings():
    return dataclasses.replace(load_settings(), chapter_interval=0.1, coco_batch=64, coco_threads=4,
                               coco_processes=1, max_image_bytes=200_000, fetch_timeout=1.0, fetch_deadline=2.0)


def make_coco(settings, urls: list[str], **kw) -> tuple[Coco, FakeBooru]:
    booru = FakeBooru(urls)
    return Coco(booru, settings, **kw), booru


def test_good_images_are_fingerprinted_and_failures_reported_with_reasons(fakenet, settings, caplog):
    jpeg = fakenet.route_image("https://i.redd.it/good.jpg", width=800, height=600, seed=1)
    png = fakenet.route_image("https://i.imgur.com/good.png", fmt="PNG", width=300, height=200, seed=2)
    fakenet.route("GET", "https://i.redd.it/gone.jpg", status=404, body="not found", content_type="text/plain")
    fakenet.route("GET", "https://i.redd.it/deleted.jpg", status=410, body="", content_type="text/plain")
    fakenet.route_image("https://i.redd.it/busy.jpg")
    fakenet.fail("https://i.redd.it/busy.jpg", times=5, status=429, headers={"Retry-After": "30"})
    fakenet.route_image("https://i.redd.it/down.jpg")
    fakenet.fail("https://i.redd.it/down.jpg", times=5, status=503)
    fakenet.route("GET", "https://i.redd.it/page.jpg", body=b"<!DOCTYPE html><html>removed</html>",
                  content_type="image/jpeg")
    fakenet.route("GET", "https://example.com/page.html", body=b"<html></html>", content_type="text/html")
    fakenet.route_image("https://i.imgur.com/removed.png", fmt="PNG", width=161, height=81)
    fakenet.redirect("https://i.imgur.com/vanished.jpg", "https://i.imgur.com/removed.png")
    fakenet.route("GET", "https://i.redd.it/bomb.png", body=png_claiming(100_000, 100_000), content_type="image/png")
    fakenet.route("GET", "https://i.redd.it/huge.jpg", body=b"\xff\xd8\xff" + b"\0" * 300_000, content_type="image/jpeg")
    fakenet.route_image("https://i.redd.it/cut.jpg", width=640, height=480)
    fakenet.truncate("https://i.redd.it/cut.jpg", times=5)
    fakenet.route("GET", "https://i.redd.it/broken.jpg", body=jpeg[: len(jpeg) // 2], content_type="image/jpeg")
    urls = ["https://i.redd.it/good.jpg", "https://i.imgur.com/good.png", "https://i.redd.it/gone.jpg",
            "https://i.redd.it/deleted.jpg", "https://i.redd.it/busy.jpg", "https://i.redd.it/down.jpg",
            "https://i.redd.it/page.jpg", "https://example.com/page.html", "https://i.imgur.com/vanished.jpg",
            "https://i.redd.it/bomb.png", "https://i.redd.it/huge.jpg", "https://i.redd.it/cut.jpg",
            "https://i.redd.it/broken.jpg", "http://169.254.169.254/latest/meta-data/"]
    coco, booru = make_coco(settings, urls)
    with caplog.at_level(logging.INFO):
        chapter = coco.run_once()
    coco.close()

    results = booru.by_id()
    assert sorted(results) == list(range(1, len(urls) + 1))
    assert results[1] == fingerprint(jpeg, thumbnail_size=settings.thumbnail_size).to_payload(id=1, lease="lease-1")
    assert results[2] == fingerprint(png, thumbnail_size=settings.thumbnail_size).to_payload(id=2, lease="lease-2")
    expected = {  # id: (permanent, words in the reason)
        3: (True, "404"), 4: (True, "410"), 5: (False, "429"), 6: (False, "503"),
        7: (True, "not an image"), 8: (True, "content type"), 9: (True, "removed"),
        10: (True, "bomb"), 11: (True, "too large"), 12: (False, ""), 13: (True, "undecodable"),
        14: (True, "not public"),
    }
    for image_id, (permanent, words) in expected.items():
        report = results[image_id]
        assert report["permanent"] is permanent, report
        assert words in report["error"], report
    assert results[5]["retry_after"] == 30
    assert (chapter["claimed"], chapter["encoded"], chapter["failed"]) == (14, 2, 12)
    assert "coco chapter: " in caplog.text and "claimed=14" in caplog.text


def test_same_url_is_downloaded_once_and_same_bytes_fingerprinted_once(fakenet, settings):
    data = fakenet.route_image("https://i.redd.it/repost.jpg", seed=9)
    fakenet.route("GET", "https://i.imgur.com/mirror.jpg", body=data, content_type="image/jpeg")
    urls = ["https://i.redd.it/repost.jpg"] * 3 + ["https://i.imgur.com/mirror.jpg"]
    coco, booru = make_coco(settings, urls)
    chapter = coco.run_once()
    coco.close()
    assert len(fakenet.seen("https://i.redd.it/repost.jpg")) == 1
    assert len(booru.fingerprints) == 4 and not booru.failures
    assert {f["sha256"] for f in booru.fingerprints} == {fingerprint(data).sha256}
    assert chapter["downloaded"] == 2 and chapter["same_content"] == 1


def test_process_pool_gives_the_same_fingerprints(fakenet, settings):
    images = {f"https://i.redd.it/p{n}.png": fakenet.route_image(f"https://i.redd.it/p{n}.png", fmt="PNG",
                                                                  width=200 + n, height=150, seed=n)
              for n in range(4)}
    fakenet.route("GET", "https://i.redd.it/bad.jpg", body=b"\xff\xd8\xff\xe0garbage", content_type="image/jpeg")
    coco, booru = make_coco(settings, [*images, "https://i.redd.it/bad.jpg"], processes=2)
    try:
        coco.run_once()
    finally:
        coco.close()
    assert {f["id"] for f in booru.fingerprints} == {1, 2, 3, 4}
    for n, data in enumerate(images.values(), 1):
        assert booru.by_id()[n]["dhash"] == fingerprint(data).dhash
    assert booru.failures[0]["id"] == 5 and booru.failures[0]["permanent"]


def test_leases_lost_meanwhile_are_dropped_and_the_rest_reported(fakenet, settings):
    for n in range(3):
        fakenet.route_image(f"https://i.redd.it/l{n}.jpg", seed=n)
    coco, booru = make_coco(settings, [f"https://i.redd.it/l{n}.jpg" for n in range(3)])
    booru.stale = {2}
    chapter = coco.run_once()
    coco.close()
    assert sorted(f["id"] for f in booru.fingerprints) == [1, 3]
    assert chapter["stale"] == 1 and chapter["encoded"] == 2


def test_a_trickling_host_fails_transiently_within_the_deadline_and_the_rest_goes_on(fakenet, settings):
    fakenet.route_image("https://i.redd.it/slow.jpg")
    fakenet.hang("https://i.redd.it/slow.jpg", seconds=10, trickle=True)
    fakenet.route_image("https://i.redd.it/fine.jpg")
    settings = dataclasses.replace(settings, max_image_bytes=32 * 1024 * 1024)  # the trickle declares 10 MiB
    coco, booru = make_coco(settings, ["https://i.redd.it/slow.jpg", "https://i.redd.it/fine.jpg"])
    started = time.monotonic()
    coco.run_once()
    coco.close()
    assert time.monotonic() - started < settings.fetch_deadline + 2
    assert [f["id"] for f in booru.fingerprints] == [2]
    assert booru.failures[0]["id"] == 1 and not booru.failures[0]["permanent"]


def test_sigterm_mid_batch_gives_back_the_images_not_started(fakenet, settings):
    fakenet.route_image("https://i.redd.it/first.jpg")
    fakenet.hang("https://i.redd.it/first.jpg", seconds=1.0, trickle=False)
    for n in range(3):
        fakenet.route_image(f"https://i.redd.it/later{n}.jpg", seed=n)
    settings = dataclasses.replace(settings, fetch_deadline=5.0, fetch_timeout=3.0)
    urls = ["https://i.redd.it/first.jpg"] + [f"https://i.redd.it/later{n}.jpg" for n in range(3)]
    coco, booru = make_coco(settings, urls, threads=1)
    threading.Timer(0.3, coco.stop).start()
    chapter = coco.run_once()
    coco.close()
    assert chapter["skipped"] == 3
    reported = set(booru.by_id())
    assert reported <= {1} and not reported & {2, 3, 4}
    assert [(r["id"], r["lease"]) for r in booru.released] == [(n, f"lease-{n}") for n in (2, 3, 4)]


def test_removed_placeholder_detection():
    assert removed_placeholder("https://i.imgur.com/removed.png", b"")
    assert removed_placeholder("https://imgur.com/removed.png", b"")
    assert not removed_placeholder("https://i.imgur.com/abc.png", b"png")
    assert not removed_placeholder("https://example.com/removed.png", b"png")


class UpgradingBooru(FakeBooru):
    """No new images; older-version images to re-fingerprint, some with a stored thumbnail."""

    def __init__(self, upgrades: list[dict], thumbnails: dict[int, bytes]):
        super().__init__([])
        self.upgrade_queue, self.thumbnails = upgrades, thumbnails
        self.upgrades: list[dict] = []
        self.upgrade_failures: list[dict] = []
        self.claimed_versions: list[int] = []

    def claim_upgrades(self, limit: int, version: int) -> list[dict]:
        self.claimed_versions.append(version)
        batch, self.upgrade_queue = self.upgrade_queue[:limit], self.upgrade_queue[limit:]
        return batch

    def thumbnail(self, image_id: int) -> bytes | None:
        return self.thumbnails.get(image_id)

    def post_upgrades(self, items: list[dict]) -> dict:
        self.upgrades += items
        return {"updated": len(items)}

    def upgrades_failed(self, items: list[dict]) -> dict:
        self.upgrade_failures += items
        return {"updated": len(items)}

    def release_upgrades(self, items: list[dict]) -> dict:
        self.released += items
        return {"updated": len(items)}


def test_with_no_new_images_coco_refingerprints_older_ones_from_thumbnails_or_downloads(fakenet, settings):
    from common.fingerprint import FINGERPRINT_VERSION, thumbnail_regions

    original = fakenet.route_image("https://i.redd.it/again.jpg", width=900, height=600, seed=4)
    small = fingerprint(original, thumbnail_size=200).thumbnail.jpeg
    upgrades = [{"id": 1, "url": "https://i.redd.it/kept.jpg", "lease": "u1", "thumbnail": True},
                {"id": 2, "url": "https://i.redd.it/again.jpg", "lease": "u2", "thumbnail": False},
                {"id": 3, "url": "https://i.redd.it/lost.jpg", "lease": "u3", "thumbnail": False}]
    fakenet.route("GET", "https://i.redd.it/lost.jpg", status=404, body="gone", content_type="text/plain")
    booru = UpgradingBooru(upgrades, {1: small})
    coco = Coco(booru, dataclasses.replace(settings, thumbnail_size=200))
    try:
        report = coco.run_once()
    finally:
        coco.close()
    assert booru.claimed_versions == [FINGERPRINT_VERSION] and report["upgraded"] == 2
    by_id = {item["id"]: item for item in booru.upgrades}
    assert by_id[1]["dhash"] == fingerprint(small).dhash and "thumbnail" not in by_id[1]  # from the thumbnail
    assert by_id[2]["dhash"] == fingerprint(original).dhash and by_id[2]["thumbnail"]["width"] == 200
    assert {item["version"] for item in booru.upgrades} == {FINGERPRINT_VERSION}
    # the region dhashes of the thumbnail, stored (1) or made from the download (2)
    assert by_id[1]["regions"] == thumbnail_regions(small)
    assert by_id[2]["regions"] == thumbnail_regions(base64.b64decode(by_id[2]["thumbnail"]["data"]))
    assert [(f["id"], f["permanent"]) for f in booru.upgrade_failures] == [(3, True)]
    assert [r.url for r in fakenet.requests if r.method == "GET"].count("https://i.redd.it/kept.jpg") == 0
