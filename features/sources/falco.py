"""Falco alerts, as JSON output (``json_output: true``) or forwarded by Falcosidekick.

An alert says which rule fired, at what priority, with the fields the rule's
output names in ``output_fields``. The fields depend on the alert's own
``source``: ``syscall`` alerts carry ``user.name``, ``proc.cmdline``,
``container.id``, ``k8s.ns.name``, ``k8s.pod.name``, ``fd.sip`` ...; alerts from
Falco's ``k8s_audit`` plugin carry ``ka.user.name``, ``ka.verb``,
``ka.target.*`` and are mapped like Kubernetes audit events.

Falco gives an alert no id, so the key is a hash of the alert's canonical JSON
(sorted keys): a redelivered alert gets the same key.

Priority → severity and outcome (every alert reports a rule that fired, so it
is at least a ``warn``; Critical and above mean the rule's authors consider
the behaviour a breach, so it is a ``fail``):

=================================  ==========  =======
priority                           severity    outcome
=================================  ==========  =======
Emergency, Alert, Critical         critical    fail
Error                              high        warn
Warning                            medium      warn
Notice                             low         warn
Informational, Info, Debug, other  info        warn
=================================  ==========  =======

Field mapping (``output_fields`` keys in backquotes):

=============  ==========================================================
column         from
=============  ==========================================================
event_id       hash of the canonical JSON of the alert
event_time     ``time`` (else ``evt.time``, nanoseconds since the epoch)
actor          ``ka.user.name`` / ``user.name`` (else ``user.loginname``)
actor_type     Kubernetes username class for ``ka.user.name``; ``user`` for a
               host user
action         ``ka.verb`` / ``evt.type`` (``execve``, ``openat``, ...)
resource       ``ka.target.resource``; else ``container`` when the alert names
               a container other than ``host``; else ``host``
object         ``ka.target.name`` / ``k8s.pod.name``, else ``container.name``,
               else ``hostname``
namespace      ``ka.target.namespace`` / ``k8s.ns.name``
outcome        see above
source_ip      ``ka.sourceips[0]`` / ``fd.sip``
user_agent     ``ka.useragent``
policy         ``rule``
severity       see above
=============  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from features.exceptions import AdapterError
from features.schema import NormalizedEvent
from features.sources.fields import opt_str, req_str
from features.sources.generic import raw_text, stable_id, utc_text
from features.sources.k8s_audit import actor_type as k8s_actor_type

SOURCE = "falco"
SEVERITY = {
    "emergency": "critical",
    "alert": "critical",
    "critical": "critical",
    "error": "high",
    "warning": "medium",
    "notice": "low",
}
FAIL_SEVERITY = "critical"


def matches(doc: Mapping[str, Any]) -> bool:
    """A Falco alert names the rule that fired, its priority and its rendered output."""
    return (
        isinstance(doc.get("rule"), str)
        and isinstance(doc.get("priority"), str)
        and "output" in doc
    )


def severity(priority: str) -> str:
    """Falco's syslog-style priority on the common severity scale.

    >>> severity("Critical"), severity("Warning"), severity("Informational")
    ('critical', 'medium', 'info')
    """
    return SEVERITY.get(priority.lower(), "info")


def _fields(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    fields = doc.get("output_fields")
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise AdapterError("field 'output_fields': expected an object", reason="bad_field")
    return fields


def _text(fields: Mapping[str, Any], *names: str) -> str | None:
    """The first named output field with a value; Falco writes ``<NA>`` for none."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value)
            if text and text != "<NA>":
                return text
        elif value is not None:
            raise AdapterError(
                f"field 'output_fields.{name}': expected text, got {type(value).__name__}",
                reason="bad_field",
            )
    return None


def normalize(doc: Mapping[str, Any], raw: str | None = None) -> list[NormalizedEvent]:
    """One row per alert."""
    rule = req_str(doc, "rule")
    level = severity(req_str(doc, "priority"))
    fields = _fields(doc)
    time_value: Any = doc.get("time")
    if time_value is not None:
        event_time = utc_text(time_value, "time")
    elif isinstance(fields.get("evt.time"), int) and not isinstance(fields["evt.time"], bool):
        event_time = utc_text(fields["evt.time"], "output_fields.evt.time", 1_000_000_000)
    else:
        raise AdapterError("required field 'time' is missing", reason="missing_field")
    k8s_user = _text(fields, "ka.user.name")
    actor = k8s_user or _text(fields, "user.name", "user.loginname")
    container = _text(fields, "container.id")
    resource = _text(fields, "ka.target.resource") or (
        "container" if container and container != "host" else "host"
    )
    return [
        {
            "event_id": stable_id(doc),
            "source": SOURCE,
            "event_time": event_time,
            "actor": actor,
            "actor_type": k8s_actor_type(k8s_user) if k8s_user else ("user" if actor else None),
            "action": _text(fields, "ka.verb", "evt.type"),
            "resource": resource,
            "object": _text(fields, "ka.target.name", "k8s.pod.name", "container.name")
            or opt_str(doc, "hostname"),
            "namespace": _text(fields, "ka.target.namespace", "k8s.ns.name"),
            "outcome": "fail" if level == FAIL_SEVERITY else "warn",
            "source_ip": _text(fields, "ka.sourceips", "fd.sip"),
            "user_agent": _text(fields, "ka.useragent"),
            "policy": rule,
            "severity": level,
            "raw": raw_text(doc, raw),
        }
    ]
