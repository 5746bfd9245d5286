"""A bounded load run against booru under gunicorn with a million fingerprints.

    python bench/load_bench.py [--rows 1000000] [--seconds 30] [--clients 8] [--keep DIR]
                               [--phases listing,similarity,mixed] [--workers 3] [--threads 4]

Starts an embedded PostgreSQL in a temporary directory (or in DIR with `--keep`: kept afterwards,
and reused without loading again when it already holds `--rows` images), bulk-loads `--rows`
images with their posts, fingerprints and a few tags (bench/support.py), gives half of the query
pictures eight stored copies each (so searches find and describe hits), starts booru under
gunicorn with its production settings (booru/gunicorn_conf.py), warms every worker's search
index, then runs each phase for `--seconds` (and at most `--max-requests` requests) from client
threads on loopback, and stops by itself:

* image listing pages (`GET /api/image?state=encoded&limit=50&cursor=…`),
* tag queries (`GET /api/image?tags=…`),
* stats (`GET /api/stats`),
* similarity by file upload (`POST /api/similarity/file`, an 800×600 JPEG, the default algorithm),
* the web pages: browse (`GET /browse?cursor=…`, 48 pictures a page), browse by tags
  (`GET /browse?tags=…`) and search by upload (`POST /search`, the results page).

The phases: `listing` and `similarity` alone, then `mixed` (75 % listing, 15 % tags, 2 % stats,
8 % similarity: about 10 listings per search, the ratio of the targets, ≥ 200 listing and ≥ 20
similarity requests/s), then `pages`: the same mix through the web pages (stats stays the API's).
Each client thread keeps one HTTP/1.1 connection open (http.client), so the client costs little
of the machine it shares with the server. Prints per kind sustained
requests/s, p50/p95/p99 and errors, and the CPU seconds booru, PostgreSQL and the client used.
"""
from __future__ import annotations

import argparse
import http.client
import io
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import psutil
import psycopg2
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import fingerprints, free_port, load, migrated_app, start_booru, start_postgres  # noqa: E402

from common.fingerprint import CHANNELS, fingerprint  # noqa: E402

PHASES = {
    "listing": {"listing": 1},
    "similarity": {"similarity": 1},
    "mixed": {"listing": 75, "tags": 15, "stats": 2, "similarity": 8},
    "pages": {"listing page": 75, "tags page": 15, "stats": 2, "search page": 8},
}
KINDS = ("listing", "tags", "stats", "similarity", "listing page", "tags page", "search page")
TAG_QUERIES = ["landscape", "character:lara_croft", "series:tomb_raider -rating:explicit", "rating:general landscape"]
UPLOADS = 32
COPIES = 8  # stored copies of each even-numbered upload
BOUNDARY = uuid.uuid4().hex


def add_tags(uri: str) -> None:
    """Tag a share of the images, as boorus do: a few common tags and a rarer character."""
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO tag (namespace, name) VALUES ('', 'landscape'), ('character', 'lara_croft'), "
                       "('series', 'tomb_raider'), ('rating', 'general'), ('rating', 'explicit')")
        cursor.execute("""
            INSERT INTO image_tag (image_id, tag_id)
            SELECT i.id, t.id FROM image i JOIN tag t ON
                (t.name = 'landscape' AND i.id % 5 = 0) OR (t.name = 'lara_croft' AND i.id % 97 = 0)
                OR (t.name = 'tomb_raider' AND i.id % 97 = 0) OR (t.name = 'general' AND i.id % 3 = 0)
                OR (t.name = 'explicit' AND i.id % 3 = 1)""")
        cursor.execute("ANALYZE image_tag, tag")


def fill(uri: str, rows: int) -> None:
    words, counts = fingerprints(rows)
    began = time.monotonic()
    for start in range(0, rows, 200_000):
        load(uri, start, words[start:start + 200_000], counts[start:start + 200_000])
    add_tags(uri)
    print(f"loaded {rows:,} images with posts, fingerprints and tags in {time.monotonic() - began:.0f} s")


def query_images(count: int) -> list[bytes]:
    """JPEG uploads: small pictures with structure, so fingerprinting is real work."""
    rng = np.random.default_rng(7)
    uploads = []
    for _ in range(count):
        pixels = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
        picture = Image.fromarray(pixels).resize((800, 600), Image.BICUBIC)
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=85)
        uploads.append(out.getvalue())
    return uploads


def plant_copies(uri: str, uploads: list[bytes], rows: int) -> None:
    """Give every even-numbered upload COPIES stored images with its fingerprints (same rows each run)."""
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        for n, data in enumerate(uploads[::2]):
            found = fingerprint(data)
            bits = [format(int(found.dhash[c], 16), "064b") for c in CHANNELS]
            ids = [rows // 2 + 1000 * n + k for k in range(COPIES)]
            cursor.execute("UPDATE dhash SET red = %s::bit(64), green = %s::bit(64), blue = %s::bit(64) "
                           "WHERE id = ANY(%s)", (*bits, ids))
            cursor.execute("UPDATE histogram SET red = %s, green = %s, blue = %s WHERE id = ANY(%s)",
                           (*(found.histogram[c] for c in CHANNELS), ids))


def multipart(data: bytes) -> bytes:
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="query.jpg"\r\n'
            f"Content-Type: image/jpeg\r\n\r\n").encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


