"""The back-office API against its own OpenAPI document (schemathesis, a bounded run): every
answer is documented (status, JSON content type, schema), none is a 500, on any input, and a
request the document allows is not refused as invalid."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from bot.applications.api import create_api_app
from tests.support.applications import make_runtime

TOKEN = "t0ken-for-the-contract-test-0123456789"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    # A request the document allows is taken (2xx, or 404/409 for a number or a move).
    positive_data_acceptance,
]
EXAMPLES = 40  # per operation: a few seconds in all; the same examples every run (CI)


def _exercise(operation, calls: list[str]) -> None:
    # Valid inputs and invalid ones (wrong types, broken bodies, odd path parameters).
    cases = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | (
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        calls.append(operation.label)
        case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

    run()


def test_every_answer_is_the_documented_one(sqlite_db):
    app = create_api_app(make_runtime(sqlite_db, api_tokens=[TOKEN]))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures, calls = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            _exercise(operation, calls)
        except Exception as exc:  # noqa: BLE001 - every operation is tried; all reported below
            failures.append(f"{operation.label}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
    assert len(set(calls)) == 4 and len(calls) > 80  # every operation, many inputs
