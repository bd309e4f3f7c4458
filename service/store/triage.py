"""Triage: status, verdict, assignee and notes, each change recorded with who and when.

The rules an analyst's change must follow (:func:`plan_changes`) are checked
against the anomaly's current state inside the same transaction that applies
them, with the row locked, so the recorded "from" values are the true ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from service.store.base import StoreBase
from service.store.exceptions import InvalidChangeError, NotFoundError
from service.store.suppressions import new_rule
from service.store.tables import Anomaly, AnomalyChange, Suppression, utcnow

STATUSES = ("new", "acknowledged", "in_progress", "closed")
VERDICTS = ("true_positive", "benign_positive", "false_positive")
TRIAGE_FIELDS = ("status", "verdict", "assignee")


@dataclass(frozen=True)
class SuppressRequest:
    """Create a suppression rule from the anomaly's own values of ``fields``."""

    fields: Sequence[str]
    reason: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class TriageOutcome:
    anomaly: Anomaly
    changes: list[AnomalyChange]
    suppression: Suppression | None


def plan_changes(
    status: str,
    verdict: str | None,
    requested: Mapping[str, str | None],
    suppress: bool = False,
) -> dict[str, str | None]:
    """The field values to set, given the current ``status``/``verdict`` and the request.

    A verdict belongs to a closed anomaly; reopening clears it; a suppression
    rule can only come with closing as a false positive.

    >>> plan_changes("new", None, {"status": "closed", "verdict": "false_positive"})
    {'status': 'closed', 'verdict': 'false_positive'}
    >>> plan_changes("closed", "true_positive", {"status": "in_progress"})
    {'status': 'in_progress', 'verdict': None}
    >>> plan_changes("new", None, {"verdict": "true_positive"})
    Traceback (most recent call last):
    ...
    service.store.exceptions.InvalidChangeError: a verdict is set when closing: \
give status closed with it (the anomaly is new)
    """
    planned = dict(requested)
    new_status = planned.get("status") or status
    if planned.get("verdict") is not None and new_status != "closed":
        raise InvalidChangeError(
            f"a verdict is set when closing: give status closed with it (the anomaly is {status})"
        )
    if "status" in planned and new_status != "closed" and "verdict" not in planned and verdict:
        planned["verdict"] = None
    if suppress:
        new_verdict = planned.get("verdict", verdict)
        if new_status != "closed" or new_verdict != "false_positive":
            raise InvalidChangeError(
                "suppress is allowed only when closing as a false positive: "
                "give status closed and verdict false_positive"
            )
    return planned


class TriageStore(StoreBase):
    def triage(
        self,
        anomaly_id: int,
        requested: Mapping[str, str | None],
        changed_by: str,
        note: str | None = None,
        suppress: SuppressRequest | None = None,
    ) -> TriageOutcome:
        """Apply a triage change atomically; every changed field gets a history entry."""
        unknown = set(requested) - set(TRIAGE_FIELDS)
        if unknown:
            raise ValueError(f"not triage fields: {', '.join(sorted(unknown))}")
        now = utcnow()
        with self.sessions.begin() as session:
            anomaly = session.scalars(
                select(Anomaly).where(Anomaly.id == anomaly_id).with_for_update()
            ).first()
            if anomaly is None:
                raise NotFoundError("anomaly", anomaly_id)
            planned = plan_changes(anomaly.status, anomaly.verdict, requested, suppress is not None)
            changes: list[AnomalyChange] = []

            def record(field: str, old: str | None, new: str | None) -> None:
                changes.append(
                    AnomalyChange(
                        anomaly_id=anomaly_id,
                        changed_at=now,
                        changed_by=changed_by,
                        field=field,
                        old_value=old,
                        new_value=new,
                    )
                )

            for field in TRIAGE_FIELDS:
                if field in planned and planned[field] != getattr(anomaly, field):
                    record(field, getattr(anomaly, field), planned[field])
                    setattr(anomaly, field, planned[field])
            if note:
                record("note", None, note)
            rule: Suppression | None = None
            if suppress is not None:
                values = {f: getattr(anomaly, f) for f in suppress.fields}
                missing = [f for f, v in values.items() if v is None]
                if missing:
                    raise InvalidChangeError(
                        f"anomaly {anomaly_id} has no {', '.join(missing)} to suppress on"
                    )
                rule = new_rule(values, suppress.reason, suppress.expires_at, changed_by, now)
                session.add(rule)
                session.flush()
                record("suppression", None, str(rule.id))
            if changes:
                anomaly.updated_at = now
                session.add_all(changes)
        return TriageOutcome(anomaly, changes, rule)

    def history(self, anomaly_id: int) -> list[AnomalyChange]:
        """Every recorded change of one anomaly, oldest first."""
        with self.sessions() as session:
            if session.get(Anomaly, anomaly_id) is None:
                raise NotFoundError("anomaly", anomaly_id)
            return list(
                session.scalars(
                    select(AnomalyChange)
                    .where(AnomalyChange.anomaly_id == anomaly_id)
                    .order_by(AnomalyChange.id)
                )
            )
