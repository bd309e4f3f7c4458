"""The optimizer's records: a lease that lets one optimizer act at a time, and the
timeline of decisions about model versions (retrained, promoted, refused, rolled back)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from service.store.base import StoreBase
from service.store.tables import Lease, ModelDecision, utcnow

DECISION_KINDS = (
    "retrained",
    "retrain_failed",
    "approved",
    "promoted",
    "refused",
    "rolled_back",
)


class OptimizerStore(StoreBase):
    def acquire_lease(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take (or renew) the lease ``name`` for ``ttl_s`` seconds; False if another holds it.

        One conditional statement decides, so two processes racing for it cannot
        both win: PostgreSQL re-checks the ``WHERE`` of a row another transaction
        just changed, and SQLite has a single writer. A holder that dies loses the
        lease when it expires.
        """
        now = utcnow()
        values = {
            "holder": holder,
            "acquired_at": now,
            "expires_at": now + timedelta(seconds=ttl_s),
        }
        # RETURNING, not rowcount: some drivers report -1 for ``ON CONFLICT DO NOTHING``.
        with self.sessions.begin() as session:
            taken = session.execute(
                update(Lease)
                .where(Lease.name == name, or_(Lease.expires_at < now, Lease.holder == holder))
                .values(**values)
                .returning(Lease.name)
            ).first()
            if taken is not None:
                return True
            inserted = session.execute(
                self.insert_ignoring_conflicts(Lease.__table__, "name")
                .values(name=name, **values)
                .returning(Lease.name)
            ).first()
            return inserted is not None

    def release_lease(self, name: str, holder: str) -> None:
        with self.sessions.begin() as session:
            session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))

    def lease_holder(self, name: str) -> str | None:
        """Who holds ``name`` now (None: nobody, or the lease expired)."""
        with self.sessions() as session:
            lease = session.get(Lease, name)
        if lease is None or lease.expires_at < utcnow():
            return None
        return lease.holder

    def record_decision(
        self,
        model_name: str,
        version: str,
        kind: str,
        reason: str,
        evidence: dict[str, Any],
        decided_by: str,
    ) -> ModelDecision:
        if kind not in DECISION_KINDS:
            raise ValueError(f"decision kind {kind!r}: one of {', '.join(DECISION_KINDS)}")
        decision = ModelDecision(
            model_name=model_name,
            model_version=version,
            kind=kind,
            reason=reason,
            evidence=evidence,
            decided_by=decided_by,
            decided_at=utcnow(),
        )
        with self.sessions.begin() as session:
            session.add(decision)
        return decision

    def decisions(
        self,
        model_name: str,
        version: str | None = None,
        since: datetime | None = None,
        kinds: tuple[str, ...] | None = None,
    ) -> list[ModelDecision]:
        """Decisions, oldest first (optionally of one version, since a time, of some kinds)."""
        query = select(ModelDecision).where(ModelDecision.model_name == model_name)
        if version is not None:
            query = query.where(ModelDecision.model_version == version)
        if since is not None:
            query = query.where(ModelDecision.decided_at >= since)
        if kinds is not None:
            query = query.where(ModelDecision.kind.in_(kinds))
        with self.sessions() as session:
            return list(session.scalars(query.order_by(ModelDecision.decided_at, ModelDecision.id)))
