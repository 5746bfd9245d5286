"""/api/docs: the OpenAPI document as a page, rendered on the server from the generated document."""
from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for

from booru.api.openapi import document
from booru.web.blueprint import web

METHOD_ORDER = ("get", "post", "put", "delete")
REF_PREFIX = "#/components/schemas/"


@web.app_template_filter("schema_type")
def schema_type(schema: dict[str, Any] | None) -> str:
    """A short type for a schema: `integer`, `array of Image`, `Image`, `string (one of a, b)`."""
    if not schema:
        return ""
    if "$ref" in schema:
        return schema["$ref"].removeprefix(REF_PREFIX)
    if "allOf" in schema and schema["allOf"]:
        return schema_type(schema["allOf"][0])
    kind = schema.get("type", "object")
    if kind == "array":
        return "array of " + schema_type(schema.get("items"))
    if "enum" in schema:
        return f"{kind} (one of {', '.join(map(str, schema['enum']))})"
    if schema.get("format"):
        return f"{kind} ({schema['format']})"
    return kind


def operations(spec: dict) -> list[dict]:
    """Every operation, by path then method, with what the page shows of it."""
    found = []
    for path, methods in spec.get("paths", {}).items():
        for method in METHOD_ORDER:
            operation = methods.get(method)
            if operation is None:
                continue
            body = {media: content.get("schema") for media, content in
                    operation.get("requestBody", {}).get("content", {}).items()}
            found.append({"method": method.upper(), "path": path, "anchor": f"{method}-{path}",
                          "summary": operation.get("summary", ""), "description": operation.get("description", ""),
                          "public": operation.get("security") == [],
                          "parameters": operation.get("parameters", []), "body": body,
                          "responses": sorted(operation.get("responses", {}).items())})
    return found


@web.get("/api")
def api_root():
    return redirect(url_for("web.api_docs"))


@web.get("/api/docs")
def api_docs():
    spec = document()
    return render_template("api_docs.html", spec=spec, operations=operations(spec),
                           schemas=sorted(spec.get("components", {}).get("schemas", {}).items()))
