"""Each source against the fake internet: shapes, paging, rate limits and upstream trouble."""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from greg.format import format_submission
from greg.sources import UpstreamError, plan
from greg.sources.arctic_shift import ArcticShiftSource
from greg.sources.pushshift import PushshiftSource
from greg.sources.reddit import RedditSource
from tests.fakenet import payloads
from tests.fakenet.model import Response
from tests.greg.conftest import make_settings, shared_json

EPOCH = datetime(2005, 6, 1, tzinfo=timezone.utc)
NEW = "https://oauth.reddit.com/r/{}/new"
ARCTIC = "https://arctic-shift.photon-reddit.com/api/posts/search"
PUSHSHIFT = "https://api.pushshift.io/reddit/submission/search"


def collect(pages) -> tuple[list[dict], list]:
    posts, marks = [], []
    for page in pages:
        posts.extend(page.posts)
        marks.append(page.until)
    return posts, marks


def listing_posts() -> list[dict]:
    return [c["data"] for c in payloads.load_json("reddit/listing_pics_new.json")["data"]["children"]]


# -- registry ------------------------------------------------------------------------------

def test_plan_single_and_combined():
    assert plan("reddit").live == "reddit" and plan("reddit").archive is None
    combo = plan("arctic_shift,reddit")
    assert (combo.archive, combo.live) == ("arctic_shift", "reddit")
    assert plan("reddit+pushshift") == plan("pushshift,reddit")
    for bad in ("", "reddit,reddit", "nope", "a,b,c"):
        with pytest.raises(ValueError):
            plan(bad)


# -- reddit (PRAW) --------------------------------------------------------------------------

def test_reddit_listing_through_praw(fakenet, stop):
    posts = listing_posts()
    fakenet.route("GET", NEW.format("pics"), handler=payloads.reddit_listing_handler(posts))
    got, marks = collect(RedditSource(make_settings(), stop).fetch_since("pics", EPOCH))
    subs = {s["id"]: s for s in map(format_submission, got)}
    assert list(subs) == [p["id"] for p in posts]
    assert subs["1lzb001"]["links"] == [{"url": "https://i.redd.it/k8f3qzv1lzb1.jpeg", "type": "reddit"}]
    assert subs["1lzb002"]["links"] == [{"url": "https://www.reddit.com/gallery/1lzb002", "type": "reddit"}]
    assert subs["1lzb003"]["links"][0]["type"] is None          # v.redd.it: unsupported, kept
    assert subs["1lzb004"]["links"][0]["type"] is None          # self post
    assert subs["1lzb005"]["links"] == [{"url": "https://imgur.com/a/k3RvW", "type": "imgur"}]
    assert subs["1lzb006"]["crosspost_parent"] == "1lzb0p0"
    parent = posts[5]["crosspost_parent_list"][-1]
    assert subs["1lzb006"]["links"][0]["url"] == format_submission(parent)["links"][0]["url"]
    assert subs["1lzb005"]["title"] == "Lighthouses & tide pools (album)"
    assert marks[-1] == datetime.fromtimestamp(1776000000, timezone.utc)
    assert fakenet.seen(NEW.format("pics"))[0].query.get("raw_json") == "1"


def test_reddit_stops_at_high_water_mark_across_pages(fakenet, stop):
    posts = [payloads.reddit_post(f"hw{n:03d}", "pics", f"https://i.redd.it/hw{n}.jpeg", 1776000000 - 60 * n)
             for n in range(250)]
    fakenet.route("GET", NEW.format("pics"), handler=payloads.reddit_listing_handler(posts))
    after = datetime.fromtimestamp(1776000000 - 60 * 149, timezone.utc)
    got, marks = collect(RedditSource(make_settings(), stop).fetch_since("pics", after))
    assert [p["id"] for p in got] == [f"hw{n:03d}" for n in range(150)]
    assert marks[:-1] == [None] * (len(marks) - 1)    # only the finished walk checkpoints
    assert len(fakenet.seen(NEW.format("pics"))) == 2


def test_recorded_popular_listing_served_as_new(fakenet, stop):
    listing = shared_json("reddit_listing_r_popular_hot_2026-04-13.json")
    posts = sorted((c["data"] for c in listing["data"]["children"]),
                   key=lambda p: p["created_utc"], reverse=True)
    fakenet.route("GET", NEW.format("popular"), handler=payloads.reddit_listing_handler(posts))
    got, _ = collect(RedditSource(make_settings(), stop).fetch_since("popular", EPOCH))
    subs = [format_submission(p) for p in got]
    assert len(subs) == 100
    types = {}
    for s in subs:
        types.setdefault(s["links"][0]["url"].split("/")[2], set()).add(s["links"][0]["type"])
    assert types["i.redd.it"] == {"reddit"} and types["v.redd.it"] == {None}
    assert sum("/gallery/" in s["links"][0]["url"] for s in subs) == 14


