"""The safe outbound fetcher (DESIGN §10): every URL that comes from users or Reddit goes through here.

* http/https only, no credentials in the URL;
* every address the host resolves to must be public (no loopback, private, link-local,
  CGNAT, reserved, multicast, unspecified; IPv4-mapped/6to4/Teredo IPv6 unwrapped;
  legacy integer/hex/octal IPv4 forms such as ``http://2130706433/`` understood);
* without a proxy, the connection goes to the very address that was checked
  (the URL is pinned to the IP while SNI, certificate check and ``Host`` keep the name);
* with a proxy (``HTTPS_PROXY``/``HTTP_PROXY``, honouring ``NO_PROXY``, as requests reads
  them), name resolution is the proxy's, but literal non-public IPs are still refused;
* redirects are followed by hand, each hop checked again;
* connect/read timeouts, a wall-clock deadline while streaming, and a byte cap.

The deadline holds from the first byte to the last: a watchdog shuts down the sockets of a
fetch that outlives it, which also ends a server trickling its headers.

Tests reach a local server by monkeypatching :func:`address_allowed` (the one address
policy) and :func:`resolve` (the one name-resolution hook); nothing else opens loopback.
"""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from common import http_failures

MiB = 1024 * 1024
DEFAULT_MAX_BYTES = 32 * MiB
CHUNK = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
USER_AGENT = "lzbooru/1.0 (+https://github.com/lzbooru)"
# Content types under which servers and CDNs deliver images; the bytes are sniffed later.
IMAGE_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A fetch that failed; `permanent` says whether retrying later could help."""

    def __init__(self, reason: str, *, permanent: bool, status: int | None = None,
                 retry_after: float | None = None, url: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
        self.url = url

    def __repr__(self) -> str:
        kind = "permanent" if self.permanent else "transient"
        return f"FetchError({self.reason!r}, {kind}, status={self.status})"


@dataclass(frozen=True)
class Fetched:
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    content_type: str


# --- address policy -------------------------------------------------------------------------

NAT64 = ipaddress.ip_network("64:ff9b::/96")


def unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv4-mapped, NAT64, 6to4 or Teredo IPv6 address, else `ip`."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def address_allowed(ip: IPAddress) -> bool:
    """True for a globally routable unicast address; the one policy (tests monkeypatch it)."""
    ip = unwrap(ip)
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local
                                 or ip.is_reserved or ip.is_multicast or ip.is_unspecified)


def literal_address(host: str) -> IPAddress | None:
    """The IP a host string denotes by itself, including legacy forms like 2130706433 or 0x7f.1."""
    host = host.strip("[]").rstrip(".").replace("%25", "%")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        if ":" in host:
            raise FetchError(f"malformed IPv6 host {host!r}", permanent=True) from None
    if host and all(part and _numeric(part) for part in host.split(".")):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            raise FetchError(f"malformed numeric host {host!r}", permanent=True) from None
    return None


def _numeric(part: str) -> bool:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return all(c in "0123456789abcdef" for c in lowered[2:])
    return lowered.isdigit()


def resolve(host: str, port: int) -> list[str]:
    """All addresses `host` resolves to; the name-resolution hook (tests monkeypatch it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _is_local_name(host: str) -> bool:
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost")


# --- checking a URL -------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`address`, None when a proxy resolves) and how."""

    url: str
    scheme: str
    host: str
    port: int
    address: str | None


def _split(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"invalid URL: {exc}", permanent=True, url=url) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"scheme {scheme or 'none'!r} not allowed", permanent=True, url=url)
    if parts.username is not None or parts.password is not None:
        raise FetchError("credentials in URL not allowed", permanent=True, url=url)
    host = parts.hostname or ""
    if not host:
        raise FetchError("URL has no host", permanent=True, url=url)
    return scheme, host, port or (443 if scheme == "https" else 80)


def _refuse(url: str, host: str, ip: IPAddress | str) -> FetchError:
    return FetchError(f"address {ip} of {host} is not public", permanent=True, url=url)


def check_target(url: str, *, proxied: bool) -> Target:
    """Check scheme and addresses; resolve the host unless a proxy will do it."""
    scheme, host, port = _split(url)
    literal = literal_address(host)
    if literal is not None:
        if not address_allowed(literal):
            raise _refuse(url, host, literal)
        return Target(url, scheme, host, port, None if proxied else str(unwrap(literal)))
    if _is_local_name(host):
        raise _refuse(url, host, "loopback")
    if proxied:
        return Target(url, scheme, host, port, None)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve {host}: {exc}", permanent=False, url=url) from None
    if not addresses:
        raise FetchError(f"{host} has no address", permanent=False, url=url)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not address_allowed(ip):
            raise _refuse(url, host, ip)
    return Target(url, scheme, host, port, addresses[0])


