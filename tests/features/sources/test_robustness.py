"""Bad input never crashes: any JSON, or a broken real event, raises only AdapterError.

Each property runs for every adapter in ADAPTERS, directly (pinned source) and
through :func:`features.decode.normalize_message` (where an adapter bug would
surface as ``adapter_crash``).
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.decode import normalize_message
from features.exceptions import AdapterError, FeatureError
from features.schema import NORMALIZED_SCHEMA, OUTCOMES, NormalizedEvent
from features.sources import ADAPTERS, Adapter
from tests.features.sources.samples import SAMPLES, json_objects, json_values, mutated

ADAPTER_IDS = [adapter.source for adapter in ADAPTERS]
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check_rows(rows: list[NormalizedEvent]) -> None:
    for row in rows:
        assert set(row) == set(NORMALIZED_SCHEMA)
        assert isinstance(row["event_id"], str)
        assert row["event_id"]
        assert isinstance(row["event_time"], str)
        assert row["event_time"]
        assert row["outcome"] is None or row["outcome"] in OUTCOMES


def _normalize_or_adapter_error(adapter: Adapter, doc: Any) -> None:
    """Rows that keep the contract, or an AdapterError with a declared reason."""
    reason = None
    try:
        _check_rows(adapter.normalize(doc, None))
    except AdapterError as exc:
        reason = exc.reason
    assert reason != "adapter_crash"


def _message_or_feature_error(payload: bytes, source: str | None) -> None:
    """Through decode, any adapter bug would be reported as ``adapter_crash``."""
    error: FeatureError | None = None
    try:
        _check_rows(normalize_message(payload, source=source))
    except FeatureError as exc:
        error = exc
    assert error is None or error.reason != "adapter_crash", str(error)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
@PROPERTY
@given(doc=json_objects)
def test_arbitrary_objects_raise_only_adapter_errors(adapter: Adapter, doc: dict[str, Any]) -> None:
    assert isinstance(adapter.matches(doc), bool)
    _normalize_or_adapter_error(adapter, doc)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
@PROPERTY
@given(data=st.data())
def test_broken_samples_raise_only_adapter_errors(adapter: Adapter, data: st.DataObject) -> None:
    doc = data.draw(mutated(SAMPLES[adapter.source]))
    assert isinstance(adapter.matches(doc), bool)
    _normalize_or_adapter_error(adapter, doc)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
@PROPERTY
@given(data=st.data())
def test_broken_samples_through_decode(adapter: Adapter, data: st.DataObject) -> None:
    payload = orjson.dumps(data.draw(mutated(SAMPLES[adapter.source])))
    _message_or_feature_error(payload, None)
    _message_or_feature_error(payload, adapter.source)


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
@PROPERTY
@given(value=json_values)
def test_arbitrary_json_through_decode(adapter: Adapter, value: Any) -> None:
    _message_or_feature_error(orjson.dumps(value), adapter.source)


@PROPERTY
@given(value=json_values)
def test_arbitrary_json_through_detection(value: Any) -> None:
    _message_or_feature_error(orjson.dumps(value), None)