def test_reddit_missing_credentials_is_a_clear_problem(stop):
    source = RedditSource(make_settings(reddit_client_id="", reddit_client_secret=""), stop)
    assert "REDDIT_CLIENT_ID" in source.problem() and "REDDIT_CLIENT_SECRET" in source.problem()


def test_reddit_bad_credentials_and_429(fakenet, stop):
    fakenet.route("POST", payloads.REDDIT_TOKEN_URL, status=401, json={"message": "Unauthorized", "error": 401})
    with pytest.raises(UpstreamError, match="credentials"):
        collect(RedditSource(make_settings(), stop).fetch_since("pics", EPOCH))
    fakenet.reset()
    fakenet.route("GET", NEW.format("pics"), handler=payloads.reddit_listing_handler(listing_posts()))
    fakenet.fail(NEW.format("pics"), times=1, status=429, headers={"Retry-After": "7"})
    with pytest.raises(UpstreamError) as caught:
        collect(RedditSource(make_settings(), stop).fetch_since("pics", EPOCH))
    assert caught.value.retry_after == 7


# -- Pushshift (PMAW) -----------------------------------------------------------------------

def archive_posts(sub: str, count: int, start: int, step: int = 3600) -> list[dict]:
    return [payloads.reddit_post(f"ps{n:04d}", sub, f"https://i.redd.it/ps{n}.jpeg", start + step * n,
                                 f"Post {n} & friends <3" if n % 2 else f"Post {n} & co")
            for n in range(count)]


@pytest.mark.parametrize("shape", ["2021", "2022"])
def test_pushshift_both_shapes_through_pmaw(fakenet, stop, shape):
    start = 1600000000
    posts = archive_posts("science", 260, start)
    fakenet.route("GET", PUSHSHIFT, handler=payloads.pushshift_handler(posts, shape=shape))
    source = PushshiftSource(make_settings(pushshift_token="tok123"), stop)
    got, marks = collect(source.fetch_since("science", datetime.fromtimestamp(start, timezone.utc),
                                            before=datetime.fromtimestamp(start + 3600 * 300, timezone.utc)))
    assert sorted(p["id"] for p in got) == sorted(p["id"] for p in posts)
    titles = {format_submission(p)["title"] for p in got}
    assert "Post 1 & friends <3" in titles and "Post 2 & co" in titles
    assert not any("&amp;" in t or "&lt;" in t for t in titles)
    assert all(r.header("Authorization") == "Bearer tok123" for r in fakenet.seen(PUSHSHIFT))
    assert marks == sorted(marks)


@pytest.mark.parametrize("name", ["pushshift_submission_search_2021-09.json",
                                  "pushshift_submission_search_2022-12.json"])
def test_recorded_pushshift_page_through_pmaw(fakenet, stop, name):
    recorded = shared_json(name)["response"]
    data = recorded["data"]

    def handler(request):  # the recorded page, cut to the asked window, totals made to match
        since, until = int(request.query["since"]), int(request.query["until"])
        hits = [p for p in data if since <= int(p["created_utc"]) < until]
        body = dict(recorded, data=hits[:100])
        if "es" in body["metadata"]:
            body["metadata"] = {**body["metadata"], "es": {**body["metadata"]["es"], "hits": {"total": {"value": len(hits)}}}}
        else:
            body["metadata"] = {**body["metadata"], "total_results": len(hits)}
        return Response(json=body)

    fakenet.route("GET", PUSHSHIFT, handler=handler)
    times = [int(p["created_utc"]) for p in data]
    got, _ = collect(PushshiftSource(make_settings(), stop).fetch_since(
        "science", datetime.fromtimestamp(min(times), timezone.utc),
        before=datetime.fromtimestamp(max(times) + 1, timezone.utc)))
    assert sorted(p["id"] for p in got) == sorted(p["id"] for p in data)
    assert not any("&amp;" in format_submission(p)["title"] for p in got)


def test_pushshift_401_is_an_upstream_error(fakenet, stop):
    fakenet.route("GET", PUSHSHIFT, status=401, json={"detail": "Not authenticated"})
    with pytest.raises(UpstreamError, match="credentials"):
        collect(PushshiftSource(make_settings(), stop).fetch_since(
            "science", datetime.now(timezone.utc) - timedelta(days=2)))


