"""Bulk POST of submissions through the HTTP API: 100,000 submissions with one link each,
in batches of 1,000, to booru under gunicorn over an embedded PostgreSQL.

Prints submissions/s for one client and for several concurrent clients, the rate of re-posting the
same batches (idempotent upserts of known rows), and, as a baseline measured in the same run, the
rate of the same upserts written straight into the database without HTTP or validation.

    python bench/submissions_bench.py [--count 100000] [--batch 1000] [--clients 4]
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg2
from psycopg2.extras import execute_values

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import free_port, migrated_app, start_booru, start_postgres  # noqa: E402

from common.client import BooruClient  # noqa: E402

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def batches(prefix: str, count: int, size: int) -> list[list[dict]]:
    """Realistic submissions, ids base-36 like Reddit's, each with one i.redd.it link."""
    def one(i: int) -> dict:
        post_id = prefix + format(i, "x")
        return {"id": post_id, "title": f"A photo of something nice, number {i}", "author": f"user_{i % 5000}",
                "subreddit": "pics", "created": (START + timedelta(seconds=i)).isoformat(), "flair": "OC",
                "nsfw": i % 17 == 0, "removed": None, "crosspost_parent": None,
                "links": [{"url": f"https://i.redd.it/{post_id}abcdefgh.jpg", "type": "reddit"}]}
    rows = [one(i) for i in range(count)]
    return [rows[i:i + size] for i in range(0, count, size)]


def post_all(client: BooruClient, work: list[list[dict]], clients: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        for result in pool.map(client.post_submissions, work):
            assert result["received"] > 0
    return time.perf_counter() - started


def direct_baseline(uri: str, work: list[list[dict]]) -> float:
    """The same upserts with psycopg2's execute_values: the floor HTTP and validation add to."""
    connection = psycopg2.connect(uri)
    started = time.perf_counter()
    with connection, connection.cursor() as cursor:
        for batch in work:
            execute_values(cursor, "INSERT INTO submission (id, title, author, subreddit, created, flair, nsfw) "
                                   "VALUES %s ON CONFLICT (id) DO UPDATE SET title = excluded.title",
                           [(s["id"], s["title"], s["author"], "pics", s["created"], s["flair"], s["nsfw"])
                            for s in batch])
            execute_values(cursor, "INSERT INTO link (id, url, type) VALUES %s ON CONFLICT (id) DO NOTHING",
                           [(s["id"], s["links"][0]["url"], "reddit") for s in batch])
            connection.commit()
    connection.close()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="lzb-bench-"))
    postgres = start_postgres(home / "data")
    booru = None
    try:
        uri = postgres.uri("bench")
        app = migrated_app(uri)
        from booru import auth
        from booru.extensions import db
        from booru.models import Subreddit
        with app.app_context():
            db.session.add(Subreddit(name="pics", created=START))
            db.session.commit()
            key = auth.create_key("greg", "bench")[1]
            db.engine.dispose()
        port = free_port()
        booru = start_booru(uri, port)
        client = BooruClient(f"http://127.0.0.1:{port}/api", key, timeout=120)
        n = args.count
        one = post_all(client, batches("a", n, args.batch), 1)
        many = post_all(client, batches("b", n, args.batch), args.clients)
        again = post_all(client, batches("b", n, args.batch), args.clients)
        direct = direct_baseline(uri, batches("c", n, args.batch))
        print(f"{n:,} submissions with one link each, batches of {args.batch:,}, booru under gunicorn (2 workers)")
        print(f"  HTTP, 1 client:            {n / one:8,.0f} submissions/s  ({one:.1f} s)")
        print(f"  HTTP, {args.clients} clients:           {n / many:8,.0f} submissions/s  ({many:.1f} s)")
        print(f"  HTTP, re-post (all known): {n / again:8,.0f} submissions/s  ({again:.1f} s)")
        print(f"  baseline, SQL only:        {n / direct:8,.0f} submissions/s  ({direct:.1f} s)")
        print(f"  HTTP {args.clients} clients / SQL only: {direct / many:.2f}x of the baseline's speed")
    finally:
        if booru is not None:
            booru.terminate()
            booru.wait(30)
        postgres.stop()
        shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
