"""OPA Gatekeeper violations: audit and admission log lines, and exported violations.

Three shapes, all one violation per event:

* audit log lines (``event_type: violation_audited``, one per violating
  resource and audit run, fields in snake_case: ``constraint_kind``,
  ``resource_name``, ...);
* admission denials logged with ``--log-denies`` (``event_type: violation``,
  with ``request_username``);
* the export format (``--enable-violation-export``): ``eventType``
  ``violation_audited`` or ``violation_admission``, fields in camelCase
  (``kind``/``name`` of the constraint, ``resourceKind``, ``requestUsername``,
  ``operation``, ...).

Gatekeeper gives a violation no id of its own, so the key is a hash of the
event's canonical JSON (sorted keys): a redelivered line gets the same key and
the store keeps it once.

Outcome: an admission violation under a ``deny`` action was a denied request
(``deny``); an audited one is an existing resource that fails its policy
(``fail``); ``warn`` and ``dryrun`` actions only report (``warn``). A ``scoped``
action counts as ``deny`` when its enforcement actions include ``deny``.

Field mapping (log name / export name):

=============  ==========================================================
column         from
=============  ==========================================================
event_id       hash of the canonical JSON of the event
event_time     ``ts`` (epoch seconds or text) / ``timestamp``; else
               ``time``, else the audit run id (``audit_id`` / ``id``, an
               RFC 3339 time)
actor          ``request_username`` / ``requestUsername`` (admission only)
actor_type     Kubernetes username class, as for ``k8s_audit``
action         export ``operation`` (``CREATE``, ...); else ``audit`` or
               ``admission``
resource       ``resource_kind`` / ``resourceKind``
object         ``resource_name`` / ``resourceName``
namespace      ``resource_namespace`` / ``resourceNamespace``
outcome        see above
policy         ``<constraint_kind>/<constraint_name>`` / ``<kind>/<name>``
=============  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from features.exceptions import AdapterError
from features.schema import NormalizedEvent
from features.sources.fields import field, opt_list, opt_str, req_str
from features.sources.generic import raw_text, stable_id, utc_text
from features.sources.k8s_audit import actor_type as k8s_actor_type

SOURCE = "gatekeeper"
LOG_EVENTS = frozenset({"violation_audited", "violation"})
EXPORT_EVENTS = frozenset({"violation_audited", "violation_admission"})
REPORT_ONLY = frozenset({"warn", "dryrun"})

# column -> (log field, export field)
NAMES = {
    "constraint_kind": ("constraint_kind", "kind"),
    "constraint_name": ("constraint_name", "name"),
    "action": ("constraint_action", "enforcementAction"),
    "actions": ("constraint_enforcement_actions", "enforcementActions"),
    "resource": ("resource_kind", "resourceKind"),
    "object": ("resource_name", "resourceName"),
    "namespace": ("resource_namespace", "resourceNamespace"),
    "actor": ("request_username", "requestUsername"),
}
TIME_FIELDS = {
    False: ("ts", "timestamp", "time", "audit_id"),
    True: ("timestamp", "ts", "time", "id"),
}


def _is_log(doc: Mapping[str, Any]) -> bool:
    event_type = doc.get("event_type")
    return (
        isinstance(event_type, str)
        and event_type in LOG_EVENTS
        and ("constraint_kind" in doc or "constraint_name" in doc)
    )


def _is_export(doc: Mapping[str, Any]) -> bool:
    event_type = doc.get("eventType")
    return (
        isinstance(event_type, str)
        and event_type in EXPORT_EVENTS
        and isinstance(doc.get("kind"), str)
    )


def matches(doc: Mapping[str, Any]) -> bool:
    """A Gatekeeper violation names its event type and the constraint it broke."""
    return _is_log(doc) or _is_export(doc)


def outcome(audited: bool, action: str | None, actions: list[Any]) -> str:
    """What the violation meant for the request or resource.

    >>> outcome(False, "deny", []), outcome(True, "deny", []), outcome(True, "dryrun", [])
    ('deny', 'fail', 'warn')
    >>> outcome(False, "scoped", ["warn"]), outcome(False, "scoped", ["deny", "warn"])
    ('warn', 'deny')
    """
    lowered = (action or "deny").lower()
    if lowered == "scoped":
        enforced = {str(a).lower() for a in actions}
        lowered = "deny" if "deny" in enforced or not enforced else "warn"
    if lowered in REPORT_ONLY:
        return "warn"
    return "fail" if audited else "deny"


def normalize(doc: Mapping[str, Any], raw: str | None = None) -> list[NormalizedEvent]:
    """One row per violation."""
    exported = not _is_log(doc)
    position = 1 if exported else 0
    event_type = req_str(doc, "eventType" if exported else "event_type")
    audited = event_type == "violation_audited"

    def text(name: str) -> str | None:
        return opt_str(doc, NAMES[name][position]) or None

    kind, name = req_str(doc, NAMES["constraint_kind"][position]), text("constraint_name")
    time_value, time_path = None, ""
    for time_path in TIME_FIELDS[exported]:
        time_value = field(doc, time_path)
        if time_value is not None:
            break
    if time_value is None:
        raise AdapterError("required field 'ts' is missing", reason="missing_field")
    actor = None if audited else text("actor")
    action = opt_str(doc, "operation") if exported else None
    return [
        {
            "event_id": stable_id(doc),
            "source": SOURCE,
            "event_time": utc_text(time_value, time_path),
            "actor": actor,
            "actor_type": k8s_actor_type(actor) if actor else None,
            "action": action or ("audit" if audited else "admission"),
            "resource": text("resource"),
            "object": text("object"),
            "namespace": text("namespace"),
            "outcome": outcome(audited, text("action"), opt_list(doc, NAMES["actions"][position])),
            "source_ip": None,
            "user_agent": None,
            "policy": f"{kind}/{name}" if name else kind,
            "severity": None,
            "raw": raw_text(doc, raw),
        }
    ]
