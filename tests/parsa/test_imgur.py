"""Imgur: every API answer kind, direct files, removed files and rate limits (fake internet)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from parsa.resolvers import Gone, Transient, resolve
from parsa.resolvers.imgur import file_url, images_of, strip_thumbnail
from tests.fakenet import payloads
from tests.parsa.samples import SHARED

needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/fixtures is absent")
API = "https://api.imgur.com/3"


def ok(net, path: str, data, headers=None) -> None:
    net.route("GET", API + path, json=payloads.imgur_envelope(data),
              headers=headers or payloads.imgur_ratelimit_headers())


def urls(images):
    return [i.url for i in images]


def test_image_page_via_api(fakenet, make_ctx):
    ok(fakenet, "/image/AbCdEfG", payloads.imgur_image("AbCdEfG", mime="image/png", datetime_utc=1700000000))
    (image,) = resolve("https://imgur.com/AbCdEfG", make_ctx())
    assert image.url == "https://i.imgur.com/AbCdEfG.png"
    assert image.posted == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    (request,) = fakenet.seen(API + "/image/AbCdEfG")
    assert request.header("Authorization") == "Client-ID lzb-test-client"


def test_album(fakenet, make_ctx):
    images = [payloads.imgur_image(i) for i in ("Aaaaaaa", "Bbbbbbb", "Ccccccc")]
    ok(fakenet, "/album/k3RvW", payloads.imgur_album("k3RvW", images))
    assert urls(resolve("https://imgur.com/a/k3RvW", make_ctx())) == [
        "https://i.imgur.com/Aaaaaaa.jpg", "https://i.imgur.com/Bbbbbbb.jpg", "https://i.imgur.com/Ccccccc.jpg"]


def test_gallery_album_with_a_title_slug(fakenet, make_ctx):
    images = [payloads.imgur_image("Ddddddd", mime="image/png"), payloads.imgur_image("Eeeeeee", mime="image/gif")]
    ok(fakenet, "/gallery/album/Gx7Kp2Q", payloads.imgur_gallery_album("Gx7Kp2Q", images))
    assert urls(resolve("https://imgur.com/gallery/my-cat-did-a-thing-Gx7Kp2Q", make_ctx())) == [
        "https://i.imgur.com/Ddddddd.png", "https://i.imgur.com/Eeeeeee.gif"]


def test_gallery_image_after_the_album_lookup_misses(fakenet, make_ctx):
    fakenet.route("GET", API + "/gallery/album/Hh8Ll3M", status=404,
                  json=payloads.imgur_error(404, "Unable to find an album", "/3/gallery/album/Hh8Ll3M"))
    ok(fakenet, "/gallery/image/Hh8Ll3M", payloads.imgur_gallery_image(payloads.imgur_image("Hh8Ll3M")))
    assert urls(resolve("https://imgur.com/t/funny/Hh8Ll3M", make_ctx())) == ["https://i.imgur.com/Hh8Ll3M.jpg"]


@pytest.mark.parametrize("status,body,error", [
    (404, payloads.imgur_error(404, "Unable to find an image with the id, Zz9Zz9Z", "/3/image/Zz9Zz9Z"), Gone),
    (400, {"data": False, "success": False, "status": 400}, Gone),
    (500, payloads.imgur_error(500, "Could not complete request", "/3/image/Zz9Zz9Z"), Transient),
    (200, {"data": {"error": "Imgur is over capacity. Please try again.", "request": "/3/image/Zz9Zz9Z",
                    "method": "GET"}, "success": False, "status": 1203}, Transient),
    (403, payloads.imgur_error(403, "Invalid client_id", "/3/image/Zz9Zz9Z"), Transient),
])
def test_api_errors(fakenet, make_ctx, status, body, error):
    fakenet.route("GET", API + "/image/Zz9Zz9Z", status=status, json=body)
    with pytest.raises(error):
        resolve("https://imgur.com/Zz9Zz9Z", make_ctx())


def test_html_404_from_the_api_is_gone(fakenet, make_ctx):
    fakenet.route("GET", API + "/album/Qq1Ww", status=404, body="<html><body>404 Not Found</body></html>",
                  content_type="text/html")
    with pytest.raises(Gone):
        resolve("https://imgur.com/a/Qq1Ww", make_ctx())


def test_429_with_retry_after_waits_then_succeeds(fakenet, make_ctx, clock):
    ok(fakenet, "/image/RtRtRtR", payloads.imgur_image("RtRtRtR"))
    fakenet.fail(API + "/image/RtRtRtR", times=1, status=429,
                 headers={"Retry-After": "7", **payloads.imgur_ratelimit_headers(user_remaining=0)},
                 body=json.dumps(payloads.load_json("imgur/error_rate_limited.json")))
    assert urls(resolve("https://imgur.com/RtRtRtR", make_ctx())) == ["https://i.imgur.com/RtRtRtR.jpg"]
    assert clock.sleeps == [7.0]
    assert len(fakenet.seen(API + "/image/RtRtRtR")) == 2


def test_429_without_retry_after_waits_for_the_user_reset(fakenet, make_ctx, clock):
    reset = int(clock.now) + 30
    ok(fakenet, "/image/UsUsUsU", payloads.imgur_image("UsUsUsU"))
    fakenet.fail(API + "/image/UsUsUsU", times=1, status=429,
                 headers=payloads.imgur_ratelimit_headers(user_remaining=0, user_reset=reset))
    assert urls(resolve("https://imgur.com/UsUsUsU", make_ctx())) == ["https://i.imgur.com/UsUsUsU.jpg"]
    assert clock.sleeps == [30.0]


def test_spent_user_quota_pauses_before_the_next_call(fakenet, make_ctx, clock):
    reset = int(clock.now) + 20
    ok(fakenet, "/image/Ab1Ab1A", payloads.imgur_image("Ab1Ab1A"),
       headers=payloads.imgur_ratelimit_headers(user_remaining=0, user_reset=reset))
    ok(fakenet, "/image/Cd2Cd2C", payloads.imgur_image("Cd2Cd2C"))
    ctx = make_ctx()
    resolve("https://imgur.com/Ab1Ab1A", ctx)
    assert clock.sleeps == []
    resolve("https://imgur.com/Cd2Cd2C", ctx)
    assert clock.sleeps == [20.0]


def test_long_rate_limit_is_a_transient_failure_with_retry_after(fakenet, make_ctx, clock):
    fakenet.route("GET", API + "/image/LoLoLoL", status=429, json=payloads.load_json("imgur/error_rate_limited.json"),
                  headers={"Retry-After": "3600"})
    with pytest.raises(Transient) as caught:
        resolve("https://imgur.com/LoLoLoL", make_ctx())
    assert caught.value.retry_after == 3600 and clock.sleeps == []


def test_spent_client_quota_is_transient_without_calling_for_an_hour(fakenet, make_ctx, clock):
    ok(fakenet, "/image/Ef3Ef3E", payloads.imgur_image("Ef3Ef3E"),
       headers=payloads.imgur_ratelimit_headers(client_remaining=0))
    ctx = make_ctx()
    resolve("https://imgur.com/Ef3Ef3E", ctx)
    with pytest.raises(Transient, match="client quota") as caught:
        resolve("https://imgur.com/Ef3Ef3E", ctx)
    assert caught.value.retry_after == 3600
    assert len(fakenet.seen(API + "/image/Ef3Ef3E")) == 1
    clock.now += 3601
    resolve("https://imgur.com/Ef3Ef3E", ctx)
    assert len(fakenet.seen(API + "/image/Ef3Ef3E")) == 2


# --- direct files --------------------------------------------------------------------------------

def test_direct_file_with_thumbnail_suffix(fakenet, make_ctx):
    fakenet.route("GET", "https://i.imgur.com/AbCdEfG.jpg", body=b"\xff\xd8\xff", content_type="image/jpeg")
    assert urls(resolve("https://i.imgur.com/AbCdEfGl.jpg", make_ctx())) == ["https://i.imgur.com/AbCdEfG.jpg"]
    assert [r.method for r in fakenet.seen("https://i.imgur.com/AbCdEfG.jpg")] == ["HEAD"]


def test_redirect_to_removed_png_is_gone(fakenet, make_ctx):
    fakenet.redirect("https://i.imgur.com/GoNeGoN.jpg", "https://i.imgur.com/removed.png")
    with pytest.raises(Gone, match="removed"):
        resolve("https://i.imgur.com/GoNeGoN.jpg", make_ctx())


def test_direct_404_is_gone(fakenet, make_ctx):
    fakenet.route("GET", "https://i.imgur.com/NoNoNoN.png", status=404, body="<html>404</html>",
                  content_type="text/html")
    with pytest.raises(Gone):
        resolve("https://i.imgur.com/NoNoNoN.png", make_ctx())


def test_gifv_asks_the_api_whether_it_is_a_gif(fakenet, make_ctx):
    ok(fakenet, "/image/GiFgIfG", payloads.imgur_image("GiFgIfG", mime="image/gif"))
    ok(fakenet, "/image/MpFoUrX", payloads.imgur_image("MpFoUrX", mime="video/mp4"))
    assert urls(resolve("https://i.imgur.com/GiFgIfG.gifv", make_ctx())) == ["https://i.imgur.com/GiFgIfG.gif"]
    assert urls(resolve("https://i.imgur.com/MpFoUrX.gifv", make_ctx())) == ["https://i.imgur.com/MpFoUrX.mp4"]


def test_gifv_without_a_client_id_is_the_mp4(fakenet, make_ctx):
    assert urls(resolve("https://i.imgur.com/GiFgIfG.gifv", make_ctx(imgur_client_id=""))) == [
        "https://i.imgur.com/GiFgIfG.mp4"]
    assert fakenet.requests == []


def test_album_without_a_client_id_is_transient(fakenet, make_ctx):
    with pytest.raises(Transient, match="IMGUR_CLIENT_ID"):
        resolve("https://imgur.com/a/k3RvW", make_ctx(imgur_client_id=""))


@pytest.mark.parametrize("name,ident", [("zVpyzhWh", "zVpyzhW"), ("zVpyzhW", "zVpyzhW"), ("5F5Cys", "5F5Cy"),
                                        ("5F5Cy", "5F5Cy"), ("abcdefx", "abcdefx")])
def test_strip_thumbnail(name, ident):
    assert strip_thumbnail(name) == ident


# --- the recorded payloads themselves --------------------------------------------------------

def _recorded(name: str):
    return json.loads((SHARED / "imgur" / name).read_text())


@needs_shared
def test_recorded_image_animated_gif_with_thumbnail_link():
    assert urls(images_of(_recorded("GetImageAsync.json")["data"], "image")) == ["https://i.imgur.com/zVpyzhW.gif"]


@needs_shared
def test_recorded_public_image():
    (image,) = images_of(_recorded("mock2020_GetImagePublc.json")["data"], "image")
    assert image.url == "https://i.imgur.com/PdvlRWc.jpg"
    assert image.posted == datetime.fromtimestamp(1596966065, timezone.utc)


@needs_shared
@pytest.mark.parametrize("name", ["GetAlbumAsync.json", "GetAlbumImagesAsync.json"])
def test_recorded_album(name):
    assert urls(images_of(_recorded(name)["data"], "album")) == [
        "https://i.imgur.com/79MH23L.png", "https://i.imgur.com/CqEsRhO.png", "https://i.imgur.com/zYOxPum.png"]


@needs_shared
def test_recorded_gallery_album_and_image():
    album = _recorded("GetGalleryAlbumAsync.json")["data"]
    assert len(images_of(album, "gallery")) == len(album["images"]) > 0
    assert urls(images_of(_recorded("GetGalleryImageAsync.json")["data"], "gallery")) == [
        "https://i.imgur.com/rNdMhHm.png"]


@needs_shared
@pytest.mark.parametrize("name,status,error", [
    ("mock2020_Error.json", 200, Transient),         # 1203 over capacity in the body
    ("mock2020_ErrorMessage.json", 500, Transient),
    ("mock2020_FailureError.json", 400, Gone),
])
def test_recorded_errors_over_http(fakenet, make_ctx, name, status, error):
    fakenet.route("GET", API + "/image/ErRoRxX", status=status, json=_recorded(name))
    with pytest.raises(error):
        resolve("https://imgur.com/ErRoRxX", make_ctx())


@needs_shared
def test_recorded_album_over_http(fakenet, make_ctx):
    fakenet.route("GET", API + "/album/5F5Cy", json=_recorded("GetAlbumAsync.json"))
    assert len(resolve("https://imgur.com/a/5F5Cy", make_ctx())) == 3


def test_file_url_upgrades_http_and_keeps_gif():
    assert file_url({"link": "http://i.imgur.com/zVpyzhWh.gif", "type": "image/gif", "animated": True}) == \
        "https://i.imgur.com/zVpyzhW.gif"
    assert file_url({"link": "https://i.imgur.com/removed.png"}) is None
