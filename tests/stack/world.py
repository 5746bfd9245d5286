"""Fake subreddit histories for the stack: every kind of post, its upstream answers, and what the
archive must hold once the pipeline has drained."""
from __future__ import annotations

import hashlib
import io
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from PIL import Image

from tests.fakenet import FakeInternet, Request, Response, payloads
from tests.fakenet.images import FORMATS, make_image

NEW = "https://oauth.reddit.com/r/{}/new"
_IMGUR_IDS = itertools.count(1)  # Imgur ids are 5 or 7 characters: numbered, unique in the session
SUB_CREATED = 1600000000.0
Post = dict[str, Any]


@dataclass
class Expected:
    """What the archive must hold: images per (submission, url), tags, dead/unsupported links."""

    images: dict[tuple[str, str], bytes] = field(default_factory=dict)
    tags: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    dead: dict[str, str] = field(default_factory=dict)  # submission id -> part of the reason
    unsupported: set[str] = field(default_factory=set)
    submissions: dict[str, str] = field(default_factory=dict)  # id -> subreddit
    sources: dict[tuple[str, str], str] = field(default_factory=dict)  # booru image -> its source URL
    crossposts: dict[str, str] = field(default_factory=dict)  # crosspost id -> parent id


def imgur_id() -> str:
    return f"Lz{next(_IMGUR_IDS):05d}"


def transformed_copy(data: bytes, scale: float = 0.5, quality: int = 70) -> bytes:
    """The image resized and re-encoded as JPEG: what a repost often is."""
    picture = Image.open(io.BytesIO(data)).convert("RGB")
    size = (max(1, int(picture.width * scale)), max(1, int(picture.height * scale)))
    out = io.BytesIO()
    picture.resize(size, Image.Resampling.LANCZOS).save(out, "JPEG", quality=quality)
    return out.getvalue()


def slowly(handler: Callable[[Request], Any], seconds: float) -> Callable[[Request], Any]:
    def slow(request: Request) -> Any:
        time.sleep(seconds)
        return handler(request)
    return slow


