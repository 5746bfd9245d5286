"""`python -m greg import RS_2024-01.zst ... [--subreddit NAME ...] [--batch N]`

Streams the monthly NDJSON submission dumps (Pushshift / Arctic Shift, zstd with a 2 GiB
window), keeps the wanted subreddits and posts them to booru in batches. Lines are not
parsed unless a cheap bytes match on `"subreddit":"<name>"` finds them, and the match runs
over whole decompressed chunks, not line by line. Ctrl-C stops between batches: what was
posted is complete, the rest is not posted; re-running is harmless (booru upserts by id).
"""
from __future__ import annotations

import json
import logging
import re
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import zstandard
from tqdm import tqdm

from common.client import BooruClient, BooruUnavailable
from greg.format import BadPost, format_submission

log = logging.getLogger("greg.dump")

CHUNK = 1 << 22          # decompressed bytes handed to the matcher at once
WINDOW = 1 << 31         # the dumps are compressed with --long=31
Sink = Callable[[list[dict]], "int | None"]   # returns how many booru refused (None = 0)


@dataclass
class Stats:
    lines: int = 0
    matched: int = 0
    posted: int = 0
    rejected: int = 0
    bad: int = 0
    bytes_read: int = 0
    interrupted: bool = False
    files: list[str] = field(default_factory=list)


def matcher(names: Iterable[str]) -> re.Pattern[bytes] | None:
    """Bytes regex finding `"subreddit": "<one of names>"` (names case-insensitive)."""
    names = sorted({n.strip().removeprefix("r/").lower() for n in names if n.strip()})
    if not names:
        return None
    choice = b"|".join(re.escape(n.encode()) for n in names)
    return re.compile(rb'"subreddit"\s*:\s*"(?i:' + choice + rb')"')


def read_chunks(path: Path, progress: tqdm | None = None) -> Iterator[bytes]:
    """Decompressed blocks that end on a line boundary (the last may not)."""
    with open(path, "rb") as raw:
        reader = zstandard.ZstdDecompressor(max_window_size=WINDOW).stream_reader(
            raw, read_size=1 << 20, read_across_frames=True)
        carry = b""
        position = 0
        while True:
            block = reader.read(CHUNK)
            if progress is not None:
                now = raw.tell()
                progress.update(now - position)
                position = now
            if not block:
                break
            block = carry + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                carry = block
                continue
            carry = block[cut:]
            yield block[:cut]
        if carry.strip():
            log.warning("dump: %s ends in the middle of a line (truncated download?)", path)
            yield carry


def candidate_lines(block: bytes, pattern: re.Pattern[bytes] | None) -> Iterator[bytes]:
    """Lines of `block` that may belong to the wanted subreddits (all lines without a filter)."""
    if pattern is None:
        yield from block.splitlines()
        return
    line_end = -1
    for match in pattern.finditer(block):
        if match.start() < line_end:
            continue  # another hit on a line already taken
        start = block.rfind(b"\n", 0, match.start()) + 1
        line_end = block.find(b"\n", match.end())
        if line_end < 0:
            line_end = len(block)
        yield block[start:line_end]


def parse(line: bytes, wanted: set[str]) -> dict | None:
    """The post on this line if it is one of the wanted subreddits; raises ValueError if bad."""
    if not line.strip():
        return None
    post = json.loads(line)
    if not isinstance(post, dict):
        raise ValueError("line is not a JSON object")
    if wanted and str(post.get("subreddit", "")).lower() not in wanted:
        return None
    return post


