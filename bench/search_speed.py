"""Search speed: our exact in-memory indexes against the seed's SQL, same database, same run.

    python bench/search_speed.py [--sizes 100000,300000,1000000] [--queries 200] [--seed-queries 10]

Starts an embedded PostgreSQL under a temporary directory, migrates a database, and grows it to
each size with realistic synthetic fingerprints (bench/support.py: channel-correlated
dhashes, clusters of near-duplicates, 35 % exact copies with a heavy head; and each image's
`visual` region dhashes, support.region_windows), bulk-loaded with COPY.
At each size a fresh booru app loads its indexes (load time and memory reported), then:

* ours: `booru.func.similarity.search_fingerprint` as the endpoint calls it (index poll, search
  with the mirrored query for dhash, hits described from the database), q=10, default radius;
  on near-duplicate queries (reposts of stored images), on novel pictures, and on
  near-duplicates with a clipped light band (the top 1–3 of the 8 dhash rows clipped, as a
  brighter copy with a white sky has: the dhash searches leave those bits out too);
* seed: its PL/pgSQL distance per row, ORDER BY distance LIMIT 10 (bench/support.py),
  plus the same description of the hits (`combined` is set against the seed's dhash).

Prints p50/p95 in ms per algorithm and size and the ratio of the p50s.

Then, at the largest size, booru under gunicorn as supervisord runs it (`--workers`, default 3):
the cold start (launch to the first answered search) and the memory of the whole gunicorn tree
as PSS (shared pages counted once across the processes), after every worker has answered
searches; with the index bases stored by the master and mapped by every worker (the default),
against each process building its own (SEARCH_INDEX_DIR empty: shared copy-on-write from the
master until a worker rebuilds), each then again after 6 % more images were added (past the 5 %
that makes a worker rebuild its base) and folded in; and stored by the first worker
(BOORU_PRELOAD=0).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import io
import os
import signal
import subprocess
from typing import Callable

import numpy as np
import psutil
import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import (SEED_QUERIES, fingerprints, free_port, load, migrated_app, near_queries,  # noqa: E402
                     novel_queries, percentiles, region_windows, rss_mib, start_booru, start_postgres)

from booru.func import similarity as search  # noqa: E402
from booru.func.similarity.follow import load_all  # noqa: E402
from booru.func.similarity.index import Hits  # noqa: E402
from booru.func.similarity.planner import DEFAULT_RADIUS  # noqa: E402
from booru.func.similarity.region_index import KEYS  # noqa: E402
from booru.func.similarity.results import PostFilter, describe_pictures  # noqa: E402
from common.fingerprint import CHANNELS, Fingerprint  # noqa: E402

ALGORITHMS = ("combined", "dhash_xor_norm", "abs_norm", "eucl_norm")
SEED_METHOD = {"combined": "dhash_xor_norm"}  # the seed had no combined search: compared with its dhash


def as_fingerprint(words: np.ndarray, counts: np.ndarray, clipped_rows: int = 0) -> Fingerprint:
    """A query fingerprint; the mirrored dhash is another picture's (what a mirror usually is).
    With `clipped_rows`, the top rows of each channel's hash are clipped (and so all 0)."""
    clipped = (2**64 - 1) ^ ((1 << 8 * (8 - clipped_rows)) - 1)
    hexes = {c: format(int(w) & ~clipped, "016x") for c, w in zip(CHANNELS, words)}
    mirrored = {c: format((int(w) ^ 0x5A5A5A5A5A5A5A5A) & ~clipped, "016x") for c, w in zip(CHANNELS, words)}
    histogram = {c: [int(v) for v in counts[4 * n:4 * n + 4]] for n, c in enumerate(CHANNELS)}
    band = {c: format(clipped, "016x") for c in CHANNELS} if clipped_rows else None
    return Fingerprint("0" * 64, "0" * 32, 512, 512, 1, "image/jpeg", histogram, hexes, mirrored, band, band)


def time_ours(app, queries: list[Fingerprint], algorithm: str) -> tuple[list[float], float]:
    """Per-query seconds and the mean number of hits."""
    samples, found = [], 0
    with app.app_context():
        search.search_fingerprint(queries[0], algorithm, 10, None)  # warm
        for query in queries:
            began = time.perf_counter()
            result = search.search_fingerprint(query, algorithm, 10, None)
            samples.append(time.perf_counter() - began)
            found += len(result["hits"])
    return samples, found / len(queries)


def _bits(word: np.uint64) -> str:
    return format(int(word), "064b")


