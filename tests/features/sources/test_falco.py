from __future__ import annotations

from typing import Any

import pytest

from features.exceptions import AdapterError
from features.schema import to_frame
from features.sources import detect, falco
from tests.features.sources.samples import falco_alert


def k8s_audit_alert() -> dict[str, Any]:
    """An alert from Falco's ``k8s_audit`` plugin."""
    return {
        "output": "Warning K8s Operation performed by user not in allowed list of users "
        "(user=mallory target=kubernetes/endpoints verb=create uri=/api/v1/...)",
        "priority": "Warning",
        "rule": "Disallowed K8s User",
        "source": "k8s_audit",
        "time": "2024-05-01T11:00:00.000000000Z",
        "output_fields": {
            "ka.user.name": "mallory",
            "ka.verb": "create",
            "ka.target.resource": "endpoints",
            "ka.target.name": "kubernetes",
            "ka.target.namespace": "default",
            "ka.sourceips": ["198.51.100.7"],
            "ka.useragent": "kubectl/v1.30.0",
        },
    }


def test_maps_a_syscall_alert() -> None:
    [row] = falco.normalize(falco_alert(), "RAW")
    assert row["actor"] == "root"
    assert row["actor_type"] == "user"
    assert row["action"] == "execve"
    assert row["resource"] == "container"
    assert row["object"] == "api-7d9c5b6f5-x2x7k"
    assert row["namespace"] == "prod"
    assert row["policy"] == "Terminal shell in container"
    assert row["severity"] == "low"
    assert row["outcome"] == "warn"
    assert row["raw"] == "RAW"


def test_nanosecond_time_parses() -> None:
    frame, rejected = to_frame(falco.normalize(falco_alert()))
    assert rejected == []
    assert frame["event_time"][0].microsecond == 162468


def test_maps_a_k8s_audit_alert() -> None:
    alert = k8s_audit_alert()
    assert detect(alert).source == "falco"
    [row] = falco.normalize(alert)
    assert (row["actor"], row["actor_type"], row["action"]) == ("mallory", "user", "create")
    assert (row["resource"], row["object"], row["namespace"]) == (
        "endpoints",
        "kubernetes",
        "default",
    )
    assert (row["source_ip"], row["user_agent"]) == ("198.51.100.7", "kubectl/v1.30.0")
    assert row["severity"] == "medium"


def test_host_alert_without_kubernetes_context() -> None:
    alert = falco_alert()
    alert["output_fields"] = {
        "container.id": "host",
        "fd.sip": "192.0.2.10",
        "user.name": "<NA>",
        "user.loginname": "ops",
    }
    [row] = falco.normalize(alert)
    assert (row["resource"], row["object"], row["namespace"]) == ("host", "worker-2", None)
    assert row["actor"] == "ops"
    assert row["source_ip"] == "192.0.2.10"


@pytest.mark.parametrize(
    ("priority", "severity", "outcome"),
    [
        ("Emergency", "critical", "fail"),
        ("Alert", "critical", "fail"),
        ("Critical", "critical", "fail"),
        ("Error", "high", "warn"),
        ("Warning", "medium", "warn"),
        ("Notice", "low", "warn"),
        ("Informational", "info", "warn"),
        ("Debug", "info", "warn"),
    ],
)
def test_priority_gives_severity_and_outcome(priority: str, severity: str, outcome: str) -> None:
    [row] = falco.normalize({**falco_alert(), "priority": priority})
    assert (row["severity"], row["outcome"]) == (severity, outcome)


def test_missing_time_falls_back_to_evt_time() -> None:
    alert = falco_alert()
    del alert["time"]
    [row] = falco.normalize(alert)
    assert row["event_time"] == "2024-05-01T10:21:35.162468Z"


def test_id_is_a_stable_content_hash() -> None:
    first = falco.normalize(falco_alert())[0]["event_id"]
    assert falco.normalize(falco_alert())[0]["event_id"] == first
    assert falco.normalize({**falco_alert(), "hostname": "worker-3"})[0]["event_id"] != first


def test_no_time_at_all_is_a_missing_field() -> None:
    alert = falco_alert()
    del alert["time"], alert["output_fields"]["evt.time"]
    with pytest.raises(AdapterError) as info:
        falco.normalize(alert)
    assert info.value.reason == "missing_field"


def test_ill_typed_output_field_is_a_bad_field() -> None:
    alert = falco_alert()
    alert["output_fields"]["user.name"] = {"uid": 0}
    with pytest.raises(AdapterError) as info:
        falco.normalize(alert)
    assert info.value.reason == "bad_field"
    assert "user.name" in str(info.value)