@dataclass
class Requests:
    """What the clients send, built once: (method, path, body, extra headers) per kind."""

    key: str
    rows: int
    bodies: list[bytes]

    def pick(self, kind: str) -> tuple[str, str, bytes | None, dict[str, str]]:
        if kind == "listing":
            query = {"state": "encoded", "limit": 50, "cursor": random.randint(51, self.rows)}
            return "GET", "/api/image?" + urlencode(query), None, {}
        if kind == "tags":
            return "GET", "/api/image?" + urlencode({"state": "any", "limit": 50,
                                                     "tags": random.choice(TAG_QUERIES)}), None, {}
        if kind == "stats":
            return "GET", "/api/stats", None, {}
        if kind == "listing page":
            return "GET", "/browse?" + urlencode({"cursor": random.randint(49, self.rows)}), None, {}
        if kind == "tags page":
            return "GET", "/browse?" + urlencode({"tags": random.choice(TAG_QUERIES)}), None, {}
        multipart_body = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        if kind == "search page":
            return "POST", "/search?q=10", random.choice(self.bodies), multipart_body
        return "POST", "/api/similarity/file?q=10", random.choice(self.bodies), multipart_body  # the default algorithm


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def merge(self, other: Results) -> None:
        for kind, samples in other.latencies.items():
            self.latencies[kind] += samples
        for kind, errors in other.errors.items():
            self.errors[kind] += errors


def client(port: int, requests: Requests, mix: dict[str, int], ends: float, budget: threading.Semaphore,
           results: Results) -> None:
    """One connection, kept open; requests one after another until the time or the budget is spent."""
    kinds, weights = list(mix), list(mix.values())
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"X-API-Key": requests.key}
    while time.monotonic() < ends and budget.acquire(blocking=False):
        kind = random.choices(kinds, weights)[0]
        method, path, body, extra = requests.pick(kind)
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers={**headers, **extra})
            response = connection.getresponse()
            payload = response.read()
            error = None if response.status == 200 else f"{response.status} {payload[:80]!r}"
        except (OSError, http.client.HTTPException) as exc:
            error = exc.__class__.__name__
            connection.close()
        results.latencies[kind].append(time.perf_counter() - began)
        if error:
            results.errors[kind].append(error)
    connection.close()


class CpuMeter:
    """CPU seconds used so far by booru (gunicorn and its workers), PostgreSQL (every process,
    including parallel workers that have exited), this client process, and everything else on
    the machine (other programs share its cores)."""

    def __init__(self, booru_pid: int, postgres_pid: int):
        self.booru = psutil.Process(booru_pid)
        self.postgres = psutil.Process(postgres_pid)

    @staticmethod
    def _tree(process: psutil.Process) -> float:
        times = process.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in process.children(recursive=True):
            try:
                times = child.cpu_times()
                total += times.user + times.system
            except psutil.Error:  # ended meanwhile: counted in its parent's children_* once reaped
                pass
        return total

    def read(self) -> dict[str, float]:
        machine = psutil.cpu_times()
        used = {"booru": self._tree(self.booru), "postgres": self._tree(self.postgres), "client": time.process_time()}
        busy = machine.user + machine.nice + machine.system + machine.irq + machine.softirq
        return {**used, "others": busy - sum(used.values())}


def run_phase(port: int, requests: Requests, mix: dict[str, int], args) -> tuple[Results, float]:
    results = [Results() for _ in range(args.clients)]
    budget = threading.Semaphore(args.max_requests)
    ends = time.monotonic() + args.seconds
    threads = [threading.Thread(target=client, args=(port, requests, mix, ends, budget, r)) for r in results]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    merged = Results()
    for r in results:
        merged.merge(r)
    return merged, elapsed


