"""Reverse image search: POST /api/similarity/url and /api/similarity/file, and
GET /api/similarity/url?url= for links, and GET /api/similarity/posts to page through every post of
one picture.

As the seed's clients call them (form field `url`, multipart field `image`, `?algorithm=&q=`),
plus JSON bodies and `max_distance`. Parameters may come in the query string or the body;
the body wins. Every failure to get a usable image (unreachable, refused or non-public
address, not an image, too many pixels) is 422 with the reason under `errors.url` or
`errors.image`: the request was well-formed but its image cannot be used.
"""
from __future__ import annotations

from typing import Callable

from flask import current_app, request
from flask_restful import Resource
from marshmallow import Schema

from booru.api.archive import EVERYONE
from booru.api.base import api_doc, dump, instance, json_body, query, responds, without_nul
from booru import quota
from booru.auth import requires
from booru.errors import ApiError, Malformed, NotFound, Unusable
from booru.func.similarity import fetch_image, fingerprint_query, search_fingerprint
from booru.func.similarity.results import PostFilter, picture_posts
from booru.schemas import (ALGORITHMS, SimilarityPostsQuery, SimilarityPostsSchema, SimilarityQuery, SimilaritySchema,
                           SimilarityUrlSchema)

FILTERS = ("subreddit", "author", "nsfw", "after", "before")
PARAMETERS = ("algorithm", "q", "max_distance", "posts_limit", *FILTERS)
FILE_FORM = {
    "type": "object",
    "required": ["image"],
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "the query image (JPEG, PNG, GIF, WEBP)"},
        "algorithm": {"type": "string", "enum": list(ALGORITHMS)},
        "q": {"type": "integer", "minimum": 1, "maximum": 100},
        "max_distance": {"type": "number", "minimum": 0},
        "posts_limit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "subreddit": {"type": "string"},
        "author": {"type": "string"},
        "nsfw": {"type": "boolean"},
        "after": {"type": "string", "format": "date-time"},
        "before": {"type": "string", "format": "date-time"},
    },
}


def multipart(schema: dict) -> Callable:
    """Document a multipart/form-data body (no behaviour; the resource reads request.files)."""

    def decorate(method: Callable) -> Callable:
        api_doc(method)["multipart"] = schema
        return method

    return decorate


def _body_fields() -> dict:
    """The JSON object or the form fields sent, whichever the request carries."""
    if request.is_json:
        data = json_body()
        if not isinstance(data, dict):
            raise Malformed("the body must be a JSON object")
        return data
    return request.form.to_dict()


def _parameters(schema: type[Schema], fields: dict) -> dict:
    """Query string merged with the body's fields (the body wins), validated by `schema`."""
    merged = {k: v for k, v in request.args.to_dict().items() if k in PARAMETERS}
    merged.update(fields)
    return without_nul(instance(schema).load(merged))


def _filter(params: dict) -> PostFilter:
    return PostFilter(**{name: params.get(name) for name in FILTERS})


def _answer(found, params: dict):
    return dump(SimilaritySchema, search_fingerprint(found, params["algorithm"], params["q"], params.get("max_distance"),
                                                     _filter(params), params["posts_limit"]))


class SimilarityUrl(Resource):
    @requires(*EVERYONE, cost=quota.SEARCH)
    @query(SimilarityUrlSchema)
    @responds(SimilaritySchema, description="images like the one at `url`, nearest first")
    def get(self, args):
        """Search by image URL given as `?url=` (for links, bookmarklets, a browser's "search image with")."""
        data = fetch_image(args["url"].strip())
        return _answer(fingerprint_query(data, "url"), args)

    @requires(*EVERYONE, cost=quota.SEARCH)
    @query(SimilarityQuery)
    @responds(SimilaritySchema, description="images like the one at `url`, nearest first")
    def post(self, args):
        """Search by image URL (form field or JSON `url`); the image is fetched safely."""
        params = _parameters(SimilarityUrlSchema, _body_fields())
        data = fetch_image(params["url"].strip())
        return _answer(fingerprint_query(data, "url"), params)


api_doc(SimilarityUrl.post)["body"] = (SimilarityUrlSchema, "json")


class SimilarityFile(Resource):
    @requires(*EVERYONE, cost=quota.SEARCH)
    @query(SimilarityQuery)
    @multipart(FILE_FORM)
    @responds(SimilaritySchema, description="images like the uploaded one, nearest first")
    def post(self, args):
        """Search by uploaded image (multipart field `image`)."""
        upload = request.files.get("image")
        if upload is None:
            raise Unusable("no image: send the file as multipart/form-data field `image`",
                           {"image": ["missing"]})
        params = _parameters(SimilarityQuery, {k: v for k, v in request.form.to_dict().items() if k in PARAMETERS})
        limit = current_app.config["SETTINGS"].max_image_bytes
        data = upload.read(limit + 1)
        if len(data) > limit:
            raise ApiError(f"the image is larger than {limit} bytes", status=413)
        if not data:
            raise Unusable("the uploaded image is empty", {"image": ["empty file"]})
        return _answer(fingerprint_query(data, "image"), params)


class SimilarityPosts(Resource):
    @requires(*EVERYONE)
    @query(SimilarityPostsQuery)
    @responds(SimilarityPostsSchema, description="one page of the picture's posts, oldest first")
    def get(self, args):
        """Every post of the picture that image `image` is (same sha256), oldest first, paged by `cursor`."""
        page = picture_posts(args["image"], _filter(args), args["limit"], args["cursor"])
        if page is None:
            raise NotFound(f"no image {args['image']}")
        return dump(SimilarityPostsSchema, page)
