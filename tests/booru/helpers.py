"""Small builders for booru tests: payloads shaped like the daemons send them."""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from booru.extensions import db
from booru.models import Subreddit


def add_subreddit(app, name: str = "pics", created: datetime | None = None) -> None:
    """Register a subreddit directly (registration through the source is tested on its own)."""
    with app.app_context():
        db.session.add(Subreddit(name=name, created=created or datetime(2008, 1, 25, tzinfo=timezone.utc)))
        db.session.commit()


def submission(post_id: str, subreddit: str = "pics", url: str | None = None, link_type: str | None = "reddit",
               **fields) -> dict:
    body = {"id": post_id, "title": f"post {post_id}", "author": "someone", "subreddit": subreddit,
            "created": "2024-05-01T12:00:00+00:00", "flair": None, "nsfw": False, "removed": None,
            "crosspost_parent": None,
            "links": [{"url": url or f"https://i.redd.it/{post_id}.jpg", "type": link_type}]}
    body.update(fields)
    return body


def fingerprint_payload(image_id: int, lease: str, seed: int = 1) -> dict:
    hexes = [format((seed * 0x9E3779B97F4A7C15 + k) % 2**64, "016x") for k in range(3)]
    return {"id": image_id, "lease": lease, "sha256": format(seed, "064x"), "md5": format(seed, "032x"),
            "width": 800, "height": 600, "bytes": 12345, "mime": "image/jpeg",
            "histogram": {"red": [1, 2, 3, seed], "green": [4, 3, 2, 1], "blue": [0, 0, 0, 10]},
            "dhash": {"red": hexes[0], "green": hexes[1], "blue": hexes[2]}}


def seed_images(api, app, count: int, subreddit: str = "pics") -> list[int]:
    """Submissions with one link each, resolved into one image each; returns image ids."""
    add_subreddit(app, subreddit)
    subs = [submission(f"p{i}", subreddit) for i in range(count)]
    assert api.post("/api/submission", json={"submissions": subs}).status_code == 200
    images = [{"submission_id": s["id"], "url": s["links"][0]["url"]} for s in subs]
    assert api.post("/api/image", json={"images": images}).status_code == 200
    listed = api.get(f"/api/image?state=any&limit={count}").json["items"]
    return sorted(item["id"] for item in listed)


def with_bits_flipped(rng: np.random.Generator, words: np.ndarray, bits: int) -> np.ndarray:
    """A dhash (3 uint64 words) with `bits` of its 192 bits, chosen by `rng`, flipped."""
    changed = words.copy()
    for bit in rng.choice(192, size=bits, replace=False):
        changed[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return changed
