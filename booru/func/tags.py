"""Hydrus-style namespaced tags: `character:lara_croft`, `rating:explicit`, or plain `landscape`."""
from __future__ import annotations

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert

from booru.errors import Unusable
from booru.extensions import db
from booru.models import ImageTag, Tag


def split_tag(tag: str) -> tuple[str, str]:
    """`series:tomb_raider` -> ("series", "tomb_raider"); `landscape` -> ("", "landscape")."""
    tag = tag.strip().lower().replace(" ", "_")
    namespace, sep, name = tag.partition(":")
    if not sep or not name:
        return "", tag
    return namespace, name


def join_tag(namespace: str, name: str) -> str:
    return f"{namespace}:{name}" if namespace else name


def tag_images(image_tags: dict[int, list[str]]) -> None:
    """Attach tags to images, creating the tags that are new."""
    pairs = {(image_id, split_tag(tag)) for image_id, tags in image_tags.items() for tag in tags if tag.strip()}
    if not pairs:
        return
    wanted = sorted({tag for _, tag in pairs})
    db.session.execute(insert(Tag.__table__).on_conflict_do_nothing(),
                       [{"namespace": ns, "name": name[:255]} for ns, name in wanted])
    ids = {(row.namespace, row.name): row.id for row in db.session.execute(
        select(Tag.id, Tag.namespace, Tag.name).where(
            db.tuple_(Tag.namespace, Tag.name).in_([(ns, name[:255]) for ns, name in wanted])))}
    db.session.execute(insert(ImageTag.__table__).on_conflict_do_nothing(),
                       [{"image_id": image_id, "tag_id": ids[(ns, name[:255])]} for image_id, (ns, name) in pairs])


def tags_of(image_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in image_ids}
    if not image_ids:
        return found
    rows = db.session.execute(select(ImageTag.image_id, Tag.namespace, Tag.name).join(Tag)
                              .where(ImageTag.image_id.in_(image_ids)).order_by(Tag.namespace, Tag.name))
    for image_id, namespace, name in rows:
        found[image_id].append(join_tag(namespace, name))
    return found


def tag_filter(query: str, image_id_column):
    """SQL conditions for a tag query: every plain term required, every `-term` excluded."""
    conditions = []
    for term in query.split():
        negate = term.startswith("-")
        namespace, name = split_tag(term.lstrip("-"))
        if not name:
            raise Unusable(f"empty tag in {query!r}", {"tags": ["empty tag"]})
        has_tag = exists().where(and_(ImageTag.image_id == image_id_column, ImageTag.tag_id == Tag.id,
                                      Tag.namespace == namespace, Tag.name == name))
        conditions.append(~has_tag if negate else has_tag)
    return conditions
