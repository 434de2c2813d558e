"""Schemathesis over the OpenAPI schema, in process (ASGI): at least 2 000 generated requests,
valid and invalid, anonymous and with an admin key (so the write paths are reached too);
no server error, no hang, and every answer's status and body as documented. A tiny corpus and the hashing embedder keep it fast."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from starlette.testclient import TestClient

from tiny import KEYS, ingest_all, two_level_settings

schemathesis = pytest.importorskip("schemathesis")
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,  # noqa: E402
                                               status_code_conformance)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

EXAMPLES = 60          # per operation, mode and caller: 17 operations × 2 × 2 × 60 ≈ 4 000 at most
MIN_REQUESTS = 2000
SLOWEST_S = 10.0       # a request slower than this counts as a hang


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from assistant.api import create_app

    s = two_level_settings(tmp_path_factory.mktemp("fuzz"), max_pending_jobs=100_000, max_file_mb=1.0)
    ingest_all(s)
    application = create_app(s, with_ui=False)
    with TestClient(application):  # runs the app's startup
        yield application


def test_fuzz_the_api(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    calls, slowest, failures = 0, 0.0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        # the JSON API documents every status and body; the OpenAI face answers in OpenAI's own
        # error shape, so there only server errors and hangs are checked
        checks = CHECKS if operation.path.startswith("/api/") or operation.path == "/healthz" else CHECKS[:1]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for headers in ({}, {"X-API-Key": KEYS["admin"]["key"]}):

                @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                          suppress_health_check=list(HealthCheck))
                @given(case=operation.as_strategy(generation_mode=mode))
                def run(case):
                    nonlocal calls, slowest
                    started = time.perf_counter()
                    response = case.call(headers=headers)
                    took = time.perf_counter() - started
                    calls += 1
                    slowest = max(slowest, took)
                    if response.status_code >= 500 or took > SLOWEST_S:
                        failures.append((operation.label, mode.value, response.status_code, round(took, 2),
                                         response.text[:300]))
                    case.validate_response(response, checks=checks)

                try:
                    run()
                except Unsatisfiable:  # no invalid input exists for an operation without parameters
                    assert mode is GenerationMode.NEGATIVE
    print(f"schemathesis: {calls} requests, slowest {slowest:.2f} s")
    assert not failures, failures[:5]
    assert calls >= MIN_REQUESTS
