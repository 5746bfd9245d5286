"""Parsa's test helpers: a resolver context whose clock and sleeps are recorded, not real."""
from __future__ import annotations

import pytest

from parsa.resolvers import Context


class Clock:
    """A fake wall clock: `sleep` advances it and remembers each pause."""

    def __init__(self, now: float = 1_776_000_000.0):
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_ctx(clock: Clock):
    """Context factory; build it after `fakenet` so requests sees the proxy variables."""
    def make(**overrides) -> Context:
        values = dict(imgur_client_id="lzb-test-client", sleep=clock.sleep, clock=clock.time,
                      timeout=5.0, deadline=10.0)
        values.update(overrides)
        return Context(**values)
    return make