def check_url(url: str) -> None:
    """Refuse (permanent FetchError) a bad scheme, a non-public literal IP, or a name that
    resolves to a non-public address when no proxy applies to the URL."""
    check_target(url, proxied=_proxy_for(url, requests.Session()) is not None)


def _proxy_for(url: str, session: requests.Session) -> str | None:
    settings = session.merge_environment_settings(url, {}, True, None, None)
    return select_proxy(url, settings["proxies"])


# --- connecting to the checked address -------------------------------------------------------

class _TrackedHTTPConnection(HTTPConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _track(self)
        super().request(*args, **kwargs)


class _TrackedHTTPSConnection(HTTPSConnection):
    def request(self, *args: Any, **kwargs: Any) -> None:
        _track(self)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _TrackedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _TrackedHTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}
_local = threading.local()


def _track(connection: HTTPConnection) -> None:
    """Remember the connections a fetch uses, so its deadline can cut them."""
    tracked = getattr(_local, "connections", None)
    if tracked is not None:
        tracked.append(connection)


def _cut(connections: list[HTTPConnection]) -> None:
    """The deadline passed: shut the sockets down, which ends any blocked read at once."""
    for connection in list(connections):
        sock = getattr(connection, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class FetchAdapter(HTTPAdapter):
    """An adapter whose connections (direct or through a proxy) the deadline watchdog can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any):  # type: ignore[override]
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _POOLS
        return manager


class PinnedAdapter(FetchAdapter):
    """Sends a request whose URL names an IP, keeping the real host for SNI and the certificate.

    The real host travels in the request's Host header; urllib3 pools are keyed by
    (IP, server_hostname), so connections are reused safely across requests.
    """

    def build_connection_pool_key_attributes(self, request, verify, cert=None):  # type: ignore[override]
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        if host_params.get("scheme") == "https":
            name = _host_of(request.headers.get("Host", ""))
            pool_kwargs["server_hostname"] = name
            pool_kwargs["assert_hostname"] = name
        return host_params, pool_kwargs


def _host_of(host_header: str) -> str:
    """`example.com` from `example.com:8443`, `::1` from `[::1]:443`."""
    if host_header.startswith("["):
        return host_header[1:host_header.index("]")]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


_PINNED = PinnedAdapter(pool_connections=32, pool_maxsize=32, max_retries=0)
_PROXIED = FetchAdapter(pool_connections=8, pool_maxsize=32, max_retries=0)


def _default_session() -> requests.Session:
    """One session per thread: requests sessions are not guaranteed thread-safe."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _pin(prepared: requests.PreparedRequest, target: Target) -> None:
    """Point the prepared request at the checked address; keep the name in Host."""
    parts = urlsplit(prepared.url)
    ip = ipaddress.ip_address(target.address.split("%")[0])
    ip_host = f"[{ip}]" if ip.version == 6 else str(ip)
    default_port = 443 if target.scheme == "https" else 80
    port = "" if target.port == default_port else f":{target.port}"
    prepared.headers["Host"] = (f"[{target.host}]" if ":" in target.host else target.host) + port
    prepared.url = urlunsplit((parts.scheme, ip_host + port, parts.path, parts.query, ""))


# --- fetching -------------------------------------------------------------------------------

def fetch(url: str, *, max_bytes: int = DEFAULT_MAX_BYTES, timeout: float = 10, deadline: float = 60,
          accept_types: tuple[str, ...] | None = None, session: requests.Session | None = None,
          headers: dict | None = None, max_redirects: int = 5) -> Fetched:
    """GET `url` safely and return its body; raise FetchError with a reason otherwise.

    `accept_types`: media types (`image/png`) or prefixes ending in `/` (`image/`) the final
    response may have; anything else is a permanent "unexpected content type".
    """
    session = session or _default_session()
    ends = time.monotonic() + deadline
    connections: list[HTTPConnection] = []
    _local.connections = connections
    watchdog = threading.Timer(deadline, _cut, [connections])
    watchdog.daemon = True
    watchdog.start()
    try:
        return _follow(session, url, headers, timeout, ends, max_bytes, accept_types, max_redirects)
    finally:
        watchdog.cancel()
        _local.connections = None


def _follow(session: requests.Session, url: str, headers: dict | None, timeout: float, ends: float,
            max_bytes: int, accept_types: tuple[str, ...] | None, max_redirects: int) -> Fetched:
    current = url
    for _ in range(max_redirects + 1):
        response = _send(session, current, headers, timeout, ends)
        if response.status_code in REDIRECTS and response.headers.get("Location"):
            response.close()
            current = urljoin(current, response.headers["Location"])
            continue
        return _read(response, current, max_bytes, accept_types, ends)
    raise FetchError(f"more than {max_redirects} redirects", permanent=True, url=current)


def _send(session: requests.Session, url: str, headers: dict | None, timeout: float,
          ends: float) -> requests.Response:
    """One hop: check, pin (unless proxied), send without following redirects."""
    _split(url)  # scheme, credentials and host before anything else
    try:
        prepared = session.prepare_request(requests.Request("GET", url, headers=_headers(session, headers)))
    except (requests.exceptions.RequestException, ValueError, UnicodeError) as exc:
        raise FetchError(f"invalid URL: {exc}", permanent=True, url=url) from None
    settings = session.merge_environment_settings(prepared.url, {}, True, None, None)
    proxy = select_proxy(prepared.url, settings["proxies"])
    target = check_target(prepared.url, proxied=proxy is not None)  # the IDNA-encoded name
    if target.address is not None:
        _pin(prepared, target)
        adapter, proxies = _PINNED, {}
    else:
        adapter, proxies = _PROXIED, settings["proxies"]
    remaining = _remaining(ends, url)
    try:
        return adapter.send(prepared, stream=True, timeout=(min(timeout, remaining), min(timeout, remaining)),
                            verify=settings["verify"], cert=settings["cert"], proxies=proxies)
    except requests.exceptions.RequestException as exc:
        raise _send_error(exc, url, ends) from None


def _send_error(exc: requests.exceptions.RequestException, url: str, ends: float) -> FetchError:
    if time.monotonic() >= ends:
        return FetchError("deadline exceeded", permanent=False, url=url)
    if isinstance(exc, requests.exceptions.SSLError):
        return FetchError(f"TLS error: {_short(exc)}", permanent=False, url=url)
    if isinstance(exc, requests.exceptions.Timeout):
        return FetchError("timed out", permanent=False, url=url)
    return FetchError(f"connection failed: {_short(exc)}", permanent=False, url=url)


def _headers(session: requests.Session, extra: dict | None) -> dict:
    headers = {"Accept-Encoding": "identity"}
    if session.headers.get("User-Agent", "").startswith("python-requests"):
        headers["User-Agent"] = USER_AGENT
    headers.update(extra or {})
    return headers


def _remaining(ends: float, url: str) -> float:
    left = ends - time.monotonic()
    if left <= 0:
        raise FetchError("deadline exceeded", permanent=False, url=url)
    return left


def _read(response: requests.Response, url: str, max_bytes: int, accept_types: tuple[str, ...] | None,
          ends: float) -> Fetched:
    with response:
        _check_status(response, url)
        content_type = _media_type(response.headers.get("Content-Type", ""))
        if accept_types is not None and not _accepted(content_type, accept_types):
            raise FetchError(f"unexpected content type {content_type or 'none'!r}", permanent=True,
                             status=response.status_code, url=url)
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"too large: {declared} bytes > {max_bytes}", permanent=True,
                             status=response.status_code, url=url)
        content = _stream(response, url, max_bytes, ends)
    return Fetched(url=url, status=response.status_code, headers=response.headers, content=content,
                   content_type=content_type)


