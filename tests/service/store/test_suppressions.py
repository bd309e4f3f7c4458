from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from service.store.exceptions import InvalidChangeError, NotFoundError
from service.store.repository import AnomalyFilter, Store
from service.store.tables import Suppression, utcnow
from tests.service.conftest import anomaly_row, webhook_values


def statuses(store: Store) -> dict[str, str]:
    return {a.event_id: a.status for a in store.list_anomalies(AnomalyFilter(), 100)[0]}


def test_all_given_fields_must_match(store: Store) -> None:
    rule = store.create_suppression(
        {"actor": "ci-bot", "namespace": "build"}, "CI cleans up", None, "k1"
    )
    store.insert_anomalies(
        [
            anomaly_row("both", actor="ci-bot", namespace="build"),
            anomaly_row("actor-only", actor="ci-bot", namespace="prod"),
            anomaly_row("other", actor="alice", namespace="build"),
        ]
    )
    assert statuses(store) == {"both": "suppressed", "actor-only": "new", "other": "new"}
    [view] = store.list_suppressions()
    assert (view.rule.id, view.suppressed) == (rule.id, 1)


def test_expired_rules_no_longer_apply_but_can_be_listed(store: Store) -> None:
    rule = store.create_suppression({"actor": "alice"}, "r", utcnow() + timedelta(seconds=1), "k")
    with store.engine.begin() as conn:  # let it expire without waiting
        conn.execute(
            update(Suppression)
            .where(Suppression.id == rule.id)
            .values(expires_at=datetime(2000, 1, 1, tzinfo=UTC))
        )
    store.insert_anomalies([anomaly_row("late", actor="alice")])
    assert statuses(store) == {"late": "new"}
    assert store.list_suppressions() == []
    assert [v.rule.id for v in store.list_suppressions(include_expired=True)] == [rule.id]


def test_suppressed_anomalies_are_not_alerted(store: Store) -> None:
    store.create_webhook(webhook_values(), created_by="adm")
    store.create_suppression({"actor": "ci-bot"}, "CI", None, "k1")
    store.insert_anomalies([anomaly_row("quiet", actor="ci-bot"), anomaly_row("loud")])
    messages = store.outbox_messages()
    assert len(messages) == 1
    anomaly = store.get_anomaly(messages[0].anomaly_id)
    assert anomaly is not None
    assert anomaly.event_id == "loud"


def test_a_rule_needs_a_field_and_a_future_expiry(store: Store) -> None:
    with pytest.raises(InvalidChangeError, match="needs at least one of source, actor"):
        store.create_suppression({}, "everything", None, "k1")
    with pytest.raises(InvalidChangeError, match="is not in the future"):
        store.create_suppression({"actor": "a"}, "r", utcnow() - timedelta(minutes=1), "k1")


def test_deleting_a_rule_keeps_the_anomalies_it_suppressed(store: Store) -> None:
    rule = store.create_suppression({"actor": "ci-bot"}, "CI", None, "k1")
    store.insert_anomalies([anomaly_row("q", actor="ci-bot")])
    store.delete_suppression(rule.id)
    [row] = store.list_anomalies(AnomalyFilter(), 10)[0]
    assert (row.status, row.suppression_id) == ("suppressed", None)
    with pytest.raises(NotFoundError, match=f"no suppression with id {rule.id}"):
        store.get_suppression(rule.id)
    with pytest.raises(NotFoundError):
        store.delete_suppression(rule.id)
