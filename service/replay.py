"""``auditlens replay``: raw events from files into a Kafka topic, keyed by actor.

Keying by actor keeps each actor's events on one partition, so the entity
history of that actor is built from its events in order (events without an
actor, such as policy results, are keyed by their namespace, else their
source). Events are produced in the scorer's processing order — by
``(event_time, event_id)`` — so that a replay is scored exactly like the same
files offline. Container documents
(``{"Records": [...]}``, arrays, ``EventList``) are split into one message per
event; what no adapter recognises is still sent, first (the scorer dead-letters it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson
import polars as pl
from kafka import KafkaProducer

from features.decode import unwrap
from features.exceptions import FeatureError
from features.files import iter_documents
from features.schema import EVENT_TIME_TYPE, RFC3339, NormalizedEvent
from features.sources import normalize


def partition_key(event: NormalizedEvent | None) -> bytes | None:
    """The message key: the actor, so an actor's history stays on one partition; for an
    event without an actor (a policy result), its namespace, else its source.

    >>> partition_key({"actor": "alice", "namespace": "dev"})
    b'alice'
    >>> partition_key({"actor": None, "namespace": "dev"})
    b'namespace:dev'
    """
    if event is None:
        return None
    if event["actor"]:
        return event["actor"].encode()
    if event["namespace"]:
        return f"namespace:{event['namespace']}".encode()
    return f"source:{event['source']}".encode()


def _messages(paths: Sequence[Path | str]) -> pl.DataFrame:
    """One row per message: value, key, and its processing-order sort keys."""
    values: list[bytes] = []
    keys: list[bytes | None] = []
    times: list[str | None] = []
    ids: list[str | None] = []
    for _where, doc in iter_documents(paths):
        if isinstance(doc, FeatureError):
            continue
        try:
            events = unwrap(doc)
        except FeatureError:
            events = [doc]
        for event in events:
            try:
                rows = normalize(event)
            except FeatureError:
                rows = []
            first = rows[0] if rows else None
            values.append(orjson.dumps(event))
            keys.append(partition_key(first))
            times.append(first["event_time"] if first else None)
            ids.append(first["event_id"] if first else None)
    return pl.DataFrame(
        {"value": values, "key": keys, "time": times, "event_id": ids},
        schema={"value": pl.Binary, "key": pl.Binary, "time": pl.String, "event_id": pl.String},
    ).with_columns(
        pl.col("time")
        .str.to_datetime(format=RFC3339, time_zone="UTC", time_unit="us", strict=False)
        .cast(EVENT_TIME_TYPE)
    )


def replay(
    paths: Sequence[Path | str], topic: str, bootstrap_servers: str, timeout_s: float = 5.0
) -> int:
    """Produce every event of ``paths`` to ``topic`` in time order; returns how many.

    A broker that does not answer fails the replay within about ``timeout_s`` (no
    broker at all: kafka-python's NoBrokersAvailable; one that goes away: a timeout)
    instead of kafka-python's 60 s wait per blocked send.
    """
    messages = _messages(paths).sort("time", "event_id", nulls_last=False, maintain_order=True)
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        max_block_ms=int(timeout_s * 1000),
        request_timeout_ms=int(max(timeout_s, 1.0) * 1000),
        bootstrap_timeout_ms=int(timeout_s * 1000),
    )
    try:
        for value, key in messages.select("value", "key").iter_rows():
            producer.send(topic, value=value, key=key)
        producer.flush(timeout=max(timeout_s * 6, 30.0))
    finally:
        producer.close(timeout=timeout_s)
    return messages.height
