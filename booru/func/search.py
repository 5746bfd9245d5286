"""Reverse image search (DESIGN.md §9): fingerprint the query, search the exact in-memory
indexes, describe the hits.

Each booru process keeps one dhash index and one histogram index (booru.func.similarity_index),
loaded from the database on first use and kept in step by polling at query time (at most every
POLL_SECONDS) for rows whose `written_xid` is at least the oldest transaction that was still
running at the previous poll (migration 0002): every committed insert and rewrite is seen,
even one that committed out of order. Rows deleted with their image are dropped when a search
meets them.

Distances: `combined` (the default), then the seed's three:
* `combined`: `dhash_xor_norm` + COMBINED_WEIGHT × `abs_norm`, mirror-aware like dhash. The
  dhash tells pictures apart by structure, the histogram by colour: together they rank the
  original first where either alone ties or errs (flat gradients sharing one dhash, captions,
  crops; bench/search_quality.py). Images within the radius in dhash bits are its candidates.
* `dhash_xor_norm`: bits differing between the 192-bit dhashes (3 channels × 64), 0..192; the
  query's mirrored dhash is searched too and a hit found through it says `mirrored: true`.
  Where the query has bits comparing two clipped cells (both ≥ 250 or both ≤ 5: blown
  highlights, crushed shadows), the distance is the smaller of that count and the count
  without them scaled to 192 bits (DhashQuery), so a brightened copy whose light background
  clipped still finds its original.
* `abs_norm`: L1 distance between the 12-bin histograms, each channel divided by its pixel
  count (so each channel sums to 1), 0..6.
* `eucl_norm`: L2 distance between the same normalised histograms, 0..√6.
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

from booru.errors import Unusable
from booru.extensions import db
from booru.func.similarity_index import (DhashIndex, DhashQuery, HistogramIndex, Hits, combined_search,
                                         dhash_words, normalise_histograms)
from booru.func.tags import TAGS_OF_IMAGE
from common.fetch import IMAGE_TYPES, FetchError, fetch
from common.fingerprint import CHANNELS, Fingerprint, ImageError, fingerprint

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
# Defaults from bench/search_quality.py: about the p95 distance of a captioned copy of a photo
# (crop 5 %: p95 22 bits / 0.20 / 0.075; caption: 31 / 0.38 / 0.135), where 1.2 % of pairs of
# different corpus pictures fall within 32 bits (most of them flat, featureless images).
# combined: 40 holds a captioned photo's p95 (27) with margin and lets in about as few pairs of
# different corpus pictures (1.6 %) as 32 bits of dhash do (1.5 %); the weight 3 (one abs_norm unit
# = 3 bits) ranked best. (56 would hold the farthest captioned photo, 54, but takes 3× the time at
# a million images.)
DEFAULT_RADIUS = {"combined": 40.0, "dhash_xor_norm": 32.0, "abs_norm": 0.4, "eucl_norm": 0.15}
COMBINED_WEIGHT = 3.0
# Distance at which the score reaches 0: about the median distance between different pictures
# of the corpus (90 bits + 3 × 3.2, 90 bits, 3.2, 1.2).
SCORE_SCALE = {"combined": 100.0, "dhash_xor_norm": 96.0, "abs_norm": 3.0, "eucl_norm": 1.2}
INDEXES = {"combined": ("dhash", "histogram"), "dhash_xor_norm": ("dhash",), "abs_norm": ("histogram",),
           "eucl_norm": ("histogram",)}
NORM_P = {"abs_norm": 1, "eucl_norm": 2}
FETCH_DEADLINE = 30.0


# --- loading and following the fingerprint tables ---------------------------------------------

DHASH_ROWS = ("SELECT id, red::bigint, green::bigint, blue::bigint FROM dhash "
              "WHERE red IS NOT NULL AND green IS NOT NULL AND blue IS NOT NULL")
HISTOGRAM_ROWS = ("SELECT id, " + ", ".join(f"coalesce({c}[{i}], 0)::bigint" for c in CHANNELS for i in range(1, 5))
                  + " FROM histogram WHERE red IS NOT NULL AND green IS NOT NULL AND blue IS NOT NULL")
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

    kind: str  # "dhash" or "histogram"
    index: DhashIndex | HistogramIndex | None = None
    xmin: str | None = None
    polled: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> DhashIndex | HistogramIndex:
        with self.lock:
            if self.index is None:
                self._load()
            elif time.monotonic() - self.polled >= POLL_SECONDS:
                self._poll()
        self.index.rebuild_in_background()
        return self.index

    def _rows(self) -> tuple[str, int]:
        return (DHASH_ROWS, 4) if self.kind == "dhash" else (HISTOGRAM_ROWS, 13)

    def _load(self) -> None:
        started = time.monotonic()
        self.xmin, rows = read_rows(*self._rows(), None)
        ids, values = rows[:, 0], self._values(rows)
        self.index = DhashIndex(ids, values) if self.kind == "dhash" else HistogramIndex(ids, values)
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
        return normalise_histograms(rows[:, 1:13])


def followers() -> dict[str, Follower]:
    """This process's indexes for the app's database."""
    return current_app.extensions.setdefault("lzb_similarity", {
        "dhash": Follower("dhash"), "histogram": Follower("histogram")})


def warm_up(app) -> threading.Thread:
    """Load this process's indexes in the background (e.g. from gunicorn's post_worker_init),
    so the first search does not wait for them."""

    def load() -> None:
        try:
            with app.app_context():
                for follower in followers().values():
                    follower.current()
        except Exception as exc:  # e.g. the database is not up yet: the first search loads them
            log.warning("search indexes not preloaded (%s); the first search will load them", exc)

    thread = threading.Thread(target=load, name="similarity-index-warm-up", daemon=True)
    thread.start()
    return thread


def indexes_for(algorithm: str) -> dict[str, DhashIndex | HistogramIndex]:
    return {kind: followers()[kind].current() for kind in INDEXES[algorithm]}


# --- the query image ----------------------------------------------------------------------------

def fetch_image(url: str) -> bytes:
    """The image at a user's URL, through the safe fetcher only."""
    settings = current_app.config["SETTINGS"]
    try:
        return fetch(url, max_bytes=settings.max_image_bytes, timeout=settings.fetch_timeout,
                     deadline=min(settings.fetch_deadline, FETCH_DEADLINE), accept_types=IMAGE_TYPES).content
    except FetchError as exc:
        raise Unusable(f"cannot fetch the image at url: {exc.reason}", {"url": [exc.reason]}) from None


