"""Reddit posts fetched through the fake internet: public JSON and OAuth (prawcore)."""
from __future__ import annotations

import json

import pytest

from parsa.resolvers import Gone, Transient, Unsupported, resolve
from tests.fakenet import payloads
from tests.parsa.samples import SHARED

needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/fixtures is absent")
PUBLIC = "https://www.reddit.com/comments/{}.json"
OAUTH = "https://oauth.reddit.com/comments/{}"


def serve_post(net, post: dict, oauth: bool = False) -> None:
    url = (OAUTH if oauth else PUBLIC).format(post["id"])
    net.route("GET", url, handler=payloads.reddit_json(payloads.reddit_comments(post)))


def gallery_post(post_id: str = "lzg001", **fields):
    items = [payloads.gallery_item(f"{post_id}a", mime="image/png"),
             payloads.gallery_item(f"{post_id}b", mime="image/jpg"),
             payloads.gallery_item(f"{post_id}c", mime="image/gif")]
    return payloads.reddit_post(post_id, "lzbooru", None, 1700000000, is_gallery=True, gallery_items=items,
                                **fields)


def urls(images):
    return [i.url for i in images]


def test_gallery_in_order_through_the_public_json(fakenet, make_ctx):
    serve_post(fakenet, gallery_post())
    images = resolve("https://old.reddit.com/gallery/lzg001", make_ctx())
    assert urls(images) == ["https://i.redd.it/lzg001a.png", "https://i.redd.it/lzg001b.jpg",
                            "https://i.redd.it/lzg001c.gif"]
    (request,) = fakenet.seen(PUBLIC.format("lzg001"))
    assert request.query.get("raw_json") == "1"


def test_gallery_through_oauth_when_credentials_are_set(fakenet, make_ctx):
    serve_post(fakenet, gallery_post(), oauth=True)
    ctx = make_ctx(reddit_client_id="lzb-id", reddit_client_secret="lzb-secret")
    assert len(resolve("https://redd.it/lzg001", ctx)) == 3
    assert len(resolve("https://www.reddit.com/r/lzbooru/comments/lzg001/a_picture/", ctx)) == 3
    requests = fakenet.seen(OAUTH.format("lzg001"))
    assert len(requests) == 2
    assert all(r.header("Authorization", "").startswith("bearer ") for r in requests)
    assert len(fakenet.seen(payloads.REDDIT_TOKEN_URL)) == 1  # one app-only token, reused


def test_fakenet_gallery_with_a_failed_item(fakenet, make_ctx):
    listing = payloads.load_json("reddit/comments_gallery.json")
    post = listing[0]["data"]["children"][0]["data"]
    fakenet.route("GET", PUBLIC.format(post["id"]), handler=payloads.reddit_json(listing))
    images = resolve(post["url"], make_ctx())
    valid = [i["media_id"] for i in post["gallery_data"]["items"]
             if post["media_metadata"][i["media_id"]].get("status") == "valid"]
    assert len(images) == len(valid) == 3
    assert all(image.url.startswith("https://i.redd.it/") and "?" not in image.url for image in images)
    assert [i.url.rsplit("/", 1)[1].split(".")[0] for i in images] == valid


def test_deleted_gallery_is_gone(fakenet, make_ctx):
    serve_post(fakenet, gallery_post("lzg002", gallery_data=None))
    with pytest.raises(Gone, match="deleted"):
        resolve("https://www.reddit.com/gallery/lzg002", make_ctx())


def test_crosspost_resolves_through_its_parent(fakenet, make_ctx):
    parent = gallery_post("lzgpar")
    child = payloads.reddit_post("lzgkid", "lzbooru_x", None, 1700000100, crosspost_parent=parent)
    serve_post(fakenet, child)
    assert len(resolve("https://www.reddit.com/r/lzbooru_x/comments/lzgkid/", make_ctx())) == 3


def test_post_linking_imgur_resolves_there(fakenet, make_ctx):
    post = payloads.reddit_post("lzg003", "lzbooru", "https://i.imgur.com/AbCdEfG.jpg", 1700000000)
    serve_post(fakenet, post)
    fakenet.route("HEAD", "https://i.imgur.com/AbCdEfG.jpg", status=200, content_type="image/jpeg")
    assert urls(resolve("https://redd.it/lzg003", make_ctx())) == ["https://i.imgur.com/AbCdEfG.jpg"]


@pytest.mark.parametrize("kind,url,error", [
    ("self", None, Unsupported),
    ("video", "https://v.redd.it/lzbvideo01", Unsupported),
])
def test_posts_without_images(fakenet, make_ctx, kind, url, error):
    serve_post(fakenet, payloads.reddit_post("lzg004", "lzbooru", url, 1700000000))
    with pytest.raises(error):
        resolve("https://redd.it/lzg004", make_ctx())


@pytest.mark.parametrize("status,body,error", [
    (404, {"message": "Not Found", "error": 404}, Gone),
    (403, {"reason": "private", "message": "Forbidden", "error": 403}, Gone),
    (403, {"reason": "quarantined", "message": "Forbidden", "error": 403}, Gone),
    (403, "<html><body>You've been blocked by network security.</body></html>", Transient),
    (500, {"message": "Internal Server Error", "error": 500}, Transient),
    (429, {"message": "Too Many Requests", "error": 429}, Transient),
])
def test_http_failures(fakenet, make_ctx, status, body, error):
    if isinstance(body, dict):
        fakenet.route("GET", PUBLIC.format("lzg005"), status=status, json=body)
    else:
        fakenet.route("GET", PUBLIC.format("lzg005"), status=status, body=body, content_type="text/html")
    with pytest.raises(error):
        resolve("https://redd.it/lzg005", make_ctx())


@needs_shared
def test_recorded_gallery_huw6vs_over_http(fakenet, make_ctx):
    listing = json.loads((SHARED / "reddit_comments_gallery_huw6vs_2020-07-20.json").read_text())
    fakenet.route("GET", PUBLIC.format("huw6vs"), json=listing)
    assert urls(resolve("https://www.reddit.com/gallery/huw6vs", make_ctx())) == [
        "https://i.redd.it/pb7qsvi6i3c51.png", "https://i.redd.it/14wmudl6i3c51.jpg",
        "https://i.redd.it/vkm62gm6i3c51.gif", "https://i.redd.it/wka18en6i3c51.png"]


def test_oauth_not_found_is_gone(fakenet, make_ctx):
    fakenet.route("GET", OAUTH.format("lzg006"), status=404, json={"message": "Not Found", "error": 404})
    with pytest.raises(Gone):
        resolve("https://redd.it/lzg006", make_ctx(reddit_client_id="lzb-id", reddit_client_secret="lzb-secret"))
