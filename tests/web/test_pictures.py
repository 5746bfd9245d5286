"""Thumbnails on the pages (stored, else the original URL), the search page's post filters, and
paging through every post of a picture."""
from __future__ import annotations

import io
import re

from booru.web import pictures
from common.fingerprint import fingerprint
from tests.booru.helpers import add_subreddit, submission
from tests.web.conftest import csrf_of, picture, seed_archive


def search(client, data: bytes, **fields) -> str:
    token = csrf_of(client.get("/").text)
    response = client.post("/search", content_type="multipart/form-data",
                           data={"image": (io.BytesIO(data), "query.png"), "csrf_token": token, **fields})
    assert response.status_code == 200, response.text
    return response.text


def post_ids(page: str) -> list[str]:
    return re.findall(r'class="post-title" href="https://redd.it/(\w+)"', page)


def test_pages_load_stored_thumbnails(api, app, reader):
    archive = seed_archive(api, app, count=4, thumbnail_size=64)
    first, repost = archive.repost
    for image_id in (archive.images[first], archive.images[repost]):  # a twin shares the thumbnail
        response = reader.get(f"/image/{image_id}/thumbnail")
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        assert response.data == api.get(f"/api/image/{image_id}/thumbnail", role="reader").data
        assert response.data.startswith(b"\xff\xd8") and response.headers["ETag"]
    again = reader.get(f"/image/{archive.images[first]}/thumbnail", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert f'src="/image/{archive.images["w001"]}/thumbnail"' in reader.get("/browse").text
    assert f'src="/image/{archive.images[first]}/thumbnail"' in search(reader, archive.pictures[first])


def test_without_a_thumbnail_the_page_goes_to_the_original(api, app, reader, client):
    archive = seed_archive(api, app, count=2)  # fingerprinted without thumbnails (THUMBNAIL_SIZE=0)
    response = reader.get(f"/image/{archive.images['w001']}/thumbnail")
    assert response.status_code == 302 and response.headers["Location"] == archive.url("w001")
    assert reader.get("/image/987654/thumbnail").status_code == 404
    reader.post("/logout", data={"csrf_token": csrf_of(reader.get("/").text)})
    assert client.get(f"/image/{archive.images['w001']}/thumbnail").status_code == 401  # not public


def test_search_page_filters_posts(api, app, reader):
    archive = seed_archive(api, app)
    first, repost = archive.repost
    assert post_ids(search(reader, archive.pictures[first], q="1")) == [first, repost]  # one picture, two posts
    assert post_ids(search(reader, archive.pictures[first], q="1", subreddit="EarthPorn")) == [repost]
    assert post_ids(search(reader, archive.pictures[first], q="1", author="poster0")) == [first]
    assert post_ids(search(reader, archive.pictures[first], q="1", after="2025-01-01")) == [repost]
    assert post_ids(search(reader, archive.pictures[first], q="1", before="2025-01-01")) == [first]
    assert post_ids(search(reader, archive.pictures[first], q="1", nsfw="true")) == ["w005"]
    assert post_ids(search(reader, archive.pictures[first], q="1", nsfw="false")) == [first, repost]
    page = search(reader, archive.pictures[first], q="1", subreddit="pics", after="2024-05-02")
    assert 'value="pics"' in page and 'value="2024-05-02"' in page  # the form keeps what was chosen
    token = csrf_of(reader.get("/").text)
    wrong = reader.post("/search", content_type="multipart/form-data",
                        data={"image": (io.BytesIO(archive.pictures[first]), "q.png"), "csrf_token": token,
                              "after": "yesterday"})
    assert wrong.status_code == 422 and "after" in wrong.text


def repost_many(api, data: bytes, count: int) -> list[str]:
    """`count` posts of the same picture in r/pics, a day apart, fingerprinted; their ids oldest first."""
    ids = [f"m{n:03d}" for n in range(count)]
    posts = [submission(post_id, "pics", f"https://i.redd.it/{post_id}.png", author=f"user{n % 4}",
                        created=f"2024-06-{1 + n:02d}T10:00:00+00:00") for n, post_id in enumerate(ids)]
    assert api.post("/api/submission", json={"submissions": posts}).status_code == 200
    images = [{"submission_id": post_id, "url": f"https://i.redd.it/{post_id}.png"} for post_id in ids]
    assert api.post("/api/image", json={"images": images}).status_code == 200
    claimed = api.post("/api/image/claim", role="coco", json={"limit": count}).json["items"]
    payload = fingerprint(data).to_payload()
    items = [{**payload, "id": item["id"], "lease": item["lease"]} for item in claimed]
    assert api.post("/api/image/fingerprints", role="coco", json={"items": items}).status_code == 200
    return ids


def test_results_count_every_post_and_page_through_the_rest(api, app, reader, monkeypatch):
    add_subreddit(app, "pics")
    data = picture(77)
    ids = repost_many(api, data, 27)
    page = search(reader, data, q="1")
    shown = post_ids(page)
    assert shown == ids[:20]  # the first posts, oldest first
    assert "27 posts, oldest first" in page
    link = re.search(r'class="more-posts" href="([^"]+)">the other 7 posts', page)
    assert link, page
    monkeypatch.setattr(pictures, "POSTS_PAGE", 3)
    url, seen = link.group(1).replace("&amp;", "&"), []
    for _ in range(10):  # 7 posts, 3 a page
        if not url:
            break
        response = reader.get(url)
        assert response.status_code == 200
        seen += post_ids(response.text)
        assert "Posted 27 times" in response.text
        found = re.search(r'href="([^"]+)" id="next-page"', response.text)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == ids[20:]
    filtered = reader.get(url_of_posts(ids, reader, data))
    assert post_ids(filtered.text) == [i for n, i in enumerate(ids) if n % 4 == 1][:3]
    assert reader.get("/picture/1/posts?cursor=nonsense").status_code == 400
    assert reader.get("/picture/987654/posts").status_code == 404


def url_of_posts(ids: list[str], reader, data: bytes) -> str:
    """The posts page link of a search filtered to one author."""
    page = search(reader, data, q="1", author="user1")
    assert post_ids(page) == [i for n, i in enumerate(ids) if n % 4 == 1]  # 7 posts: all shown
    image = re.search(r'href="/image/(\d+)"', page).group(1)
    return f"/picture/{image}/posts?author=user1"