def time_seed(app, uri: str, queries: list[Fingerprint], words: np.ndarray, counts: np.ndarray,
              algorithm: str) -> list[float]:
    algorithm = SEED_METHOD.get(algorithm, algorithm)
    samples = []
    connection = psycopg2.connect(uri)
    try:
        with app.app_context(), connection.cursor() as cursor:
            for n, query in enumerate(queries):
                if algorithm == "dhash_xor_norm":
                    params = (*(_bits(w) for w in words[n]), 10)
                else:
                    params = (counts[n][0:4].tolist(), counts[n][4:8].tolist(), counts[n][8:12].tolist(), 10)
                began = time.perf_counter()
                cursor.execute(SEED_QUERIES[algorithm], params)
                rows = cursor.fetchall()
                hits = Hits(np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=float),
                            np.zeros(len(rows), dtype=bool))
                describe_pictures(hits, algorithm, PostFilter(), 20)
                samples.append(time.perf_counter() - began)
    finally:
        connection.close()
    return samples


def load_indexes(app) -> tuple[float, float, dict[str, int]]:
    """Seconds and MiB of RSS to load both indexes in a fresh app, and their sizes in bytes."""
    before, began = rss_mib(), time.monotonic()
    load_all(app)  # as gunicorn's master does
    with app.app_context():
        sizes = {kind: follower.current().nbytes for kind, follower in search.followers().items()}
    return time.monotonic() - began, rss_mib() - before, sizes


