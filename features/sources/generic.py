"""Generic JSON events, mapped onto the normalized columns by configuration.

Any JSON event stream can be scored once an operator says where each column
lives: a mapping from column to dotted path, given as JSON in the
``AUDITLENS_GENERIC_MAPPING`` environment variable or passed to
:func:`features.sources.configure_generic`. ``event_id`` and ``event_time`` are
required; every other column is optional. Three reserved keys refine it:

* ``match``: ``{path: value}`` pairs an event must carry (a discriminator such
  as ``{"kind": "AppAuditEvent"}``), so the mapping claims only its own stream;
* ``outcomes``: ``{source value: outcome}`` for values that are not already one
  of :data:`features.schema.OUTCOMES` (``{"SUCCESS": "allow"}``);
* ``time_unit``: ``s`` (default), ``ms``, ``us`` or ``ns`` for numeric times.

Example::

    {"event_id": "id", "event_time": "occurred_at", "actor": "user.email",
     "action": "operation", "outcome": "result", "match": {"type": "audit"},
     "outcomes": {"OK": "allow", "DENIED": "deny"}}

The adapter matches an event only when a mapping is configured, every ``match``
pair holds and both the id and the time paths are present. It is tried last
(see :data:`features.sources.ADAPTERS`), so it never takes an event a
source-specific adapter recognises.

Field mapping:

=============  ==========================================================
column         from
=============  ==========================================================
event_id       the configured ``event_id`` path (numbers become text)
event_time     the ``event_time`` path: RFC 3339 text as is; a number in
               ``time_unit`` since the Unix epoch, or ``{seconds, nanos}``,
               converted to RFC 3339 UTC
outcome        the value, through ``outcomes``, else kept when it already is
               an outcome (case-insensitive), else null
other columns  the configured path, as text; absent means null
=============  ==========================================================

This module also holds the value conversions the source-specific adapters
share (times that do not arrive as RFC 3339 text, canonical JSON for content
ids, the ``raw`` column), because the generic adapter is the one that must
accept every such shape.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson

from features.exceptions import AdapterError
from features.schema import NORMALIZED_SCHEMA, OUTCOMES, NormalizedEvent
from features.sources.fields import field, opt_str, req_str

SOURCE = "generic"
ENV_VAR = "AUDITLENS_GENERIC_MAPPING"
MAPPABLE = tuple(column for column in NORMALIZED_SCHEMA if column not in ("source", "raw"))
REQUIRED = ("event_id", "event_time")
TIME_UNITS = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- values shared by the adapters ----------------------------------------------------


def _format_utc(moment: datetime, path: str) -> str:
    try:
        utc = moment.astimezone(UTC)
    except OverflowError as exc:  # a valid local time can fall outside years 1-9999 in UTC
        raise AdapterError(f"field {path!r}: time is out of range", reason="bad_field") from exc
    return utc.isoformat(timespec="microseconds").replace("+00:00", "Z")


def epoch_text(value: float, path: str, per_second: int = 1) -> str:
    """RFC 3339 UTC text for a number of ``1/per_second`` seconds since the Unix epoch.

    >>> epoch_text(1632889070.5, "ts")
    '2021-09-29T04:17:50.500000Z'
    >>> epoch_text(1571243516746609046, "evt.time", per_second=1_000_000_000)
    '2019-10-16T16:31:56.746609Z'
    """
    if isinstance(value, int):
        whole, fraction = divmod(value, per_second)
        micros = fraction * 1_000_000 // per_second
    else:
        seconds = value / per_second
        if not math.isfinite(seconds):
            raise AdapterError(f"field {path!r}: time {value!r} is not finite", reason="bad_field")
        whole = math.floor(seconds)
        micros = round((seconds - whole) * 1_000_000)
    try:
        moment = _EPOCH + timedelta(seconds=whole, microseconds=micros)
    except OverflowError as exc:
        raise AdapterError(
            f"field {path!r}: time {value!r} is out of range", reason="bad_field"
        ) from exc
    return _format_utc(moment, path)


def utc_text(value: Any, path: str, per_second: int = 1) -> str:
    """The RFC 3339 text of a time in any shape a source writes it.

    Text is returned unchanged (it is parsed, vectorised, in
    :func:`features.schema.to_frame`); numbers count ``1/per_second`` seconds since
    the epoch; ``{seconds, nanos}`` is a protobuf/Kubernetes ``Timestamp``; a
    ``datetime`` comes from YAML. Anything else is a ``bad_field``.

    >>> utc_text({"seconds": 1679565894, "nanos": 5000}, "timestamp")
    '2023-03-23T10:04:54.000005Z'
    >>> utc_text("2024-08-02T08:53:24Z", "eventTime")
    '2024-08-02T08:53:24Z'
    >>> utc_text(True, "ts")
    Traceback (most recent call last):
    ...
    features.exceptions.AdapterError: field 'ts': expected a time, got bool
    """
    if isinstance(value, str):
        if not value:
            raise AdapterError(f"required field {path!r} is empty", reason="missing_field")
        return value
    if isinstance(value, bool):
        pass
    elif isinstance(value, int | float):
        return epoch_text(value, path, per_second)
    elif isinstance(value, datetime):
        return _format_utc(value if value.tzinfo else value.replace(tzinfo=UTC), path)
    elif isinstance(value, date):
        return f"{value.isoformat()}T00:00:00Z"
    elif isinstance(value, Mapping) and "seconds" in value:
        seconds, nanos = value.get("seconds"), value.get("nanos") or 0
        if (
            isinstance(seconds, int)
            and not isinstance(seconds, bool)
            and isinstance(nanos, int)
            and not isinstance(nanos, bool)
            and 0 <= nanos < 1_000_000_000
        ):
            return epoch_text(seconds * 1_000_000 + nanos // 1000, path, per_second=1_000_000)
        raise AdapterError(
            f"field {path!r}: expected integer seconds and nanos", reason="bad_field"
        )
    raise AdapterError(
        f"field {path!r}: expected a time, got {type(value).__name__}", reason="bad_field"
    )


def canonical_json(doc: Any) -> bytes:
    """The event as JSON with sorted keys: equal events give equal bytes.

    >>> canonical_json({"b": 1, "a": {"d": 2, "c": 3}})
    b'{"a":{"c":3,"d":2},"b":1}'
    """
    try:
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError as exc:  # YAML can hold values JSON cannot (bytes, sets, huge ints)
        raise AdapterError(f"event is not JSON-serialisable: {exc}", reason="bad_field") from exc


def stable_id(doc: Any) -> str:
    """A content id for sources without their own: the same event always gets the same id.

    >>> stable_id({"a": 1, "b": 2}) == stable_id({"b": 2, "a": 1})
    True
    """
    return hashlib.blake2b(canonical_json(doc), digest_size=16).hexdigest()


def raw_text(doc: Any, raw: str | None) -> str:
    """The ``raw`` column: the original text when there is one, else the event as JSON."""
    if raw is not None:
        return raw
    try:
        return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError as exc:
        raise AdapterError(f"event is not JSON-serialisable: {exc}", reason="bad_field") from exc


# --- the configured mapping -----------------------------------------------------------


@dataclass(frozen=True)
class GenericMapping:
    """Where each normalized column lives in a generic event (validated on construction)."""

    paths: Mapping[str, str]
    match: Mapping[str, Any] = dataclass_field(default_factory=dict)
    outcomes: Mapping[str, str] = dataclass_field(default_factory=dict)
    time_unit: str = "s"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.paths) - set(MAPPABLE))
        if unknown:
            raise ValueError(f"unknown columns {unknown}; mappable: {', '.join(MAPPABLE)}")
        missing = [column for column in REQUIRED if column not in self.paths]
        if missing:
            raise ValueError(f"the mapping needs a path for {' and '.join(missing)}")
        for column, path in self.paths.items():
            if not isinstance(path, str) or not path or "" in path.split("."):
                raise ValueError(f"column {column!r}: expected a dotted path, got {path!r}")
        for path in self.match:
            if not isinstance(path, str) or not path:
                raise ValueError(f"match: expected dotted paths as keys, got {path!r}")
        bad = {k: v for k, v in self.outcomes.items() if v not in OUTCOMES}
        if bad:
            raise ValueError(f"outcomes: {bad} are not among {', '.join(OUTCOMES)}")
        if self.time_unit not in TIME_UNITS:
            raise ValueError(f"time_unit must be one of {', '.join(TIME_UNITS)}")

    @classmethod
    def parse(cls, value: str | bytes | Mapping[str, Any]) -> GenericMapping:
        """Build from the JSON text (or its parsed form) described in the module docstring.

        >>> GenericMapping.parse('{"event_id": "id", "event_time": "ts"}').paths["event_id"]
        'id'
        >>> GenericMapping.parse('{"event_id": "id"}')
        Traceback (most recent call last):
        ...
        ValueError: the mapping needs a path for event_time
        """
        if isinstance(value, str | bytes):
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise ValueError(f"the generic mapping is not JSON: {exc}") from exc
        if not isinstance(value, Mapping):
            raise ValueError("the generic mapping must be a JSON object")
        options = {"match": {}, "outcomes": {}, "time_unit": "s"} | {
            key: value[key] for key in ("match", "outcomes", "time_unit") if key in value
        }
        if not isinstance(options["match"], Mapping) or not isinstance(
            options["outcomes"], Mapping
        ):
            raise ValueError("match and outcomes must be JSON objects")
        paths = {k: v for k, v in value.items() if k not in options}
        return cls(
            paths=paths,
            match=dict(options["match"]),
            outcomes=dict(options["outcomes"]),
            time_unit=options["time_unit"],
        )


class _Configuration:
    """The mapping in force: set explicitly, else read once from the environment."""

    def __init__(self) -> None:
        self.loaded = False
        self.mapping: GenericMapping | None = None
        self.error: str | None = None

    def set(self, mapping: GenericMapping | None) -> None:
        self.loaded, self.mapping, self.error = True, mapping, None

    def get(self) -> GenericMapping | None:
        if not self.loaded:
            text = os.environ.get(ENV_VAR, "").strip()
            try:
                self.set(GenericMapping.parse(text) if text else None)
            except ValueError as exc:
                self.loaded, self.mapping, self.error = True, None, f"{ENV_VAR}: {exc}"
        if self.error is not None:
            raise AdapterError(self.error, reason="bad_generic_mapping")
        return self.mapping


_CONFIGURATION = _Configuration()


def configure(mapping: GenericMapping | str | Mapping[str, Any] | None) -> GenericMapping | None:
    """Set (or, with None, clear) the mapping; ValueError names what is wrong with it."""
    if mapping is not None and not isinstance(mapping, GenericMapping):
        mapping = GenericMapping.parse(mapping)
    _CONFIGURATION.set(mapping)
    return mapping


def reset() -> None:
    """Forget any explicit mapping: the environment variable is read again on next use."""
    _CONFIGURATION.loaded = False
    _CONFIGURATION.error = None


def configured() -> GenericMapping | None:
    """The mapping in force; AdapterError when the environment holds an invalid one."""
    return _CONFIGURATION.get()


# --- the adapter ----------------------------------------------------------------------


def _present(doc: Mapping[str, Any], path: str) -> Any:
    try:
        return field(doc, path)
    except AdapterError:
        return None


def matches(doc: Mapping[str, Any]) -> bool:
    """Only with a mapping, only events of its stream, only when id and time exist."""
    mapping = configured()
    if mapping is None:
        return False
    if any(_present(doc, path) != expected for path, expected in mapping.match.items()):
        return False
    return all(_present(doc, mapping.paths[column]) is not None for column in REQUIRED)


def _outcome(value: str | None, mapping: GenericMapping) -> str | None:
    if value is None:
        return None
    mapped = mapping.outcomes.get(value)
    if mapped is not None:
        return mapped
    lowered = value.lower()
    return lowered if lowered in OUTCOMES else None


def normalize(doc: Mapping[str, Any], raw: str | None = None) -> list[NormalizedEvent]:
    """One row, every column read from its configured path."""
    mapping = configured()
    if mapping is None:
        raise AdapterError(
            f"the generic adapter has no field mapping; set {ENV_VAR}", reason="not_configured"
        )
    paths = mapping.paths

    def column(name: str) -> str | None:
        path = paths.get(name)
        return opt_str(doc, path) if path else None

    time_path = paths["event_time"]
    time_value = field(doc, time_path)
    if time_value is None:
        raise AdapterError(f"required field {time_path!r} is missing", reason="missing_field")
    return [
        {
            "event_id": req_str(doc, paths["event_id"]),
            "source": SOURCE,
            "event_time": utc_text(time_value, time_path, TIME_UNITS[mapping.time_unit]),
            "actor": column("actor"),
            "actor_type": column("actor_type"),
            "action": column("action"),
            "resource": column("resource"),
            "object": column("object"),
            "namespace": column("namespace"),
            "outcome": _outcome(column("outcome"), mapping),
            "source_ip": column("source_ip"),
            "user_agent": column("user_agent"),
            "policy": column("policy"),
            "severity": column("severity"),
            "raw": raw_text(doc, raw),
        }
    ]
