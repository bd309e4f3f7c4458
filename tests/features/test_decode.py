from __future__ import annotations

import pytest

from features.decode import normalize_message
from features.exceptions import AdapterError, DecodeError


def k8s_event(**overrides: object) -> dict[str, object]:
    event: dict[str, object] = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "a1",
        "stage": "ResponseComplete",
        "verb": "get",
        "user": {"username": "alice"},
        "objectRef": {"resource": "pods", "namespace": "dev", "name": "p"},
        "responseStatus": {"code": 200},
        "requestReceivedTimestamp": "2026-03-02T10:00:00.000000Z",
    }
    event.update(overrides)
    return event


@pytest.mark.parametrize(
    ("payload", "error", "reason"),
    [
        (b"not json", DecodeError, "not_json"),
        (b"\xff\xfe{}", DecodeError, "invalid_utf8"),
        (b"   ", DecodeError, "empty"),
        (b"42", AdapterError, "not_an_object"),
        (b'"text"', AdapterError, "not_an_object"),
        (b"[1, 2]", AdapterError, "not_an_object"),
        (b'{"hello": "world"}', AdapterError, "unknown_shape"),
    ],
)
def test_bad_messages_raise_declared_errors_with_reason(
    payload: bytes, error: type[Exception], reason: str
) -> None:
    with pytest.raises(error) as info:
        normalize_message(payload)
    assert info.value.reason == reason  # type: ignore[attr-defined]


def test_oversize_message_is_rejected_before_parsing() -> None:
    with pytest.raises(DecodeError) as info:
        normalize_message(b"{" + b" " * 2000 + b"}", max_bytes=1000)
    assert info.value.reason == "oversize"
    assert "2002 bytes exceeds the limit of 1000" in str(info.value)


def test_event_list_is_unwrapped_into_one_row_per_event() -> None:
    import orjson

    doc = {
        "kind": "EventList",
        "apiVersion": "audit.k8s.io/v1",
        "items": [k8s_event(auditID="x"), k8s_event(auditID="y")],
    }
    rows = normalize_message(orjson.dumps(doc))
    assert [r["event_id"] for r in rows] == ["x", "y"]
    # Each row keeps its own event as raw text, not the whole list.
    assert all('"EventList"' not in r["raw"] for r in rows)


def test_ill_typed_field_names_its_path() -> None:
    import orjson

    with pytest.raises(AdapterError) as info:
        normalize_message(orjson.dumps(k8s_event(user={"username": ["alice"]})))
    assert info.value.reason == "bad_field"
    assert "user.username" in str(info.value)
