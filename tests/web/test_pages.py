"""The web pages through the Flask test client: access (sign-in, public), CSRF, escaping,
security headers, search by upload and by ?url=, browsing, the image page, the API's docs."""
from __future__ import annotations

import html
import io
import re


from booru import auth
from booru.web.secret import stored_secret
from tests.web.conftest import HOSTILE_SOURCE, HOSTILE_TITLE, TAGS, csrf_of, set_public, sign_in


def test_pages_ask_to_sign_in_unless_public(app, client, archive):
    for path in ("/", "/browse", f"/image/{archive.images['w000']}", "/search?url=https://i.redd.it/x.png"):
        response = client.get(path)
        assert response.status_code == 401 and 'action="/login"' in response.text, path
    assert client.get("/api/image").status_code == 401  # the API still answers JSON
    assert "X-API-Key" in client.get("/api/image").json["message"]

    set_public(app, True)
    assert client.get("/").status_code == 200
    assert client.get("/browse").status_code == 200
    assert client.get("/api/image?state=encoded").status_code == 200
    assert client.post("/api/image/claim", json={"limit": 1}).status_code == 401  # reading only
    assert client.get("/status").status_code == 401  # admins only


def test_sign_in_sets_a_protected_cookie_and_sign_out_clears_it(client, keys):
    response = sign_in(client, keys["reader"], "/browse?subreddit=pics")
    assert response.status_code == 303 and response.headers["Location"] == "/browse?subreddit=pics"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lzbooru_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure
    page = client.get("/")
    assert page.status_code == 200 and "Sign out (reader)" in page.text
    assert client.get("/api/image").status_code == 200  # the session opens the API too
    assert client.get("/status").status_code == 403  # a reader is no admin
    response = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 303
    assert client.get("/").status_code == 401


def test_cookie_is_secure_over_https(app, keys):
    client = app.test_client()
    token = csrf_of(client.get("/login", base_url="https://localhost").text)
    response = client.post("/login", base_url="https://localhost", data={"key": keys["reader"], "csrf_token": token})
    assert response.status_code == 303 and "Secure" in response.headers["Set-Cookie"]


def test_wrong_key_and_foreign_next_are_refused(client, keys):
    response = sign_in(client, "lzb_not-a-key")
    assert response.status_code == 401 and "unknown or revoked API key" in response.text
    assert client.get("/").status_code == 401
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        assert sign_in(client, keys["reader"], target).headers["Location"] == "/"


def test_a_revoked_key_ends_its_sessions(app, reader, keys):
    assert reader.get("/").status_code == 200
    with app.app_context():
        key_id = next(row.id for row in auth.list_keys() if row.role == "reader")
        auth.revoke_key(key_id)
    assert reader.get("/").status_code == 401


