"""Bulk submissions with their links: idempotent upserts, validation, sizes."""
from __future__ import annotations

from tests.booru.helpers import add_subreddit, submission


def test_bulk_post_is_an_idempotent_upsert(app, api):
    add_subreddit(app)
    first = [submission(f"a{i}") for i in range(10)]
    overlapping = [submission(f"a{i}") for i in range(5, 15)]
    assert api.post("/api/submission", json={"submissions": first}, role="greg").json == {"received": 10, "created": 10}
    assert api.post("/api/submission", json={"submissions": overlapping}, role="greg").json == {"received": 10,
                                                                                                "created": 5}
    assert api.post("/api/submission", json={"submissions": first}, role="greg").json["created"] == 0
    listed = api.get("/api/submission?limit=1000").json["items"]
    assert sorted(s["id"] for s in listed) == sorted(f"a{i}" for i in range(15))
    links = api.get("/api/link?limit=1000").json["items"]
    assert len(links) == 15 and all(link["state"] == "pending" for link in links)


def test_repeated_ids_in_one_batch_and_changed_fields(app, api):
    add_subreddit(app)
    batch = [submission("b1"), submission("b1", title="edited", removed="moderator")]
    assert api.post("/api/submission", json={"submissions": batch}).status_code == 200
    post = api.get("/api/submission/b1").json
    assert post["title"] == "edited" and post["removed"] == "moderator"
    assert post["link"] == "https://redd.it/b1"


def test_a_body_is_held_to_its_limits_as_sent_and_its_nul_characters_dropped(app, api):
    """A title of 300 characters and a NUL is refused; one within the limit is stored without it."""
    add_subreddit(app)
    too_long = api.post("/api/submission", json={"submissions": [submission("n1", title="x" * 300 + "\x00")]},
                        role="greg")
    assert too_long.status_code == 422, too_long.json
    stored = api.post("/api/submission", json={"submissions": [submission("n2", title="a\x00title")]}, role="greg")
    assert stored.status_code == 200, stored.json
    assert api.get("/api/submission/n2").json["title"] == "atitle"


def test_a_reposted_link_keeps_its_progress(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("c1")]})
    claimed = api.post("/api/link/claim", json={"limit": 5}, role="parsa").json["items"]
    api.delete("/api/link", json={"items": [{"id": "c1", "lease": claimed[0]["lease"]}]}, role="parsa")
    api.post("/api/submission", json={"submissions": [submission("c1")]})
    assert api.get("/api/link?state=done").json["items"][0]["id"] == "c1"


def test_unsupported_links_are_kept_with_a_reason(app, api):
    add_subreddit(app)
    video = submission("v1", url="https://v.redd.it/abcdef", link_type=None)
    api.post("/api/submission", json={"submissions": [video]})
    links = api.get("/api/link/unsupported").json["items"]
    assert [(link["id"], link["state"]) for link in links] == [("v1", "unsupported")]
    assert links[0]["error"]
    assert api.post("/api/link/claim", json={"limit": 10}, role="parsa").json["items"] == []


def test_subreddit_matching_ignores_case_and_unknown_ones_are_refused(app, api):
    add_subreddit(app, "EarthPorn")
    assert api.post("/api/submission", json={"submissions": [submission("d1", "earthporn")]}).status_code == 200
    assert api.get("/api/submission/d1").json["subreddit"] == "EarthPorn"
    response = api.post("/api/submission", json={"submissions": [submission("d2", "nowhere")]})
    assert response.status_code == 404
    assert "nowhere" in response.json["message"]
    assert api.get("/api/submission/d2").status_code == 404


def test_validation_errors_name_each_field(app, api):
    add_subreddit(app)
    bad = submission("e1", title="x" * 301, created="yesterday")
    bad["links"][0]["type"] = "myspace"
    response = api.post("/api/submission", json={"submissions": [bad]})
    assert response.status_code == 422
    errors = response.json["errors"]["submissions"]["0"]
    assert set(errors) == {"title", "created", "links"}


def test_malformed_and_oversized_bodies(app, api):
    response = api.post("/api/submission", data="{not json", content_type="application/json")
    assert response.status_code == 400 and response.json["message"]
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = api.post("/api/submission", json={"submissions": [submission(f"f{i}") for i in range(50)]})
    assert response.status_code == 413
    assert response.json["message"]


def test_unknown_paths_and_methods_answer_json(api):
    response = api.get("/api/nothing-here")
    assert response.status_code == 404 and "message" in response.json
    response = api.request("PATCH", "/api/submission")
    assert response.status_code == 405 and "message" in response.json


def test_submission_listing_pages_with_a_cursor(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission(f"g{i:02d}") for i in range(25)]})
    seen, cursor = [], None
    while True:
        page = api.get("/api/submission?limit=10" + (f"&cursor={cursor}" if cursor else "")).json
        seen += [s["id"] for s in page["items"]]
        cursor = page["cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(f"g{i:02d}" for i in range(25)) and len(seen) == 25
