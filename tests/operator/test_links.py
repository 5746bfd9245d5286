"""Link classification lives in common.links: parsa's resolvers take their patterns from it, greg
and booru classify with it, links posted without a type are classified on arrival, and unsupported
links come back to the queue when a resolver can handle them."""
from __future__ import annotations

import subprocess
import sys

import psycopg2
import pytest

from common import links
from common.config import PROJECT_ROOT
from parsa import resolvers
from tests.booru.helpers import add_subreddit, submission
from tests.support import base_env

EXAMPLES = [(pattern, example) for pattern in links.PATTERNS for example in pattern.examples]


@pytest.mark.parametrize("pattern,example", EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_each_example_matches_its_own_pattern_only(pattern, example):
    url = links.normalize(example)
    assert [p.name for p in links.PATTERNS if p.regex.match(url)] == [pattern.name]
    assert links.classify(example) == pattern.type in links.LINK_TYPES


def test_parsa_resolves_exactly_the_shared_patterns():
    """One resolver module per pattern, holding the very same pattern object: they cannot disagree."""
    assert [module.LINKS.name for module in resolvers.RESOLVERS] == [p.name for p in links.PATTERNS]
    for module in resolvers.RESOLVERS:
        assert module.__name__ == f"parsa.resolvers.{module.LINKS.name}"
        assert module.pattern is module.LINKS.regex and module.type == module.LINKS.type
    for pattern, example in EXAMPLES:
        assert resolvers.find_resolver(example).LINKS is pattern


def test_greg_and_booru_classify_without_importing_parsa():
    code = ("import sys, greg.worker, greg.format, booru, booru.func.links, booru.func.submissions; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'parsa'))")
    result = subprocess.run([sys.executable, "-c", code], env=base_env(), cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _link(api, link_id: str) -> dict:
    return next(link for link in api.get("/api/link?limit=1000").json["items"] if link["id"] == link_id)


def test_links_without_a_type_are_classified_on_arrival(app, api):
    add_subreddit(app)
    posts = [submission("a1", links=[{"url": "https://imgur.com/a/5F5Cy"}]),
             submission("a2", links=[{"url": "https://v.redd.it/abcdef"}]),
             # an explicit null is the poster's word: greg sends it for self posts
             submission("a4", url="https://www.reddit.com/r/pics/comments/a4/some_text/", link_type=None)]
    assert api.post("/api/submission", json={"submissions": posts}).status_code == 200
    assert (_link(api, "a1")["type"], _link(api, "a1")["state"]) == ("imgur", "pending")
    assert (_link(api, "a2")["type"], _link(api, "a2")["state"]) == (None, "unsupported")
    assert (_link(api, "a4")["type"], _link(api, "a4")["state"]) == (None, "unsupported")
    api.post("/api/submission", json={"submissions": [submission("a3", links=[])]})
    response = api.post("/api/link", json={"links": [{"id": "a3", "url": "https://danbooru.donmai.us/posts/1"}]},
                        role="greg")
    assert response.status_code == 200, response.json
    assert (_link(api, "a3")["type"], _link(api, "a3")["state"]) == ("booru", "pending")


def _store_unsupported(database_uri: str, link_id: str, url: str) -> None:
    """A link an older version stored as unsupported (no pattern matched it then)."""
    with psycopg2.connect(database_uri) as connection, connection.cursor() as cursor:
        cursor.execute("UPDATE link SET type = NULL, state = 'unsupported', error = 'no resolver', url = %s "
                       "WHERE id = %s", (url, link_id))


def test_reposting_an_unsupported_link_with_a_type_queues_it(app, api, database_uri):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission("r1"), submission("r2")]})
    _store_unsupported(database_uri, "r1", "https://i.redd.it/r1.jpg")
    assert _link(api, "r1")["state"] == "unsupported"
    api.post("/api/submission", json={"submissions": [submission("r1")]})  # greg polls it again, typed
    assert (_link(api, "r1")["type"], _link(api, "r1")["state"]) == ("reddit", "pending")
    assert api.post("/api/link/claim", json={"limit": 10}, role="parsa").status_code == 200
    # a link parsa itself found unsupported (typed, e.g. a self post) is not sent round again
    with psycopg2.connect(database_uri) as connection, connection.cursor() as cursor:
        cursor.execute("UPDATE link SET state = 'unsupported', lease = NULL WHERE id = 'r2'")
    api.post("/api/submission", json={"submissions": [submission("r2")]})
    assert _link(api, "r2")["state"] == "unsupported"


def test_reclassify_queues_what_a_resolver_now_handles(app, api, database_uri):
    add_subreddit(app)
    api.post("/api/submission", json={"submissions": [submission(f"u{i}") for i in range(3)]})
    _store_unsupported(database_uri, "u0", "https://gelbooru.com/index.php?page=post&s=view&id=1")
    _store_unsupported(database_uri, "u1", "https://www.youtube.com/watch?v=abc")
    result = app.test_cli_runner().invoke(args=["links", "reclassify"])
    assert result.exit_code == 0, result.output
    assert "examined 2 unsupported links; 1 now have a resolver" in result.output
    assert (_link(api, "u0")["type"], _link(api, "u0")["state"]) == ("booru", "pending")
    assert (_link(api, "u1")["type"], _link(api, "u1")["state"]) == (None, "unsupported")
    _store_unsupported(database_uri, "u2", "https://i.imgur.com/zVpyzhW.gifv")
    setup = app.test_cli_runner().invoke(args=["setup", "--wait", "10"])  # what scripts/start runs
    assert setup.exit_code == 0, setup.output
    assert (_link(api, "u2")["type"], _link(api, "u2")["state"]) == ("imgur", "pending")
