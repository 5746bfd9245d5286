"""Latency of the Danbooru API against the image listing it is built on, on a loaded archive.

    python bench/danbooru_bench.py [--rows 300000] [--repeat 20]

Starts an embedded PostgreSQL in a temporary directory, bulk-loads `--rows` archived images with
their posts, fingerprints and tags (load_bench's tags, plus an unnamespaced `lara_croft` on some
images, so the name is in two categories, a rare character, and a twelfth of the posts NSFW), then asks each query `--repeat`
times through the app in this process (no HTTP server: the database work and booru's own) and
prints the median and the slowest time of each. The baseline is the same search through
`GET /api/image`, measured in the same run.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_bench import add_tags  # noqa: E402
from support import fingerprints, load, migrated_app, start_postgres  # noqa: E402

QUERIES = [  # (label, path); the /api/image lines are the baseline
    ("baseline: /api/image character:lara_croft", "/api/image?state=encoded&limit=20&tags=character:lara_croft"),
    ("/posts.json character:lara_croft", "/posts.json?limit=20&tags=character:lara_croft"),
    ("/posts.json lara_croft (two categories)", "/posts.json?limit=20&tags=lara_croft"),
    ("baseline: /api/image character:rare_one", "/api/image?state=encoded&limit=20&tags=character:rare_one"),
    ("/posts.json rare_one (any category)", "/posts.json?limit=20&tags=rare_one"),
    ("/posts.json lara_croft, 200 per page", "/posts.json?limit=200&tags=lara_croft"),
    ("/posts.json landscape rating:e", "/posts.json?limit=20&tags=landscape+rating:e"),
    ("/posts.json character:lara_croft -rating:g", "/posts.json?limit=20&tags=character:lara_croft+-rating:g"),
    ("/posts.json page 50", "/posts.json?limit=20&page=50"),
    ("/posts.json b<id> in the middle", "/posts.json?limit=20&page=b{middle}"),
    ("/counts/posts.json landscape", "/counts/posts.json?tags=landscape"),
    ("/tags.json by count", "/tags.json?limit=20"),
    ("/tags.json name_matches lara*", "/tags.json?search[name_matches]=lara*"),
]


def more_tags(uri: str) -> None:
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO tag (namespace, name) VALUES ('', 'lara_croft'), ('character', 'rare_one')")
        cursor.execute("""
            INSERT INTO image_tag (image_id, tag_id)
            SELECT i.id, t.id FROM image i JOIN tag t ON
                (t.namespace = '' AND t.name = 'lara_croft' AND i.id % 89 = 0)
                OR (t.name = 'rare_one' AND i.id % 20011 = 0)""")
        cursor.execute("UPDATE submission SET nsfw = true WHERE right(id, 1) IN ('a', 'b', 'c')")  # a share NSFW
    connection = psycopg2.connect(uri)
    connection.autocommit = True
    with connection.cursor() as cursor:  # as autovacuum leaves them: visibility map set, statistics fresh
        cursor.execute("VACUUM ANALYZE image_tag, tag, submission")
    connection.close()


def timed(client, path: str, headers: dict[str, str], repeat: int) -> tuple[float, float]:
    seconds = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        seconds.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise RuntimeError(f"{path}: {response.status_code} {response.get_data(as_text=True)[:200]}")
    return statistics.median(seconds), max(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lzb-danbooru-bench-"))
    (home / "data").mkdir()
    postgres = start_postgres(home / "data")
    try:
        uri = postgres.uri("bench")
        app = migrated_app(uri)
        began = time.monotonic()
        words, counts = fingerprints(args.rows)
        for start in range(0, args.rows, 200_000):
            load(uri, start, words[start:start + 200_000], counts[start:start + 200_000])
        add_tags(uri)
        more_tags(uri)
        print(f"loaded {args.rows:,} images with posts, fingerprints and tags in {time.monotonic() - began:.0f} s")
        from booru import auth

        with app.app_context():
            headers = {"X-API-Key": auth.create_key("reader", "bench")[1]}
        client = app.test_client()
        print(f"{'query':48} {'median ms':>10} {'max ms':>8}   ({args.repeat} times each, one at a time)")
        for label, path in QUERIES:
            median, slowest = timed(client, path.format(middle=args.rows // 2), headers, args.repeat)
            print(f"{label:48} {median * 1000:10.1f} {slowest * 1000:8.1f}")
    finally:
        postgres.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
