"""End to end: two subreddits' mixed histories through greg, parsa and coco under supervisord,
then the archive and a reverse search checked through booru's API."""
from __future__ import annotations

import time

import pytest

from tests.fakenet import FakeInternet
from tests.stack.checks import all_submissions_present, assert_archive, register
from tests.stack.stack import Stack
from tests.stack.world import World, mixed_history, transformed_copy
from tests.support import wait_until

pytestmark = pytest.mark.slow
FIRST, SECOND = "lzbstack_pics", "lzbstack_art"


def test_mixed_history_drains_into_the_archive(live: Stack, net: FakeInternet):
    world = World(net, "lzp")
    mixed_history(world, FIRST, SECOND)
    for name in (FIRST, SECOND):
        world.route_about(name)
        world.publish(name)
    began = time.monotonic()
    register(live, FIRST, SECOND)
    expected = world.expected
    assert (len(expected.images), len(expected.dead), len(expected.unsupported)) == (18, 3, 2)
    wait_until(lambda: all_submissions_present(live, expected), timeout=60, interval=0.5,
               message="greg posting both histories")
    live.wait_drained(120)
    print(f"pipeline drained in {time.monotonic() - began:.1f}s")
    assert_archive(live, expected)

    # a repost: a generic link's image, halved and re-encoded, found by URL with its post
    (sid, url), original = next((key, data) for key, data in expected.images.items()
                                if "images.example.org" in key[1] and expected.submissions[key[0]] == FIRST)
    net.route("GET", "https://copies.example.net/lzp/repost.jpg", body=transformed_copy(original),
              content_type="image/jpeg")
    answer = live.request("POST", "/similarity/url", json={"url": "https://copies.example.net/lzp/repost.jpg",
                                                           "q": 3})
    assert answer.status_code == 200, answer.text
    hits = answer.json()["hits"]
    assert hits and hits[0]["url"] == url and hits[0]["post"] == f"https://redd.it/{sid}", hits
    assert hits[0]["subreddit"] == FIRST and hits[0]["score"] > 80, hits[0]
    assert not [r for r in net.unmatched if "lzp" in r.url], net.unmatched
