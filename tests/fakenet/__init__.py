"""A fake internet for the test suite: a TLS-terminating loopback proxy answering from fixtures.

    net = FakeInternet().start()
    net.route("GET", "https://oauth.reddit.com/r/pics/new", json=payloads.reddit_listing([...]))
    os.environ.update(net.env())   # requests / PRAW / PMAW now reach only the fake

Nothing here ever opens an outbound connection: unknown URLs get a loud 502.
"""
from .core import FakeInternet
from .model import Request, Response

__all__ = ["FakeInternet", "Request", "Response"]
