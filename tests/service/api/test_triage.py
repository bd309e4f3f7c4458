"""``PATCH /v1/anomalies/{id}`` and ``GET /v1/anomalies/{id}/history``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.store.repository import Store
from tests.service.conftest import anomaly_row, auth


def stored(client: TestClient, store: Store, event_id: str = "a", **overrides: object) -> int:
    store.insert_anomalies([anomaly_row(event_id, **overrides)])
    items = client.get("/v1/anomalies", headers=auth(store)).json()["items"]
    return int(next(i["id"] for i in items if i["event_id"] == event_id))


def key_id(headers: dict[str, str]) -> str:
    return headers["Authorization"].split("_")[1]


def test_triage_records_who_when_and_from_to(client: TestClient, store: Store) -> None:
    anomaly_id = stored(client, store)
    alice, bob = auth(store, "analyst"), auth(store, "admin")
    first = client.patch(
        f"/v1/anomalies/{anomaly_id}",
        json={"status": "in_progress", "assignee": "alice", "note": "looking"},
        headers=alice,
    )
    assert first.status_code == 200
    body = first.json()
    assert (body["anomaly"]["status"], body["anomaly"]["assignee"]) == ("in_progress", "alice")
    assert [(c["field"], c["from"], c["to"]) for c in body["changes"]] == [
        ("status", "new", "in_progress"),
        ("assignee", None, "alice"),
        ("note", None, "looking"),
    ]
    assert body["suppression"] is None
    closed = client.patch(
        f"/v1/anomalies/{anomaly_id}",
        json={"status": "closed", "verdict": "true_positive", "assignee": None},
        headers=bob,
    )
    assert closed.json()["anomaly"]["verdict"] == "true_positive"
    history = client.get(f"/v1/anomalies/{anomaly_id}/history", headers=auth(store))
    assert history.status_code == 200
    entries = history.json()["items"]
    assert [(e["changed_by"], e["field"], e["from"], e["to"]) for e in entries] == [
        (key_id(alice), "status", "new", "in_progress"),
        (key_id(alice), "assignee", None, "alice"),
        (key_id(alice), "note", None, "looking"),
        (key_id(bob), "status", "in_progress", "closed"),
        (key_id(bob), "verdict", None, "true_positive"),
        (key_id(bob), "assignee", "alice", None),
    ]
    assert all(e["changed_at"].endswith(("Z", "+00:00")) for e in entries)
    # The feed filters on the new status.
    listed = client.get("/v1/anomalies", params={"status": "closed"}, headers=auth(store))
    assert [i["id"] for i in listed.json()["items"]] == [anomaly_id]


def test_closing_as_false_positive_with_suppress_creates_the_rule(
    client: TestClient, store: Store
) -> None:
    anomaly_id = stored(client, store, actor="ci-bot", action="delete")
    response = client.patch(
        f"/v1/anomalies/{anomaly_id}",
        json={
            "status": "closed",
            "verdict": "false_positive",
            "suppress": {
                "fields": ["actor", "action"],
                "reason": "nightly cleanup",
                "expires_at": "2099-01-01T00:00:00Z",
            },
        },
        headers=auth(store, "analyst"),
    )
    assert response.status_code == 200
    rule = response.json()["suppression"]
    assert {k: rule[k] for k in ("actor", "action", "resource", "reason")} == {
        "actor": "ci-bot",
        "action": "delete",
        "resource": None,
        "reason": "nightly cleanup",
    }
    assert rule["expires_at"].startswith("2099-01-01T00:00:00")
    listed = client.get("/v1/suppressions", headers=auth(store, "analyst")).json()["items"]
    assert [r["id"] for r in listed] == [rule["id"]]


def test_state_conflicts_are_409_with_the_reason(client: TestClient, store: Store) -> None:
    anomaly_id = stored(client, store, namespace=None)
    headers = auth(store, "analyst")
    verdict_only = client.patch(
        f"/v1/anomalies/{anomaly_id}", json={"verdict": "true_positive"}, headers=headers
    )
    assert verdict_only.status_code == 409
    assert verdict_only.json() == {
        "detail": "a verdict is set when closing: give status closed with it (the anomaly is new)"
    }
    wrong_verdict = client.patch(
        f"/v1/anomalies/{anomaly_id}",
        json={
            "status": "closed",
            "verdict": "true_positive",
            "suppress": {"fields": ["actor"], "reason": "r"},
        },
        headers=headers,
    )
    assert wrong_verdict.status_code == 409
    assert wrong_verdict.json() == {
        "detail": "suppress is allowed only when closing as a false positive: "
        "give status closed and verdict false_positive"
    }
    missing_field = client.patch(
        f"/v1/anomalies/{anomaly_id}",
        json={
            "status": "closed",
            "verdict": "false_positive",
            "suppress": {"fields": ["namespace"], "reason": "r"},
        },
        headers=headers,
    )
    assert missing_field.status_code == 409
    assert missing_field.json() == {
        "detail": f"anomaly {anomaly_id} has no namespace to suppress on"
    }
    assert client.get(f"/v1/anomalies/{anomaly_id}/history", headers=headers).json() == {
        "items": []
    }


def test_invalid_requests_are_422_naming_the_problem(client: TestClient, store: Store) -> None:
    anomaly_id = stored(client, store)
    headers = auth(store, "analyst")
    empty = client.patch(f"/v1/anomalies/{anomaly_id}", json={}, headers=headers)
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["msg"] == (
        "Value error, nothing to change: give status, verdict, assignee, note or suppress"
    )
    suppressed = client.patch(
        f"/v1/anomalies/{anomaly_id}", json={"status": "suppressed"}, headers=headers
    )
    assert suppressed.status_code == 422
    assert suppressed.json()["detail"][0]["loc"] == ["body", "status"]
    unknown = client.patch(f"/v1/anomalies/{anomaly_id}", json={"owner": "x"}, headers=headers)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "owner"]


def test_unknown_anomaly_is_404(client: TestClient, store: Store) -> None:
    headers = auth(store, "analyst")
    patched = client.patch("/v1/anomalies/999999", json={"status": "closed"}, headers=headers)
    assert patched.status_code == 404
    assert patched.json() == {"detail": "no anomaly with id 999999"}
    history = client.get("/v1/anomalies/999999/history", headers=headers)
    assert history.status_code == 404
    assert history.json() == {"detail": "no anomaly with id 999999"}


def test_readers_cannot_triage(client: TestClient, store: Store) -> None:
    anomaly_id = stored(client, store)
    response = client.patch(
        f"/v1/anomalies/{anomaly_id}", json={"status": "closed"}, headers=auth(store, "reader")
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "this action needs the analyst role; key has reader"}
