"""``/v1/webhooks`` (admin): endpoints, secrets shown once, URL checks, delivery log."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.store.outbox import AttemptResult
from service.store.repository import Store
from service.store.tables import utcnow
from service.webhooks.signing import secret_key
from tests.service.conftest import anomaly_row, auth, make_client


def test_create_shows_the_secret_once_and_lists_without_it(
    client: TestClient, store: Store
) -> None:
    admin = auth(store, "admin")
    created = client.post(
        "/v1/webhooks",
        json={
            "url": "https://siem.example.com/hooks/auditlens",
            "min_severity": "high",
            "namespace": "prod",
            "payload_format": "alertmanager",
        },
        headers=admin,
    )
    assert created.status_code == 201
    body = created.json()
    assert len(secret_key(body["secret"])) == 24  # generated: whsec_ + 24 random bytes
    assert (body["enabled"], body["group_window_seconds"], body["min_severity"]) == (
        True,
        30,
        "high",
    )
    listed = client.get("/v1/webhooks", headers=admin).json()["items"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert "secret" not in listed[0]
    fetched = client.get(f"/v1/webhooks/{body['id']}", headers=admin).json()
    assert "secret" not in fetched
    assert fetched["url"] == "https://siem.example.com/hooks/auditlens"


def test_a_given_secret_is_kept_and_a_bad_one_refused(client: TestClient, store: Store) -> None:
    admin = auth(store, "admin")
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    kept = client.post(
        "/v1/webhooks", json={"url": "https://a.example.com/", "secret": secret}, headers=admin
    )
    assert kept.json()["secret"] == secret
    short = client.post(
        "/v1/webhooks",
        json={"url": "https://a.example.com/", "secret": "whsec_c2hvcnQ="},
        headers=admin,
    )
    assert short.status_code == 422
    assert short.json() == {"detail": "the secret must hold 24 to 64 bytes, not 5"}


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        (
            "http://127.0.0.1:8080/hook",
            "webhook URL host 127.0.0.1 resolves to 127.0.0.1, which is not a public address "
            "(set AUDITLENS_WEBHOOK_ALLOW_PRIVATE=true to allow private receivers)",
        ),
        (
            "http://169.254.169.254/latest/meta-data/",
            "webhook URL host 169.254.169.254 resolves to 169.254.169.254, which is not a "
            "public address (set AUDITLENS_WEBHOOK_ALLOW_PRIVATE=true to allow private "
            "receivers)",
        ),
        (
            "https://vault.internal/hook",
            "webhook URL host vault.internal resolves to 10.20.30.40, which is not a public "
            "address (set AUDITLENS_WEBHOOK_ALLOW_PRIVATE=true to allow private receivers)",
        ),
        (
            "http://[::1]/hook",
            "webhook URL host ::1 resolves to ::1, which is not a public address "
            "(set AUDITLENS_WEBHOOK_ALLOW_PRIVATE=true to allow private receivers)",
        ),
        (
            "file:///etc/passwd",
            "webhook URL scheme must be http or https (or kafka, for a topic), not file",
        ),
        (
            "https://user:pw@a.example.com/",
            "webhook URL must not carry credentials; deliveries are authenticated by signature",
        ),
        (
            "https://nowhere.invalid/",
            "webhook URL host nowhere.invalid does not resolve: "
            "[Errno -2] Name or service not known: nowhere.invalid",
        ),
    ],
)
def test_unsafe_urls_are_refused(client: TestClient, store: Store, url: str, detail: str) -> None:
    response = client.post("/v1/webhooks", json={"url": url}, headers=auth(store, "admin"))
    assert response.status_code == 422
    assert response.json() == {"detail": detail}


def test_a_kafka_topic_is_an_endpoint_and_a_bad_topic_is_refused(
    client: TestClient, store: Store
) -> None:
    admin = auth(store, "admin")
    created = client.post("/v1/webhooks", json={"url": "kafka://alerts.auditlens"}, headers=admin)
    assert created.status_code == 201
    assert created.json()["url"] == "kafka://alerts.auditlens"
    refused = client.post("/v1/webhooks", json={"url": "kafka://alerts/high"}, headers=admin)
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("a kafka:// URL names one topic")


def test_private_receivers_are_allowed_when_the_setting_says_so(
    store: Store, settings: Settings
) -> None:
    allowing = settings.model_copy(update={"webhook_allow_private": True})
    with make_client(store, allowing) as client:
        response = client.post(
            "/v1/webhooks", json={"url": "http://127.0.0.1:8080/hook"}, headers=auth(store, "admin")
        )
    assert response.status_code == 201


def test_update_disable_cancels_the_queue_and_enable_clears_the_reason(
    client: TestClient, store: Store
) -> None:
    admin = auth(store, "admin")
    hook = client.post(
        "/v1/webhooks",
        json={"url": "https://a.example.com/", "group_window_seconds": 0},
        headers=admin,
    ).json()
    store.insert_anomalies([anomaly_row("a")])
    assert store.outbox_counts(hook["id"]) == {"pending": 1}
    disabled = client.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": False}, headers=admin)
    assert disabled.status_code == 200
    assert disabled.json()["disabled_reason"] == "disabled by an administrator"
    assert store.outbox_counts(hook["id"]) == {"cancelled": 1}
    enabled = client.patch(
        f"/v1/webhooks/{hook['id']}",
        json={"enabled": True, "min_severity": "critical"},
        headers=admin,
    ).json()
    assert (enabled["enabled"], enabled["disabled_reason"], enabled["min_severity"]) == (
        True,
        None,
        "critical",
    )
    refused = client.patch(
        f"/v1/webhooks/{hook['id']}", json={"url": "http://10.0.0.1/"}, headers=admin
    )
    assert refused.status_code == 422
    nulled = client.patch(f"/v1/webhooks/{hook['id']}", json={"url": None}, headers=admin)
    assert nulled.status_code == 422
    assert nulled.json() == {"detail": "url cannot be null"}


def test_deliveries_are_listed_newest_first_with_paging(client: TestClient, store: Store) -> None:
    admin = auth(store, "admin")
    hook = client.post(
        "/v1/webhooks",
        json={"url": "https://a.example.com/", "group_window_seconds": 0},
        headers=admin,
    ).json()
    store.insert_anomalies([anomaly_row("a")])
    for attempt in range(3):
        [claimed] = store.claim_due(10, 60, lambda content: "{}")
        store.record_attempt(
            claimed,
            AttemptResult(
                "retry" if attempt < 2 else "delivered",
                attempted_at=utcnow(),
                duration_ms=1.5,
                status_code=500 if attempt < 2 else 204,
                error="receiver answered 500" if attempt < 2 else None,
                retry_at=utcnow() if attempt < 2 else None,
            ),
        )
    first = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 2}, headers=admin
    ).json()
    assert [(d["attempt"], d["outcome"], d["status_code"]) for d in first["items"]] == [
        (3, "delivered", 204),
        (2, "retry", 500),
    ]
    assert len({d["message_id"] for d in first["items"]}) == 1
    rest = client.get(
        f"/v1/webhooks/{hook['id']}/deliveries",
        params={"before": first["next_before"]},
        headers=admin,
    ).json()
    assert [(d["attempt"], d["error"]) for d in rest["items"]] == [(1, "receiver answered 500")]
    assert rest["next_before"] is None


def test_delete_and_404(client: TestClient, store: Store) -> None:
    admin = auth(store, "admin")
    hook = client.post("/v1/webhooks", json={"url": "https://a.example.com/"}, headers=admin).json()
    store.insert_anomalies([anomaly_row("a")])
    assert client.delete(f"/v1/webhooks/{hook['id']}", headers=admin).status_code == 204
    assert store.outbox_messages() == []
    for response in (
        client.get(f"/v1/webhooks/{hook['id']}", headers=admin),
        client.delete(f"/v1/webhooks/{hook['id']}", headers=admin),
        client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin),
        client.patch(f"/v1/webhooks/{hook['id']}", json={"enabled": True}, headers=admin),
    ):
        assert response.status_code == 404
        assert response.json() == {"detail": f"no webhook with id {hook['id']}"}
