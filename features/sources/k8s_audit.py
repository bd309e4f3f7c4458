"""Kubernetes audit events (``audit.k8s.io/v1`` ``Event``).

Only stages ``ResponseComplete`` and ``Panic`` are scored: the earlier stages of
the same request carry no outcome and would count the request twice. The
event key is ``auditID`` (the stage is implied by that filter).

Field mapping:

=============  ==========================================================
column         from
=============  ==========================================================
event_id       ``auditID``
event_time     ``requestReceivedTimestamp`` (else ``stageTimestamp``)
actor          ``impersonatedUser.username`` if present, else ``user.username``
actor_type     ``service_account`` / ``node`` / ``system`` / ``anonymous`` / ``user``
               (from the username prefix)
action         ``verb``
resource       ``objectRef.resource`` + ``/`` + ``objectRef.subresource``
object         ``objectRef.name``
namespace      ``objectRef.namespace``
outcome        ``responseStatus.code``: < 400 allow, 401/403 deny, else error;
               ``Panic`` stage is an error
source_ip      ``sourceIPs[0]``
user_agent     ``userAgent``
policy         annotation ``authorization.k8s.io/reason`` (RBAC binding), if any
=============  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from features.schema import NormalizedEvent
from features.sources.fields import field, opt_int, opt_list, opt_str, req_str

SOURCE = "k8s_audit"
SCORED_STAGES = frozenset({"ResponseComplete", "Panic"})


def matches(doc: Mapping[str, Any]) -> bool:
    """An audit Event names its kind and the audit API group."""
    api_version = doc.get("apiVersion")
    return (
        doc.get("kind") == "Event"
        and isinstance(api_version, str)
        and api_version.startswith("audit.k8s.io/")
    )


def actor_type(username: str) -> str:
    """Classify a Kubernetes username by its well-known prefixes.

    >>> actor_type("system:serviceaccount:ci:deployer")
    'service_account'
    >>> actor_type("alice@example.com")
    'user'
    """
    if username.startswith("system:serviceaccount:"):
        return "service_account"
    if username.startswith("system:node:"):
        return "node"
    if username == "system:anonymous":
        return "anonymous"
    if username.startswith("system:"):
        return "system"
    return "user"


def outcome(stage: str, code: int | None, decision: str | None) -> str:
    """Map the HTTP status (and the authorizer's decision) to allow/deny/error.

    >>> outcome("ResponseComplete", 403, None), outcome("ResponseComplete", 201, None)
    ('deny', 'allow')
    """
    if stage == "Panic":
        return "error"
    if decision == "forbid" or code in (401, 403):
        return "deny"
    if code is None or code < 400:
        return "allow"
    return "error"


def normalize(doc: Mapping[str, Any], raw: str | None = None) -> list[NormalizedEvent]:
    """One row for a scored stage, none for the others."""
    stage = req_str(doc, "stage")
    if stage not in SCORED_STAGES:
        return []
    username = opt_str(doc, "impersonatedUser.username") or req_str(doc, "user.username")
    resource = opt_str(doc, "objectRef.resource")
    subresource = opt_str(doc, "objectRef.subresource")
    if resource and subresource:
        resource = f"{resource}/{subresource}"
    source_ips = opt_list(doc, "sourceIPs")
    annotations = field(doc, "annotations")
    decision = reason = None
    if isinstance(annotations, Mapping):
        # The annotation keys contain dots: address them as single keys, not paths.
        decision = opt_str(annotations, ("authorization.k8s.io/decision",))
        reason = opt_str(annotations, ("authorization.k8s.io/reason",)) or None
    event_time = opt_str(doc, "requestReceivedTimestamp") or req_str(doc, "stageTimestamp")
    return [
        {
            "event_id": req_str(doc, "auditID"),
            "source": SOURCE,
            "event_time": event_time,
            "actor": username,
            "actor_type": actor_type(username),
            "action": req_str(doc, "verb"),
            "resource": resource,
            "object": opt_str(doc, "objectRef.name"),
            "namespace": opt_str(doc, "objectRef.namespace"),
            "outcome": outcome(stage, opt_int(doc, "responseStatus.code"), decision),
            "source_ip": str(source_ips[0]) if source_ips else None,
            "user_agent": opt_str(doc, "userAgent"),
            "policy": reason,
            "severity": None,
            "raw": raw if raw is not None else orjson.dumps(doc).decode(),
        }
    ]
