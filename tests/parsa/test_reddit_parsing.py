"""Reddit post JSON -> images, without the network (galleries, crossposts, direct files)."""
from __future__ import annotations

import json

import pytest

from parsa.resolvers import Gone, Unsupported, classify
from parsa.resolvers.reddit_direct import direct_url
from parsa.resolvers.reddit_gallery import images_of_post, media_url, post_id, submission_of
from tests.parsa.samples import SHARED, comments_listing, crosspost, gallery, media, post

needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/fixtures is absent")


def urls(images):
    return [image.url for image in images]


def test_gallery_items_come_in_gallery_order_from_i_redd_it():
    entries = [media("b2b2b2b2", "png"), media("a1a1a1a1", "jpg"), media("c3c3c3c3", "gif", animated=True)]
    post_json = gallery("lzb001", entries)
    # media_metadata is a dict in arbitrary order; gallery_data.items decides
    post_json["media_metadata"] = dict(reversed(list(post_json["media_metadata"].items())))
    assert urls(images_of_post(post_json)) == [
        "https://i.redd.it/b2b2b2b2.png", "https://i.redd.it/a1a1a1a1.jpg", "https://i.redd.it/c3c3c3c3.gif"]


def test_deleted_gallery_is_gone():
    with pytest.raises(Gone, match="deleted"):
        images_of_post(gallery("lzb002", [], gallery_data=None))


def test_failed_and_sourceless_items_are_skipped():
    entries = [media("ok1ok1ok", "png"), media("bad1bad1", status="failed"), media("unp1unp1", status="unprocessed"),
               media("ok2ok2ok", "jpg")]
    entries.append({"status": "valid", "id": "nos1nos1", "e": "Image", "m": "image/png"})  # no `s`
    assert urls(images_of_post(gallery("lzb003", entries))) == [
        "https://i.redd.it/ok1ok1ok.png", "https://i.redd.it/ok2ok2ok.jpg"]


def test_gallery_with_only_failed_items_is_gone():
    with pytest.raises(Gone, match="no valid items"):
        images_of_post(gallery("lzb004", [media("bad1bad1", status="failed")]))


def test_animated_item_falls_back_to_mp4_without_query():
    entry = media("anim0001", "gif", animated=True, mp4_only=True)
    assert media_url(entry) == "https://i.redd.it/anim0001.gif"


def test_extension_comes_from_the_url_never_from_m():
    entry = media("jpgmime1", "png", mime="image/jpg")
    assert media_url(entry) == "https://i.redd.it/jpgmime1.png"


def test_crosspost_resolves_through_its_parent():
    parent = gallery("lzbpar", [media("par1par1", "png")])
    child = crosspost("lzbkid", parent)
    assert urls(images_of_post(child)) == ["https://i.redd.it/par1par1.png"]


def test_crosspost_uses_the_last_parent():
    first = post("lzbp1", url="https://i.redd.it/first001.jpg", domain="i.redd.it")
    last = post("lzbp2", url="https://i.redd.it/last0001.jpg", domain="i.redd.it")
    child = post("lzbkd", crosspost_parent="t3_lzbp2", crosspost_parent_list=[first, last], url="/r/x/comments/lzbp2/")
    assert urls(images_of_post(child)) == ["https://i.redd.it/last0001.jpg"]


def test_post_linking_i_redd_it_resolves_as_direct():
    assert urls(images_of_post(post("lzb005", url="https://i.redd.it/dir00001.jpeg", domain="i.redd.it"))) == [
        "https://i.redd.it/dir00001.jpeg"]


@pytest.mark.parametrize("fields,error", [
    ({"is_self": True, "url": "https://www.reddit.com/r/x/comments/lzb006/t/"}, Unsupported),
    ({"is_video": True, "url": "https://v.redd.it/abcdefg", "domain": "v.redd.it"}, Unsupported),
    ({"removed_by_category": "moderator", "url": "https://www.reddit.com/r/x/comments/lzb006/t/"}, Gone),
    ({"url": "https://www.youtube.com/watch?v=abc", "domain": "youtube.com"}, Unsupported),
])
def test_posts_without_images(fields, error):
    with pytest.raises(error):
        images_of_post(post("lzb006", **fields))


def test_submission_of_reads_the_comments_listing():
    assert submission_of(comments_listing(post("lzb007")), "lzb007")["id"] == "lzb007"
    with pytest.raises(Gone):
        submission_of([], "lzb007")


@pytest.mark.parametrize("url,ident", [
    ("https://www.reddit.com/gallery/HUW6VS", "huw6vs"),
    ("https://www.reddit.com/r/test/comments/huw6vs/title/", "huw6vs"),
    ("https://www.reddit.com/user/someone/comments/huw6vs/", "huw6vs"),
    ("https://redd.it/huw6vs", "huw6vs"),
])
def test_post_id(url, ident):
    assert post_id(url) == ident


@pytest.mark.parametrize("url,expected", [
    ("https://i.redd.it/abc123.png", "https://i.redd.it/abc123.png"),
    ("https://preview.redd.it/abc123.jpg?width=640&s=1", "https://i.redd.it/abc123.jpg"),
    ("https://preview.redd.it/some-title-v0-abc123.png?auto=webp&s=2", "https://i.redd.it/abc123.png"),
    ("https://v.redd.it/abc123", None),
])
def test_direct_url(url, expected):
    assert direct_url(url) == expected


# --- the recorded payloads themselves ---------------------------------------------------------

@needs_shared
def test_recorded_gallery_huw6vs():
    listing = json.loads((SHARED / "reddit_comments_gallery_huw6vs_2020-07-20.json").read_text())
    assert urls(images_of_post(submission_of(listing, "huw6vs"))) == [
        "https://i.redd.it/pb7qsvi6i3c51.png",
        "https://i.redd.it/14wmudl6i3c51.jpg",
        "https://i.redd.it/vkm62gm6i3c51.gif",
        "https://i.redd.it/wka18en6i3c51.png",
    ]


@needs_shared
def test_recorded_crossposts_resolve_through_their_parents():
    overview = json.loads((SHARED / "reddit_user_overview_with_crossposts_2026-06-08.json").read_text())
    crossposts = [c["data"] for c in overview["data"]["children"] if c["data"].get("crosspost_parent")]
    assert len(crossposts) == 6
    for child in crossposts:
        parent = child["crosspost_parent_list"][-1]
        assert classify(child["url"]) == "reddit"  # relative permalink, empty domain
        with pytest.raises(Unsupported) as caught:  # every parent here is a self post
            images_of_post(child)
        assert parent["id"] in caught.value.reason and "self post" in caught.value.reason


@needs_shared
def test_recorded_popular_listing():
    listing = json.loads((SHARED / "reddit_listing_r_popular_hot_2026-04-13.json").read_text())
    seen = {"i.redd.it": 0, "v.redd.it": 0, "gallery": 0}
    for child in listing["data"]["children"]:
        data = child["data"]
        if data.get("is_gallery"):
            images = images_of_post(data)
            assert len(images) == len(data["gallery_data"]["items"])
            assert all(i.url.startswith("https://i.redd.it/") and "?" not in i.url for i in images)
            seen["gallery"] += 1
        elif data["domain"] == "i.redd.it":
            assert urls(images_of_post(data)) == [data["url"]]
            assert classify(data["url"]) == "reddit"
            seen["i.redd.it"] += 1
        elif data["domain"] == "v.redd.it":
            assert classify(data["url"]) is None
            with pytest.raises(Unsupported):
                images_of_post(data)
            seen["v.redd.it"] += 1
    assert seen == {"i.redd.it": 50, "v.redd.it": 24, "gallery": 14}
