"""What the optimizer judges versions on: their live figures, read from the store.

Every figure comes from the counts the scorers write (:mod:`service.drift`) and
the anomaly and shadow tables, so the optimizer, the API and the CLI compute
the same evidence from any process, for versions scored by any number of scorers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from features.event_features import CALENDAR_CYCLE_DAYS, CALENDAR_FEATURES
from models.drift import DriftReference
from service.drift import report_since
from service.store.repository import Store
from service.store.shadow import FlaggedComparison


@dataclass(frozen=True)
class VersionWindow:
    """One version's live figures over one window (as champion, or shadow-scored)."""

    version: str
    shadow: bool
    events: int
    alerts: int
    errors: int
    cpu_seconds: float
    target_alert_rate: float | None  # None: no scorer recorded the version's reference
    score_psi: float | None
    max_feature_psi: float | None  # calendar features left out on windows under a week
    drifted_features: tuple[str, ...]  # above the PSI threshold, the largest first
    tail_p_value: float | None

    @property
    def alert_rate(self) -> float | None:
        return self.alerts / self.events if self.events else None

    @property
    def error_rate(self) -> float | None:
        return self.errors / (self.events + self.errors) if self.events + self.errors else None

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "drifted_features": list(self.drifted_features),
            "alert_rate": self.alert_rate,
            "error_rate": self.error_rate,
        }


def version_window(
    store: Store,
    model_name: str,
    version: str,
    since: datetime,
    psi_max: float,
    shadow: bool = False,
    until: datetime | None = None,
) -> VersionWindow:
    """``version``'s live figures since ``since`` (``shadow``: as a challenger).

    On a window shorter than a week (``until - since``; ``until`` defaults to now) the
    calendar features are left out of the drift figures: see
    :data:`features.event_features.CALENDAR_FEATURES`.
    """
    data = store.drift_reference(model_name, version)
    if data is None:
        return VersionWindow(version, shadow, 0, 0, 0, 0.0, None, None, None, (), None)
    reference = DriftReference.from_dict(data)
    report, totals = report_since(store, reference, model_name, version, since, shadow)
    measured = report.events > 0
    end = until if until is not None else datetime.now(since.tzinfo)
    short = end - since < timedelta(days=CALENDAR_CYCLE_DAYS)
    features = [f for f in report.features if not (short and f.feature in CALENDAR_FEATURES)]
    return VersionWindow(
        version=version,
        shadow=shadow,
        events=report.events,
        alerts=report.alerts,
        errors=totals.errors,
        cpu_seconds=totals.cpu_seconds,
        target_alert_rate=report.target_alert_rate,
        score_psi=report.score_psi if measured else None,
        max_feature_psi=max((f.psi for f in features), default=0.0) if measured else None,
        drifted_features=tuple(f.feature for f in features if f.psi > psi_max) if measured else (),
        tail_p_value=report.tail.p_value if measured else None,
    )


@dataclass(frozen=True)
class ShadowEvidence:
    """Champion and challenger on the same live window: what the gate decides on."""

    model_name: str
    since: datetime
    until: datetime
    champion: VersionWindow
    challenger: VersionWindow
    flagged: FlaggedComparison

    @property
    def hours(self) -> float:
        return (self.until - self.since).total_seconds() / 3600

    def to_dict(self) -> dict[str, Any]:
        flagged = self.flagged
        return {
            "model_name": self.model_name,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "hours": round(self.hours, 3),
            "champion": {
                **self.champion.to_dict(),
                "flagged": flagged.champion_flagged,
                "verdicts": flagged.champion_verdicts.to_dict(),
            },
            "challenger": {
                **self.challenger.to_dict(),
                "flagged": flagged.challenger_flagged,
                "verdicts": flagged.challenger_verdicts.to_dict(),
            },
            "both_flagged": flagged.both_flagged,
            "overlap": flagged.overlap,
            "true_positives_kept": flagged.true_positives_kept,
        }


def shadow_evidence(
    store: Store,
    model_name: str,
    champion: str,
    challenger: str,
    since: datetime,
    until: datetime,
    psi_max: float,
) -> ShadowEvidence:
    """The shadow comparison of ``challenger`` with ``champion`` since ``since``."""
    return ShadowEvidence(
        model_name=model_name,
        since=since,
        until=until,
        champion=version_window(store, model_name, champion, since, psi_max, until=until),
        challenger=version_window(
            store, model_name, challenger, since, psi_max, shadow=True, until=until
        ),
        flagged=store.compare_flagged(model_name, champion, challenger, since),
    )
