"""Loading the fingerprint tables into this process's indexes and keeping them in step.

Each booru process keeps one dhash index, one histogram index and one region index (the
`visual` search's, region_index), loaded from the database on
first use and kept in step by polling at query time (at most every POLL_SECONDS) for rows whose
`written_xid` is at least the oldest transaction that was still running at the previous poll
(migration 0002): every committed insert and rewrite is seen, even one that committed out of
order. Rows deleted with their image are dropped when a search meets them.
"""
from __future__ import annotations

import ctypes
import io
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from sqlalchemy import text

from booru.extensions import db
from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.distances import normalise_histograms
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.region_index import KEYS, RegionIndex
from common.fingerprint import CHANNELS

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25

DHASH_ROWS = ("SELECT id, red::bigint, green::bigint, blue::bigint FROM dhash "
              "WHERE red IS NOT NULL AND green IS NOT NULL AND blue IS NOT NULL")
HISTOGRAM_ROWS = ("SELECT id, " + ", ".join(f"coalesce({c}[{i}], 0)::bigint" for c in CHANNELS for i in range(1, 5))
                  + " FROM histogram WHERE red IS NOT NULL AND green IS NOT NULL AND blue IS NOT NULL")
REGION_ROWS = ("SELECT id, " + ", ".join(f"dhashes[{i}]" for i in range(1, 3 * KEYS + 1))
               + f" FROM region_dhash WHERE array_length(dhashes, 1) = {3 * KEYS}")
# kind -> (rows, columns read)
ROWS = {"dhash": (DHASH_ROWS, 4), "histogram": (HISTOGRAM_ROWS, 13), "region": (REGION_ROWS, 1 + 3 * KEYS)}
SINCE = " AND written_xid >= %s::xid8"


def parse_binary_copy(data: bytes | memoryview, columns: int) -> np.ndarray:
    """Rows of a `COPY … (FORMAT binary)` whose columns are all NOT NULL bigints, as int64."""
    if len(data) < 21:
        return np.empty((0, columns), dtype=np.int64)
    extension = int.from_bytes(bytes(data[15:19]), "big")
    body = memoryview(data)[19 + extension: len(data) - 2]  # the trailer is a field count of -1
    layout = [("fields", ">i2")]
    for n in range(columns):
        layout += [(f"length{n}", ">i4"), (f"value{n}", ">i8")]
    rows = np.frombuffer(body, dtype=np.dtype(layout))
    return np.stack([rows[f"value{n}"].astype(np.int64) for n in range(columns)], axis=1) \
        if len(rows) else np.empty((0, columns), dtype=np.int64)


def read_rows(select_sql: str, columns: int, since: str | None) -> tuple[str, np.ndarray]:
    """(oldest running transaction, rows) read in one snapshot; rows written from `since` on only
    when given."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            connection.execute(text("SET LOCAL statement_timeout = '10min'"))  # a whole-table load, not a request
            xmin = connection.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text")).scalar_one()
            cursor = connection.connection.dbapi_connection.cursor()
            statement = select_sql if since is None else select_sql + cursor.mogrify(SINCE, (since,)).decode()
            buffer = io.BytesIO()
            cursor.copy_expert(f"COPY ({statement}) TO STDOUT WITH (FORMAT binary)", buffer)
            cursor.close()
    return xmin, parse_binary_copy(buffer.getbuffer(), columns)


def release_memory() -> None:
    """Hand the load's transient buffers back to the OS (glibc keeps freed heap otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@dataclass
class Follower:
    """One index kept in step with its table."""

    kind: str  # a key of ROWS
    index: DhashIndex | HistogramIndex | RegionIndex | None = None
    xmin: str | None = None
    polled: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> DhashIndex | HistogramIndex | RegionIndex:
        with self.lock:
            if self.index is None:
                self._load()
            elif time.monotonic() - self.polled >= POLL_SECONDS:
                self._poll()
        self.index.rebuild_in_background()
        return self.index

    def _rows(self) -> tuple[str, int]:
        return ROWS[self.kind]

    def _load(self) -> None:
        started = time.monotonic()
        self.xmin, rows = read_rows(*self._rows(), None)
        ids, values = rows[:, 0], self._values(rows)
        self.index = {"dhash": DhashIndex, "histogram": HistogramIndex, "region": RegionIndex}[self.kind](ids, values)
        self.polled = time.monotonic()
        del rows, values
        release_memory()
        log.info("similarity index %s: %d images, %.0f MiB, loaded in %.1f s", self.kind, len(ids),
                 self.index.nbytes / 2**20, self.polled - started)

    def _poll(self) -> None:
        self.xmin, rows = read_rows(*self._rows(), self.xmin)
        self.polled = time.monotonic()
        if len(rows):
            self.index.upsert(rows[:, 0], self._values(rows))

    def _values(self, rows: np.ndarray) -> np.ndarray:
        if self.kind == "dhash":
            return np.ascontiguousarray(rows[:, 1:4]).view(np.uint64)
        if self.kind == "region":
            return np.ascontiguousarray(rows[:, 1:]).view(np.uint64).reshape(-1, KEYS, 3)
        return normalise_histograms(rows[:, 1:13])


def followers() -> dict[str, Follower]:
    """This process's indexes for the app's database."""
    return current_app.extensions.setdefault("lzb_similarity", {
        "dhash": Follower("dhash"), "histogram": Follower("histogram"), "region": Follower("region")})


def load_all(app) -> None:
    """Load (or bring up to date) this process's indexes, one thread each: the database reads
    one table while numpy builds the other's index."""
    with app.app_context():
        kinds = list(followers().values())
    failures: list[Exception] = []

    def load(follower: Follower) -> None:
        try:
            with app.app_context():
                follower.current()
        except Exception as exc:  # handed to the caller
            failures.append(exc)

    threads = [threading.Thread(target=load, args=(f,), name=f"similarity-load-{f.kind}") for f in kinds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def preload(app) -> None:
    """Load this process's indexes now (gunicorn's master, before it forks the workers)."""
    started = time.monotonic()
    try:
        load_all(app)
    except Exception as exc:  # e.g. the database is not up yet: each worker loads its own
        log.warning("search indexes not preloaded in the master (%s); each worker loads its own", exc)
        return
    log.info("search indexes preloaded for the workers in %.1f s", time.monotonic() - started)


def warm_up(app) -> threading.Thread:
    """Load this process's indexes in the background (e.g. from gunicorn's post_worker_init),
    so the first search does not wait for them."""

    def load() -> None:
        try:
            load_all(app)
        except Exception as exc:  # e.g. the database is not up yet: the first search loads them
            log.warning("search indexes not preloaded (%s); the first search will load them", exc)

    thread = threading.Thread(target=load, name="similarity-index-warm-up", daemon=True)
    thread.start()
    return thread