class World:
    """Builds posts for one test (ids and URLs start with `prefix`) and programs the fake internet."""

    def __init__(self, net: FakeInternet, prefix: str, base_time: float = 1776000000.0):
        self.net = net
        self.prefix = prefix
        self.clock = base_time
        self.count = 0
        self.seed = int(hashlib.md5(prefix.encode()).hexdigest(), 16) % 100000 * 1000  # apart per world
        self.expected = Expected()
        self.posts: dict[str, list[Post]] = {}
        self.routed: set[str] = set()  # subreddits whose listing is served
        self.delay = 0.0  # seconds every upstream answer but listings takes (a slow internet)

    # -- ids, times, images ---------------------------------------------------------------------

    def ident(self) -> str:
        self.count += 1
        return f"{self.prefix}{self.count:03d}"

    def next_time(self) -> float:
        self.clock -= 60
        return self.clock

    def image(self, url: str, fmt: str = "JPEG", width: int = 160, height: int = 120) -> bytes:
        """Serve a fresh deterministic image at `url`."""
        self.seed += 1
        data = make_image(width + self.seed % 7, height, fmt, self.seed)
        self.serve(url, body=data, content_type=FORMATS[fmt])
        return data

    def serve(self, url: str, handler: Callable[[Request], Any] | None = None, **fixed: Any) -> None:
        """GET `url` answered by `handler` or a fixed Response(**fixed), after `delay` seconds."""
        answer = handler or (lambda _: Response(**fixed))
        self.net.route("GET", url, handler=slowly(answer, self.delay) if self.delay else answer)

    def add(self, subreddit: str, post: Post) -> Post:
        self.posts.setdefault(subreddit, []).append(post)
        self.expected.submissions[post["id"]] = subreddit
        return post

    def expect(self, sid: str, url: str, data: bytes, tags: set[str] | None = None) -> None:
        self.expected.images[(sid, url)] = data
        if tags:
            self.expected.tags[(sid, url)] = tags

    # -- kinds of posts -------------------------------------------------------------------------

    def reddit_image(self, subreddit: str, fmt: str = "JPEG") -> Post:
        sid = self.ident()
        url = f"https://i.redd.it/{sid}img.{'png' if fmt == 'PNG' else 'jpg'}"
        self.expect(sid, url, self.image(url, fmt))
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, url, self.next_time(), f"Image {sid}"))

    def gallery(self, subreddit: str, size: int = 3, failed: int | None = None) -> Post:
        """A gallery of `size` items; item number `failed` has media status "failed" (skipped)."""
        sid = self.ident()
        items = []
        for n in range(size):
            media = f"{sid}m{n}"
            if n == failed:
                items.append(payloads.gallery_item(media, status="failed"))
                continue
            mime = "image/png" if n % 2 else "image/jpg"
            url = f"https://i.redd.it/{media}.{'png' if n % 2 else 'jpg'}"
            self.expect(sid, url, self.image(url, "PNG" if n % 2 else "JPEG"))
            items.append(payloads.gallery_item(media, mime=mime, width=1200, height=900))
        post = payloads.reddit_post(sid, subreddit, None, self.next_time(), f"Gallery {sid}", is_gallery=True,
                                    gallery_items=items)
        self.route_comments(post)
        return self.add(subreddit, post)

    def deleted_gallery(self, subreddit: str) -> Post:
        sid = self.ident()
        post = payloads.reddit_post(sid, subreddit, None, self.next_time(), f"Deleted {sid}", is_gallery=True,
                                    gallery_items=[f"{sid}m0"], gallery_data=None, media_metadata=None)
        self.route_comments(post)
        self.expected.dead[sid] = "deleted"
        return self.add(subreddit, post)

    def route_comments(self, post: Post) -> None:
        answer = payloads.reddit_json(payloads.reddit_comments(post))
        self.serve(f"https://oauth.reddit.com/comments/{post['id']}", answer)
        self.serve(f"https://www.reddit.com/comments/{post['id']}.json", answer)

    def crosspost(self, subreddit: str, parent: Post, parent_urls: list[str]) -> Post:
        """A crosspost of `parent` (from another subreddit): it gets the parent's images too."""
        sid = self.ident()
        post = payloads.reddit_post(sid, subreddit, None, self.next_time(), f"Crosspost {sid}",
                                    crosspost_parent=parent)
        for url in parent_urls:
            self.expect(sid, url, self.expected.images[(parent["id"], url)])
        self.expected.crossposts[sid] = parent["id"]
        return self.add(subreddit, post)

    def imgur_image(self, subreddit: str) -> Post:
        sid = self.ident()
        image_id = imgur_id()
        url = f"https://i.imgur.com/{image_id}.jpg"
        self.expect(sid, url, self.image(url))
        self.route_imgur(f"/image/{image_id}", payloads.imgur_image(image_id))
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, f"https://imgur.com/{image_id}",
                                                        self.next_time(), f"Imgur {sid}"))

    def imgur_album(self, subreddit: str, size: int = 3) -> Post:
        sid = self.ident()
        album_id = imgur_id()
        images = []
        for n in range(size):
            image_id = imgur_id()
            url = f"https://i.imgur.com/{image_id}.jpg"
            self.expect(sid, url, self.image(url))
            images.append(payloads.imgur_image(image_id))
        self.route_imgur(f"/album/{album_id}", payloads.imgur_album(album_id, images))
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, f"https://imgur.com/a/{album_id}",
                                                        self.next_time(), f"Album {sid}"))

    def route_imgur(self, path: str, data: dict) -> None:
        self.serve(f"https://api.imgur.com/3{path}", json=payloads.imgur_envelope(data),
                   headers=payloads.imgur_ratelimit_headers())

    def danbooru(self, subreddit: str) -> Post:
        sid = self.ident()
        number = 7000000 + self.seed
        data = make_image(200, 150, "JPEG", self.seed + 500)
        md5 = hashlib.md5(data).hexdigest()
        post = payloads.danbooru_post_json(number, md5)
        self.serve(post["file_url"], body=data, content_type="image/jpeg")
        self.serve(f"https://danbooru.donmai.us/posts/{number}.json", json=post)
        self.serve(f"https://danbooru.donmai.us/posts/{number}", body=payloads.danbooru_post_html(post),
                       content_type="text/html; charset=utf-8")
        self.expect(sid, post["file_url"], data, {"creator:mori_sketchbook", "series:original",
                                                  "character:lighthouse_keeper_(original)", "coat"})
        self.expected.sources[(sid, post["file_url"])] = post["source"]
        self.seed += 1
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, f"https://danbooru.donmai.us/posts/{number}",
                                                        self.next_time(), f"Danbooru {sid}"))

    def gelbooru(self, subreddit: str) -> Post:
        sid = self.ident()
        number = 9000000 + self.seed
        data = make_image(180, 140, "JPEG", self.seed + 700)
        md5 = hashlib.md5(data).hexdigest()
        page = payloads.gelbooru_post_html(number, md5)
        file_url = f"https://img3.gelbooru.com/images/{md5[:2]}/{md5[2:4]}/{md5}.jpg"
        self.serve(file_url, body=data, content_type="image/jpeg")
        link = f"https://gelbooru.com/index.php?page=post&s=view&id={number}"
        self.serve(link, body=page, content_type="text/html; charset=utf-8")
        self.expect(sid, file_url, data, {"creator:mori_sketchbook", "character:lighthouse_keeper_(original)",
                                          "night"})
        self.expected.sources[(sid, file_url)] = "https://twitter.com/example_artist/status/1721000000000000000"
        self.seed += 1
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, link, self.next_time(), f"Gelbooru {sid}"))

    def generic(self, subreddit: str) -> Post:
        sid = self.ident()
        url = f"https://images.example.org/{self.prefix}/{sid}.png"
        self.expect(sid, url, self.image(url, "PNG"))
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, url, self.next_time(), f"Generic {sid}"))

    def video(self, subreddit: str) -> Post:
        sid = self.ident()
        self.expected.unsupported.add(sid)
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, f"https://v.redd.it/{sid}vid",
                                                        self.next_time(), f"Video {sid}"))

    def dead_link(self, subreddit: str) -> Post:
        sid = self.ident()
        url = f"https://images.example.org/{self.prefix}/{sid}-gone.jpg"
        self.serve(url, status=404, body="not found", content_type="text/plain")
        self.expected.dead[sid] = "404"
        return self.add(subreddit, payloads.reddit_post(sid, subreddit, url, self.next_time(), f"Dead {sid}"))

    # -- subreddits -----------------------------------------------------------------------------

    def route_about(self, subreddit: str) -> None:
        body = payloads.reddit_about(subreddit, SUB_CREATED)
        self.net.route("GET", f"https://oauth.reddit.com/r/{subreddit}/about", handler=payloads.reddit_json(body))
        self.net.route("GET", f"https://www.reddit.com/r/{subreddit}/about.json", json=body)

    def publish(self, subreddit: str, page_size: int | None = None,
                wrap: Callable[[Callable], Callable] | None = None) -> None:
        """Serve the subreddit's posts (newest first) at /r/<sub>/new, optionally wrapped."""
        posts = sorted(self.posts.get(subreddit, []), key=lambda p: -float(p["created_utc"]))
        handler = payloads.reddit_listing_handler(posts, page_size=page_size)
        self.net.route("GET", NEW.format(subreddit), handler=wrap(handler) if wrap else handler)
        self.routed.add(subreddit)


def mixed_history(world: World, first: str, second: str) -> None:
    """Both subreddits' histories: every kind of post the pipeline knows, and some it does not."""
    parent = world.reddit_image(first)
    world.reddit_image(first, "PNG")
    world.gallery(first, size=3, failed=1)
    world.deleted_gallery(first)
    world.imgur_image(first)
    world.danbooru(first)
    world.generic(first)
    world.video(first)
    world.dead_link(first)
    gallery = world.gallery(second, size=2)
    world.crosspost(second, parent, [parent["url"]])
    world.crosspost(first, gallery, [u for (sid, u) in world.expected.images if sid == gallery["id"]])
    world.imgur_album(second, size=3)
    world.gelbooru(second)
    world.generic(second)
    world.reddit_image(second)
    world.video(second)
    world.dead_link(second)
