"""greg as a real process against a live booru (gunicorn + PostgreSQL); only the outside
world (Reddit, Arctic Shift, Pushshift) is the fake internet."""
from __future__ import annotations

import signal
from datetime import datetime, timezone
from urllib.parse import urlsplit

import psycopg2
import pytest
import requests

from tests.fakenet import payloads
from tests.fakenet.model import Response
from tests.greg.dumps import dump_posts, write_dump
from tests.support import healthy, start_python, wait_until

pytestmark = pytest.mark.slow

NEW = "https://oauth.reddit.com/r/{}/new"
ARCTIC = "https://arctic-shift.photon-reddit.com/api/posts/search"
REDDIT_ENV = {"GREG_SOURCE": "reddit", "REDDIT_CLIENT_ID": "lzb-test-id",
              "REDDIT_CLIENT_SECRET": "lzb-test-secret", "CHAPTER_INTERVAL": "0.5"}


# -- helpers -------------------------------------------------------------------------------

def about(name: str, created_utc: float) -> dict:
    return {"kind": "t5", "data": {"display_name": name, "display_name_prefixed": f"r/{name}",
                                   "name": f"t5_{payloads.signature(name)[:6]}", "id": payloads.signature(name)[:6],
                                   "created": created_utc, "created_utc": created_utc,
                                   "subreddit_type": "public", "over18": False, "url": f"/r/{name}/",
                                   "subscribers": 1234, "title": name, "public_description": ""}}


