"""Bytes → JSON documents → event objects → normalized rows.

One message (or one line of a file) may hold a single event or a document that
contains many: ``{"Records": [...]}`` (CloudTrail), a JSON array, or a
Kubernetes ``EventList``/``List``. :func:`normalize_message` unwraps these
containers and hands every event object to its source adapter, turning every
failure into a :class:`FeatureError` with a precise reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from features import sources
from features.exceptions import AdapterError, DecodeError, FeatureError
from features.schema import NormalizedEvent

DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
# Kubernetes lists whose items are events or reports: a generic ``List`` (kubectl)
# and the typed lists the API server returns.
LIST_KINDS = (
    "EventList",
    "List",
    "PolicyReportList",
    "ClusterPolicyReportList",
    "ReportList",
    "ClusterReportList",
)


def decode(value: bytes, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> Any:
    """Parse one message; the reason says exactly what is wrong with it.

    >>> decode(b'{"a": 1}')
    {'a': 1}
    >>> decode(b"\\xff{}")
    Traceback (most recent call last):
    ...
    features.exceptions.DecodeError: message is not valid UTF-8
    """
    if len(value) > max_bytes:
        raise DecodeError(
            f"message of {len(value)} bytes exceeds the limit of {max_bytes}", reason="oversize"
        )
    if not value.strip():
        raise DecodeError("empty message", reason="empty")
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        if "utf-8" in str(exc).lower():
            raise DecodeError("message is not valid UTF-8", reason="invalid_utf8") from exc
        raise DecodeError(f"message is not JSON: {exc}", reason="not_json") from exc


def unwrap(doc: Any) -> list[Mapping[str, Any]]:
    """The event objects held by a document (containers are opened one level deep).

    >>> len(unwrap({"Records": [{"eventID": "1"}, {"eventID": "2"}]}))
    2
    >>> unwrap(42)
    Traceback (most recent call last):
    ...
    features.exceptions.AdapterError: expected a JSON object or array, got int
    """
    if isinstance(doc, list):
        items: list[Any] = doc
    elif isinstance(doc, Mapping):
        records = doc.get("Records")
        kind = doc.get("kind")
        if isinstance(records, list):
            items = records
        elif kind in LIST_KINDS and isinstance(doc.get("items"), list):
            items = doc["items"]
        else:
            return [doc]
    else:
        raise AdapterError(
            f"expected a JSON object or array, got {type(doc).__name__}", reason="not_an_object"
        )
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise AdapterError(
                f"element {position} of the document is {type(item).__name__}, not an object",
                reason="not_an_object",
            )
    return items


def normalize_document(
    doc: Any, raw: str | None = None, source: str | None = None
) -> list[NormalizedEvent]:
    """All normalized rows of one parsed document; ``raw`` is kept for a single event."""
    events = unwrap(doc)
    single = len(events) == 1 and events[0] is doc
    rows: list[NormalizedEvent] = []
    for event in events:
        rows.extend(sources.normalize(event, raw if single else None, source))
    return rows


def normalize_message(
    value: bytes, source: str | None = None, max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> list[NormalizedEvent]:
    """Decode and normalize one Kafka message or file line.

    Raises a :class:`FeatureError` subclass; any other exception from an adapter
    is a bug, reported as ``adapter_crash`` rather than allowed to stop a batch.
    """
    doc = decode(value, max_bytes)
    try:
        return normalize_document(doc, value.decode("utf-8"), source)
    except FeatureError:
        raise
    except Exception as exc:  # an adapter bug must not stop the stream
        raise AdapterError(
            f"adapter failed: {type(exc).__name__}: {exc}", reason="adapter_crash"
        ) from exc
