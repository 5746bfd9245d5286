"""Images: added by Parsa, leased to Coco, fingerprinted, listed and filtered."""
from __future__ import annotations

from datetime import datetime

import numpy as np
from flask import current_app
from sqlalchemy import bindparam, func, literal_column, select, text
from sqlalchemy.dialects.postgresql import insert

from booru.errors import NotFound
from booru.extensions import db
from booru.func import leases
from booru.func.tags import TAGS_OF_IMAGE, tag_filter, tag_images
from booru.func.thumbnails import decode_thumbnail, write_thumbnails
from booru.models import Dhash, Histogram, Image, RegionDhash, Submission
from common.fingerprint import regions_array


def post_images(images: list[dict]) -> dict[str, int]:
    """Upsert images on (submission, url) with their tags; reuse fingerprints of known twins."""
    unique = {(i["submission_id"], i["url"]): i for i in images}
    ids = {submission_id for submission_id, _ in unique}
    known = set(db.session.scalars(select(Submission.id).where(Submission.id.in_(ids))))
    if ids - known:
        raise NotFound("unknown submissions: " + ", ".join(sorted(ids - known)),
                       {"submission_id": ["not found: " + i for i in sorted(ids - known)]})
    table = Image.__table__
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.submission_id, table.c.url],
        set_={"md5": func.coalesce(statement.excluded.md5, table.c.md5),
              "source_url": func.coalesce(statement.excluded.source_url, table.c.source_url),
              "posted": func.coalesce(statement.excluded.posted, table.c.posted),
              "position": statement.excluded.position},
    ).returning(table.c.id, table.c.submission_id, table.c.url, literal_column("xmax = 0"))
    rows = [{"submission_id": i["submission_id"], "url": i["url"], "position": i["position"],
             "md5": i["md5"].lower() if i["md5"] else None, "source_url": i["source_url"], "posted": i["posted"]}
            for i in unique.values()]
    returned = db.session.execute(statement, rows).all()
    tag_images({image_id: unique[(submission_id, url)]["tags"] for image_id, submission_id, url, _ in returned})
    reused = share_fingerprints("p.id IN :ids", ids=[row[0] for row in returned])
    db.session.commit()
    return {"received": len(images), "created": sum(1 for row in returned if row[3]), "reused": reused}


def share_fingerprints(pending_filter: str, ids: list[int]) -> int:
    """Give pending images matching `pending_filter` the fingerprints of an encoded twin
    (same URL, or same md5 known in advance), so the same file is fetched and hashed once."""
    pairs = db.session.execute(text(f"""
        SELECT DISTINCT ON (p.id) p.id AS target, e.id AS source
        FROM image p JOIN image e
          ON e.state = 'encoded' AND e.id <> p.id AND (e.url = p.url OR (p.md5 IS NOT NULL AND e.md5 = p.md5))
        WHERE p.state = 'pending' AND {pending_filter}
        ORDER BY p.id, e.id""").bindparams(bindparam("ids", expanding=True)), {"ids": ids}).all()
    if not pairs:
        return 0
    values = [{"target": target, "source": source} for target, source in pairs]
    db.session.execute(text("""
        UPDATE image p SET state = 'encoded', sha256 = e.sha256, md5 = e.md5, width = e.width,
               height = e.height, bytes = e.bytes, mime = e.mime, fingerprint_version = e.fingerprint_version,
               lease = NULL, lease_expires = NULL
        FROM image e WHERE p.id = :target AND e.id = :source"""), values)
    for table in ("histogram", "dhash"):
        db.session.execute(text(f"INSERT INTO {table} SELECT :target, red, green, blue FROM {table} "
                                f"WHERE id = :source ON CONFLICT (id) DO NOTHING"), values)
    db.session.execute(text("INSERT INTO region_dhash (id, dhashes) SELECT :target, dhashes FROM region_dhash "
                            "WHERE id = :source ON CONFLICT (id) DO NOTHING"), values)
    return len(pairs)


def release_images(reports: list[dict]) -> int:
    return leases.release(leases.IMAGES, reports)


def claim_images(limit: int) -> tuple[list[dict], datetime | None]:
    return leases.claim(leases.IMAGES, limit, current_app.config["SETTINGS"].lease_seconds)


def _bits(hex16: str) -> str:
    return format(int(hex16, 16), "064b")


def record_fingerprints(items: list[dict]) -> dict[str, int]:
    """Store Coco's fingerprints for leased images and mark them encoded."""
    unique = list({item["id"]: item for item in items}.values())
    leases.complete(leases.IMAGES, unique)
    thumbnails = [decode_thumbnail(i["thumbnail"], i["id"]) for i in unique if i.get("thumbnail")]
    db.session.execute(text("""
        UPDATE image SET sha256 = :sha256, md5 = :md5, width = :width, height = :height,
               bytes = :bytes, mime = :mime, fingerprint_version = :version,
               upgrade_lease = NULL, upgrade_available_at = NULL WHERE id = :id"""),
                       [{k: item.get(k, 1) for k in ("id", "sha256", "md5", "width", "height", "bytes", "mime",
                                                      "version")}
                        for item in unique])
    write_thumbnails(thumbnails)
    write_histograms([{"id": i["id"], **i["histogram"]} for i in unique])
    write_dhashes([{"id": i["id"], **i["dhash"]} for i in unique])
    write_regions([i for i in unique if i.get("regions")])
    shared = share_fingerprints("(p.url IN (SELECT url FROM image WHERE id IN :ids) "
                                "OR p.md5 IN (SELECT md5 FROM image WHERE id IN :ids))", ids=[i["id"] for i in unique])
    db.session.commit()
    return {"updated": len(unique), "shared": shared}


