"""Regression (found by the stack's storm test): parsa's Reddit OAuth fetch of a gallery must give
up after FETCH_TIMEOUT, not prawcore's default 16 s per attempt, or one stalled answer holds a
whole parsa chapter for half a minute."""
from __future__ import annotations

import time

import pytest

from parsa.resolvers import Context, Transient, resolve
from tests.fakenet import FakeInternet, payloads

OAUTH = "https://oauth.reddit.com/comments/{}"
pytestmark = pytest.mark.slow


@pytest.fixture
def proxied(net: FakeInternet, monkeypatch: pytest.MonkeyPatch) -> FakeInternet:
    """The fake internet in os.environ, not reset (the package's stack keeps using its routes)."""
    for name, value in net.env().items():
        monkeypatch.setenv(name, value)
    return net


def test_a_stalled_oauth_answer_gives_up_after_fetch_timeout(proxied: FakeInternet):
    fakenet = proxied
    post = payloads.reddit_post("lzto001", "lzbooru", None, 1700000000, is_gallery=True)
    fakenet.route("GET", OAUTH.format("lzto001"), handler=payloads.reddit_json(payloads.reddit_comments(post)))
    fakenet.hang(OAUTH.format("lzto001"), times=3, seconds=20, trickle=False)
    ctx = Context(reddit_client_id="lzb-id", reddit_client_secret="lzb-secret", timeout=1.0, deadline=5.0)
    began = time.monotonic()
    with pytest.raises(Transient):
        resolve("https://redd.it/lzto001", ctx)
    assert time.monotonic() - began < 15, "the read timeout was not FETCH_TIMEOUT (16 s a try before the fix)"