class Importer:
    """Scan files, format the matching posts and hand full batches to `sink`."""

    def __init__(self, sink: Sink, names: Iterable[str] = (), batch: int = 1000,
                 canonical: dict[str, str] | None = None, show_progress: bool = True):
        self.sink = sink
        self.names = {n.strip().removeprefix("r/").lower() for n in names if n.strip()}
        self.pattern = matcher(self.names)
        self.batch = max(1, batch)
        self.canonical = canonical or {}
        self.show_progress = show_progress
        self.stop = threading.Event()
        self.stats = Stats()

    def run(self, paths: list[Path]) -> Stats:
        total = sum(p.stat().st_size for p in paths)
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="import",
                  disable=None if self.show_progress else True, dynamic_ncols=True) as progress:
            pending: list[dict] = []
            for path in paths:
                self.stats.files.append(str(path))
                for block in read_chunks(path, progress):
                    self.stats.lines += block.count(b"\n") + (not block.endswith(b"\n"))
                    pending.extend(self.scan(block))
                    while len(pending) >= self.batch and not self.stop.is_set():
                        self.flush(pending[:self.batch])
                        del pending[:self.batch]
                    progress.set_postfix(posts=self.stats.posted, bad=self.stats.bad, refresh=False)
                    if self.stop.is_set():
                        self.stats.interrupted = True
                        return self.stats
            if pending and not self.stop.is_set():
                self.flush(pending)
            progress.set_postfix(posts=self.stats.posted, bad=self.stats.bad)
        self.stats.interrupted = self.stop.is_set()
        return self.stats

    def scan(self, block: bytes) -> list[dict]:
        out = []
        for line in candidate_lines(block, self.pattern):
            try:
                post = parse(line, self.names)
                if post is None:
                    continue
                submission = format_submission(post)
            except (ValueError, BadPost, TypeError, KeyError) as exc:
                self.stats.bad += 1
                if self.stats.bad <= 10:
                    log.warning("dump: skipping a bad line (%s): %.120r", exc, line)
                continue
            name = submission["subreddit"].lower()
            submission["subreddit"] = self.canonical.get(name, submission["subreddit"])
            out.append(submission)
        self.stats.matched += len(out)
        return out

    def flush(self, submissions: list[dict]) -> None:
        rejected = self.sink(submissions) or 0
        self.stats.posted += len(submissions) - rejected
        self.stats.rejected += rejected


def booru_sink(client: BooruClient, stop: threading.Event, max_wait: float = 60.0) -> Sink:
    """Post a batch, waiting out booru outages (the same batch again, so none is lost)."""
    from greg.worker import post_batches

    def sink(submissions: list[dict]) -> int:
        wait = 1.0
        while True:
            try:
                return post_batches(client, submissions, batch=len(submissions))[1]
            except BooruUnavailable as exc:
                log.warning("dump: %s; retrying the batch in %.0fs", exc, wait)
                if stop.wait(wait):
                    raise KeyboardInterrupt from exc
                wait = min(max_wait, wait * 2)
    return sink


def null_sink(submissions: list[dict]) -> int:
    """Discard (benchmarks, dry runs)."""
    return 0


def install_interrupt(importer: Importer) -> None:
    """First Ctrl-C / SIGTERM: finish the batch being posted, then stop. Second: abort."""
    def handler(signum: int, _frame: object) -> None:
        if importer.stop.is_set():
            raise KeyboardInterrupt
        log.warning("dump: interrupted; stopping after the current batch (Ctrl-C again to abort)")
        importer.stop.set()
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def summary(stats: Stats, seconds: float) -> str:
    rate = stats.lines / seconds if seconds > 0 else 0.0
    state = "interrupted (re-run to finish; booru upserts, nothing is duplicated)" if stats.interrupted else "done"
    return (f"greg import {state}: lines={stats.lines} matched={stats.matched} posted={stats.posted} "
            f"rejected={stats.rejected} bad={stats.bad} elapsed={seconds:.1f}s ({rate:,.0f} lines/s)")


def main(paths: list[str], names: list[str], batch: int, client: BooruClient,
         progress: bool = True) -> int:
    files = [Path(p) for p in paths]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        log.error("greg import: no such file: %s", ", ".join(missing))
        return 2
    try:
        canonical = {s["name"].lower(): s["name"] for s in client.subreddits()}
    except BooruUnavailable as exc:
        log.error("greg import: %s", exc)
        return 1
    if not names:
        names = list(canonical.values())
        log.info("greg import: no --subreddit given; keeping booru's %d subreddits", len(names))
    unknown = sorted({n.removeprefix("r/") for n in names if n.removeprefix("r/").lower() not in canonical})
    if unknown:
        log.error("greg import: not registered in booru: %s (register first: POST /api/subreddit "
                  "with an admin key)", ", ".join(unknown))
        return 2
    if not names:
        log.error("greg import: booru has no subreddits and no --subreddit was given; nothing to keep")
        return 2
    stop = threading.Event()
    importer = Importer(booru_sink(client, stop), names, batch, canonical,
                        show_progress=progress)
    importer.stop = stop
    install_interrupt(importer)
    started = time.monotonic()
    try:
        stats = importer.run(files)
    except KeyboardInterrupt:
        importer.stats.interrupted = True
        stats = importer.stats
    except (zstandard.ZstdError, OSError) as exc:
        log.error("greg import: cannot read the dump: %s", exc)
        return 1
    print(summary(stats, time.monotonic() - started), flush=True)
    return 130 if stats.interrupted else 0
