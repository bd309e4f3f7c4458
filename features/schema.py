"""The normalized event: the one row shape every source adapter produces.

Column names are a published contract (see the README); adapters fill what their
source knows and leave the rest null.
"""

from __future__ import annotations

from typing import TypedDict

import polars as pl

SOURCES = ("k8s_audit", "cloudtrail", "opa", "gatekeeper", "kyverno", "falco", "generic")
OUTCOMES = ("allow", "deny", "error", "pass", "fail", "warn")


class NormalizedEvent(TypedDict):
    """One event after its source adapter; ``raw`` keeps the original JSON text.

    ``event_time`` is the source's RFC 3339 text: parsing happens once per batch,
    vectorised, in :func:`to_frame`.
    """

    event_id: str
    source: str
    event_time: str
    actor: str | None
    actor_type: str | None
    action: str | None
    resource: str | None
    object: str | None
    namespace: str | None
    outcome: str | None
    source_ip: str | None
    user_agent: str | None
    policy: str | None
    severity: str | None
    raw: str


EVENT_TIME_TYPE = pl.Datetime("us", "UTC")
RFC3339 = "%Y-%m-%dT%H:%M:%S%.f%#z"

NORMALIZED_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.String(),
    "source": pl.String(),
    "event_time": EVENT_TIME_TYPE,
    "actor": pl.String(),
    "actor_type": pl.String(),
    "action": pl.String(),
    "resource": pl.String(),
    "object": pl.String(),
    "namespace": pl.String(),
    "outcome": pl.String(),
    "source_ip": pl.String(),
    "user_agent": pl.String(),
    "policy": pl.String(),
    "severity": pl.String(),
    "raw": pl.String(),
}
# The adapters' rows before their times are parsed (once per batch, see to_frame).
TEXT_SCHEMA: dict[str, pl.DataType] = {**NORMALIZED_SCHEMA, "event_time": pl.String()}


def to_frame(events: list[NormalizedEvent]) -> tuple[pl.DataFrame, list[int]]:
    """Build the batch frame and list the events whose ``event_time`` does not parse.

    Returns ``(frame, rejected)``: ``frame`` holds only the events with a valid
    time (an empty batch still has every column and type); ``rejected`` holds the
    positions, in ``events``, of the others, so the caller can dead-letter them.

    >>> frame, rejected = to_frame([
    ...     {**dict.fromkeys(NORMALIZED_SCHEMA), "event_id": "a", "source": "generic",
    ...      "event_time": "2024-05-01T10:00:00.5Z", "raw": "{}"},
    ...     {**dict.fromkeys(NORMALIZED_SCHEMA), "event_id": "b", "source": "generic",
    ...      "event_time": "yesterday", "raw": "{}"},
    ... ])
    >>> frame["event_id"].to_list(), rejected
    (['a'], [1])
    """
    frame, rejected = parse_event_times(
        pl.DataFrame(events, schema=TEXT_SCHEMA).with_row_index("_position")
    )
    return frame.drop("_position"), rejected["_position"].to_list()


def parse_event_times(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Parse the ``event_time`` text of normalized rows, vectorised, once per batch.

    Returns ``(parsed, rejected)``: the rows with a valid time (``event_time`` as
    :data:`EVENT_TIME_TYPE`), and the others as they came (their time still text),
    for the caller to report.
    """
    times = frame["event_time"].str.to_datetime(
        format=RFC3339, time_zone="UTC", time_unit="us", strict=False
    )
    valid = times.is_not_null()
    return frame.with_columns(times).filter(valid), frame.filter(~valid)
