"""Reverse image search through the API: the seed's calls and JSON, transformed and mirrored
copies found, identical images together, new images findable at once, every bad input a 4xx."""
from __future__ import annotations

import io
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

from booru.extensions import db
from booru.func.similarity.follow import POLL_SECONDS
from booru.func.similarity.planner import DEFAULT_RADIUS
from common.fingerprint import fingerprint
from tests.booru.helpers import add_subreddit, seed_images, submission
from tests.fakenet.images import make_image

SEEDS = [11, 22, 33, 44, 55, 66]


def _encode(picture: Image.Image, fmt: str = "JPEG", **options) -> bytes:
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def _picture(seed: int) -> Image.Image:
    return Image.open(io.BytesIO(make_image(800, 600, "PNG", seed))).convert("RGB")


def _claim(api, count: int) -> list[dict]:
    response = api.post("/api/image/claim", role="coco", json={"limit": count})
    assert response.status_code == 200, response.json
    return sorted(response.json["items"], key=lambda item: item["id"])


def _post_fingerprints(api, claimed: list[dict], images: list[bytes]) -> None:
    items = [fingerprint(data).to_payload(id=item["id"], lease=item["lease"]) for item, data in zip(claimed, images)]
    response = api.post("/api/image/fingerprints", role="coco", json={"items": items})
    assert response.status_code == 200, response.json


@pytest.fixture
def archive(app, api) -> dict[int, int]:
    """Six encoded images drawn from SEEDS; returns seed -> image id."""
    seed_images(api, app, len(SEEDS))
    claimed = _claim(api, len(SEEDS))
    _post_fingerprints(api, claimed, [_encode(_picture(seed), "PNG") for seed in SEEDS])
    return {seed: item["id"] for seed, item in zip(SEEDS, claimed)}


def _search_file(api, data: bytes, query: str = "", role: str = "reader", **form):
    return api.post("/api/similarity/file" + query, role=role, content_type="multipart/form-data",
                    data={"image": (io.BytesIO(data), "query.jpg"), **form})


def _ok(response) -> list[dict]:
    assert response.status_code == 200, response.json
    return response.json["hits"]


# --- the seed's calls and JSON ------------------------------------------------------------------

def test_transformed_copy_found_by_url_as_the_seed_sends_it(api, archive, fakenet):
    small = _picture(33).resize((400, 300))
    fakenet.route("GET", "https://i.imgur.com/copy.jpg", body=_encode(small, quality=75), content_type="image/jpeg")
    hits = _ok(api.post("/api/similarity/url?algorithm=dhash_xor_norm&q=3", role="reader",
                        data={"url": "https://i.imgur.com/copy.jpg"}))
    best = hits[0]
    assert best["id"] == archive[33] and not best["mirrored"]
    assert best["post"] == f"https://redd.it/{best['submission_id']}"
    assert best["url"].startswith("https://i.redd.it/") and best["subreddit"] == "pics"
    assert set(best) >= {"title", "author", "created", "nsfw", "tags", "distance", "score"}
    assert best["distance"] <= DEFAULT_RADIUS["dhash_xor_norm"] and 50 < best["score"] <= 100
    assert len(hits) <= 3


def test_json_body_with_every_parameter(api, archive, fakenet):
    fakenet.route("GET", "https://i.redd.it/q.png", body=_encode(_picture(44), "PNG"), content_type="image/png")
    for algorithm in ("combined", "dhash_xor_norm", "abs_norm", "eucl_norm"):
        response = api.post("/api/similarity/url", role="reader", json={
            "url": "https://i.redd.it/q.png", "algorithm": algorithm, "q": 1, "max_distance": 0})
        hits = _ok(response)
        assert response.json["algorithm"] == algorithm and response.json["max_distance"] == 0
        assert [(h["id"], h["distance"], h["score"]) for h in hits] == [(archive[44], 0, 100)]


