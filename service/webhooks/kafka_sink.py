"""Alert endpoints whose URL is ``kafka://<topic>``: the alerts published to a Kafka topic.

A SIEM that reads Kafka rather than HTTP gets exactly what a webhook receiver
gets: the same payload formats, filters, grouping, durable outbox, retries with
backoff and deliveries log, because such an endpoint is an ordinary webhook
endpoint whose delivery is a produce instead of a POST. Each record carries:

* key: the message's ``webhook-id``, the same on every retry of one alert, so
  a consumer can drop the duplicates that at-least-once delivery allows;
* value: the stored body, byte for byte;
* headers: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` (Standard
  Webhooks, verifiable with the endpoint's secret as over HTTP) and
  ``content-type``.

Topics are on the service's own cluster (``AUDITLENS_KAFKA_BOOTSTRAP_SERVERS``),
so the address checks that guard HTTP URLs do not apply. The topic must exist
(or the cluster auto-create topics); until it does, attempts fail and are retried.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

from kafka import KafkaProducer

from service.webhooks.exceptions import UnsafeURLError

SCHEME = "kafka"
# Kafka's own rule for topic names; "." and ".." are reserved.
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")


def kafka_topic(url: str) -> str | None:
    """The topic of a ``kafka://<topic>`` URL; None for any other scheme.

    >>> kafka_topic("kafka://alerts.auditlens"), kafka_topic("https://siem.example.com/hook")
    ('alerts.auditlens', None)
    >>> kafka_topic("kafka://alerts/high")
    Traceback (most recent call last):
    ...
    service.webhooks.exceptions.UnsafeURLError: a kafka:// URL names one topic ...
    """
    parts = urlsplit(url)
    if parts.scheme.lower() != SCHEME:
        return None
    topic = parts.netloc
    names_one_topic = not (parts.path or parts.query or parts.fragment)
    if not (names_one_topic and _TOPIC.match(topic) and topic not in (".", "..")):
        raise UnsafeURLError(
            "a kafka:// URL names one topic (letters, digits, '.', '_', '-'; at most 249), "
            f"as in kafka://alerts.auditlens; got {url!r}",
            reason="bad_topic",
        )
    return topic


class KafkaSink:
    """One producer for every ``kafka://`` endpoint, made on first use (thread-safe)."""

    def __init__(self, bootstrap_servers: str, timeout_s: float) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.timeout_s = timeout_s
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def publish(self, topic: str, key: str, body: bytes, headers: dict[str, str]) -> None:
        """Returns once the cluster has the record (all in-sync replicas); raises ``KafkaError``."""
        future = self._get().send(
            topic,
            key=key.encode(),
            value=body,
            headers=[(name, value.encode()) for name, value in headers.items()],
        )
        future.get(timeout=self.timeout_s)

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=self.timeout_s)
                self._producer = None

    def _get(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                timeout_ms = int(self.timeout_s * 1000)
                self._producer = KafkaProducer(
                    bootstrap_servers=self.bootstrap_servers,
                    acks="all",
                    max_block_ms=timeout_ms,
                    request_timeout_ms=timeout_ms,
                    bootstrap_timeout_ms=timeout_ms,
                )
            return self._producer
