"""Search end to end through HTTP: booru under gunicorn on loopback, query images served by
the fake internet (tests/fakenet: a TLS-terminating loopback proxy, as in the test suite).

    python bench/search_http.py [--images 100000] [--queries 60]

Loads `--images` synthetic fingerprints (with `visual` region dhashes, support.region_windows)
plus the real corpus images (fingerprinted as Coco does, with their thumbnails and region
dhashes) into an embedded PostgreSQL, starts `gunicorn --workers 2 --threads 4
booru:create_app()`, and times `POST /api/similarity/url` (form `url`, the image fetched through
the proxy) and `POST /api/similarity/file` (multipart `image`) with JPEG copies (q85, 1280 px
wide) of corpus images, for `visual` (the default) and the seed's algorithms at their default
radius. Each time includes download, decoding, fingerprinting, the index search, verification
(`visual`: stored thumbnails read, decoded and described) and the hits' description. The
synthetic images have no thumbnails, so `visual` verifies only the real images among its
candidates (bench/visual_speed.py times verification of every candidate in process). Reports
p50/p95 and recall@1.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg2
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import (ROOT, fingerprints, free_port, load, migrated_app, percentiles,  # noqa: E402
                     region_windows, start_booru, start_postgres)

from booru import auth  # noqa: E402
from common.fingerprint import CHANNELS, ImageError, decode, fingerprint, regions_array  # noqa: E402
from common.regions import WINDOWS  # noqa: E402
from tests.fakenet.core import FakeInternet  # noqa: E402

CORPUS_LIST = ROOT / "bench" / "corpus" / "images.txt"
THUMBNAIL_SIZE = 320
ALGORITHMS = ("visual", "combined", "dhash_xor_norm", "abs_norm", "eucl_norm")


def corpus_fingerprints(limit: int) -> tuple[list[bytes], np.ndarray, np.ndarray, list]:
    """Query copies (JPEG q85, ≤ 1280 px wide) of corpus images, the originals' fingerprints and
    their thumbnails with region dhashes."""
    copies, words, counts, thumbnails = [], [], [], []
    for path in CORPUS_LIST.read_text().split()[:limit]:
        data = Path(path).read_bytes()
        try:
            original = fingerprint(data, thumbnail_size=THUMBNAIL_SIZE)
            picture = decode(data, size=None)
        except ImageError:
            continue
        picture.thumbnail((1280, 1280))
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=85)
        copies.append(out.getvalue())
        words.append([int(original.dhash[c], 16) for c in CHANNELS])
        counts.append([v for c in CHANNELS for v in original.histogram[c]])
        thumbnails.append(original)
    return copies, np.array(words, dtype=np.uint64), np.array(counts, dtype=np.int64), thumbnails


def store_thumbnails(uri: str, first_id: int, originals: list) -> None:
    """Each real image's thumbnail, as Coco stores it."""
    connection = psycopg2.connect(uri)
    try:
        with connection, connection.cursor() as cursor:
            for n, original in enumerate(originals):
                cursor.execute("INSERT INTO thumbnail (id, width, height, data) VALUES (%s, %s, %s, %s)",
                               (first_id + n, original.thumbnail.width, original.thumbnail.height,
                                psycopg2.Binary(original.thumbnail.jpeg)))
    finally:
        connection.close()


def timed(call, expected: int) -> tuple[float, bool, bool]:
    """Seconds taken; whether the top hit is `expected`; whether it is among the hits tied best."""
    began = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - began
    response.raise_for_status()
    hits = response.json()["hits"]
    tied = [hit["id"] for hit in hits if hit["distance"] == hits[0]["distance"]]
    return elapsed, bool(hits) and hits[0]["id"] == expected, expected in tied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=100_000, help="synthetic fingerprints in the database")
    parser.add_argument("--queries", type=int, default=60, help="corpus images used as queries (and indexed)")
    options = parser.parse_args()
    copies, real_words, real_counts, originals = corpus_fingerprints(options.queries)
    words, counts = fingerprints(options.images)
    regions = region_windows(np.random.default_rng(options.images), options.images, len(WINDOWS))
    folder = Path(tempfile.mkdtemp(prefix="lzb-search-http-"))
    server = start_postgres(folder / "data")
    net = FakeInternet().start()
    booru = None
    try:
        uri = server.uri("lzb_search_http")
        app = migrated_app(uri)
        load(uri, 0, words, counts, regions)
        # the real images get ids images+1 …
        load(uri, len(words), real_words, real_counts, np.stack([regions_array(o.regions) for o in originals]))
        store_thumbnails(uri, len(words) + 1, originals)
        with app.app_context():
            key = auth.create_key("reader", "bench")[1]
        for n, data in enumerate(copies):
            net.route("GET", f"https://i.imgur.com/query{n}.jpg", body=data, content_type="image/jpeg")
        port = free_port()
        booru = start_booru(uri, port, env={**net.env(), "QUOTA_READER": "1000000,1000000"})  # the bench is no abuse
        base, headers = f"http://127.0.0.1:{port}/api/similarity", {auth.HEADER: key}
        session = requests.Session()
        session.trust_env = False  # the client talks to booru directly; booru uses the proxy
        for algorithm in ALGORITHMS:  # both workers load their indexes
            for _ in range(4):
                session.post(f"{base}/file?algorithm={algorithm}", headers=headers,
                             files={"image": ("q.jpg", copies[0], "image/jpeg")}).raise_for_status()
        print(f"{options.images:,} synthetic + {len(copies)} real images; gunicorn 2 workers × 4 threads; "
              f"query copies {np.mean([len(c) for c in copies]) / 1024:.0f} KiB on average")
        for algorithm in ALGORITHMS:
            for kind in ("url", "file"):
                samples, right, tied = [], 0, 0
                for n, data in enumerate(copies):
                    expected = options.images + n + 1
                    if kind == "url":
                        call = lambda: session.post(f"{base}/url?algorithm={algorithm}", headers=headers,  # noqa: E731
                                                    data={"url": f"https://i.imgur.com/query{n}.jpg"})
                    else:
                        call = lambda: session.post(f"{base}/file?algorithm={algorithm}", headers=headers,  # noqa: E731
                                                    files={"image": ("q.jpg", data, "image/jpeg")})
                    elapsed, first, best = timed(call, expected)
                    samples.append(elapsed)
                    right, tied = right + first, tied + best
                p50, p95 = percentiles(samples)
                print(f"{algorithm:<15} by {kind:<4}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                      f"top hit = original {right}/{len(copies)}, among the tied best {tied}/{len(copies)}",
                      flush=True)
    finally:
        if booru is not None and booru.poll() is None:
            os.killpg(booru.pid, signal.SIGTERM)
            booru.wait(30)
        net.stop()
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