def test_upload_as_the_seed_sends_it(api, archive):
    data = _encode(ImageEnhance.Brightness(_picture(55)).enhance(1.2), quality=90)
    hits = _ok(_search_file(api, data, "?algorithm=dhash_xor_norm&q=10"))
    assert hits[0]["id"] == archive[55]
    assert [h["distance"] for h in hits] == sorted(h["distance"] for h in hits)


def test_parameters_in_the_multipart_form(api, archive):
    hits = _ok(_search_file(api, _encode(_picture(11), "PNG"), algorithm="eucl_norm", q="2", max_distance="0.5"))
    assert hits[0]["id"] == archive[11] and hits[0]["distance"] == 0 and len(hits) <= 2


def test_mirrored_copy_found_and_marked(api, archive):
    flipped = _encode(ImageOps.mirror(_picture(22)), quality=90)
    best = _ok(_search_file(api, flipped))[0]
    assert best["id"] == archive[22] and best["mirrored"] is True


def test_captioned_copy_found(api, archive):
    picture = _picture(66)
    pen = ImageDraw.Draw(picture)
    pen.rectangle((0, 540, 800, 600), fill=(255, 255, 255))
    pen.text((20, 555), "when the code compiles on the first try", fill=(0, 0, 0))
    assert _ok(_search_file(api, _encode(picture, quality=80)))[0]["id"] == archive[66]


def _ramp(low: tuple[int, int, int], high: tuple[int, int, int]) -> Image.Image:
    """A left-to-right colour ramp: every channel brighter to the right, so every dhash bit is
    set whatever the colours (flat gradient wallpapers share one dhash like this)."""
    x = np.linspace(0.0, 1.0, 640)[None, :, None]
    pixels = np.array(low) + (np.array(high) - np.array(low)) * x
    return Image.fromarray(np.repeat(pixels, 480, axis=0).round().astype(np.uint8), "RGB")


def test_combined_tells_apart_pictures_that_share_a_dhash(app, api):
    """combined ranks the right colours first where dhash alone ties and falls back on ids."""
    seed_images(api, app, 2)
    claimed = _claim(api, 2)
    blue, orange = _ramp((0, 10, 40), (30, 60, 220)), _ramp((120, 40, 0), (255, 170, 60))
    _post_fingerprints(api, claimed, [_encode(blue, "PNG"), _encode(orange, "PNG")])
    query = _encode(orange.resize((320, 240)), quality=80)
    by_dhash = _ok(_search_file(api, query, "?algorithm=dhash_xor_norm"))
    assert [h["distance"] for h in by_dhash] == [0, 0] and by_dhash[0]["id"] == claimed[0]["id"]
    hits = _ok(_search_file(api, query, "?algorithm=combined"))
    assert hits[0]["id"] == claimed[1]["id"] and hits[0]["distance"] < 1
    assert all(h["distance"] > 1 for h in hits[1:])


def test_a_brighter_copy_whose_light_background_clipped_is_found(app, api):
    """+20 % brightness turns a light waving background to flat white: its dhash bits all become
    0, too far from the original for the radius, unless the clipped bits are left out."""
    x, y = np.arange(640)[None, :, None], np.arange(480)[:, None, None]
    light = np.broadcast_to(231 + 19 * np.sin(x / 37.0 + y / 53.0 + np.array([0.0, 1.0, 2.0])), (480, 640, 3)).copy()
    light[180:300, 260:380] = (40, 90, 160)
    original = Image.fromarray(light.round().astype(np.uint8), "RGB")
    seed_images(api, app, 1)
    claimed = _claim(api, 1)
    _post_fingerprints(api, claimed, [_encode(original, "PNG")])
    query = _encode(ImageEnhance.Brightness(original).enhance(1.2), quality=90)
    plain = sum(bin(int(a, 16) ^ int(b, 16)).count("1") for a, b in zip(
        fingerprint(_encode(original, "PNG")).dhash.values(), fingerprint(query).dhash.values()))
    assert plain > DEFAULT_RADIUS["combined"]
    for algorithm in ("combined", "dhash_xor_norm"):
        hits = _ok(_search_file(api, query, f"?algorithm={algorithm}"))
        assert [hit["id"] for hit in hits] == [claimed[0]["id"]], algorithm  # within the default radius


