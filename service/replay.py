"""``auditlens replay``: raw events from files into a Kafka topic, keyed by actor.

Keying by actor keeps each actor's events on one partition, so a scorer's
entity history for that actor sees them in order. Container documents
(``{"Records": [...]}``, arrays, ``EventList``) are split into one message per
event; what no adapter recognises is still sent (the scorer dead-letters it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import orjson
from kafka import KafkaProducer

from features.decode import unwrap
from features.exceptions import FeatureError
from features.files import iter_documents
from features.sources import normalize


def _actor_key(event: dict[str, object]) -> bytes | None:
    try:
        rows = normalize(event)
    except FeatureError:
        return None
    actor = rows[0]["actor"] if rows else None
    return actor.encode() if actor else None


def replay(paths: Sequence[Path | str], topic: str, bootstrap_servers: str) -> int:
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", linger_ms=20, batch_size=256 * 1024
    )
    sent = 0
    try:
        for _where, doc in iter_documents(paths):
            if isinstance(doc, FeatureError):
                continue
            try:
                events = unwrap(doc)
            except FeatureError:
                events = [doc]
            for event in events:
                producer.send(topic, value=orjson.dumps(event), key=_actor_key(dict(event)))
                sent += 1
        producer.flush()
    finally:
        producer.close(timeout=30)
    return sent
