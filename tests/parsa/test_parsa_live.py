"""Parsa as real processes against a live booru (gunicorn + PostgreSQL) and the fake internet."""
from __future__ import annotations

from collections import Counter

import pytest

from tests.fakenet import payloads
from tests.support import wait_until

pytestmark = pytest.mark.slow
SUBREDDIT = "lzbooru_parsa"
IMGUR_IDS = [f"Im{n:03d}Xy" for n in range(8)]


def submission(ident: str, url: str, kind: str | None) -> dict:
    return {"id": ident, "title": f"post {ident}", "author": "lzb_poster", "subreddit": SUBREDDIT,
            "created": "2026-04-13T12:00:00+00:00", "flair": None, "nsfw": False, "removed": None,
            "crosspost_parent": None, "links": [{"url": url, "type": kind}]}


def program_internet(net) -> list[dict]:
    """Routes for ~40 links of every kind; returns the submissions that point at them."""
    subs = []
    for n in range(12):
        url = f"https://images.example.org/parsa/{n}.jpg"
        net.route_image(url, seed=n, width=64, height=48)
        subs.append(submission(f"lzpg{n:02d}", url, "generic"))
    for n in range(8):
        subs.append(submission(f"lzpd{n:02d}", f"https://i.redd.it/lzdirect{n:02d}.jpg", "reddit"))
    for n in range(8):
        ident = f"lzpr{n:02d}"
        post = payloads.reddit_post(ident, SUBREDDIT, None, 1776081600, is_gallery=True,
                                    gallery_items=[f"{ident}m1", f"{ident}m2", f"{ident}m3"])
        net.route("GET", f"https://www.reddit.com/comments/{ident}.json",
                  handler=payloads.reddit_json(payloads.reddit_comments(post)))
        subs.append(submission(ident, f"https://www.reddit.com/gallery/{ident}", "reddit"))
    for n, image_id in enumerate(IMGUR_IDS):
        net.route("GET", f"https://api.imgur.com/3/image/{image_id}",
                  json=payloads.imgur_envelope(payloads.imgur_image(image_id)),
                  headers=payloads.imgur_ratelimit_headers())
        subs.append(submission(f"lzpi{n:02d}", f"https://imgur.com/{image_id}", "imgur"))
    net.route("GET", "https://danbooru.donmai.us/posts/7654321.json", json=payloads.danbooru_post_json())
    subs.append(submission("lzpb00", "https://danbooru.donmai.us/posts/7654321", "booru"))
    net.route("GET", "https://images.example.org/parsa/gone.png", status=404, body="not here")
    net.route("GET", f"https://www.reddit.com/r/{SUBREDDIT}/about.json",  # booru checks the subreddit
              json={"kind": "t5", "data": {"display_name": SUBREDDIT, "created_utc": 1700000000.0}})
    subs.append(submission("lzpx00", "https://images.example.org/parsa/gone.png", "generic"))
    return subs


def links_in(client, state: str) -> list[dict]:
    return client.get("/link", state=state, limit=1000)["items"]


def test_two_parsa_processes_resolve_every_link_exactly_once(fakenet, live_booru, run_daemon):
    subs = program_internet(fakenet)
    live_booru.admin.post("/subreddit", {"name": SUBREDDIT})
    live_booru.client.post_submissions(subs)
    env = {"IMGUR_CLIENT_ID": "lzb-live-client", "PARSA_BATCH": "4", "PARSA_THREADS": "3"}
    first, second = run_daemon("parsa", env=env), run_daemon("parsa", env=env)

    def settled() -> bool:
        return all(not links_in(live_booru.admin, state) for state in ("pending", "claimed"))
    try:
        wait_until(settled, timeout=90, interval=0.5, message="every link resolved")
    finally:
        codes = [first.stop(), second.stop()]
    assert codes == [0, 0], first.output()[-3000:] + second.output()[-3000:]

    done = {link["id"] for link in links_in(live_booru.admin, "done")}
    dead = {link["id"]: link for link in links_in(live_booru.admin, "dead")}
    assert done == {s["id"] for s in subs} - {"lzpx00"}
    assert set(dead) == {"lzpx00"} and "404" in dead["lzpx00"]["error"]

    # exactly once: every upstream answer was asked for once, by one of the two processes
    asked = Counter(f"{r.method} {r.url.split('?')[0]}" for r in fakenet.requests)
    for n in range(12):
        assert asked[f"GET https://images.example.org/parsa/{n}.jpg"] == 1
    for n in range(8):
        assert asked[f"GET https://www.reddit.com/comments/lzpr{n:02d}.json"] == 1
    for image_id in IMGUR_IDS:
        assert asked[f"GET https://api.imgur.com/3/image/{image_id}"] == 1
    assert asked["GET https://danbooru.donmai.us/posts/7654321.json"] == 1

    images = live_booru.admin.get("/image", state="any", limit=1000)["items"]
    per_post = Counter(image["submission_id"] for image in images)
    assert sum(per_post.values()) == 12 + 8 + 8 * 3 + 8 + 1
    assert all(per_post[f"lzpr{n:02d}"] == 3 for n in range(8))
    booru_image = next(i for i in images if i["submission_id"] == "lzpb00")
    assert booru_image["md5"] == "3b5d5c3712955042212316173ccf37be"
    assert "creator:mori_sketchbook" in booru_image["tags"] and "rating:general" in booru_image["tags"]
    both = first.output() + second.output()
    assert "Traceback" not in both, both[-4000:]
