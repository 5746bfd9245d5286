"""The real stack under supervisord, once for tests/stack, against the session's fake internet."""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.fakenet import FakeInternet
from tests.stack.stack import Stack


@pytest.fixture(scope="package")
def stack(fakenet_server: FakeInternet) -> Iterator[Stack]:
    """supervisord running database, booru, greg, parsa and coco; LZB_KEEP_STACK=1 keeps its files."""
    running = Stack.create(fakenet_server.env())
    try:
        running.start()
    except BaseException:
        print(running.tails())
        running.shutdown(keep=bool(os.environ.get("LZB_KEEP_STACK")))
        raise
    yield running
    running.shutdown(keep=bool(os.environ.get("LZB_KEEP_STACK")))


@pytest.fixture
def net(fakenet_server: FakeInternet) -> FakeInternet:
    """The fake internet, not reset: the stack's greg keeps polling earlier tests' subreddits."""
    return fakenet_server


@pytest.fixture
def live(stack: Stack) -> Stack:
    """The stack with every program running and booru healthy at the start of the test."""
    stack.ensure_running()
    return stack
