"""The fake internet itself: real clients (PRAW, PMAW, requests, a subprocess) reach only it."""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import praw
import pytest
import requests
from PIL import Image
from pmaw import PushshiftAPI

from tests.fakenet import FakeInternet, Request, Response, payloads
from tests.fakenet.images import make_image

NEW_URL = "https://oauth.reddit.com/r/pics/new"


def reddit_client() -> praw.Reddit:
    return praw.Reddit(client_id="fake-id", client_secret="fake-secret",
                       user_agent="lzbooru-tests/1.0", check_for_updates=False)


# -- real clients ---------------------------------------------------------

def test_praw_reads_subreddit_new_from_fixture(fakenet: FakeInternet) -> None:
    listing = payloads.load_json("reddit/listing_pics_new.json")
    posts = [child["data"] for child in listing["data"]["children"]]
    fakenet.route("GET", NEW_URL, handler=payloads.reddit_listing_handler(posts))

    got = list(reddit_client().subreddit("pics").new(limit=len(posts)))

    assert [s.id for s in got] == [p["id"] for p in posts]
    assert got[0].url == "https://i.redd.it/k8f3qzv1lzb1.jpeg"
    assert got[1].gallery_data["items"][0]["media_id"] == "q1lzbjpg0001"
    assert got[5].crosspost_parent_list[-1]["url"] == "https://i.redd.it/p0lzbparent1.png"
    token, listing_call = fakenet.requests[0], fakenet.requests[-1]
    assert (token.method, token.url) == ("POST", payloads.REDDIT_TOKEN_URL)
    assert token.form()["grant_type"] == "client_credentials"
    assert listing_call.path == "/r/pics/new" and listing_call.query["raw_json"] == "1"
    assert listing_call.header("Authorization") == "bearer fakenet-access-token"
    assert fakenet.unmatched == []


def test_praw_pages_by_after(fakenet: FakeInternet) -> None:
    posts = [payloads.reddit_post(f"1pg{n:03d}", "pics", f"https://i.redd.it/pg{n}.png",
                                  1776000000 - 60 * n) for n in range(7)]
    fakenet.route("GET", NEW_URL, handler=payloads.reddit_listing_handler(posts, page_size=3))

    got = [s.id for s in reddit_client().subreddit("pics").new(limit=None)]

    assert got == [p["id"] for p in posts]
    afters = [r.query.get("after") for r in fakenet.seen(NEW_URL)]
    assert afters == [None, "t3_1pg002", "t3_1pg005"]


def test_praw_gallery_submission_from_comments_endpoint(fakenet: FakeInternet) -> None:
    thread = payloads.load_json("reddit/comments_gallery.json")
    fakenet.route("GET", "https://oauth.reddit.com/comments/1lzb002",
                  handler=payloads.reddit_json(thread))

    submission = reddit_client().submission("1lzb002")

    assert submission.is_gallery
    metadata = submission.media_metadata
    assert metadata["q1lzbbad0004"] == {"status": "failed"}
    assert metadata["q1lzbgif0003"]["s"]["gif"] == "https://i.redd.it/q1lzbgif0003.gif"
    assert "&format=pjpg&auto=webp" in metadata["q1lzbjpg0001"]["s"]["u"]
    assert len(submission.comments.list()) == 1


def test_pmaw_searches_the_fake_pushshift(fakenet: FakeInternet) -> None:
    posts = [payloads.reddit_post(f"ps{n}", "EarthPorn", f"https://i.redd.it/ps{n}.jpg",
                                  1775000000 + 3600 * n, f"Ridge & valley #{n}") for n in range(5)]
    fakenet.route("GET", "https://api.pushshift.io/reddit/submission/search",
                  handler=payloads.pushshift_handler(posts))
    api = PushshiftAPI(num_workers=2, rate_limit=6000, limit_type=None)

    got = list(api.search_submissions(subreddit="EarthPorn", since=1774990000,
                                      until=1775100000, limit=5))

    assert sorted(p["id"] for p in got) == [f"ps{n}" for n in range(5)]
    assert {p["title"] for p in got} == {f"Ridge &amp; valley #{n}" for n in range(5)}
    assert fakenet.requests and all(r.host == "api.pushshift.io" for r in fakenet.requests)
    assert fakenet.unmatched == []