def test_unrelated_image_still_gets_the_nearest_q_none_a_match(api, archive):
    hits = _ok(_search_file(api, _encode(_picture(999), "PNG"), "?q=4"))
    assert len(hits) == 4 and {h["confidence"] for h in hits} <= {"likely", "weak"}
    assert [h["distance"] for h in hits] == sorted(h["distance"] for h in hits)
    assert len(_ok(_search_file(api, _encode(_picture(999), "PNG"), "?q=100"))) == len(archive)
    assert _ok(_search_file(api, _encode(_picture(999), "PNG"), "?max_distance=10")) == []  # a filter


def _posted_seven_times(app, api) -> tuple[list[int], bytes]:
    """One picture posted seven times (newest first: p0 is the latest post), and one other."""
    add_subreddit(app, "pics")
    add_subreddit(app, "art")
    subs = [submission(f"p{i}", "art" if i % 2 else "pics", created=f"2024-05-{20 - i:02d}T12:00:00+00:00",
                       author=f"user{i % 3}", nsfw=i == 6) for i in range(8)]
    assert api.post("/api/submission", json={"submissions": subs}).status_code == 200
    images = [{"submission_id": s["id"], "url": s["links"][0]["url"]} for s in subs]
    assert api.post("/api/image", json={"images": images}).status_code == 200
    claimed = _claim(api, 8)
    same, other = _encode(_picture(5), "PNG"), _encode(_picture(6), "PNG")
    _post_fingerprints(api, claimed, [same] * 7 + [other])
    return [item["id"] for item in claimed], same


def test_identical_images_are_one_picture_with_every_post_oldest_first(app, api):
    ids, same = _posted_seven_times(app, api)
    hits = _ok(_search_file(api, same, "?q=100"))
    assert len(hits) == 2 and hits[0]["distance"] == 0 and hits[0]["confidence"] == "match"
    picture = hits[0]
    assert [post["submission_id"] for post in picture["posts"]] == [f"p{i}" for i in range(6, -1, -1)]
    assert picture["posts_total"] == 7 and picture["posts_next"] is None
    assert picture["id"] == ids[6] and picture["submission_id"] == "p6"  # the first poster
    assert picture["posts"][0]["post"] == "https://redd.it/p6" and picture["posts"][0]["image_id"] == ids[6]
    assert _ok(_search_file(api, same, "?q=1"))[0]["posts_total"] == 7
    assert [h["sha256"] for h in _ok(_search_file(api, same, "?q=2"))] == [h["sha256"] for h in hits]


def test_posts_are_filtered_and_paged(app, api):
    ids, same = _posted_seven_times(app, api)
    art = _ok(_search_file(api, same, "?q=1&subreddit=art"))[0]
    assert [p["submission_id"] for p in art["posts"]] == ["p5", "p3", "p1"]
    assert [p["submission_id"] for p in _ok(_search_file(api, same, "?q=1&author=user0&nsfw=false"))[0]["posts"]] \
        == ["p3", "p0"]
    dated = _ok(_search_file(api, same, "?q=1&after=2024-05-16T00:00:00Z&before=2024-05-19T00:00:00Z"))[0]
    assert [p["submission_id"] for p in dated["posts"]] == ["p4", "p3", "p2"]
    # the other picture has no post in art before May: the nearest q are still given, matching ones only
    assert all(h["posts_total"] >= 1 for h in _ok(_search_file(api, same, "?q=5&subreddit=art")))
    first = _ok(_search_file(api, same, "?q=1&posts_limit=3"))[0]
    assert [p["submission_id"] for p in first["posts"]] == ["p6", "p5", "p4"] and first["posts_total"] == 7
    seen, cursor = [p["submission_id"] for p in first["posts"]], first["posts_next"]
    while cursor:
        page = api.get(f"/api/similarity/posts?image={ids[0]}&limit=2&cursor={cursor}", role="reader")
        assert page.status_code == 200, page.json
        assert page.json["total"] == 7 and len(page.json["posts"]) <= 2
        seen += [p["submission_id"] for p in page.json["posts"]]
        cursor = page.json["next"]
    assert seen == [f"p{i}" for i in range(6, -1, -1)]
    assert api.get("/api/similarity/posts?image=999999", role="reader").status_code == 404
    bad = api.get(f"/api/similarity/posts?image={ids[0]}&cursor=nonsense", role="reader")
    assert bad.status_code == 400 and bad.json["errors"] == {"cursor": ["invalid"]}


