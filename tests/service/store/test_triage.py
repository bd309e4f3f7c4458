from __future__ import annotations

from datetime import timedelta

import pytest

from service.store.exceptions import InvalidChangeError, NotFoundError
from service.store.repository import AnomalyFilter, Store
from service.store.tables import utcnow
from service.store.triage import SuppressRequest
from tests.service.conftest import anomaly_row


def stored_id(store: Store, event_id: str = "a", **overrides: object) -> int:
    store.insert_anomalies([anomaly_row(event_id, **overrides)])
    items = store.list_anomalies(AnomalyFilter(), 100)[0]
    return next(i.id for i in items if i.event_id == event_id)


def test_each_changed_field_is_recorded_with_who_and_from_to(store: Store) -> None:
    anomaly_id = stored_id(store)
    first = store.triage(anomaly_id, {"status": "acknowledged", "assignee": "bob"}, "k1")
    assert [(c.field, c.old_value, c.new_value) for c in first.changes] == [
        ("status", "new", "acknowledged"),
        ("assignee", None, "bob"),
    ]
    closed = store.triage(
        anomaly_id, {"status": "closed", "verdict": "true_positive"}, "k2", note="confirmed"
    )
    assert (closed.anomaly.status, closed.anomaly.verdict) == ("closed", "true_positive")
    history = store.history(anomaly_id)
    assert [(h.changed_by, h.field, h.old_value, h.new_value) for h in history] == [
        ("k1", "status", "new", "acknowledged"),
        ("k1", "assignee", None, "bob"),
        ("k2", "status", "acknowledged", "closed"),
        ("k2", "verdict", None, "true_positive"),
        ("k2", "note", None, "confirmed"),
    ]
    assert all(h.changed_at.tzinfo is not None for h in history)
    stored = store.get_anomaly(anomaly_id)
    assert stored is not None
    assert stored.updated_at is not None


def test_an_unchanged_value_records_nothing(store: Store) -> None:
    anomaly_id = stored_id(store)
    outcome = store.triage(anomaly_id, {"status": "new"}, "k1")
    assert outcome.changes == []
    assert store.history(anomaly_id) == []


def test_reopening_clears_the_verdict(store: Store) -> None:
    anomaly_id = stored_id(store)
    store.triage(anomaly_id, {"status": "closed", "verdict": "benign_positive"}, "k1")
    reopened = store.triage(anomaly_id, {"status": "in_progress"}, "k1")
    assert reopened.anomaly.verdict is None
    assert [(c.field, c.new_value) for c in reopened.changes] == [
        ("status", "in_progress"),
        ("verdict", None),
    ]


def test_a_verdict_needs_closing(store: Store) -> None:
    anomaly_id = stored_id(store)
    with pytest.raises(InvalidChangeError, match="a verdict is set when closing"):
        store.triage(anomaly_id, {"verdict": "true_positive"}, "k1")
    assert store.history(anomaly_id) == []


def test_closing_as_false_positive_can_create_a_suppression(store: Store) -> None:
    anomaly_id = stored_id(store, actor="ci-bot", action="delete")
    expires = utcnow() + timedelta(days=7)
    outcome = store.triage(
        anomaly_id,
        {"status": "closed", "verdict": "false_positive"},
        "k1",
        suppress=SuppressRequest(["actor", "action"], "nightly cleanup job", expires),
    )
    rule = outcome.suppression
    assert rule is not None
    assert (rule.actor, rule.action, rule.resource, rule.reason) == (
        "ci-bot",
        "delete",
        None,
        "nightly cleanup job",
    )
    assert rule.created_by == "k1"
    assert outcome.changes[-1].field == "suppression"
    assert outcome.changes[-1].new_value == str(rule.id)
    # The next matching anomaly is stored suppressed.
    store.insert_anomalies([anomaly_row("again", actor="ci-bot", action="delete")])
    again = [i for i in store.list_anomalies(AnomalyFilter(), 10)[0] if i.event_id == "again"]
    assert again[0].status == "suppressed"
    assert again[0].suppression_id == rule.id


def test_suppress_requires_a_false_positive_close(store: Store) -> None:
    anomaly_id = stored_id(store)
    with pytest.raises(InvalidChangeError, match="only when closing as a false positive"):
        store.triage(
            anomaly_id,
            {"status": "closed", "verdict": "true_positive"},
            "k1",
            suppress=SuppressRequest(["actor"], "r"),
        )


def test_suppress_on_a_field_the_anomaly_lacks_is_refused_and_nothing_changes(
    store: Store,
) -> None:
    anomaly_id = stored_id(store, namespace=None)
    with pytest.raises(InvalidChangeError, match=f"anomaly {anomaly_id} has no namespace"):
        store.triage(
            anomaly_id,
            {"status": "closed", "verdict": "false_positive"},
            "k1",
            suppress=SuppressRequest(["namespace"], "r"),
        )
    unchanged = store.get_anomaly(anomaly_id)
    assert unchanged is not None
    assert unchanged.status == "new"
    assert store.list_suppressions() == []


def test_unknown_anomaly(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no anomaly with id 424242"):
        store.triage(424242, {"status": "closed"}, "k1")
    with pytest.raises(NotFoundError, match="no anomaly with id 424242"):
        store.history(424242)
