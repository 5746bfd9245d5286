"""Search answers shaped for the pages: one entry per picture, posts oldest first, whichever
shape the answer has (a hit per image naming its post, or a result per picture with its posts)."""
from __future__ import annotations

from datetime import datetime, timezone

from booru.web.results import grouped_tags, human_bytes, pictures, when


def _post(post_id: str, created: str) -> dict:
    return {"submission_id": post_id, "post": f"https://redd.it/{post_id}", "title": post_id, "subreddit": "pics",
            "author": "a", "created": created, "nsfw": False}


def test_a_hit_per_image_lists_its_own_post():
    hit = {"id": 7, "url": "https://i.redd.it/x.jpg", "score": 99.0, **_post("abc", "2024-01-01T00:00:00+00:00")}
    [picture] = pictures({"hits": [hit]})
    assert [p["post"] for p in picture["posts"]] == ["https://redd.it/abc"]
    assert picture["score"] == 99.0


def test_a_result_per_picture_lists_every_post_oldest_first():
    posts = [_post("new", "2025-01-01T00:00:00+00:00"), _post("old", "2019-06-01T00:00:00+00:00"),
             _post("mid", "2021-03-01T00:00:00+00:00")]
    for shape in (posts, {"items": posts, "cursor": None}):
        [picture] = pictures({"results": [{"id": 1, "confidence": "match", "score": 97.5, "posts": shape}]})
        assert [p["submission_id"] for p in picture["posts"]] == ["old", "mid", "new"]
        assert picture["confidence"] == "match"
    mixed = [{**_post("b", ""), "created": datetime(2020, 1, 1, tzinfo=timezone.utc)},
             {**_post("a", ""), "created": datetime(2010, 1, 1, tzinfo=timezone.utc)}]
    assert [p["submission_id"] for p in pictures({"hits": [{"id": 1, "posts": mixed}]})[0]["posts"]] == ["a", "b"]


def test_tags_by_namespace_known_ones_first_plain_ones_last():
    grouped = grouped_tags(["landscape", "rating:safe", "zz:top", "character:lara_croft", "series:tomb_raider"])
    assert [namespace for namespace, _ in grouped] == ["character", "series", "rating", "zz", ""]
    assert grouped[0][1] == [("character:lara_croft", "lara_croft")]


def test_formats():
    assert when("2024-05-01T14:00:00+02:00") == "2024-05-01 12:00 UTC"
    assert when(None) == ""
    assert human_bytes(512) == "512 bytes" and human_bytes(12345) == "12.1 KiB" and human_bytes(None) == ""