def test_new_image_findable_within_two_seconds(app, api, archive):
    _ok(_search_file(api, _encode(_picture(11), "PNG")))  # the index is loaded now
    ids = seed_images(api, app, 8, subreddit="art")
    claimed = [item for item in _claim(api, 8) if item["id"] not in archive.values()]
    new = _encode(_picture(777), "PNG")
    _post_fingerprints(api, claimed[:1], [new])
    posted = time.monotonic()
    while True:
        hits = _ok(_search_file(api, new, "?max_distance=0"))
        if hits:
            break
        assert time.monotonic() - posted < 2.0, "the new image was not findable within 2 s"
        time.sleep(0.05)
    assert hits[0]["id"] == claimed[0]["id"] and hits[0]["subreddit"] == "art" and claimed[0]["id"] in ids


def test_rewritten_fingerprint_followed(app, api, archive):
    _ok(_search_file(api, _encode(_picture(11), "PNG")))
    replacement = _encode(_picture(4242), "PNG")
    with app.app_context():
        from booru.func.images import write_dhashes
        hexes = fingerprint(replacement).dhash
        write_dhashes([{"id": archive[11], **hexes}])
        db.session.commit()
    time.sleep(POLL_SECONDS)
    only_dhash = "?algorithm=dhash_xor_norm&max_distance=0"
    assert _ok(_search_file(api, replacement, only_dhash))[0]["id"] == archive[11]
    assert archive[11] not in [h["id"] for h in _ok(_search_file(api, _encode(_picture(11), "PNG"), only_dhash))]


def test_deleted_images_drop_out(app, api, archive):
    _ok(_search_file(api, _encode(_picture(11), "PNG")))
    with app.app_context():
        db.session.execute(db.text("DELETE FROM image WHERE id = :id"), {"id": archive[11]})
        db.session.commit()
    assert _ok(_search_file(api, _encode(_picture(11), "PNG"), "?max_distance=0")) == []


# --- every bad input is a 4xx with a message --------------------------------------------------------

def _refused(response, status: int = 422, field: str | None = None) -> str:
    assert response.status_code == status, (response.status_code, response.json)
    assert response.json["message"]
    if field:
        assert field in response.json.get("errors", {}), response.json
    return response.json["message"]


def test_no_url(api, archive):
    _refused(api.post("/api/similarity/url", role="reader", data={}), field="url")
    _refused(api.post("/api/similarity/url", role="reader", json={"q": 3}), field="url")


def test_body_not_a_json_object(api, archive):
    _refused(api.post("/api/similarity/url", role="reader", data="[1, 2]", content_type="application/json"), 400)
    _refused(api.post("/api/similarity/url", role="reader", data="{nope", content_type="application/json"), 400)


def test_unreachable_url(api, archive, fakenet):
    fakenet.route("GET", "https://i.imgur.com/gone.jpg", status=404, body="not found")
    assert "404" in _refused(api.post("/api/similarity/url", role="reader",
                                      data={"url": "https://i.imgur.com/gone.jpg"}), field="url")
    _refused(api.post("/api/similarity/url", role="reader", data={"url": "ftp://example.com/a.jpg"}), field="url")
    _refused(api.post("/api/similarity/url", role="reader", data={"url": "not a url"}), field="url")


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000/api/health", "http://localhost/a.jpg", "http://10.0.0.8/a.jpg",
                                 "http://169.254.169.254/latest/meta-data/", "http://[::1]/a.png",
                                 "http://2130706433/a.jpg"])
def test_private_address(api, archive, url):
    assert "not public" in _refused(api.post("/api/similarity/url", role="reader", data={"url": url}), field="url")


