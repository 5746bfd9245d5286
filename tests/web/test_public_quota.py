"""Public mode under quota, over HTTP against booru under gunicorn: anonymous clients share no
budget but their own address's (429 + Retry-After once QUOTA_PUBLIC is spent, on the API and on
the pages alike), and a keyed reader is not affected by it."""
from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from booru import auth

PUBLIC_REQUESTS = 8


@pytest.fixture
def public_booru(live_booru):
    live_booru.process.stop()
    live_booru.env.update(PUBLIC_ACCESS="1", QUOTA_PUBLIC=f"{PUBLIC_REQUESTS},2", QUOTA_READER="600,60")
    live_booru.start_again()
    return live_booru


def get(live_booru, path: str, address: str, headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET `path` over a new connection from loopback `address` (the client address booru sees)."""
    where = urlsplit(live_booru.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=10, source_address=(address, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def test_anonymous_clients_are_limited_per_address_and_keyed_readers_are_not(public_booru, app):
    with app.app_context():
        key = auth.create_key("reader", "reader under public mode")[1]
    first = [get(public_booru, "/api/stats", "127.0.0.1") for _ in range(PUBLIC_REQUESTS + 2)]
    assert [status for status, _, _ in first] == [200] * PUBLIC_REQUESTS + [429, 429]
    status, headers, body = first[-1]
    assert 1 <= int(headers.get("Retry-After", 0)) <= 60 / PUBLIC_REQUESTS + 1
    assert "public quota" in json.loads(body)["message"]
    # the pages are charged to the same address, and say so with Retry-After too
    status, headers, body = get(public_booru, "/browse", "127.0.0.1")
    assert status == 429 and headers.get("Retry-After") and b"quota" in body and b"<html" in body.lower()
    # another address has its own budget; a reader's key from the spent address is not limited
    assert get(public_booru, "/api/stats", "127.0.0.2")[0] == 200
    assert get(public_booru, "/browse", "127.0.0.2")[0] == 200
    keyed = [get(public_booru, "/api/stats", "127.0.0.1", {auth.HEADER: key})[0] for _ in range(PUBLIC_REQUESTS + 2)]
    assert keyed == [200] * (PUBLIC_REQUESTS + 2)
    assert get(public_booru, "/api/stats", "127.0.0.1")[0] == 429  # still spent for the anonymous
