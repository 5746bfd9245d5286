"""Post dicts from every source -> submission payloads."""
from __future__ import annotations

import pytest

from greg.format import BadPost, format_submission, parse_time
from tests.fakenet import payloads
from tests.greg.conftest import shared_json

T = 1776000000


def test_image_post_fields():
    post = payloads.reddit_post("abc1", "pics", "https://i.redd.it/x1.jpeg", T, "Fog &amp; sea",
                                author="someone", link_flair_text="OC &amp; more", over_18=True)
    sub = format_submission(post)
    assert sub == {
        "id": "abc1", "title": "Fog & sea", "author": "someone", "subreddit": "pics",
        "created": "2026-04-12T13:20:00+00:00", "flair": "OC & more", "nsfw": True,
        "removed": None, "crosspost_parent": None,
        "links": [{"url": "https://i.redd.it/x1.jpeg", "type": "reddit"}],
    }


@pytest.mark.parametrize("created", [T, float(T), str(T), f"{T}.0", T + 0.4])
def test_created_utc_int_float_or_string(created):
    post = payloads.reddit_post("abc2", "pics", "https://i.redd.it/x.png", created)
    assert format_submission(post)["created"] == "2026-04-12T13:20:00+00:00"


def test_limits_and_deleted_author():
    post = payloads.reddit_post("abc3", "pics", "https://i.redd.it/x.png", T, "t" * 400,
                                author="[deleted]", link_flair_text="f" * 100)
    sub = format_submission(post)
    assert len(sub["title"]) == 300 and len(sub["flair"]) == 64 and sub["author"] == "[deleted]"
    post["author"] = None
    post["link_flair_text"] = ""
    assert format_submission(post)["author"] == "[deleted]"
    assert format_submission(post)["flair"] is None


def test_removed_and_url_entities():
    post = payloads.reddit_post("abc4", "pics", "https://example.com/a.jpg?x=1&amp;y=2", T,
                                removed_by_category="moderator")
    sub = format_submission(post)
    assert sub["removed"] == "moderator"
    assert sub["links"] == [{"url": "https://example.com/a.jpg?x=1&y=2", "type": "generic"}]


def test_gallery_keeps_gallery_url():
    post = payloads.reddit_post("gal1", "pics", None, T, is_gallery=True)
    assert format_submission(post)["links"] == [
        {"url": "https://www.reddit.com/gallery/gal1", "type": "reddit"}]


@pytest.mark.parametrize("url", ["https://v.redd.it/abcdef", "https://www.youtube.com/watch?v=x",
                                 "https://news.example.com/story"])
def test_unsupported_links_are_kept_with_no_type(url):
    post = payloads.reddit_post("uns1", "pics", url, T)
    assert format_submission(post)["links"] == [{"url": url, "type": None}]


def test_self_post_links_its_permalink_unsupported():
    post = payloads.reddit_post("self1", "pics", None, T, "Which lens?", selftext="hi")
    link = format_submission(post)["links"][0]
    assert link == {"url": "https://www.reddit.com/r/pics/comments/self1/which_lens/", "type": None} \
        or (link["type"] is None and link["url"].startswith("https://www.reddit.com/r/pics/comments/self1/"))


def test_crosspost_takes_parent_media():
    parent = payloads.reddit_post("par1", "EarthPorn", "https://i.redd.it/stack.jpeg", T - 60)
    post = payloads.reddit_post("xp1", "pics", None, T, crosspost_parent=parent)
    sub = format_submission(post)
    assert sub["crosspost_parent"] == "par1"
    assert sub["links"] == [{"url": "https://i.redd.it/stack.jpeg", "type": "reddit"}]


def test_crosspost_of_gallery_and_of_self_post():
    gallery = payloads.reddit_post("par2", "EarthPorn", None, T - 60, is_gallery=True)
    assert format_submission(payloads.reddit_post("xp2", "pics", None, T, crosspost_parent=gallery))[
        "links"] == [{"url": "https://www.reddit.com/gallery/par2", "type": "reddit"}]
    text = payloads.reddit_post("par3", "AskReddit", None, T - 60, "Question", selftext="?")
    link = format_submission(payloads.reddit_post("xp3", "pics", None, T, crosspost_parent=text))["links"][0]
    assert link["type"] is None and link["url"].startswith("https://www.reddit.com/r/AskReddit/comments/par3/")


