"""OPA decision logs for Kubernetes admission requests (the console decision logger's form).

OPA running as a validating admission webhook logs one decision per admission
request: the ``AdmissionReview`` it was given as ``input`` (with the requester's
``userInfo``), and the ``AdmissionReview`` response it returned as ``result``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.synthetic.batch import Batch, dumps
from training.synthetic.catalogue import K8S_RESOURCES
from training.synthetic.clock import rfc3339_micro, rfc3339_nanos
from training.synthetic.randomness import IntArray, uuid4_strings

SOURCE = "opa"
PATH = "kubernetes/admission"
KINDS = {
    "pods": "Pod",
    "deployments": "Deployment",
    "services": "Service",
    "configmaps": "ConfigMap",
    "ingresses": "Ingress",
    "jobs": "Job",
    "statefulsets": "StatefulSet",
}
OPERATIONS = {"create": "CREATE", "update": "UPDATE", "patch": "UPDATE", "delete": "DELETE"}


@dataclass
class Decisions:
    """Columns of admission decisions; ``message`` is the denial reason, ``None`` when allowed."""

    time: IntArray
    username: list[str]
    groups: list[Sequence[str]]
    verb: list[str]
    resource: list[str]
    namespace: list[str]
    name: list[str]
    message: list[str | None]
    body: list[dict[str, Any] | None]

    def __len__(self) -> int:
        return len(self.username)


def write(decisions: Decisions, rng: np.random.Generator, instance: str) -> Batch:
    """Serialise decisions as OPA prints them; ``instance`` is the OPA instance id label."""
    n = len(decisions)
    ids = uuid4_strings(rng, n)
    uids = uuid4_strings(rng, n)
    stamps = rfc3339_nanos(decisions.time, rng.integers(0, 1000, n))
    logged = rfc3339_micro(decisions.time + 300)
    eval_ns = rng.integers(150_000, 900_000, n).tolist()
    ports = rng.integers(32768, 60999, n).tolist()
    lines = []
    for i in range(n):
        resource = decisions.resource[i]
        info = K8S_RESOURCES[resource]
        kind = KINDS[resource]
        namespace = decisions.namespace[i]
        name = decisions.name[i]
        message = decisions.message[i]
        obj = decisions.body[i] or {
            "apiVersion": f"{info.group}/{info.version}" if info.group else info.version,
            "kind": kind,
            "metadata": {"name": name, "namespace": namespace},
        }
        response: dict[str, Any] = {"uid": uids[i], "allowed": message is None}
        if message is not None:
            response["status"] = {"code": 403, "reason": "Forbidden", "message": message}
        doc = {
            "decision_id": ids[i],
            "input": {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "request": {
                    "uid": uids[i],
                    "kind": {"group": info.group, "version": info.version, "kind": kind},
                    "resource": {
                        "group": info.group,
                        "version": info.version,
                        "resource": resource,
                    },
                    "namespace": namespace,
                    "name": name,
                    "operation": OPERATIONS[decisions.verb[i]],
                    "userInfo": {
                        "username": decisions.username[i],
                        "groups": list(decisions.groups[i]),
                    },
                    "object": obj,
                    "dryRun": False,
                },
            },
            "labels": {"id": instance, "version": "0.68.0"},
            "level": "info",
            "metrics": {"timer_rego_query_eval_ns": eval_ns[i]},
            "msg": "Decision Log",
            "path": PATH,
            "requested_by": f"10.0.0.12:{ports[i]}",
            "result": {
                "apiVersion": "admission.k8s.io/v1",
                "kind": "AdmissionReview",
                "response": response,
            },
            "time": logged[i],
            "timestamp": stamps[i],
            "type": "openpolicyagent.org/decision_logs",
        }
        lines.append(dumps(doc))
    return Batch(SOURCE, decisions.time.copy(), lines, [(i,) for i in ids])
