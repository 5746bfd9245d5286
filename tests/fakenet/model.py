"""Request and Response as the fake internet sees and answers them."""
from __future__ import annotations

import json as jsonlib
import mimetypes
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSON_TYPE = "application/json; charset=UTF-8"


@dataclass
class Request:
    """One HTTP request that reached the proxy (after TLS was terminated)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        """Lower-case host name, with the port only when it is not the scheme's default."""
        return host_key(self.url)

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.url).query, keep_blank_values=True))

    def header(self, name: str, default: str | None = None) -> str | None:
        """Case-insensitive header lookup."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return default

    def json(self) -> Any:
        return jsonlib.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        """The body parsed as application/x-www-form-urlencoded."""
        return dict(parse_qsl(self.body.decode("utf-8"), keep_blank_values=True))

    def __str__(self) -> str:
        return f"{self.method} {self.url}"


@dataclass
class Response:
    """An answer to give; `json` wins over `body` when both are set."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] | None = None
    json: Any = None
    content_type: str | None = None

    def payload(self) -> bytes:
        if self.json is not None:
            return jsonlib.dumps(self.json).encode("utf-8")
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return bytes(self.body)

    def media_type(self, url: str) -> str:
        """The Content-Type to send: explicit, JSON, by extension, or sniffed."""
        if self.content_type:
            return self.content_type
        if self.json is not None:
            return JSON_TYPE
        guessed, _ = mimetypes.guess_type(urlsplit(url).path)
        if guessed:
            return guessed
        head = self.payload()[:64].lstrip()
        if head.startswith((b"{", b"[")):
            return JSON_TYPE
        if head.startswith(b"<"):
            return "text/html; charset=utf-8"
        return "text/plain; charset=utf-8"


def host_key(url: str) -> str:
    """`host` or `host:port` (non-default port) of an absolute URL, lower-case."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port and parts.port != default:
        return f"{host}:{parts.port}"
    return host


def as_response(value: Any) -> Response:
    """Let handlers return a Response, a JSON-able dict/list, or a str/bytes body."""
    if isinstance(value, Response):
        return value
    if isinstance(value, (dict, list)):
        return Response(json=value)
    if isinstance(value, (str, bytes)):
        return Response(body=value)
    raise TypeError(f"fakenet handler returned {type(value).__name__}, not a Response")
