"""booru's gunicorn worker: slow or stalled clients hold no thread, and gunicorn's own errors are JSON.

gunicorn's gthread worker reads each request in one of its few threads, so a dozen clients that
send a header line a second hold all of them. This worker reads requests on gunicorn's asyncio
event loop instead (thousands of open connections cost no thread): the headers, then the whole
body (at most `max_body` bytes, within BODY_TIMEOUT seconds), and only then runs the Flask app in
one of BOORU_THREADS threads (a2wsgi's WSGI adapter). gunicorn's own answers to requests it cannot
parse (400, 414, 431, ...) are `{"message": ...}` JSON like booru's.
"""
from __future__ import annotations

import asyncio
import json
from typing import Awaitable, Callable

from a2wsgi import WSGIMiddleware
from gunicorn.asgi import protocol
from gunicorn.workers import gasgi

BODY_TIMEOUT = 30.0

Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]


async def send_json_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BufferedWsgi:
    """An ASGI app that reads the whole request on the event loop, then runs the WSGI app in a thread."""

    def __init__(self, app: Callable, threads: int, max_body: int, body_timeout: float = BODY_TIMEOUT):
        self.wsgi = WSGIMiddleware(app, workers=threads)
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: dict, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.wsgi(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_body:
            return await send_json_error(send, 413, f"the body is larger than {self.max_body} bytes")
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await self._read_body(receive)
        except TimeoutError:
            return await send_json_error(send, 408, f"the body did not arrive within {self.body_timeout:.0f} s")
        if body is None:
            return await send_json_error(send, 413, f"the body is larger than {self.max_body} bytes")
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.wsgi(scope, replay, send)

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body; None if it grows past max_body."""
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise TimeoutError  # nobody is left to answer; treated like a stalled body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


class JsonErrorsProtocol(protocol.ASGIProtocol):
    """gunicorn's HTTP/1 protocol, answering what it cannot parse in JSON."""

    def _send_error_response(self, status, message, extra_headers=()):
        body = json.dumps({"message": message or self._get_reason_phrase(status)}).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in extra_headers)
        head = (f"HTTP/1.1 {status} {self._get_reason_phrase(status)}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n")
        self._safe_write(head.encode("latin-1") + body)


class Worker(gasgi.ASGIWorker):
    """gunicorn's asyncio worker serving booru's Flask app through BufferedWsgi."""

    @classmethod
    def check_config(cls, cfg, log) -> None:
        """BOORU_THREADS is used here (the threads that run the app), so no warning about it."""

    def load_wsgi(self) -> None:
        from common.config import load_settings

        self.flask_app = self.app.wsgi()
        max_body = self.flask_app.config.get("MAX_CONTENT_LENGTH") or load_settings().max_image_bytes
        self.asgi = BufferedWsgi(self.flask_app, self.cfg.threads, max_body)

    def init_process(self) -> None:
        gasgi.ASGIProtocol = JsonErrorsProtocol  # the class gunicorn's asyncio server instantiates
        super().init_process()
