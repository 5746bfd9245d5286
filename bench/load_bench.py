"""A bounded load run against booru under gunicorn with a million fingerprints (issue 8).

    python bench/load_bench.py [--rows 1000000] [--seconds 60] [--clients 12] [--keep DIR]

Starts an embedded PostgreSQL in a temporary directory (or in DIR with `--keep`: kept afterwards,
and reused without loading again when it already holds `--rows` images), bulk-loads `--rows`
images with their posts, fingerprints and a few tags (bench/support.py), starts booru under gunicorn with its
production settings (booru/gunicorn_conf.py), warms every worker's search index, then runs a mixed
load from client threads on loopback for `--seconds` and stops by itself:

* image listing pages (`GET /api/image?state=encoded&limit=50&cursor=…`),
* tag queries (`GET /api/image?tags=…`),
* stats (`GET /api/stats`),
* similarity by file upload (`POST /api/similarity/file`, a JPEG re-encoded from a stored picture).

Prints sustained requests/s, p50/p95/p99 and errors per kind.
"""
from __future__ import annotations

import argparse
import io
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import psycopg2
import requests
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import fingerprints, free_port, load, migrated_app, start_booru, start_postgres  # noqa: E402

PHASES = {  # each runs for --seconds: each target on its own, then the mix
    "listing only": [("listing", 1)],
    "similarity only": [("similarity", 1)],
    "mixed": [("listing", 60), ("tags", 20), ("stats", 2), ("similarity", 18)],
}
KINDS = ("listing", "tags", "stats", "similarity")
TAG_QUERIES = ["landscape", "character:lara_croft", "series:tomb_raider -rating:explicit", "rating:general landscape"]


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


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            if error:
                self.errors[kind].append(error)


def one_request(session: requests.Session, base: str, kind: str, uploads: list[bytes], rows: int) -> requests.Response:
    if kind == "listing":
        cursor = random.randint(51, rows)
        return session.get(f"{base}/image", params={"state": "encoded", "limit": 50, "cursor": cursor}, timeout=30)
    if kind == "tags":
        return session.get(f"{base}/image", params={"state": "any", "limit": 50, "tags": random.choice(TAG_QUERIES)},
                           timeout=30)
    if kind == "stats":
        return session.get(f"{base}/stats", timeout=30)
    files = {"image": ("query.jpg", random.choice(uploads), "image/jpeg")}
    return session.post(f"{base}/similarity/file", params={"algorithm": "dhash_xor_norm", "q": 10}, files=files,
                        timeout=30)


def client(base: str, key: str, uploads: list[bytes], rows: int, ends: float, recorder: Recorder,
           mix: list[tuple[str, int]]) -> None:
    session = requests.Session()
    session.headers["X-API-Key"] = key
    kinds, weights = zip(*mix)
    while time.monotonic() < ends:
        kind = random.choices(kinds, weights)[0]
        began = time.perf_counter()
        try:
            response = one_request(session, base, kind, uploads, rows)
            error = None if response.status_code == 200 else f"{response.status_code} {response.text[:80]}"
        except requests.RequestException as exc:
            error = exc.__class__.__name__
        recorder.add(kind, time.perf_counter() - began, error)


def warm(base: str, key: str, uploads: list[bytes], workers: int) -> float:
    """Search until every worker has loaded its index (answers get fast); seconds taken."""
    began = time.monotonic()
    session = requests.Session()
    session.headers["X-API-Key"] = key
    fast = 0
    while fast < 4 * workers and time.monotonic() - began < 900:
        started = time.perf_counter()
        one_request(session, base, "similarity", uploads, 1).raise_for_status()
        fast = fast + 1 if time.perf_counter() - started < 0.5 else 0
    return time.monotonic() - began


def warm_cache(uri: str) -> None:
    """Read the images, posts and tags once, so the run measures a server in use, not a cold disk."""
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*), sum(length(i.url) + length(s.title)) FROM image i "
                       "JOIN submission s ON s.id = i.submission_id")
        cursor.execute("SELECT count(*) FROM image_tag")


def report(recorder: Recorder, seconds: float) -> None:
    print(f"{'kind':<11}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}")
    total = 0
    for kind in KINDS:
        samples = np.array(recorder.latencies[kind]) * 1000
        total += len(samples)
        if not len(samples):
            continue
        p50, p95, p99 = np.percentile(samples, [50, 95, 99])
        print(f"{kind:<11}{len(samples):>9}{len(samples) / seconds:>8.1f}{p50:>8.0f}{p95:>8.0f}{p99:>8.0f}"
              f"{len(recorder.errors[kind]):>8}")
    print(f"{'all':<11}{total:>9}{total / seconds:>8.1f}")
    for kind, errors in recorder.errors.items():
        print(f"  first errors for {kind}: {errors[:3]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=12, help="client threads (booru: 3 workers x 4 threads)")
    parser.add_argument("--keep", type=Path, help="keep the database in this directory and reuse it next time")
    args = parser.parse_args()
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
        port = free_port()
        workers = 3
        booru = start_booru(uri, port, workers)
        base = f"http://127.0.0.1:{port}/api"
        uploads = query_images(32)
        print(f"search indexes warm in every worker after {warm(base, key, uploads, workers):.0f} s")
        warm_cache(uri)
        for phase, mix in PHASES.items():
            recorder = Recorder()
            ends = time.monotonic() + args.seconds
            threads = [threading.Thread(target=client, args=(base, key, uploads, args.rows, ends, recorder, mix))
                       for _ in range(args.clients)]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.monotonic() - began
            print(f"\n{phase}: {args.clients} client threads for {elapsed:.0f} s against booru under gunicorn "
                  f"({workers} workers) on {args.rows:,} fingerprints")
            report(recorder, elapsed)
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
