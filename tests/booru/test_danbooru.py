"""The Danbooru 2 read API: posts, their fields, tag searches with metatags, pages, counts and tags."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from booru.extensions import db
from booru.func.thumbnails import write_thumbnails
from tests.booru.helpers import add_subreddit, fingerprint_payload, submission
from tests.fakenet.images import make_image

# The fields of a real Danbooru /posts.json answer (danbooru.donmai.us, 2020), in its order.
DANBOORU_POST_FIELDS = [
    "id", "created_at", "uploader_id", "score", "source", "md5", "last_comment_bumped_at", "rating",
    "image_width", "image_height", "tag_string", "is_note_locked", "fav_count", "file_ext", "last_noted_at",
    "is_rating_locked", "parent_id", "has_children", "approver_id", "tag_count_general", "tag_count_artist",
    "tag_count_character", "tag_count_copyright", "file_size", "is_status_locked", "pool_string", "up_score",
    "down_score", "is_pending", "is_flagged", "is_deleted", "tag_count", "updated_at", "is_banned", "pixiv_id",
    "last_commented_at", "has_active_children", "bit_flags", "tag_count_meta", "has_large",
    "has_visible_children", "is_favorited", "tag_string_general", "tag_string_character",
    "tag_string_copyright", "tag_string_artist", "tag_string_meta", "file_url", "large_file_url",
    "preview_file_url"]

# name -> (submission id, nsfw, tags, fingerprint seed); posted and encoded in this order
ARCHIVE = {
    "lara.jpg": ("s1", True, ["character:lara_croft", "series:tomb_raider", "creator:someone", "meta:highres",
                              "rating:questionable", "rating:general", "dual_pistols", "person:jane_doe"], 1),
    "view.png": ("s2", False, ["landscape"], 2),
    "nsfw.jpg": ("s3", True, ["landscape", "lara_croft"], 3),
    "plain.webp": ("s4", False, [], 4),
    "gone.jpg": ("s5", False, ["landscape"], None),  # never fingerprinted: not a post
}


def _url(name: str) -> str:
    return f"https://i.redd.it/{name}"


@pytest.fixture
def archive(app, api) -> dict[str, int]:
    """The ARCHIVE images; returns their ids by file name."""
    add_subreddit(app, "pics")
    subs = [submission(sid, nsfw=nsfw, created=f"2024-05-0{n}T12:00:00+00:00")
            for n, (sid, nsfw, _, _) in enumerate(ARCHIVE.values(), 1)]
    assert api.post("/api/submission", json={"submissions": subs}).status_code == 200
    for name, (sid, _, tags, _) in ARCHIVE.items():  # one by one, so ids follow ARCHIVE's order
        images = [{"submission_id": sid, "url": _url(name), "tags": tags,
                   "source_url": "https://www.pixiv.net/artworks/1" if name == "lara.jpg" else None}]
        assert api.post("/api/image", json={"images": images}, role="parsa").status_code == 200
    ids = {item["url"].rsplit("/", 1)[1]: item["id"]
           for item in api.get("/api/image?state=any", role="reader").json["items"]}
    claimed = api.post("/api/image/claim", json={"limit": 10}, role="coco").json["items"]
    payloads = []
    for item in claimed:
        seed = ARCHIVE[item["url"].rsplit("/", 1)[1]][3]
        if seed is not None:
            payloads.append({**fingerprint_payload(item["id"], item["lease"], seed),
                             "mime": "image/webp" if item["url"].endswith(".webp") else "image/jpeg"})
    assert api.post("/api/image/fingerprints", json={"items": payloads}, role="coco").status_code == 200
    return ids


def _names(api, archive: dict[str, int], query: str, **kw) -> list[str]:
    response = api.get("/posts.json?" + query, role="reader", **kw)
    assert response.status_code == 200, response.json
    by_id = {v: k for k, v in archive.items()}
    return [by_id[post["id"]] for post in response.json]


def test_a_post_has_every_danbooru_field_mapped_from_the_image(api, archive):
    posts = api.get("/posts.json?tags=tomb_raider", role="reader").json
    assert len(posts) == 1
    post = posts[0]
    assert list(post) == DANBOORU_POST_FIELDS
    assert post["id"] == archive["lara.jpg"]
    assert post["md5"] == format(1, "032x") and post["file_size"] == 12345
    assert (post["image_width"], post["image_height"], post["file_ext"]) == (800, 600, "jpg")
    assert post["file_url"] == post["large_file_url"] == post["preview_file_url"] == _url("lara.jpg")
    assert post["source"] == "https://www.pixiv.net/artworks/1"
    assert post["created_at"].startswith("2024-05-01T12:00:00")
    assert post["tag_string_character"] == "lara_croft"
    assert post["tag_string_copyright"] == "tomb_raider"
    assert post["tag_string_artist"] == "someone"
    assert post["tag_string_meta"] == "highres"
    assert post["tag_string_general"] == "dual_pistols person:jane_doe"
    assert post["tag_string"] == "dual_pistols highres lara_croft person:jane_doe someone tomb_raider"
    assert (post["tag_count"], post["tag_count_general"], post["tag_count_meta"]) == (6, 2, 1)
    assert post["rating"] == "q"  # the most explicit of its rating tags
    assert api.get(f"/posts/{archive['lara.jpg']}.json", role="reader").json == post


def test_ratings_without_a_rating_tag_follow_the_nsfw_flag_and_the_search_agrees(api, archive):
    ratings = {name: api.get(f"/posts/{archive[name]}.json", role="reader").json["rating"]
               for name in ("lara.jpg", "view.png", "nsfw.jpg", "plain.webp")}
    assert ratings == {"lara.jpg": "q", "view.png": "g", "nsfw.jpg": "e", "plain.webp": "g"}
    for letter, word in (("g", "general"), ("s", "sensitive"), ("q", "questionable"), ("e", "explicit")):
        wanted = {name for name, rating in ratings.items() if rating == letter}
        assert set(_names(api, archive, f"tags=rating:{letter}")) == wanted
        assert set(_names(api, archive, f"tags=rating:{word}")) == wanted
        assert set(_names(api, archive, f"tags=-rating:{letter}")) == set(ratings) - wanted
    assert set(_names(api, archive, "tags=rating:q,e")) == {"lara.jpg", "nsfw.jpg"}


def test_only_archived_images_are_posts(api, archive):
    assert "gone.jpg" not in _names(api, archive, "tags=landscape")
    response = api.get(f"/posts/{archive['gone.jpg']}.json", role="reader")
    assert response.status_code == 404
    assert response.json["success"] is False and response.json["message"]
    assert api.get("/counts/posts.json", role="reader").json == {"counts": {"posts": 4}}


def test_tag_terms_and_metatags(api, archive):
    assert _names(api, archive, "tags=landscape") == ["nsfw.jpg", "view.png"]  # newest first
    assert _names(api, archive, "tags=lara_croft") == ["nsfw.jpg", "lara.jpg"]  # any category
    assert _names(api, archive, "tags=character:lara_croft") == ["lara.jpg"]
    assert _names(api, archive, "tags=landscape -lara_croft") == ["view.png"]
    assert _names(api, archive, "tags=person:jane_doe") == ["lara.jpg"]
    assert _names(api, archive, "tags=LANDSCAPE+order:id") == ["view.png", "nsfw.jpg"]
    assert _names(api, archive, f"tags=md5:{format(2, '032X')}") == ["view.png"]
    assert _names(api, archive, f"tags=md5:{format(2, '032x')},{format(4, '032x')}") == ["plain.webp", "view.png"]
    first, second = archive["lara.jpg"], archive["view.png"]
    assert _names(api, archive, f"tags=id:{second}") == ["view.png"]
    assert _names(api, archive, f"tags=id:{first},{second}") == ["view.png", "lara.jpg"]
    assert _names(api, archive, f"tags=id:>{second}") == ["plain.webp", "nsfw.jpg"]
    assert _names(api, archive, f"tags=id:<={second}") == ["view.png", "lara.jpg"]
    assert _names(api, archive, f"tags=id:{first}..{second}+order:id_asc") == ["lara.jpg", "view.png"]
    assert _names(api, archive, f"tags=-id:{first}..{second}") == ["plain.webp", "nsfw.jpg"]
    assert _names(api, archive, "tags=no_such_tag") == []
    assert _names(api, archive, "tags=landscape -no_such_tag") == ["nsfw.jpg", "view.png"]
    counts = api.get("/counts/posts.json?tags=landscape", role="reader").json
    assert counts == {"counts": {"posts": 2}}


@pytest.mark.parametrize("query", ["tags=id:abc", "tags=md5:123", "tags=rating:x", "tags=order:score",
                                   "tags=" + "+".join(f"t{n}" for n in range(31)),
                                   "page=x1", "page=1.5", "limit=many"])
def test_unreadable_searches_are_422_in_danbooru_shape(api, archive, query):
    response = api.get("/posts.json?" + query, role="reader")
    assert response.status_code == 422, response.json
    assert response.json["success"] is False and response.json["message"]


def test_pages_by_number_and_by_id(api, archive):
    newest_first = ["plain.webp", "nsfw.jpg", "view.png", "lara.jpg"]
    assert _names(api, archive, "limit=3") == newest_first[:3]
    assert _names(api, archive, "limit=3&page=2") == newest_first[3:]
    assert _names(api, archive, "limit=2&page=0") == newest_first[:2]
    assert _names(api, archive, f"limit=2&page=b{archive['nsfw.jpg']}") == ["view.png", "lara.jpg"]
    # a<id>: the posts just above id, still newest first (Danbooru's order)
    assert _names(api, archive, f"limit=2&page=a{archive['lara.jpg']}") == ["nsfw.jpg", "view.png"]
    assert _names(api, archive, f"page=a{archive['plain.webp']}") == []
    assert _names(api, archive, "limit=2&tags=order:id") == ["lara.jpg", "view.png"]
    assert _names(api, archive, "limit=2&page=2&tags=order:id") == ["nsfw.jpg", "plain.webp"]
    far = api.get("/posts.json?page=1001", role="reader")
    assert far.status_code == 410 and far.json["success"] is False
    assert api.get("/posts.json?page=1000", role="reader").json == []


def test_limit_is_clamped_like_danbooru(api, archive, app):
    from booru.func import danbooru

    assert len(_names(api, archive, "limit=0")) == 1
    assert len(_names(api, archive, "limit=100000")) == 4
    assert danbooru.clamp_limit(100000, danbooru.MAX_POST_LIMIT) == 200
    assert danbooru.clamp_limit(None, danbooru.MAX_POST_LIMIT) == 20


def test_tags_named_counted_and_categorised_the_danbooru_way(api, archive):
    tags = api.get("/tags.json?limit=100", role="reader").json
    by_name = {(t["name"], t["category"]): t["post_count"] for t in tags}
    assert by_name == {("landscape", 0): 2, ("lara_croft", 4): 1, ("lara_croft", 0): 1, ("tomb_raider", 3): 1,
                       ("someone", 1): 1, ("highres", 5): 1, ("dual_pistols", 0): 1, ("person:jane_doe", 0): 1}
    assert tags[0]["name"] == "landscape"  # most posts first
    assert set(tags[0]) == {"id", "name", "post_count", "category", "created_at", "updated_at", "is_deprecated"}
    named = api.get("/tags.json?search[order]=name&limit=3", role="reader").json
    assert [t["name"] for t in named] == ["dual_pistols", "highres", "landscape"]
    matches = api.get("/tags.json?search[name_matches]=lara*", role="reader").json
    assert sorted((t["name"], t["category"]) for t in matches) == [("lara_croft", 0), ("lara_croft", 4)]
    assert api.get("/tags.json?search[name_matches]=lara*&search[category]=4", role="reader").json[0]["category"] == 4
    exact = api.get("/tags.json?search[name_matches]=landscape", role="reader").json
    assert [t["name"] for t in exact] == ["landscape"]


def test_name_matches_takes_like_metacharacters_literally(api, archive):
    # `_` and `%` are LIKE wildcards; in Danbooru's name_matches only `*` is
    assert api.get("/tags.json?search[name_matches]=l_ndscape", role="reader").json == []
    assert api.get("/tags.json?search[name_matches]=%25", role="reader").json == []
    assert [t["name"] for t in api.get("/tags.json?search[name_matches]=*_*&search[order]=name",
                                       role="reader").json] == ["dual_pistols", "lara_croft", "lara_croft",
                                                                "person:jane_doe", "tomb_raider"]


def test_a_query_is_held_to_its_limits_as_sent_and_its_nul_characters_dropped(api, archive):
    """300 characters at most, NULs counted: a longer value is refused (422) before the page
    beyond the last one is (410); one within the limit is searched without its NULs."""
    too_long = api.get("/tags.json?search[name_matches]=" + "a" * 299 + "%00%00&page=2000", role="reader")
    assert too_long.status_code == 422 and too_long.json["success"] is False, too_long.json
    assert api.get("/tags.json?page=2000", role="reader").status_code == 410
    found = api.get("/tags.json?search[name_matches]=lara_%00croft", role="reader")
    assert found.status_code == 200 and found.json
    assert found.json == api.get("/tags.json?search[name_matches]=lara_croft", role="reader").json


def test_tags_by_date_newest_first(api, archive):
    dated = api.get("/tags.json?search[order]=date&limit=100", role="reader").json
    times = [t["created_at"] for t in dated]
    assert times == sorted(times, reverse=True)
    assert dated[-1]["name"] in {"lara_croft", "tomb_raider", "someone", "highres", "dual_pistols", "person:jane_doe"}


def test_preview_and_sample_are_the_stored_thumbnail_when_there_is_one(app, api, archive):
    jpeg = make_image(32, 24, "JPEG", 5)
    with app.app_context():
        write_thumbnails([{"id": archive["view.png"], "width": 32, "height": 24, "data": jpeg}])
        db.session.commit()
    posts = {post["id"]: post for post in api.get("/posts.json?tags=landscape", role="reader").json}
    view = posts[archive["view.png"]]
    assert view["file_url"] == _url("view.png")
    assert view["preview_file_url"] == view["large_file_url"]
    preview = urlsplit(view["preview_file_url"])
    assert preview.scheme in ("http", "https") and preview.netloc  # absolute
    assert preview.path == f"/api/image/{archive['view.png']}/thumbnail"
    assert api.get(preview.path, role="reader").data == jpeg
    assert api.get(f"/posts/{archive['view.png']}.json", role="reader").json == view
    without = posts[archive["nsfw.jpg"]]  # no thumbnail: the file itself
    assert without["file_url"] == without["large_file_url"] == without["preview_file_url"] == _url("nsfw.jpg")