def test_relative_url_made_absolute():
    post = {"id": "rel1", "subreddit": "pics", "created_utc": T, "title": "x", "author": "a",
            "url": "/r/pics/comments/rel0/x/", "domain": "", "crosspost_parent": "t3_rel0"}
    link = format_submission(post)["links"][0]
    assert link["url"] == "https://www.reddit.com/r/pics/comments/rel0/x/"


def test_pushshift_record_unescaped():
    post = payloads.reddit_post("ps1", "science", "https://i.redd.it/a.png", T, "J&J <study>")
    record = payloads.pushshift_submission(post, shape="2021")
    assert "&amp;" in record["title"]
    assert format_submission(record)["title"] == "J&J <study>"


@pytest.mark.parametrize("broken", [{}, {"id": "x", "subreddit": "pics"},
                                    {"id": "x", "subreddit": "pics", "created_utc": "soon"},
                                    {"subreddit": "pics", "created_utc": T}])
def test_bad_posts_raise_badpost(broken):
    with pytest.raises(BadPost):
        format_submission(broken)


def test_parse_time_forms():
    assert parse_time("2026-04-12T13:20:00") == parse_time("2026-04-12T13:20:00+00:00")
    assert parse_time("2026-04-12T13:20:00Z").timestamp() == T
    assert parse_time(T).timestamp() == T and parse_time(None) is None


# -- recorded payloads (../shared/fixtures), when present ---------------------------------------

def test_recorded_popular_listing_formats():
    listing = shared_json("reddit_listing_r_popular_hot_2026-04-13.json")
    subs = [format_submission(c["data"]) for c in listing["data"]["children"]]
    assert len(subs) == 100 and len({s["id"] for s in subs}) == 100
    by_host: dict[str, set] = {}
    for s in subs:
        host = s["links"][0]["url"].split("/")[2]
        by_host.setdefault(host, set()).add(s["links"][0]["type"])
    assert by_host["i.redd.it"] == {"reddit"} and by_host["v.redd.it"] == {None}
    galleries = [s for s in subs if "/gallery/" in s["links"][0]["url"]]
    assert len(galleries) == 14 and all(s["links"][0]["type"] == "reddit" for s in galleries)
    selfs = [c["data"] for c in listing["data"]["children"] if c["data"]["is_self"]]
    assert selfs and all(format_submission(p)["links"][0]["type"] is None for p in selfs)


def test_recorded_crossposts_take_parent_media():
    overview = shared_json("reddit_user_overview_with_crossposts_2026-06-08.json")
    crossposts = [c["data"] for c in overview["data"]["children"]
                  if c["kind"] == "t3" and c["data"].get("crosspost_parent")]
    assert len(crossposts) == 6
    for post in crossposts:
        sub = format_submission(post)
        parent = post["crosspost_parent_list"][-1]
        assert sub["crosspost_parent"] == parent["id"]
        assert sub["links"][0]["url"].startswith(f"https://www.reddit.com/r/{parent['subreddit']}/comments/{parent['id']}/")


@pytest.mark.parametrize("name", ["pushshift_submission_search_2021-09.json",
                                  "pushshift_submission_search_2022-12.json"])
def test_recorded_pushshift_pages_unescaped(name):
    page = shared_json(name)["response"]["data"]
    subs = [format_submission(p) for p in page]
    assert len(subs) == len(page) == 100
    assert not any("&amp;" in s["title"] or "&amp;" in s["links"][0]["url"] for s in subs)
    assert any("&" in s["title"] for s in subs)


def test_recorded_gallery_submission():
    comments = shared_json("reddit_comments_gallery_huw6vs_2020-07-20.json")
    post = comments[0]["data"]["children"][0]["data"]
    sub = format_submission(post)
    assert sub["id"] == "huw6vs"
    assert sub["links"] == [{"url": "https://www.reddit.com/gallery/huw6vs", "type": "reddit"}]
