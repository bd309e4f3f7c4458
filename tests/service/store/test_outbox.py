"""The webhook outbox: written with the anomaly, claimed once, grouped, settled per attempt."""

from __future__ import annotations

import threading
from datetime import timedelta

from service.store.outbox import AlertContent, AttemptResult
from service.store.repository import Store
from service.store.tables import utcnow
from tests.service.conftest import anomaly_row, webhook_values


def body(content: AlertContent) -> str:
    return f'{{"first": {content.anomaly.id}, "count": {content.count}}}'


def test_messages_follow_endpoint_severity_and_filters(store: Store) -> None:
    everything = store.create_webhook(webhook_values(), "adm")
    prod_high = store.create_webhook(webhook_values(min_severity="high", namespace="prod"), "adm")
    off = store.create_webhook(webhook_values(), "adm")
    store.update_webhook(off.id, {"enabled": False})
    store.insert_anomalies(
        [
            anomaly_row("prod-crit", severity="critical", namespace="prod", actor="a"),
            anomaly_row("prod-med", severity="medium", namespace="prod", actor="b"),
            anomaly_row("dev-crit", severity="critical", namespace="dev", actor="c"),
        ]
    )
    assert store.outbox_counts(everything.id) == {"pending": 3}
    assert store.outbox_counts(prod_high.id) == {"pending": 1}
    assert store.outbox_counts(off.id) == {}
    # A replayed batch stores nothing new and queues nothing new.
    store.insert_anomalies([anomaly_row("prod-crit", severity="critical", namespace="prod")])
    assert store.outbox_counts(everything.id) == {"pending": 3}


def test_a_claim_is_exclusive_until_its_lease_expires(store: Store) -> None:
    store.create_webhook(webhook_values(), "adm")
    store.insert_anomalies([anomaly_row("a")])
    [first] = store.claim_due(10, lease_s=60, render=body)
    assert first.attempt == 1
    assert store.claim_due(10, lease_s=60, render=body) == []
    later = utcnow() + timedelta(seconds=61)
    [again] = store.claim_due(10, lease_s=60, render=body, now=later)
    assert (again.message_id, again.payload) == (first.message_id, first.payload)
    # The first dispatcher's late answer is logged but no longer moves the message.
    late = AttemptResult("delivered", attempted_at=utcnow(), duration_ms=5.0, status_code=200)
    assert store.record_attempt(first, late) is False
    assert store.outbox_counts() == {"delivering": 1}
    assert store.record_attempt(again, late) is True
    assert store.outbox_counts() == {"delivered": 1}


def test_concurrent_claimers_never_share_a_message(store: Store) -> None:
    store.create_webhook(webhook_values(), "adm")
    store.insert_anomalies([anomaly_row(f"m{i}", actor=f"u{i}") for i in range(60)])
    claimed: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        while True:
            batch = store.claim_due(7, lease_s=60, render=body)
            if not batch:
                return
            with lock:
                claimed.extend(m.message_id for m in batch)

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 60
    assert len(set(claimed)) == 60


def test_repeats_join_the_waiting_message_of_their_group(store: Store) -> None:
    store.create_webhook(webhook_values(group_window_s=60), "adm")
    store.insert_anomalies([anomaly_row("r1", actor="mallory")])
    store.insert_anomalies([anomaly_row("r2", actor="mallory"), anomaly_row("x", actor="eve")])
    messages = store.outbox_messages()
    assert [(m.count, len(m.anomaly_ids)) for m in messages] == [(2, 2), (1, 1)]
    assert all(m.due_at > utcnow() + timedelta(seconds=50) for m in messages)
    assert store.claim_due(10, lease_s=60, render=body) == []  # held for the window
    later = utcnow() + timedelta(seconds=61)
    claimed = store.claim_due(10, lease_s=60, render=body, now=later)
    assert sorted(m.payload for m in claimed) == sorted(
        [
            f'{{"first": {messages[0].anomaly_id}, "count": 2}}',
            f'{{"first": {messages[1].anomaly_id}, "count": 1}}',
        ]
    )


def test_a_claimed_message_takes_no_more_repeats(store: Store) -> None:
    store.create_webhook(webhook_values(group_window_s=1), "adm")
    store.insert_anomalies([anomaly_row("r1", actor="mallory")])
    later = utcnow() + timedelta(seconds=2)
    [claimed] = store.claim_due(10, lease_s=60, render=body, now=later)
    store.insert_anomalies([anomaly_row("r2", actor="mallory")])
    assert [m.count for m in store.outbox_messages()] == [1, 1]
    assert claimed.payload.endswith('"count": 1}')
