"""Booru pages and generic image links through the safe fetcher and the fake internet."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from parsa.resolvers import Gone, Transient, resolve
from tests.fakenet import payloads

DANBOORU = "https://danbooru.donmai.us/posts/7654321"
GELBOORU = "https://gelbooru.com/index.php?page=post&s=view&id=9081726"
MD5 = "3b5d5c3712955042212316173ccf37be"
EXPECTED_TAGS = {"creator:mori_sketchbook", "series:original", "character:lighthouse_keeper_(original)",
                 "1girl", "coat", "night", "ocean", "scenery", "meta:highres"}


def test_danbooru_json(fakenet, make_ctx):
    fakenet.route("GET", DANBOORU + ".json", json=payloads.danbooru_post_json())
    (image,) = resolve(DANBOORU, make_ctx())
    assert image.url == f"https://cdn.donmai.us/original/3b/5d/{MD5}.jpg"
    assert image.md5 == MD5
    assert image.source_url == "https://www.pixiv.net/artworks/112233445"
    assert image.posted == datetime(2024, 3, 9, 18, 22, 41, 512000, tzinfo=timezone(timedelta(hours=-5)))
    assert set(image.tags) == EXPECTED_TAGS | {"rating:general"}


def test_danbooru_html_when_the_json_is_refused(fakenet, make_ctx):
    fakenet.route("GET", DANBOORU + ".json", status=403, json={"success": False, "message": "Access denied"})
    fakenet.route("GET", DANBOORU, body=payloads.danbooru_post_html(), content_type="text/html; charset=utf-8")
    (image,) = resolve(DANBOORU, make_ctx())
    assert image.url == f"https://cdn.donmai.us/original/3b/5d/{MD5}.jpg"
    assert image.md5 == MD5
    assert image.source_url == "https://www.pixiv.net/artworks/112233445"
    assert image.posted is not None and image.posted.date().isoformat() == "2024-03-09"
    assert set(image.tags) == EXPECTED_TAGS | {"rating:general"}


def test_danbooru_missing_post_is_gone(fakenet, make_ctx):
    fakenet.route("GET", DANBOORU + ".json", status=404, json={"success": False, "message": "not found"})
    with pytest.raises(Gone):
        resolve(DANBOORU, make_ctx())
    assert fakenet.seen(DANBOORU) == []  # no HTML fallback for a post that does not exist


def test_danbooru_outage_is_transient(fakenet, make_ctx):
    fakenet.route("GET", DANBOORU + ".json", status=503, body="down")
    with pytest.raises(Transient):
        resolve(DANBOORU, make_ctx())


def test_gelbooru_post_page(fakenet, make_ctx):
    fakenet.route("GET", GELBOORU, body=payloads.gelbooru_post_html(), content_type="text/html; charset=utf-8")
    (image,) = resolve(GELBOORU.replace("&", "&amp;"), make_ctx())
    assert image.url == "https://img3.gelbooru.com/images/a1/f4/a1f4e2c9b07d3358e6f0c2b4d9a87e15.jpg"
    assert image.md5 == "a1f4e2c9b07d3358e6f0c2b4d9a87e15"
    assert image.posted == datetime(2023, 11, 4, 21, 17, 8)
    assert image.source_url == "https://twitter.com/example_artist/status/1721000000000000000"
    assert set(image.tags) == EXPECTED_TAGS | {"rating:general"}


def test_gelbooru_deleted_post_is_gone(fakenet, make_ctx):
    fakenet.route("GET", GELBOORU, body="<html><body>This post was deleted.</body></html>", content_type="text/html")
    with pytest.raises(Gone):
        resolve(GELBOORU, make_ctx())


# --- generic direct links ------------------------------------------------------------------------

def test_generic_image_confirmed_by_content_type(fakenet, make_ctx):
    fakenet.route_image("https://images.example.org/cats/tabby.jpg")
    (image,) = resolve("https://images.example.org/cats/tabby.jpg", make_ctx())
    assert image.url == "https://images.example.org/cats/tabby.jpg"


def test_generic_big_image_is_confirmed_without_reading_it_all(fakenet, make_ctx):
    fakenet.route("GET", "https://images.example.org/big.png", body=b"\x89PNG" + b"\0" * 600_000,
                  content_type="image/png")
    assert len(resolve("https://images.example.org/big.png", make_ctx())) == 1


def test_generic_html_page_is_not_an_image(fakenet, make_ctx):
    fakenet.route("GET", "https://images.example.org/fake.jpg", body="<html>hi</html>", content_type="text/html")
    with pytest.raises(Gone, match="content type"):
        resolve("https://images.example.org/fake.jpg", make_ctx())


@pytest.mark.parametrize("status,error", [(404, Gone), (410, Gone), (503, Transient), (429, Transient)])
def test_generic_http_failures(fakenet, make_ctx, status, error):
    fakenet.route("GET", "https://images.example.org/x.webp", status=status, body="no")
    with pytest.raises(error):
        resolve("https://images.example.org/x.webp", make_ctx())


def test_generic_link_to_a_private_address_is_refused(make_ctx):
    with pytest.raises(Gone):
        resolve("http://127.0.0.1/secret.png", make_ctx())
