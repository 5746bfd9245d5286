"""booru.serving.BufferedWsgi: the app runs only once the whole body is in; a stalled or oversized
body is answered by the event loop (408, 413) without the app or a thread."""
from __future__ import annotations

import asyncio
import json

from booru.serving import BufferedWsgi


def _app(calls: list):
    def app(environ, start_response):
        calls.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return app


def _run(buffered: BufferedWsgi, messages: list[dict], headers: list | None = None) -> tuple[int, bytes]:
    """Serve one request whose body arrives as `messages` (then nothing more, ever)."""
    async def serve() -> tuple[int, bytes]:
        queue = list(messages)
        sent = []

        async def receive() -> dict:
            if queue:
                return queue.pop(0)
            await asyncio.sleep(3600)  # a stalled client

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "http_version": "1.1", "method": "POST", "path": "/api/submission",
                 "raw_path": b"/api/submission", "query_string": b"", "root_path": "", "scheme": "http",
                 "headers": headers or [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 5000)}
        await buffered(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")

    return asyncio.run(asyncio.wait_for(serve(), 10))


def test_the_app_gets_the_whole_body_once_it_is_in():
    calls = []
    status, body = _run(BufferedWsgi(_app(calls), threads=1, max_body=100),
                        [{"type": "http.request", "body": b"12345", "more_body": True},
                         {"type": "http.request", "body": b"678", "more_body": False}])
    assert (status, body, calls) == (200, b"ok", [b"12345678"])


def test_a_stalled_body_is_408_without_the_app():
    calls = []
    status, body = _run(BufferedWsgi(_app(calls), threads=1, max_body=100, body_timeout=0.2),
                        [{"type": "http.request", "body": b"{", "more_body": True}])
    assert status == 408 and "did not arrive" in json.loads(body)["message"] and calls == []


def test_an_oversized_body_is_413_declared_or_sent():
    calls = []
    buffered = BufferedWsgi(_app(calls), threads=1, max_body=10)
    status, _ = _run(buffered, [], headers=[(b"content-length", b"11")])
    assert status == 413
    status, body = _run(buffered, [{"type": "http.request", "body": b"x" * 6, "more_body": True},
                                   {"type": "http.request", "body": b"x" * 6, "more_body": True}])
    assert status == 413 and json.loads(body)["message"].startswith("the body is larger") and calls == []
