"""The names of greg's aggregation sources and how a source spec (`GREG_SOURCE`, a
subreddit's `source`) is read, so booru can validate a spec without importing greg.

    reddit        the official API (live: keeps a subreddit current)
    pushshift     a Pushshift-compatible archive
    arctic_shift  the public Arctic Shift archive

A spec is one name, or `archive,live` such as `arctic_shift,reddit`.
"""
from __future__ import annotations

from dataclasses import dataclass

LIVE: dict[str, bool] = {"reddit": True, "pushshift": False, "arctic_shift": False}
EXAMPLE = "arctic_shift,reddit"


@dataclass(frozen=True)
class Plan:
    """Which source keeps `updated` current and which (if any) backfills history."""

    live: str
    archive: str | None = None

    def __str__(self) -> str:
        return f"{self.archive},{self.live}" if self.archive else self.live


def plan(spec: str) -> Plan:
    """`reddit` -> Plan(live=reddit); `arctic_shift,reddit` -> archive + live; ValueError otherwise."""
    names = [part.strip().lower() for part in spec.replace("+", ",").split(",") if part.strip()]
    unknown = [name for name in names if name not in LIVE]
    if unknown or not 1 <= len(names) <= 2:
        raise ValueError(f"source {spec!r}: expected one of {', '.join(LIVE)} "
                         f"or 'archive,live' such as {EXAMPLE!r}")
    if len(names) == 1:
        return Plan(live=names[0])
    archive, live = names
    if LIVE[archive]:
        archive, live = live, archive
    if LIVE[archive]:
        raise ValueError(f"source {spec!r}: two live sources; pair an archive with a live one")
    return Plan(live=live, archive=archive)
