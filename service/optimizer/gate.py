"""The promotion gate: is the challenger at least as good as the champion, live?

The gate judges both versions on the same window of live events (the shadow
window) and never on the data the challenger was trained on. Each check passes,
fails, or is *not measured* (no verdicts yet, say); only a failed check refuses,
and too little evidence means waiting, not deciding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from models.drift import rate_gap, within_factor
from service.config import Settings
from service.optimizer.evidence import ShadowEvidence

Outcome = Literal["wait", "promote", "refuse"]


@dataclass(frozen=True)
class GateCriteria:
    shadow_hours: float
    min_events: int
    alert_rate_factor: float
    psi_max: float
    min_verdicts: int
    precision_tolerance: float
    min_true_positive_recall: float

    @classmethod
    def from_settings(cls, settings: Settings) -> GateCriteria:
        return cls(
            shadow_hours=settings.shadow_hours,
            min_events=settings.shadow_min_events,
            alert_rate_factor=settings.alert_rate_factor,
            psi_max=settings.drift_psi_max,
            min_verdicts=settings.gate_min_verdicts,
            precision_tolerance=settings.gate_precision_tolerance,
            min_true_positive_recall=settings.gate_min_true_positive_recall,
        )


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: not measured (it neither passes nor refuses)
    detail: str


@dataclass(frozen=True)
class GateDecision:
    outcome: Outcome
    reason: str
    checks: tuple[Check, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "checks": [
                {"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks
            ],
        }


def evaluate(evidence: ShadowEvidence, criteria: GateCriteria, now: datetime) -> GateDecision:
    """Wait until the window and the events suffice, then pass or refuse the challenger."""
    champion, challenger = evidence.champion, evidence.challenger
    elapsed_h = (now - evidence.since).total_seconds() / 3600
    if elapsed_h < criteria.shadow_hours:
        return GateDecision(
            "wait",
            f"shadow window {elapsed_h:.2f} h of {criteria.shadow_hours:g} h",
            (),
        )
    fewest = min(champion.events, challenger.events)
    if fewest < criteria.min_events:
        return GateDecision(
            "wait",
            f"{challenger.events:,} shadow-scored and {champion.events:,} champion events; "
            f"the gate needs {criteria.min_events:,} of each",
            (),
        )
    checks = (
        _alert_rate(evidence, criteria),
        _score_drift(evidence, criteria),
        _precision(evidence, criteria),
        _true_positives(evidence, criteria),
    )
    failed = [c for c in checks if c.passed is False]
    if failed:
        return GateDecision("refuse", "; ".join(f"{c.name}: {c.detail}" for c in failed), checks)
    passed = [c.name for c in checks if c.passed]
    skipped = [c.name for c in checks if c.passed is None]
    reason = f"at least as good as version {champion.version} on {', '.join(passed)}"
    if skipped:
        reason += f" ({', '.join(skipped)} not measured)"
    return GateDecision("promote", reason, checks)


def _alert_rate(evidence: ShadowEvidence, criteria: GateCriteria) -> Check:
    """Within the target's bounds, or no further from the target than the champion."""
    champion, challenger = evidence.champion, evidence.challenger
    target = champion.target_alert_rate or challenger.target_alert_rate
    if target is None or challenger.alert_rate is None or champion.alert_rate is None:
        return Check("alert rate", None, "no training reference recorded")
    factor = criteria.alert_rate_factor
    new, old = challenger.alert_rate, champion.alert_rate
    within = within_factor(new, target, factor)
    closer = rate_gap(new, target) <= rate_gap(old, target)
    detail = f"{new:.3%} vs champion {old:.3%} (target {target:.2%}, bounds ×{factor:g})"
    return Check("alert rate", within or closer, detail)


def _score_drift(evidence: ShadowEvidence, criteria: GateCriteria) -> Check:
    """The challenger's live scores drift from its training scores no more than allowed."""
    new, old = evidence.challenger.score_psi, evidence.champion.score_psi
    if new is None:
        return Check("score drift", None, "not measured")
    limit = max(old or 0.0, criteria.psi_max)
    detail = f"score PSI {new:.3f} vs champion {old if old is None else round(old, 3)}"
    return Check("score drift", new <= limit, f"{detail} (limit {limit:.3f})")


def _precision(evidence: ShadowEvidence, criteria: GateCriteria) -> Check:
    new, old = evidence.flagged.challenger_verdicts, evidence.flagged.champion_verdicts
    if min(new.total, old.total) < criteria.min_verdicts:
        return Check(
            "precision on verdicts",
            None,
            f"{new.total} and {old.total} verdicts (needs {criteria.min_verdicts} each)",
        )
    assert new.precision is not None
    assert old.precision is not None
    detail = f"{new.precision:.3f} vs champion {old.precision:.3f} on {new.total}/{old.total}"
    return Check(
        "precision on verdicts",
        new.precision >= old.precision - criteria.precision_tolerance,
        detail,
    )


def _true_positives(evidence: ShadowEvidence, criteria: GateCriteria) -> Check:
    confirmed = evidence.flagged.champion_verdicts.true_positive
    if confirmed == 0:
        return Check("confirmed true positives", None, "none in the window")
    kept = evidence.flagged.true_positives_kept
    share = kept / confirmed
    return Check(
        "confirmed true positives",
        share >= criteria.min_true_positive_recall,
        f"flags {kept} of the champion's {confirmed} ({share:.0%}, needs "
        f"{criteria.min_true_positive_recall:.0%})",
    )
