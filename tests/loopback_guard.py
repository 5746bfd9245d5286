"""The tests' network fence: every socket connection to an address that is not loopback is refused.

Installed in the test process (tests/conftest.py) and in every Python process the tests start
(tests/guard/sitecustomize.py, put on PYTHONPATH by tests.support.base_env), so a broken address
check fails a test instead of reaching the network. The refusal is an AssertionError, which HTTP
clients do not turn into an ordinary connection error, and it is also remembered in `refused`
so that a test whose code swallowed it still fails (tests/conftest.py checks after each test).
"""
from __future__ import annotations

import ipaddress
import socket

refused: list[str] = []
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


class OutsideConnection(AssertionError):
    """A test tried to reach a non-loopback address."""


def _loopback(host: str) -> bool:
    try:
        addresses = [ipaddress.ip_address(host.split("%", 1)[0])]
    except ValueError:  # a name: what it resolves to decides
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0])
                     for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    unwrapped = [getattr(ip, "ipv4_mapped", None) or ip for ip in addresses]
    return bool(unwrapped) and all(ip.is_loopback for ip in unwrapped)


def check(sock: socket.socket, address: object) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
        return
    if not _loopback(str(address[0])):
        refused.append(str(address))
        raise OutsideConnection(f"tests may only connect to loopback, not {address}")


def _guarded_connect(self: socket.socket, address: object) -> None:
    check(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    check(self, address)
    return _connect_ex(self, address)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
