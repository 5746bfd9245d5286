"""The tests' network fence refuses non-loopback connections, here and in processes tests start."""
from __future__ import annotations

import socket

import pytest

from tests import loopback_guard
from tests.support import base_env, start_python

OUTSIDE = ("192.0.2.1", 80)  # TEST-NET-1: never a real host


def test_the_test_process_may_not_leave_loopback() -> None:
    with socket.socket() as sock, pytest.raises(loopback_guard.OutsideConnection):
        sock.connect(OUTSIDE)
    with pytest.raises(loopback_guard.OutsideConnection):
        socket.create_connection(("::ffff:192.0.2.1", 80), timeout=1)
    assert loopback_guard.refused == [str(OUTSIDE), "('::ffff:192.0.2.1', 80, 0, 0)"]
    loopback_guard.refused.clear()  # refused on purpose: not a failure of this test


def test_loopback_stays_open() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        socket.create_connection(server.getsockname(), timeout=1).close()
        socket.create_connection(("localhost", server.getsockname()[1]), timeout=1).close()


def test_a_started_process_may_not_leave_loopback() -> None:
    code = "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1)\n" \
           "except AssertionError as exc:\n    print('refused:', exc)\n"
    process = start_python("guarded", ["-c", code], base_env())
    assert process.wait(30) == 0
    assert "refused: tests may only connect to loopback" in process.output()
