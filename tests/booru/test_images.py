"""Images: listing with filters and keyset pages, tags, and fingerprints reused instead of refetched."""
from __future__ import annotations

from tests.booru.helpers import add_subreddit, fingerprint_payload, submission


def _post_images(api, images: list[dict]) -> dict:
    response = api.post("/api/image", json={"images": images}, role="parsa")
    assert response.status_code == 200, response.json
    return response.json


def _archive(app, api) -> None:
    add_subreddit(app, "pics")
    add_subreddit(app, "art")
    subs = [submission("s1", "pics", author="alice"), submission("s2", "art", author="bob", nsfw=True),
            submission("s3", "art", author="alice")]
    api.post("/api/submission", json={"submissions": subs})
    _post_images(api, [
        {"submission_id": "s1", "url": "https://i.redd.it/1.jpg", "tags": ["landscape"]},
        {"submission_id": "s2", "url": "https://danbooru.donmai.us/a.jpg",
         "tags": ["character:lara_croft", "series:tomb_raider", "rating:explicit", "creator:someone"]},
        {"submission_id": "s3", "url": "https://img3.gelbooru.com/b.png",
         "tags": ["Character:Lara Croft", "rating:general"]},
    ])


def _urls(api, query: str) -> set[str]:
    if "state=" not in query:
        query += "&state=any"
    response = api.get("/api/image?" + query, role="reader")
    assert response.status_code == 200, response.json
    return {item["url"].rsplit("/", 1)[1] for item in response.json["items"]}


def test_filters_by_tag_subreddit_author_nsfw_and_state(app, api):
    _archive(app, api)
    assert _urls(api, "tags=character:lara_croft") == {"a.jpg", "b.png"}
    assert _urls(api, "tags=character:lara_croft -rating:explicit") == {"b.png"}
    assert _urls(api, "tags=-landscape") == {"a.jpg", "b.png"}
    assert _urls(api, "tags=series:tomb_raider rating:explicit") == {"a.jpg"}
    assert _urls(api, "subreddit=art") == {"a.jpg", "b.png"}
    assert _urls(api, "author=alice") == {"1.jpg", "b.png"}
    assert _urls(api, "nsfw=true") == {"a.jpg"}
    assert _urls(api, "nsfw=false&subreddit=ART") == {"b.png"}
    assert _urls(api, "state=encoded") == set()
    assert api.get("/api/image", role="reader").json["items"] == []  # the archive: nothing encoded yet
    assert len(api.get("/api/image?state=pending", role="reader").json["items"]) == 3  # the work queue
    item = api.get("/api/image?state=any&tags=series:tomb_raider").json["items"][0]
    assert set(item["tags"]) == {"character:lara_croft", "series:tomb_raider", "rating:explicit", "creator:someone"}
    assert item["subreddit"] == "art" and item["author"] == "bob"


def test_keyset_pages_cover_everything_once_and_limit_is_capped(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission(f"k{i}") for i in range(23)]})
    _post_images(api, [{"submission_id": f"k{i}", "url": f"https://i.redd.it/k{i}.png"} for i in range(23)])
    seen, cursor = [], None
    while True:
        page = api.get("/api/image?state=any&limit=5" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [item["id"] for item in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 23 and seen == sorted(seen, reverse=True)
    assert api.get("/api/image?limit=100000").status_code == 422
    assert api.get("/api/image?cursor=abc").status_code == 422
    assert api.get("/api/image?tags=-").status_code == 422


def test_reposting_images_is_idempotent_and_keeps_order(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("g1", url="https://www.reddit.com/gallery/g1")]})
    gallery = [{"submission_id": "g1", "url": f"https://i.redd.it/g{i}.jpg", "position": i} for i in range(3)]
    assert _post_images(api, gallery)["created"] == 3
    assert _post_images(api, gallery + gallery)["created"] == 0
    assert len(api.get("/api/image?state=any").json["items"]) == 3


