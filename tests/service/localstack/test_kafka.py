from __future__ import annotations

from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer

from service.exceptions import ConfigurationError
from service.localstack.kafka import _cluster_id, fetch_jars


def test_missing_java_is_a_clear_message_with_the_alternative(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no cached jars
    monkeypatch.setenv("PATH", str(tmp_path))  # no java, no mvn
    with pytest.raises(ConfigurationError) as info:
        fetch_jars()
    message = str(info.value)
    assert message.startswith("java not found on PATH")
    assert "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS" in message


@pytest.mark.integration
def test_the_harness_broker_round_trips_a_message(kafka_bootstrap: str, unique_name: str) -> None:
    topic = f"roundtrip-{unique_name}"
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    producer.send(topic, b"hello").get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=30_000,
    )
    try:
        assert next(iter(consumer)).value == b"hello"
    finally:
        consumer.close()


def test_a_cluster_id_never_starts_with_a_dash_the_storage_tool_would_read_as_an_option() -> None:
    dash_first = bytes([0xF8]) + bytes(15)  # URL-safe base64 of 0b111110... starts with "-"
    draws = iter([dash_first, dash_first, bytes(range(16))])
    cluster_id = _cluster_id(lambda: next(draws))
    assert cluster_id == "AAECAwQFBgcICQoLDA0ODw"
    assert next(draws, None) is None
