"""Helpers the fixtures share: free ports, waiting, and real processes of the stack."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import requests

from common.config import PROJECT_ROOT

GUARD_DIR = PROJECT_ROOT / "tests" / "guard"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], object], timeout: float = 30.0, interval: float = 0.1,
               message: str = "condition") -> object:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
        except Exception:  # the thing waited for may not answer yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
        time.sleep(interval)


def base_env(**overrides: str) -> dict[str, str]:
    """The environment of a process under test: no developer .env, quick chapters, and the
    loopback fence (tests/guard/sitecustomize.py) loaded at start-up."""
    pythonpath = os.pathsep.join([str(PROJECT_ROOT), str(GUARD_DIR)])
    env = {**os.environ, "ENV_FILE": os.devnull, "CHAPTER_INTERVAL": "0.5", "LOG_LEVEL": "INFO",
           "PYTHONUNBUFFERED": "1", "PYTHONPATH": pythonpath}
    env.update(overrides)
    return env


class Process:
    """A real process of the stack, its output kept in a file for assertions and post-mortems."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]):
        self.name = name
        self.log = Path(tempfile.mkstemp(prefix=f"lzb-{name}-", suffix=".log")[1])
        self._file = self.log.open("wb")
        self.popen = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=self._file,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        self._file.flush()
        return self.log.read_text(errors="replace")

    def running(self) -> bool:
        return self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.running():
            os.killpg(self.popen.pid, signum)

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait; SIGKILL if it does not exit in time. Returns the exit code."""
        self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.popen.wait()

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        self.popen.wait()

    def wait(self, timeout: float | None = None) -> int:
        return self.popen.wait(timeout)


def start_python(name: str, args: list[str], env: dict[str, str]) -> Process:
    return Process(name, [sys.executable, *args], env)


def healthy(url: str) -> bool:
    return requests.get(f"{url}/health", timeout=2).status_code == 200
