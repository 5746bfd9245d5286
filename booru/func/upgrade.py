"""Background re-fingerprinting: images stored with an older fingerprint version get new ones.

Coco claims encoded images below its FINGERPRINT_VERSION when its normal queue is empty. The
claim is a lease of its own (`upgrade_lease`, not claimable again before `upgrade_available_at`),
so the image stays `encoded` and searchable with its old fingerprints until the new ones replace
them in one transaction. A lease that is never reported (Coco killed) expires; the image is
claimed again. A failed image waits the retry delay (transient) or is left at its old version
until the version changes again (permanent: its file is gone and it has no thumbnail).
"""
from __future__ import annotations

import uuid

from flask import current_app
from sqlalchemy import bindparam, text

from booru.errors import Conflict
from booru.extensions import db
from booru.func.images import write_dhashes, write_histograms, write_regions
from booru.func.thumbnails import decode_thumbnail, write_thumbnails

NEVER = "infinity"


def claim_upgrades(limit: int, version: int) -> list[dict]:
    """Lease up to `limit` encoded images fingerprinted below `version`, oldest id first."""
    token = str(uuid.uuid4())
    rows = db.session.execute(text("""
        WITH picked AS (
            SELECT id FROM image
            WHERE state = 'encoded' AND fingerprint_version < :version
              AND (upgrade_available_at IS NULL OR upgrade_available_at <= now())
            ORDER BY fingerprint_version, id LIMIT :limit
            FOR UPDATE SKIP LOCKED)
        UPDATE image i SET upgrade_lease = :lease,
               upgrade_available_at = now() + make_interval(secs => :seconds)
        FROM picked WHERE i.id = picked.id
        RETURNING i.id, i.url, EXISTS (SELECT 1 FROM thumbnail t JOIN image o ON o.id = t.id
                                      WHERE o.id = i.id OR o.sha256 = i.sha256) AS thumbnail"""),
        {"version": version, "limit": limit, "lease": token,
         "seconds": current_app.config["SETTINGS"].lease_seconds}).all()
    db.session.commit()
    return [{"id": row.id, "url": row.url, "lease": token, "thumbnail": row.thumbnail} for row in rows]


def _held(reports: list[dict]) -> None:
    """Lock the reported images still leased with the presented token; 409 if any is not."""
    wanted = {(int(r["id"]), str(r["lease"])) for r in reports}
    rows = db.session.execute(text(
        "SELECT id, upgrade_lease::text AS lease FROM image WHERE id IN :ids FOR UPDATE").bindparams(
        bindparam("ids", expanding=True)), {"ids": [r["id"] for r in reports]})
    held = {(row.id, row.lease) for row in rows}
    stale = sorted(str(i) for i, lease in wanted if (i, lease) not in held)
    if stale:
        db.session.rollback()
        raise Conflict("these upgrade leases are no longer held: " + ", ".join(stale), {"stale": stale})


def record_upgrades(items: list[dict]) -> dict[str, int]:
    """Replace leased images' fingerprints with the new version's, in one transaction."""
    unique = list({item["id"]: item for item in items}.values())
    _held(unique)
    write_histograms([{"id": i["id"], **i["histogram"]} for i in unique])
    write_dhashes([{"id": i["id"], **i["dhash"]} for i in unique])
    write_thumbnails([decode_thumbnail(i["thumbnail"], i["id"]) for i in unique if i.get("thumbnail")])
    write_regions([i for i in unique if i.get("regions")])
    db.session.execute(text("UPDATE image SET fingerprint_version = :version, upgrade_lease = NULL, "
                            "upgrade_available_at = NULL WHERE id = :id"),
                       [{"id": i["id"], "version": i["version"]} for i in unique])
    db.session.commit()
    return {"updated": len(unique)}


def upgrades_failed(reports: list[dict]) -> int:
    """Leased images that could not be re-fingerprinted: retried after the delay, or (permanent)
    left at their version."""
    unique = list({r["id"]: r for r in reports}.values())
    _held(unique)
    delay = current_app.config["SETTINGS"].retry_delay
    db.session.execute(text("""
        UPDATE image SET upgrade_lease = NULL,
               upgrade_available_at = CASE WHEN :permanent THEN 'infinity'::timestamptz
                                           ELSE now() + make_interval(secs => :delay) END
        WHERE id = :id"""), [{"id": r["id"], "permanent": bool(r.get("permanent")),
                               "delay": r.get("retry_after") or delay} for r in unique])
    db.session.commit()
    return len(unique)


def release_upgrades(reports: list[dict]) -> int:
    """Give leased images back untouched (Coco stopping): claimable again at once."""
    unique = list({r["id"]: r for r in reports}.values())
    _held(unique)
    db.session.execute(text("UPDATE image SET upgrade_lease = NULL, upgrade_available_at = NULL WHERE id = :id"),
                       [{"id": r["id"]} for r in unique])
    db.session.commit()
    return len(unique)


def versions() -> dict[int, int]:
    """Encoded images by fingerprint version."""
    rows = db.session.execute(text("SELECT coalesce(fingerprint_version, 1) AS v, count(*) AS n FROM image "
                                   "WHERE state = 'encoded' GROUP BY 1"))
    return {row.v: row.n for row in rows}
