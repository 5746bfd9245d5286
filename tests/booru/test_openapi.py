"""The OpenAPI document covers every route, and the API keeps to it under generated requests."""
from __future__ import annotations

import dataclasses

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from booru.api.openapi import build_spec
from tests.booru.helpers import add_subreddit, seed_images, submission
from tests.fakenet import Response


def test_the_document_lists_every_route_with_its_security(app, api):
    response = api.get("/api/openapi.json", role="reader")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["ApiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    documented = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and not rule.endpoint.startswith("web."):  # /api/docs is a page
            path = rule.rule
            for converter in ("<string:", "<int:", "<"):
                path = path.replace(converter, "{")
            path = path.replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, path) in documented
    health = spec["paths"]["/api/health"]["get"]
    assert health["security"] == []
    claim = spec["paths"]["/api/link/claim"]["post"]
    assert claim["security"] == [{"ApiKey": []}]
    assert {"401", "403", "422", "503"} <= set(claim["responses"])
    assert "requestBody" in claim
    assert spec == build_spec(app)


@pytest.fixture
def api_schema(app, api, keys, fakenet):
    """The document as a schemathesis schema, over an archive with a little of everything."""
    settings_ = app.config["SETTINGS"]
    app.config["SETTINGS"] = dataclasses.replace(settings_, greg_source="arctic_shift")

    def known_subreddit(request):
        name = request.query.get("subreddit", "x")
        return Response(json={"data": [{"display_name": name, "created_utc": 1300000000}]})

    fakenet.route("GET", f"{settings_.arctic_shift_url}/api/subreddits/search", handler=known_subreddit)
    add_subreddit(app, "art")
    api.post("/api/submission", json={"submissions": [submission("abc12", "art")]})
    seed_images(api, app, 3)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers={"X-API-Key": keys["admin"]})


@pytest.mark.slow
def test_generated_requests_get_no_5xx_and_match_the_document(api_schema, keys):
    """Every operation, with bounded generated examples (valid and invalid), through the real app."""
    headers = {"X-API-Key": keys["admin"]}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=8, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(case):
                if case.meta.generation.mode is GenerationMode.POSITIVE:
                    # no 5xx and answers as documented; a documented 422 (an upload that is not an
                    # image, an id that does not exist) is a right answer to schema-valid input
                    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
                else:  # invalid requests: any documented refusal, never a server error
                    response = case.call(headers=headers)
                    assert response.status_code < 500, (case.method, case.path, response.text)

            try:
                check()
            except Unsatisfiable:  # nothing can be invalid about it (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE, operation.label
