"""Keys the Danbooru way (`login` + `api_key`, HTTP Basic) as well as X-API-Key and Bearer, on every route."""
from __future__ import annotations

import base64
import io

import pytest


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("path", ["/posts.json", "/tags.json", "/counts/posts.json", "/api/stats", "/api/image"])
def test_every_way_of_presenting_a_key_opens_every_route(api, keys, path):
    reader = keys["reader"]
    separator = "&" if "?" in path else "?"
    ways = [
        {"headers": {"X-API-Key": reader}},
        {"headers": _basic("whoever", reader)},
        {"headers": _basic("", reader)},
        {"headers": {"Authorization": f"Bearer {reader}"}},
        {"path": f"{path}{separator}login=whoever&api_key={reader}"},
        {"path": f"{path}{separator}api_key={reader}"},
        {"data": {"login": "whoever", "api_key": reader}, "method": "GET"},
    ]
    for way in ways:
        response = api.request(way.get("method", "GET"), way.get("path", path), role=None,
                               headers=way.get("headers", {}), data=way.get("data"))
        assert response.status_code == 200, (way, response.json)


@pytest.mark.parametrize("path", ["/posts.json", "/api/stats"])
def test_wrong_or_missing_keys_stay_401(api, keys, path):
    refusals = [
        {},
        {"headers": {"X-API-Key": "lzb_wrong"}},
        {"headers": _basic("whoever", "lzb_wrong")},
        {"headers": _basic(keys["reader"], "")},  # the key is the password, not the user name
        {"headers": {"Authorization": "Basic not-base64!"}},
        {"headers": {"Authorization": f"Token {keys['reader']}"}},
        {"path": f"{path}?login=whoever&api_key=lzb_wrong"},
        {"path": f"{path}?login={keys['reader']}"},
        # the header comes first: a good parameter does not save a wrong header
        {"path": f"{path}?api_key={keys['reader']}", "headers": {"X-API-Key": "lzb_wrong"}},
    ]
    for refusal in refusals:
        response = api.request("GET", refusal.get("path", path), role=None, headers=refusal.get("headers", {}))
        assert response.status_code == 401, (refusal, response.json)
        assert response.json["message"]
        if path == "/posts.json":  # Danbooru's error shape, which Danbooru clients read
            assert response.json["success"] is False and response.json["error"]


def test_a_good_header_wins_over_a_wrong_parameter(api, keys):
    response = api.get("/posts.json?api_key=lzb_wrong", role="reader")
    assert response.status_code == 200


def test_roles_still_apply_whatever_the_way(api, keys):
    response = api.request("POST", "/api/subreddit", role=None, headers=_basic("x", keys["reader"]),
                           json={"name": "pics"})
    assert response.status_code == 403
    response = api.request("POST", "/api/image/claim?api_key=" + keys["reader"], role=None, json={"limit": 1})
    assert response.status_code == 403


def test_a_key_inside_an_upload_is_not_read(api, keys):
    """An upload is not parsed before its key is known: keys go in headers or the query string."""
    response = api.request("POST", "/api/similarity/file", role=None, content_type="multipart/form-data",
                           data={"api_key": keys["reader"], "image": (io.BytesIO(b"x"), "a.jpg")})
    assert response.status_code == 401
    response = api.request("POST", f"/api/similarity/file?api_key={keys['reader']}", role=None,
                           content_type="multipart/form-data", data={"image": (io.BytesIO(b"x"), "a.jpg")})
    assert response.status_code != 401
