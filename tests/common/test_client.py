"""The booru client: finished work is sent again while booru is away, not thrown away."""
from __future__ import annotations

import threading
import time

import pytest

from common.client import BooruClient, BooruUnavailable
from tests.booru.helpers import add_subreddit, submission
from tests.support import free_port


def test_a_report_waits_for_booru_to_come_back(app, live_booru):
    add_subreddit(app)
    live_booru.admin.post_submissions([submission("r1")])
    claimed = live_booru.client.claim_links(5)
    assert [item["id"] for item in claimed] == ["r1"]
    live_booru.process.stop()
    restart = threading.Timer(2.0, live_booru.start_again)
    restart.start()
    began = time.monotonic()
    result = live_booru.client.links_done([{"id": "r1", "lease": claimed[0]["lease"]}])
    restart.join()
    assert result == {"updated": 1}
    assert time.monotonic() - began >= 2.0
    links = live_booru.admin.get("/link", state="done")["items"]
    assert [link["id"] for link in links] == ["r1"]


def test_a_report_gives_up_after_its_patience():
    client = BooruClient(f"http://127.0.0.1:{free_port()}/api", "lzb_key", timeout=2, report_patience=2)
    began = time.monotonic()
    with pytest.raises(BooruUnavailable):
        client.links_done([{"id": "x1", "lease": "00000000-0000-0000-0000-000000000000"}])
    assert 1.0 <= time.monotonic() - began < 10
