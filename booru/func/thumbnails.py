"""Thumbnails: Coco's small JPEG of each image, stored in `thumbnail`, served to readers and Coco."""
from __future__ import annotations

import base64
import binascii
import hashlib

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from booru.errors import Unusable
from booru.extensions import db
from booru.models import Thumbnail

JPEG_MAGIC = b"\xff\xd8\xff"

# An image's own thumbnail, else that of another image with the same file (a twin shares them).
THUMBNAIL_OF = text("""
    SELECT t.width, t.height, t.data FROM thumbnail t WHERE t.id = :id
    UNION ALL
    (SELECT t.width, t.height, t.data FROM image i JOIN image o ON o.sha256 = i.sha256 AND o.id <> i.id
     JOIN thumbnail t ON t.id = o.id WHERE i.id = :id AND i.sha256 IS NOT NULL ORDER BY o.id LIMIT 1)
    LIMIT 1""")


def decode_thumbnail(payload: dict, image_id: int) -> dict:
    """{id, width, height, data} from a posted {width, height, data (base64 JPEG)}; 422 if not a JPEG."""
    try:
        data = base64.b64decode(payload["data"], validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data.startswith(JPEG_MAGIC):
        raise Unusable(f"the thumbnail of image {image_id} is not a base64 JPEG",
                       {"thumbnail": [f"image {image_id}: not a base64 JPEG"]})
    return {"id": image_id, "width": payload["width"], "height": payload["height"], "data": data}


def write_thumbnails(rows: list[dict]) -> None:
    """Upsert decoded thumbnails, in the caller's transaction."""
    if not rows:
        return
    statement = insert(Thumbnail.__table__)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["id"], set_={c: statement.excluded[c] for c in ("width", "height", "data")}), rows)


# Which of the images have a thumbnail, their own or a twin's (as THUMBNAIL_OF finds it).
THUMBNAILED = text("""
    SELECT i.id FROM image i WHERE i.id = ANY(:ids) AND EXISTS (
        SELECT 1 FROM thumbnail t JOIN image o ON o.id = t.id
        WHERE o.id = i.id OR (i.sha256 IS NOT NULL AND o.sha256 = i.sha256))""")


def thumbnailed(image_ids: list[int]) -> set[int]:
    """The ids among `image_ids` that GET /api/image/<id>/thumbnail answers with a thumbnail."""
    if not image_ids:
        return set()
    return set(db.session.scalars(THUMBNAILED, {"ids": list(image_ids)}))


def get_thumbnail(image_id: int) -> tuple[bytes, str] | None:
    """(JPEG bytes, ETag) of the image's thumbnail, or None."""
    row = db.session.execute(THUMBNAIL_OF, {"id": image_id}).first()
    if row is None:
        return None
    data = bytes(row.data)
    return data, hashlib.sha256(data).hexdigest()[:32]