def register(live_booru, fakenet, name: str, created_utc: float) -> dict:
    """Register r/<name> through booru's admin API, Reddit's about page faked."""
    body = about(name, created_utc)
    fakenet.route("GET", f"https://oauth.reddit.com/r/{name}/about", handler=payloads.reddit_json(body))
    fakenet.route("GET", f"https://www.reddit.com/r/{name}/about.json", json=body)
    fakenet.route("GET", "https://arctic-shift.photon-reddit.com/api/subreddits/search",
                  json={"data": [{"display_name": name, "created_utc": created_utc}]})
    answer = requests.post(f"{live_booru.url}/subreddit", json={"name": name},
                           headers={"X-API-Key": live_booru.admin_key}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()


def booru_get(live_booru, path: str, **params) -> dict:
    answer = requests.get(f"{live_booru.url}{path}", params=params,
                          headers={"X-API-Key": live_booru.admin_key}, timeout=10)
    answer.raise_for_status()
    return answer.json()


def submissions(live_booru, name: str) -> dict[str, dict]:
    out, cursor = {}, None
    while True:
        params = {"subreddit": name, "limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = booru_get(live_booru, "/submission", **params)
        out.update((s["id"], s) for s in page["items"])
        cursor = page.get("cursor")
        if not cursor or not page["items"]:
            return out


def links(live_booru) -> dict[str, dict]:
    out, cursor = {}, None
    while True:
        page = booru_get(live_booru, "/link", limit=1000, **({"cursor": cursor} if cursor else {}))
        out.update((link["id"], link) for link in page["items"])
        cursor = page.get("cursor")
        if not cursor or not page["items"]:
            return out


def subreddit(live_booru, name: str) -> dict:
    return booru_get(live_booru, f"/subreddit/{name}")


def epoch(value: str | None) -> float | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def stop_ok(process) -> None:
    code = process.stop()
    assert code == 0, process.output()[-3000:]


# -- the daemon ----------------------------------------------------------------------------

def test_greg_posts_reddit_listing_and_moves_updated(live_booru, fakenet, run_daemon):
    posts = [c["data"] for c in payloads.load_json("reddit/listing_pics_new.json")["data"]["children"]]
    register(live_booru, fakenet, "pics", 1201233135.0)
    fakenet.route("GET", NEW.format("pics"), handler=payloads.reddit_listing_handler(posts))
    greg = run_daemon("greg", env=REDDIT_ENV)
    wait_until(lambda: len(submissions(live_booru, "pics")) == 6, timeout=40, message="6 submissions")
    wait_until(lambda: epoch(subreddit(live_booru, "pics")["updated"]) == 1776000000, timeout=20,
               message="updated = newest post")
    got = submissions(live_booru, "pics")
    assert got["1lzb005"]["title"] == "Lighthouses & tide pools (album)"
    assert got["1lzb006"]["crosspost_parent"] == "1lzb0p0"
    found = links(live_booru)
    assert found["1lzb001"]["type"] == "reddit"
    assert found["1lzb002"]["url"] == "https://www.reddit.com/gallery/1lzb002"
    assert found["1lzb003"]["type"] is None and found["1lzb004"]["type"] is None   # video, self post
    assert found["1lzb005"]["type"] == "imgur"
    assert found["1lzb006"]["url"] == posts[5]["crosspost_parent_list"][-1]["url"]

    # new posts arrive: greg walks back only to its high-water mark
    newer = [payloads.reddit_post(f"1lzc{n:03d}", "pics", f"https://i.redd.it/new{n}.png", 1776000000 + 60 * (n + 1))
             for n in range(3)][::-1]
    fakenet.route("GET", NEW.format("pics"), handler=payloads.reddit_listing_handler(newer + posts))
    wait_until(lambda: len(submissions(live_booru, "pics")) == 9, timeout=30, message="3 newer submissions")
    wait_until(lambda: epoch(subreddit(live_booru, "pics")["updated"]) == 1776000180, timeout=20,
               message="updated moved to the newest")
    assert subreddit(live_booru, "pics")["last_polled"] is not None
    stop_ok(greg)


def test_missing_reddit_credentials_one_line_per_chapter(live_booru, fakenet, run_daemon):
    register(live_booru, fakenet, "pics", 1201233135.0)
    greg = run_daemon("greg", env={**REDDIT_ENV, "REDDIT_CLIENT_ID": "", "REDDIT_CLIENT_SECRET": ""})
    wait_until(lambda: greg.output().count("greg chapter:") >= 3, timeout=30, message="3 chapters")
    stop_ok(greg)
    output = greg.output()
    chapters = output.count("greg chapter:")
    complaints = [line for line in output.splitlines() if "REDDIT_CLIENT_ID" in line]
    assert complaints and "REDDIT_CLIENT_SECRET" in complaints[0]
    assert chapters - 1 <= len(complaints) <= chapters + 1
    assert "Traceback" not in output


def test_429_with_retry_after_then_success_loses_nothing(live_booru, fakenet, run_daemon):
    posts = [payloads.reddit_post(f"rl{n:03d}", "pics", f"https://i.redd.it/rl{n}.png", 1776000000 - 60 * n)
             for n in range(230)]
    register(live_booru, fakenet, "pics", 1201233135.0)
    fakenet.route("GET", NEW.format("pics"), handler=payloads.reddit_listing_handler(posts))
    fakenet.fail(NEW.format("pics"), times=1, status=429, headers={"Retry-After": "2"})
    greg = run_daemon("greg", env=REDDIT_ENV)
    wait_until(lambda: len(submissions(live_booru, "pics")) == 230, timeout=60, message="all 230 submissions")
    assert epoch(subreddit(live_booru, "pics")["updated"]) == 1776000000
    stop_ok(greg)
    output = greg.output()
    assert sum("429" in line and "WARNING" in line for line in output.splitlines()) == 1, output[-3000:]
    assert "Traceback" not in output


def test_a_subreddit_failing_every_time_does_not_starve_the_others(live_booru, fakenet, run_daemon):
    """r/aaa_broken (polled first) answers 502 forever, which backs the whole source off; the
    next chapter begins after it, so r/zzz_fine is still fetched."""
    posts = [payloads.reddit_post(f"ok{n:03d}", "zzz_fine", f"https://i.redd.it/ok{n}.png", 1776000000 - 60 * n)
             for n in range(5)]
    register(live_booru, fakenet, "aaa_broken", 1201233135.0)
    register(live_booru, fakenet, "zzz_fine", 1201233135.0)
    fakenet.route("GET", NEW.format("aaa_broken"), status=502, body=b"bad gateway")
    fakenet.route("GET", NEW.format("zzz_fine"), handler=payloads.reddit_listing_handler(posts))
    greg = run_daemon("greg", env=REDDIT_ENV)
    wait_until(lambda: len(submissions(live_booru, "zzz_fine")) == 5, timeout=45,
               message="r/zzz_fine fetched while r/aaa_broken keeps failing")
    stop_ok(greg)


def test_booru_outage_greg_waits_and_resumes(live_booru, fakenet, run_daemon):
    posts = [c["data"] for c in payloads.load_json("reddit/listing_pics_new.json")["data"]["children"]]
    register(live_booru, fakenet, "pics", 1201233135.0)
    fakenet.route("GET", NEW.format("pics"), handler=payloads.reddit_listing_handler(posts))
    port = urlsplit(live_booru.url).port
    live_booru.process.stop()                                    # booru goes away
    greg = run_daemon("greg", env=REDDIT_ENV)
    wait_until(lambda: greg.output().count("unreachable") >= 2, timeout=30, message="greg noticing the outage")
    assert greg.running()
    with psycopg2.connect(live_booru.database_uri) as db, db.cursor() as cur:
        cur.execute("SELECT updated FROM subreddit WHERE name = 'pics'")
        assert cur.fetchone()[0] is None
        cur.execute("SELECT count(*) FROM submission")
        assert cur.fetchone()[0] == 0
    booru = start_python("booru", ["-m", "gunicorn", "--workers", "1", "--threads", "4", "--bind",
                                   f"127.0.0.1:{port}", "booru:create_app()"], live_booru.env)
    try:
        wait_until(lambda: healthy(live_booru.url), timeout=30, message="booru back")
        wait_until(lambda: len(submissions(live_booru, "pics")) == 6, timeout=90, message="greg resuming")
        wait_until(lambda: epoch(subreddit(live_booru, "pics")["updated"]) == 1776000000, timeout=30,
                   message="updated after success")
        stop_ok(greg)
    finally:
        booru.stop()


def arctic_handler(posts: list[dict]):
    archive = sorted(posts, key=lambda p: float(p["created_utc"]))

    def handler(request):
        q = request.query
        after, before = float(q.get("after", 0)), float(q.get("before", 1e12))
        hits = [p for p in archive if after < float(p["created_utc"]) < before
                and p["subreddit"].lower() == q["subreddit"].lower()]
        return Response(json={"data": hits[:min(int(q.get("limit", 25)), 100)]},
                        headers={"X-RateLimit-Remaining": "50", "X-RateLimit-Reset": "30"})
    return handler


def test_archive_backfills_from_creation_and_live_keeps_current(live_booru, fakenet, run_daemon):
    created = 1600000000
    history = [payloads.reddit_post(f"bf{n:04d}", "art", f"https://i.redd.it/bf{n}.png", created + 3600 * (n // 3))
               for n in range(350)]
    recent = [payloads.reddit_post(f"lv{n:03d}", "art", f"https://i.redd.it/lv{n}.png", 1776000000 - 60 * n)
              for n in range(20)]
    register(live_booru, fakenet, "art", float(created))
    fakenet.route("GET", NEW.format("art"), handler=payloads.reddit_listing_handler(recent))
    fakenet.route("GET", ARCTIC, handler=arctic_handler(history + recent[5:]))  # the archive lags a little
    greg = run_daemon("greg", env={**REDDIT_ENV, "GREG_SOURCE": "arctic_shift,reddit"})
    wait_until(lambda: len(submissions(live_booru, "art")) == 370, timeout=90, message="history + live")
    state = subreddit(live_booru, "art")
    assert epoch(state["updated"]) == 1776000000
    assert epoch(state["backfilled_until"]) >= float(history[-1]["created_utc"])
    stop_ok(greg)
    assert "Traceback" not in greg.output()


# -- dump import ---------------------------------------------------------------------------

def test_dump_import_interrupted_and_rerun_gives_each_once(live_booru, fakenet, run_daemon, tmp_path):
    register(live_booru, fakenet, "pics", 1201233135.0)
    register(live_booru, fakenet, "art", 1201233135.0)
    posts = dump_posts(3000, ("pics", "art", "aww"))
    first = write_dump(tmp_path / "RS_2024-01.zst", posts[:1500])
    second = write_dump(tmp_path / "RS_2024-02.zst", posts[1500:], bad_lines=("{oops",), case="upper")
    wanted = {p["id"] for p in posts if p["subreddit"] in ("pics", "art")}

    run = run_daemon("greg", "import", str(first), str(second), "--subreddit", "PICS",
                     "--subreddit", "art", "--batch", "10", "--no-progress")
    wait_until(lambda: len(submissions(live_booru, "pics")) > 0, timeout=30, message="the first batches")
    run.signal(signal.SIGINT)
    code = run.wait(30)
    partial = set(submissions(live_booru, "pics")) | set(submissions(live_booru, "art"))
    assert code in (0, 130), run.output()[-2000:]
    if code == 130:
        assert "interrupted" in run.output() and len(partial) < len(wanted)
        assert len(partial) % 10 == 0          # whole batches only

    again = run_daemon("greg", "import", str(first), str(second), "--subreddit", "pics",
                       "--subreddit", "ART", "--batch", "500", "--no-progress")
    assert again.wait(60) == 0, again.output()[-2000:]
    got = {**submissions(live_booru, "pics"), **submissions(live_booru, "art")}
    assert set(got) == wanted and len(got) == 2000
    assert {s["subreddit"] for s in got.values()} == {"pics", "art"}
    assert "posted=2000" in again.output() and "bad=" in again.output()
    with psycopg2.connect(live_booru.database_uri) as db, db.cursor() as cur:
        cur.execute("SELECT count(*), count(DISTINCT id) FROM submission")
        assert cur.fetchone() == (2000, 2000)
        cur.execute("SELECT count(*) FROM link")
        assert cur.fetchone()[0] == 2000


def test_pushshift_source_with_token(live_booru, fakenet, run_daemon):
    created = 1600000000
    posts = [payloads.reddit_post(f"ps{n:04d}", "science", f"https://i.redd.it/ps{n}.png", created + 1800 * n,
                                  f"Study {n} & results")
             for n in range(240)]
    register(live_booru, fakenet, "science", float(created))
    fakenet.route("GET", "https://pushshift.example.org/reddit/submission/search",
                  handler=payloads.pushshift_handler(posts, shape="2022"))
    greg = run_daemon("greg", env={"GREG_SOURCE": "pushshift", "PUSHSHIFT_URL": "https://pushshift.example.org",
                                   "PUSHSHIFT_TOKEN": "moderator-token", "CHAPTER_INTERVAL": "0.5"})
    wait_until(lambda: len(submissions(live_booru, "science")) == 240, timeout=90, message="240 archived posts")
    got = submissions(live_booru, "science")
    assert got["ps0001"]["title"] == "Study 1 & results"
    wait_until(lambda: epoch(subreddit(live_booru, "science")["updated"]) >= float(posts[-1]["created_utc"]),
               timeout=30, message="updated at the newest archived post")
    stop_ok(greg)
    seen = fakenet.seen("https://pushshift.example.org/reddit/submission/search")
    assert seen and all(r.header("Authorization") == "Bearer moderator-token" for r in seen)


def test_archive_still_backfills_when_live_credentials_are_missing(live_booru, fakenet, run_daemon):
    created = 1650000000
    history = [payloads.reddit_post(f"nc{n:03d}", "art", f"https://i.redd.it/nc{n}.png", created + 600 * n)
               for n in range(120)]
    register(live_booru, fakenet, "art", float(created))
    fakenet.route("GET", ARCTIC, handler=arctic_handler(history))
    greg = run_daemon("greg", env={**REDDIT_ENV, "GREG_SOURCE": "arctic_shift,reddit",
                                   "REDDIT_CLIENT_ID": "", "REDDIT_CLIENT_SECRET": ""})
    wait_until(lambda: len(submissions(live_booru, "art")) == 120, timeout=60, message="archive backfill")
    state = subreddit(live_booru, "art")
    assert state["updated"] is None and epoch(state["backfilled_until"]) == float(history[-1]["created_utc"])
    stop_ok(greg)
    assert "REDDIT_CLIENT_ID" in greg.output()


def test_dump_import_refuses_unregistered_subreddits(live_booru, fakenet, run_daemon, tmp_path):
    register(live_booru, fakenet, "pics", 1201233135.0)
    path = write_dump(tmp_path / "RS.zst", dump_posts(30, ("pics", "art")))
    run = run_daemon("greg", "import", str(path), "--subreddit", "pics", "--subreddit", "art", "--no-progress")
    assert run.wait(30) == 2
    assert "not registered in booru: art" in run.output()
    assert submissions(live_booru, "pics") == {}
