"""One reading of HTTP failures for all three daemons: Retry-After, permanent or transient, backoff;
and the daemons' edges that use it (the booru client, greg's JSON getter, parsa's resolvers)."""
from __future__ import annotations

import http.server
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
import requests

from common import http_failures
from common.client import BooruClient, BooruError, BooruUnavailable
from common.fetch import FetchError
from common.http_failures import PERMANENT, TRANSIENT, Backoff, classify, retry_after


def _http_date(seconds_from_now: float) -> str:
    return format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize("value,expected", [
    ("120", 120.0), (" 7 ", 7.0), ("1.5", 1.5), ("0", 0.0), ("-5", 0.0),
    ("", None), (None, None), ("soon", None), ("nan", None),
    (str(10 ** 12), http_failures.MAX_RETRY_AFTER),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: no wait
])
def test_retry_after_values(value, expected):
    assert retry_after(value) == expected


def test_retry_after_dates_responses_and_headers():
    assert 3590 <= retry_after(_http_date(3600)) <= 3600
    response = requests.Response()
    response.headers["retry-after"] = "42"  # header names are case-insensitive
    assert retry_after(response) == 42.0
    assert retry_after({"Retry-After": "9"}) == 9.0
    assert retry_after({"Content-Type": "text/plain"}) is None


@pytest.mark.parametrize("status,kind", [
    (500, TRANSIENT), (502, TRANSIENT), (503, TRANSIENT), (429, TRANSIENT), (408, TRANSIENT), (425, TRANSIENT),
    (400, PERMANENT), (401, PERMANENT), (403, PERMANENT), (404, PERMANENT), (410, PERMANENT), (451, PERMANENT),
])
def test_classify_statuses(status, kind):
    assert classify(status) == kind


def test_classify_exceptions():
    assert classify(requests.ConnectionError("refused")) == TRANSIENT
    assert classify(requests.Timeout("slow")) == TRANSIENT
    assert classify(TimeoutError()) == TRANSIENT
    assert classify(FetchError("address 10.0.0.1 is not public", permanent=True)) == PERMANENT
    assert classify(FetchError("timed out", permanent=False)) == TRANSIENT
    gone = requests.Response()
    gone.status_code = 404
    assert classify(requests.HTTPError(response=gone)) == PERMANENT
    gone.status_code = 503
    assert classify(requests.HTTPError(response=gone)) == TRANSIENT


def test_backoff_doubles_up_to_its_cap_and_a_retry_after_wins():
    backoff = Backoff(base=2.0, cap=10.0)
    assert [backoff.delay(n) for n in range(5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert [backoff.fail("a") for _ in range(5)] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert not backoff.ready("a") and backoff.ready("b")  # one key's trouble holds back no other
    assert backoff.fail("b", retry_after=0.0) == 0.0 and backoff.ready("b")
    backoff.ok("a")
    assert backoff.ready("a") and backoff.fail("a") == 2.0


class _Answer(http.server.BaseHTTPRequestHandler):
    status, headers = 200, {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = b'{"message": "slow down"}'
        self.send_response(self.status)
        for name, value in {"Content-Type": "application/json", **self.headers_to_send}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def answering():
    """A local server answering every GET with the status and headers given."""
    servers = []

    def serve(status: int, headers: dict[str, str]) -> str:
        handler = type("Handler", (_Answer,), {"status": status, "headers_to_send": headers})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/api"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_booru_client_treats_a_429_as_come_back_later(answering):
    client = BooruClient(answering(429, {"Retry-After": "7"}), "key", report_patience=0)
    with pytest.raises(BooruUnavailable) as caught:
        client.get("/stats")
    assert caught.value.retry_after == 7.0
    with pytest.raises(BooruError):
        BooruClient(answering(404, {}), "key").get("/stats")


def test_greg_honours_retry_after_on_a_503(fakenet):
    from greg.sources.base import JsonGetter

    url = "https://arctic-shift.photon-reddit.com/api/posts/search"
    fakenet.route("GET", url, json={"data": []})
    fakenet.fail(url, times=1, status=503, headers={"Retry-After": "2"})
    getter = JsonGetter("arctic_shift", threading.Event())
    started = time.monotonic()
    assert getter.get(url) == {"data": []}
    assert time.monotonic() - started >= 2.0  # not the 1 s its own backoff would have waited


def test_parsa_reads_a_retry_after_date(fakenet):
    from parsa.resolvers import Context, Transient, resolve
    from tests.fakenet import payloads

    api = "https://api.imgur.com/3/image/DaTeDaT"
    fakenet.route("GET", api, status=429, json=payloads.load_json("imgur/error_rate_limited.json"),
                  headers={"Retry-After": _http_date(7200)})
    with pytest.raises(Transient) as caught:
        resolve("https://imgur.com/DaTeDaT", Context(imgur_client_id="lzb-test-client", sleep=lambda s: None))
    assert 7100 <= caught.value.retry_after <= 7200
