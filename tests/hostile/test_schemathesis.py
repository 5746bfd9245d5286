"""Property-based fuzzing of the documented API (schemathesis over /api/openapi.json): invalid
input (negative data) is refused with a 4xx, and nothing answers 5xx. Bounded: a fixed number of
examples per operation, derandomized, so a run takes the same time and finds the same cases."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection

from booru import auth

# Operations that reach the outside world (a subreddit is checked with Reddit, a URL is fetched):
# the fuzzer has no fake internet; their input checks have their own tests.
OUTSIDE = {("POST", "/api/subreddit"), ("POST", "/api/similarity/url"), ("GET", "/api/similarity/url")}
EXAMPLES = {GenerationMode.NEGATIVE: 30, GenerationMode.POSITIVE: 10}


def _operations(app, key: str) -> list:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app, headers={auth.HEADER: key})
    schema.config.generation.update(allow_extra_parameters=False)  # unknown query parameters are ignored, by design
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if (op.method.upper(), op.path) not in OUTSIDE]


@pytest.mark.parametrize("mode", [GenerationMode.NEGATIVE, GenerationMode.POSITIVE])
def test_fuzzed_requests_get_no_5xx_and_invalid_ones_a_4xx(app, mode):
    with app.app_context():
        key = auth.create_key("admin", "fuzzer")[1]  # every route open to it, no quota
    failures: list[str] = []
    for operation in _operations(app, key):
        @settings(max_examples=EXAMPLES[mode], deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode, headers={auth.HEADER: key}))
        def check(case) -> None:
            try:
                case.call_and_validate(checks=[not_a_server_error, negative_data_rejection])
            except Exception as exc:
                failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
                raise

        try:
            check()
        except Unsatisfiable:
            pass  # nothing to make invalid (no parameters, no body)
        except Exception:
            pass  # collected above; every operation is fuzzed before the test fails
    assert not failures, "\n".join(failures)
