from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.store.exceptions import InvalidCursorError
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
    assert store.authenticate(key) == "analyst"
    assert store.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert store.authenticate("al_nope_nope") is None
    with store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT secret_hash FROM api_keys").scalars().all()
    assert key.split("_", 2)[2] not in stored