def test_forms_without_their_csrf_token_are_refused(client, reader, keys, archive):
    other = client.application.test_client()
    assert other.post("/login", data={"key": keys["admin"]}).status_code == 403  # no token
    token = csrf_of(other.get("/login").text)
    assert other.post("/login", data={"key": keys["admin"], "csrf_token": token + "x"}).status_code == 403
    refused = reader.post("/search", data={"url": "https://i.redd.it/w000.png"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert reader.post("/logout").status_code == 403
    assert reader.get("/").status_code == 200  # still signed in
    # a script with a key in a header (no ambient authority) may post the search form
    keyed = other.post("/search", data={"url": "https://i.redd.it/gone.png"}, headers={"X-API-Key": keys["reader"]})
    assert keyed.status_code == 422 and "CSRF" not in keyed.text


def test_session_writes_to_the_api_need_the_csrf_header(client, keys):
    page = sign_in(client, keys["admin"]) and client.get("/")
    token = csrf_of(page.text)
    refused = client.post("/api/image/claim", json={"limit": 1})
    assert refused.status_code == 403 and "CSRF" in refused.json["message"]
    assert client.post("/api/image/claim", json={"limit": 1}, headers={"X-CSRF-Token": token}).status_code == 200
    # a presented key needs no token: it is no ambient authority
    fresh = client.application.test_client()
    assert fresh.post("/api/image/claim", json={"limit": 1}, headers={"X-API-Key": keys["admin"]}).status_code == 200


def test_every_answer_carries_the_security_headers(client, api):
    for response in (client.get("/login"), client.get("/api/docs"), api.get("/api/stats")):
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    page = client.get("/login").text
    assert "<script>" not in page and "style=" not in page  # no inline script or style
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page  # phones
    assert re.search(r'<script src="/assets/lzbooru.js" defer></script>', page)
    assert client.get("/assets/lzbooru.js").status_code == 200


def test_upstream_text_is_escaped(reader, archive):
    for path in ("/browse", f"/image/{archive.images['w001']}"):
        page = reader.get(path).text
        assert HOSTILE_TITLE not in page and "<script>window.pwned" not in page and "<b>not bold" not in page
        assert HOSTILE_TITLE in html.unescape(page)  # shown as text
    page = reader.get(f"/image/{archive.images['w002']}").text
    assert HOSTILE_SOURCE in html.unescape(page) and 'href="javascript:' not in page  # shown, never linked


def test_search_by_upload_lists_every_post_oldest_first(reader, archive):
    token = csrf_of(reader.get("/").text)
    response = reader.post("/search", content_type="multipart/form-data",
                           data={"image": (io.BytesIO(archive.pictures["w000"]), "query.png"), "csrf_token": token})
    assert response.status_code == 200, response.text
    page = response.text
    first, repost = archive.repost
    assert page.index(f"https://redd.it/{first}") < page.index(f"https://redd.it/{repost}")  # oldest first
    assert "r/EarthPorn" in page and "u/reposter" in page and "2024-05-01 12:00 UTC" in page
    assert "score 100" in page  # one result per picture with its posts, or one per image: both listed


def test_search_by_url_link_and_json(reader, api, archive, fakenet):
    fakenet.route("GET", "https://i.imgur.com/copy.png", body=archive.pictures["w003"], content_type="image/png")
    page = reader.get("/search?url=https://i.imgur.com/copy.png&q=3")
    assert page.status_code == 200 and "https://redd.it/w003" in page.text
    answer = api.get("/api/similarity/url?url=https://i.imgur.com/copy.png&q=3", role="reader")
    posted = api.post("/api/similarity/url?q=3", role="reader", data={"url": "https://i.imgur.com/copy.png"})
    assert answer.status_code == 200 and answer.json == posted.json
    assert answer.json["hits"][0]["id"] == archive.images["w003"]
    assert api.get("/api/similarity/url", role="reader").status_code == 422  # no url


def test_a_search_that_cannot_run_says_why(reader, fakenet):
    token = csrf_of(reader.get("/").text)
    response = reader.post("/search", data={"csrf_token": token})
    assert response.status_code == 422 and "choose a picture" in response.text
    response = reader.post("/search", content_type="multipart/form-data",
                           data={"image": (io.BytesIO(b"not an image"), "x.png"), "csrf_token": token})
    assert response.status_code == 422 and "not an image" in response.text
    fakenet.route("GET", "https://i.imgur.com/gone.png", status=404)
    assert reader.get("/search?url=https://i.imgur.com/gone.png").status_code == 422


def test_browse_filters_and_pages(app, api, reader):
    from tests.web.conftest import seed_archive

    archive = seed_archive(api, app, count=53)  # 55 images: two pages of 48
    page = reader.get("/browse").text
    ids = re.findall(r'href="/image/(\d+)"', page)
    assert len(ids) == 48 and ids == sorted(ids, key=int, reverse=True)
    next_url = html.unescape(re.search(r'href="([^"]+)" id="next-page"', page).group(1))
    rest = re.findall(r'href="/image/(\d+)"', reader.get(next_url).text)
    assert len(rest) == 7 and not set(rest) & set(ids)
    assert set(ids + rest) == {str(i) for i in archive.images.values()}
    earth = reader.get("/browse?subreddit=earthporn").text
    assert "r/pics" not in re.sub(r"<select.*?</select>", "", earth, flags=re.S)
    tagged = reader.get("/browse?tags=character:lara_croft").text
    assert re.findall(r'href="/image/(\d+)"', tagged) == [str(archive.images["w000"])]
    by_author = re.findall(r'href="/image/(\d+)"', reader.get("/browse?author=reposter").text)
    assert by_author == [str(archive.images["wrep"])]
    nsfw = str(archive.images["w005"])
    assert re.findall(r'href="/image/(\d+)"', reader.get("/browse?nsfw=true").text) == [nsfw]
    safe = reader.get("/browse?nsfw=false").text
    assert nsfw not in re.findall(r'href="/image/(\d+)"', safe) and "nsfw=false" in safe  # kept when paging
    assert reader.get("/browse?cursor=abc").status_code == 422


def test_tag_suggestions(reader, archive):
    assert reader.get("/browse/tags?q=lar").json == ["character:lara_croft"]
    assert reader.get("/browse/tags?q=character:l").json == ["character:lara_croft"]
    assert reader.get("/browse/tags?q=series:l").json == []
    assert reader.get("/browse/tags?q=%25").json == []  # LIKE wildcards are literal
    assert reader.get("/browse/tags?q=").json == []


def test_image_page_shows_posts_tags_facts_and_similar(reader, archive):
    page = reader.get(f"/image/{archive.images['w000']}").text
    assert "Posted 2 times" in page
    assert page.index("https://redd.it/w000") < page.index("https://redd.it/wrep")
    for tag in TAGS:
        namespace, _, name = tag.rpartition(":")
        assert f'href="/browse?tags={tag}"' in page and f">{name}</a>" in page
    assert "<dt>character</dt>" in page and "<dt>general</dt>" in page
    assert "https://example.org/source" in page and "320 × 240" in page
    similar = re.search(r'id="similar">(.*?)</div>', page, re.S).group(1)
    linked = re.findall(r'href="/image/(\d+)"', similar)
    assert linked[0] == str(archive.images["wcop"])  # the nearest other picture: its smaller copy
    assert str(archive.images["w000"]) not in linked and str(archive.images["wrep"]) not in linked
    assert reader.get("/image/999999").status_code == 404


def test_status_page_for_admins(client, keys, archive):
    sign_in(client, keys["admin"])
    page = client.get("/status")
    assert page.status_code == 200
    assert re.search(r"<th>submissions</th><td>10</td>", page.text) and "r/EarthPorn" in page.text


def test_openapi_is_public_and_readable(client):
    document = client.get("/api/openapi.json")
    assert document.status_code == 200 and "/api/similarity/url" in document.json["paths"]
    assert set(document.json["paths"]["/api/similarity/url"]) == {"get", "post"}
    assert client.get("/api").headers["Location"] == "/api/docs"
    page = client.get("/api/docs").text
    assert 'id="get-/api/similarity/url"' in page and "Search by image URL given as" in page
    assert 'id="schema-Image"' in page


def test_the_session_secret_is_generated_once(tmp_path):
    first = stored_secret(tmp_path / "secret_key")
    assert len(first) >= 40 and stored_secret(tmp_path / "secret_key") == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]
