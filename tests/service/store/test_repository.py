from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.store.exceptions import InvalidCursorError, NotFoundError
from service.store.repository import AnomalyFilter, Store
from tests.service.conftest import anomaly_row


def test_insert_is_idempotent_on_event_key(store: Store) -> None:
    assert store.insert_anomalies([anomaly_row("a"), anomaly_row("b")]) == 2
    assert store.insert_anomalies([anomaly_row("b"), anomaly_row("c")]) == 1
    assert store.count_anomalies() == 3


def test_cursor_pages_through_everything_once(store: Store) -> None:
    store.insert_anomalies([anomaly_row(f"e{i}") for i in range(25)])
    seen: list[str] = []
    cursor = None
    while True:
        items, cursor, has_more = store.list_anomalies(AnomalyFilter(), limit=7, cursor=cursor)
        seen.extend(i.event_id for i in items)
        if not has_more:
            break
    assert seen == [f"e{i}" for i in range(25)]
    # Resuming from the final cursor returns only what was written afterwards.
    store.insert_anomalies([anomaly_row("late")])
    items, _, has_more = store.list_anomalies(AnomalyFilter(), limit=7, cursor=cursor)
    assert [i.event_id for i in items] == ["late"]
    assert not has_more


def test_filters(store: Store) -> None:
    store.insert_anomalies(
        [
            anomaly_row("low", score=41.0, severity="medium", actor="bob"),
            anomaly_row(
                "crit",
                score=90.0,
                severity="critical",
                namespace="prod",
                event_time=datetime(2026, 3, 3, tzinfo=UTC),
            ),
        ]
    )

    def ids(f: AnomalyFilter) -> list[str]:
        return [i.event_id for i in store.list_anomalies(f, limit=10)[0]]

    assert ids(AnomalyFilter(min_score=50)) == ["crit"]
    assert ids(AnomalyFilter(severity="medium")) == ["low"]
    assert ids(AnomalyFilter(actor="bob")) == ["low"]
    assert ids(AnomalyFilter(namespace="prod")) == ["crit"]
    assert ids(AnomalyFilter(since=datetime(2026, 3, 3, tzinfo=UTC))) == ["crit"]
    assert ids(AnomalyFilter(until=datetime(2026, 3, 3, tzinfo=UTC))) == ["low"]


def test_foreign_cursor_is_rejected(store: Store) -> None:
    with pytest.raises(InvalidCursorError):
        store.list_anomalies(AnomalyFilter(), limit=5, cursor="bm90LWEtY3Vyc29y")


def test_api_keys_store_only_a_hash(store: Store) -> None:
    key = store.create_api_key("analyst")
    principal = store.authenticate(key)
    assert principal is not None
    assert principal.role == "analyst"
    assert key.startswith(f"al_{principal.key_id}_")
    assert store.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.authenticate("al_nope_nope") is None
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_hash FROM api_keys").scalars().all()
    assert key.split("_", 2)[2] not in stored


def test_revoked_key_stops_authenticating_and_is_listed(store: Store) -> None:
    issued = store.issue_api_key("reader", name="siem", created_by="adm1")
    kept = store.create_api_key("admin")
    revoked = store.revoke_api_key(issued.record.key_id)
    assert revoked.revoked
    assert revoked.revoked_at is not None
    assert store.authenticate(issued.key) is None
    assert store.authenticate(kept) is not None
    again = store.revoke_api_key(issued.record.key_id)  # idempotent: first revocation time kept
    assert again.revoked_at == revoked.revoked_at
    listed = {k.key_id: k for k in store.list_api_keys()}
    assert listed[issued.record.key_id].name == "siem"
    assert listed[issued.record.key_id].created_by == "adm1"
    assert listed[issued.record.key_id].revoked


def test_revoking_an_unknown_key_names_it(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no API key with id nope"):
        store.revoke_api_key("nope")


def test_unknown_columns_from_a_newer_scorer_are_ignored(store: Store) -> None:
    assert store.insert_anomalies([anomaly_row("x", account="123456789012")]) == 1


def test_times_come_back_timezone_aware(store: Store) -> None:
    store.insert_anomalies([anomaly_row("t")])
    [row] = store.list_anomalies(AnomalyFilter(), limit=1)[0]
    assert row.event_time == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert row.stored_at.tzinfo is not None
