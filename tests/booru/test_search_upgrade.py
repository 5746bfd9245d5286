"""Thumbnails, and an archive fingerprinted the old way upgraded in the background: a database
at the previous schema (0002) with fingerprinted images is migrated, Coco re-fingerprints every
image (from its thumbnail where it has one, else downloading it again) while searches keep
answering, and every image reaches the new version."""
from __future__ import annotations

import dataclasses
import io
import threading
from unittest import mock

import psycopg2
import requests
from PIL import Image

from booru import auth
from coco.worker import Coco
from common.client import BooruClient
from common.config import load_settings
from common.fingerprint import FINGERPRINT_VERSION, fingerprint, regions_array, thumbnail_regions
from tests.booru.helpers import seed_images, submission
from tests.booru.test_metrics import scrape, value
from tests.booru.test_search import _claim, _encode, _picture


def _post(api, claimed: list[dict], images: list[bytes], thumbnail_size: int = 0):
    items = [fingerprint(data, thumbnail_size=thumbnail_size).to_payload(id=item["id"], lease=item["lease"])
             for item, data in zip(claimed, images)]
    return api.post("/api/image/fingerprints", role="coco", json={"items": items})


def test_thumbnails_are_stored_served_and_shared_by_twins(app, api):
    ids = seed_images(api, app, 3)
    claimed = _claim(api, 3)
    same = _encode(_picture(5), "JPEG", quality=90)
    assert _post(api, claimed[:2], [same, same], thumbnail_size=64).status_code == 200
    response = api.get(f"/api/image/{ids[0]}/thumbnail", role="reader")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(response.data)).size == (64, 48)  # 800×600, longest side 64
    assert "max-age" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    again = api.get(f"/api/image/{ids[0]}/thumbnail", role="reader", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert api.get(f"/api/image/{ids[2]}/thumbnail", role="reader").status_code == 404
    assert api.get(f"/api/image/{ids[0]}/thumbnail", role=None).status_code == 401
    bad = fingerprint(same).to_payload(id=claimed[2]["id"], lease=claimed[2]["lease"])
    bad["thumbnail"] = {"width": 10, "height": 10, "data": "bm90IGEganBlZw=="}
    refused = api.post("/api/image/fingerprints", role="coco", json={"items": [bad]})
    assert refused.status_code == 422 and "thumbnail" in refused.json["errors"]


def test_upgrade_progress_in_stats_and_metrics(app, api):
    seed_images(api, app, 3)
    assert _post(api, _claim(api, 3), [_encode(_picture(n), "PNG") for n in (1, 2, 3)]).status_code == 200
    now = FINGERPRINT_VERSION
    assert f"upgrade: 3 of 3 images at version {now}" in app.test_cli_runner().invoke(args=["stats"]).output
    assert value(scrape(api), "lzbooru_images_fingerprint_version", version=str(now)) == 3
    with mock.patch("booru.func.stats.FINGERPRINT_VERSION", now + 1):
        assert f"upgrade: 0 of 3 images at version {now + 1}" in app.test_cli_runner().invoke(args=["stats"]).output


def _versions(uri: str) -> dict[int, int]:
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT fingerprint_version, count(*) FROM image WHERE state = 'encoded' GROUP BY 1")
        return dict(cursor.fetchall())


def _columns(uri: str) -> set[str]:
    with psycopg2.connect(uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'image'")
        return {row[0] for row in cursor.fetchall()}


def test_an_old_archive_is_refingerprinted_while_search_answers(app, api, fakenet, live_booru):
    count = 12
    ids = seed_images(api, app, count)
    claimed = _claim(api, count)
    pictures = [_encode(_picture(100 + n), "JPEG", quality=90) for n in range(count)]
    assert _post(api, claimed, pictures).status_code == 200
    # the archive as it was before: schema 0002, fingerprints without versions or thumbnails
    live_booru.process.stop()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "downgrade", "0002"]).exit_code == 0
    assert "fingerprint_version" not in _columns(live_booru.database_uri)
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert _versions(live_booru.database_uri) == {1: count}
    # half have a thumbnail (their files are gone from the web), half must be downloaded again
    with psycopg2.connect(live_booru.database_uri) as connection, connection.cursor() as cursor:
        for n in range(0, count, 2):
            small = fingerprint(pictures[n], thumbnail_size=200).thumbnail
            cursor.execute("INSERT INTO thumbnail (id, width, height, data) VALUES (%s, %s, %s, %s)",
                           (ids[n], small.width, small.height, small.jpeg))
    for n in range(1, count, 2):
        fakenet.route("GET", f"https://i.redd.it/p{n}.jpg", body=pictures[n], content_type="image/jpeg")
    live_booru.start_again()

    answers: list[tuple[int, int | None]] = []
    stop = threading.Event()
    reader = auth.HEADER

    def search() -> None:
        session = requests.Session()
        session.trust_env = False
        n = 0
        while not stop.is_set():
            response = session.post(f"{live_booru.url}/similarity/file", headers={reader: live_booru.admin_key},
                                    files={"image": ("q.jpg", pictures[n % count])}, timeout=30)
            top = response.json()["hits"][0]["id"] if response.status_code == 200 else None
            answers.append((response.status_code, top == ids[n % count]))
            n += 1

    searcher = threading.Thread(target=search)
    settings = dataclasses.replace(load_settings(), coco_batch=3, coco_processes=1, coco_threads=2,
                                   thumbnail_size=200, fetch_timeout=5.0, fetch_deadline=10.0)
    coco = Coco(BooruClient(live_booru.url, live_booru.daemon_key), settings)
    searcher.start()
    try:
        for _ in range(count):
            report = coco.run_once()
            if not report["upgrade_claimed"]:
                break
    finally:
        stop.set()
        searcher.join()
        coco.close()
    assert _versions(live_booru.database_uri) == {FINGERPRINT_VERSION: count}
    asked = {r.url for r in fakenet.requests if r.method == "GET"}
    assert asked == {f"https://i.redd.it/p{n}.jpg" for n in range(1, count, 2)}  # thumbnails where there were
    assert answers and all(status == 200 and right for status, right in answers), answers
    with psycopg2.connect(live_booru.database_uri) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM thumbnail")
        assert cursor.fetchone()[0] == count  # the downloaded ones got a thumbnail too
        # every image got its region dhashes, those of its thumbnail, stored or new
        cursor.execute("SELECT r.id, r.dhashes, t.data FROM region_dhash r JOIN thumbnail t ON t.id = r.id")
        stored = cursor.fetchall()
    assert sorted(row[0] for row in stored) == sorted(ids)
    for _, dhashes, jpeg in stored:
        assert dhashes == regions_array(thumbnail_regions(bytes(jpeg))).view("int64").ravel().tolist()


