"""The streaming scorer: Kafka micro-batches → normalize → features → score → store → commit.

The loop, once per micro-batch:

1. poll until the batch is full (``batch_max_events``) or its time is up (``batch_max_wait_ms``);
2. decode and normalize every message; a bad one becomes a dead letter, the rest go on;
3. compute features and score the batch as one polars frame;
4. store the flagged events (idempotent on the event key);
5. flush the dead letters to the dead-letter topic;
6. commit the offsets — only now, so a crash before this point replays the batch
   and the idempotent store turns at-least-once delivery into exactly-once effect;
7. between batches, pick up a new champion model version if the alias moved.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from kafka import KafkaConsumer, KafkaProducer
from kafka.consumer.fetcher import ConsumerRecord

from features.decode import normalize_message
from features.exceptions import FeatureError
from features.schema import NormalizedEvent, to_frame
from models.bundle import LoadedModel
from service import metrics
from service.config import Settings
from service.scoring import anomaly_rows, score_events
from service.store.repository import Store

log = logging.getLogger(__name__)

ModelSource = Callable[[], LoadedModel | None]


@dataclass
class DeadLetter:
    record: ConsumerRecord
    error_class: str
    reason: str
    message: str


@dataclass
class BatchOutcome:
    messages: int = 0
    events: int = 0
    anomalies_stored: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """Original headers plus where the message came from and why it was rejected."""
    record = letter.record
    original = [(k, v) for k, v in (record.headers or []) if not k.startswith("auditlens.")]
    return [
        *original,
        ("auditlens.error.class", letter.error_class.encode()),
        ("auditlens.error.reason", letter.reason.encode()),
        ("auditlens.error.message", letter.message[:1000].encode("utf-8", "replace")),
        ("auditlens.source.topic", record.topic.encode()),
        ("auditlens.source.partition", str(record.partition).encode()),
        ("auditlens.source.offset", str(record.offset).encode()),
    ]


class ScorerLoop:
    """Consumes the configured topics until :meth:`stop` is called."""

    def __init__(self, settings: Settings, store: Store, model_source: ModelSource) -> None:
        self.settings = settings
        self.store = store
        self.model_source = model_source
        self.model: LoadedModel | None = None
        self._stop = threading.Event()
        self._consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None
        self.assigned_partitions = 0
        self.last_model_check = 0.0

    # --- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    @property
    def ready(self) -> bool:
        return self.model is not None and self.assigned_partitions > 0

    def _connect(self) -> tuple[KafkaConsumer, KafkaProducer]:
        servers = self.settings.kafka_bootstrap_servers
        consumer = KafkaConsumer(
            *self.settings.topic_list,
            bootstrap_servers=servers,
            group_id=self.settings.consumer_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.batch_max_events,
            client_id="auditlens-scorer",
        )
        producer = KafkaProducer(bootstrap_servers=servers, acks="all", linger_ms=5)
        return consumer, producer

    def run(self) -> None:
        """Block until stopped; waits for a champion model before consuming anything."""
        while self.model is None and not self._stop.is_set():
            self.refresh_model(force=True)
            if self.model is None:
                log.warning("no model carries the alias %r yet; waiting", self.settings.model_alias)
                self._stop.wait(2.0)
        if self._stop.is_set():
            return
        consumer, producer = self._connect()
        self._consumer, self._producer = consumer, producer
        try:
            while not self._stop.is_set():
                self.process_batch(consumer, producer)
                self.refresh_model()
        finally:
            consumer.close(autocommit=False)
            producer.close(timeout=10)

    def refresh_model(self, force: bool = False) -> None:
        """Swap in the version behind the alias; only ever called between batches."""
        now = time.monotonic()
        if not force and now - self.last_model_check < self.settings.model_refresh_s:
            return
        self.last_model_check = now
        loaded = self.model_source()
        if loaded is not None and (self.model is None or loaded.version != self.model.version):
            log.info("scoring with %s version %s", loaded.name, loaded.version)
            self.model = loaded
            metrics.MODEL_VERSION.labels(loaded.name).set(float(loaded.version))

    # --- one micro-batch -------------------------------------------------------------

    def poll_batch(self, consumer: KafkaConsumer) -> list[ConsumerRecord]:
        """Step 1: fill a batch up to its size or time limit."""
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + self.settings.batch_max_wait_ms / 1000
        while len(records) < self.settings.batch_max_events and not self._stop.is_set():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            polled = consumer.poll(
                timeout_ms=remaining_ms,
                max_records=self.settings.batch_max_events - len(records),
            )
            for partition_records in polled.values():
                records.extend(partition_records)
        self.assigned_partitions = len(consumer.assignment())
        return records

    def process_batch(self, consumer: KafkaConsumer, producer: KafkaProducer) -> BatchOutcome:
        records = self.poll_batch(consumer)
        outcome = BatchOutcome(messages=len(records))
        if not records:
            return outcome
        started = time.perf_counter()
        # Step 2: decode + normalize; remember which message each event came from.
        events: list[NormalizedEvent] = []
        origin: list[ConsumerRecord] = []
        for record in records:
            source = self.settings.pinned_sources.get(record.topic)
            try:
                normalized = normalize_message(
                    record.value or b"", source, self.settings.max_message_bytes
                )
            except FeatureError as exc:
                outcome.dead_letters.append(
                    DeadLetter(record, type(exc).__name__, exc.reason, str(exc))
                )
                continue
            events.extend(normalized)
            origin.extend([record] * len(normalized))
        # Step 3: features + score, as one frame.
        rows = self._score(events, origin, outcome)
        # Step 4: durable, idempotent store.
        outcome.anomalies_stored = self.store.insert_anomalies(rows)
        # Step 5: dead letters out before the offsets move.
        self._send_dead_letters(producer, outcome.dead_letters)
        # Step 6: commit.
        consumer.commit()
        self._observe(records, events, outcome, time.perf_counter() - started)
        return outcome

    def _score(
        self, events: list[NormalizedEvent], origin: list[ConsumerRecord], outcome: BatchOutcome
    ) -> list[dict[str, Any]]:
        model = self.model
        assert model is not None
        frame, bad_times = to_frame(events)
        for position in bad_times:
            outcome.dead_letters.append(
                DeadLetter(
                    origin[position],
                    "AdapterError",
                    "bad_timestamp",
                    f"event {events[position]['event_id']!r}: unparseable time "
                    f"{events[position]['event_time']!r}",
                )
            )
        outcome.events = frame.height
        if frame.height == 0:
            return []
        return anomaly_rows(model, score_events(model, frame))

    def _send_dead_letters(self, producer: KafkaProducer, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        futures = [
            producer.send(
                self.settings.dlq_topic,
                value=letter.record.value,
                key=letter.record.key,
                headers=dead_letter_headers(letter),
            )
            for letter in letters
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the broker did not take it: offsets stay put
        for letter in letters:
            log.warning(
                "dead letter %s/%d@%d: %s (%s)",
                letter.record.topic,
                letter.record.partition,
                letter.record.offset,
                letter.message,
                letter.reason,
            )

    def _observe(
        self,
        records: list[ConsumerRecord],
        events: list[NormalizedEvent],
        outcome: BatchOutcome,
        seconds: float,
    ) -> None:
        if events:
            counts = pl.DataFrame({"source": [e["source"] for e in events]})[
                "source"
            ].value_counts()
            for source, count in counts.iter_rows():
                metrics.EVENTS_CONSUMED.labels(source).inc(count)
        metrics.MESSAGES_CONSUMED.inc(len(records))
        for letter in outcome.dead_letters:
            metrics.DEAD_LETTERS.labels(letter.reason).inc()
        metrics.ANOMALIES_STORED.inc(outcome.anomalies_stored)
        metrics.BATCH_SIZE.observe(len(records))
        metrics.BATCH_SECONDS.observe(seconds)
