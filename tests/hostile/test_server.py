"""booru under gunicorn (as supervisord runs it) against hostile connections: slow clients do not
starve it, and what gunicorn itself refuses is answered in JSON."""
from __future__ import annotations

import json
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest
import requests

SLOW_CONNECTIONS = 24  # more than the live booru's 2 workers x 4 threads
SECONDS = 6


def _address(live_booru) -> tuple[str, int]:
    parts = urlsplit(live_booru.url)
    return parts.hostname, parts.port


def _raw(address: tuple[str, int], data: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read the whole answer: (status, headers, body)."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


def test_slow_clients_do_not_starve_health(live_booru) -> None:
    """Connections that send one header line a second (no key needed) leave the API answering."""
    stop = threading.Event()
    sockets = [socket.create_connection(_address(live_booru), timeout=5) for _ in range(SLOW_CONNECTIONS)]

    def dribble(sock: socket.socket) -> None:
        try:
            sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
            n = 0
            while not stop.wait(1.0):
                sock.sendall(b"X-Slow-%d: 1\r\n" % n)
                n += 1
        except OSError:
            pass

    threads = [threading.Thread(target=dribble, args=(sock,), daemon=True) for sock in sockets]
    for thread in threads:
        thread.start()
    slowest = 0.0
    try:
        time.sleep(1.0)  # every slow connection has started its request
        ends = time.monotonic() + SECONDS
        while time.monotonic() < ends:
            started = time.monotonic()
            try:
                status = requests.get(f"{live_booru.url}/health", timeout=3).status_code
            except requests.RequestException:
                status = None
            slowest = max(slowest, time.monotonic() - started)
            assert status == 200, f"/api/health did not answer while {SLOW_CONNECTIONS} slow clients were connected"
            time.sleep(0.2)
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
    assert slowest < 1.0


def test_stalled_bodies_hold_no_thread(live_booru) -> None:
    address = _address(live_booru)
    stalled = [socket.create_connection(address, timeout=5) for _ in range(SLOW_CONNECTIONS)]
    try:
        for sock in stalled:
            sock.sendall(b"POST /api/submission HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{")
        assert requests.get(f"{live_booru.url}/health", timeout=3).status_code == 200
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize("request_bytes, status", [
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),          # request line too long
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(200)) + b"\r\n", 431),
    (b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431),
    (b"GET /api/health HTTP/1.1\r\nBad Header\r\n\r\n", 400),
    (b"BREW\x01 / HTTP/1.1\r\n\r\n", 400),
])
def test_what_gunicorn_refuses_is_json(live_booru, request_bytes: bytes, status: int) -> None:
    got, headers, body = _raw(_address(live_booru), request_bytes)
    assert got == status
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["message"]


def test_a_declared_body_over_the_cap_is_refused_before_it_is_read(live_booru) -> None:
    got, headers, body = _raw(_address(live_booru), b"POST /api/similarity/file HTTP/1.1\r\nHost: x\r\n"
                                                    b"Content-Length: 999999999999\r\n\r\n")
    assert got == 413 and json.loads(body)["message"].startswith("the body is larger")