def report(results: Results, seconds: float, cpu: dict[str, float]) -> None:
    print(f"{'kind':<13}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}")
    total = 0
    for kind in KINDS:
        samples = np.array(results.latencies[kind]) * 1000
        total += len(samples)
        if not len(samples):
            continue
        p50, p95, p99 = np.percentile(samples, [50, 95, 99])
        print(f"{kind:<13}{len(samples):>9}{len(samples) / seconds:>8.1f}{p50:>8.0f}{p95:>8.0f}{p99:>8.0f}"
              f"{len(results.errors[kind]):>8}")
    every = np.array([s for samples in results.latencies.values() for s in samples]) * 1000
    p50, p95, p99 = np.percentile(every, [50, 95, 99]) if len(every) else (0, 0, 0)
    errors = sum(len(e) for e in results.errors.values())
    print(f"{'all':<13}{total:>9}{total / seconds:>8.1f}{p50:>8.0f}{p95:>8.0f}{p99:>8.0f}{errors:>8}")
    print("CPU seconds: " + ", ".join(f"{name} {used:.1f} ({used / max(total, 1) * 1000:.2f} ms/request)"
                                      for name, used in cpu.items() if name != "others")
          + f"; other programs {cpu['others']:.1f} of the machine's {psutil.cpu_count() * seconds:.0f}"
          + f"; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for kind, errors in results.errors.items():
        if errors:
            print(f"  first errors for {kind}: {errors[:3]}")


def warm(port: int, requests: Requests, workers: int) -> float:
    """Search with each index until every worker has loaded it (answers get fast); seconds taken."""
    began = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"X-API-Key": requests.key, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    for algorithm in ("combined",):  # loads both indexes
        fast = 0
        while fast < 4 * workers and time.monotonic() - began < 900:
            started = time.perf_counter()
            connection.request("POST", f"/api/similarity/file?algorithm={algorithm}", body=requests.bodies[0],
                               headers=headers)
            response = connection.getresponse()
            if response.status != 200:
                raise RuntimeError(f"search failed while warming up: {response.status} {response.read()[:200]!r}")
            response.read()
            fast = fast + 1 if time.perf_counter() - started < 0.5 else 0
    connection.close()
    return time.monotonic() - began


def worker_memory(booru_pid: int) -> str:
    sizes = [child.memory_info().rss / 2**20 for child in psutil.Process(booru_pid).children()]
    return ", ".join(f"{size:.0f}" for size in sorted(sizes)) + " MiB"


def warm_cache(uri: str) -> None:
    """Read the images, posts and tags once, so the run measures a server in use, not a cold disk."""
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(length(i.url) + length(s.title)) FROM image i "
                       "JOIN submission s ON s.id = i.submission_id")
        cursor.execute("SELECT count(*) FROM image_tag")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each phase")
    parser.add_argument("--max-requests", type=int, default=200_000, help="at most this many requests per phase")
    parser.add_argument("--clients", type=int, default=8, help="client threads, one connection each")
    parser.add_argument("--phases", default=",".join(PHASES), help=f"some of {', '.join(PHASES)}")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (BOORU_WORKERS)")
    parser.add_argument("--threads", type=int, help="threads per worker (BOORU_THREADS; default: gunicorn_conf's)")
    parser.add_argument("--keep", type=Path, help="keep the database in this directory and reuse it next time")
    args = parser.parse_args()
    phases = args.phases.split(",")
    if set(phases) - set(PHASES):
        parser.error(f"unknown phases {set(phases) - set(PHASES)}")
    home = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="lzb-load-"))
    home.mkdir(parents=True, exist_ok=True)
    loaded = home / "loaded-rows"
    reuse = args.keep is not None and loaded.exists() and loaded.read_text().strip() == str(args.rows)
    if args.keep and not reuse:
        shutil.rmtree(home / "data", ignore_errors=True)
        loaded.unlink(missing_ok=True)
    postgres = start_postgres(home / "data", "shared_buffers=512MB")
    booru = None
    try:
        uri = postgres.uri("load")
        app = migrated_app(uri)
        from booru import auth
        from booru.extensions import db
        with app.app_context():
            key = auth.create_key("reader", "load")[1]
            db.engine.dispose()
        if reuse:
            print(f"reusing the database of {args.rows:,} images in {home}")
        else:
            fill(uri, args.rows)
            loaded.write_text(str(args.rows))
        uploads = query_images(UPLOADS)
        plant_copies(uri, uploads, args.rows)
        port = free_port()
        env = {"QUOTA_READER": "none", **({"BOORU_THREADS": str(args.threads)} if args.threads else {})}
        booru = start_booru(uri, port, args.workers, env)
        requests = Requests(key, args.rows, [multipart(u) for u in uploads])
        print(f"search indexes warm in every worker after {warm(port, requests, args.workers):.0f} s; "
              f"workers' resident memory {worker_memory(booru.pid)}")
        warm_cache(uri)
        meter = CpuMeter(booru.pid, postgres.process.pid)
        threads = args.threads or "default"
        for phase in phases:
            before = meter.read()
            results, elapsed = run_phase(port, requests, PHASES[phase], args)
            after = meter.read()
            print(f"\n{phase}: {args.clients} client connections for {elapsed:.0f} s against booru under gunicorn "
                  f"({args.workers} workers x {threads} threads) on {args.rows:,} fingerprints")
            report(results, elapsed, {name: after[name] - before[name] for name in after})
    finally:
        if booru is not None:
            booru.terminate()
            booru.wait(60)
        postgres.stop()
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
