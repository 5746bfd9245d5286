"""The data model. The schema itself is created only by the migrations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (ARRAY, BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer,
                        LargeBinary, SmallInteger, String, Text, UniqueConstraint, func, text)
from sqlalchemy.dialects.postgresql import BIT, UUID
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import UserDefinedType

from booru.extensions import db
from common.links import LINK_TYPES

LINK_STATES = ("pending", "claimed", "done", "failed", "dead", "unsupported")
IMAGE_STATES = ("pending", "claimed", "encoded", "failed")
ROLES = ("admin", "greg", "parsa", "coco", "reader")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=name)


class Subreddit(db.Model):
    __tablename__ = "subreddit"
    name: Mapped[str] = mapped_column(String(21), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(String(32))
    backfilled_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_polled: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Submission(db.Model):
    __tablename__ = "submission"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    author: Mapped[str | None] = mapped_column(String(20))
    subreddit: Mapped[str] = mapped_column(ForeignKey("subreddit.name", ondelete="CASCADE", onupdate="CASCADE"))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    flair: Mapped[str | None] = mapped_column(String(64))
    nsfw: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    removed: Mapped[str | None] = mapped_column(String(32))
    crosspost_parent: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (Index("ix_submission_subreddit_created", "subreddit", "created"),
                      Index("ix_submission_author", "author"))


class LeasedMixin:
    """State plus the lease a worker holds while it processes the row."""

    lease: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    lease_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tries: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Link(LeasedMixin, db.Model):
    __tablename__ = "link"
    id: Mapped[str] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    type: Mapped[str | None] = mapped_column(String(16))
    last_visited: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    priority: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    state: Mapped[str] = mapped_column(String(12), server_default="pending")
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        _one_of("type", LINK_TYPES, "type"),
        _one_of("state", LINK_STATES, "state"),
        Index("ix_link_claimable", "type", "priority", "available_at",
              postgresql_where=text("state IN ('pending', 'failed', 'claimed')")),
        Index("ix_link_state", "state"),
    )


class Image(LeasedMixin, db.Model):
    __tablename__ = "image"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    sha256: Mapped[str | None] = mapped_column(String(64))
    md5: Mapped[str | None] = mapped_column(String(32))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int | None] = mapped_column(BigInteger)
    mime: Mapped[str | None] = mapped_column(String(32))
    source_url: Mapped[str | None] = mapped_column(Text)
    posted: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(12), server_default="pending")
    last_error: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # how its fingerprints were computed (common.fingerprint.FINGERPRINT_VERSION; None: not yet),
    # and the lease of a background re-fingerprinting (migration 0003)
    fingerprint_version: Mapped[int | None] = mapped_column(SmallInteger)
    upgrade_lease: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    upgrade_available_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("submission_id", "url"),
        _one_of("state", IMAGE_STATES, "state"),
        Index("ix_image_claimable", "available_at", postgresql_where=text("state IN ('pending', 'claimed')")),
        Index("ix_image_state", "state"),
        Index("ix_image_md5", "md5"),
        Index("ix_image_sha256", "sha256"),
        Index("ix_image_url", "url"),
        Index("ix_image_fingerprint_version", "fingerprint_version", "id", postgresql_where=text("state = 'encoded'")),
    )


class Xid8(UserDefinedType):
    """PostgreSQL's 64-bit transaction id; set by a trigger on fingerprint rows (migration 0002)."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "xid8"


ischema_names["xid8"] = Xid8  # so reflection (migration checks) knows the type


class FingerprintMixin:
    """The transaction that last wrote the row, so in-memory search indexes can follow changes."""

    written_xid: Mapped[str | None] = mapped_column(Xid8, index=True)


class Histogram(FingerprintMixin, db.Model):
    __tablename__ = "histogram"
    id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), primary_key=True)
    red: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    green: Mapped[list[int]] = mapped_column(ARRAY(Integer))
    blue: Mapped[list[int]] = mapped_column(ARRAY(Integer))


class Thumbnail(db.Model):
    """A small JPEG of the image (common.fingerprint.Thumbnail), made by Coco."""

    __tablename__ = "thumbnail"
    id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), primary_key=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Dhash(FingerprintMixin, db.Model):
    __tablename__ = "dhash"
    id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), primary_key=True)
    red: Mapped[str] = mapped_column(BIT(64))
    green: Mapped[str] = mapped_column(BIT(64))
    blue: Mapped[str] = mapped_column(BIT(64))


class RegionDhash(FingerprintMixin, db.Model):
    """The region dhashes of an image's thumbnail (common.regions.archive_dhashes): one row per
    image, the windows' 3 words each, in window order (the bits of a uint64 as a bigint)."""

    __tablename__ = "region_dhash"
    id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), primary_key=True)
    dhashes: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))


class Tag(db.Model):
    __tablename__ = "tag"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    namespace: Mapped[str] = mapped_column(String(32), server_default="")
    name: Mapped[str] = mapped_column(String(255))
    # a bare term in a tag query (`lara_croft`) matches the name in any namespace
    __table_args__ = (UniqueConstraint("namespace", "name"), Index("ix_tag_name", "name"))


class ImageTag(db.Model):
    __tablename__ = "image_tag"
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    __table_args__ = (Index("ix_image_tag_tag_id", "tag_id", "image_id"),)


class ApiKey(db.Model):
    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (_one_of("role", ROLES, "role"),)
