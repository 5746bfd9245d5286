"""Tag queries with bare terms (the name in any namespace) against their explicit forms.

    .venv/bin/python bench/tag_query_bench.py --rows 300000

Loads `--rows` images with posts and fingerprints into an embedded PostgreSQL, tags them as
bench/load_bench.py does plus the same names in a second namespace (so a bare term matches two
tags), and times `GET /api/image?tags=…` pages through booru's Flask app in this process: each bare
query next to the explicit query that was its meaning before bare terms matched every namespace
(the baseline, measured in the same run), median and p95 over `--repeat` pages.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import fingerprints, load, migrated_app, percentiles, start_postgres  # noqa: E402

# (baseline: what was asked before, bare: the same words now)
PAIRS = [
    ("character:lara_croft", "lara_croft"),
    (":landscape", "landscape"),
    ("rating:general :landscape", "rating:general landscape"),
    ("-:landscape", "-landscape"),
]


def add_tags(uri: str) -> None:
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO tag (namespace, name) VALUES ('', 'landscape'), ('meta', 'landscape'), "
                       "('character', 'lara_croft'), ('', 'lara_croft'), ('rating', 'general')")
        cursor.execute("""
            INSERT INTO image_tag (image_id, tag_id)
            SELECT i.id, t.id FROM image i JOIN tag t ON
                (t.namespace = '' AND t.name = 'landscape' AND i.id % 5 = 0)
                OR (t.namespace = 'meta' AND t.name = 'landscape' AND i.id % 50 = 1)
                OR (t.namespace = 'character' AND t.name = 'lara_croft' AND i.id % 97 = 0)
                OR (t.namespace = '' AND t.name = 'lara_croft' AND i.id % 89 = 0)
                OR (t.name = 'general' AND i.id % 3 = 0)""")
        cursor.execute("ANALYZE image_tag, tag")


def timed(client, key: str, tags: str, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get("/api/image", query_string={"tags": tags, "limit": 100}, headers={"X-API-Key": key})
        samples.append(time.perf_counter() - began)
        assert response.status_code == 200, response.json
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=100, help="pages per query")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lzb-tags-"))
    postgres = start_postgres(home / "data")
    try:
        uri = postgres.uri("tags")
        app = migrated_app(uri)
        words, counts = fingerprints(args.rows)
        for start in range(0, args.rows, 200_000):
            load(uri, start, words[start:start + 200_000], counts[start:start + 200_000])
        add_tags(uri)
        from booru import auth
        with app.app_context():
            key = auth.create_key("reader", "bench")[1]
        client = app.test_client()
        print(f"{args.rows:,} images; {args.repeat} pages of 100 per query; ms per page (median, p95)")
        for baseline, bare in PAIRS:
            timed(client, key, baseline, 5), timed(client, key, bare, 5)  # warm
            old, new = timed(client, key, baseline, args.repeat), timed(client, key, bare, args.repeat)
            (old50, old95), (new50, new95) = percentiles(old), percentiles(new)
            print(f"  {baseline!r:30} {old50:7.2f} {old95:7.2f}   {bare!r:28} {new50:7.2f} {new95:7.2f}   "
                  f"x{new50 / old50:.2f}")
    finally:
        postgres.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
