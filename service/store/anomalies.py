"""Storing scored anomalies and reading the feed.

:meth:`AnomalyStore.insert_anomalies` is what the streaming scorer calls before
it commits its Kafka offsets. In one transaction it

1. marks rows matching an active suppression rule ``suppressed``;
2. inserts the rows, skipping event keys already stored (``ON CONFLICT DO
   NOTHING`` on both backends), which turns at-least-once consumption into
   exactly-once effect;
3. writes one webhook outbox message per newly stored, unsuppressed anomaly and
   matching endpoint (or folds a repeat into a pending message of its group).

Because the outbox rows commit with the anomalies, an alert is never lost to a
crash between "stored" and "queued", and never queued for an anomaly that was not
stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, text, tuple_

from service import metrics
from service.store.alerting import SuppressionIndex
from service.store.base import StoreBase
from service.store.cursor import Position, decode_cursor, encode_cursor
from service.store.outbox import enqueue_alerts
from service.store.suppressions import active_rules
from service.store.tables import Anomaly, utcnow

_COLUMNS = frozenset(Anomaly.__table__.columns.keys())
# Rows of transactions older than this are final; see service.store.cursor.
_PG_HORIZON = text("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")


@dataclass(frozen=True)
class AnomalyFilter:
    since: datetime | None = None
    until: datetime | None = None
    min_score: float | None = None
    severity: str | None = None
    source: str | None = None
    actor: str | None = None
    namespace: str | None = None
    status: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(Anomaly.event_time >= self.since)
        if self.until is not None:
            found.append(Anomaly.event_time < self.until)
        if self.min_score is not None:
            found.append(Anomaly.score >= self.min_score)
        for column, value in (
            (Anomaly.severity, self.severity),
            (Anomaly.source, self.source),
            (Anomaly.actor, self.actor),
            (Anomaly.namespace, self.namespace),
            (Anomaly.status, self.status),
        ):
            if value is not None:
                found.append(column == value)
        return found


class AnomalyStore(StoreBase):
    def insert_anomalies(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Store flagged events; returns how many were new (idempotent on ``event_key``).

        Columns the table does not have (a newer scorer's extra fields) are
        ignored rather than failing the batch.
        """
        if not rows:
            return 0
        now = utcnow()
        with self.sessions.begin() as session:
            rules = SuppressionIndex(active_rules(session, now))
            prepared: list[dict[str, Any]] = []
            for row in rows:
                values = {k: v for k, v in row.items() if k in _COLUMNS}
                rule_id = rules.match(values) if rules else None
                values["suppression_id"] = rule_id
                if rule_id is not None:
                    values["status"] = "suppressed"
                values.setdefault("stored_at", now)
                prepared.append(values)
            statement = self.insert_ignoring_conflicts(Anomaly.__table__, "event_key")
            result = session.execute(statement.returning(Anomaly.id, Anomaly.event_key), prepared)
            stored = {key: row_id for row_id, key in result}
            new_rows: list[dict[str, Any]] = []
            for values in prepared:
                row_id = stored.pop(values["event_key"], None)
                if row_id is not None:
                    new_rows.append({**values, "id": row_id})
            alerting = [r for r in new_rows if r["suppression_id"] is None]
            enqueue_alerts(session, alerting, now)
        metrics.ANOMALIES_SUPPRESSED.inc(len(new_rows) - len(alerting))
        return len(new_rows)

    def list_anomalies(
        self, filters: AnomalyFilter, limit: int, cursor: str | None = None
    ) -> tuple[list[Anomaly], str | None, bool]:
        """``(items, next_cursor, has_more)`` in commit order after ``cursor``.

        At the end of the data ``next_cursor`` still points after the last item
        returned (or stays the given cursor), so a SIEM resumes from it later and
        receives every record exactly once, even while writers are committing.
        """
        query = (
            select(Anomaly)
            .where(*filters.conditions())
            .order_by(Anomaly.xact_id, Anomaly.id)
            .limit(limit + 1)
        )
        if cursor:
            after = decode_cursor(cursor)
            query = query.where(tuple_(Anomaly.xact_id, Anomaly.id) > (after.xact_id, after.id))
        if self.is_postgres:
            query = query.where(Anomaly.xact_id < _PG_HORIZON)
        with self.sessions() as session:
            items = list(session.scalars(query))
        has_more = len(items) > limit
        items = items[:limit]
        if not items:
            return items, cursor, has_more
        last = items[-1]
        return items, encode_cursor(Position(last.xact_id, last.id)), has_more

    def get_anomaly(self, anomaly_id: int) -> Anomaly | None:
        with self.sessions() as session:
            return session.get(Anomaly, anomaly_id)

    def count_anomalies(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(Anomaly)) or 0)