def test_pmaw_base_url_can_point_at_a_compatible_mirror(fakenet: FakeInternet) -> None:
    posts = [payloads.reddit_post("mx1", "pics", "https://i.redd.it/mx1.jpg", 1775000000)]
    fakenet.route("GET", "https://pushshift.example.org/reddit/submission/search",
                  handler=payloads.pushshift_handler(posts))
    api = PushshiftAPI(num_workers=1, limit_type=None)
    api._base_url = "https://pushshift.example.org/{{endpoint}}"

    got = list(api.search_submissions(subreddit="pics", since=1774990000, until=1775100000,
                                      limit=1))

    assert [p["id"] for p in got] == ["mx1"]
    assert fakenet.requests[0].host == "pushshift.example.org"


def test_requests_gets_a_generated_jpeg(fakenet: FakeInternet) -> None:
    served = fakenet.route_image("https://i.redd.it/abc.jpg", seed=7)

    response = requests.get("https://i.redd.it/abc.jpg", timeout=5)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.content == served == make_image(seed=7)
    picture = Image.open(io.BytesIO(response.content))
    assert (picture.format, picture.size) == ("JPEG", (640, 480))
    grey_levels = sum(1 for count in picture.convert("L").histogram() if count)
    assert grey_levels > 64  # structure, not a flat colour


def test_images_differ_by_seed_and_format() -> None:
    assert make_image(seed=1) != make_image(seed=2)
    for fmt in ("PNG", "GIF", "WEBP"):
        picture = Image.open(io.BytesIO(make_image(64, 48, fmt, seed=3)))
        assert (picture.format, picture.size) == (fmt, (64, 48))
    animated = Image.open(io.BytesIO(make_image(32, 32, "GIF", frames=3)))
    assert animated.n_frames == 3


def test_a_subprocess_reaches_the_fake_through_env(fakenet: FakeInternet) -> None:
    fakenet.route_image("https://i.imgur.com/Qx7bT2m.png", fmt="PNG", width=32, height=32)
    code = ("import requests; r = requests.get('https://i.imgur.com/Qx7bT2m.png', timeout=5); "
            "print(r.status_code, r.headers['Content-Type'], r.content[:4])")
    env = {**os.environ, **fakenet.env()}

    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=30)

    assert done.stdout.strip() == "200 image/png b'\\x89PNG'", done.stderr
    assert fakenet.requests[-1].url == "https://i.imgur.com/Qx7bT2m.png"


# -- faults ---------------------------------------------------------------

def test_429_with_retry_after_then_success(fakenet: FakeInternet) -> None:
    url = "https://api.imgur.com/3/image/Qx7bT2m"
    fakenet.route("GET", url, json=payloads.imgur_envelope(payloads.imgur_image("Qx7bT2m")),
                  headers=payloads.imgur_ratelimit_headers())
    fakenet.fail(url, status=429, headers={"Retry-After": "1"},
                 body=json.dumps(payloads.load_json("imgur/error_rate_limited.json")))

    first = requests.get(url, timeout=5)
    second = requests.get(url, timeout=5)

    assert (first.status_code, first.headers["Retry-After"]) == (429, "1")
    assert first.json()["data"]["error"]["code"] == 429
    assert second.status_code == 200
    assert second.json()["data"]["link"] == "https://i.imgur.com/Qx7bT2m.jpg"
    assert second.headers["X-RateLimit-ClientRemaining"] == "12450"


