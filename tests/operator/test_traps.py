"""Operator traps: a revoked daemon key stays revoked, deletes say what they remove and wait for a
confirmation, the image list is the archive, sources are validated and used, bare tags match
any namespace."""
from __future__ import annotations

import dataclasses

from booru import auth
from booru.extensions import db
from booru.models import ApiKey
from tests.booru.helpers import add_subreddit, fingerprint_payload, submission
from tests.fakenet.payloads import reddit_about


def test_setup_does_not_revive_a_revoked_api_key(app, monkeypatch):
    key = auth.generate_key()
    monkeypatch.setenv("API_KEY", key)
    with app.app_context():
        row, _ = auth.create_key("admin", "daemons", key)
        auth.revoke_key(row.id)
    app.config["SETTINGS"] = dataclasses.replace(app.config["SETTINGS"], api_key=key)
    result = app.test_cli_runner().invoke(args=["setup", "--wait", "10"])
    assert result.exit_code != 0
    assert "revoked" in result.output and "keys create" in result.output
    with app.app_context():
        assert db.session.get(ApiKey, row.id).revoked is not None
    assert app.test_client().get("/api/stats", headers={auth.HEADER: key}).status_code == 401


def _subreddit_with_posts(app, api, name: str = "pics", count: int = 3) -> None:
    add_subreddit(app, name)
    subs = [submission(f"{name[:2]}{i}", name) for i in range(count)]
    assert api.post("/api/submission", json={"submissions": subs}).status_code == 200
    images = [{"submission_id": s["id"], "url": s["links"][0]["url"]} for s in subs]
    assert api.post("/api/image", json={"images": images}, role="parsa").status_code == 200


def test_deleting_a_subreddit_needs_its_name_and_says_what_goes(app, api):
    _subreddit_with_posts(app, api, "pics", 3)
    _subreddit_with_posts(app, api, "art", 2)
    refused = api.delete("/api/subreddit/pics")
    assert refused.status_code == 409, refused.json
    assert "3 submissions, 3 links and 3 images" in refused.json["message"]
    assert refused.json["errors"]["images"] == ["3"]
    assert api.delete("/api/subreddit/pics?confirm=art").status_code == 409
    assert api.get("/api/subreddit/pics").status_code == 200
    done = api.delete("/api/subreddit/pics?confirm=pics")
    assert done.status_code == 200 and done.json == {"submissions": 3, "links": 3, "images": 3}
    assert api.get("/api/subreddit/pics").status_code == 404
    assert len(api.get("/api/image?state=any").json["items"]) == 2
    assert api.delete("/api/subreddit/pics?confirm=pics").status_code == 404


def test_subreddit_cli_lists_and_removes_with_confirmation(app, api):
    _subreddit_with_posts(app, api, "pics", 2)
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["subreddit", "list"])
    assert listed.exit_code == 0 and "r/pics" in listed.output
    declined = runner.invoke(args=["subreddit", "remove", "pics"], input="n\n")
    assert declined.exit_code != 0 and "2 submissions, 2 links and 2 images" in declined.output
    assert api.get("/api/subreddit/pics").status_code == 200
    accepted = runner.invoke(args=["subreddit", "remove", "pics"], input="y\n")
    assert accepted.exit_code == 0 and "removed r/pics" in accepted.output
    assert api.get("/api/subreddit/pics").status_code == 404
    _subreddit_with_posts(app, api, "art", 1)
    assert runner.invoke(args=["subreddit", "remove", "art", "--yes"]).exit_code == 0
    assert "r/art" not in runner.invoke(args=["subreddit", "list"]).output
    assert runner.invoke(args=["subreddit", "remove", "nope", "--yes"]).exit_code != 0


def test_the_image_list_without_state_is_the_archive(app, api):
    _subreddit_with_posts(app, api, "pics", 2)
    pending = api.get("/api/image?state=pending").json["items"]
    assert len(pending) == 2 and api.get("/api/image").json["items"] == []
    claimed = api.post("/api/image/claim", json={"limit": 1}, role="coco").json["items"][0]
    assert api.post("/api/image/fingerprints", json={"items": [fingerprint_payload(claimed["id"], claimed["lease"])]},
                    role="coco").status_code == 200
    assert [i["id"] for i in api.get("/api/image", role="reader").json["items"]] == [claimed["id"]]
    description = api.get("/api/openapi.json").json["paths"]["/api/image"]["get"]
    assert "archive" in str(description)


def test_a_subreddit_source_is_validated_and_asked(app, api, fakenet):
    settings = app.config["SETTINGS"]
    bad = api.post("/api/subreddit", json={"name": "pics", "source": "reddit,redit"})
    assert bad.status_code == 422 and "source" in bad.json["errors"]
    assert api.post("/api/subreddit", json={"name": "pics", "source": "reddit,pushshift,arctic_shift"}).status_code == 422
    # GREG_SOURCE is reddit, but this subreddit comes from Arctic Shift alone: that is who is asked
    fakenet.route("GET", f"{settings.arctic_shift_url}/api/subreddits/search",
                  json={"data": [{"display_name": "AnimeArt", "created_utc": 1300000000}]})
    made = api.post("/api/subreddit", json={"name": "animeart", "source": "Arctic_Shift"})
    assert made.status_code == 201, made.json
    assert made.json["name"] == "AnimeArt" and made.json["source"] == "arctic_shift"
    assert not fakenet.seen("https://www.reddit.com/r/animeart/about.json")
    fakenet.route("GET", "https://www.reddit.com/r/pics/about.json", json=reddit_about("pics"))
    combo = api.post("/api/subreddit", json={"name": "pics", "source": "reddit+arctic_shift"})
    assert combo.status_code == 201 and combo.json["source"] == "arctic_shift,reddit"
    assert api.put("/api/subreddit/pics", json={"source": "nowhere"}, role="greg").status_code == 422


def _tagged(app, api) -> None:
    add_subreddit(app, "art")
    api.post("/api/submission", json={"submissions": [submission(f"t{i}", "art") for i in range(3)]})
    images = [{"submission_id": "t0", "url": "https://x.org/0.jpg", "tags": ["character:lara_croft"]},
              {"submission_id": "t1", "url": "https://x.org/1.jpg", "tags": ["lara_croft", "rating:general"]},
              {"submission_id": "t2", "url": "https://x.org/2.jpg", "tags": ["series:tomb_raider"]}]
    assert api.post("/api/image", json={"images": images}, role="parsa").status_code == 200


def _names(api, tags: str) -> set[str]:
    response = api.get("/api/image", query_string={"state": "any", "tags": tags}, role="reader")
    assert response.status_code == 200, response.json
    return {i["url"].rsplit("/", 1)[1] for i in response.json["items"]}


def test_a_bare_tag_matches_any_namespace(app, api):
    _tagged(app, api)
    assert _names(api, "lara_croft") == {"0.jpg", "1.jpg"}
    assert _names(api, "Lara_Croft") == {"0.jpg", "1.jpg"}
    assert _names(api, "character:lara_croft") == {"0.jpg"}
    assert _names(api, ":lara_croft") == {"1.jpg"}
    assert _names(api, "-lara_croft") == {"2.jpg"}
    assert _names(api, "tomb_raider -rating:general") == {"2.jpg"}
    assert _names(api, "nothing_like_it") == set()
