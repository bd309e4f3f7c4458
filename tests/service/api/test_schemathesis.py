"""Property-based run of the whole OpenAPI document (schemathesis) against the ASGI app.

Every operation gets generated requests, schema-valid and schema-invalid, with an
admin key; every response must be a non-5xx whose status code, content type,
headers and body are the ones the OpenAPI document declares.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from models.bundle import LoadedModel
from service.api.app import create_app
from service.api.scoring_model import ModelProvider
from service.config import Settings
from service.store.repository import Store
from tests.service.conftest import anomaly_row, fake_dns, webhook_values

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 15


def seed(store: Store) -> None:
    """Some of everything, so generated ids sometimes hit real rows."""
    store.insert_anomalies([anomaly_row(f"e{i}", actor=f"u{i % 3}") for i in range(5)])
    store.create_suppression({"actor": "u9"}, "seeded", None, "seed")
    hook = store.create_webhook(webhook_values(), "seed")
    store.insert_anomalies([anomaly_row("after-hook")])
    assert hook.id == 1


def run_operation(case_strategy: Any, call: Callable[[Case], None]) -> None:
    @given(case=case_strategy)
    @hypothesis_settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case) -> None:
        call(case)

    run()


def test_no_server_error_and_no_response_outside_the_schema(
    store: Store, settings: Settings, scoring_model: LoadedModel
) -> None:
    if store.is_postgres:
        pytest.skip("one backend is enough for the API contract; the store has its own tests")
    seed(store)
    app = create_app(
        store,
        settings=settings,
        model_provider=ModelProvider(None, load=lambda: scoring_model),
        resolver=fake_dns,
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    admin = {"Authorization": f"Bearer {store.create_api_key('admin')}"}
    spec = app.openapi()
    covered: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        declared = spec["paths"][operation.path][operation.method.lower()]
        modes = [GenerationMode.POSITIVE]
        if declared.get("parameters") or declared.get("requestBody"):
            modes.append(GenerationMode.NEGATIVE)  # there is input to get wrong
        for mode in modes:
            run_operation(
                operation.as_strategy(generation_mode=mode),
                lambda case: case.call_and_validate(headers=admin, checks=CHECKS),
            )
        covered.append(f"{operation.method.upper()} {operation.path}")
    assert sorted(covered) == sorted(
        f"{method.upper()} {path}" for path, ops in spec["paths"].items() for method in ops
    )
