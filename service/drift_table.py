"""``auditlens drift``: the live drift of a model version, as a table on the terminal."""

from __future__ import annotations

from models.drift import DriftReport


def render(
    name: str, version: str, window: str, report: DriftReport, psi_max: float, top: int
) -> str:
    """The window's headline figures, then the features with the largest PSI."""
    rate = report.alert_rate
    lines = [
        f"{name} version {version}, last {window}: {report.events} events scored, "
        f"{report.alerts} alerts",
        f"  alert rate       {_pct(rate)}  (target {_pct(report.target_alert_rate)})",
        f"  calibrated tail  chi-square p = {report.tail.p_value:.3g}  "
        f"(uniform when nothing changed; PSI {report.score_psi:.3f})",
        "",
        f"  {'feature':<34} {'PSI':>7}  state",
    ]
    for feature in report.features[:top]:
        state = "drifted" if feature.psi > psi_max else "moving" if feature.psi > 0.1 else "steady"
        lines.append(f"  {feature.feature:<34} {feature.psi:>7.3f}  {state}")
    hidden = len(report.features) - top
    if hidden > 0:
        lines.append(f"  … and {hidden} more, all below {report.features[top - 1].psi:.3f}")
    return "\n".join(lines)


def _pct(rate: float | None) -> str:
    return "    —" if rate is None else f"{rate:7.3%}"