def _stream(response: requests.Response, url: str, max_bytes: int, ends: float) -> bytes:
    """Read the body chunk by chunk (read1: returns what arrived) under the cap and the deadline."""
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            _remaining(ends, url)
            chunk = response.raw.read1(CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"too large: more than {max_bytes} bytes", permanent=True,
                                 status=response.status_code, url=url)
            chunks.append(chunk)
    except FetchError:
        raise
    except Exception as exc:  # urllib3 read timeouts, resets, decode errors, truncated bodies
        if time.monotonic() >= ends:
            raise FetchError("deadline exceeded", permanent=False, url=url) from None
        if "timed out" in str(exc).lower() or isinstance(exc, (socket.timeout, TimeoutError)):
            raise FetchError("timed out while reading", permanent=False, url=url) from None
        raise FetchError(f"connection broken: {_short(exc)}", permanent=False, url=url) from None
    return b"".join(chunks)


def _check_status(response: requests.Response, url: str) -> None:
    status = response.status_code
    if status < 400 and status not in REDIRECTS:
        return
    raise FetchError(f"HTTP {status}", permanent=http_failures.classify(status) == http_failures.PERMANENT,
                     status=status, retry_after=http_failures.retry_after(response), url=url)


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _accepted(content_type: str, accept_types: tuple[str, ...]) -> bool:
    return any(content_type.startswith(t) if t.endswith("/") else content_type == t for t in accept_types)


def _short(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= 200 else text[:197] + "..."

