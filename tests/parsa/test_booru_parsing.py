"""Booru post pages and JSON -> file URL, md5, post time, source and namespaced tags."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from parsa.resolvers import Gone
from parsa.resolvers import danbooru, gelbooru
from parsa.resolvers.booru_page import md5_of
from tests.parsa.samples import SHARED, danbooru_post, read

needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/fixtures is absent")
MD5 = "0123456789abcdef0123456789abcdef"
EST = timezone(timedelta(hours=-5))
OUR_TAGS = ["creator:lzb_artist", "character:aria_(lzb)", "series:lzb_series", "meta:translated",
            "1girl", "solo", "rating:questionable"]


def test_danbooru_json():
    image = danbooru.image_from_json(danbooru_post())
    assert image.url == f"https://cdn.donmai.us/original/01/23/{MD5}.png"
    assert image.md5 == MD5
    assert image.source_url == "https://www.pixiv.net/artworks/88000000"
    assert image.posted == datetime(2021, 3, 4, 5, 6, 7, 890000, tzinfo=EST)
    assert image.tags == OUR_TAGS


@pytest.mark.parametrize("letter,word", [("g", "general"), ("s", "sensitive"), ("q", "questionable"),
                                         ("e", "explicit")])
def test_danbooru_ratings(letter, word):
    assert danbooru.image_from_json(danbooru_post(rating=letter)).tags[-1] == f"rating:{word}"


def test_danbooru_json_without_file_is_gone():
    with pytest.raises(Gone):
        danbooru.image_from_json(danbooru_post(file_url=None, is_deleted=True))


def test_danbooru_html_gives_the_same_fields_as_json():
    image = danbooru.image_from_html(read("danbooru_post_5123456.html"))
    assert image.url == f"https://cdn.donmai.us/original/01/23/{MD5}.png"  # data-file-url, not og:image
    assert image.md5 == MD5
    assert image.source_url == "https://www.pixiv.net/artworks/88000000"
    assert image.posted == datetime(2021, 3, 4, 5, 6, 7, tzinfo=EST)
    assert sorted(image.tags) == sorted(OUR_TAGS)


def test_gelbooru_page_built_after_the_hydrus_guide():
    image = gelbooru.image_from_html(read("gelbooru_post_3837999.html"))
    assert image.url == "https://gelbooru.com/images/fe/dc/fedcba9876543210fedcba9876543210.jpeg"  # og:image
    assert image.md5 == "fedcba9876543210fedcba9876543210"
    assert image.posted == datetime(2017, 8, 18, 13, 22, 5)  # timezone dropped
    assert image.source_url == "https://www.deviantart.com/lzb-artist/art/Aria-700000000"
    assert image.tags == ["creator:lzb_artist", "series:lzb_series", "character:aria_(lzb)", "1girl", "smile",
                          "meta:highres", "rating:general"]


def test_gelbooru_falls_back_to_the_original_image_link():
    html = read("gelbooru_post_3837999.html").replace('<meta property="og:image"', '<meta property="og:nothing"')
    image = gelbooru.image_from_html(html)
    assert image.url == "https://simg3.gelbooru.com/images/fe/dc/fedcba9876543210fedcba9876543210.jpeg"
    assert image.md5 == "fedcba9876543210fedcba9876543210"


def test_gelbooru_page_without_a_file_is_gone():
    with pytest.raises(Gone):
        gelbooru.image_from_html("<html><body><p>This post was deleted.</p></body></html>")


@pytest.mark.parametrize("url,md5", [
    ("https://x/images/38/6e/386e12e33726425dbd637e134c4c09b5.jpeg", "386e12e33726425dbd637e134c4c09b5"),
    ("https://x/data/__a_b__9b1bb70c1f123a07c8c1966a1ff76b79.jpg", "9b1bb70c1f123a07c8c1966a1ff76b79"),
    ("https://x/data/sample/sample-4f39497ef8fcd059984c3b1fe86cf542.jpg", "4f39497ef8fcd059984c3b1fe86cf542"),
    ("https://x/386e12e33726425dbd637e134c4c09b5/pic.jpg", None),
    (None, None),
])
def test_md5_of(url, md5):
    assert md5_of(url) == md5


# --- the recorded payloads themselves ---------------------------------------------------------

@needs_shared
def test_recorded_danbooru_posts_json():
    posts = json.loads((SHARED / "booru" / "danbooru_posts_2020-07-26.json").read_text())
    first = danbooru.image_from_json(posts[0])
    assert first.url == "https://danbooru.donmai.us/data/4f39497ef8fcd059984c3b1fe86cf542.png"
    assert first.md5 == "4f39497ef8fcd059984c3b1fe86cf542"
    assert first.posted == datetime(2020, 7, 26, 10, 31, 20, 176000, tzinfo=timezone(timedelta(hours=-4)))
    assert first.source_url == "https://i.pximg.net/img-original/img/2020/07/26/23/24/44/83250427_p0.png"
    assert first.tags[:4] == ["creator:chagara", "character:eyjafjalla_(arknights)", "series:arknights",
                              "meta:commentary"]
    assert "sheep_horns" in first.tags and first.tags[-1] == "rating:sensitive"
    for post in posts:
        image = danbooru.image_from_json(post)
        assert image.md5 == post["md5"] and image.url == post["file_url"]
        assert len(image.tags) == post["tag_count"] + 1  # every tag, plus the rating


@needs_shared
def test_recorded_danbooru_post_page():
    html = (SHARED / "booru" / "danbooru_post_4018221_2020-07-26.html").read_text()
    image = danbooru.image_from_html(html)
    assert image.url == "https://danbooru.donmai.us/data/9b1bb70c1f123a07c8c1966a1ff76b79.jpg"
    assert image.md5 == "9b1bb70c1f123a07c8c1966a1ff76b79"
    assert image.posted == datetime(2020, 7, 26, 10, 38, 10, tzinfo=timezone(timedelta(hours=-4)))
    assert image.source_url == "https://i.pximg.net/img-original/img/2020/07/26/22/36/28/83248873_p0.jpg"
    assert "series:princess_connect!" in image.tags and "series:princess_connect!_re:dive" in image.tags
    assert "character:kokkoro_(princess_connect!)" in image.tags
    assert "creator:hitotsuki_no_yagi" in image.tags
    assert "1girl" in image.tags and "rating:sensitive" in image.tags
    assert any(tag.startswith("meta:") for tag in image.tags)


@needs_shared
def test_recorded_older_danbooru_post_page():
    html = (SHARED / "booru" / "danbooru_post_page_older.html").read_text()
    image = danbooru.image_from_html(html)
    assert image.url == "https://raikou1.donmai.us/0c/c7/0cc748f006b9636f0c268250ea157995.jpg"
    assert image.md5 == "0cc748f006b9636f0c268250ea157995"
    assert image.source_url == "http://senpenbankashiki.hp.infoseek.co.jp/diary/0810.jpg"
    assert image.posted == datetime(2005, 8, 11, 11, 17, 28, tzinfo=timezone(timedelta(hours=-4)))
    assert "series:to_heart_2" in image.tags
