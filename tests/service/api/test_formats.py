"""``format=ocsf`` and ``format=ecs`` on the feed and on one anomaly."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.store.repository import Store
from tests.service.conftest import anomaly_row, auth


def store_two(store: Store) -> None:
    store.insert_anomalies(
        [
            anomaly_row(
                "rich",
                severity="critical",
                score=91.5,
                namespace="prod",
                explanation=[
                    {"feature": "touches_rbac", "value": 1.0, "typical": 0.0, "contribution": 0.7},
                    {"feature": "hour_of_day", "value": 3.0, "typical": 14.0, "contribution": 0.3},
                ],
            ),
            anomaly_row(
                "bare",
                actor=None,
                actor_type=None,
                action=None,
                resource=None,
                object=None,
                source_ip=None,
                user_agent=None,
                outcome=None,
                severity="medium",
                score=45.0,
                explanation=[],
            ),
        ]
    )


def test_ocsf_findings_are_detection_findings_of_1_5_0(client: TestClient, store: Store) -> None:
    # Conformance to the official schema: tests/service/api/formats/test_ocsf.py.
    store_two(store)
    response = client.get("/v1/anomalies", params={"format": "ocsf"}, headers=auth(store))
    assert response.status_code == 200
    findings = response.json()["items"]
    assert len(findings) == 2
    for finding in findings:
        assert (finding["class_uid"], finding["category_uid"]) == (2004, 2)
        assert finding["type_uid"] == 200400 + finding["activity_id"]
        assert finding["metadata"]["version"] == "1.5.0"
        assert finding["metadata"]["product"]["name"] == "auditlens"
        assert finding["finding_info"]["analytic"]["type_id"] == 4
        assert finding["finding_info"]["analytic"]["type"] == "Learning (ML/DL)"


def test_ocsf_maps_severity_explanation_actor_and_resources(
    client: TestClient, store: Store
) -> None:
    store_two(store)
    rich, bare = client.get("/v1/anomalies", params={"format": "ocsf"}, headers=auth(store)).json()[
        "items"
    ]
    assert (rich["severity_id"], rich["severity"], rich["risk_score"]) == (5, "Critical", 92)
    assert (bare["severity_id"], bare["severity"]) == (3, "Medium")
    [analysis] = rich["anomaly_analyses"]
    assert analysis["analysis_targets"] == [{"name": "alice", "type": "User Account"}]
    observed = {
        a["observation_parameter"]: a["observations"][0]["value"] for a in analysis["anomalies"]
    }
    baseline = {
        b["observation_parameter"]: b["observations"][0]["value"] for b in analysis["baselines"]
    }
    assert observed == {"touches_rbac": "1", "hour_of_day": "3"}
    assert baseline == {"touches_rbac": "0", "hour_of_day": "14"}
    [evidence] = rich["evidences"]
    assert evidence["actor"] == {"user": {"name": "alice", "type_id": 1, "type": "User"}}
    assert evidence["src_endpoint"] == {"ip": "10.0.0.1"}
    assert evidence["api"]["operation"] == "create"
    assert rich["resources"] == [{"name": "x", "type": "clusterrolebindings", "namespace": "prod"}]
    assert "anomaly_analyses" not in bare
    assert "evidences" not in bare
    assert "resources" not in bare


@pytest.mark.parametrize(
    ("change", "status_id", "activity_id"),
    [
        ({}, 1, 1),
        ({"status": "acknowledged"}, 2, 2),
        ({"status": "in_progress"}, 2, 2),
        ({"status": "closed", "verdict": "true_positive"}, 4, 3),
    ],
)
def test_ocsf_status_follows_triage(
    client: TestClient,
    store: Store,
    change: dict[str, str],
    status_id: int,
    activity_id: int,
) -> None:
    store.insert_anomalies([anomaly_row("a")])
    [row] = client.get("/v1/anomalies", headers=auth(store)).json()["items"]
    if change:
        client.patch(f"/v1/anomalies/{row['id']}", json=change, headers=auth(store, "analyst"))
    finding = client.get(
        f"/v1/anomalies/{row['id']}", params={"format": "ocsf"}, headers=auth(store)
    ).json()
    assert (finding["status_id"], finding["activity_id"]) == (status_id, activity_id)
    assert finding["raw_data"] == "{}"


def test_ocsf_marks_suppressed_anomalies(client: TestClient, store: Store) -> None:
    store.create_suppression({"actor": "alice"}, "known", None, "k")
    store.insert_anomalies([anomaly_row("a")])
    [finding] = client.get("/v1/anomalies", params={"format": "ocsf"}, headers=auth(store)).json()[
        "items"
    ]
    assert (finding["status_id"], finding["status"], finding["is_alert"]) == (
        3,
        "Suppressed",
        False,
    )


def test_ecs_documents_are_alerts(client: TestClient, store: Store) -> None:
    store_two(store)
    response = client.get("/v1/anomalies", params={"format": "ecs"}, headers=auth(store))
    assert response.status_code == 200
    rich, bare = response.json()["items"]
    assert rich["event"]["kind"] == "alert"
    assert rich["event"]["category"] == ["api"]
    assert (rich["event"]["severity"], rich["event"]["risk_score"]) == (99, 91.5)
    assert rich["event"]["outcome"] == "success"
    assert rich["@timestamp"].startswith("2026-03-02T10:00:00")
    assert rich["user"] == {"name": "alice"}
    assert rich["source"] == {"ip": "10.0.0.1"}
    assert rich["rule"]["ruleset"] == "auditlens"
    assert rich["orchestrator"] == {
        "type": "kubernetes",
        "namespace": "prod",
        "resource": {"type": "clusterrolebindings", "name": "x"},
    }
    assert [c["feature"] for c in rich["auditlens"]["explanation"]] == [
        "touches_rbac",
        "hour_of_day",
    ]
    assert "user" not in bare
    assert bare["event"]["outcome"] == "unknown"


def test_formats_page_with_the_same_cursor(client: TestClient, store: Store) -> None:
    store.insert_anomalies([anomaly_row(f"e{i}") for i in range(3)])
    headers = auth(store)
    first = client.get("/v1/anomalies", params={"format": "ecs", "limit": 2}, headers=headers)
    assert 'rel="next"' in first.headers["Link"]
    rest = client.get(
        "/v1/anomalies",
        params={"format": "ecs", "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=headers,
    ).json()
    assert [d["event"]["id"] for d in rest["items"]] == ["e2"]


def test_unknown_format_is_422(client: TestClient, store: Store) -> None:
    response = client.get("/v1/anomalies", params={"format": "xml"}, headers=auth(store))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "format"]
