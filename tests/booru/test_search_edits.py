"""The `visual` search through the HTTP API: photo-like pictures archived through the real
endpoints (Coco's payload: fingerprints, thumbnail and region dhashes), then an edited copy of
one of them, uploaded, finds it first; a picture not in the archive gets no `match`, and the
answer is always filled up to `q` pictures."""
from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest

from booru.extensions import db
from booru.func.similarity.follow import POLL_SECONDS
from common.fingerprint import fingerprint
from tests.booru.helpers import seed_images
from tests.booru.test_search import _claim
from tests.booru.test_visual_search import EDITS
from tests.photos import in_an_app, jpeg, picture

ARCHIVED = 8
ORIGINAL = 3
THUMBNAIL_SIZE = 320


def _archive(api, claimed: list[dict], seeds: list[int]) -> None:
    _archive_pictures(api, claimed, [picture(seed) for seed in seeds])


def _archive_pictures(api, claimed: list[dict], pictures: list[np.ndarray]) -> None:
    items = [fingerprint(jpeg(pixels), thumbnail_size=THUMBNAIL_SIZE).to_payload(
        id=item["id"], lease=item["lease"]) for item, pixels in zip(claimed, pictures)]
    assert all(item["regions"] for item in items)
    response = api.post("/api/image/fingerprints", role="coco", json={"items": items})
    assert response.status_code == 200, response.json


@pytest.fixture
def archive(app, api) -> dict[int, int]:
    """ARCHIVED photos as Coco archives them, and one image left pending; returns n -> image id
    of picture(100 + n)."""
    seed_images(api, app, ARCHIVED + 1)
    claimed = _claim(api, ARCHIVED)[:ARCHIVED]
    _archive(api, claimed, [100 + n for n in range(ARCHIVED)])
    return {n: item["id"] for n, item in enumerate(claimed)}


def _visual(api, data: bytes, query: str = "") -> list[dict]:
    """A search at default settings: `visual` is the default algorithm."""
    response = api.post("/api/similarity/file?" + query.lstrip("&"), role="reader",
                        content_type="multipart/form-data", data={"image": (io.BytesIO(data), "query.jpg")})
    assert response.status_code == 200, response.json
    assert response.json["algorithm"] == "visual"
    return response.json["hits"]


def test_each_edit_finds_its_original_first(api, archive):
    for edit, change in EDITS.items():
        hits = _visual(api, jpeg(change(picture(100 + ORIGINAL))), "&q=3")
        assert hits[0]["id"] == archive[ORIGINAL], edit
        assert hits[0]["confidence"] in ("match", "likely"), (edit, hits[0])
        assert hits[0]["mirrored"] == edit.startswith("mirror"), edit
        assert hits[0]["posts"][0]["image_id"] == archive[ORIGINAL]
        assert len(hits) == 3 and len({h["id"] for h in hits}) == 3, edit  # filled up to q


def test_a_copy_squeezed_to_another_aspect_ratio_is_a_match(api, archive):
    """Its width scaled by 0.6, its height kept: verification fits a stretch, not only a similarity."""
    hits = _visual(api, jpeg(cv2.resize(picture(100 + ORIGINAL), (384, 480), interpolation=cv2.INTER_AREA)), "&q=2")
    assert hits[0]["id"] == archive[ORIGINAL] and hits[0]["confidence"] == "match", hits[0]


def test_a_copy_cut_to_a_square_is_a_match(api, archive):
    """12.5 % cut from its left and its right: too far from every archived window for the first
    look (tests/booru/test_visual_search.py shows it), found by the second."""
    hits = _visual(api, jpeg(np.ascontiguousarray(picture(100)[:, 80:560])), "&q=2")
    assert hits[0]["id"] == archive[0] and hits[0]["confidence"] == "match", hits[0]


def test_a_picture_not_in_the_archive_is_not_a_match(api, archive):
    hits = _visual(api, jpeg(picture(999)), "&q=5")
    assert len(hits) == 5  # a search always answers q
    assert all(hit["confidence"] != "match" for hit in hits)


def test_the_region_index_follows_new_images(app, api, archive):
    new = picture(777)
    assert _visual(api, jpeg(new), "&q=1")[0]["confidence"] != "match"
    claimed = _claim(api, 1)
    _archive(api, claimed, [777])
    time.sleep(POLL_SECONDS)
    hits = _visual(api, jpeg(new[:, 96:]), "&q=1")
    assert hits[0]["id"] == claimed[0]["id"] and hits[0]["confidence"] == "match"


