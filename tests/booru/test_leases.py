"""Work leases: disjoint claims, expiry, stale tokens, failure policy."""
from __future__ import annotations

import threading

from sqlalchemy import text

from booru.extensions import db
from tests.booru.helpers import add_subreddit, fingerprint_payload, seed_images, submission


def _expire_leases(app, table: str) -> None:
    with app.app_context():
        db.session.execute(text(f"UPDATE {table} SET lease_expires = now() - interval '1 second' "
                                f"WHERE state = 'claimed'"))
        db.session.commit()


def test_concurrent_claimers_get_disjoint_sets_covering_the_queue(app, api, keys):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission(f"l{i:03d}") for i in range(200)]})
    results: list[list[str]] = [[] for _ in range(8)]

    def claimer(slot: int) -> None:
        client = app.test_client()
        while True:
            got = client.post("/api/link/claim", json={"limit": 7}, headers={"X-API-Key": keys["parsa"]}).json
            if not got["items"]:
                return
            results[slot].extend(item["id"] for item in got["items"])

    threads = [threading.Thread(target=claimer, args=(slot,)) for slot in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    claimed = [link_id for got in results for link_id in got]
    assert len(claimed) == len(set(claimed)) == 200
    assert set(claimed) == {f"l{i:03d}" for i in range(200)}
    assert sum(1 for got in results if got) > 1


def test_an_expired_lease_is_claimed_again_and_the_late_worker_refused(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("x1")]})
    first = api.post("/api/link/claim", json={"limit": 1}, role="parsa").json["items"][0]
    assert api.post("/api/link/claim", json={"limit": 1}, role="parsa").json["items"] == []
    _expire_leases(app, "link")
    second = api.post("/api/link/claim", json={"limit": 1}, role="parsa").json["items"][0]
    assert second["id"] == "x1" and second["lease"] != first["lease"]
    late = api.delete("/api/link", json={"items": [{"id": "x1", "lease": first["lease"]}]}, role="parsa")
    assert late.status_code == 409 and late.json["errors"]["stale"] == ["x1"]
    assert api.delete("/api/link", json={"items": [{"id": "x1", "lease": second["lease"]}]},
                      role="parsa").status_code == 200
    assert api.get("/api/link?state=done").json["items"][0]["id"] == "x1"


def test_a_stale_report_changes_nothing(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("y1"), submission("y2")]})
    items = api.post("/api/link/claim", json={"limit": 2}, role="parsa").json["items"]
    reports = [{"id": items[0]["id"], "lease": items[0]["lease"]},
               {"id": items[1]["id"], "lease": "00000000-0000-0000-0000-000000000000"}]
    assert api.delete("/api/link", json={"items": reports}, role="parsa").status_code == 409
    assert api.get("/api/link?state=claimed").json["items"].__len__() == 2


def test_link_failures_retry_then_die_and_permanent_ones_die_at_once(app, api):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("z1"), submission("z2"), submission("z3")]})

    def claim_and_fail(link_id: str, **report) -> None:
        _make_available(app)
        items = {i["id"]: i for i in api.post("/api/link/claim", json={"limit": 10}, role="parsa").json["items"]}
        body = {"items": [{"id": link_id, "lease": items[link_id]["lease"], "error": "boom", **report}]}
        assert api.put("/api/link", json=body, role="parsa").status_code == 200
        _release_others(app)

    claim_and_fail("z1")
    states = {l["id"]: l for l in api.get("/api/link?limit=10").json["items"]}
    assert states["z1"]["state"] == "failed" and states["z1"]["tries"] == 1
    assert api.post("/api/link/claim", json={"limit": 10}, role="parsa").json["items"].__len__() == 2  # z1 waits
    _release_others(app)
    claim_and_fail("z1")
    claim_and_fail("z1")
    claim_and_fail("z2", permanent=True, error="404 Not Found")
    claim_and_fail("z3", unsupported=True, error="a video")
    states = {l["id"]: l for l in api.get("/api/link?limit=10").json["items"]}
    assert (states["z1"]["state"], states["z1"]["tries"]) == ("dead", 3)
    assert (states["z2"]["state"], states["z2"]["error"]) == ("dead", "404 Not Found")
    assert states["z3"]["state"] == "unsupported"


def _make_available(app) -> None:
    with app.app_context():
        db.session.execute(text("UPDATE link SET available_at = now() WHERE state = 'failed'"))
        db.session.commit()


def _release_others(app) -> None:
    with app.app_context():
        db.session.execute(text("UPDATE link SET state = 'pending', lease = NULL WHERE state = 'claimed'"))
        db.session.commit()


def test_image_leases_fingerprints_and_failures(app, api):
    ids = seed_images(api, app, 3)
    claimed = api.post("/api/image/claim", json={"limit": 10}, role="coco").json["items"]
    assert sorted(i["id"] for i in claimed) == ids
    leases = {i["id"]: i["lease"] for i in claimed}
    done = api.post("/api/image/fingerprints", json={"items": [fingerprint_payload(ids[0], leases[ids[0]])]},
                    role="coco")
    assert done.status_code == 200, done.json
    failed = [{"id": ids[1], "lease": leases[ids[1]], "error": "HTTP 404", "permanent": True},
              {"id": ids[2], "lease": leases[ids[2]], "error": "timed out"}]
    assert api.put("/api/image", json={"items": failed}, role="coco").status_code == 200
    by_id = {i["id"]: i for i in api.get("/api/image?state=any").json["items"]}
    assert by_id[ids[0]]["state"] == "encoded" and by_id[ids[0]]["width"] == 800
    assert (by_id[ids[1]]["state"], by_id[ids[1]]["last_error"]) == ("failed", "HTTP 404")
    assert by_id[ids[2]]["state"] == "pending"  # retried after the delay
    again = api.post("/api/image/fingerprints", json={"items": [fingerprint_payload(ids[0], leases[ids[0]])]},
                     role="coco")
    assert again.status_code == 409


def test_a_release_gives_work_back_at_once_without_counting_a_try(app, api):
    ids = seed_images(api, app, 2)
    add_subreddit(app, "art")
    api.post("/api/submission", json={"submissions": [submission("w1", "art")]})
    link = api.post("/api/link/claim", json={"limit": 5}, role="parsa").json["items"][0]
    images = api.post("/api/image/claim", json={"limit": 5}, role="coco").json["items"]
    assert api.post("/api/link/release", json={"items": [{"id": link["id"], "lease": link["lease"]}]},
                    role="parsa").json == {"updated": 1}
    released = [{"id": i["id"], "lease": i["lease"]} for i in images]
    assert api.post("/api/image/release", json={"items": released}, role="coco").json == {"updated": 2}
    again = api.post("/api/link/claim", json={"limit": 5}, role="parsa").json["items"]
    assert [(l["id"], l["tries"]) for l in again] == [(link["id"], 0)]
    assert sorted(i["id"] for i in api.post("/api/image/claim", json={"limit": 5}, role="coco").json["items"]) == ids
    stale = api.post("/api/image/release", json={"items": released}, role="coco")
    assert stale.status_code == 409
