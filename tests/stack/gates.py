"""Gates: upstream answers held back until the test lets them go, so a daemon can be caught in
the middle of a chapter (its batch claimed, its requests in flight)."""
from __future__ import annotations

import threading
from typing import Any, Callable

from tests.fakenet import FakeInternet, Request, Response, payloads
from tests.stack.world import NEW, Post, World

Handler = Callable[[Request], Any]
HOLD_LIMIT = 45.0  # a gate never holds longer than this, whatever the test does


class Gate:
    """Holds the first `limit` requests through it until `release()` (or HOLD_LIMIT)."""

    def __init__(self, limit: int = 1):
        self.limit = limit
        self.held = 0
        self.lock = threading.Lock()
        self.entered = threading.Event()
        self.released = threading.Event()

    def wrap(self, handler: Handler) -> Handler:
        def held(request: Request) -> Any:
            with self.lock:
                hold = self.held < self.limit
                self.held += hold
            if hold:
                self.entered.set()
                self.released.wait(HOLD_LIMIT)
            return handler(request)
        return held

    def wait_entered(self, timeout: float = 60) -> None:
        assert self.entered.wait(timeout), f"no request reached the gate in {timeout:.0f}s"

    def release(self) -> None:
        self.released.set()


def gate_image(net: FakeInternet, url: str, data: bytes, gate: Gate) -> None:
    """Serve `data` at `url` through the gate (replaces the earlier route)."""
    net.route("GET", url, handler=gate.wrap(lambda _: Response(body=data, content_type="image/jpeg")))


def gate_comments(net: FakeInternet, post: Post, gate: Gate) -> None:
    """A gallery's Reddit JSON (OAuth and public) through the gate."""
    answer = gate.wrap(payloads.reddit_json(payloads.reddit_comments(post)))
    net.route("GET", f"https://oauth.reddit.com/comments/{post['id']}", handler=answer)
    net.route("GET", f"https://www.reddit.com/comments/{post['id']}.json", handler=answer)


def gate_listing_page(world: World, subreddit: str, after: str, gate: Gate, page_size: int) -> None:
    """/r/<sub>/new answered normally, except the page after `after` goes through the gate."""
    def wrap(handler: Handler) -> Handler:
        gated = gate.wrap(handler)
        return lambda request: (gated if request.query.get("after") == after else handler)(request)
    world.publish(subreddit, page_size=page_size, wrap=wrap)


def listing_url(subreddit: str) -> str:
    return NEW.format(subreddit)
