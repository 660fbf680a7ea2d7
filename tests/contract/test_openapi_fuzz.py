"""Schemathesis against the API's own OpenAPI document: no input gives a server error.

Every operation gets generated requests (valid and invalid: ids, limits, bodies, strings) as
an admin, so each reaches its handler; the `not_a_server_error` check judges the answers. On
SQLite only, a few examples per operation: a smoke screen that runs in seconds, not a soak.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup

from carebird.db.database import Database
from carebird.web.api import live
from tests.factories import agent_with_token, bearer, customer, ingest, item, private

EXAMPLES = 20  # per operation; about 45 operations
SKIP = {("POST", "/api/auth/logout")}  # it would revoke the token every later request uses


@pytest.fixture
def engine_name() -> str:
    return "sqlite"


@pytest.fixture
def fuzzed(app: FastAPI, db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An admin token on a desk with a few cases (so ids 1, 2, 3 name real rows)."""
    monkeypatch.setattr(live, "STREAM_MAX_SECONDS", 0)  # a stream answers its backlog and ends
    monkeypatch.setattr(app.state.settings, "smtp_port", 9)  # forwards' mail: refused, fast
    ingest(
        db,
        [
            item(customer(1), "ma commande n'arrive pas", external_id="f1"),
            item(customer(2), "merci beaucoup", external_id="f2"),
            private(customer(3), "mon numéro de dossier est 1234", external_id="f3"),
        ],
    )
    _, token = agent_with_token(db, "admin")
    try:
        yield token
    finally:
        hub = getattr(app.state, "event_hub", None)
        if hub is not None:
            hub.stop()


def test_no_generated_request_gives_a_server_error(app: FastAPI, fuzzed: str) -> None:
    schema = schemathesis.openapi.from_dict(app.openapi())
    schema.app = app
    headers = bearer(fuzzed)
    errors: dict[str, set[str]] = {}  # operation → status codes or exceptions
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40

    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIP:
            continue

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the in-process transport re-raises an app's crash: a 500
                errors.setdefault(case.operation.label, set()).add(type(exc).__name__)
                return
            try:
                case.validate_response(response, checks=[not_a_server_error], headers=headers)
            except (AssertionError, FailureGroup):
                errors.setdefault(case.operation.label, set()).add(str(response.status_code))

        run()
    assert errors == {}