def test_region_dhashes_are_stored_with_the_fingerprints(app, api):
    from sqlalchemy import text

    from booru.extensions import db

    ids = seed_images(api, app, 3)
    claimed = _claim(api, 3)
    data = _encode(_picture(7), "JPEG", quality=90)
    sent = fingerprint(data, thumbnail_size=64).to_payload(id=claimed[0]["id"], lease=claimed[0]["lease"])
    bad = {**sent, "id": claimed[1]["id"], "lease": claimed[1]["lease"], "regions": sent["regions"][:3]}
    refused = api.post("/api/image/fingerprints", role="coco", json={"items": [bad]})
    assert refused.status_code == 422 and "regions" in refused.json["errors"]["items"]["0"]
    bad["regions"] = ["zz" * 24] * len(sent["regions"])
    assert api.post("/api/image/fingerprints", role="coco", json={"items": [bad]}).status_code == 422
    assert api.post("/api/image/fingerprints", role="coco", json={"items": [sent]}).status_code == 200
    with app.app_context():
        rows = dict(db.session.execute(text("SELECT id, dhashes FROM region_dhash")).all())
    assert list(rows) == [ids[0]]
    assert rows[ids[0]] == regions_array(sent["regions"]).view("int64").ravel().tolist()
    # a new post of the same file shares them, as it shares the other fingerprints
    url = api.get(f"/api/image/{ids[0]}", role="reader").json["url"]
    assert api.post("/api/submission", json={"submissions": [submission("twin", url=url)]}).status_code == 200
    posted = api.post("/api/image", json={"images": [{"submission_id": "twin", "url": url}]})
    assert posted.status_code == 200 and posted.json["reused"] == 1
    with app.app_context():
        shared = db.session.execute(text("SELECT r.dhashes FROM region_dhash r JOIN image i ON i.id = r.id "
                                         "WHERE i.submission_id = 'twin'")).scalar_one()
    assert shared == rows[ids[0]]


def test_region_rows_of_the_previous_version_are_indexed_until_upgraded(app, api):
    """Version 3 stored one window fewer (no centre square): until Coco upgrades them, such rows
    are read with their content box standing in for the centre square; a row of any other length
    is not read."""
    from sqlalchemy import text

    from booru.extensions import db
    from booru.func.similarity.table_rows import ROWS, read_rows
    from common.regions import WINDOWS

    ids = seed_images(api, app, 3)
    words = [regions_array(thumbnail_regions(_encode(_picture(20 + n), "JPEG", quality=90))).view("int64")
             for n in range(3)]
    assert words[0].shape == (len(WINDOWS), 3)
    stored = {ids[0]: words[0].ravel(), ids[1]: words[1][:-1].ravel(), ids[2]: words[2][:4].ravel()}
    with app.app_context():
        for image_id, dhashes in stored.items():
            db.session.execute(text("INSERT INTO region_dhash (id, dhashes) VALUES (:id, :dhashes)"),
                               {"id": image_id, "dhashes": dhashes.tolist()})
        db.session.commit()
        _, rows = read_rows(*ROWS["region"], None)
    read = {int(row[0]): row[1:].reshape(len(WINDOWS), 3) for row in rows}
    assert sorted(read) == sorted(ids[:2])
    assert read[ids[0]].tolist() == words[0].tolist()
    assert read[ids[1]].tolist() == words[1][:-1].tolist() + [words[1][0].tolist()]
