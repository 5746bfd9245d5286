"""FakeInternet: program the proxy, start/stop it, read what it saw."""
from __future__ import annotations

import os
import shutil
import ssl
import tempfile
import threading
import time
import traceback
from typing import Any, Callable

import trustme

from . import images, payloads
from .model import Request, Response, as_response
from .proxy import ProxyHandler, ProxyServer
from .routing import Fault, Pattern, Route, Router

NO_PROXY = "127.0.0.1,localhost,::1"
TRICKLE_INTERVAL = 0.1
HANG_LENGTH = 10 * 1024 * 1024


class FakeInternet:
    """A loopback HTTP(S) proxy that answers every host from programmed routes."""

    def __init__(self) -> None:
        self._ca = trustme.CA(organization_name="LZBooru fakenet")
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._context_lock = threading.Lock()
        self._router = Router()
        self._log_lock = threading.Lock()
        self._requests: list[Request] = []
        self._unmatched: list[Request] = []
        self._errors: list[tuple[Request, str]] = []
        self._stopping = threading.Event()
        self._server: ProxyServer | None = None
        self._thread: threading.Thread | None = None
        self._dir = tempfile.mkdtemp(prefix="fakenet-")
        self.ca_bundle = os.path.join(self._dir, "ca.pem")
        self._write_ca()

    def _write_ca(self) -> None:
        os.makedirs(self._dir, exist_ok=True)
        self._ca.cert_pem.write_to_path(self.ca_bundle)

    # -- lifecycle -------------------------------------------------------

    def start(self) -> "FakeInternet":
        if self._server is None:
            self._write_ca()
            self._stopping.clear()
            self._server = ProxyServer(self)
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.05},
                                            name="fakenet", daemon=True)
            self._thread.start()
            self.reset()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.cut_all()
            self._server.server_close()
            self._server = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> "FakeInternet":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeInternet is not started")
        return self._server.server_address[1]

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Environment variables that route requests/PRAW/PMAW through the fake."""
        proxy = self.proxy_url
        return {
            "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy,
            "https_proxy": proxy, "http_proxy": proxy,
            "NO_PROXY": NO_PROXY, "no_proxy": NO_PROXY,
            "REQUESTS_CA_BUNDLE": self.ca_bundle, "SSL_CERT_FILE": self.ca_bundle,
        }

    def reset(self) -> None:
        """Forget routes, faults and logs, then reinstall the default routes."""
        self._router.clear()
        with self._log_lock:
            self._requests.clear()
            self._unmatched.clear()
            self._errors.clear()
        self._install_defaults()

    def _install_defaults(self) -> None:
        self.route("POST", payloads.REDDIT_TOKEN_URL, json=payloads.reddit_access_token(),
                   headers=payloads.reddit_ratelimit_headers())

    # -- programming -----------------------------------------------------

    def route(self, method: str, url: str, *, json: Any = None, body: bytes | str = b"",
              status: int = 200, headers: dict[str, str] | None = None,
              content_type: str | None = None,
              handler: Callable[[Request], Any] | None = None) -> None:
        """Answer `method url` (method "*" = any) with a fixed response or handler(Request)."""
        if handler is None:
            def handler(_: Request) -> Response:
                return Response(status=status, body=body, headers=dict(headers or {}),
                                json=json, content_type=content_type)
        self._router.add_route(Route(method.upper(), Pattern.parse(url), handler))

    def route_image(self, url: str, *, width: int = 640, height: int = 480, fmt: str = "JPEG",
                    seed: int = 0, frames: int = 1, **kw: Any) -> bytes:
        """Serve a generated deterministic image at `url` (GET) and return its bytes."""
        data = images.make_image(width, height, fmt, seed, frames=frames)
        kw.setdefault("content_type", images.FORMATS[fmt.upper()])
        self.route("GET", url, body=data, **kw)
        return data

    def fail(self, url: str, times: int = 1, status: int = 429,
             headers: dict[str, str] | None = None, body: bytes | str = "") -> None:
        """The next `times` requests to `url` (any method) get this answer instead."""
        answer = Response(status=status, body=body, headers=dict(headers or {}))
        self._router.add_fault(Fault("fail", Pattern.parse(url), times, answer))

    def hang(self, url: str, times: int = 1, seconds: float = 5.0, trickle: bool = True) -> None:
        """Stall `times` requests for up to `seconds`: trickle a byte every 0.1 s, or stay silent."""
        self._router.add_fault(Fault("hang", Pattern.parse(url), times, seconds=seconds,
                                     trickle=trickle))

    def truncate(self, url: str, times: int = 1) -> None:
        """Send only half of the promised Content-Length, then close."""
        self._router.add_fault(Fault("truncate", Pattern.parse(url), times))

    def redirect(self, url: str, location: str, status: int = 302) -> None:
        self.route("*", url, status=status, headers={"Location": location})

    # -- what was seen ---------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._log_lock:
            return list(self._requests)

    @property
    def unmatched(self) -> list[Request]:
        with self._log_lock:
            return list(self._unmatched)

    @property
    def errors(self) -> list[tuple[Request, str]]:
        """(request, traceback) for route handlers that raised."""
        with self._log_lock:
            return list(self._errors)

    def seen(self, url: str, method: str | None = None) -> list[Request]:
        """Requests that `url` would match (same rules as routes)."""
        pattern = Pattern.parse(url)
        return [r for r in self.requests if pattern.matches(r)
                and (method is None or r.method == method.upper())]

    # -- serving (called from proxy threads) ------------------------------

    def tls_context(self, host: str) -> ssl.SSLContext:
        """A server context with a leaf certificate for `host`, cached per host."""
        with self._context_lock:
            context = self._contexts.get(host)
            if context is None:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.set_alpn_protocols(["http/1.1"])
                self._ca.issue_cert(host).configure_cert(context)
                self._contexts[host] = context
            return context

    def serve(self, handler: ProxyHandler, request: Request) -> None:
        with self._log_lock:
            self._requests.append(request)
        fault = self._router.take_fault(request)
        route = self._router.find(request)
        if fault is not None:
            self._serve_fault(handler, request, fault, route)
        elif route is None:
            with self._log_lock:
                self._unmatched.append(request)
            text = f"fakenet: no route for {request.method} {request.scheme}://{request.host}{request.path}"
            write_response(handler, request, Response(502, text, content_type="text/plain; charset=utf-8"))
        else:
            write_response(handler, request, self._answer(route, request))

    def _answer(self, route: Route, request: Request) -> Response:
        try:
            return as_response(route.handler(request))
        except Exception:
            trace = traceback.format_exc()
            with self._log_lock:
                self._errors.append((request, trace))
            return Response(500, f"fakenet: route handler failed\n{trace}",
                            content_type="text/plain; charset=utf-8")

    def _serve_fault(self, handler: ProxyHandler, request: Request, fault: Fault,
                     route: Route | None) -> None:
        if fault.kind == "fail":
            write_response(handler, request, fault.response)
            return
        normal = self._answer(route, request) if route else Response(body=b"x" * 2048)
        if fault.kind == "truncate":
            full = normal.payload()
            sent = full[: len(full) // 2]
            write_head(handler, request, normal, max(len(full), len(sent) + 1))
            write_and_close(handler, sent)
        elif fault.trickle:
            write_head(handler, request, normal, HANG_LENGTH)
            self._trickle(handler, normal.payload() or b"x", fault.seconds)
        else:
            self._stopping.wait(fault.seconds)
            write_and_close(handler, b"")

    def _trickle(self, handler: ProxyHandler, source: bytes, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        position = 0
        while time.monotonic() < deadline and not self._stopping.is_set():
            try:
                handler.wfile.write(source[position % len(source):][:1])
            except OSError:
                break
            position += 1
            self._stopping.wait(TRICKLE_INTERVAL)
        write_and_close(handler, b"")


def write_head(handler: ProxyHandler, request: Request, response: Response, length: int) -> None:
    """Status line and headers; explicit response headers override the defaults."""
    headers = {"Content-Type": response.media_type(request.url), "Content-Length": str(length)}
    if request.host == "oauth.reddit.com":
        headers.update(payloads.reddit_ratelimit_headers())
    for name, value in (response.headers or {}).items():
        for existing in [k for k in headers if k.lower() == name.lower()]:
            del headers[existing]
        headers[name] = value
    handler.send_response(response.status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()


def write_response(handler: ProxyHandler, request: Request, response: Response) -> None:
    payload = response.payload()
    write_head(handler, request, response, len(payload))
    if request.method.upper() != "HEAD" and response.status not in (204, 304):
        handler.wfile.write(payload)


def write_and_close(handler: ProxyHandler, data: bytes) -> None:
    """Write what there is, then end the connection abruptly."""
    handler.close_connection = True
    try:
        if data:
            handler.wfile.write(data)
        handler.wfile.flush()
        handler.connection.shutdown(2)
    except OSError:
        pass
