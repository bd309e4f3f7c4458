"""Live drift counts and training references, as the scorers write them and readers sum them.

A scorer sees only its partitions, so each writes its own counts per model
version and time bucket; a window's drift is computed from the sum over every
scorer's buckets in it (:mod:`models.drift` is all additions of counts), by
whichever process asks: the API, the CLI or the optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import delete, func, select

from service.store.base import StoreBase
from service.store.tables import DriftCount, DriftReferenceRow


@dataclass
class DriftTotals:
    """Counts summed over scorers and buckets: what a window's drift is computed from."""

    events: int
    alerts: int
    feature_counts: npt.NDArray[np.int64]
    tail_counts: npt.NDArray[np.int64]
    errors: int = 0
    cpu_seconds: float = 0.0


class DriftStore(StoreBase):
    def save_drift_reference(
        self, model_name: str, version: str, reference: dict[str, Any]
    ) -> None:
        """Record a version's training distribution once (a version never changes)."""
        with self.sessions.begin() as session:
            if session.get(DriftReferenceRow, (model_name, version)) is None:
                session.add(
                    DriftReferenceRow(
                        model_name=model_name, model_version=version, reference=reference
                    )
                )

    def drift_reference(self, model_name: str, version: str) -> dict[str, Any] | None:
        with self.sessions() as session:
            row = session.get(DriftReferenceRow, (model_name, version))
            return None if row is None else dict(row.reference)

    def save_drift_counts(self, rows: list[DriftCount]) -> None:
        """Replace these buckets' rows (a scorer rewrites a bucket as it fills)."""
        if not rows:
            return
        with self.sessions.begin() as session:
            for row in rows:
                session.merge(row)

    def drift_totals(
        self,
        model_name: str,
        version: str,
        since: datetime,
        width: int,
        tail_bins: int,
        shadow: bool = False,
    ) -> DriftTotals:
        """The counts of buckets that start at or after ``since``, summed over scorers:
        a version's live counts, or (``shadow``) its counts as a shadow-scored challenger."""
        query = select(DriftCount).where(
            DriftCount.model_name == model_name,
            DriftCount.model_version == version,
            DriftCount.bucket_start >= since,
            DriftCount.shadow.is_(shadow),
        )
        events = alerts = errors = 0
        cpu_seconds = 0.0
        features: npt.NDArray[np.int64] | None = None
        tails = np.zeros(tail_bins, dtype=np.int64)
        with self.sessions() as session:
            for row in session.scalars(query):
                events += row.events
                alerts += row.alerts
                errors += row.errors
                cpu_seconds += row.cpu_seconds
                counts = np.asarray(row.feature_counts, dtype=np.int64).reshape(-1, width)
                features = counts if features is None else features + counts
                tails += np.asarray(row.tail_counts, dtype=np.int64)
        return DriftTotals(
            events,
            alerts,
            features if features is not None else np.zeros((0, width), dtype=np.int64),
            tails,
            errors,
            cpu_seconds,
        )

    def version_usage(self, model_name: str) -> dict[str, dict[str, Any]]:
        """Per version, its live totals over the buckets still kept: events, alerts,
        scoring errors, CPU seconds, and the first and last bucket it was counted in."""
        query = (
            select(
                DriftCount.model_version,
                func.sum(DriftCount.events),
                func.sum(DriftCount.alerts),
                func.sum(DriftCount.errors),
                func.sum(DriftCount.cpu_seconds),
                func.min(DriftCount.bucket_start),
                func.max(DriftCount.bucket_start),
            )
            .where(DriftCount.model_name == model_name, DriftCount.shadow.is_(False))
            .group_by(DriftCount.model_version)
        )
        with self.sessions() as session:
            rows = session.execute(query).all()
        return {
            str(version): {
                "events": int(events or 0),
                "alerts": int(alerts or 0),
                "errors": int(errors or 0),
                "cpu_seconds": float(cpu or 0.0),
                "first_bucket": _aware(first),
                "last_bucket": _aware(last),
            }
            for version, events, alerts, errors, cpu, first, last in rows
        }

    def latest_drift_version(self, model_name: str) -> str | None:
        """The version the scorers counted most recently as champion: the one scoring now."""
        query = (
            select(DriftCount.model_version)
            .where(DriftCount.model_name == model_name, DriftCount.shadow.is_(False))
            .order_by(DriftCount.updated_at.desc())
            .limit(1)
        )
        with self.sessions() as session:
            return session.scalar(query)

    def prune_drift_counts(self, before: datetime) -> int:
        """Remove buckets that started before ``before``; returns how many rows."""
        with self.sessions.begin() as session:
            doomed = session.scalar(
                select(func.count()).select_from(DriftCount).where(DriftCount.bucket_start < before)
            )
            session.execute(delete(DriftCount).where(DriftCount.bucket_start < before))
        return int(doomed or 0)


def _aware(value: datetime | str | None) -> datetime | None:
    """Aggregates bypass the column type: SQLite hands back naive text, tagged UTC here."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
