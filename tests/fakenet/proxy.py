"""The loopback proxy: plain absolute-URI requests and TLS-terminated CONNECT tunnels."""
from __future__ import annotations

import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Callable

from .model import Request

if TYPE_CHECKING:
    from .core import FakeInternet

MAX_BODY = 64 * 1024 * 1024


class ProxyServer(ThreadingHTTPServer):
    """Threaded server that remembers its open connections so stop() can cut them."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, fake: "FakeInternet") -> None:
        self.fake = fake
        self.live: set[socket.socket] = set()
        self.live_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), ProxyHandler)

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up mid-answer (a capped download, a test's timeout) is normal here."""
        if isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def track(self, sock: socket.socket, alive: bool) -> None:
        with self.live_lock:
            (self.live.add if alive else self.live.discard)(sock)

    def cut_all(self) -> None:
        """Shut down every open client connection (unblocks their threads)."""
        with self.live_lock:
            socks = list(self.live)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class ProxyHandler(BaseHTTPRequestHandler):
    """Parses one client connection; every method goes to FakeInternet.serve()."""

    protocol_version = "HTTP/1.1"
    timeout = 30
    server: ProxyServer
    authority = ""  # set inside a CONNECT tunnel: the host[:port] being faked

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        self.server.track(self.connection, False)

    def version_string(self) -> str:
        return "fakenet"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        """Silence the per-request stderr log; net.requests is the record."""

    def do_CONNECT(self) -> None:
        if self.authority:
            self.send_error(400, "fakenet: CONNECT inside a tunnel")
            return
        host, port = split_authority(self.path)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        try:
            tls = self.server.fake.tls_context(host).wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client gave up or does not trust our CA
        authority = host if port == 443 else f"{bracket(host)}:{port}"
        try:
            TunnelHandler(tls, self.client_address, self.server, authority)
        finally:
            close_quietly(tls)

    def dispatch(self) -> None:
        body = self.read_body()
        if body is None:
            return
        request = Request(self.command, self.target_url(), dict(self.headers.items()), body)
        self.server.fake.serve(self, request)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = dispatch

    def target_url(self) -> str:
        if self.path.startswith(("http://", "https://")):
            return self.path
        if self.authority:
            return f"https://{self.authority}{self.path}"
        return f"http://{self.headers.get('Host', 'unknown-host')}{self.path}"

    def read_body(self) -> bytes | None:
        """The request body (Content-Length or chunked); None after answering 4xx."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return read_chunked(self.rfile.readline, self.rfile.read)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413, "fakenet: request body too large")
            return None
        return self.rfile.read(length) if length else b""


class TunnelHandler(ProxyHandler):
    """Serves HTTP/1.1 (keep-alive) on the decrypted side of a CONNECT tunnel."""

    def __init__(self, request: ssl.SSLSocket, client_address: tuple, server: ProxyServer,
                 authority: str) -> None:
        self.authority = authority
        super().__init__(request, client_address, server)


def split_authority(authority: str) -> tuple[str, int]:
    """`host:port` / `[v6]:port` / `host` to (host, port)."""
    host, sep, port = authority.rpartition(":")
    if not sep or "]" in port:
        return authority.strip("[]").lower(), 443
    return host.strip("[]").lower(), int(port)


def bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def read_chunked(readline: Callable[..., bytes], read: Callable[[int], bytes]) -> bytes:
    parts = []
    while True:
        size = int(readline(1024).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while readline(1024) not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(parts)
        parts.append(read(size))
        readline(1024)


def close_quietly(sock: socket.socket) -> None:
    try:
        sock.close()
    except OSError:
        pass
