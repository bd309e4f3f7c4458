"""No API key, signing secret or URL token ever reaches a log line."""

from __future__ import annotations

import logging
import time

import pytest

from service.config import Settings
from service.logs import JsonFormatter
from service.store.repository import Store
from service.webhooks.dispatcher import WebhookDispatcher
from tests.service.conftest import anomaly_row, auth, make_client
from tests.service.webhooks.receiver import Receiver, always

URL_TOKEN = "T0KEN-in-the-path-9f8e7d"


def test_keys_secrets_and_url_tokens_stay_out_of_logs(
    store: Store, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    allowing = settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_backoff_base_s": 0.05,
            "webhook_backoff_max_s": 0.1,
        }
    )
    secrets: list[str] = [URL_TOKEN]
    receiver = Receiver(always(204)).start()
    try:
        with make_client(store, allowing) as client:
            admin_key = store.create_api_key("admin")
            secrets.append(admin_key)
            admin = {"Authorization": f"Bearer {admin_key}"}
            issued = client.post("/v1/keys", json={"role": "reader"}, headers=admin).json()
            secrets.append(issued["key"])
            client.get("/v1/anomalies", headers={"Authorization": f"Bearer {issued['key']}"})
            client.get("/v1/anomalies", headers={"Authorization": f"Bearer {issued['key']}x"})
            client.delete(f"/v1/keys/{issued['key_id']}", headers=admin)
            client.get("/v1/anomalies", headers={"Authorization": f"Bearer {issued['key']}"})
            hook = client.post(
                "/v1/webhooks",
                json={
                    "url": f"http://127.0.0.1:{receiver.port}/services/{URL_TOKEN}",
                    "group_window_seconds": 0,
                },
                headers=admin,
            ).json()
            secrets.append(hook["secret"])
            down = client.post(
                "/v1/webhooks",
                json={"url": f"http://127.0.0.1:9/{URL_TOKEN}", "group_window_seconds": 0},
                headers=admin,
            ).json()
            secrets.append(down["secret"])
            client.patch(
                f"/v1/anomalies/{1}", json={"status": "closed"}, headers=auth(store, "analyst")
            )
        store.insert_anomalies([anomaly_row("a")])
        dispatcher = WebhookDispatcher(allowing, store)
        try:
            deadline = time.monotonic() + 20
            while not receiver.received or len(store.list_deliveries(down["id"], 10)) < 2:
                assert time.monotonic() < deadline, "deliveries did not happen"
                dispatcher.run_once()
                time.sleep(0.05)
        finally:
            dispatcher.close()
    finally:
        receiver.stop()
    assert store.list_deliveries(hook["id"], 10)[0].outcome == "delivered"
    failed = store.list_deliveries(down["id"], 10)
    assert all(URL_TOKEN not in (a.error or "") for a in failed)  # the delivery log too
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any("webhook" in line for line in lines)  # the dispatcher did log
    leaked = [(s, line) for line in lines for s in secrets if s in line]
    assert leaked == []
    key_secrets = [key.split("_", 2)[2] for key in secrets[1:3]]  # al_<id>_<secret>
    assert [line for line in lines for s in key_secrets if s in line] == []
