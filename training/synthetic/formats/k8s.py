"""Kubernetes audit events (``audit.k8s.io/v1`` ``Event``) from columns of API calls.

Generators describe *what* happened as :class:`K8sCalls` columns; this module
writes each call the way the API server's audit backend does: a
``ResponseComplete`` event with the request URI, the authenticated user and
groups, the object reference, the response status and the RBAC authorizer's
annotations. A share of write requests also gets its ``RequestReceived`` stage
(same ``auditID``, no response yet), as an audit policy without
``omitStages`` produces.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from training.synthetic.batch import Batch, concat_columns, dumps
from training.synthetic.catalogue import K8S_RESOURCES
from training.synthetic.clock import rfc3339_micro
from training.synthetic.randomness import IntArray, uuid4_strings

SOURCE = "k8s_audit"
STATUS_TEXT = {
    403: ("Forbidden", "Forbidden"),
    404: ("NotFound", "Not Found"),
    409: ("Conflict", "Conflict"),
    422: ("Invalid", "Unprocessable Entity"),
}
_WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
_QUERY = {
    "list": "?limit=500",
    "watch": "?allowWatchBookmarks=true&watch=true",
}
_SUBRESOURCE_QUERY = {
    "exec": "?command=sh&container=app&stdin=true&stdout=true&tty=true",
    "portforward": "?ports=8080",
    "log": "?container=app&tailLines=200",
}


@dataclass
class K8sCalls:
    """Columns of Kubernetes API requests, one row per request.

    ``resource`` may carry a subresource (``pods/exec``); ``reason`` is the RBAC
    authorizer's reason, ``None`` when RBAC forbade the request; ``message``
    explains a failure (an admission webhook's denial); ``body`` is the request
    object for the few rows logged at ``Request`` level.
    """

    time: IntArray
    actor: list[str]
    verb: list[str]
    resource: list[str]
    namespace: list[str | None]
    name: list[str | None]
    code: IntArray
    ip: list[str]
    agent: list[str]
    reason: list[str | None]
    message: list[str | None]
    body: list[dict[str, Any] | None]

    def __len__(self) -> int:
        return len(self.actor)

    @classmethod
    def concat(cls, parts: Sequence[K8sCalls]) -> K8sCalls:
        if not parts:
            return cls.rows([])
        return cls(**concat_columns(parts, ("time", "code")))

    @classmethod
    def rows(cls, rows: Sequence[Mapping[str, Any]]) -> K8sCalls:
        """Calls from a few explicit rows (scenarios); missing optional fields default."""
        defaults: dict[str, Any] = {
            "namespace": None,
            "name": None,
            "code": 200,
            "reason": None,
            "message": None,
            "body": None,
        }
        full = [{**defaults, **row} for row in rows]
        return cls(
            time=np.array([r["time"] for r in full], dtype=np.int64),
            actor=[r["actor"] for r in full],
            verb=[r["verb"] for r in full],
            resource=[r["resource"] for r in full],
            namespace=[r["namespace"] for r in full],
            name=[r["name"] for r in full],
            code=np.array([r["code"] for r in full], dtype=np.int64),
            ip=[r["ip"] for r in full],
            agent=[r["agent"] for r in full],
            reason=[r["reason"] for r in full],
            message=[r["message"] for r in full],
            body=[r["body"] for r in full],
        )

    def take(self, where: IntArray) -> K8sCalls:
        values: dict[str, Any] = {}
        for f in fields(self):
            column = getattr(self, f.name)
            values[f.name] = (
                column[where] if isinstance(column, np.ndarray) else [column[i] for i in where]
            )
        return K8sCalls(**values)


def allowed_by(
    binding: str,
    role: str,
    subject: str,
    namespace: str | None = None,
    role_kind: str = "ClusterRole",
) -> str:
    """The RBAC authorizer's ``authorization.k8s.io/reason`` annotation.

    >>> allowed_by("view", "view", 'Group "engineering"')
    'RBAC: allowed by ClusterRoleBinding "view" of ClusterRole "view" to Group "engineering"'
    >>> allowed_by("dev", "edit", 'User "a"', "shop")
    'RBAC: allowed by RoleBinding "dev/shop" of ClusterRole "edit" to User "a"'
    """
    if namespace is None:
        return (
            f'RBAC: allowed by ClusterRoleBinding "{binding}" of {role_kind} "{role}" to {subject}'
        )
    return (
        f'RBAC: allowed by RoleBinding "{binding}/{namespace}" of {role_kind} "{role}" to {subject}'
    )


def request_uri(verb: str, resource: str, namespace: str | None, name: str | None) -> str:
    """The request path (and query) the API server records.

    >>> request_uri("get", "deployments", "shop", "web")
    '/apis/apps/v1/namespaces/shop/deployments/web'
    >>> request_uri("list", "pods", None, None)
    '/api/v1/pods?limit=500'
    >>> request_uri("create", "pods/exec", "shop", "web-1")
    '/api/v1/namespaces/shop/pods/web-1/exec?command=sh&container=app&stdin=true&stdout=true&tty=true'
    """
    base, _, sub = resource.partition("/")
    info = K8S_RESOURCES[base]
    path = info.api_prefix
    if namespace and info.namespaced:
        path += f"/namespaces/{namespace}"
    path += f"/{base}"
    if name:
        path += f"/{name}"
    if sub:
        return path + f"/{sub}" + _SUBRESOURCE_QUERY.get(sub, "")
    return path + _QUERY.get(verb, "")


def write(
    calls: K8sCalls,
    rng: np.random.Generator,
    groups: Mapping[str, Sequence[str]],
    request_received_share: float = 0.3,
) -> Batch:
    """Serialise ``calls`` as audit events; ``groups`` gives each username's groups."""
    n = len(calls)
    ids = uuid4_strings(rng, n)
    latency = np.rint(rng.lognormal(np.log(6_000), 0.8, n)).astype(np.int64)  # µs
    received = rfc3339_micro(calls.time)
    completed = rfc3339_micro(calls.time + latency)
    users = {
        actor: {"username": actor, "groups": list(groups[actor])} for actor in set(calls.actor)
    }
    codes = calls.code.tolist()
    lines: list[bytes] = []
    early: list[bytes] = []
    early_times: list[int] = []
    echo_rr = rng.random(n) < request_received_share
    for i in range(n):
        verb = calls.verb[i]
        resource = calls.resource[i]
        namespace = calls.namespace[i]
        name = calls.name[i]
        base, _, sub = resource.partition("/")
        info = K8S_RESOURCES[base]
        ref: dict[str, Any] = {"resource": base}
        if namespace and info.namespaced:
            ref["namespace"] = namespace
        if name:
            ref["name"] = name
        if info.group:
            ref["apiGroup"] = info.group
        ref["apiVersion"] = info.version
        if sub:
            ref["subresource"] = sub
        code = codes[i]
        status: dict[str, Any] = {"metadata": {}, "code": code}
        if code >= 400:
            reason_text, _ = STATUS_TEXT.get(code, ("BadRequest", "Bad Request"))
            status["status"] = "Failure"
            status["message"] = calls.message[i] or f"{base} {name or ''} {reason_text}".strip()
            status["reason"] = reason_text
        body = calls.body[i]
        reason = calls.reason[i]
        event: dict[str, Any] = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata" if body is None else "RequestResponse",
            "auditID": ids[i],
            "stage": "ResponseComplete",
            "requestURI": request_uri(verb, resource, namespace, name),
            "verb": verb,
            "user": users[calls.actor[i]],
            "sourceIPs": [calls.ip[i]],
            "userAgent": calls.agent[i],
            "objectRef": ref,
            "responseStatus": status,
        }
        if body is not None:
            event["requestObject"] = body
        event["requestReceivedTimestamp"] = received[i]
        event["stageTimestamp"] = completed[i]
        event["annotations"] = (
            {"authorization.k8s.io/decision": "forbid", "authorization.k8s.io/reason": ""}
            if reason is None
            else {"authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": reason}
        )
        if echo_rr[i] and verb in _WRITE_VERBS:
            first = {k: v for k, v in event.items() if k not in ("responseStatus", "annotations")}
            first["stage"] = "RequestReceived"
            first["stageTimestamp"] = received[i]
            early.append(dumps(first))
            early_times.append(int(calls.time[i]))
        lines.append(dumps(event))
    times = np.concatenate([np.array(early_times, dtype=np.int64), calls.time])
    return Batch(SOURCE, times, early + lines, [()] * len(early) + [(i,) for i in ids])
