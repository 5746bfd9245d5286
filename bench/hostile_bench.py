"""Hostile clients against booru under gunicorn, bounded against unbounded, in one run.

    python bench/hostile_bench.py [--keep DIR] [--rows 1000000] [--slow 200] [--seconds 10]

Loads (or, with `--keep DIR`, reuses: the same directory as bench/load_bench.py's `--keep`) a
database of `--rows` images with posts, fingerprints and tags, then starts booru twice on it:

* `unbounded`: gunicorn's gthread worker, no decode budget, no reader quota (what booru did before
  its limits);
* `bounded`: booru/gunicorn_conf.py and the settings' defaults.

and prints for each:

1. /api/health latency (p50, p95, failures) while `--slow` connections send one header line a
   second (slowloris), for `--seconds`;
2. the workers' resident memory growth per hostile upload: 8000×8000 palette PNG and GIF (tens of
   kilobytes each) posted to /api/similarity/file one after another, then eight at once;
3. (bounded only) the slowest accepted tag query: the worst 8-term queries over the common tags
   (empty intersections, which scan every image), each the median of three, against one tag;
4. 429s issued to one reader key posting searches by upload from 4 clients for `--seconds`.

and first, as the baseline of ordinary traffic, load_bench's mixed phase for `--seconds`.
Every phase stops by itself; booru and PostgreSQL are stopped at the end.
"""
from __future__ import annotations

import argparse
import io
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_bench import (BOUNDARY, PHASES, Requests, fill, multipart, query_images, run_phase,  # noqa: E402
                        warm_cache)
from support import free_port, migrated_app, start_booru, start_postgres  # noqa: E402

CONFIGS = {
    "unbounded": {"BOORU_WORKER_CLASS": "gthread", "MAX_DECODE_PIXELS": str(10**12), "QUOTA_READER": "none"},
    "bounded": {},
}
WORST_TAGS = [  # accepted (at most 8 terms), each as costly as the tags of the loaded archive allow
    "rating:general rating:explicit",
    "landscape rating:general rating:explicit character:lara_croft",
    "landscape rating:general rating:explicit character:lara_croft series:tomb_raider",
    "character:lara_croft -series:tomb_raider",
    "rating:general rating:explicit landscape series:tomb_raider unknown_a unknown_b unknown_c unknown_d",
    "-landscape -rating:general -rating:explicit -character:lara_croft -series:tomb_raider -a -b -c",
]
MIB = 2**20


def palette_bomb(kind: str, side: int = 8000) -> bytes:
    pixels = np.zeros((side, side), np.uint8)
    pixels[::7, ::5] = 3
    image = Image.fromarray(pixels, "P")
    image.putpalette([n % 256 for n in range(768)])
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def workers_rss(booru: psutil.Process) -> int:
    return sum(child.memory_info().rss for child in booru.children(recursive=True))


def health_under_slowloris(base: str, port: int, connections: int, seconds: float) -> str:
    stop = threading.Event()
    sockets = []
    for _ in range(connections):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        sockets.append(sock)

    def dribble() -> None:
        n = 0
        while not stop.wait(1.0):
            for sock in sockets:
                try:
                    sock.sendall(b"X-Slow-%d: 1\r\n" % n)
                except OSError:
                    pass
            n += 1

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    latencies, failures = [], 0
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        began = time.perf_counter()
        try:
            ok = requests.get(f"{base}/health", timeout=3).status_code == 200
        except requests.RequestException:
            ok = False
        latencies.append(time.perf_counter() - began)
        failures += not ok
        time.sleep(0.1)
    stop.set()
    thread.join()
    for sock in sockets:
        sock.close()
    p50, p95 = np.percentile(np.array(latencies) * 1000, [50, 95])
    return f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, {failures} of {len(latencies)} failed or timed out (3 s)"


def peak_growth(booru: psutil.Process, work) -> tuple[float, float, object]:
    """Run `work()` while sampling the workers' resident memory every 10 ms: (peak growth, growth
    kept afterwards, in MiB, and what work returned)."""
    before = workers_rss(booru)
    peak, done = [before], threading.Event()

    def sample() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], workers_rss(booru))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    after = workers_rss(booru)
    return (max(peak[0], after) - before) / MIB, (after - before) / MIB, result


def hostile_uploads(base: str, key: str, booru: psutil.Process) -> str:
    bombs = [palette_bomb("PNG"), palette_bomb("GIF")]
    url = f"{base}/similarity/file"

    def upload(data: bytes) -> int:
        return requests.post(url, headers={"X-API-Key": key}, files={"image": ("q", data)}, timeout=300).status_code

    peaks, statuses = [], []
    for data in bombs * 2:
        peak, _, status = peak_growth(booru, lambda: upload(data))
        peaks.append(peak)
        statuses.append(status)
    with ThreadPoolExecutor(8) as pool:
        together, kept, answers = peak_growth(booru, lambda: list(pool.map(upload, bombs * 4)))
    sizes = "/".join(f"{len(b) // 1024} KB" for b in bombs)
    return (f"{sizes} PNG/GIF, one at a time: peak growth per upload max {max(peaks):.0f} MiB "
            f"(each: {', '.join(f'{g:.0f}' for g in peaks)}); eight at once: peak {together:.0f} MiB, "
            f"kept {kept:.0f} MiB; answers {sorted(set(statuses + answers))}; workers now "
            f"{workers_rss(booru) / MIB:.0f} MiB")


