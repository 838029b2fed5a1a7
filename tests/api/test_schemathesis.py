"""Property-based run over the OpenAPI schema (bounded): no 5xx, responses match the schema.

Every operation gets at most ``MAX_EXAMPLES`` generated requests (derandomised, so a run
is repeatable), sent as an admin (every route reachable) to an app on a seeded store,
and checked with schemathesis's default checks (status codes, content types, headers
and response bodies against the schema, schema-invalid input rejected, ...), with two
changes:

- ``not_a_server_error`` is replaced by :func:`no_server_error`, which is the same except
  for a 503 "not_available" from a library part that is genuinely absent from this
  build (``feature_status()``); with every part present (CI), any 5xx fails.
- ``positive_data_acceptance`` is off: the library validates content that JSON Schema
  cannot express (a curriculum's prerequisite cycles, duplicate answers in a batch,
  answers with neither an event id nor a timestamp) and answers 422 on purpose.

Schemathesis's own pytest plugin (``from_fixture``) does not work with pytest 9 (it
writes ``node._nodeid``), so operations are driven with their Hypothesis strategies.
"""

from __future__ import annotations

import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, positive_data_acceptance

from edu_recsys.store.serving import feature_status

warnings.filterwarnings("ignore", message=".*httpx2.*")

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12


def _operations() -> list[tuple[str, str]]:
    from api.main import create_app
    from api.settings import Settings

    app = create_app(Settings(db_url="sqlite://"))
    ops = [(m.upper(), p) for p, item in app.openapi()["paths"].items() for m in item]
    app.state.store.close()
    return ops


OPERATIONS = _operations()


MISSING = {name for name, present in feature_status().items() if not present}


def no_server_error(ctx, response, case):
    if response.status_code < 500:
        return None
    try:
        body = response.json()
    except Exception:
        body = {}
    body = body if isinstance(body, dict) else {}
    message = body.get("message", "")
    if response.status_code == 503 and body.get("error") == "not_available":
        if any(f"edu_recsys.{m}" in message for m in MISSING):
            return None  # that part is not in this build
    raise AssertionError(f"{response.status_code} from {case.operation.label}: {message}")


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_openapi_conformance(method, path, api_schema, api_admin_headers):
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(
            headers=api_admin_headers,
            excluded_checks=[not_a_server_error, positive_data_acceptance],
            additional_checks=[no_server_error],
        )

    run()


def test_every_route_is_exercised():
    paths = {p for _, p in OPERATIONS}
    for family in (
        "health",
        "graphs",
        "resources",
        "interactions",
        "students",
        "classes",
        "refit",
        "exports",
    ):
        assert any(f"/api/v1/{family}" in p for p in paths), family
