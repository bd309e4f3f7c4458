from __future__ import annotations

from fastapi.testclient import TestClient

from service.store.repository import Store
from tests.service.conftest import anomaly_row, auth


def test_list_requires_a_key(client: TestClient) -> None:
    response = client.get("/v1/anomalies")
    assert response.status_code == 401
    assert response.json() == {"detail": "missing bearer API key"}
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_list_rejects_an_unknown_key(client: TestClient) -> None:
    response = client.get("/v1/anomalies", headers={"Authorization": "Bearer al_x_y"})
    assert response.status_code == 401
    assert response.json() == {"detail": "invalid or revoked API key"}


def test_list_pages_with_cursor_and_link_header(client: TestClient, store: Store) -> None:
    store.insert_anomalies([anomaly_row(f"e{i}") for i in range(5)])
    headers = auth(store)
    first = client.get("/v1/anomalies", params={"limit": 3}, headers=headers)
    assert first.status_code == 200
    body = first.json()
    assert [i["event_id"] for i in body["items"]] == ["e0", "e1", "e2"]
    assert body["items"][0]["model"] == {"name": "auditlens", "version": "1"}
    assert body["items"][0]["explanation"][0]["feature"] == "touches_rbac"
    assert 'rel="next"' in first.headers["Link"]
    second = client.get(
        "/v1/anomalies", params={"limit": 3, "cursor": body["next_cursor"]}, headers=headers
    )
    assert [i["event_id"] for i in second.json()["items"]] == ["e3", "e4"]
    assert "Link" not in second.headers


def test_invalid_cursor_is_a_400(client: TestClient, store: Store) -> None:
    response = client.get("/v1/anomalies", params={"cursor": "garbage"}, headers=auth(store))
    assert response.status_code == 400
    assert response.json() == {"detail": "cursor is not one this API issued"}


def test_invalid_filter_is_a_422_naming_the_field(client: TestClient, store: Store) -> None:
    response = client.get("/v1/anomalies", params={"min_score": 250}, headers=auth(store))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "min_score"]


def test_detail_and_404(client: TestClient, store: Store) -> None:
    store.insert_anomalies([anomaly_row("only", raw='{"kind":"Event"}')])
    headers = auth(store)
    listed = client.get("/v1/anomalies", headers=headers).json()["items"][0]
    detail = client.get(f"/v1/anomalies/{listed['id']}", headers=headers)
    assert detail.status_code == 200
    assert detail.json()["raw"] == '{"kind":"Event"}'
    missing = client.get("/v1/anomalies/999999", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no anomaly with id 999999"}


def test_health_routes_need_no_key(client: TestClient) -> None:
    assert client.get("/livez").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": True}
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "auditlens_messages_consumed_total" in metrics.text
