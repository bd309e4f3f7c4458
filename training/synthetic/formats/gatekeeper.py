"""Gatekeeper audit log lines (``event_type: violation_audited``).

Gatekeeper's audit controller re-evaluates existing resources on every audit
run and logs each violation it finds as one zap JSON line (``ts`` in float
seconds, ``audit_id`` the run's start time). Their event id is defined by the
adapter (a hash of the line), so this writer returns no ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.synthetic.batch import Batch, dumps
from training.synthetic.clock import US, epoch_seconds, rfc3339_seconds
from training.synthetic.randomness import IntArray

SOURCE = "gatekeeper"


@dataclass(frozen=True)
class Violation:
    constraint_kind: str
    constraint_name: str
    resource_kind: str
    namespace: str
    name: str
    message: str
    api_version: str = "v1"
    group: str = ""


def write(violations: list[Violation], times: IntArray, run_starts: IntArray) -> Batch:
    """One line per violation found by the audit run that started at ``run_starts[i]``."""
    ts = epoch_seconds(times).tolist()
    audit_ids = rfc3339_seconds(run_starts - run_starts % US)
    lines = [
        dumps(
            {
                "level": "info",
                "ts": t,
                "logger": "controller",
                "msg": v.message,
                "process": "audit",
                "audit_id": audit_id,
                "details": {},
                "event_type": "violation_audited",
                "constraint_group": "constraints.gatekeeper.sh",
                "constraint_api_version": "v1beta1",
                "constraint_kind": v.constraint_kind,
                "constraint_name": v.constraint_name,
                "constraint_namespace": "",
                "constraint_action": "deny",
                "resource_group": v.group,
                "resource_api_version": v.api_version,
                "resource_kind": v.resource_kind,
                "resource_namespace": v.namespace,
                "resource_name": v.name,
                "resource_labels": None,
            }
        )
        for v, t, audit_id in zip(violations, ts, audit_ids, strict=True)
    ]
    return Batch(SOURCE, times.copy(), lines, None)