# -- Arctic Shift ---------------------------------------------------------------------------

def arctic_handler(posts: list[dict], page_size: int = 100, inclusive: bool = False):
    """Like Arctic Shift: `after`/`before` epoch seconds, `sort=asc`, `limit` capped at 100."""
    archive = sorted(posts, key=lambda p: (float(p["created_utc"]), p["id"]))

    def handler(request):
        q = request.query
        after, before = float(q.get("after", 0)), float(q.get("before", 1e12))
        hits = [p for p in archive if (float(p["created_utc"]) >= after if inclusive else float(p["created_utc"]) > after)
                and float(p["created_utc"]) < before and p["subreddit"].lower() == q["subreddit"].lower()]
        return Response(json={"data": hits[:min(int(q.get("limit", 25)), page_size)]},
                        headers={"X-RateLimit-Remaining": "100", "X-RateLimit-Reset": "60"})
    return handler


@pytest.mark.parametrize("inclusive", [False, True])
def test_arctic_shift_paging_without_gaps_or_duplicates(fakenet, stop, inclusive):
    start = 1700000000
    # 450 posts; many share a second, including runs that straddle page boundaries
    posts = [payloads.reddit_post(f"as{n:04d}", "art", f"https://i.redd.it/as{n}.png", start + (n // 7) * 10)
             for n in range(450)]
    fakenet.route("GET", ARCTIC, handler=arctic_handler(posts, inclusive=inclusive))
    got, marks = collect(ArcticShiftSource(make_settings(), stop).fetch_since(
        "art", datetime.fromtimestamp(start, timezone.utc)))
    ids = [p["id"] for p in got]
    assert len(ids) == len(set(ids)) == 450
    assert all(m is not None for m in marks) and marks == sorted(marks)
    assert len(fakenet.seen(ARCTIC)) >= 5


def test_arctic_shift_429_with_retry_after_loses_nothing(fakenet, stop, caplog):
    posts = [payloads.reddit_post(f"rt{n:03d}", "art", f"https://i.redd.it/rt{n}.png", 1700000000 + n)
             for n in range(150)]
    fakenet.route("GET", ARCTIC, handler=arctic_handler(posts))
    fakenet.fail(ARCTIC, times=1, status=429, headers={"Retry-After": "1"})
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        got, _ = collect(ArcticShiftSource(make_settings(), stop).fetch_since(
            "art", datetime.fromtimestamp(1700000000, timezone.utc)))
    assert sorted(p["id"] for p in got) == [f"rt{n:03d}" for n in range(150)]
    assert time.monotonic() - started >= 1.0
    assert sum("429" in r.getMessage() for r in caplog.records) == 1


def test_arctic_shift_bad_json_and_5xx_retry_then_give_up(fakenet, stop):
    fakenet.route("GET", ARCTIC, body="<html>oops</html>", content_type="text/html")
    source = ArcticShiftSource(make_settings(), stop)
    source.http.attempts, source.http.max_wait = 2, 0.5
    with pytest.raises(UpstreamError, match="bad JSON"):
        collect(source.fetch_since("art", datetime.fromtimestamp(1700000000, timezone.utc)))
    fakenet.reset()
    fakenet.route("GET", ARCTIC, status=503, json={"error": "down"})
    with pytest.raises(UpstreamError, match="503"):
        collect(source.fetch_since("art", datetime.fromtimestamp(1700000000, timezone.utc)))


def test_stop_interrupts_a_rate_limit_wait(fakenet, stop):
    fakenet.route("GET", ARCTIC, status=429, headers={"Retry-After": "30"})
    source = ArcticShiftSource(make_settings(), stop)
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Exception) as caught:
        collect(source.fetch_since("art", datetime.fromtimestamp(1700000000, timezone.utc)))
    assert time.monotonic() - started < 5
    assert caught.type.__name__ in ("Interrupted", "UpstreamError")


def test_registry_sources_carry_name_example_and_kind():
    from greg.sources import SOURCES
    assert set(SOURCES) == {"reddit", "pushshift", "arctic_shift"}
    for name, cls in SOURCES.items():
        assert cls.name == name and f"GREG_SOURCE={name}" in cls.example
        assert isinstance(cls.live, bool)
    assert [n for n, c in SOURCES.items() if c.live] == ["reddit"]


def test_the_shared_source_list_is_greg_s():
    """booru validates a subreddit's source with common.sources: it names greg's sources exactly."""
    from common.sources import LIVE
    from greg.sources import SOURCES
    assert {name: cls.live for name, cls in SOURCES.items()} == LIVE


def test_arctic_shift_timeout_is_retried(fakenet, stop, caplog):
    posts = [payloads.reddit_post(f"to{n:03d}", "art", f"https://i.redd.it/to{n}.png", 1700000000 + n)
             for n in range(20)]
    fakenet.route("GET", ARCTIC, handler=arctic_handler(posts))
    fakenet.hang(ARCTIC, times=1, seconds=3)
    source = ArcticShiftSource(make_settings(), stop)
    source.http.timeout = 0.5
    with caplog.at_level(logging.WARNING):
        got, _ = collect(source.fetch_since("art", datetime.fromtimestamp(1700000000, timezone.utc)))
    assert len(got) == 20
    assert any("timed out" in r.getMessage() for r in caplog.records)


def test_pmaw_leaves_greg_signal_handlers_in_place(fakenet, stop):
    import signal
    mine = lambda *_: None  # noqa: E731
    previous = signal.signal(signal.SIGTERM, mine)
    try:
        fakenet.route("GET", PUSHSHIFT, handler=payloads.pushshift_handler(archive_posts("science", 5, 1600000000)))
        collect(PushshiftSource(make_settings(), stop).fetch_since(
            "science", datetime.fromtimestamp(1600000000, timezone.utc),
            before=datetime.fromtimestamp(1600100000, timezone.utc)))
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_arctic_shift_truncated_answer_is_retried(fakenet, stop):
    posts = [payloads.reddit_post(f"tr{n:03d}", "art", f"https://i.redd.it/tr{n}.png", 1700000000 + n)
             for n in range(30)]
    fakenet.route("GET", ARCTIC, handler=arctic_handler(posts))
    fakenet.truncate(ARCTIC, times=1)
    got, _ = collect(ArcticShiftSource(make_settings(), stop).fetch_since(
        "art", datetime.fromtimestamp(1700000000, timezone.utc)))
    assert len(got) == 30


def test_recorded_crossposts_served_as_new(fakenet, stop):
    overview = shared_json("reddit_user_overview_with_crossposts_2026-06-08.json")
    things = overview["data"]["children"]            # t1 comments mixed in: only t3 are posts
    fakenet.route("GET", NEW.format("redditstock"), handler=payloads.reddit_listing_handler(
        [t["data"] for t in things]))
    got, _ = collect(RedditSource(make_settings(), stop).fetch_since("redditstock", EPOCH))
    t3 = [t["data"] for t in things if t["kind"] == "t3"]
    assert [p["id"] for p in got] == [p["id"] for p in t3][:len(got)] and len(got) == len(t3)
    for post in got:
        sub = format_submission(post)
        if post.get("crosspost_parent_list"):
            parent = post["crosspost_parent_list"][-1]
            assert sub["crosspost_parent"] == parent["id"]
            assert sub["links"][0]["url"] == format_submission(parent)["links"][0]["url"]


def with_headers(handler, headers: dict[str, str]):
    def wrapped(request):
        response = handler(request)
        response.headers = {**(response.headers or {}), **headers}
        return response
    return wrapped


def test_reddit_waits_for_ratelimit_reset(fakenet, stop):
    posts = [payloads.reddit_post(f"rr{n:03d}", "pics", f"https://i.redd.it/rr{n}.png", 1776000000 - 60 * n)
             for n in range(150)]
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "600", "x-ratelimit-reset": "2"}
    fakenet.route("GET", NEW.format("pics"), handler=with_headers(payloads.reddit_listing_handler(posts), headers))
    started = time.monotonic()
    got, _ = collect(RedditSource(make_settings(), stop).fetch_since("pics", EPOCH))
    assert len(got) == 150 and len(fakenet.seen(NEW.format("pics"))) == 2
    assert time.monotonic() - started >= 1.8        # prawcore slept until the window reset


def test_arctic_shift_waits_for_ratelimit_reset(fakenet, stop):
    posts = [payloads.reddit_post(f"ar{n:03d}", "art", f"https://i.redd.it/ar{n}.png", 1700000000 + n)
             for n in range(150)]
    fakenet.route("GET", ARCTIC, handler=with_headers(arctic_handler(posts),
                                                      {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"}))
    started = time.monotonic()
    got, _ = collect(ArcticShiftSource(make_settings(), stop).fetch_since(
        "art", datetime.fromtimestamp(1700000000, timezone.utc)))
    assert len(got) == 150 and time.monotonic() - started >= 1.0
