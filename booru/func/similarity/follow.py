"""Loading the fingerprint tables into this process's indexes and keeping them in step.

Each booru process keeps one dhash index, one histogram index and one region index (the
`visual` search's, region_index), loaded from the database on
first use and kept in step by polling at query time (at most every POLL_SECONDS) for rows whose
`written_xid` is at least the oldest transaction that was still running at the previous poll
(migration 0002): every committed insert and rewrite is seen, even one that committed out of
order. Rows deleted with their image are dropped when a search meets them.

Under gunicorn (SEARCH_INDEX_DIR set) the bases are stored bases (stored.py) that every worker
maps: the first process to need one reads the whole table and stores it; each worker maps the
newest and reads the rows written since it was stored. A worker whose delta grew past the
index's rebuild threshold folds it into a new stored base (one worker at a time), and every
worker moves over to it at its next poll. Where the directory cannot be written, a process
builds its own base as without it.
"""
from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flask import current_app

from booru.func.similarity import stored
from booru.func.similarity.dhash_index import DhashIndex
from booru.func.similarity.distances import normalise_histograms
from booru.func.similarity.histogram_index import HistogramIndex
from booru.func.similarity.region_index import KEYS, RegionIndex
from booru.func.similarity.table_rows import ROWS, read_rows

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25