def tag_queries(base: str, key: str) -> str:
    def timed(tags: str) -> tuple[float, int]:
        began = time.perf_counter()
        status = requests.get(f"{base}/image", params={"state": "any", "limit": 50, "tags": tags},
                              headers={"X-API-Key": key}, timeout=120).status_code
        return time.perf_counter() - began, status

    def median(tags: str) -> tuple[float, set[int]]:
        runs = [timed(tags) for _ in range(3)]
        return statistics.median(t for t, _ in runs), {s for _, s in runs}

    baseline, _ = median("landscape")
    results = [(median(tags), tags) for tags in WORST_TAGS]
    (slowest, statuses), query = max(results)
    refused, status = timed(" ".join(f"tag{n}" for n in range(150)))
    lines = [f"one tag (landscape): {baseline * 1000:.0f} ms"]
    lines += [f"{t * 1000:>7.0f} ms {sorted(s)}  {q}" for (t, s), q in results]
    lines.append(f"slowest accepted: {slowest * 1000:.0f} ms ({sorted(statuses)}) for {query!r}")
    lines.append(f"150 terms: {status} in {refused * 1000:.0f} ms")
    return "\n    ".join(lines)


def quota_run(base: str, key: str, body: bytes, seconds: float) -> str:
    counts: dict[int, int] = {}
    lock = threading.Lock()
    ends = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        headers = {"X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        while time.monotonic() < ends:
            status = session.post(f"{base}/similarity/file", data=body, headers=headers, timeout=30).status_code
            with lock:
                counts[status] = counts.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (f"{sum(counts.values())} searches in {seconds:.0f} s: " +
            ", ".join(f"{n} x {status}" for status, n in sorted(counts.items())) +
            f"; {counts.get(200, 0) / seconds:.1f} accepted/s")


def throughput(port: int, key: str, rows: int, body: bytes, seconds: float) -> str:
    """load_bench's mixed phase from 8 clients: what the worker class costs ordinary traffic."""
    results, elapsed = run_phase(port, Requests(key, rows, [body]), PHASES["mixed"],
                                 argparse.Namespace(clients=8, seconds=seconds, max_requests=100_000))
    parts = []
    for kind in ("listing", "similarity"):
        samples = np.array(results.latencies[kind]) * 1000
        if len(samples):
            parts.append(f"{kind} {len(samples) / elapsed:.0f}/s p95 {np.percentile(samples, 95):.0f} ms")
    errors = sum(len(e) for e in results.errors.values())
    return ", ".join(parts) + f", {errors} errors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--slow", type=int, default=200, help="slow connections held open")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the slowloris and quota phases")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="keep the database here and reuse it (as load_bench's --keep)")
    args = parser.parse_args()
    home = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="lzb-hostile-"))
    home.mkdir(parents=True, exist_ok=True)
    loaded = home / "loaded-rows"
    reuse = args.keep is not None and loaded.exists() and loaded.read_text().strip() == str(args.rows)
    if not reuse:
        shutil.rmtree(home / "data", ignore_errors=True)
        loaded.unlink(missing_ok=True)
    postgres = start_postgres(home / "data", "shared_buffers=512MB")
    try:
        uri = postgres.uri("load")
        app = migrated_app(uri)
        from booru import auth
        from booru.extensions import db
        with app.app_context():
            reader = auth.create_key("reader", "hostile bench")[1]
            admin = auth.create_key("admin", "hostile bench")[1]
            db.engine.dispose()
        if not reuse:
            fill(uri, args.rows)
            loaded.write_text(str(args.rows))
        warm_cache(uri)
        search_body = multipart(query_images(1)[0])
        for name, env in CONFIGS.items():
            port = free_port()
            booru = start_booru(uri, port, args.workers, {"LOG_LEVEL": "WARNING", **env})
            base = f"http://127.0.0.1:{port}/api"
            try:
                process = psutil.Process(booru.pid)
                for _ in range(4 * args.workers):  # every worker loads its search index before measuring
                    requests.post(f"{base}/similarity/file", data=search_body, timeout=600, headers={
                        "X-API-Key": admin, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
                print(f"\n{name}: booru on {args.rows:,} images, {args.workers} workers, {env or 'defaults'}")
                print(f"  0. load_bench's mixed load, 8 clients, {args.seconds:.0f} s: "
                      + throughput(port, admin, args.rows, search_body, args.seconds))
                print(f"  1. /api/health with {args.slow} slow connections for {args.seconds:.0f} s: "
                      + health_under_slowloris(base, port, args.slow, args.seconds))
                print("  2. hostile uploads: " + hostile_uploads(base, admin, process))
                if name == "bounded":
                    print("  3. tag queries:\n    " + tag_queries(base, admin))
                print("  4. one reader key, 4 clients searching by upload: "
                      + quota_run(base, reader, search_body, args.seconds))
            finally:
                booru.terminate()
                booru.wait(60)
    finally:
        postgres.stop()
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
