"""Suppression rules: analysts silence known-benign patterns without touching the model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.store.alerting import MATCH_FIELDS
from service.store.base import StoreBase
from service.store.exceptions import InvalidChangeError, NotFoundError
from service.store.tables import Anomaly, Suppression, utcnow


@dataclass(frozen=True)
class SuppressionView:
    """A rule and how many stored anomalies it has suppressed so far."""

    rule: Suppression
    suppressed: int


def active_rules(session: Session, now: datetime) -> list[dict[str, Any]]:
    """Rules in force at ``now``, as plain mappings for :class:`SuppressionIndex`."""
    rows = session.execute(
        select(Suppression.id, *(getattr(Suppression, f) for f in MATCH_FIELDS)).where(
            or_(Suppression.expires_at.is_(None), Suppression.expires_at > now)
        )
    )
    return [dict(row._mapping) for row in rows]


def new_rule(
    values: Mapping[str, str | None],
    reason: str,
    expires_at: datetime | None,
    created_by: str,
    now: datetime,
) -> Suppression:
    """A validated, unsaved rule; InvalidChangeError names what is wrong."""
    pinned = {f: values.get(f) for f in MATCH_FIELDS}
    if all(v is None for v in pinned.values()):
        raise InvalidChangeError(
            f"a suppression needs at least one of {', '.join(MATCH_FIELDS)}; "
            "a rule without fields would silence every anomaly"
        )
    if expires_at is not None and expires_at <= now:
        raise InvalidChangeError(f"expires_at {expires_at.isoformat()} is not in the future")
    return Suppression(
        **pinned, reason=reason, expires_at=expires_at, created_at=now, created_by=created_by
    )


class SuppressionStore(StoreBase):
    def create_suppression(
        self,
        values: Mapping[str, str | None],
        reason: str,
        expires_at: datetime | None,
        created_by: str,
    ) -> Suppression:
        rule = new_rule(values, reason, expires_at, created_by, utcnow())
        with self.sessions.begin() as session:
            session.add(rule)
        return rule

    def list_suppressions(self, include_expired: bool = False) -> list[SuppressionView]:
        hits = (
            select(Anomaly.suppression_id, func.count().label("n"))
            .where(Anomaly.suppression_id.is_not(None))
            .group_by(Anomaly.suppression_id)
            .subquery()
        )
        query = (
            select(Suppression, func.coalesce(hits.c.n, 0))
            .outerjoin(hits, hits.c.suppression_id == Suppression.id)
            .order_by(Suppression.id)
        )
        if not include_expired:
            now = utcnow()
            query = query.where(or_(Suppression.expires_at.is_(None), Suppression.expires_at > now))
        with self.sessions() as session:
            return [SuppressionView(rule, int(n)) for rule, n in session.execute(query)]

    def get_suppression(self, suppression_id: int) -> SuppressionView:
        with self.sessions() as session:
            rule = session.get(Suppression, suppression_id)
            if rule is None:
                raise NotFoundError("suppression", suppression_id)
            count = session.scalar(
                select(func.count())
                .select_from(Anomaly)
                .where(Anomaly.suppression_id == suppression_id)
            )
            return SuppressionView(rule, int(count or 0))

    def delete_suppression(self, suppression_id: int) -> None:
        """Remove a rule; anomalies it suppressed keep their status, not the link."""
        with self.sessions.begin() as session:
            rule = session.get(Suppression, suppression_id)
            if rule is None:
                raise NotFoundError("suppression", suppression_id)
            session.delete(rule)

    def expire_suppression(self, suppression_id: int) -> Suppression:
        """End a rule now (idempotent); unlike deleting, its record and its count stay."""
        now = utcnow()
        with self.sessions.begin() as session:
            rule = session.get(Suppression, suppression_id, with_for_update=True)
            if rule is None:
                raise NotFoundError("suppression", suppression_id)
            if rule.expires_at is None or rule.expires_at > now:
                rule.expires_at = now
            return rule
