"""An archive to show: two subreddits, pictures with posts, tags, a repost and a hostile title."""
from __future__ import annotations

import dataclasses
import io
import re
from dataclasses import dataclass, field

import pytest
from PIL import Image

from common.fingerprint import fingerprint
from tests.booru.helpers import add_subreddit, submission
from tests.fakenet.images import make_image

HOSTILE_TITLE = '<script>window.pwned = 1; alert("pwned")</script> <b>not bold</b> & <img src=x onerror=alert(2)>'
HOSTILE_SOURCE = "javascript:window.pwned = 2"
TAGS = ["character:lara_croft", "series:tomb_raider", "rating:safe", "landscape"]


@dataclass
class Archive:
    pictures: dict[str, bytes] = field(default_factory=dict)  # post id -> the picture's bytes
    images: dict[str, int] = field(default_factory=dict)  # post id -> image id
    repost: tuple[str, str] = ("", "")  # (first post, repost) of one picture

    def url(self, post_id: str) -> str:
        return f"https://i.redd.it/{post_id}.png"


def picture(seed: int, size: tuple[int, int] = (320, 240)) -> bytes:
    return make_image(*size, "PNG", seed)


def smaller_copy(data: bytes) -> bytes:
    """The picture resized to 60 % and saved as a JPEG, as reposts often are."""
    original = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    original.resize((original.width * 3 // 5, original.height * 3 // 5)).save(out, "JPEG", quality=80)
    return out.getvalue()


def seed_archive(api, app, count: int = 8, thumbnail_size: int = 0) -> Archive:
    """`count` posts with a picture each in r/pics and r/EarthPorn, newest last; the first one
    reposted later in r/EarthPorn, and a smaller copy of it in r/pics; one post titled with
    markup, one picture with a `javascript:` source, one NSFW post (w005); tags on the first picture. `count` + 2 images in all,
    with thumbnails when `thumbnail_size`."""
    archive = Archive()
    add_subreddit(app, "pics")
    add_subreddit(app, "EarthPorn")
    posts = []
    for n in range(count):
        post_id = f"w{n:03d}"
        fields = {"title": f"Picture number {n}", "author": f"poster{n % 3}",
                  "created": f"2024-05-{1 + n % 28:02d}T12:{n % 60:02d}:00+00:00"}
        if n == 1:
            fields["title"] = HOSTILE_TITLE
        if n == 5:
            fields["nsfw"] = True
        posts.append(submission(post_id, "pics" if n % 2 == 0 else "EarthPorn", archive.url(post_id), **fields))
        archive.pictures[post_id] = picture(1000 + n)
    repost = "wrep"
    posts.append(submission(repost, "EarthPorn", archive.url(repost), title="Found this, not mine",
                            author="reposter", created="2025-01-02T08:00:00+00:00"))
    archive.pictures[repost] = archive.pictures["w000"]
    archive.repost = ("w000", repost)
    posts.append(submission("wcop", "pics", archive.url("wcop"), title="Smaller copy", author="resizer",
                            created="2025-03-04T18:30:00+00:00"))
    archive.pictures["wcop"] = smaller_copy(archive.pictures["w000"])
    assert api.post("/api/submission", json={"submissions": posts}).status_code == 200
    sources = {"w000": "https://example.org/source", "w002": HOSTILE_SOURCE}
    images = [{"submission_id": p["id"], "url": archive.url(p["id"]), "tags": TAGS if p["id"] == "w000" else [],
               "source_url": sources.get(p["id"])} for p in posts]
    assert api.post("/api/image", json={"images": images}).status_code == 200
    claimed = api.post("/api/image/claim", role="coco", json={"limit": len(images)}).json["items"]
    assert len(claimed) == len(images)
    by_url = {archive.url(p): p for p in archive.pictures}
    items = []
    for item in claimed:
        post_id = by_url[item["url"]]
        archive.images[post_id] = item["id"]
        items.append(fingerprint(archive.pictures[post_id], thumbnail_size=thumbnail_size)
                     .to_payload(id=item["id"], lease=item["lease"]))
    response = api.post("/api/image/fingerprints", role="coco", json={"items": items})
    assert response.status_code == 200, response.json
    return archive


@pytest.fixture
def archive(api, app) -> Archive:
    return seed_archive(api, app)


def set_public(app, public: bool) -> None:
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], public_access=public)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, key: str, next_path: str = "/"):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"key": key, "csrf_token": token, "next": next_path})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def reader(client, keys):
    """A browser signed in with a reader key."""
    assert sign_in(client, keys["reader"]).status_code == 303
    return client