def test_deleted_images_drop_out(app, api, archive):
    query = jpeg(EDITS["caption"](picture(100 + ORIGINAL)))
    assert _visual(api, query)[0]["id"] == archive[ORIGINAL]
    with app.app_context():
        db.session.execute(db.text("DELETE FROM image WHERE id = :id"), {"id": archive[ORIGINAL]})
        db.session.commit()
    assert archive[ORIGINAL] not in [h["id"] for h in _visual(api, query)]


def test_the_get_by_url_and_a_bad_algorithm(api, archive, fakenet):
    fakenet.route("GET", "https://example.com/q.jpg", body=jpeg(EDITS["letterbox"](picture(100 + ORIGINAL))),
                  content_type="image/jpeg")
    response = api.get("/api/similarity/url?algorithm=visual&q=2&url=https://example.com/q.jpg", role="reader")
    assert response.status_code == 200, response.json
    assert response.json["hits"][0]["id"] == archive[ORIGINAL]
    refused = api.post("/api/similarity/file?algorithm=nope", role="reader", content_type="multipart/form-data",
                       data={"image": (io.BytesIO(jpeg(picture(1))), "q.jpg")})
    assert refused.status_code == 422 and "algorithm" in refused.json["errors"]


def test_the_upload_is_decoded_once(api, archive, monkeypatch):
    """The visual query is made from the render the upload's fingerprint came from."""
    from booru.func.similarity import visual
    from common import fingerprint as fingerprinting

    opened = []

    def counted(original):
        def open_image(*args, **kwargs):
            opened.append(1)
            return original(*args, **kwargs)
        return open_image

    for module in (fingerprinting, visual):  # every way the visual search could decode
        monkeypatch.setattr(module, "open_image", counted(module.open_image))
    hits = _visual(api, jpeg(EDITS["caption"](picture(100 + ORIGINAL))), "&q=2")
    assert len(opened) == 1, "the upload was decoded again"
    assert hits[0]["id"] == archive[ORIGINAL] and hits[0]["confidence"] == "match"


def test_the_uploaded_file_itself_comes_first_at_distance_zero(api, archive):
    """An upload byte for byte equal to an archived file is that picture: first, distance 0.
    (Picture 1's regions from its thumbnail differ from those of the upload by a bit.)"""
    hits = _visual(api, jpeg(picture(100 + 1)), "&q=3")
    assert hits[0]["id"] == archive[1]
    assert (hits[0]["distance"], hits[0]["score"], hits[0]["confidence"]) == (0.0, 100.0, "match")
    assert all(h["distance"] > 0 for h in hits[1:])


def test_a_screenshot_of_another_picture_in_the_same_app_is_not_a_match(app, api):
    """Archived screenshots in one app, and a screenshot of a picture not archived in that app:
    the app around the pictures is alike, the pictures are not. Neither the visual hits nor
    the pictures filling the answer say `match` or `likely`."""
    shots = 10
    seed_images(api, app, shots + 1)
    _archive_pictures(api, _claim(api, shots)[:shots], [in_an_app(picture(120 + n)) for n in range(shots)])
    hits = _visual(api, jpeg(in_an_app(picture(130))), f"&q={shots}")
    assert len(hits) == shots
    assert all(hit["confidence"] == "weak" for hit in hits), [(h["distance"], h["confidence"]) for h in hits]


def test_a_nul_character_in_a_filter_is_dropped_once_the_parameters_are_valid(api, archive):
    """The search's parameters are validated as sent and stripped of NULs after, in the query
    string as in the form: a filter holding one searches as without it (PostgreSQL text cannot
    hold a NUL)."""
    query = jpeg(EDITS["caption"](picture(100 + ORIGINAL)))
    plain = _visual(api, query, "author=nobody_here")
    assert _visual(api, query, "author=nobody%00_here") == plain
    in_the_form = api.post("/api/similarity/file", role="reader", content_type="multipart/form-data",
                           data={"image": (io.BytesIO(query), "query.jpg"), "author": "nobody\x00_here"})
    assert in_the_form.status_code == 200 and in_the_form.json["hits"] == plain
