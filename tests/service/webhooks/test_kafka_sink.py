"""Alert endpoints on a Kafka topic, against the real broker, on both stores."""

from __future__ import annotations

import gc
import logging
import time

import orjson
import pytest
from kafka import KafkaConsumer

from service.config import Settings
from service.store.repository import Store
from service.webhooks.dispatcher import WebhookDispatcher
from service.webhooks.exceptions import UnsafeURLError
from service.webhooks.kafka_sink import kafka_topic
from service.webhooks.signing import verify
from tests.service.conftest import anomaly_row, webhook_values

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.mark.parametrize(
    "url",
    [
        "kafka://",
        "kafka://a b",
        "kafka://alerts/high",
        "kafka://..",
        "kafka://x?y=1",
        "kafka://" + "a" * 250,
    ],
)
def test_a_kafka_url_must_name_one_valid_topic(url: str) -> None:
    with pytest.raises(UnsafeURLError) as raised:
        kafka_topic(url)
    assert raised.value.reason == "bad_topic"


def _dispatch_until_settled(dispatcher: WebhookDispatcher, store: Store, endpoint_id: int) -> None:
    deadline = time.monotonic() + 60
    while "pending" in store.outbox_counts(endpoint_id) or not store.outbox_counts(endpoint_id):
        assert time.monotonic() < deadline, store.outbox_counts(endpoint_id)
        dispatcher.run_once()


@pytest.mark.integration
def test_alerts_reach_a_topic_keyed_by_webhook_id_and_signed(
    store: Store, settings: Settings, kafka_bootstrap: str, unique_name: str
) -> None:
    topic = f"alerts-{unique_name}"
    endpoint = store.create_webhook(
        webhook_values(url=f"kafka://{topic}", secret=SECRET), created_by="adm"
    )
    store.insert_anomalies([anomaly_row(f"a{i}", actor=f"user{i}") for i in range(3)])
    dispatcher = WebhookDispatcher(
        settings.model_copy(update={"kafka_bootstrap_servers": kafka_bootstrap}), store
    )
    try:
        _dispatch_until_settled(dispatcher, store, endpoint.id)
    finally:
        dispatcher.close()
    assert store.outbox_counts(endpoint.id) == {"delivered": 3}

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=10_000,
    )
    try:
        records = list(consumer)
    finally:
        consumer.close()
    assert len(records) == 3
    event_ids = []
    for record in records:
        headers = {name: value.decode() for name, value in record.headers}
        assert record.key.decode() == headers["webhook-id"]
        assert headers["content-type"] == "application/json"
        assert verify(SECRET, headers, record.value, now=int(time.time()))
        payload = orjson.loads(record.value)
        assert payload["type"] == "anomaly.created"
        event_ids.append(payload["data"]["event_id"])
    assert sorted(event_ids) == ["a0", "a1", "a2"]
    attempts = store.list_deliveries(endpoint.id, limit=10)
    assert {(a.outcome, a.status_code) for a in attempts} == {("delivered", None)}


# kafka-python drops the sockets of refused connections without closing them; the
# garbage collector closes them (with a ResourceWarning), so no descriptor leaks.
@pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. <socket.socket:pytest.PytestUnraisableExceptionWarning"
)
@pytest.mark.integration
def test_an_unreachable_cluster_is_retried_not_lost(
    store: Store, settings: Settings, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = store.create_webhook(
        webhook_values(url=f"kafka://alerts-{unique_name}", secret=SECRET), created_by="adm"
    )
    store.insert_anomalies([anomaly_row("a1")])
    unreachable = settings.model_copy(
        update={"kafka_bootstrap_servers": "127.0.0.1:9", "webhook_timeout_s": 1.0}
    )
    dispatcher = WebhookDispatcher(unreachable, store)
    # kafka-python's connection-failure log records would keep the refused sockets
    # alive past this test; without them, the collection below reclaims them here,
    # under this test's warning filters, not in whichever test runs the collector next.
    with caplog.at_level(logging.CRITICAL, logger="kafka"):
        try:
            assert dispatcher.run_once() == 1
        finally:
            dispatcher.close()
            gc.collect()
    [attempt] = store.list_deliveries(endpoint.id, limit=10)
    assert attempt.outcome == "retry"
    assert attempt.error
    assert attempt.error.startswith("KafkaTimeoutError: ")
    assert store.outbox_counts(endpoint.id) == {"pending": 1}
