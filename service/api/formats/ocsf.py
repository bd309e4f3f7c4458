"""An anomaly as an OCSF Detection Finding (class 2004), OCSF schema 1.5.0.

1.5.0 is the first release whose Detection Finding carries ``anomaly_analyses``,
where the explanation belongs: each top feature becomes an ``anomaly`` (the
observed value) paired with a ``baseline`` (the typical value from training).

The event behind the finding (who did what, from where) is its evidence: OCSF
keeps ``actor``, ``api`` and ``src_endpoint`` off the finding itself and puts
them in ``evidences``. Every document validates against the official 1.5.0
schema (tested with the schema OCSF exports).

Mapping:

=====================  =====================================================
OCSF                   from
=====================  =====================================================
activity_id            1 Create; 2 Update once triaged; 3 Close when closed
severity_id            low 2, medium 3, high 4, critical 5
status_id              new 1; acknowledged / in_progress 2 In Progress;
                       suppressed 3; closed 4 Resolved
time                   stored_at (the finding's creation), epoch ms
start_time / end_time  event_time, epoch ms
finding_info           uid ``auditlens-<id>``, title, desc (the summary),
                       analytic {type_id 4 Learning, name, uid, version}
anomaly_analyses       target (actor, else source), anomalies/baselines per
                       explanation feature
evidences[0]           actor.user {name, type_id from actor_type};
                       api {operation (action), service, request.uid};
                       src_endpoint {ip, or hostname when not an address}
resources              name (object, else the resource type), type
                       (resource), namespace
unmapped               namespace, outcome, policy, user agent, score, triage
=====================  =====================================================
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from service.api.schemas.anomalies import AnomalyPublic

OCSF_VERSION = "1.5.0"
CLASS_UID, CATEGORY_UID = 2004, 2
SEVERITY_IDS = {
    "low": (2, "Low"),
    "medium": (3, "Medium"),
    "high": (4, "High"),
    "critical": (5, "Critical"),
}
STATUS_IDS = {
    "new": (1, "New"),
    "acknowledged": (2, "In Progress"),
    "in_progress": (2, "In Progress"),
    "suppressed": (3, "Suppressed"),
    "closed": (4, "Resolved"),
}
ACTIVITIES = {1: "Create", 2: "Update", 3: "Close"}
TARGET_TYPES = {"user": "User Account", "service_account": "Service Account"}
# OCSF user.type_id: 1 User; 3 System (service accounts and nodes are not people).
USER_TYPE_IDS = {
    "user": (1, "User"),
    "service_account": (3, "System"),
    "node": (3, "System"),
}


def epoch_ms(when: datetime) -> int:
    """OCSF ``timestamp_t``: milliseconds since the epoch.

    >>> from datetime import UTC
    >>> epoch_ms(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    1772445600000
    """
    return int(when.timestamp() * 1000)


def activity(status: str) -> int:
    """The finding activity a triage status implies.

    >>> activity("new"), activity("acknowledged"), activity("closed")
    (1, 2, 3)
    """
    if status == "closed":
        return 3
    return 1 if status in ("new", "suppressed") else 2


def _analyses(anomaly: AnomalyPublic) -> list[dict[str, Any]]:
    if not anomaly.explanation:
        return []
    target = {"name": anomaly.actor or anomaly.source}
    target_type = TARGET_TYPES.get(anomaly.actor_type or "", "Source" if not anomaly.actor else "")
    if target_type:
        target["type"] = target_type
    observation_type = "Deviation Analysis"
    return [
        {
            "analysis_targets": [target],
            "anomalies": [
                {
                    "observation_parameter": c.feature,
                    "observation_type": observation_type,
                    "observations": [{"value": f"{c.value:g}"}],
                    "observed_pattern": f"{c.contribution:.0%} of the deviation",
                }
                for c in anomaly.explanation
            ],
            "baselines": [
                {
                    "observation_parameter": c.feature,
                    "observation_type": observation_type,
                    "observations": [{"value": f"{c.typical:g}"}],
                }
                for c in anomaly.explanation
            ],
        }
    ]


def finding(anomaly: AnomalyPublic, product_version: str) -> dict[str, Any]:
    """The Detection Finding for one anomaly."""
    activity_id = activity(anomaly.status)
    severity_id, severity = SEVERITY_IDS.get(anomaly.severity, (0, "Unknown"))
    status_id, status = STATUS_IDS[anomaly.status]
    who = anomaly.actor or "an unknown actor"
    document: dict[str, Any] = {
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "activity_id": activity_id,
        "activity_name": ACTIVITIES[activity_id],
        "type_uid": CLASS_UID * 100 + activity_id,
        "type_name": f"Detection Finding: {ACTIVITIES[activity_id]}",
        "severity_id": severity_id,
        "severity": severity,
        "status_id": status_id,
        "status": status,
        "is_alert": activity_id != 3 and anomaly.status != "suppressed",
        "time": epoch_ms(anomaly.stored_at),
        "start_time": epoch_ms(anomaly.event_time),
        "end_time": epoch_ms(anomaly.event_time),
        "message": anomaly.summary,
        "risk_score": round(anomaly.score),
        "metadata": {
            "version": OCSF_VERSION,
            "uid": str(anomaly.id),
            "product": {
                "name": "auditlens",
                "vendor_name": "auditlens",
                "version": product_version,
            },
        },
        "finding_info": {
            "uid": f"auditlens-{anomaly.id}",
            "uid_alt": f"{anomaly.source}:{anomaly.event_id}",
            "title": f"Anomalous {anomaly.source} activity by {who}",
            "desc": anomaly.summary,
            "types": ["Anomaly"],
            "created_time": epoch_ms(anomaly.stored_at),
            "first_seen_time": epoch_ms(anomaly.event_time),
            "last_seen_time": epoch_ms(anomaly.event_time),
            "analytic": {
                "type_id": 4,
                "type": "Learning (ML/DL)",
                "name": anomaly.model.name,
                "uid": f"{anomaly.model.name}@{anomaly.model.version}",
                "version": anomaly.model.version,
                "category": "anomaly detection",
            },
        },
        "unmapped": {
            key: value
            for key, value in {
                "namespace": anomaly.namespace,
                "outcome": anomaly.outcome,
                "policy": anomaly.policy,
                "user_agent": anomaly.user_agent,
                "score": anomaly.score,
                "auditlens_status": anomaly.status,
                "verdict": anomaly.verdict,
                "assignee": anomaly.assignee,
            }.items()
            if value is not None
        },
    }
    analyses = _analyses(anomaly)
    if analyses:
        document["anomaly_analyses"] = analyses
    evidence = _evidence(anomaly)
    if evidence:
        document["evidences"] = [evidence]
    resource = _resource(anomaly)
    if resource:
        document["resources"] = [resource]
    return document


def _user(actor: str, actor_type: str | None) -> dict[str, Any]:
    """OCSF ``user``: the name, and its type when the source says what it is.

    >>> _user("system:serviceaccount:ci:deployer", "service_account")
    {'name': 'system:serviceaccount:ci:deployer', 'type_id': 3, 'type': 'System'}
    >>> _user("robot", "drone")
    {'name': 'robot', 'type_id': 99, 'type': 'drone'}
    """
    user: dict[str, Any] = {"name": actor}
    if actor_type:
        user["type_id"], user["type"] = USER_TYPE_IDS.get(actor_type, (99, actor_type))
    return user


def _endpoint(source_ip: str) -> dict[str, Any]:
    """OCSF ``network_endpoint``: ``ip`` must be an address; anything else is a hostname.

    >>> _endpoint("10.0.0.1"), _endpoint("lb.internal")
    ({'ip': '10.0.0.1'}, {'hostname': 'lb.internal'})
    """
    try:
        return {"ip": str(ipaddress.ip_address(source_ip))}
    except ValueError:
        return {"hostname": source_ip}


def _evidence(anomaly: AnomalyPublic) -> dict[str, Any]:
    """The event's own context; empty when the event names no actor, action or source."""
    evidence: dict[str, Any] = {}
    if anomaly.actor:
        evidence["actor"] = {"user": _user(anomaly.actor, anomaly.actor_type)}
    if anomaly.action:
        evidence["api"] = {
            "operation": anomaly.action,
            "service": {"name": anomaly.source},
            "request": {"uid": anomaly.event_id},
        }
    if anomaly.source_ip:
        evidence["src_endpoint"] = _endpoint(anomaly.source_ip)
    return evidence


def _resource(anomaly: AnomalyPublic) -> dict[str, Any]:
    """The resource acted on; OCSF needs its ``name`` (or a uid), so a request on a whole
    collection (``list pods``) names the collection."""
    name = anomaly.object or anomaly.resource
    if not name:
        return {}
    resource: dict[str, Any] = {"name": name}
    if anomaly.resource:
        resource["type"] = anomaly.resource
    if anomaly.namespace:
        resource["namespace"] = anomaly.namespace
    return resource
