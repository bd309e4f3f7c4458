"""The bare kafka-python consumer with and without record CRC checks (the scorer checks them).

    .venv/bin/python -m benchmarks.consumer_crc

Starts a local broker, fills a topic with 200,000 messages of 1 KB and reads them
back once with ``check_crcs`` on and once off: with the ``crc32c`` C extension the
two are close; with kafka-python's pure-Python CRC the first is about 10x slower.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer

from service.localstack.kafka import KafkaBroker

MESSAGES = 200_000


def fill(bootstrap: str, topic: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=512 * 1024)
    payload = os.urandom(500).hex().encode()
    for _ in range(MESSAGES):
        producer.send(topic, payload)
    producer.flush()
    producer.close()


def read_all(bootstrap: str, topic: str, check_crcs: bool) -> float:
    """Messages per second for one full read of ``topic``."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        check_crcs=check_crcs,
        max_poll_records=5000,
    )
    started = time.perf_counter()
    received = 0
    while received < MESSAGES:
        for records in consumer.poll(timeout_ms=1000).values():
            received += len(records)
    rate = received / (time.perf_counter() - started)
    consumer.close()
    return rate


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir, KafkaBroker(workdir=Path(workdir)) as broker:
        fill(broker.bootstrap_servers, "crc")
        for check_crcs in (True, False):
            rate = read_all(broker.bootstrap_servers, "crc", check_crcs)
            print(f"check_crcs={check_crcs}: {rate:,.0f} messages/s")


if __name__ == "__main__":
    main()
