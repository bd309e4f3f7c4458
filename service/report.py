"""``auditlens report`` and ``GET /v1/report``: every model version against its goals.

One row per registered version, oldest first, joining what each part of the
loop recorded: the registry (aliases, training time and size, the gate's and
the guard's reasons), the scorers' drift counts (live alert rate, CPU seconds
per million events), the analysts' verdicts (precision) and the optimizer's
decisions (drift when it was promoted). The SVG plot shows how the figures
moved across versions; it is drawn here, with no plotting library to install.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from models import registry
from models.registry_config import RegistryConfig
from service.store.repository import Store


@dataclass(frozen=True)
class VersionReport:
    version: str
    aliases: list[str]
    created: str | None
    training_events: int | None
    training_seconds: float | None
    state_rows: int | None
    artifact_bytes: int
    events_scored: int
    alert_rate: float | None
    target_alert_rate: float | None
    precision: float | None
    verdicts: int
    drift_at_promotion: float | None  # the champion's largest feature PSI when this replaced it
    decisions: list[dict[str, str]]
    cpu_seconds_per_million: float | None
    store_rows_per_day: float | None  # anomaly rows the version added per day it scored

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_report(store: Store, config: RegistryConfig) -> list[VersionReport]:
    versions = sorted(registry.list_versions(config), key=lambda v: int(v["version"]))
    usage = store.version_usage(config.model_name)
    verdicts = store.verdicts_by_version(config.model_name)
    decisions = store.decisions(config.model_name)
    rows = []
    for v in versions:
        version = v["version"]
        metrics = registry.run_metrics(config, v["run_id"]) if v["run_id"] else {}
        used = usage.get(version, {})
        events = int(used.get("events", 0))
        judged = verdicts.get(version)
        mine = [d for d in decisions if d.model_version == version]
        reference = store.drift_reference(config.model_name, version) or {}
        rows.append(
            VersionReport(
                version=version,
                aliases=list(v["aliases"]),
                created=_iso(v["created"]),
                training_events=_int(metrics.get("training_events")),
                training_seconds=metrics.get("training_seconds"),
                state_rows=_int(metrics.get("state_rows")),
                artifact_bytes=registry.artifact_bytes(config, v["run_id"]) if v["run_id"] else 0,
                events_scored=events,
                alert_rate=used["alerts"] / events if events else None,
                target_alert_rate=reference.get("target_alert_rate"),
                precision=judged.precision if judged else None,
                verdicts=judged.total if judged else 0,
                drift_at_promotion=_drift_at_promotion(decisions, version),
                decisions=[
                    {
                        "kind": d.kind,
                        "reason": d.reason,
                        "decided_by": d.decided_by,
                        "decided_at": d.decided_at.isoformat(),
                    }
                    for d in mine
                ],
                cpu_seconds_per_million=used["cpu_seconds"] / events * 1e6 if events else None,
                store_rows_per_day=_per_day(used) if events else None,
            )
        )
    return rows


def _drift_at_promotion(decisions: list[Any], version: str) -> float | None:
    """The champion's largest feature PSI over the shadow window that promoted the version
    (None for a version promoted by hand, whose decision records no evidence)."""
    for d in reversed(decisions):
        if d.model_version != version:
            continue
        if d.kind == "promoted" and d.evidence:
            psi = d.evidence.get("evidence", {}).get("champion", {}).get("max_feature_psi")
            if psi is not None:
                return float(psi)
    return None


def _per_day(used: dict[str, Any]) -> float:
    span = (used["last_bucket"] - used["first_bucket"]).total_seconds()
    days = max(span / 86400, 1 / 24)  # at least an hour: a first bucket is not a day's rate
    return float(used["alerts"] / days)


def render_table(rows: list[VersionReport]) -> str:
    """The report on a terminal: one line per version, then each version's decisions."""
    header = (
        f"{'version':>7}  {'aliases':<18} {'trained on':>10} {'train s':>8} "
        f"{'scored':>10} {'alert rate':>10} {'precision':>10} {'CPU s/M':>8} {'rows/day':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.version:>7}  {','.join(r.aliases) or '-':<18} "
            f"{_num(r.training_events):>10} {_fix(r.training_seconds, 1):>8} "
            f"{r.events_scored:>10,} {_pct(r.alert_rate):>10} "
            f"{_precision(r):>10} {_fix(r.cpu_seconds_per_million, 1):>8} "
            f"{_fix(r.store_rows_per_day, 0):>9}"
        )
    for r in rows:
        for d in r.decisions:
            lines.append(
                f"  v{r.version} {d['decided_at'][:16]} {d['kind']:<13} {d['reason']} "
                f"({d['decided_by']})"
            )
    return "\n".join(lines)


PLOTTED = (
    ("alert rate", "alert_rate"),
    ("precision", "precision"),
    ("CPU s per million events", "cpu_seconds_per_million"),
    ("store rows per day", "store_rows_per_day"),
)


def render_svg(rows: list[VersionReport]) -> str:
    """Small multiples, one panel per figure, versions along x; a missing value is a gap."""
    width, panel_h, left, pad = 640, 130, 70, 24
    height = pad + len(PLOTTED) * (panel_h + pad)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    n = max(len(rows), 1)
    step = (width - left - pad) / max(n - 1, 1)
    for i, (title, field) in enumerate(PLOTTED):
        top = pad + i * (panel_h + pad)
        values = [getattr(r, field) for r in rows]
        known = [float(v) for v in values if v is not None]
        high = max(known) if known else 1.0
        high = high * 1.1 if high > 0 else 1.0
        parts.append(f'<text x="{left}" y="{top - 6}" font-weight="bold">{title}</text>')
        parts.append(
            f'<rect x="{left}" y="{top}" width="{width - left - pad}" height="{panel_h}" '
            'fill="none" stroke="#ccc"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{top + 10}" text-anchor="end">{high:.3g}</text>')
        parts.append(f'<text x="{left - 6}" y="{top + panel_h}" text-anchor="end">0</text>')
        points: list[tuple[float, float] | None] = []
        for j, (row, value) in enumerate(zip(rows, values, strict=True)):
            x = left + j * step if n > 1 else left + (width - left - pad) / 2
            if i == len(PLOTTED) - 1:
                parts.append(
                    f'<text x="{x:.1f}" y="{top + panel_h + 14}" text-anchor="middle">'
                    f"v{row.version}</text>"
                )
            if value is None:
                points.append(None)
                continue
            y = top + panel_h - float(value) / high * panel_h
            points.append((x, y))
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f5fa8"/>')
        for a, b in itertools.pairwise(points):
            if a is not None and b is not None:
                parts.append(
                    f'<line x1="{a[0]:.1f}" y1="{a[1]:.1f}" x2="{b[0]:.1f}" y2="{b[1]:.1f}" '
                    'stroke="#1f5fa8"/>'
                )
    parts.append("</svg>")
    return "\n".join(parts)


def _iso(ms: int | None) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat() if ms else None


def _int(value: float | None) -> int | None:
    return int(value) if value is not None else None


def _num(value: int | None) -> str:
    return f"{value:,}" if value is not None else "-"


def _fix(value: float | None, digits: int) -> str:
    return f"{value:,.{digits}f}" if value is not None else "-"


def _pct(value: float | None) -> str:
    return f"{value:.3%}" if value is not None else "-"


def _precision(row: VersionReport) -> str:
    return f"{row.precision:.2f}/{row.verdicts}" if row.precision is not None else "-"
