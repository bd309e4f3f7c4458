"""Open Policy Agent decision logs.

Accepted: a decision object as the decision-log plugin uploads it (a JSON array
of them is opened by :func:`features.decode.unwrap`) and the console form, where
the same fields sit next to ``"msg": "Decision Log"`` and ``"time"``. OPA may
mask (``masked``) or erase (``erased``) parts of ``input`` and ``result``: every
field read from them is optional, so a decision with an erased input still
yields a row, with what is left.

``input`` has no fixed schema; the actor, action and target are read best
effort from the shapes OPA is most often queried with, first match wins:

* a Kubernetes ``AdmissionReview`` (``input.request``): ``userInfo.username``,
  ``operation``, ``kind.kind``, ``name``, ``namespace``;
* an Envoy ``ext_authz`` check (``input.attributes``): the ``x-forwarded-user``
  header, HTTP ``method`` and ``path``, the source address;
* a plain API authorisation input: ``input.user`` / ``subject`` / ``principal``
  (text, or an object with ``name`` / ``username`` / ``id``), ``input.action`` /
  ``method`` / ``operation``, ``input.resource`` / ``path``.

A value of an unexpected type there is skipped, not an error: the input belongs
to the policy, not to OPA.

Field mapping:

=============  ==========================================================
column         from
=============  ==========================================================
event_id       ``decision_id``
event_time     ``timestamp`` (else the console form's ``time``)
actor          see above
actor_type     Kubernetes username class (as for ``k8s_audit``) for an
               admission review, ``user`` for other inputs, null if no actor
action         see above
resource       see above
object         admission review ``name``
namespace      admission review ``namespace``
outcome        ``error`` when the decision carries an ``error``; else from
               ``result``: ``true`` allow, ``false`` deny; an object's
               ``allow``/``allowed`` boolean, its ``response.allowed`` (an
               admission response) or a non-empty ``deny``/``violations``
               list; a list result is a deny set (empty allows); text
               ``allow``/``deny``; null when the result is absent or erased
source_ip      admission ``request.userInfo`` has none; Envoy source address
user_agent     Envoy ``user-agent`` header
policy         ``path`` (else ``query``)
=============  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from features.exceptions import AdapterError
from features.schema import NormalizedEvent
from features.sources.fields import field, opt_str, req_str
from features.sources.generic import raw_text, utc_text
from features.sources.k8s_audit import actor_type as k8s_actor_type

SOURCE = "opa"
DENY_KEYS = ("deny", "denied", "violation", "violations")
ALLOW_KEYS = ("allow", "allowed")
ENVOY_HTTP = "input.attributes.request.http"


def matches(doc: Mapping[str, Any]) -> bool:
    """A decision has an id and names the policy it evaluated (or says it is a decision log)."""
    return isinstance(doc.get("decision_id"), str) and (
        "path" in doc or "query" in doc or doc.get("msg") == "Decision Log"
    )


def _soft(doc: Mapping[str, Any], *paths: str) -> str | None:
    """The first path that holds text; paths of another type are skipped, not errors."""
    for path in paths:
        try:
            value = opt_str(doc, path)
        except AdapterError:
            continue
        if value:
            return value
    return None


def _subject(doc: Mapping[str, Any]) -> str | None:
    for base in ("input.user", "input.subject", "input.principal"):
        value = _soft(doc, base, f"{base}.name", f"{base}.username", f"{base}.id")
        if value:
            return value
    return None


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def outcome(result: Any) -> str | None:
    """allow/deny from a decision ``result`` of any common shape; None when it says neither.

    >>> outcome(True), outcome({"allow": False}), outcome({"deny": ["no root"]}), outcome([])
    ('allow', 'deny', 'deny', 'allow')
    >>> outcome({"response": {"allowed": False}}), outcome(None) is None
    ('deny', True)
    """
    if isinstance(result, bool):
        return "allow" if result else "deny"
    if isinstance(result, list):
        return "deny" if result else "allow"
    if isinstance(result, str):
        lowered = result.lower()
        return {"allow": "allow", "allowed": "allow", "deny": "deny", "denied": "deny"}.get(lowered)
    if not isinstance(result, Mapping):
        return None
    response = result.get("response")
    if isinstance(response, Mapping) and _flag(response.get("allowed")) is not None:
        return "allow" if response["allowed"] else "deny"
    for key in ALLOW_KEYS:
        flag = _flag(result.get(key))
        if flag is not None:
            return "allow" if flag else "deny"
    seen_deny_list = False
    for key in DENY_KEYS:
        value = result.get(key)
        if isinstance(value, list | Mapping):
            if value:
                return "deny"
            seen_deny_list = True
        elif isinstance(value, bool):
            return "deny" if value else "allow"
    return "allow" if seen_deny_list else None


def normalize(doc: Mapping[str, Any], raw: str | None = None) -> list[NormalizedEvent]:
    """One row per decision."""
    decision_id = req_str(doc, "decision_id")
    time_value, time_path = field(doc, "timestamp"), "timestamp"
    if time_value is None:
        time_value, time_path = field(doc, "time"), "time"
    if time_value is None:
        raise AdapterError("required field 'timestamp' is missing", reason="missing_field")
    policy = _soft(doc, "path", "query")
    admission_user = _soft(doc, "input.request.userInfo.username")
    if admission_user:
        actor: str | None = admission_user
        actor_kind: str | None = k8s_actor_type(admission_user)
    else:
        actor = _soft(doc, f"{ENVOY_HTTP}.headers.x-forwarded-user") or _subject(doc)
        actor_kind = "user" if actor else None
    return [
        {
            "event_id": decision_id,
            "source": SOURCE,
            "event_time": utc_text(time_value, time_path),
            "actor": actor,
            "actor_type": actor_kind,
            "action": _soft(
                doc,
                "input.request.operation",
                f"{ENVOY_HTTP}.method",
                "input.action",
                "input.method",
                "input.operation",
            ),
            "resource": _soft(
                doc,
                "input.request.kind.kind",
                f"{ENVOY_HTTP}.path",
                "input.resource",
                "input.resource.type",
                "input.path",
            ),
            "object": _soft(doc, "input.request.name"),
            "namespace": _soft(doc, "input.request.namespace"),
            "outcome": "error" if doc.get("error") else outcome(doc.get("result")),
            "source_ip": _soft(doc, "input.attributes.source.address.socketAddress.address"),
            "user_agent": _soft(doc, f"{ENVOY_HTTP}.headers.user-agent"),
            "policy": policy,
            "severity": None,
            "raw": raw_text(doc, raw),
        }
    ]