def test_known_md5_and_known_url_reuse_fingerprints(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission(f"m{i}") for i in range(4)]})
    md5 = format(7, "032x")
    _post_images(api, [{"submission_id": "m0", "url": "https://cdn.example.org/original.png", "md5": md5}])
    lease = api.post("/api/image/claim", json={"limit": 1}, role="coco").json["items"][0]
    fingerprint = fingerprint_payload(lease["id"], lease["lease"], seed=7)
    assert api.post("/api/image/fingerprints", json={"items": [fingerprint]}, role="coco").status_code == 200
    # the same file under another URL, announced with its md5 (a booru), and the same URL again
    result = _post_images(api, [
        {"submission_id": "m1", "url": "https://mirror.example.org/copy.png", "md5": md5.upper()},
        {"submission_id": "m2", "url": "https://cdn.example.org/original.png"},
        {"submission_id": "m3", "url": "https://cdn.example.org/other.png", "md5": format(8, "032x")},
    ])
    assert result["reused"] == 2
    images = {i["submission_id"]: i for i in api.get("/api/image?state=any").json["items"]}
    assert images["m1"]["state"] == images["m2"]["state"] == "encoded"
    assert images["m1"]["sha256"] == images["m0"]["sha256"]
    assert images["m3"]["state"] == "pending"
    claimable = api.post("/api/image/claim", json={"limit": 10}, role="coco").json["items"]
    assert [i["url"] for i in claimable] == ["https://cdn.example.org/other.png"]


def test_pending_twins_get_fingerprints_when_one_is_encoded(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission(f"t{i}") for i in range(3)]})
    same = "https://i.redd.it/crossposted.jpg"
    _post_images(api, [{"submission_id": f"t{i}", "url": same} for i in range(3)])
    lease = api.post("/api/image/claim", json={"limit": 1}, role="coco").json["items"][0]
    response = api.post("/api/image/fingerprints", json={"items": [fingerprint_payload(lease["id"], lease["lease"])]},
                        role="coco")
    assert response.json["shared"] == 2
    states = [i["state"] for i in api.get("/api/image?state=any").json["items"]]
    assert states == ["encoded"] * 3


def test_images_for_unknown_submissions_are_refused(api):
    response = api.post("/api/image", json={"images": [{"submission_id": "nope1", "url": "https://x.org/a.jpg"}]},
                        role="parsa")
    assert response.status_code == 404 and "nope1" in response.json["message"]


def test_seed_encoding_endpoints(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("h1")]})
    _post_images(api, [{"submission_id": "h1", "url": "https://i.redd.it/h1.jpg"}])
    image_id = api.get("/api/image?state=pending").json["items"][0]["id"]
    histogram = {"id": image_id, "red": [1, 2, 3, 4], "green": [4, 3, 2, 1], "blue": [0, 0, 5, 5]}
    assert api.post("/api/histogram", json={"items": [histogram]}, role="coco").status_code == 200
    assert api.get(f"/api/image/{image_id}").json["state"] == "pending"
    dhash = {"id": image_id, "red": "00ff00ff00ff00ff", "green": "0123456789abcdef", "blue": "ffffffffffffffff"}
    assert api.post("/api/dhash", json={"items": [dhash]}, role="coco").status_code == 200
    assert api.get(f"/api/image/{image_id}").json["state"] == "encoded"
    assert api.post("/api/dhash", json={"items": [{**dhash, "red": "xyz"}]}, role="coco").status_code == 422
    assert api.get("/api/image/999999999").status_code == 404


def test_a_pending_twin_with_the_same_md5_gets_fingerprints_when_one_is_encoded(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("q1"), submission("q2")]})
    md5 = format(9, "032x")
    _post_images(api, [{"submission_id": "q1", "url": "https://danbooru.example/a.png", "md5": md5},
                       {"submission_id": "q2", "url": "https://gelbooru.example/b.png", "md5": md5}])
    lease = api.post("/api/image/claim", json={"limit": 1}, role="coco").json["items"][0]
    response = api.post("/api/image/fingerprints", json={"items": [fingerprint_payload(lease["id"], lease["lease"], 9)]},
                        role="coco")
    assert response.json["shared"] == 1
    assert [i["state"] for i in api.get("/api/image?state=any").json["items"]] == ["encoded", "encoded"]
