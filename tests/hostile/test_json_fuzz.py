"""Arbitrary JSON at every route that takes a body: deep nesting, any Unicode (lone UTF-16
surrogates included) and any shape get a JSON 4xx or a 2xx, never a 5xx. Bounded: a fixed number
of derandomized examples per route."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROUTES = [("POST", "/api/submission"), ("POST", "/api/image"), ("PUT", "/api/image"), ("DELETE", "/api/image"),
          ("POST", "/api/link"), ("PUT", "/api/link"), ("DELETE", "/api/link"), ("POST", "/api/link/claim"),
          ("POST", "/api/image/claim"), ("POST", "/api/image/fingerprints"), ("POST", "/api/histogram"),
          ("POST", "/api/dhash"), ("POST", "/api/chapter"), ("PUT", "/api/subreddit/pics"),
          ("POST", "/api/link/release"), ("POST", "/api/image/release")]
KEYS = ["submissions", "links", "images", "items", "daemon", "counts", "elapsed", "id", "lease", "url", "tags"]

any_text = st.text(st.characters(codec=None, categories=["Cs"]) | st.characters(), max_size=12)
leaves = st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | any_text
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS) | any_text, inner, max_size=3), max_leaves=12)
deep = st.sampled_from([2, 20, 999, 1000, 5000]).map(lambda depth: "[" * depth + "]" * depth)


def body(shape) -> st.SearchStrategy[str]:
    """A JSON text: an object with the routes' keys holding anything, or something deep."""
    structured = st.dictionaries(st.sampled_from(KEYS), shape, max_size=4).map(json.dumps)
    nested = st.tuples(st.sampled_from(KEYS), deep).map(lambda kv: f'{{"{kv[0]}": {kv[1]}}}')
    return structured | nested | shape.map(json.dumps)


@pytest.mark.parametrize("method, path", ROUTES)
def test_any_json_gets_no_5xx(api, method, path):
    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(text=body(values))
    def check(text: str) -> None:
        response = api.request(method, path, role="admin", data=text, content_type="application/json")
        assert response.status_code < 500, (text[:200], response.get_data(as_text=True)[:300])
        assert response.mimetype == "application/json"

    check()


def test_the_strategy_makes_what_broke_booru():
    """The generator reaches lone surrogates and nesting past Python's recursion limit."""
    assert "\\ud8" in json.dumps("\ud800")
    found = {"surrogate": False, "deep": False}

    @settings(max_examples=300, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(text=body(values))
    def look(text: str) -> None:
        found["surrogate"] |= "\\ud8" in text or "\\udc" in text or "\\udf" in text
        found["deep"] |= text.count("[") > 1000

    look()
    assert all(found.values()), found
