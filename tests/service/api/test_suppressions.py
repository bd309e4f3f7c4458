"""``/v1/suppressions``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from service.store.repository import AnomalyFilter, Store
from tests.service.conftest import anomaly_row, auth


def test_create_list_get_delete(client: TestClient, store: Store) -> None:
    headers = auth(store, "analyst")
    created = client.post(
        "/v1/suppressions",
        json={"actor": "ci-bot", "namespace": "build", "reason": "CI housekeeping"},
        headers=headers,
    )
    assert created.status_code == 201
    rule = created.json()
    assert rule["created_by"] == headers["Authorization"].split("_")[1]
    assert (rule["active"], rule["suppressed"], rule["expires_at"]) == (True, 0, None)
    store.insert_anomalies(
        [
            anomaly_row("hit", actor="ci-bot", namespace="build"),
            anomaly_row("miss", actor="ci-bot", namespace="prod"),
        ]
    )
    status_of = {a.event_id: a.status for a in store.list_anomalies(AnomalyFilter(), 10)[0]}
    assert status_of == {"hit": "suppressed", "miss": "new"}
    fetched = client.get(f"/v1/suppressions/{rule['id']}", headers=headers).json()
    assert fetched["suppressed"] == 1
    listed = client.get("/v1/suppressions", headers=headers).json()["items"]
    assert [r["id"] for r in listed] == [rule["id"]]
    deleted = client.delete(f"/v1/suppressions/{rule['id']}", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    missing = client.get(f"/v1/suppressions/{rule['id']}", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": f"no suppression with id {rule['id']}"}


def test_a_rule_must_pin_a_field_and_expire_in_the_future(client: TestClient, store: Store) -> None:
    headers = auth(store, "analyst")
    nothing = client.post("/v1/suppressions", json={"reason": "all of it"}, headers=headers)
    assert nothing.status_code == 422
    assert nothing.json()["detail"][0]["msg"] == (
        "Value error, a suppression needs at least one of source, actor, action, resource, "
        "namespace; a rule without fields would silence every anomaly"
    )
    past = client.post(
        "/v1/suppressions",
        json={"actor": "a", "reason": "r", "expires_at": "2020-01-01T00:00:00Z"},
        headers=headers,
    )
    assert past.status_code == 422
    assert past.json() == {"detail": "expires_at 2020-01-01T00:00:00+00:00 is not in the future"}
    naive = client.post(
        "/v1/suppressions",
        json={"actor": "a", "reason": "r", "expires_at": "2099-01-01T00:00:00"},
        headers=headers,
    )
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"] == ["body", "expires_at"]


def test_expired_rules_are_listed_on_request(client: TestClient, store: Store) -> None:
    headers = auth(store, "analyst")
    rule = store.create_suppression({"actor": "a"}, "r", None, "k")
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE suppressions SET expires_at = '2001-01-01 00:00:00' WHERE id = {rule.id}"
        )
    assert client.get("/v1/suppressions", headers=headers).json() == {"items": []}
    listed = client.get(
        "/v1/suppressions", params={"include_expired": "true"}, headers=headers
    ).json()["items"]
    assert [(r["id"], r["active"]) for r in listed] == [(rule.id, False)]
