"""One realistic event per source, and hypothesis strategies for broken variants of them.

Every builder returns a fresh object, so a test may mutate what it gets.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

from tests.features.test_decode import k8s_event

FIXTURES = Path(__file__).parents[2] / "fixtures"
STRATUS = FIXTURES / "cloudtrail-stratus-detonations"
OTRF = FIXTURES / "cloudtrail-otrf-s3-exfil"
REPORTS = FIXTURES / "policyreports-wg-policy"

GENERIC_MAPPING = {
    "event_id": "uuid",
    "event_time": "occurred_at",
    "actor": "who.email",
    "action": "operation",
    "object": "target",
    "outcome": "status",
    "source_ip": "client.ip",
    "outcomes": {"OK": "allow", "DENIED": "deny"},
}


def stratus_records(technique: str) -> list[dict[str, Any]]:
    """The records of one Stratus Red Team detonation (file name = technique)."""
    records: list[dict[str, Any]] = json.loads((STRATUS / f"{technique}.json").read_text())
    return records


def otrf_records() -> list[dict[str, Any]]:
    """The Logstash-shipped OTRF records (one JSON object per line)."""
    [path] = OTRF.glob("*.json")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def report(name: str) -> dict[str, Any]:
    """The first YAML document of a wg-policy fixture file."""
    doc: dict[str, Any] = next(yaml.safe_load_all((REPORTS / name).read_text()))
    return doc


def cloudtrail_record() -> dict[str, Any]:
    return stratus_records("aws.persistence.iam-create-admin-user")[0]


def kyverno_report() -> dict[str, Any]:
    return report("sample-v1beta1-kyverno.yaml")


def opa_decision() -> dict[str, Any]:
    """A decision on a Kubernetes admission review, as the decision-log plugin uploads it."""
    return {
        "decision_id": "4ca636c1-55e4-417a-b1d8-4aceb67960d1",
        "labels": {"id": "e4d9bd3b-6b9c-4a8f-8b8e-7d2b0d4c1f77", "version": "0.68.0"},
        "path": "kubernetes/admission/deny",
        "input": {
            "kind": "AdmissionReview",
            "apiVersion": "admission.k8s.io/v1",
            "request": {
                "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "name": "nginx",
                "namespace": "prod",
                "operation": "CREATE",
                "userInfo": {"username": "alice@example.com", "groups": ["dev"]},
                "object": {"metadata": {"name": "nginx"}},
            },
        },
        "result": ["image 'nginx' comes from an untrusted registry"],
        "requested_by": "10.0.0.12:51732",
        "timestamp": "2024-05-01T10:00:00.123456789Z",
        "metrics": {"timer_rego_query_eval_ns": 41234},
        "req_id": 7,
    }


def gatekeeper_audit_line() -> dict[str, Any]:
    """An audit log line, as the audit pod writes it to stdout."""
    return {
        "level": "info",
        "ts": 1632889070.3075402,
        "logger": "controller",
        "msg": "container <kube-scheduler> has no resource limits",
        "process": "audit",
        "audit_id": "2021-09-29T04:17:47Z",
        "event_type": "violation_audited",
        "constraint_group": "constraints.gatekeeper.sh",
        "constraint_api_version": "v1beta1",
        "constraint_kind": "K8sContainerLimits",
        "constraint_name": "container-must-have-limits",
        "constraint_namespace": "",
        "constraint_action": "deny",
        "resource_group": "",
        "resource_api_version": "v1",
        "resource_kind": "Pod",
        "resource_namespace": "kube-system",
        "resource_name": "kube-scheduler-kind-control-plane",
    }


def falco_alert() -> dict[str, Any]:
    """A syscall alert in Falco's JSON output."""
    return {
        "hostname": "worker-2",
        "output": "10:21:35.162468215: Notice A shell was spawned in a container with an "
        "attached terminal (user=root shell=bash container_id=5ac3aa1b2c8d)",
        "priority": "Notice",
        "rule": "Terminal shell in container",
        "source": "syscall",
        "tags": ["container", "shell", "mitre_execution"],
        "time": "2024-05-01T10:21:35.162468215Z",
        "output_fields": {
            "container.id": "5ac3aa1b2c8d",
            "container.name": "api",
            "evt.time": 1714558895162468215,
            "evt.type": "execve",
            "k8s.ns.name": "prod",
            "k8s.pod.name": "api-7d9c5b6f5-x2x7k",
            "proc.cmdline": "bash",
            "user.name": "root",
        },
    }


def generic_event() -> dict[str, Any]:
    """An application audit event for :data:`GENERIC_MAPPING`."""
    return {
        "uuid": "0f5e8d3c-1d2b-4c6a-9f0e-2b7d4a1c9e88",
        "occurred_at": 1714558895.25,
        "who": {"email": "bob@example.com"},
        "operation": "export_customers",
        "target": "crm/customers",
        "status": "DENIED",
        "client": {"ip": "203.0.113.9"},
    }


SAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "k8s_audit": k8s_event,
    "cloudtrail": cloudtrail_record,
    "opa": opa_decision,
    "gatekeeper": gatekeeper_audit_line,
    "kyverno": kyverno_report,
    "falco": falco_alert,
    "generic": generic_event,
}


# --- strategies -----------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(max_size=12), json_values, max_size=8)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path inside a JSON value."""
    found: list[tuple[Any, ...]] = []
    children: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    for key, child in children:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


@st.composite
def mutated(draw: st.DrawFn, build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """A valid sample with a few fields deleted or replaced by values of any JSON type."""
    doc = copy.deepcopy(build())
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return doc