def test_truncated_body_is_an_error_then_recovers(fakenet: FakeInternet) -> None:
    url = "https://i.redd.it/cut.jpg"
    served = fakenet.route_image(url)
    fakenet.truncate(url)

    with pytest.raises(requests.exceptions.RequestException):
        requests.get(url, timeout=5)
    assert requests.get(url, timeout=5).content == served


def test_redirect_is_followed(fakenet: FakeInternet) -> None:
    fakenet.redirect("https://i.imgur.com/gone123.jpg", "https://i.imgur.com/removed.png")
    fakenet.route_image("https://i.imgur.com/removed.png", fmt="PNG", width=161, height=81)

    response = requests.get("https://i.imgur.com/gone123.jpg", timeout=5)

    assert response.url == "https://i.imgur.com/removed.png"
    assert [r.status_code for r in response.history] == [302]


def test_hang_silent_times_out_and_trickle_drips(fakenet: FakeInternet) -> None:
    url = "https://slow.example.net/pic.jpg"
    fakenet.route_image(url, width=64, height=64)
    fakenet.hang(url, seconds=2, trickle=False)
    fakenet.hang(url, seconds=2)

    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, timeout=(2, 0.3))
    started = time.monotonic()
    with requests.get(url, timeout=(2, 1), stream=True) as response:
        assert int(response.headers["Content-Length"]) > 1_000_000
        first = response.raw.read(3)
    assert len(first) == 3 and time.monotonic() - started >= 0.15


# -- loud when unknown ------------------------------------------------------

def test_unknown_host_or_path_is_a_loud_502(fakenet: FakeInternet) -> None:
    fakenet.route("GET", "https://example.com/known", body="hello")

    for url in ("https://example.com/", "https://no-such-host.invalid/a/b?c=1",
                "http://example.org/plain"):
        response = requests.get(url, timeout=5)
        assert response.status_code == 502
        assert response.text.startswith("fakenet: no route for GET ")
    assert [r.url for r in fakenet.unmatched] == [
        "https://example.com/", "https://no-such-host.invalid/a/b?c=1", "http://example.org/plain"]
    assert requests.get("https://example.com/known", timeout=5).text == "hello"


