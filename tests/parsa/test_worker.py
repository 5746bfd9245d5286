"""The Parsa chapter against an in-memory booru and the fake internet."""
from __future__ import annotations

import threading

import pytest

from common.client import BooruError
from parsa.resolvers import ResolvedImage
from parsa.worker import Outcome, Parsa, parse_types
from parsa.resolvers import Gone, Transient, Unsupported
from tests.fakenet import payloads


class FakeBooru:
    """Just enough of BooruClient: a link queue with leases, and what was reported."""

    def __init__(self, links: list[dict]):
        self.queue = [dict(link, lease=f"lease-{link['id']}", tries=0) for link in links]
        self.claims: list[tuple[int, str | None]] = []
        self.images: list[dict] = []
        self.done: list[dict] = []
        self.failed: list[dict] = []
        self.released: list[dict] = []
        self.refuse_urls: set[str] = set()

    def claim_links(self, limit: int, link_type: str | None = None) -> list[dict]:
        self.claims.append((limit, link_type))
        taken = [l for l in self.queue if link_type is None or l["type"] == link_type][:limit]
        for link in taken:
            self.queue.remove(link)
        return taken

    def post_images(self, images: list[dict]) -> dict:
        if any(image["url"] in self.refuse_urls for image in images):
            raise BooruError(422, "bad image")
        self.images.extend(images)
        return {"created": len(images)}

    def links_done(self, reports: list[dict]) -> dict:
        self.done.extend(reports)
        return {"updated": len(reports)}

    def links_failed(self, reports: list[dict]) -> dict:
        self.failed.extend(reports)
        return {"updated": len(reports)}

    def release_links(self, leased: list[dict]) -> dict:
        self.released.extend(leased)
        return {"updated": len(leased)}


def link(ident: str, url: str, kind: str | None) -> dict:
    return {"id": ident, "url": url, "type": kind}


@pytest.fixture
def internet(fakenet):
    fakenet.route("HEAD", "https://i.imgur.com/AbCdEfG.jpg", content_type="image/jpeg")
    post = payloads.reddit_post("lzw001", "lzbooru", None, 1700000000, is_gallery=True,
                                gallery_items=["lzw001a", "lzw001b"])
    fakenet.route("GET", "https://www.reddit.com/comments/lzw001.json",
                  handler=payloads.reddit_json(payloads.reddit_comments(post)))
    fakenet.route("GET", "https://www.reddit.com/comments/lzw002.json",
                  handler=payloads.reddit_json(payloads.reddit_comments(
                      payloads.reddit_post("lzw002", "lzbooru", None, 1700000000, is_gallery=True,
                                           gallery_data=None))))
    fakenet.route("GET", "https://images.example.org/slow.png", status=503, body="busy")
    fakenet.route("GET", "https://danbooru.donmai.us/posts/7654321.json", json=payloads.danbooru_post_json())
    return fakenet


LINKS = [
    link("lzw001", "https://www.reddit.com/gallery/lzw001", "reddit"),
    link("lzw002", "https://www.reddit.com/gallery/lzw002", "reddit"),
    link("lzw003", "https://i.imgur.com/AbCdEfG.jpg", "imgur"),
    link("lzw004", "https://v.redd.it/lzbvideo01", None),
    link("lzw005", "https://images.example.org/slow.png", "generic"),
    link("lzw006", "https://danbooru.donmai.us/posts/7654321", "booru"),
]


def test_a_chapter_posts_images_and_reports_every_link(internet, make_ctx):
    booru = FakeBooru(LINKS)
    parsa = Parsa(booru, make_ctx(), interval=0, batch=50, threads=4)
    report = parsa.run_once()
    assert report.counts == {"claimed": 6, "resolved": 3, "images": 4, "dead": 1, "unsupported": 1, "failed": 1}
    assert [(i["submission_id"], i["url"], i["position"]) for i in booru.images] == [
        ("lzw001", "https://i.redd.it/lzw001a.jpg", 0), ("lzw001", "https://i.redd.it/lzw001b.jpg", 1),
        ("lzw003", "https://i.imgur.com/AbCdEfG.jpg", 0),
        ("lzw006", "https://cdn.donmai.us/original/3b/5d/3b5d5c3712955042212316173ccf37be.jpg", 0)]
    booru_image = booru.images[-1]
    assert booru_image["md5"] == "3b5d5c3712955042212316173ccf37be" and "rating:general" in booru_image["tags"]
    assert booru_image["posted"].startswith("2024-03-09T18:22:41")
    assert {d["id"] for d in booru.done} == {"lzw001", "lzw003", "lzw006"}
    assert all(d["lease"] == f"lease-{d['id']}" for d in booru.done)
    failed = {f["id"]: f for f in booru.failed}
    assert failed["lzw002"]["permanent"] is True and failed["lzw002"]["error"].startswith("dead:")
    assert failed["lzw004"]["permanent"] is True and failed["lzw004"]["unsupported"] is True
    assert failed["lzw005"]["permanent"] is False and "503" in failed["lzw005"]["error"]


