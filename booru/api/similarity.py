"""Reverse image search: POST /api/similarity/url and /api/similarity/file (DESIGN.md §9).

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
from booru.api.base import api_doc, dump, instance, json_body, query, responds
from booru.auth import requires
from booru.errors import ApiError, Malformed, Unusable
from booru.func import search
from booru.schemas import ALGORITHMS, SimilarityQuery, SimilaritySchema, SimilarityUrlSchema

PARAMETERS = ("algorithm", "q", "max_distance")
FILE_FORM = {
    "type": "object",
    "required": ["image"],
    "properties": {
        "image": {"type": "string", "format": "binary", "description": "the query image (JPEG, PNG, GIF, WEBP)"},
        "algorithm": {"type": "string", "enum": list(ALGORITHMS)},
        "q": {"type": "integer", "minimum": 1, "maximum": 100},
        "max_distance": {"type": "number", "minimum": 0},
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
    return instance(schema).load(merged)


def _answer(found, params: dict):
    return dump(SimilaritySchema, search.search_fingerprint(found, params["algorithm"], params["q"],
                                                            params.get("max_distance")))


class SimilarityUrl(Resource):
    @requires(*EVERYONE)
    @query(SimilarityQuery)
    @responds(SimilaritySchema, description="images like the one at `url`, nearest first")
    def post(self, args):
        """Search by image URL (form field or JSON `url`); the image is fetched safely."""
        params = _parameters(SimilarityUrlSchema, _body_fields())
        data = search.fetch_image(params["url"].strip())
        return _answer(search.fingerprint_query(data, "url"), params)


api_doc(SimilarityUrl.post)["body"] = (SimilarityUrlSchema, "json")


class SimilarityFile(Resource):
    @requires(*EVERYONE)
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
        return _answer(search.fingerprint_query(data, "image"), params)