def test_no_socket_ever_leaves_loopback(fakenet: FakeInternet,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    outbound: list[object] = []
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> None:
        if not (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1", "localhost")):
            outbound.append(address)
            raise OSError("fakenet test: outbound connection attempted")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    fakenet.route_image("https://i.redd.it/known.jpg", width=16, height=16)

    assert requests.get("https://i.redd.it/known.jpg", timeout=5).status_code == 200
    assert requests.get("https://www.python.org/", timeout=5).status_code == 502
    assert requests.get("http://example.net/", timeout=5).status_code == 502
    assert outbound == []


def test_certificates_come_from_the_fake_ca_only(fakenet: FakeInternet) -> None:
    fakenet.route("GET", "https://example.com/known", body="hello")

    with pytest.raises(requests.exceptions.SSLError):
        requests.get("https://example.com/known", timeout=5, verify=requests.certs.where())
    assert requests.get("https://example.com/known", timeout=5).text == "hello"


# -- routing rules -------------------------------------------------------

def test_query_specific_route_wins_and_trailing_slash_is_ignored(fakenet: FakeInternet) -> None:
    base = "https://danbooru.donmai.us/posts"
    fakenet.route("GET", base, json=[{"page": "any"}])
    fakenet.route("GET", base + "?tags=ocean", json=[{"page": "ocean"}])

    assert requests.get(base + "/?tags=sky", timeout=5).json() == [{"page": "any"}]
    assert requests.get(base + "?tags=ocean&page=2", timeout=5).json() == [{"page": "ocean"}]


def test_handler_sees_the_request_and_errors_become_500(fakenet: FakeInternet) -> None:
    def echo(request: Request) -> Response:
        return Response(json={"method": request.method,
                              "body": request.json() if request.body else None,
                              "q": request.query, "host": request.host})

    fakenet.route("*", "https://echo.example.com/x", handler=echo)
    fakenet.route("GET", "https://broken.example.com/", handler=lambda r: 1 / 0)

    answer = requests.put("https://echo.example.com/x?a=1", json={"k": "v"}, timeout=5).json()
    assert answer == {"method": "PUT", "body": {"k": "v"}, "q": {"a": "1"},
                      "host": "echo.example.com"}
    assert requests.head("https://echo.example.com/x", timeout=5).status_code == 200
    broken = requests.get("https://broken.example.com/", timeout=5)
    assert broken.status_code == 500 and "ZeroDivisionError" in broken.text
    assert len(fakenet.errors) == 1


def test_reset_drops_routes_but_keeps_the_token_endpoint(fakenet: FakeInternet) -> None:
    fakenet.route("GET", "https://example.com/temp", body="x")
    requests.get("https://example.com/temp", timeout=5)
    fakenet.reset()

    assert fakenet.requests == [] and fakenet.unmatched == []
    assert requests.get("https://example.com/temp", timeout=5).status_code == 502
    token = requests.post(payloads.REDDIT_TOKEN_URL, data={"grant_type": "client_credentials"},
                          auth=("id", "secret"), timeout=5)
    assert token.json() == {"access_token": "fakenet-access-token", "token_type": "bearer",
                            "expires_in": 86400, "scope": "*"}
    assert token.headers["x-ratelimit-remaining"] == "997.0"


def test_env_names_every_proxy_and_ca_variable(fakenet: FakeInternet) -> None:
    env = fakenet.env()
    assert env["HTTPS_PROXY"] == env["http_proxy"] == fakenet.proxy_url
    assert env["NO_PROXY"] == env["no_proxy"] == "127.0.0.1,localhost,::1"
    assert env["REQUESTS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == fakenet.ca_bundle
    assert open(fakenet.ca_bundle).read().startswith("-----BEGIN CERTIFICATE-----")
    assert all(os.environ[k] == v for k, v in env.items())


# -- payload shapes ---------------------------------------------------------

def test_reddit_post_kinds_have_reddit_field_shapes() -> None:
    image = payloads.reddit_post("a1", "pics", "https://i.redd.it/a1.jpeg", 1776000000)
    video = payloads.reddit_post("a2", "pics", "https://v.redd.it/a2vid", 1776000000)
    text = payloads.reddit_post("a3", "pics", None, "1776000000", selftext="hi & bye")
    gallery = payloads.reddit_post("a4", "pics", None, 1776000000.5, is_gallery=True,
                                   gallery_items=["m1", payloads.gallery_item("m2", mime="image/gif")])
    deleted = payloads.reddit_post("a5", "pics", None, 1776000000, is_gallery=True,
                                   gallery_data=None, media_metadata=None)
    cross = payloads.reddit_post("a6", "pics", None, 1776000000, crosspost_parent=image)

    assert (image["domain"], image["post_hint"], image["name"]) == ("i.redd.it", "image", "t3_a1")
    assert image["preview"]["images"][0]["source"]["url"].startswith("https://preview.redd.it/a1.jpeg?")
    assert video["is_video"] and video["media"]["reddit_video"]["fallback_url"].startswith("https://v.redd.it/a2vid/")
    assert text["is_self"] and text["domain"] == "self.pics" and text["created_utc"] == "1776000000"
    assert text["url"] == "https://www.reddit.com/r/pics/comments/a3/a_picture/"
    assert [i["media_id"] for i in gallery["gallery_data"]["items"]] == ["m1", "m2"]
    assert gallery["url"] == "https://www.reddit.com/gallery/a4"
    assert set(gallery["media_metadata"]["m2"]["s"]) == {"x", "y", "gif", "mp4"}
    assert deleted["is_gallery"] and deleted["gallery_data"] is None
    assert (cross["crosspost_parent"], cross["domain"]) == ("t3_a1", "")
    assert cross["url"] == image["permalink"] and cross["crosspost_parent_list"][-1]["id"] == "a1"


def test_reddit_json_escapes_unless_raw_json() -> None:
    post = payloads.reddit_post("e1", "pics", None, 1, is_gallery=True, gallery_items=["g1"])
    handler = payloads.reddit_json(payloads.reddit_comments(post))
    escaped = handler(Request("GET", "https://oauth.reddit.com/comments/e1"))
    raw = handler(Request("GET", "https://oauth.reddit.com/comments/e1?raw_json=1"))

    escaped_url = escaped.json[0]["data"]["children"][0]["data"]["media_metadata"]["g1"]["s"]["u"]
    assert "&amp;format=pjpg&amp;auto=webp" in escaped_url
    assert "&amp;" not in json.dumps(raw.json)
    assert [listing["kind"] for listing in raw.json] == ["Listing", "Listing"]
    assert raw.json[1]["data"]["children"][0]["kind"] == "t1"


def test_pushshift_pages_in_both_shapes() -> None:
    post = payloads.reddit_post("p1", "pics", "https://example.com/a?b=1&c=2", 1630000000,
                                "Tom & Jerry")
    old = payloads.pushshift_page([post], "2021", subreddit="pics", until=1630000100)
    new = payloads.pushshift_page([post], "2022", subreddit="pics", until=1630000100, total=40)

    assert old["metadata"]["total_results"] == 1 and old["metadata"]["shards"]["total"] == 24
    assert new["metadata"]["es"]["hits"]["total"]["value"] == 40
    for page in (old, new):
        record = page["data"][0]
        assert record["url"] == "https://example.com/a?b=1&amp;c=2"
        assert record["title"] == "Tom &amp; Jerry" and record["created_utc"] == 1630000000
        assert "name" not in record
    assert "full_link" in old["data"][0] and "utc_datetime_str" in new["data"][0]


def test_imgur_payloads() -> None:
    images = [payloads.imgur_image("Aa11Bb2"), payloads.imgur_image("Cc33Dd4", mime="image/gif")]
    album = payloads.imgur_envelope(payloads.imgur_album("k3RvW", images))
    gallery = payloads.imgur_gallery_album("Vt9Xy", images)
    missing = payloads.imgur_error(404, "Unable to find an image with the id, zz", "/3/image/zz")

    assert album["success"] and album["data"]["images_count"] == 2
    assert album["data"]["images"][1]["gifv"] == "https://i.imgur.com/Cc33Dd4.gifv"
    assert gallery["is_album"] and gallery["link"] == "https://imgur.com/a/Vt9Xy"
    assert "topic" in payloads.imgur_gallery_image(images[0])
    assert (missing["success"], missing["status"]) == (False, 404)
    assert payloads.imgur_credits()["data"]["ClientLimit"] == 12500


def test_booru_pages_carry_what_parsers_read() -> None:
    post = payloads.danbooru_post_json()
    page = payloads.danbooru_post_html(post)
    gel = payloads.gelbooru_post_html(posted="2023-11-04 21:17:08")
    xml = ET.fromstring(payloads.gelbooru_dapi_xml())

    assert post["md5"] in post["file_url"] and post["tag_string_character"]
    assert f'<meta property="og:image" content="{post["large_file_url"]}">' in page
    assert f'data-md5="{post["md5"]}"' in page and 'class="tag-type-4"' in page
    assert '<meta property="og:image" content="https://img3.gelbooru.com/images/a1/f4/' in gel
    assert 'style="font-weight: bold;">Original image</a>' in gel
    assert '<li class="tag-type-character">' in gel and ">?</a>" in gel
    assert "Posted: 2023-11-04 21:17:08<br />" in gel
    assert 'id="source" size="40" value="https://twitter.com/' in gel
    assert xml.attrib["count"] == "1" and xml[0].attrib["md5"] == "a1f4e2c9b07d3358e6f0c2b4d9a87e15"
