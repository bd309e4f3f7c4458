"""Training data from a Kafka topic: every message from the beginning up to the current end.

This lets a baseline be retrained from the same stream the scorer reads (within the
topic's retention), through exactly the adapters the scorer uses. Messages that
do not normalize are counted and skipped, as with files.
"""

from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer, TopicPartition

from features.decode import normalize_message
from features.exceptions import FeatureError
from features.schema import NormalizedEvent
from features.sources.report_state import ReportSnapshots
from training.exceptions import TrainingError

log = logging.getLogger(__name__)


def read_topic(
    bootstrap_servers: str,
    topic: str,
    reports: ReportSnapshots | None = None,
    timeout_s: float = 600.0,
    request_timeout_s: float = 5.0,
) -> tuple[list[NormalizedEvent], int]:
    """(normalized events, rejected messages) of ``topic``, oldest first per partition.

    ``request_timeout_s`` bounds each request, so a broker that does not answer fails
    the read in seconds; ``timeout_s`` bounds the whole read.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        group_id=None,
        client_id="auditlens-train",
        request_timeout_ms=int(request_timeout_s * 1000),
        bootstrap_timeout_ms=int(request_timeout_s * 1000),
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise TrainingError(f"topic {topic!r} does not exist or has no partitions")
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        end = consumer.end_offsets(assigned)
        events: list[NormalizedEvent] = []
        rejected = 0
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in assigned):
            if time.monotonic() > deadline:
                raise TrainingError(f"reading {topic!r} took longer than {timeout_s:.0f}s")
            for records in consumer.poll(timeout_ms=1000, max_records=10_000).values():
                for record in records:
                    try:
                        rows = normalize_message(record.value or b"")
                    except FeatureError:
                        rejected += 1
                        continue
                    events.extend(reports.new_or_changed(rows) if reports is not None else rows)
        log.info("read %d events from %s (%d messages rejected)", len(events), topic, rejected)
        return events, rejected
    finally:
        consumer.close()