def fingerprint_query(data: bytes, field_name: str) -> Fingerprint:
    try:
        return fingerprint(data, current_app.config["SETTINGS"].max_image_pixels, query=True,
                           max_decode_pixels=current_app.config["SETTINGS"].max_decode_pixels)
    except ImageError as exc:
        raise Unusable(f"cannot use the image: {exc.reason}", {field_name: [exc.reason]}) from None


# --- searching ------------------------------------------------------------------------------------

def search_fingerprint(query: Fingerprint, algorithm: str, limit: int, max_distance: float | None) -> dict:
    """The hits for a fingerprinted query image, best first (distance, then image id)."""
    radius = DEFAULT_RADIUS[algorithm] if max_distance is None else float(max_distance)
    indexes = indexes_for(algorithm)
    for _ in range(5):
        hits = _search_indexes(indexes, query, algorithm, radius, limit)
        described = describe_hits(hits, algorithm)
        if len(described) == len(hits):
            break
        gone = sorted(set(hits.ids.tolist()) - {hit["id"] for hit in described})
        for index in indexes.values():
            index.remove(gone)  # deleted with their image since the index saw them
    return {"algorithm": algorithm, "max_distance": radius, "hits": described}


def _search_indexes(indexes: dict, query: Fingerprint, algorithm: str, radius: float, limit: int) -> Hits:
    dhashes = dhash_queries(query)
    histogram = normalise_histograms(np.array([[v for c in CHANNELS for v in query.histogram[c]]]))[0]
    if algorithm == "combined":
        return combined_search(indexes["dhash"], indexes["histogram"], dhashes, histogram, radius, limit,
                               COMBINED_WEIGHT)
    if algorithm == "dhash_xor_norm":
        return indexes["dhash"].search(dhashes, radius, limit)
    return indexes["histogram"].search(histogram, radius, limit, NORM_P[algorithm])


def dhash_queries(query: Fingerprint) -> list[DhashQuery]:
    """The query's dhash and, if it has one, its mirrored dhash, each with its clipped bits."""
    found = []
    for words, clipped in ((query.dhash, query.dhash_clipped), (query.dhash_mirrored, query.dhash_mirrored_clipped)):
        if words:
            found.append(DhashQuery.of(dhash_words(*(words[c] for c in CHANNELS)),
                                       dhash_words(*(clipped[c] for c in CHANNELS)) if clipped else None))
    return found


def score(distance: float, algorithm: str) -> float:
    """0–100, 100 for identical fingerprints, 0 at about the distance of unrelated images."""
    return round(max(0.0, 100.0 * (1.0 - distance / SCORE_SCALE[algorithm])), 2)


HIT_ROWS = text(f"""
    SELECT i.id, i.url, i.submission_id, s.title, s.subreddit, s.author, s.created, s.nsfw,
           {TAGS_OF_IMAGE} AS tags
    FROM image i JOIN submission s ON s.id = i.submission_id
    WHERE i.id = ANY(:ids)""")


def describe_hits(hits: Hits, algorithm: str) -> list[dict]:
    """Each hit with its image, post and tags (one query); hits whose image is gone are left out."""
    ids = [int(i) for i in hits.ids]
    if not ids:
        return []
    rows = {row.id: row for row in db.session.execute(HIT_ROWS, {"ids": ids})}
    described = []
    for image_id, distance, mirrored in zip(ids, hits.distances.tolist(), hits.mirrored.tolist()):
        row = rows.get(image_id)
        if row is None:
            continue
        described.append({
            "id": image_id, "url": row.url, "post": f"https://redd.it/{row.submission_id}",
            "submission_id": row.submission_id, "title": row.title, "subreddit": row.subreddit,
            "author": row.author, "created": row.created, "nsfw": row.nsfw, "tags": list(row.tags),
            "distance": distance, "score": score(distance, algorithm), "mirrored": bool(mirrored)})
    return described
