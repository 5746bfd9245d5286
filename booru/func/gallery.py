"""What the web pages show beyond the API's lists: every post of one picture, a stored picture's
fingerprint as a search query, tag suggestions."""
from __future__ import annotations

from sqlalchemy import text

from booru.extensions import db
from common.fingerprint import CHANNELS, Fingerprint

MAX_POSTS = 500
MAX_SUGGESTIONS = 12

POSTS_OF_PICTURE = text("""
    SELECT i.id AS image_id, i.url, s.id AS submission_id, s.title, s.subreddit, s.author, s.created, s.nsfw
    FROM image i JOIN submission s ON s.id = i.submission_id
    WHERE (i.id = :id OR (CAST(:sha256 AS text) IS NOT NULL AND i.sha256 = :sha256))
    ORDER BY s.created, i.id LIMIT :limit""")


def posts_of_picture(image_id: int, sha256: str | None) -> list[dict]:
    """The posts of an image and of every image with the same bytes, oldest first."""
    rows = db.session.execute(POSTS_OF_PICTURE, {"id": image_id, "sha256": sha256, "limit": MAX_POSTS})
    return [{**row._mapping, "post": f"https://redd.it/{row.submission_id}"} for row in rows]


STORED_FINGERPRINT = text("""
    SELECT i.sha256, i.md5, i.width, i.height, i.bytes, i.mime,
           h.red AS h_red, h.green AS h_green, h.blue AS h_blue,
           d.red::bigint AS d_red, d.green::bigint AS d_green, d.blue::bigint AS d_blue
    FROM image i JOIN histogram h ON h.id = i.id JOIN dhash d ON d.id = i.id
    WHERE i.id = :id""")


def stored_fingerprint(image_id: int) -> Fingerprint | None:
    """An archived image's fingerprint, to search for pictures like it (None if not encoded)."""
    row = db.session.execute(STORED_FINGERPRINT, {"id": image_id}).first()
    if row is None or any(getattr(row, f"h_{c}") is None or getattr(row, f"d_{c}") is None for c in CHANNELS):
        return None
    return Fingerprint(
        sha256=row.sha256 or "", md5=row.md5 or "", width=row.width or 0, height=row.height or 0,
        bytes=row.bytes or 0, mime=row.mime or "",
        histogram={c: list(getattr(row, f"h_{c}")) for c in CHANNELS},
        dhash={c: format(getattr(row, f"d_{c}") % 2**64, "016x") for c in CHANNELS})


def suggest_tags(prefix: str) -> list[str]:
    """Tags starting with `prefix` (`lara` or `character:lar`), written `namespace:name`."""
    term = prefix.strip().lower().replace(" ", "_")
    if not term:
        return []
    namespace, sep, name = term.partition(":")
    if not sep:
        namespace, name = "", term
    pattern = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    condition = "name LIKE :pattern" + (" AND namespace = :namespace" if sep else "")
    rows = db.session.execute(text(f"""
        SELECT CASE WHEN namespace = '' THEN name ELSE namespace || ':' || name END
        FROM tag WHERE {condition} ORDER BY length(name), name LIMIT :limit"""),
                              {"pattern": pattern, "namespace": namespace, "limit": MAX_SUGGESTIONS})
    return [tag for (tag,) in rows]


def image_url(image_id: int) -> str | None:
    """The archived URL of an image (None: no such image)."""
    return db.session.scalar(text("SELECT url FROM image WHERE id = :id"), {"id": image_id})
