from __future__ import annotations

import orjson
import pytest

from features.decode import normalize_message
from features.exceptions import AdapterError
from features.sources import configure_generic, detect, generic
from tests.features.sources.samples import GENERIC_MAPPING, cloudtrail_record, generic_event


def test_maps_the_configured_paths() -> None:
    [row] = generic.normalize(generic_event(), "RAW")
    assert row["event_id"] == "0f5e8d3c-1d2b-4c6a-9f0e-2b7d4a1c9e88"
    assert row["event_time"] == "2024-05-01T10:21:35.250000Z"
    assert (row["actor"], row["action"], row["object"]) == (
        "bob@example.com",
        "export_customers",
        "crm/customers",
    )
    assert row["outcome"] == "deny"  # through the configured outcomes
    assert row["source_ip"] == "203.0.113.9"
    assert row["resource"] is None  # not mapped
    assert row["raw"] == "RAW"


def test_outcome_already_in_the_vocabulary_is_kept_and_unknown_is_null() -> None:
    assert generic.normalize({**generic_event(), "status": "Allow"})[0]["outcome"] == "allow"
    assert generic.normalize({**generic_event(), "status": "teapot"})[0]["outcome"] is None


def test_without_a_mapping_nothing_matches_and_pinning_says_why() -> None:
    configure_generic(None)
    assert not generic.matches(generic_event())
    with pytest.raises(AdapterError) as info:
        generic.normalize(generic_event())
    assert info.value.reason == "not_configured"


def test_requires_the_id_and_time_paths() -> None:
    event = generic_event()
    del event["occurred_at"]
    assert not generic.matches(event)
    with pytest.raises(AdapterError) as info:
        generic.normalize(event)
    assert info.value.reason == "missing_field"


def test_match_pairs_restrict_the_stream() -> None:
    configure_generic({**GENERIC_MAPPING, "match": {"kind": "audit"}})
    assert not generic.matches(generic_event())
    assert generic.matches({**generic_event(), "kind": "audit"})


def test_never_takes_another_sources_event() -> None:
    configure_generic({"event_id": "eventID", "event_time": "eventTime"})
    record = cloudtrail_record()
    assert generic.matches(record)  # the mapping alone would claim it...
    assert detect(record).source == "cloudtrail"  # ...but the specific adapter comes first


def test_reads_the_mapping_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        generic.ENV_VAR, orjson.dumps({**GENERIC_MAPPING, "time_unit": "ms"}).decode()
    )
    generic.reset()
    event = {**generic_event(), "occurred_at": 1714558895250}
    [row] = normalize_message(orjson.dumps(event))
    assert (row["source"], row["event_time"]) == ("generic", "2024-05-01T10:21:35.250000Z")


def test_invalid_environment_mapping_is_reported_on_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(generic.ENV_VAR, '{"event_id": "id"}')
    generic.reset()
    with pytest.raises(AdapterError) as info:
        generic.matches(generic_event())
    assert info.value.reason == "bad_generic_mapping"
    assert "event_time" in str(info.value)


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "JSON object"),
        ('{"event_time": "t"}', "event_id"),
        ('{"event_id": "i", "event_time": "t", "colour": "c"}', "unknown columns"),
        ('{"event_id": "", "event_time": "t"}', "dotted path"),
        ('{"event_id": "a..b", "event_time": "t"}', "dotted path"),
        ('{"event_id": "i", "event_time": "t", "outcomes": {"OK": "fine"}}', "outcomes"),
        ('{"event_id": "i", "event_time": "t", "time_unit": "days"}', "time_unit"),
        ('{"event_id": "i", "event_time": "t", "match": []}', "match"),
    ],
)
def test_invalid_mappings_are_refused_with_a_reason(mapping: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        configure_generic(mapping)


def test_protobuf_timestamp_and_text_times() -> None:
    event = {**generic_event(), "occurred_at": {"seconds": 1714558895, "nanos": 250000000}}
    assert generic.normalize(event)[0]["event_time"] == "2024-05-01T10:21:35.250000Z"
    event["occurred_at"] = "2024-05-01T10:21:35Z"
    assert generic.normalize(event)[0]["event_time"] == "2024-05-01T10:21:35Z"


@pytest.mark.parametrize("value", [True, [1], {"nanos": 5}, 1e300, {"seconds": 1, "nanos": -1}])
def test_unusable_times_are_bad_fields(value: object) -> None:
    with pytest.raises(AdapterError) as info:
        generic.normalize({**generic_event(), "occurred_at": value})
    assert info.value.reason == "bad_field"
