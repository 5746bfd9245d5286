"""Coco as real processes against a live booru (gunicorn + PostgreSQL) and the fake internet."""
from __future__ import annotations

from collections import Counter

import pytest

from common.fingerprint import fingerprint
from tests.support import wait_until

pytestmark = pytest.mark.slow
SUBREDDIT = "lzbooru_coco"


@pytest.fixture
def short_leases(monkeypatch):
    """Leases of a few seconds, so a killed Coco's images come back within the test.
    Requested before `live_booru`, whose environment copies os.environ."""
    monkeypatch.setenv("LEASE_SECONDS", "4")


def seed_images(net, client, admin, images: dict[str, str]) -> None:
    """One submission per image: images maps submission id -> image URL."""
    net.route("GET", f"https://www.reddit.com/r/{SUBREDDIT}/about.json",
              json={"kind": "t5", "data": {"display_name": SUBREDDIT, "created_utc": 1700000000.0}})
    admin.post("/subreddit", {"name": SUBREDDIT})
    client.post_submissions([
        {"id": ident, "title": f"post {ident}", "author": "lzb_poster", "subreddit": SUBREDDIT,
         "created": "2026-04-13T12:00:00+00:00", "flair": None, "nsfw": False, "removed": None,
         "crosspost_parent": None, "links": [{"url": url, "type": "generic"}]}
        for ident, url in images.items()])
    client.post_images([{"submission_id": ident, "url": url} for ident, url in images.items()])


def images_in(client, state: str) -> list[dict]:
    return client.get("/image", state=state, limit=1000)["items"]


def settled(client) -> bool:
    return not images_in(client, "pending") and not images_in(client, "claimed")


def test_two_cocos_fingerprint_every_image_exactly_once(fakenet, live_booru, run_daemon):
    images, data = {}, {}
    for n in range(24):
        url = f"https://i.redd.it/lzcoco{n:02d}.{'png' if n % 3 == 0 else 'jpg'}"
        data[url] = fakenet.route_image(url, fmt="PNG" if n % 3 == 0 else "JPEG", width=320 + n, height=240, seed=n)
        images[f"lzc{n:03d}"] = url
    fakenet.route("GET", "https://i.redd.it/lzgone.jpg", status=404, body="gone", content_type="text/plain")
    fakenet.route_image("https://i.imgur.com/removed.png", fmt="PNG", width=161, height=81)
    fakenet.redirect("https://i.imgur.com/lzvanished.jpg", "https://i.imgur.com/removed.png")
    images.update({"lzcx01": "https://i.redd.it/lzgone.jpg", "lzcx02": "https://i.imgur.com/lzvanished.jpg"})
    seed_images(fakenet, live_booru.client, live_booru.admin, images)

    first = run_daemon("coco", env={"COCO_BATCH": "4", "COCO_THREADS": "3", "COCO_PROCESSES": "2"})
    second = run_daemon("coco", env={"COCO_BATCH": "3", "COCO_THREADS": "2", "COCO_PROCESSES": "1"})
    try:
        wait_until(lambda: settled(live_booru.admin), timeout=90, interval=0.5, message="every image settled")
    finally:
        codes = [first.stop(), second.stop()]
    assert codes == [0, 0], first.output()[-3000:] + second.output()[-3000:]

    encoded = {image["url"]: image for image in images_in(live_booru.admin, "encoded")}
    failed = {image["url"]: image for image in images_in(live_booru.admin, "failed")}
    assert set(encoded) == set(data)
    for url, body in data.items():
        expected = fingerprint(body)
        assert (encoded[url]["sha256"], encoded[url]["width"], encoded[url]["mime"]) == \
            (expected.sha256, expected.width, expected.mime)
    assert "404" in failed["https://i.redd.it/lzgone.jpg"]["last_error"]
    assert "removed" in failed["https://i.imgur.com/lzvanished.jpg"]["last_error"]

    asked = Counter(r.url for r in fakenet.requests if r.method == "GET")
    assert all(asked[url] == 1 for url in data), asked  # each image downloaded by one Coco, once
    for process in (first, second):
        assert "coco chapter: " in process.output()


def test_a_coco_killed_mid_chapter_loses_nothing(short_leases, fakenet, live_booru, run_daemon):
    images = {}
    for n in range(10):
        url = f"https://i.redd.it/lzkill{n:02d}.jpg"
        fakenet.route_image(url, seed=100 + n, width=200, height=150)
        if n < 4:  # the first Coco's four download threads get stuck on these
            fakenet.hang(url, times=1, seconds=8, trickle=False)
        images[f"lzk{n:03d}"] = url
    seed_images(fakenet, live_booru.client, live_booru.admin, images)

    doomed = run_daemon("coco", env={"COCO_BATCH": "10", "COCO_THREADS": "4", "COCO_PROCESSES": "1"})
    wait_until(lambda: len([r for r in fakenet.requests if "lzkill" in r.url]) >= 4, timeout=30,
               message="the first Coco downloading")
    doomed.kill()
    doomed.popen.wait(10)
    assert len(images_in(live_booru.admin, "claimed")) == 10  # leased, not lost, not failed

    survivor = run_daemon("coco", env={"COCO_BATCH": "10", "COCO_PROCESSES": "1"})
    try:
        wait_until(lambda: settled(live_booru.admin), timeout=60, interval=0.5, message="leases returned and done")
    finally:
        assert survivor.stop() == 0, survivor.output()[-3000:]
    assert len(images_in(live_booru.admin, "encoded")) == 10
    assert not images_in(live_booru.admin, "failed")