def test_not_an_image(api, archive, fakenet):
    fakenet.route("GET", "https://example.com/page.jpg", body="<html><body>hi</body></html>", content_type="text/html")
    fakenet.route("GET", "https://example.com/fake.jpg", body=b"\xff\xd8\xff" + b"junk" * 100, content_type="image/jpeg")
    _refused(api.post("/api/similarity/url", role="reader", data={"url": "https://example.com/page.jpg"}), field="url")
    _refused(api.post("/api/similarity/url", role="reader", data={"url": "https://example.com/fake.jpg"}), field="url")
    _refused(_search_file(api, b"just some text"), field="image")
    _refused(_search_file(api, b""), field="image")


def test_decompression_bomb(api, archive, fakenet):
    bomb = _encode(Image.new("L", (9000, 9000)), "PNG", optimize=True)  # 81 Mpx, a few KB
    assert "bomb" in _refused(_search_file(api, bomb), field="image")
    fakenet.route("GET", "https://i.redd.it/bomb.png", body=bomb, content_type="image/png")
    assert "bomb" in _refused(api.post("/api/similarity/url", role="reader",
                                       data={"url": "https://i.redd.it/bomb.png"}), field="url")


def test_no_file(api, archive):
    _refused(api.post("/api/similarity/file", role="reader", content_type="multipart/form-data", data={}),
             field="image")
    _refused(api.post("/api/similarity/file", role="reader", json={"url": "https://i.redd.it/x.jpg"}), field="image")


@pytest.mark.parametrize("query", ["?algorithm=phash", "?q=0", "?q=101", "?q=ten", "?max_distance=-1",
                                   "?max_distance=nan"])
def test_bad_parameters(api, archive, query):
    data = _encode(_picture(11), "PNG")
    _refused(_search_file(api, data, query))
    _refused(api.post("/api/similarity/url" + query, role="reader", data={"url": "https://i.redd.it/x.png"}))


def test_bad_parameters_in_the_body(api, archive):
    _refused(api.post("/api/similarity/url", role="reader", json={"url": "https://i.redd.it/x.png", "q": 500}),
             field="q")
    _refused(_search_file(api, _encode(_picture(11), "PNG"), algorithm="nope"), field="algorithm")


def test_every_role_may_search_but_not_without_a_key(api, archive):
    data = _encode(_picture(11), "PNG")
    for role in ("reader", "greg", "parsa", "coco", "admin"):
        assert _ok(_search_file(api, data, role=role))[0]["id"] == archive[11]
    assert _search_file(api, data, role=None).status_code == 401


def test_hits_carry_their_tags(api, archive):
    query = _encode(_picture(33), "PNG")
    hit = _ok(_search_file(api, query))[0]
    tagged = {"submission_id": hit["submission_id"], "url": hit["url"], "tags": ["landscape", "character:lara_croft"]}
    assert api.post("/api/image", role="parsa", json={"images": [tagged]}).status_code == 200
    assert _ok(_search_file(api, query))[0]["tags"] == ["landscape", "character:lara_croft"]


def test_images_encoded_through_the_seeds_bulk_endpoints_are_pictures_of_their_own(app, api):
    """No sha256 is known for them: each image is its own picture, found like any other."""
    ids = seed_images(api, app, 2)
    data = _encode(_picture(31), "PNG")
    found = fingerprint(data)
    for kind in ("dhash", "histogram"):
        items = [{"id": i, **getattr(found, kind)} for i in ids]
        assert api.post(f"/api/{kind}", json={"items": items}).status_code == 200
    hits = _ok(_search_file(api, data, "?q=2"))
    assert [h["id"] for h in hits] == ids and [h["sha256"] for h in hits] == [None, None]
    assert [h["posts_total"] for h in hits] == [1, 1] and hits[0]["confidence"] == "match"
    page = api.get(f"/api/similarity/posts?image={ids[1]}", role="reader").json
    assert [p["image_id"] for p in page["posts"]] == [ids[1]] and page["total"] == 1
