"""Danbooru 2 read API at the site root (/posts.json, /posts/<id>.json, /tags.json,
/counts/posts.json), so Danbooru clients (gallery-dl, Grabber, ...) can browse the archive."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask_restful import Resource
from marshmallow import ValidationError, fields, validate

from booru.api.archive import EVERYONE
from booru.api.base import instance, query, responds
from booru.auth import requires
from booru.errors import ApiError
from booru.func import danbooru
from booru.schemas import Base

# Danbooru's `error` names for what its clients may tell apart
ERROR_NAMES = {401: "SessionLoader::AuthenticationFailure", 403: "User::PrivilegeError",
               404: "ActiveRecord::RecordNotFound", 410: "PaginationExtension::PaginationError"}


def danbooru_error(status: int, message: str, errors: dict | None = None) -> tuple[dict, int]:
    """Danbooru's error answer (`success`, `error`, `message`), with the project's `errors` too."""
    answer = {"success": False, "error": ERROR_NAMES.get(status, "ArgumentError"), "message": message}
    if errors:
        answer["errors"] = errors
    return answer, status


def danbooru_errors(method: Callable) -> Callable:
    """Answer refusals (keys included) in Danbooru's error shape."""
    @wraps(method)
    def answered(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ApiError as exc:
            return danbooru_error(exc.status, exc.message, exc.errors)
        except ValidationError as exc:
            errors = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            return danbooru_error(422, "the request is not valid", errors)

    return answered


# -- shapes -------------------------------------------------------------------

_TAGS = {"description": "space-separated: `tag`, `-tag`, `character:name` (a tag without namespace is found "
                        "in any of Danbooru's categories), `id:`, `md5:`, `rating:`, `order:id`/`order:id_desc`"}
def _limit(maximum: int) -> dict:
    """A Danbooru limit's documentation: clamped, not refused, as Danbooru does (so no schema
    maximum, which would call a larger value invalid)."""
    return {"description": f"1 to {maximum}; out-of-range values are taken as the nearest allowed one",
            "default": danbooru.DEFAULT_LIMIT}


class PostsQuery(Base):
    tags = fields.String(load_default="", metadata=_TAGS)
    limit = fields.Integer(metadata=_limit(danbooru.MAX_POST_LIMIT))
    page = fields.String(validate=validate.Regexp(danbooru.PAGE, error="a number, b<id> or a<id>"),
                         metadata={"description": f"a page number (at most {danbooru.MAX_PAGE}), `b<id>` "
                                                  "(posts below id) or `a<id>` (posts above id)"})


class CountsQuery(Base):
    tags = fields.String(load_default="", metadata=_TAGS)


class TagsQuery(Base):
    name_matches = fields.String(data_key="search[name_matches]", validate=validate.Length(max=300),
                                 metadata={"description": "`*` matches anything, e.g. `lara_*`"})
    category = fields.Integer(data_key="search[category]", validate=validate.OneOf(list(danbooru.CATEGORY_NAMES)),
                              metadata={"description": "0 general, 1 artist, 3 copyright, 4 character, 5 meta"})
    order = fields.String(data_key="search[order]", load_default="count",
                          validate=validate.OneOf(list(danbooru.TAG_ORDERS)))
    limit = fields.Integer(metadata=_limit(danbooru.MAX_TAG_LIMIT))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


PAGE_LIMIT = f"a page number beyond {danbooru.MAX_PAGE}"
_TIME, _COUNT, _FLAG = fields.DateTime, fields.Integer, fields.Boolean
DanbooruPostSchema = Base.from_dict({
    "id": fields.Integer(required=True), "created_at": _TIME(), "uploader_id": _COUNT(), "score": _COUNT(),
    "source": fields.String(metadata={"description": "the image's source URL, else its Reddit post"}),
    "md5": fields.String(allow_none=True), "last_comment_bumped_at": _TIME(allow_none=True),
    "rating": fields.String(validate=validate.OneOf(list(danbooru.SEVERITY)), metadata={
        "description": "the most explicit `rating:` tag; without one `e` for NSFW posts, else `g`"}),
    "image_width": _COUNT(allow_none=True), "image_height": _COUNT(allow_none=True), "tag_string": fields.String(),
    "is_note_locked": _FLAG(), "fav_count": _COUNT(), "file_ext": fields.String(),
    "last_noted_at": _TIME(allow_none=True), "is_rating_locked": _FLAG(), "parent_id": _COUNT(allow_none=True),
    "has_children": _FLAG(), "approver_id": _COUNT(allow_none=True),
    **{f"tag_count_{c}": _COUNT() for c in ("general", "artist", "character", "copyright")},
    "file_size": _COUNT(allow_none=True), "is_status_locked": _FLAG(), "pool_string": fields.String(),
    "up_score": _COUNT(), "down_score": _COUNT(), "is_pending": _FLAG(), "is_flagged": _FLAG(),
    "is_deleted": _FLAG(), "tag_count": _COUNT(), "updated_at": _TIME(), "is_banned": _FLAG(),
    "pixiv_id": _COUNT(allow_none=True), "last_commented_at": _TIME(allow_none=True),
    "has_active_children": _FLAG(), "bit_flags": _COUNT(), "tag_count_meta": _COUNT(), "has_large": _FLAG(),
    "has_visible_children": _FLAG(), "is_favorited": _FLAG(),
    **{f"tag_string_{c}": fields.String() for c in ("general", "character", "copyright", "artist", "meta")},
    "file_url": fields.String(), "large_file_url": fields.String(), "preview_file_url": fields.String(),
}, name="DanbooruPost")

DanbooruTagSchema = Base.from_dict({
    "id": fields.Integer(required=True), "name": fields.String(), "post_count": fields.Integer(),
    "category": fields.Integer(validate=validate.OneOf(list(danbooru.CATEGORY_NAMES))),
    "created_at": fields.DateTime(metadata={"description": "when its first archived post was added"}),
    "updated_at": fields.DateTime(), "is_deprecated": fields.Boolean(),
}, name="DanbooruTag")

DanbooruCountsSchema = Base.from_dict({
    "counts": fields.Nested(Base.from_dict({"posts": fields.Integer(required=True)}, name="DanbooruCount")),
}, name="DanbooruCounts")


# -- routes -------------------------------------------------------------------

class DanbooruResource(Resource):
    method_decorators = [danbooru_errors]


class DanbooruPosts(DanbooruResource):
    @requires(*EVERYONE)
    @query(PostsQuery)
    @responds(DanbooruPostSchema(many=True), description="posts (archived images), newest first")
    @responds(None, 410, PAGE_LIMIT)
    def get(self, args):
        """Danbooru: search posts."""
        posts = danbooru.list_posts(args["tags"], args.get("limit"), args.get("page"))
        return instance(DanbooruPostSchema).dump(posts, many=True), 200


class DanbooruPost(DanbooruResource):
    @requires(*EVERYONE)
    @responds(DanbooruPostSchema)
    def get(self, post_id):
        """Danbooru: one post."""
        return instance(DanbooruPostSchema).dump(danbooru.get_post(post_id)), 200


class DanbooruPostCounts(DanbooruResource):
    @requires(*EVERYONE)
    @query(CountsQuery)
    @responds(DanbooruCountsSchema)
    def get(self, args):
        """Danbooru: how many posts a tag search finds."""
        return {"counts": {"posts": danbooru.count_posts(args["tags"])}}, 200


class DanbooruTags(DanbooruResource):
    @requires(*EVERYONE)
    @query(TagsQuery)
    @responds(DanbooruTagSchema(many=True), description="tags that have archived posts")
    @responds(None, 410, PAGE_LIMIT)
    def get(self, args):
        """Danbooru: search tags."""
        tags = danbooru.list_tags(args.get("name_matches"), args.get("category"), args["order"],
                                  args.get("limit"), args["page"])
        return instance(DanbooruTagSchema).dump(tags, many=True), 200
