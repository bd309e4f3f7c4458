"""Reading the feed as an analyst does: newest or highest first, counted, by entity.

The SIEM feed (:meth:`~service.store.anomalies.AnomalyStore.list_anomalies`)
walks commit order; a person wants the worst or the latest first. These pages
use keyset cursors over ``(score, id)`` or ``(event_time, id)`` descending, so a
page never repeats or skips a row that was already stored when paging started.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select, tuple_

from service.store.anomalies import _PG_HORIZON, AnomalyFilter
from service.store.base import StoreBase
from service.store.cursor import Position, encode_cursor
from service.store.exceptions import InvalidCursorError
from service.store.tables import Anomaly

Order = Literal["score", "time"]
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Page:
    items: list[Anomaly]
    next_cursor: str | None


def _encode(order: Order, row: Anomaly) -> str:
    key = repr(row.score) if order == "score" else row.event_time.isoformat()
    return base64.urlsafe_b64encode(f"{order}|{key}|{row.id}".encode()).decode().rstrip("=")


def _decode(order: Order, cursor: str) -> tuple[float | datetime, int]:
    """The position after which a page starts; InvalidCursorError for a foreign cursor.

    >>> from datetime import UTC
    >>> row = Anomaly(id=7, score=93.5, event_time=datetime(2026, 1, 2, tzinfo=UTC))
    >>> _decode("score", _encode("score", row))
    (93.5, 7)
    >>> _decode("time", _encode("score", row))
    Traceback (most recent call last):
    ...
    service.store.exceptions.InvalidCursorError: cursor belongs to another sort order
    """
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, key, row_id = text.split("|")
        if kind != order:
            raise InvalidCursorError("cursor belongs to another sort order")
        value: float | datetime = float(key) if order == "score" else datetime.fromisoformat(key)
        return value, int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError("cursor is not one this console issued") from exc


class BrowseStore(StoreBase):
    def browse_anomalies(
        self, filters: AnomalyFilter, order: Order, limit: int, cursor: str | None = None
    ) -> Page:
        """One page, highest score (or latest event) first, after ``cursor``."""
        column = Anomaly.score if order == "score" else Anomaly.event_time
        query = (
            select(Anomaly)
            .where(*filters.conditions())
            .order_by(column.desc(), Anomaly.id.desc())
            .limit(limit + 1)
        )
        if cursor:
            value, row_id = _decode(order, cursor)
            query = query.where(tuple_(column, Anomaly.id) < (value, row_id))
        with self.sessions() as session:
            rows = list(session.scalars(query))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, _encode(order, rows[-1]) if more and rows else None)

    def severity_counts(self, filters: AnomalyFilter) -> dict[str, int]:
        """Anomalies per severity under ``filters`` (every severity, zero included)."""
        query = (
            select(Anomaly.severity, func.count())
            .where(*filters.conditions())
            .group_by(Anomaly.severity)
        )
        with self.sessions() as session:
            found = {severity: int(n) for severity, n in session.execute(query)}
        return {severity: found.get(severity, 0) for severity in SEVERITIES}

    def feed_head(self) -> str | None:
        """A feed cursor at the newest committed anomaly: pulling from it yields only newer ones.

        The console follows new anomalies with the SIEM feed's own cursor, so
        none is missed while writers commit out of id order (see
        :mod:`service.store.cursor`).
        """
        query = select(Anomaly.xact_id, Anomaly.id).order_by(
            Anomaly.xact_id.desc(), Anomaly.id.desc()
        )
        if self.is_postgres:
            query = query.where(Anomaly.xact_id < _PG_HORIZON)
        with self.sessions() as session:
            newest = session.execute(query.limit(1)).first()
        return None if newest is None else encode_cursor(Position(newest[0], newest[1]))

    def entity_anomalies(self, actor: str, limit: int = 20) -> list[Anomaly]:
        """The actor's stored anomalies, latest event first (verdicts included)."""
        query = (
            select(Anomaly)
            .where(Anomaly.actor == actor)
            .order_by(Anomaly.event_time.desc(), Anomaly.id.desc())
            .limit(limit)
        )
        with self.sessions() as session:
            return list(session.scalars(query))
