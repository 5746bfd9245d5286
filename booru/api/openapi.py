"""/api/openapi.json: the OpenAPI 3 document, built from the resources' schemas and roles."""
from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app
from flask_restful import Resource

from booru.api.base import responds
from booru.auth import HEADER, public
from booru.models import LINK_TYPES
from booru.schemas import POST_ID, SUBREDDIT_NAME, ErrorSchema

ERRORS = {
    400: "malformed request (not JSON, bad multipart)",
    401: "missing, unknown or revoked API key",
    403: "the key's role may not do this",
    404: "no such resource",
    413: "the body is too large",
    422: "well-formed but unusable (validation errors per field)",
    503: "the database is unavailable",
}
METHODS = ("get", "post", "put", "delete")


PATH_PARAMETERS = {
    "name": {"type": "string", "pattern": SUBREDDIT_NAME.regex.pattern},
    "submission_id": {"type": "string", "pattern": POST_ID.regex.pattern},
    "link_type": {"type": "string", "enum": [*LINK_TYPES, "unsupported"]},
    "image_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
    "post_id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
}


def _path(rule: str) -> tuple[str, list[dict]]:
    """Flask's /a/<int:x> -> OpenAPI's /a/{x} with its path parameters."""
    parameters = []
    for _, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        parameters.append({"in": "path", "name": name, "required": True, "schema": PATH_PARAMETERS[name]})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), parameters


def _operation(method, path_parameters: list[dict]) -> dict:
    doc = getattr(method, "api_doc", {"responses": {}})
    roles = getattr(method, "roles", None)
    operation: dict = {"summary": (method.__doc__ or "").strip().split("\n")[0] or None,
                       "parameters": list(path_parameters), "responses": {}}
    if "query" in doc:
        operation["parameters"].append({"in": "query", "schema": doc["query"]})
    if "body" in doc:
        schema, location = doc["body"]
        media = "application/x-www-form-urlencoded" if location == "form" else "application/json"
        operation["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}
    if "multipart" in doc:
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": doc["multipart"]}}}
    for status, (schema, description) in doc["responses"].items():
        answer: dict = {"description": description or "success"}
        if schema is not None:
            answer["content"] = {"application/json": {"schema": schema}}
        elif status >= 400:
            answer["content"] = {"application/json": {"schema": "Error"}}
        operation["responses"][str(status)] = answer
    errors = dict(ERRORS)
    if roles is None:
        operation["security"] = []
        errors = {503: ERRORS[503]}
    else:
        operation["security"] = [{"ApiKey": []}]
        operation["description"] = "Roles: " + ", ".join(sorted(roles))
    for status, description in errors.items():
        operation["responses"].setdefault(str(status), {
            "description": description, "content": {"application/json": {"schema": "Error"}}})
    if operation["summary"] is None:
        del operation["summary"]
    return operation


def build_spec(app: Flask) -> dict:
    spec = APISpec(title="LZBooru API", version="1.0.0", openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Reddit image archive with reverse image search."})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.security_scheme("ApiKey", {"type": "apiKey", "in": "header", "name": HEADER})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        resource = getattr(view, "view_class", None)
        if resource is None or not issubclass(resource, Resource):
            continue
        path, parameters = _path(rule.rule)
        operations = {m: _operation(getattr(resource, m), parameters) for m in METHODS if hasattr(resource, m)}
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def document() -> dict:
    """The app's OpenAPI document, built once per process."""
    if "OPENAPI" not in current_app.extensions:
        current_app.extensions["OPENAPI"] = build_spec(current_app)
    return current_app.extensions["OPENAPI"]


class OpenApi(Resource):
    @public
    @responds(None, 200, "this document")
    def get(self):
        """The OpenAPI 3 document of this API (open to everyone; also readable at /api/docs)."""
        return document(), 200