def release_memory() -> None:
    """Hand the load's transient buffers back to the OS (glibc keeps freed heap otherwise)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# kind -> its index class (RegionIndex: the `visual` search's windows)
INDEXES = {"dhash": DhashIndex, "histogram": HistogramIndex, "region": RegionIndex}


@dataclass
class Follower:
    """One index kept in step with its table. With a `directory` (stored.py) its base is the newest
    stored one, mapped from files every worker of the machine shares; without, this process
    builds its own."""

    kind: str  # a key of ROWS
    directory: Path | None = None
    index: DhashIndex | HistogramIndex | RegionIndex | None = None
    xmin: str | None = None
    generation: int = 0  # of the stored base the index is over
    polled: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    busy: bool = False  # a stored base is being adopted or built in the background

    def current(self) -> DhashIndex | HistogramIndex | RegionIndex:
        with self.lock:
            if self.index is None:
                self._load()
            elif time.monotonic() - self.polled >= POLL_SECONDS:
                self._poll()
                if self.directory is not None:
                    self._follow_stored()
        if self.directory is None:
            self.index.rebuild_in_background()
        return self.index

    def _rows(self) -> tuple[str, int]:
        return ROWS[self.kind]

    def _load(self) -> None:
        started = time.monotonic()
        for attempt in range(3 if self.directory is not None else 0):
            try:
                self.index, self.xmin, self.generation = self._adopted(self._newest_or_built())
                break
            except FileNotFoundError:  # replaced by a newer one between finding and mapping it
                if attempt < 2:
                    continue
                raise
            except OSError as exc:  # e.g. the directory is not writable: this process keeps its own
                log.warning("similarity index %s: no stored base in %s (%s); building this process's own",
                            self.kind, self.directory, exc)
                self.directory = None
                break
        if self.directory is None:
            self.xmin, rows = read_rows(*self._rows(), None)
            self.index = self._built(rows)
            del rows
            release_memory()
        self.polled = time.monotonic()
        log.info("similarity index %s: %d images, %.0f MiB, loaded in %.1f s%s", self.kind, len(self.index),
                 self.index.nbytes / 2**20, self.polled - started,
                 "" if self.directory is None else f" (mapped from {self.directory})")

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

    # stored bases (self.directory)
    def _newest_or_built(self) -> stored.Stored:
        """The newest stored base; without one, one built from the whole table and stored."""
        found = stored.newest(self.directory, self.kind)
        if found is not None:
            return found
        with stored.building(self.directory, self.kind):
            found = stored.newest(self.directory, self.kind)  # another process's, built meanwhile
            if found is None:
                xmin, rows = read_rows(*self._rows(), None)
                index = self._built(rows)
                del rows
                found = stored.store(self.directory, self.kind, index.snapshot.base.arrays(), xmin)
                del index
                release_memory()
        return found

    def _built(self, rows: np.ndarray) -> DhashIndex | HistogramIndex | RegionIndex:
        """An index over the whole table's rows, built in this process."""
        return INDEXES[self.kind](rows[:, 0], self._values(rows))

    def _adopted(self, found: stored.Stored) -> tuple[DhashIndex | HistogramIndex | RegionIndex, str, int]:
        """(index, xmin, generation): an index over the stored base, brought up to date."""
        index = INDEXES[self.kind](base=INDEXES[self.kind].base_type.restored(stored.mapped(found)))
        xmin, rows = read_rows(*self._rows(), found.xmin)
        if len(rows):
            index.upsert(rows[:, 0], self._values(rows))
        return index, xmin, found.generation

    def _follow_stored(self) -> None:
        """Adopt a newer stored base, or build and store one when this delta grew too large (in
        the background; called holding the lock)."""
        if self.busy:
            return
        found = stored.newest(self.directory, self.kind)
        if found is not None and found.generation > self.generation:
            work = lambda: self._adopt(found)  # noqa: E731
        elif self.index.needs_rebuild():
            work = self._store_folded
        else:
            return
        self.busy = True
        app = current_app._get_current_object()

        def run() -> None:
            try:
                with app.app_context():
                    work()
            except FileNotFoundError:  # replaced by a newer base meanwhile: the next poll adopts that
                pass
            except Exception:  # the next poll tries again
                log.exception("similarity index %s: keeping the current base", self.kind)
            finally:
                self.busy = False

        threading.Thread(target=run, name=f"similarity-stored-{self.kind}", daemon=True).start()

    def _adopt(self, found: stored.Stored) -> None:
        index, xmin, generation = self._adopted(found)
        with self.lock:
            self.index, self.xmin, self.generation = index, xmin, generation
        release_memory()  # what the old index's delta held
        log.info("similarity index %s: now over the stored base %s", self.kind, found.path.name)

    def _store_folded(self) -> None:
        """Store this process's index (its base and delta folded into one base) as the newest
        base; unless another process is storing one, which this one adopts when it is in place."""
        with stored.building(self.directory, self.kind, wait=False) as mine:
            if not mine:
                return
            with self.lock:
                index, xmin = self.index, self.xmin
                snapshot = index.snapshot
            found = stored.newest(self.directory, self.kind)
            if found is not None and found.generation > self.generation:
                return  # stored while this process waited: adopted at the next poll
            try:
                stored.store(self.directory, self.kind, index.folded(snapshot).arrays(), xmin)
            except OSError as exc:  # e.g. the disk is full: this process folds its own, as without a directory
                log.warning("similarity index %s: could not store a base in %s (%s); rebuilding this "
                            "process's own", self.kind, self.directory, exc)
                index.rebuild()
        release_memory()

    def forget(self) -> None:
        """Let go of the index (its next use loads it again)."""
        with self.lock:
            self.index, self.xmin, self.generation = None, None, 0


def followers() -> dict[str, Follower]:
    """This process's indexes for the app's database (stored bases under SEARCH_INDEX_DIR, when
    set: gunicorn sets it)."""
    root = current_app.config.get("SEARCH_INDEX_DIR") or os.environ.get("SEARCH_INDEX_DIR")
    directory = stored.directory_for(Path(root), current_app.config["SQLALCHEMY_DATABASE_URI"]) if root else None
    return current_app.extensions.setdefault("lzb_similarity", {
        kind: Follower(kind, directory) for kind in INDEXES})


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
    """Load this process's indexes now (gunicorn's master, before it forks the workers). With
    stored bases the master only stores them: each worker maps them, and the master, which
    searches nothing, keeps no generation mapped that the workers have moved on from."""
    started = time.monotonic()
    try:
        load_all(app)
    except Exception as exc:  # e.g. the database is not up yet: each worker loads its own
        log.warning("search indexes not preloaded in the master (%s); each worker loads its own", exc)
        return
    with app.app_context():
        for follower in followers().values():
            if follower.directory is not None:
                follower.forget()
    release_memory()
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
