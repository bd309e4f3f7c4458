from __future__ import annotations

from typing import Any

import orjson
import pytest

from features.exceptions import AdapterError
from features.schema import to_frame
from features.sources import detect, gatekeeper
from tests.features.sources.samples import gatekeeper_audit_line


def admission_denial() -> dict[str, Any]:
    """A ``--log-denies`` line from the validating webhook."""
    return {
        "level": "info",
        "ts": 1629732396.2387245,
        "logger": "webhook",
        "msg": 'denied admission: you must provide labels: {"gatekeeper"}',
        "process": "admission",
        "event_type": "violation",
        "constraint_name": "ns-must-have-gk",
        "constraint_group": "constraints.gatekeeper.sh",
        "constraint_api_version": "v1beta1",
        "constraint_kind": "K8sRequiredLabels",
        "constraint_action": "deny",
        "resource_group": "",
        "resource_api_version": "v1",
        "resource_kind": "Namespace",
        "resource_namespace": "",
        "resource_name": "payments",
        "request_username": "kubernetes-admin",
    }


def exported_violation(**overrides: Any) -> dict[str, Any]:
    """An audit violation in the export format (disk or Dapr driver)."""
    violation: dict[str, Any] = {
        "id": "2025-03-05T00:37:13Z",
        "details": {"missing_labels": ["test"]},
        "eventType": "violation_audited",
        "group": "constraints.gatekeeper.sh",
        "version": "v1beta1",
        "kind": "K8sRequiredLabels",
        "name": "pod-must-have-test",
        "message": 'you must provide labels: {"test"}',
        "enforcementAction": "deny",
        "resourceAPIVersion": "v1",
        "resourceKind": "Pod",
        "resourceNamespace": "nginx",
        "resourceName": "nginx-deployment-2-79479fc6db-7qbnm",
        "resourceLabels": {"app": "nginx"},
    }
    violation.update(overrides)
    return violation


def test_maps_an_audit_line() -> None:
    [row] = gatekeeper.normalize(gatekeeper_audit_line(), "RAW")
    assert row["actor"] is None
    assert row["action"] == "audit"
    assert row["resource"] == "Pod"
    assert row["object"] == "kube-scheduler-kind-control-plane"
    assert row["namespace"] == "kube-system"
    assert row["policy"] == "K8sContainerLimits/container-must-have-limits"
    assert row["outcome"] == "fail"
    assert row["raw"] == "RAW"


def test_epoch_ts_becomes_utc_text() -> None:
    [row] = gatekeeper.normalize(gatekeeper_audit_line())
    frame, rejected = to_frame([row])
    assert rejected == []
    assert frame["event_time"][0].isoformat().startswith("2021-09-29T04:17:50.307")


def test_text_ts_is_kept() -> None:
    line = {**gatekeeper_audit_line(), "ts": "2021-09-29T04:17:50.307Z"}
    [row] = gatekeeper.normalize(line)
    assert row["event_time"] == "2021-09-29T04:17:50.307Z"


def test_admission_denial_names_the_requesting_user() -> None:
    line = admission_denial()
    assert detect(line).source == "gatekeeper"
    [row] = gatekeeper.normalize(line)
    assert (row["actor"], row["actor_type"]) == ("kubernetes-admin", "user")
    assert row["action"] == "admission"
    assert row["outcome"] == "deny"
    assert row["namespace"] is None  # cluster-scoped resource


@pytest.mark.parametrize("action", ["warn", "dryrun"])
def test_report_only_actions_are_warnings(action: str) -> None:
    for line in (gatekeeper_audit_line(), admission_denial()):
        line["constraint_action"] = action
        assert gatekeeper.normalize(line)[0]["outcome"] == "warn"


def test_exported_audit_violation() -> None:
    violation = exported_violation()
    assert detect(violation).source == "gatekeeper"
    [row] = gatekeeper.normalize(violation)
    assert row["event_time"] == "2025-03-05T00:37:13Z"
    assert row["policy"] == "K8sRequiredLabels/pod-must-have-test"
    assert (row["resource"], row["namespace"]) == ("Pod", "nginx")
    assert row["object"] == "nginx-deployment-2-79479fc6db-7qbnm"
    assert row["outcome"] == "fail"


def test_exported_admission_violation() -> None:
    violation = exported_violation(
        eventType="violation_admission",
        timestamp="2025-03-05T00:40:00Z",
        operation="CREATE",
        requestUsername="system:serviceaccount:ci:deployer",
        enforcementAction="scoped",
        enforcementActions=["deny"],
    )
    [row] = gatekeeper.normalize(violation)
    assert row["event_time"] == "2025-03-05T00:40:00Z"
    assert (row["action"], row["actor"], row["actor_type"]) == (
        "CREATE",
        "system:serviceaccount:ci:deployer",
        "service_account",
    )
    assert row["outcome"] == "deny"


def test_id_is_stable_for_the_same_event_and_differs_for_another() -> None:
    line = gatekeeper_audit_line()
    reordered = orjson.loads(orjson.dumps(dict(reversed(list(line.items())))))
    first = gatekeeper.normalize(line)[0]["event_id"]
    assert gatekeeper.normalize(reordered)[0]["event_id"] == first
    other = {**line, "resource_name": "another-pod"}
    assert gatekeeper.normalize(other)[0]["event_id"] != first


def test_other_log_lines_are_not_violations() -> None:
    finished = {
        "level": "info",
        "ts": 1.0,
        "msg": "auditing is complete",
        "event_type": "audit_finished",
    }
    assert not gatekeeper.matches(finished)


def test_missing_constraint_kind_is_a_missing_field() -> None:
    line = gatekeeper_audit_line()
    del line["constraint_kind"]
    with pytest.raises(AdapterError) as info:
        gatekeeper.normalize(line)
    assert info.value.reason == "missing_field"


def test_missing_time_is_a_missing_field() -> None:
    line = gatekeeper_audit_line()
    del line["ts"], line["audit_id"]
    with pytest.raises(AdapterError) as info:
        gatekeeper.normalize(line)
    assert info.value.reason == "missing_field"
