"""pytest plugin: one FakeInternet per session, reset and wired into os.environ per test."""
from __future__ import annotations

from typing import Iterator

import pytest

from .core import FakeInternet


@pytest.fixture(scope="session")
def fakenet_server() -> Iterator[FakeInternet]:
    """The session's fake internet (not reset; prefer the `fakenet` fixture)."""
    net = FakeInternet().start()
    try:
        yield net
    finally:
        net.stop()


@pytest.fixture
def fakenet(fakenet_server: FakeInternet, monkeypatch: pytest.MonkeyPatch) -> FakeInternet:
    """The fake internet with defaults only, and its proxy/CA variables set in os.environ."""
    fakenet_server.reset()
    for name, value in fakenet_server.env().items():
        monkeypatch.setenv(name, value)
    return fakenet_server
