from __future__ import annotations

import pytest

from features.exceptions import AdapterError
from features.sources import detect, k8s_audit
from tests.features.test_decode import k8s_event


def test_detects_audit_events() -> None:
    assert detect(k8s_event()).source == "k8s_audit"


def test_maps_fields() -> None:
    event = k8s_event(
        verb="create",
        objectRef={"resource": "pods", "subresource": "exec", "namespace": "prod", "name": "api"},
        sourceIPs=["10.0.0.7", "10.0.0.8"],
        userAgent="kubectl/v1.31",
        responseStatus={"code": 403},
        annotations={"authorization.k8s.io/decision": "forbid"},
    )
    [row] = k8s_audit.normalize(event, "RAW")
    assert row["event_id"] == "a1"
    assert row["actor"] == "alice"
    assert row["actor_type"] == "user"
    assert row["action"] == "create"
    assert row["resource"] == "pods/exec"
    assert row["object"] == "api"
    assert row["namespace"] == "prod"
    assert row["outcome"] == "deny"
    assert row["source_ip"] == "10.0.0.7"
    assert row["user_agent"] == "kubectl/v1.31"
    assert row["raw"] == "RAW"


@pytest.mark.parametrize("stage", ["RequestReceived", "ResponseStarted"])
def test_unscored_stages_yield_no_rows(stage: str) -> None:
    assert k8s_audit.normalize(k8s_event(stage=stage)) == []


def test_panic_stage_is_an_error_outcome() -> None:
    [row] = k8s_audit.normalize(k8s_event(stage="Panic"))
    assert row["outcome"] == "error"


def test_impersonated_user_is_the_actor() -> None:
    event = k8s_event(
        user={"username": "system:serviceaccount:ci:deployer"},
        impersonatedUser={"username": "bob"},
    )
    [row] = k8s_audit.normalize(event)
    assert row["actor"] == "bob"


def test_missing_audit_id_is_an_adapter_error() -> None:
    event = k8s_event()
    del event["auditID"]
    with pytest.raises(AdapterError, match="auditID"):
        k8s_audit.normalize(event)


def test_the_authorizer_annotations_are_read_although_their_keys_contain_dots() -> None:
    reason = 'RBAC: allowed by ClusterRoleBinding "ops" of ClusterRole "admin" to User "alice"'
    allowed = k8s_event(
        annotations={
            "authorization.k8s.io/decision": "allow",
            "authorization.k8s.io/reason": reason,
        }
    )
    [row] = k8s_audit.normalize(allowed)
    assert row["policy"] == reason
    # A forbid decision is a denial even when no response code was recorded.
    forbidden = k8s_event(annotations={"authorization.k8s.io/decision": "forbid"})
    del forbidden["responseStatus"]
    [row] = k8s_audit.normalize(forbidden)
    assert row["outcome"] == "deny"
