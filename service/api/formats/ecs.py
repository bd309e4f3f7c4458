"""An anomaly as an Elastic Common Schema alert document (``event.kind: alert``).

Standard fields carry what ECS has a place for (``event.*``, ``user.name``,
``source.ip``, ``user_agent.original``, ``rule.*``, ``orchestrator.*`` for
Kubernetes); ECS has no field set for machine-learning output, so the score,
explanation, model and triage state go under the custom ``auditlens`` object.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from service.api.schemas.anomalies import AnomalyPublic

ECS_VERSION = "8.11.0"
# event.severity is numeric in ECS; these are the usual low/medium/high/critical values.
SEVERITY_NUMBERS = {"low": 21, "medium": 47, "high": 73, "critical": 99}
CATEGORIES = {
    "k8s_audit": ["api"],
    "cloudtrail": ["api"],
    "opa": ["configuration"],
    "gatekeeper": ["configuration"],
    "kyverno": ["configuration"],
    "falco": ["intrusion_detection"],
}
OUTCOMES = {
    "allow": "success",
    "pass": "success",
    "deny": "failure",
    "error": "failure",
    "fail": "failure",
}


def event_outcome(outcome: str | None) -> str:
    """ECS ``event.outcome`` (success, failure or unknown).

    >>> event_outcome("deny"), event_outcome("allow"), event_outcome(None)
    ('failure', 'success', 'unknown')
    """
    return OUTCOMES.get(outcome or "", "unknown")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def document(anomaly: AnomalyPublic) -> dict[str, Any]:
    """The ECS document for one anomaly."""
    doc: dict[str, Any] = {
        "@timestamp": anomaly.event_time.isoformat(),
        "message": anomaly.summary,
        "ecs": {"version": ECS_VERSION},
        "event": {
            "kind": "alert",
            "category": CATEGORIES.get(anomaly.source, ["api"]),
            "type": ["info"],
            "severity": SEVERITY_NUMBERS.get(anomaly.severity, 0),
            "risk_score": anomaly.score,
            "risk_score_norm": anomaly.score,
            "id": anomaly.event_id,
            "created": anomaly.stored_at.isoformat(),
            "dataset": f"auditlens.{anomaly.source}",
            "module": "auditlens",
            "provider": anomaly.source,
            "outcome": event_outcome(anomaly.outcome),
            "reason": anomaly.summary,
        },
        "rule": {
            "id": f"{anomaly.model.name}@{anomaly.model.version}",
            "name": "auditlens anomaly detection",
            "ruleset": anomaly.model.name,
            "version": anomaly.model.version,
            "category": "anomaly",
            "description": "Unsupervised model of normal behaviour; the score is the tail "
            "probability of the event against the training data.",
        },
        "auditlens": {
            "anomaly_id": anomaly.id,
            "score": anomaly.score,
            "severity": anomaly.severity,
            "status": anomaly.status,
            "verdict": anomaly.verdict,
            "assignee": anomaly.assignee,
            "explanation": [c.model_dump() for c in anomaly.explanation],
            "model": anomaly.model.model_dump(),
        },
    }
    if anomaly.action:
        doc["event"]["action"] = anomaly.action
    if anomaly.actor:
        doc["user"] = {"name": anomaly.actor}
    if anomaly.source_ip:
        doc["source"] = (
            {"ip": anomaly.source_ip}
            if _is_ip(anomaly.source_ip)
            else {"address": anomaly.source_ip}
        )
    if anomaly.user_agent:
        doc["user_agent"] = {"original": anomaly.user_agent}
    if anomaly.source == "k8s_audit":
        orchestrator: dict[str, Any] = {"type": "kubernetes"}
        if anomaly.namespace:
            orchestrator["namespace"] = anomaly.namespace
        resource = {k: v for k, v in (("type", anomaly.resource), ("name", anomaly.object)) if v}
        if resource:
            orchestrator["resource"] = resource
        doc["orchestrator"] = orchestrator
    elif anomaly.namespace:
        doc["labels"] = {"namespace": anomaly.namespace}
    return doc
