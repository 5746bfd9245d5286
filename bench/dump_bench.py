"""Benchmark greg's dump scan: generate a 1,000,000-line RS_ dump and scan it with a filter.

    python bench/dump_bench.py [--lines 1000000] [--subreddits 5000] [--keep 3] [--keep-dir DIR]

The generated lines follow the monthly submission dumps (Pushshift / Arctic Shift
NDJSON, ~70 fields each, compact JSON, zstd with a long window); subreddits follow a
Zipf-like popularity so the filter hits a realistic share. Posting is replaced by a null
sink: this measures decompression + matching + parsing + formatting only, on one core.
"""
from __future__ import annotations

import argparse
import json
import random
import string
import sys
import tempfile
import time
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from greg.dump import Importer, null_sink  # noqa: E402

TEMPLATE = {
    "all_awardings": [], "allow_live_comments": False, "archived": False, "author": "@AUTHOR@",
    "author_flair_background_color": None, "author_flair_css_class": None,
    "author_flair_richtext": [], "author_flair_template_id": None, "author_flair_text": None,
    "author_flair_text_color": None, "author_flair_type": "text", "author_fullname": "t2_@AID@",
    "author_patreon_flair": False, "author_premium": False, "awarders": [], "can_gild": False,
    "category": None, "content_categories": None, "contest_mode": False,
    "created_utc": 1700000000, "discussion_type": None, "distinguished": None,
    "domain": "@DOMAIN@", "edited": False, "gilded": 0, "gildings": {}, "hidden": False,
    "hide_score": False, "id": "@ID@", "is_created_from_ads_ui": False,
    "is_crosspostable": True, "is_meta": False, "is_original_content": False,
    "is_reddit_media_domain": True, "is_robot_indexable": True, "is_self": False,
    "is_video": False, "link_flair_background_color": "", "link_flair_css_class": None,
    "link_flair_richtext": [], "link_flair_template_id": None, "link_flair_text": "@FLAIR@",
    "link_flair_text_color": "dark", "link_flair_type": "text", "locked": False, "media": None,
    "media_embed": {}, "media_only": False, "name": "t3_@ID@", "no_follow": True,
    "num_comments": 3, "num_crossposts": 0, "over_18": False,
    "parent_whitelist_status": "all_ads", "permalink": "/r/@SUB@/comments/@ID@/@SLUG@/",
    "pinned": False, "post_hint": "image", "pwls": 6, "quarantine": False,
    "removed_by": None, "removed_by_category": None, "retrieved_on": 1700000100,
    "score": 1, "secure_media": None, "secure_media_embed": {}, "selftext": "",
    "send_replies": True, "spoiler": False, "stickied": False, "subreddit": "@SUB@",
    "subreddit_id": "t5_@SID@", "subreddit_name_prefixed": "r/@SUB@",
    "subreddit_subscribers": 12345, "subreddit_type": "public", "suggested_sort": None,
    "thumbnail": "https://b.thumbs.redditmedia.com/@ID@.jpg", "thumbnail_height": 140,
    "thumbnail_width": 140, "title": "@TITLE@", "top_awarded_type": None,
    "total_awards_received": 0, "treatment_tags": [], "upvote_ratio": 1.0, "url": "@URL@",
    "url_overridden_by_dest": "@URL@", "view_count": None, "whitelist_status": "all_ads",
    "wls": 6,
}
WORDS = ("cat dog art photo my first oc painting sunset city night morning old new made "
         "this today finally found look at the & of in").split()


def line_template() -> str:
    text = json.dumps(TEMPLATE, separators=(",", ":"))
    text = text.replace('"created_utc":1700000000', '"created_utc":@TS@')
    text = text.replace("{", "{{").replace("}", "}}")
    for token in ("AUTHOR", "AID", "DOMAIN", "ID", "FLAIR", "SUB", "SLUG", "SID", "TITLE", "URL", "TS"):
        text = text.replace(f"@{token}@", "{" + token.lower() + "}")
    return text


def subreddit_names(count: int, rng: random.Random) -> list[str]:
    names = set()
    while len(names) < count:
        names.add("".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(4, 18))))
    return sorted(names)


def generate(path: Path, lines: int, subreddits: list[str], rng: random.Random) -> None:
    template = line_template()
    weights = [1.0 / (rank + 1) for rank in range(len(subreddits))]
    picks = rng.choices(subreddits, weights=weights, k=lines)
    hosts = ("i.redd.it", "i.imgur.com", "www.reddit.com", "v.redd.it", "example.com")
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=27, write_content_size=False)
    compressor = zstandard.ZstdCompressor(compression_params=params)
    with open(path, "wb") as raw, compressor.stream_writer(raw) as out:
        buffer: list[str] = []
        for n, sub in enumerate(picks):
            post_id = f"{n + 10_000_000:x}"
            host = hosts[n % len(hosts)]
            title = " ".join(rng.choices(WORDS, k=6))
            buffer.append(template.format(
                author=f"user{n % 50_000}", aid=f"{n % 50_000:x}", domain=host, id=post_id,
                flair="OC" if n % 3 else "", sub=sub, slug=title.replace(" ", "_")[:40],
                sid=f"{hash(sub) & 0xffffff:x}", title=title.replace("&", "&amp;"),
                url=f"https://{host}/{post_id}.jpg", ts=1700000000 + n // 3))
            if len(buffer) >= 10_000:
                out.write(("\n".join(buffer) + "\n").encode())
                buffer.clear()
        if buffer:
            out.write(("\n".join(buffer) + "\n").encode())


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--lines", type=int, default=1_000_000)
    args.add_argument("--subreddits", type=int, default=5000)
    args.add_argument("--keep", type=int, default=3, help="filter on this many subreddits")
    args.add_argument("--keep-dir", help="write the dump here and keep it")
    opts = args.parse_args()
    rng = random.Random(42)
    names = subreddit_names(opts.subreddits, rng)
    # keep a popular, a middling and a rare subreddit, in a case different from the dump's
    keep = [names[i].upper() for i in (0, len(names) // 10, len(names) - 1)][:opts.keep]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(opts.keep_dir or tmp) / "RS_bench.zst"
        path.parent.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        generate(path, opts.lines, names, rng)
        made = time.perf_counter() - started
        print(f"generated {opts.lines:,} lines over {opts.subreddits:,} subreddits: "
              f"{path.stat().st_size / 1e6:.1f} MB compressed in {made:.1f}s")
        importer = Importer(null_sink, keep, batch=1000, show_progress=False)
        started = time.perf_counter()
        stats = importer.run([path])
        took = time.perf_counter() - started
    print(f"scan with --subreddit {' '.join(keep)}: {stats.lines:,} lines, "
          f"{stats.matched:,} matched, {stats.bad} bad, {took:.2f}s = "
          f"{stats.lines / took:,.0f} lines/s (target 50,000)")
    return 0 if stats.lines / took >= 50_000 else 1


if __name__ == "__main__":
    sys.exit(main())
