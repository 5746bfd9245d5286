"""Registering subreddits asks the configured source first; `updated` only moves forward."""
from __future__ import annotations

import dataclasses

from tests.fakenet.payloads import reddit_about

ABOUT = "https://www.reddit.com/r/{}/about.json"


def test_register_checks_reddit_and_records_the_creation_time(api, fakenet):
    fakenet.route("GET", ABOUT.format("EarthPorn"), json=reddit_about("EarthPorn", 1217975733))
    response = api.post("/api/subreddit", json={"name": "EarthPorn"})
    assert response.status_code == 201, response.json
    assert response.json["name"] == "EarthPorn"
    assert response.json["created"].startswith("2008-08-05")
    assert [s["name"] for s in api.get("/api/subreddit", role="reader").json["items"]] == ["EarthPorn"]
    again = api.post("/api/subreddit", json={"name": "earthporn"})
    assert again.status_code == 409


def test_an_unknown_subreddit_is_404_and_nothing_is_written(api, fakenet):
    fakenet.route("GET", ABOUT.format("nosuchplace"), status=404, json={"message": "Not Found", "error": 404})
    response = api.post("/api/subreddit", json={"name": "nosuchplace"})
    assert response.status_code == 404
    assert "nosuchplace" in response.json["message"]
    assert api.get("/api/subreddit").json["items"] == []


def test_an_unreachable_source_is_503_and_nothing_is_written(api, fakenet):
    fakenet.route("GET", ABOUT.format("pics"), status=500, body="upstream exploded")
    response = api.post("/api/subreddit", json={"name": "pics"})
    assert response.status_code == 503 and response.json["message"]
    assert api.get("/api/subreddit").json["items"] == []


def test_with_credentials_the_check_goes_through_praw(app, api, fakenet):
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, reddit_client_id="id", reddit_client_secret="secret")
    fakenet.route("GET", "https://oauth.reddit.com/r/pics/about", json=reddit_about("pics", 1201233135))
    response = api.post("/api/subreddit", json={"name": "pics"})
    assert response.status_code == 201, response.json
    assert fakenet.seen("https://www.reddit.com/api/v1/access_token")
    fakenet.route("GET", "https://oauth.reddit.com/r/gone/about", status=302,
                  headers={"Location": "https://oauth.reddit.com/subreddits/search?q=gone"})
    assert api.post("/api/subreddit", json={"name": "gone"}).status_code == 404


def test_arctic_shift_as_the_source(app, api, fakenet):
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings, greg_source="arctic_shift")
    fakenet.route("GET", f"{settings.arctic_shift_url}/api/subreddits/search",
                  json={"data": [{"display_name": "AnimeArt", "created_utc": 1300000000}]})
    response = api.post("/api/subreddit", json={"name": "animeart"})
    assert response.status_code == 201 and response.json["name"] == "AnimeArt"


def test_updated_moves_only_forward_and_delete_unregisters(app, api, fakenet):
    fakenet.route("GET", ABOUT.format("pics"), json=reddit_about("pics"))
    api.post("/api/subreddit", json={"name": "pics"})
    later = {"updated": "2024-06-01T00:00:00+00:00"}
    assert api.put("/api/subreddit/pics", json=later, role="greg").json["updated"].startswith("2024-06-01")
    earlier = {"updated": "2020-01-01T00:00:00+00:00", "last_polled": "2024-06-02T00:00:00+00:00"}
    body = api.put("/api/subreddit/pics", json=earlier, role="greg").json
    assert body["updated"].startswith("2024-06-01") and body["last_polled"].startswith("2024-06-02")
    assert api.put("/api/subreddit/nothere", json=later, role="greg").status_code == 404
    assert api.delete("/api/subreddit/pics").status_code == 409  # unconfirmed
    assert api.delete("/api/subreddit/pics?confirm=pics").status_code == 200
    assert api.get("/api/subreddit/pics").status_code == 404


def test_cli_subreddit_add(app, fakenet):
    fakenet.route("GET", ABOUT.format("wallpapers"), json=reddit_about("wallpapers", 1212345678))
    result = app.test_cli_runner().invoke(args=["subreddit", "add", "wallpapers"])
    assert result.exit_code == 0, result.output
    assert "registered r/wallpapers" in result.output
    fakenet.route("GET", ABOUT.format("nope"), status=404, json={"error": 404})
    result = app.test_cli_runner().invoke(args=["subreddit", "add", "nope"])
    assert result.exit_code != 0 and "does not exist" in result.output
