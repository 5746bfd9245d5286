"""Generated monthly dump files (NDJSON in zstd with a long window) for greg's tests."""
from __future__ import annotations

import json
from pathlib import Path

import zstandard

from tests.fakenet import payloads

HOSTS = ("https://i.redd.it/{}.jpeg", "https://v.redd.it/{}", "https://imgur.com/{}",
         "https://example.com/{}.png")


def dump_posts(count: int, subreddits: tuple[str, ...], start: int = 1704067200) -> list[dict]:
    """Pushshift-style records (HTML-escaped, int/float/str created_utc) over `subreddits`."""
    posts = []
    for n in range(count):
        sub = subreddits[n % len(subreddits)]
        created: int | float | str = start + n * 37
        created = (created, float(created), str(created))[n % 3]
        post = payloads.reddit_post(f"d{n:05d}", sub, HOSTS[n % len(HOSTS)].format(f"m{n}"), created,
                                    f"Dump post {n} & <friends>")
        posts.append(payloads.pushshift_submission(post, shape="2022"))
    return posts


def write_dump(path: Path, posts: list[dict], bad_lines: tuple[str, ...] = (),
               case: str = "as-is") -> Path:
    """Write the posts one per line (some `bad_lines` mixed in) with zstd --long=31."""
    lines = []
    for n, post in enumerate(posts):
        if case == "upper":
            post = dict(post, subreddit=post["subreddit"].upper())
        lines.append(json.dumps(post, separators=(",", ":")))
        if bad_lines and n % 50 == 7:
            lines.append(bad_lines[(n // 50) % len(bad_lines)])
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31)
    path.write_bytes(zstandard.ZstdCompressor(compression_params=params).compress(
        ("\n".join(lines) + "\n").encode()))
    return path
