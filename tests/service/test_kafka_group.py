"""Group membership on the real broker: a rejoin interrupted by short polls still lands,
and a stopping scorer leaves its group at once.

On the real broker: a consumer owns a one-partition topic, the topic grows to
three partitions, and the consumer then polls with a 1 ms timeout, as a scorer's
lingering batch does. Without :func:`resume_stranded_join` kafka-python 3.0.12
keeps the single partition for good (5 of 5 tries here); with it the three
partitions are assigned within a second.
"""

from __future__ import annotations

import logging
import time

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic

from service.kafka_group import leave_group, new_instance_id, resume_stranded_join

pytestmark = pytest.mark.integration


def test_a_join_left_unfinished_by_a_short_poll_is_finished(
    kafka_bootstrap: str, unique_name: str
) -> None:
    topic = f"grow-{unique_name}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=f"group-{unique_name}",
        enable_auto_commit=False,
        metadata_max_age_ms=300,  # notice the new partitions soon
    )
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
        consumer.subscribe([topic])
        deadline = time.monotonic() + 30
        while not consumer.assignment():
            assert time.monotonic() < deadline, "never assigned the first partition"
            consumer.poll(timeout_ms=200)

        admin.create_partitions({topic: NewPartitions(3)})
        resumed = 0
        deadline = time.monotonic() + 15
        while len(consumer.assignment()) < 3:
            assert time.monotonic() < deadline, (
                f"still {sorted(tp.partition for tp in consumer.assignment())} "
                f"after {resumed} resumed joins"
            )
            consumer.poll(timeout_ms=1)
            resumed += resume_stranded_join(consumer)
        assert {tp.partition for tp in consumer.assignment()} == {0, 1, 2}
    finally:
        consumer.close(autocommit=False)
        admin.close()


def test_nothing_is_done_for_a_consumer_outside_a_group(kafka_bootstrap: str) -> None:
    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
    try:
        assert resume_stranded_join(consumer) is False
    finally:
        consumer.close()


def members(bootstrap: str, group: str) -> list[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_groups([group])[group]
        return [m.get("group_instance_id") or m["member_id"] for m in described["members"]]
    finally:
        admin.close()


def test_a_static_member_is_removed_from_its_group(
    kafka_bootstrap: str, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    group, instance = f"leave-{unique_name}", new_instance_id()
    consumer = KafkaConsumer(
        f"leave-{unique_name}",
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        group_instance_id=instance,
        session_timeout_ms=45_000,
    )
    deadline = time.monotonic() + 30
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(timeout_ms=500)
    consumer.close(autocommit=False)  # a static member stays until its session expires
    assert members(kafka_bootstrap, group) == [instance]

    with caplog.at_level(logging.INFO, logger="service.kafka_group"):
        leave_group(kafka_bootstrap, group, instance, timeout_s=10)
    assert "left consumer group" in caplog.text, caplog.text
    assert members(kafka_bootstrap, group) == []
