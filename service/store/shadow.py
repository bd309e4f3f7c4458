"""A challenger's would-be anomalies, and how they compare with the champion's real ones.

Shadow rows are evidence for the promotion gate: they never reach the feed,
the webhooks or the SIEM formats. Like anomalies they are keyed by event, so a
replayed batch inserts nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, select

from service.store.base import StoreBase
from service.store.tables import Anomaly, ShadowAnomaly, utcnow

_COLUMNS = {column.name for column in ShadowAnomaly.__table__.columns}


@dataclass(frozen=True)
class Verdicts:
    """Verdicts analysts gave to events a version flagged (``true_positive`` or not)."""

    true_positive: int = 0
    other: int = 0  # benign or false positives

    @property
    def total(self) -> int:
        return self.true_positive + self.other

    @property
    def precision(self) -> float | None:
        return self.true_positive / self.total if self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "true_positive": self.true_positive,
            "other": self.other,
            "precision": self.precision,
        }


@dataclass(frozen=True)
class FlaggedComparison:
    """Champion and challenger on the same window of stored events."""

    champion_flagged: int
    challenger_flagged: int
    both_flagged: int
    champion_verdicts: Verdicts
    challenger_verdicts: Verdicts
    # The champion's confirmed true positives the challenger also flagged.
    true_positives_kept: int

    @property
    def overlap(self) -> float | None:
        """Jaccard overlap of the two flagged sets (None when neither flagged anything)."""
        union = self.champion_flagged + self.challenger_flagged - self.both_flagged
        return self.both_flagged / union if union else None


class ShadowStore(StoreBase):
    def insert_shadow_anomalies(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Store a challenger's flagged events; returns how many were new."""
        if not rows:
            return 0
        now = utcnow()
        prepared = [
            {**{k: v for k, v in row.items() if k in _COLUMNS}, "stored_at": now} for row in rows
        ]
        statement = self.insert_ignoring_conflicts(
            ShadowAnomaly.__table__, ["model_name", "model_version", "event_key"]
        )
        with self.sessions.begin() as session:
            result = session.execute(statement, prepared)
        return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]

    def compare_flagged(
        self, model_name: str, champion: str, challenger: str, since: datetime
    ) -> FlaggedComparison:
        """What each version flagged of the events stored since ``since``, and the verdicts."""
        shadow = and_(
            ShadowAnomaly.model_name == model_name,
            ShadowAnomaly.model_version == challenger,
            ShadowAnomaly.stored_at >= since,
        )
        real = and_(
            Anomaly.model_name == model_name,
            Anomaly.model_version == champion,
            Anomaly.stored_at >= since,
        )
        with self.sessions() as session:
            champion_flagged = session.scalar(select(func.count()).where(real)) or 0
            challenger_flagged = (
                session.scalar(select(func.count()).select_from(ShadowAnomaly).where(shadow)) or 0
            )
            joined = select(Anomaly.verdict, func.count()).join(
                ShadowAnomaly, ShadowAnomaly.event_key == Anomaly.event_key
            )
            both = session.scalar(
                select(func.count())
                .select_from(Anomaly)
                .join(ShadowAnomaly, ShadowAnomaly.event_key == Anomaly.event_key)
                .where(real, shadow)
            )
            champion_verdicts = dict(
                session.execute(
                    select(Anomaly.verdict, func.count())
                    .where(real, Anomaly.verdict.is_not(None))
                    .group_by(Anomaly.verdict)
                ).all()
            )
            # A challenger's flagged event has a verdict when the champion flagged it too
            # (any version: analysts judge events, not versions).
            challenger_verdicts = dict(
                session.execute(
                    joined.where(shadow, Anomaly.verdict.is_not(None)).group_by(Anomaly.verdict)
                ).all()
            )
            kept = session.scalar(
                select(func.count())
                .select_from(Anomaly)
                .join(ShadowAnomaly, ShadowAnomaly.event_key == Anomaly.event_key)
                .where(real, shadow, Anomaly.verdict == "true_positive")
            )
        return FlaggedComparison(
            champion_flagged=int(champion_flagged),
            challenger_flagged=int(challenger_flagged),
            both_flagged=int(both or 0),
            champion_verdicts=_verdicts(champion_verdicts),
            challenger_verdicts=_verdicts(challenger_verdicts),
            true_positives_kept=int(kept or 0),
        )

    def verdicts_by_version(self, model_name: str) -> dict[str, Verdicts]:
        """Per version, the verdicts analysts gave to the anomalies it raised."""
        with self.sessions() as session:
            rows = session.execute(
                select(Anomaly.model_version, Anomaly.verdict, func.count())
                .where(Anomaly.model_name == model_name, Anomaly.verdict.is_not(None))
                .group_by(Anomaly.model_version, Anomaly.verdict)
            ).all()
        counts: dict[str, dict[str | None, int]] = {}
        for version, verdict, n in rows:
            counts.setdefault(str(version), {})[verdict] = int(n)
        return {version: _verdicts(c) for version, c in counts.items()}

    def prune_shadow_anomalies(self, model_name: str, keep_versions: Sequence[str]) -> int:
        """Remove shadow rows of every version not in ``keep_versions`` (decided ones)."""
        with self.sessions.begin() as session:
            result = session.execute(
                delete(ShadowAnomaly).where(
                    ShadowAnomaly.model_name == model_name,
                    ShadowAnomaly.model_version.not_in(list(keep_versions)),
                )
            )
        return max(int(result.rowcount or 0), 0)  # type: ignore[attr-defined]


def _verdicts(counts: Mapping[str | None, int]) -> Verdicts:
    tp = int(counts.get("true_positive", 0))
    return Verdicts(tp, int(sum(counts.values())) - tp)