def write_histograms(rows: list[dict]) -> None:
    statement = insert(Histogram.__table__)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["id"], set_={c: statement.excluded[c] for c in ("red", "green", "blue")}), rows)


def write_dhashes(rows: list[dict]) -> None:
    statement = insert(Dhash.__table__)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["id"], set_={c: statement.excluded[c] for c in ("red", "green", "blue")}),
        [{"id": r["id"], "red": _bits(r["red"]), "green": _bits(r["green"]), "blue": _bits(r["blue"])}
         for r in rows])


def write_regions(items: list[dict]) -> None:
    """Store the `regions` (common.fingerprint.thumbnail_regions) of each of `items`."""
    if not items:
        return
    statement = insert(RegionDhash.__table__)
    db.session.execute(
        statement.on_conflict_do_update(index_elements=["id"], set_={"dhashes": statement.excluded.dhashes}),
        [{"id": i["id"], "dhashes": regions_array(i["regions"]).view(np.int64).ravel().tolist()} for i in items])


def post_encodings(kind: str, rows: list[dict]) -> dict[str, int]:
    """The seed's bulk POST /api/histogram and /api/dhash: store one kind of encoding for images;
    an image with both becomes encoded."""
    ids = [r["id"] for r in rows]
    known = set(db.session.scalars(select(Image.id).where(Image.id.in_(ids))))
    if set(ids) - known:
        raise NotFound("unknown images: " + ", ".join(map(str, sorted(set(ids) - known))))
    (write_histograms if kind == "histogram" else write_dhashes)(rows)
    db.session.execute(text("""
        UPDATE image SET state = 'encoded', lease = NULL, lease_expires = NULL,
               fingerprint_version = coalesce(fingerprint_version, 1)
        WHERE id IN :ids AND EXISTS (SELECT 1 FROM histogram h WHERE h.id = image.id)
          AND EXISTS (SELECT 1 FROM dhash d WHERE d.id = image.id)""").bindparams(
        bindparam("ids", expanding=True)), {"ids": ids})
    db.session.commit()
    return {"updated": len(rows)}


def images_failed(reports: list[dict], permanent: bool = False) -> int:
    settings = current_app.config["SETTINGS"]
    if permanent:
        reports = [{**r, "permanent": True} for r in reports]
    return leases.fail(leases.IMAGES, reports, settings.retry_delay, settings.max_tries)


IMAGE_VIEW = f"""
    SELECT i.id, i.url, i.submission_id, i.state, i.sha256, i.md5, i.width, i.height, i.bytes, i.mime,
           i.source_url, i.posted, i.last_error, s.subreddit, s.author, s.title, s.nsfw, s.created,
           {TAGS_OF_IMAGE} AS tags
    FROM image i JOIN submission s ON s.id = i.submission_id"""


def views(conditions: list[str], params: dict, limit: int, ascending: bool = False, offset: int = 0) -> list[dict]:
    """Images by id (newest first unless `ascending`) with their post and tags (the shape of
    ImageSchema), in one query."""
    where = " AND ".join(conditions) or "true"
    order = "ASC" if ascending else "DESC"
    result = db.session.execute(text(f"{IMAGE_VIEW} WHERE {where} ORDER BY i.id {order} LIMIT :limit OFFSET :offset"),
                                {**params, "limit": limit, "offset": offset})
    columns = list(result.keys())
    return [dict(zip(columns, row)) for row in result]


def count(conditions: list[str], params: dict) -> int:
    """How many images (joined with their post, as in `views`) meet `conditions`."""
    where = " AND ".join(conditions) or "true"
    return db.session.scalar(text(f"SELECT count(*) FROM image i JOIN submission s ON s.id = i.submission_id "
                                  f"WHERE {where}"), params)


def list_images(filters: dict) -> tuple[list[dict], str | None]:
    """Images newest first with their post and tags, filtered, keyset-paginated by id."""
    limit = filters["limit"]
    conditions, params = [], {}
    if filters.get("state", "any") != "any":
        conditions.append("i.state = :state")
        params["state"] = filters["state"]
    if filters.get("subreddit"):
        conditions.append("lower(s.subreddit) = lower(:subreddit)")
        params["subreddit"] = filters["subreddit"]
    if filters.get("author"):
        conditions.append("s.author = :author")
        params["author"] = filters["author"]
    if "nsfw" in filters:
        conditions.append("s.nsfw = :nsfw")
        params["nsfw"] = filters["nsfw"]
    if filters.get("tags"):
        tag_conditions, tag_params = tag_filter(filters["tags"], current_app.config["SETTINGS"].max_tag_terms)
        conditions += tag_conditions
        params.update(tag_params)
    if filters.get("cursor"):
        conditions.append("i.id < :cursor")
        params["cursor"] = int(filters["cursor"])
    items = views(conditions, params, limit + 1)
    more = len(items) > limit
    return items[:limit], (str(items[limit - 1]["id"]) if more else None)


def get_image(image_id: int) -> dict:
    found = views(["i.id = :id"], {"id": image_id}, 1)
    if not found:
        raise NotFound(f"no image {image_id}")
    return found[0]
