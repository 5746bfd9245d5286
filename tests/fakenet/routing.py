"""Route table and one-shot faults of the fake internet."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from .model import Request, Response, host_key

Handler = Callable[[Request], object]


@dataclass(frozen=True)
class Pattern:
    """scheme + host + path, plus query parameters that must be present."""

    scheme: str
    host: str
    path: str
    query: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, url: str) -> "Pattern":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"fakenet needs an absolute http(s) URL, got {url!r}")
        query = tuple(parse_qsl(parts.query, keep_blank_values=True))
        return cls(parts.scheme, host_key(url), normal_path(parts.path), query)

    def matches(self, request: Request) -> bool:
        if (self.scheme, self.host) != (request.scheme, request.host):
            return False
        if self.path != normal_path(request.path):
            return False
        asked = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        return all(pair in asked for pair in self.query)

    def __str__(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.scheme}://{self.host}{self.path}" + (f"?{query}" if query else "")


def normal_path(path: str) -> str:
    """Decoded path without a trailing slash (Reddit and most sites treat both alike)."""
    path = unquote(path or "/")
    return path.rstrip("/") or "/"


@dataclass
class Route:
    method: str
    pattern: Pattern
    handler: Handler

    def accepts(self, request: Request) -> bool:
        method = request.method.upper()
        if method == "HEAD" and self.method == "GET":
            method = "GET"
        return self.method in ("*", method) and self.pattern.matches(request)


@dataclass
class Fault:
    """A misbehaviour served `times` times for any method on a URL."""

    kind: str  # "fail" | "hang" | "truncate"
    pattern: Pattern
    times: int
    response: Response = field(default_factory=Response)
    seconds: float = 0.0
    trickle: bool = True


class Router:
    """Thread-safe store of routes and faults; later routes win over earlier equals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: list[Route] = []
        self._faults: list[Fault] = []

    def add_route(self, route: Route) -> None:
        with self._lock:
            self._routes.append(route)

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._routes.clear()
            self._faults.clear()

    def take_fault(self, request: Request) -> Fault | None:
        """The first pending fault for this request, consuming one use of it."""
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.pattern.matches(request):
                    fault.times -= 1
                    return fault
        return None

    def find(self, request: Request) -> Route | None:
        """The most specific route: most query parameters, then the latest added."""
        with self._lock:
            candidates = [r for r in self._routes if r.accepts(request)]
        if not candidates:
            return None
        return max(reversed(candidates), key=lambda r: len(r.pattern.query))