def test_types_are_claimed_one_after_another(internet, make_ctx):
    booru = FakeBooru(LINKS)
    parsa = Parsa(booru, make_ctx(), interval=0, batch=50, threads=2, types=["imgur", "booru"])
    report = parsa.run_once()
    assert booru.claims == [(50, "imgur"), (50, "booru")]
    assert report["claimed"] == 2 and report["resolved"] == 2


def test_full_batches_are_claimed_again_within_the_chapter(internet, make_ctx):
    booru = FakeBooru(LINKS)
    Parsa(booru, make_ctx(), interval=0, batch=2, threads=2).run_once()
    assert [limit for limit, _ in booru.claims] == [2, 2, 2, 2]
    assert len(booru.done) + len(booru.failed) == 6


def test_refused_images_make_only_their_link_fail(internet, make_ctx):
    booru = FakeBooru(LINKS[:3])
    booru.refuse_urls = {"https://i.imgur.com/AbCdEfG.jpg"}
    report = Parsa(booru, make_ctx(), interval=0, batch=50, threads=2).run_once()
    assert {d["id"] for d in booru.done} == {"lzw001"}
    failed = {f["id"]: f for f in booru.failed}
    assert failed["lzw003"]["permanent"] is False and "refused" in failed["lzw003"]["error"]
    assert report["failed"] == 1


def test_stop_gives_back_links_not_started_and_reports_the_finished(monkeypatch, make_ctx):
    started = threading.Event()
    release = threading.Event()

    def slow_resolve(url, ctx):
        if url.endswith("/1.png"):
            started.set()
            release.wait(5)
        return [ResolvedImage(url=url)]

    monkeypatch.setattr("parsa.resolvers.resolve", slow_resolve)
    links = [link(f"lzs00{n}", f"https://images.example.org/{n}.png", "generic") for n in range(1, 6)]
    booru = FakeBooru(links)
    parsa = Parsa(booru, make_ctx(), interval=0, batch=50, threads=1)
    threading.Thread(target=lambda: (started.wait(5), parsa.stop(), release.set()), daemon=True).start()
    report = parsa.run_once()
    assert [d["id"] for d in booru.done] == ["lzs001"]
    assert report["claimed"] == 5 and report["resolved"] == 1
    assert booru.failed == []
    assert booru.released == [{"id": f"lzs00{n}", "lease": f"lease-lzs00{n}"} for n in range(2, 6)]


def test_a_resolver_bug_is_a_transient_failure(monkeypatch, make_ctx):
    def broken(url, ctx):
        raise KeyError("surprise")

    monkeypatch.setattr("parsa.resolvers.resolve", broken)
    booru = FakeBooru([link("lzb001", "https://images.example.org/a.png", "generic")])
    Parsa(booru, make_ctx(), interval=0, threads=1).run_once()
    assert booru.failed[0]["permanent"] is False and "internal error" in booru.failed[0]["error"]


def test_failure_reports_carry_retry_after_and_unsupported():
    base = {"id": "x", "lease": "l"}
    assert Outcome(base, error=Transient("slow down", retry_after=90.5)).failure() == {
        **base, "error": "failed: slow down", "permanent": False, "retry_after": 90}
    assert Outcome(base, error=Unsupported("video")).failure() == {
        **base, "error": "unsupported: video", "permanent": True, "unsupported": True}
    assert Outcome(base, error=Gone("404")).failure() == {**base, "error": "dead: 404", "permanent": True}


def test_parse_types():
    assert parse_types(["reddit", "imgur,booru", " ", "reddit"]) == ["reddit", "imgur", "booru"]
    assert parse_types([""]) == []
    with pytest.raises(ValueError):
        parse_types(["youtube"])


def test_cli_refuses_unknown_types_and_a_missing_key(monkeypatch):
    from parsa.__main__ import main

    monkeypatch.setenv("ENV_FILE", "/dev/null")
    with pytest.raises(SystemExit) as caught:
        main(["--type", "youtube"])
    assert caught.value.code == 2
    monkeypatch.setenv("API_KEY", "")
    assert main(["--once"]) == 2