def bench_size(server, uri: str, size: int, words: np.ndarray, counts: np.ndarray, options) -> list[str]:
    from booru import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": uri})
    seconds, mib, sizes = load_indexes(app)
    print(f"\n== {size:,} images: indexes loaded in {seconds:.1f} s, RSS +{mib:.0f} MiB "
          f"(dhash {sizes['dhash'] / 2**20:.0f} MiB, histogram {sizes['histogram'] / 2**20:.0f} MiB, "
          f"region {sizes['region'] / 2**20:.0f} MiB of arrays)", flush=True)
    rng = np.random.default_rng(size)
    near_w, near_c = near_queries(rng, words[:size], counts[:size], options.queries)
    novel_w, novel_c = novel_queries(rng, options.queries // 2)
    near = [as_fingerprint(w, c) for w, c in zip(near_w, near_c)]
    novel = [as_fingerprint(w, c) for w, c in zip(novel_w, novel_c)]
    clipped = [as_fingerprint(w, c, 1 + n % 3) for n, (w, c) in enumerate(zip(near_w, near_c))][: options.queries // 2]
    lines = []
    for algorithm in ALGORITHMS:
        ours, hits = time_ours(app, near, algorithm)
        ours_novel, _ = time_ours(app, novel, algorithm)
        ours_clipped, _ = time_ours(app, clipped, algorithm)
        k = options.seed_queries
        seed = time_seed(app, uri, near[:k], near_w[:k], near_c[:k], algorithm)
        (o50, o95), (n50, n95), (s50, s95) = percentiles(ours), percentiles(ours_novel), percentiles(seed)
        c50, c95 = percentiles(ours_clipped)
        line = (f"{size:>9,} {algorithm:<15} ours near p50 {o50:7.2f} p95 {o95:7.2f} | novel p50 {n50:7.2f} "
                f"p95 {n95:7.2f} | clipped p50 {c50:7.2f} p95 {c95:7.2f} | seed p50 {s50:8.1f} p95 {s95:8.1f} "
                f"| x{s50 / o50:6.0f} | hits/query {hits:.1f}")
        print(line, flush=True)
        lines.append(line)
    with app.app_context():
        from booru.extensions import db
        db.engine.dispose()
    return lines


def tree_pss_mib(pid: int) -> tuple[float, int]:
    """PSS of a process and its descendants in MiB, and how many processes that is."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    return sum(p.memory_full_info().pss for p in processes) / 2**20, len(processes)


def files_pss_mib(pid: int, folder: str) -> float:
    """PSS of the files under `folder` mapped by a process and its descendants, in MiB (deleted
    ones included: a process still mapping an older base)."""
    root = psutil.Process(pid)
    return sum(m.pss for p in [root, *root.children(recursive=True)] for m in p.memory_maps(grouped=True)
               if m.path.startswith(folder)) / 2**20


def _settled_pss(process: subprocess.Popen, search: Callable[[], None], least: float = 0.0) -> tuple[float, int]:
    """The tree's PSS once it stopped changing (no worker still loading or rebuilding), searching
    on new connections meanwhile so every worker polls; at least `least` seconds."""
    stable, last, count = 0, 0.0, 0
    began, deadline = time.monotonic(), time.monotonic() + 600
    while (stable < 3 or time.monotonic() - began < least) and time.monotonic() < deadline:
        for _ in range(6):
            search()
        time.sleep(2)
        pss, count = tree_pss_mib(process.pid)
        stable = stable + 1 if abs(pss - last) < 5 else 0
        last = pss
    return last, count


def bench_workers(uri: str, size: int, workers: int, mode: str, grow: tuple[np.ndarray, ...] | None) -> str:
    """Cold start and PSS of booru under gunicorn with `workers` workers, `mode` one of
    `stored` (the bases mapped from SEARCH_INDEX_DIR, stored by the master), `stored-no-preload`
    (stored by the first worker) and `own` (SEARCH_INDEX_DIR empty: each process builds its own,
    shared copy-on-write from the master until a worker rebuilds). With `grow` (words, counts,
    regions of new images), the PSS again after they were added and the workers rebuilt."""
    from PIL import Image

    from booru import auth, create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": uri})
    with app.app_context():
        key = auth.create_key("reader", "bench")[1]
        from booru.extensions import db
        db.engine.dispose()
    query = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 30, 200)).save(query, "PNG")
    port = free_port()
    index_dir = tempfile.mkdtemp(prefix="lzb-bench-index-")
    env = {"BOORU_PRELOAD": "0" if mode == "stored-no-preload" else "1",
           "SEARCH_INDEX_DIR": "" if mode == "own" else index_dir, "QUOTA_READER": "none"}
    began = time.monotonic()
    process = start_booru(uri, port, workers, env=env)
    url, headers = f"http://127.0.0.1:{port}/api/similarity/file", {auth.HEADER: key}

    def search() -> None:  # a new connection each: the kernel spreads them over the workers
        answer = requests.post(url, headers=headers, files={"image": ("q.png", query.getvalue())}, timeout=300)
        assert answer.status_code == 200, answer.text

    try:
        search()
        cold = time.monotonic() - began
        pss, count = _settled_pss(process, search)
        line = (f"{size:>9,} gunicorn {workers} workers, {mode}: cold start {cold:.1f} s, "
                f"PSS {pss:.0f} MiB over {count} processes (index files {files_pss_mib(process.pid, index_dir):.0f})")
        if grow is not None:
            added = len(grow[0])
            load(uri, size, *grow)
            pss, count = _settled_pss(process, search, least=60)
            line += (f"; {added:,} images added and folded in: PSS {pss:.0f} MiB "
                     f"(index files {files_pss_mib(process.pid, index_dir):.0f})")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        shutil.rmtree(index_dir, ignore_errors=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--queries", type=int, default=200, help="our queries per algorithm and size")
    parser.add_argument("--seed-queries", type=int, default=10, help="the seed's queries per algorithm and size")
    parser.add_argument("--keep", action="store_true", help="keep the database directory")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers for the memory figures (0: skip)")
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    began = time.monotonic()
    words, counts = fingerprints(max(sizes))
    print(f"generated {max(sizes):,} fingerprints ({len(np.unique(words, axis=0)):,} distinct dhashes) "
          f"in {time.monotonic() - began:.0f} s; radii {DEFAULT_RADIUS}", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="lzb-search-bench-"))
    server = start_postgres(folder / "data", "max_wal_size=4GB", "shared_buffers=512MB")
    try:
        uri = server.uri("lzb_search_bench")
        migrated_app(uri)
        loaded, lines = 0, []
        for size in sizes:
            seconds = load(uri, loaded, words[loaded:size], counts[loaded:size],
                           region_windows(np.random.default_rng(size), size - loaded, KEYS))
            print(f"loaded images {loaded + 1:,}..{size:,} with COPY in {seconds:.0f} s", flush=True)
            loaded = size
            lines += bench_size(server, uri, size, words, counts, options)
        if options.workers:
            size, grow = sizes[-1], max(1, sizes[-1] * 6 // 100)  # past the 5 % that makes a worker rebuild
            for mode in ("stored", "own", "stored-no-preload"):
                rng = np.random.default_rng(size + len(lines))
                added = None if mode == "stored-no-preload" else (
                    words[:grow], counts[:grow], region_windows(rng, grow, KEYS))
                lines.append(bench_workers(uri, size, options.workers, mode, added))
                size += 0 if added is None else grow
                print(lines[-1], flush=True)
        print("\nsummary (ms; x = seed p50 / ours near-duplicate p50)")
        print("\n".join(lines))
    finally:
        server.stop()
        if not options.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
