"""common.fetch: the SSRF matrix is refused before any connection; redirects, caps, deadlines,
statuses and content types end as the right FetchError.

HTTP-level tests run a small threaded http.server on 127.0.0.1. Loopback is reached only
through the `local_server` fixture, which monkeypatches `fetch.address_allowed` to accept
127.0.0.1 (and nothing else non-public) and `fetch.resolve` to map `*.test` names to
127.0.0.1 (or to a private address for the "name resolving to private" cases).
"""
from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import pytest
import trustme

from common import fetch
from common.fetch import FetchError

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
                   "http_proxy", "https_proxy", "all_proxy", "no_proxy")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in PROXY_VARIABLES + ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def no_connections(monkeypatch) -> list:
    """Fail the test if any socket tries to connect anywhere."""
    attempts: list = []

    def refuse(self, address, *args):
        attempts.append(address)
        raise AssertionError(f"connection attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


# --- the SSRF matrix ------------------------------------------------------------------------

REFUSED = [
    "http://127.0.0.1/",
    "http://127.0.0.1:5000/api/health",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://api.localhost/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://[fe80::1]/",
    "http://[fe80::1%25eth0]/",
    "http://[fc00::1]/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://0x7f.1/",
    "https://127.0.0.1./",
    "file:///etc/passwd",
    "ftp://example.com/file.jpg",
    "gopher://example.com/",
    "data:image/png;base64,iVBORw0KGgo=",
    "http://user:secret@example.com/",
    "//example.com/x.jpg",
    "http:///x.jpg",
]


@pytest.mark.parametrize("url", REFUSED)
def test_refused_before_any_connection(url, no_connections, monkeypatch):
    monkeypatch.setattr(fetch, "resolve", lambda host, port: pytest.fail(f"resolved {host}"))
    with pytest.raises(FetchError) as caught:
        fetch.fetch(url)
    assert caught.value.permanent
    with pytest.raises(FetchError):
        fetch.check_url(url)
    assert no_connections == []


@pytest.mark.parametrize("address", ["10.1.2.3", "127.0.0.1", "169.254.169.254", "::1", "fd00::5",
                                     "::ffff:192.168.0.1", "100.100.100.100"])
def test_public_looking_name_resolving_to_private_is_refused(address, no_connections, monkeypatch):
    monkeypatch.setattr(fetch, "resolve", lambda host, port: [address])
    with pytest.raises(FetchError) as caught:
        fetch.fetch("https://images.example.com/cat.jpg")
    assert caught.value.permanent and "not public" in caught.value.reason
    with pytest.raises(FetchError):
        fetch.check_url("https://images.example.com/cat.jpg")
    assert no_connections == []


def test_one_private_address_among_public_ones_is_enough_to_refuse(no_connections, monkeypatch):
    monkeypatch.setattr(fetch, "resolve", lambda host, port: ["93.184.215.14", "10.0.0.8"])
    with pytest.raises(FetchError, match="not public"):
        fetch.fetch("http://rebind.example.com/")
    assert no_connections == []


@pytest.mark.parametrize("address, allowed", [
    ("93.184.215.14", True), ("2606:4700::1111", True), ("8.8.8.8", True),
    ("100.63.255.255", True), ("100.64.0.0", False), ("100.127.255.255", False),
    ("192.0.0.1", False), ("198.18.0.1", False), ("::ffff:8.8.8.8", True), ("64:ff9b::a00:1", False),
])
def test_address_policy(address, allowed):
    assert fetch.address_allowed(ipaddress.ip_address(address)) is allowed


def test_check_url_accepts_a_public_name(monkeypatch):
    monkeypatch.setattr(fetch, "resolve", lambda host, port: ["93.184.215.14"])
    fetch.check_url("https://i.redd.it/abc.jpg")


def test_unresolvable_name_is_transient(no_connections, monkeypatch):
    def fail(host, port):
        raise socket.gaierror(-2, "Name or service not known")
    monkeypatch.setattr(fetch, "resolve", fail)
    with pytest.raises(FetchError) as caught:
        fetch.fetch("http://nowhere.example/")
    assert not caught.value.permanent


# --- with a proxy, the proxy resolves; literal private IPs are still refused -------------------

def test_proxy_resolves_names_but_literal_private_ips_are_refused(no_connections, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setattr(fetch, "resolve", lambda host, port: pytest.fail("resolved under a proxy"))
    fetch.check_url("https://i.redd.it/abc.jpg")
    for url in ("http://10.0.0.1/", "https://[::1]/", "http://2130706433/", "http://localhost/"):
        with pytest.raises(FetchError, match="not public"):
            fetch.fetch(url)
    assert no_connections == []


# --- a local server (loopback allowed only here) ----------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:
        pass

    def send(self, status: int, body: bytes = b"", content_type: str = "image/png", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: C901 - a routing table
        self.server.seen.append((self.path, dict(self.headers)))
        path = self.path.split("?")[0]
        if path.startswith("http://"):  # used as a plain HTTP proxy
            return self.send(200, PNG, X_Proxied="yes")
        if path == "/image.png":
            return self.send(200, PNG)
        if path == "/host":
            return self.send(200, self.headers.get("Host", "").encode(), "text/plain")
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            return self.send(status, b"no", "text/html", Retry_After="7")
        if path == "/redirect":
            return self.send(302, b"", Location=self.path.split("to=", 1)[1])
        if path == "/loop":
            return self.send(301, b"", Location="/loop")
        if path == "/html":
            return self.send(200, b"<!doctype html><p>removed</p>", "text/html; charset=utf-8")
        if path == "/declared-huge":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(100 * 1024 * 1024))
            self.end_headers()
            return
        if path == "/endless":
            return self.endless()
        if path == "/trickle":
            return self.trickle()
        if path == "/slow-headers":
            return self.slow_headers()
        if path == "/silent":
            time.sleep(3)
            return self.send(200, PNG)
        return self.send(404, b"not found", "text/plain")

    def endless(self) -> None:
        """A 100 MB body with no Content-Length, closed by the server at the end."""
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.send_header("Connection", "close")
        self.end_headers()
        block = b"\xff" * 65536
        try:
            for _ in range(1600):
                self.wfile.write(block)
        except OSError:
            pass
        self.close_connection = True

    def slow_headers(self) -> None:
        """A header line that never ends, a byte every 0.1 s for up to 5 s."""
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(50):
                self.wfile.write(b"a")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass
        self.close_connection = True

    def trickle(self) -> None:
        """A byte every 0.1 s for up to 5 s: never a read timeout, never done."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        try:
            for _ in range(50):
                self.wfile.write(b"\x89")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass
        self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, context: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.seen: list = []
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def handle_error(self, request, client_address) -> None:
        pass  # clients cutting connections short is what these tests do


def serve(context: ssl.SSLContext | None = None) -> Iterator[Server]:
    server = Server(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allow_loopback(monkeypatch):
    """Test-only: 127.0.0.1 counts as public; `*.test` names resolve to it, `private.test` to 10.x."""
    policy = fetch.address_allowed
    monkeypatch.setattr(fetch, "address_allowed",
                        lambda ip: ip == ipaddress.ip_address("127.0.0.1") or policy(ip))
    resolved: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        resolved.append(host)
        if host == "private.test":
            return ["10.20.30.40"]
        if host.endswith(".test"):
            return ["127.0.0.1"]
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(fetch, "resolve", resolve)
    return resolved


@pytest.fixture
def server(allow_loopback) -> Iterator[Server]:
    yield from serve()


def url(server: Server, path: str, host: str = "public.test") -> str:
    return f"http://{host}:{server.port}{path}"


def test_fetches_an_image_connecting_to_the_checked_address(server, allow_loopback):
    result = fetch.fetch(url(server, "/image.png"), accept_types=fetch.IMAGE_TYPES)
    assert result.content == PNG and result.status == 200 and result.content_type == "image/png"
    assert result.url == url(server, "/image.png")
    assert allow_loopback == ["public.test"]  # our hook resolved it; nobody else did
    host = fetch.fetch(url(server, "/host")).content.decode()
    assert host == f"public.test:{server.port}"


def test_international_names_are_checked_and_sent_in_their_ascii_form(server, allow_loopback):
    result = fetch.fetch(f"http://bücher.test:{server.port}/host")
    assert result.content.decode() == f"xn--bcher-kva.test:{server.port}"
    assert allow_loopback == ["xn--bcher-kva.test"]


def test_redirects_are_followed_and_rechecked(server):
    target = url(server, "/image.png", host="cdn.test")
    result = fetch.fetch(url(server, f"/redirect?to={target}"))
    assert result.url == target and result.content == PNG


@pytest.mark.parametrize("location", ["http://private.test/", "http://169.254.169.254/latest/meta-data/",
                                      "http://[::1]/", "file:///etc/passwd", "http://localhost:1/"])
def test_redirect_from_public_to_private_is_refused(server, location):
    with pytest.raises(FetchError) as caught:
        fetch.fetch(url(server, f"/redirect?to={location}"))
    assert caught.value.permanent
    assert len(server.seen) == 1  # the private hop was never requested


def test_too_many_redirects(server):
    with pytest.raises(FetchError, match="redirects") as caught:
        fetch.fetch(url(server, "/loop"), max_redirects=3)
    assert caught.value.permanent and len(server.seen) == 4


@pytest.mark.parametrize("status, permanent", [(404, True), (410, True), (403, True), (429, False),
                                               (500, False), (502, False), (503, False), (408, False)])
def test_status_mapping(server, status, permanent):
    with pytest.raises(FetchError) as caught:
        fetch.fetch(url(server, f"/status/{status}"))
    assert caught.value.permanent is permanent and caught.value.status == status
    assert caught.value.retry_after == 7.0


def test_declared_size_over_the_cap_is_refused_without_reading(server):
    started = time.monotonic()
    with pytest.raises(FetchError, match="too large") as caught:
        fetch.fetch(url(server, "/declared-huge"))
    assert caught.value.permanent and time.monotonic() - started < 2


def test_byte_cap_stops_an_undeclared_100mb_body(server):
    started = time.monotonic()
    with pytest.raises(FetchError, match="too large") as caught:
        fetch.fetch(url(server, "/endless"), max_bytes=1024 * 1024)
    assert caught.value.permanent and time.monotonic() - started < 3


def test_trickling_server_hits_the_deadline(server):
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline") as caught:
        fetch.fetch(url(server, "/trickle"), timeout=1, deadline=1.0)
    assert not caught.value.permanent
    assert time.monotonic() - started < 2.5


def test_server_trickling_its_headers_hits_the_deadline(server):
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline") as caught:
        fetch.fetch(url(server, "/slow-headers"), timeout=1, deadline=1.0)
    assert not caught.value.permanent
    assert time.monotonic() - started < 2


def test_silent_server_hits_the_read_timeout(server):
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out") as caught:
        fetch.fetch(url(server, "/silent"), timeout=0.5, deadline=10)
    assert not caught.value.permanent and time.monotonic() - started < 2


def test_refused_connection_is_transient(allow_loopback):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError, match="connection") as caught:
        fetch.fetch(f"http://closed.test:{port}/")
    assert not caught.value.permanent


def test_content_type_must_be_accepted(server):
    with pytest.raises(FetchError, match="content type") as caught:
        fetch.fetch(url(server, "/html"), accept_types=fetch.IMAGE_TYPES)
    assert caught.value.permanent
    assert fetch.fetch(url(server, "/html")).content_type == "text/html"


def test_html_served_as_an_image_type_passes_fetch_and_fails_the_magic_check(server):
    from common.fingerprint import ImageError, fingerprint

    with pytest.raises(ImageError, match="not an image"):
        fingerprint(fetch.fetch(url(server, "/html"), accept_types=("text/html",)).content)


def test_plain_http_proxy_is_used_and_resolves_for_us(server, allow_loopback, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,direct.test")
    result = fetch.fetch("http://unresolvable.example/cat.png")
    assert result.headers["X-Proxied"] == "yes" and allow_loopback == []
    assert server.seen[-1][0] == "http://unresolvable.example/cat.png"
    direct = fetch.fetch(url(server, "/image.png", host="direct.test"))  # NO_PROXY: resolved, pinned
    assert "X-Proxied" not in direct.headers and allow_loopback == ["direct.test"]


# --- HTTPS: connect to the checked IP, verify the certificate for the name ---------------------

@pytest.fixture
def tls_server(allow_loopback, tmp_path) -> Iterator[tuple[Server, str]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("pinned.test").configure_cert(context)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    for server in serve(context):
        yield server, str(bundle)


def test_https_keeps_sni_and_certificate_check_on_the_name(tls_server, monkeypatch):
    server, bundle = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    result = fetch.fetch(f"https://pinned.test:{server.port}/host")
    assert result.content.decode() == f"pinned.test:{server.port}"


def test_https_certificate_for_another_name_is_refused(tls_server, monkeypatch):
    server, bundle = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", bundle)
    with pytest.raises(FetchError, match="TLS"):
        fetch.fetch(f"https://impostor.test:{server.port}/host")


# --- through the fake internet (HTTPS_PROXY + REQUESTS_CA_BUNDLE, as in production behind a proxy) --

def test_fetch_through_the_fake_internet(fakenet, monkeypatch):
    monkeypatch.setattr(fetch, "resolve", lambda host, port: pytest.fail("resolved under a proxy"))
    data = fakenet.route_image("https://i.redd.it/abc123.jpg", width=320, height=240)
    result = fetch.fetch("https://i.redd.it/abc123.jpg", accept_types=fetch.IMAGE_TYPES)
    assert result.content == data and result.content_type == "image/jpeg"


def test_trickle_through_the_fake_internet_ends_at_the_deadline(fakenet):
    fakenet.route_image("https://i.imgur.com/slow.jpg")
    fakenet.hang("https://i.imgur.com/slow.jpg", seconds=5, trickle=True)
    started = time.monotonic()
    with pytest.raises(FetchError) as caught:
        fetch.fetch("https://i.imgur.com/slow.jpg", timeout=1, deadline=1.5)
    assert not caught.value.permanent and time.monotonic() - started < 3
