"""The dispatcher against a real HTTP receiver on loopback that fails, throttles and goes down."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from prometheus_client import REGISTRY

from service.config import Settings
from service.store.repository import Store
from service.webhooks.dispatcher import WebhookDispatcher
from service.webhooks.signing import verify
from tests.service.conftest import anomaly_row, wait_until, webhook_values
from tests.service.webhooks.receiver import Receiver, Script, always

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def fast_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_backoff_base_s": 0.1,
            "webhook_backoff_max_s": 0.4,
            "webhook_poll_s": 0.05,
            "webhook_timeout_s": 2.0,
            "webhook_max_attempts": 30,
        }
    )


@pytest.fixture
def running(
    store: Store, fast_settings: Settings
) -> Iterator[Callable[[Settings | None], WebhookDispatcher]]:
    """Start dispatchers in threads, as `auditlens serve` does; stopped at teardown."""
    started: list[tuple[WebhookDispatcher, threading.Thread]] = []

    def start(settings: Settings | None = None) -> WebhookDispatcher:
        dispatcher = WebhookDispatcher(settings or fast_settings, store)
        thread = threading.Thread(target=dispatcher.run, name="webhooks", daemon=True)
        thread.start()
        started.append((dispatcher, thread))
        return dispatcher

    yield start
    for dispatcher, thread in started:
        dispatcher.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.fixture
def receiver() -> Iterator[Callable[[Script], Receiver]]:
    made: list[Receiver] = []

    def make(script: Script) -> Receiver:
        made.append(Receiver(script).start())
        return made[-1]

    yield make
    for r in made:
        r.stop()


def counter(outcome: str) -> float:
    value = REGISTRY.get_sample_value("auditlens_webhook_deliveries_total", {"outcome": outcome})
    return value or 0.0


def test_every_alert_arrives_signed_through_errors_throttling_and_an_outage(
    store: Store,
    running: Callable[[Settings | None], WebhookDispatcher],
    receiver: Callable[[Script], Receiver],
) -> None:
    def script(n: int) -> tuple[int, dict[str, str]]:
        if n == 1:
            return 500, {}
        if n == 2:
            return 429, {"Retry-After": "1"}
        return 204, {}

    hook = receiver(script)
    endpoint = store.create_webhook(
        webhook_values(url=hook.url, secret=SECRET, group_window_s=0), created_by="adm"
    )
    delivered_before, retried_before = counter("delivered"), counter("retry")
    store.insert_anomalies([anomaly_row(f"a{i}", actor=f"user{i}") for i in range(3)])
    running(None)
    hook.wait_for(3)
    hook.stop()  # the receiver goes down: connections are refused
    store.insert_anomalies([anomaly_row("during-outage", actor="user9")])
    time.sleep(1.5)
    hook.start()  # back on the same port
    wait_until(lambda: store.outbox_counts(endpoint.id) == {"delivered": 4}, timeout_s=30.0)

    by_message: dict[str, list[Any]] = {}
    for request in hook.received:
        by_message.setdefault(request.headers["webhook-id"], []).append(request)
        assert verify(SECRET, request.headers, request.body, now=int(request.at))
        assert request.headers["content-type"] == "application/json"
    assert len(by_message) == 4
    for requests in by_message.values():
        # one success per alert; retries carry the same id and the same bytes
        assert [r.status for r in requests][-1] == 204
        assert sum(1 for r in requests if r.status == 204) == 1
        assert len({r.body for r in requests}) == 1
    throttled = next(rs for rs in by_message.values() if rs[0].status == 429)
    assert throttled[1].at - throttled[0].at >= 1.0  # Retry-After honoured
    assert any(rs[0].status == 500 for rs in by_message.values())
    payloads = [orjson.loads(rs[-1].body) for rs in by_message.values()]
    assert {p["type"] for p in payloads} == {"anomaly.created"}
    assert sorted(p["data"]["event_id"] for p in payloads) == ["a0", "a1", "a2", "during-outage"]
    assert all(p["data"]["count"] == 1 for p in payloads)

    attempts = store.list_deliveries(endpoint.id, limit=500)
    refused = [a for a in attempts if a.status_code is None]
    assert refused, "the outage should show as failed attempts"
    # Refused connections (and a request cut off by the shutdown itself) are retried.
    transport_errors = ("ConnectError: ", "RemoteProtocolError: ", "ReadError: ")
    assert all(
        a.outcome == "retry" and (a.error or "").startswith(transport_errors) for a in refused
    )
    assert any((a.error or "").startswith("ConnectError: ") for a in refused)
    assert {a.status_code for a in attempts} >= {500, 429, 204, None}
    assert sorted(
        a.attempt for a in attempts if a.message_id == throttled[0].headers["webhook-id"]
    )[:2] == [1, 2]
    assert counter("delivered") - delivered_before == 4
    assert counter("retry") - retried_before == len(attempts) - 4


def test_repeats_within_the_window_arrive_as_one_alert_with_a_count(
    store: Store,
    running: Callable[[Settings | None], WebhookDispatcher],
    receiver: Callable[[Script], Receiver],
) -> None:
    hook = receiver(always(200))
    endpoint = store.create_webhook(
        webhook_values(url=hook.url, secret=SECRET, group_window_s=2), created_by="adm"
    )
    rbac = [{"feature": "touches_rbac", "value": 1.0, "typical": 0.0, "contribution": 0.9}]
    hour = [{"feature": "hour_of_day", "value": 3.0, "typical": 14.0, "contribution": 0.9}]
    running(None)
    store.insert_anomalies([anomaly_row("r1", actor="mallory", explanation=rbac)])
    store.insert_anomalies(
        [
            anomaly_row("r2", actor="mallory", explanation=rbac),
            anomaly_row("other-feature", actor="mallory", explanation=hour),
        ]
    )
    store.insert_anomalies([anomaly_row("r3", actor="mallory", explanation=rbac)])
    wait_until(lambda: store.outbox_counts(endpoint.id) == {"delivered": 2}, timeout_s=30.0)
    bodies = sorted(
        (orjson.loads(r.body)["data"] for r in hook.received), key=lambda d: -d["count"]
    )
    assert [(d["event_id"], d["count"]) for d in bodies] == [("r1", 3), ("other-feature", 1)]
    assert len(bodies[0]["anomaly_ids"]) == 3


def test_410_disables_the_endpoint_and_cancels_its_queue(
    store: Store,
    running: Callable[[Settings | None], WebhookDispatcher],
    receiver: Callable[[Script], Receiver],
    fast_settings: Settings,
) -> None:
    hook = receiver(always(410))
    endpoint = store.create_webhook(
        webhook_values(url=hook.url, secret=SECRET, group_window_s=0), created_by="adm"
    )
    store.insert_anomalies([anomaly_row(f"g{i}", actor=f"u{i}") for i in range(5)])
    running(fast_settings.model_copy(update={"webhook_concurrency": 1}))
    wait_until(lambda: not store.get_webhook(endpoint.id).enabled, timeout_s=30.0)
    wait_until(lambda: "delivering" not in store.outbox_counts(endpoint.id), timeout_s=30.0)
    disabled = store.get_webhook(endpoint.id)
    assert disabled.disabled_reason is not None
    assert disabled.disabled_reason.startswith("the receiver answered 410 Gone")
    assert store.outbox_counts(endpoint.id) == {"cancelled": 5}
    assert len(hook.received) < 5  # the rest were never sent
    store.insert_anomalies([anomaly_row("after")])
    assert store.outbox_counts(endpoint.id) == {"cancelled": 5}  # nothing new is queued


def test_an_alert_is_dead_after_the_maximum_attempts(
    store: Store,
    running: Callable[[Settings | None], WebhookDispatcher],
    receiver: Callable[[Script], Receiver],
    fast_settings: Settings,
) -> None:
    hook = receiver(always(503))
    endpoint = store.create_webhook(
        webhook_values(url=hook.url, secret=SECRET, group_window_s=0), created_by="adm"
    )
    store.insert_anomalies([anomaly_row("doomed")])
    running(fast_settings.model_copy(update={"webhook_max_attempts": 3}))
    wait_until(lambda: store.outbox_counts(endpoint.id) == {"dead": 1}, timeout_s=30.0)
    attempts = sorted(store.list_deliveries(endpoint.id, limit=10), key=lambda a: a.attempt)
    assert [(a.attempt, a.outcome, a.status_code) for a in attempts] == [
        (1, "retry", 503),
        (2, "retry", 503),
        (3, "dead", 503),
    ]
    assert attempts[-1].error == "receiver answered 503; gave up after 3 attempts"
    assert len(hook.received) == 3
    assert len({r.headers["webhook-id"] for r in hook.received}) == 1


def test_a_private_address_is_refused_at_delivery_without_the_setting(
    store: Store,
    running: Callable[[Settings | None], WebhookDispatcher],
    receiver: Callable[[Script], Receiver],
    fast_settings: Settings,
) -> None:
    """An endpoint stored while private addresses were allowed is not called once they are not."""
    hook = receiver(always(204))
    endpoint = store.create_webhook(
        webhook_values(url=hook.url, secret=SECRET, group_window_s=0), created_by="adm"
    )
    store.insert_anomalies([anomaly_row("x")])
    running(fast_settings.model_copy(update={"webhook_allow_private": False}))
    wait_until(lambda: len(store.list_deliveries(endpoint.id, limit=10)) >= 1, timeout_s=30.0)
    [first, *_] = sorted(store.list_deliveries(endpoint.id, limit=10), key=lambda a: a.attempt)
    assert first.status_code is None
    assert first.error is not None
    assert first.error.startswith("refused: webhook URL host 127.0.0.1 resolves to 127.0.0.1")
    assert hook.received == []


def test_a_broken_endpoint_fails_its_own_messages_without_stalling_the_queue(
    store: Store, fast_settings: Settings, receiver: Callable[[Script], Receiver]
) -> None:
    hook = receiver(always(204))
    broken = store.create_webhook(
        webhook_values(url=hook.url, secret="not-a-secret", group_window_s=0), created_by="adm"
    )
    healthy = store.create_webhook(
        webhook_values(url=hook.url, secret=SECRET, group_window_s=0), created_by="adm"
    )
    store.insert_anomalies([anomaly_row("x")])
    dispatcher = WebhookDispatcher(
        fast_settings.model_copy(update={"webhook_max_attempts": 1}), store
    )
    try:
        assert dispatcher.run_once() == 2
    finally:
        dispatcher.close()
    [attempt] = store.list_deliveries(broken.id, limit=5)
    assert (attempt.outcome, attempt.error) == (
        "dead",
        "InvalidSecretError: a signing secret starts with whsec_; gave up after 1 attempts",
    )
    assert store.outbox_counts(healthy.id) == {"delivered": 1}


def test_the_dispatcher_survives_a_postgresql_restart_and_delivers_after_it(
    fast_settings: Settings, receiver: Callable[[Script], Receiver]
) -> None:
    """A real cluster stopped with pg_ctl and started again: the dispatcher's passes fail
    while it is down, and it delivers again by itself once it is back."""
    from service.localstack.postgres import PostgresCluster

    with PostgresCluster() as cluster:
        store = Store(cluster.url, connect_timeout_s=2.0)
        store.create_schema()
        hook = receiver(always(204))
        store.create_webhook(
            webhook_values(url=hook.url, secret=SECRET, group_window_s=0), created_by="adm"
        )
        dispatcher = WebhookDispatcher(fast_settings, store)
        thread = threading.Thread(target=dispatcher.run, name="webhooks", daemon=True)
        thread.start()
        try:
            store.insert_anomalies([anomaly_row("before", actor="user1")])
            hook.wait_for(1)
            cluster.pause()
            time.sleep(3)  # passes fail: logged, retried
            assert thread.is_alive()
            cluster.resume()
            back = time.monotonic()
            store.insert_anomalies([anomaly_row("after", actor="user2")])
            hook.wait_for(2, timeout_s=30)
            print(f"dispatcher: delivering again {time.monotonic() - back:.2f} s after")
            bodies = [orjson.loads(r.body)["data"]["event_id"] for r in hook.received]
            assert sorted(bodies) == ["after", "before"]
        finally:
            dispatcher.stop()
            thread.join(timeout=10)
            store.close()
