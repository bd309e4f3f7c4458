"""``auditlens serve --role dispatcher``: the dispatcher alone, with only the operations
endpoints on its health port, delivering what the store's outbox holds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

from service.localstack import free_port
from service.store.repository import Store
from tests.service.conftest import anomaly_row, webhook_values
from tests.service.webhooks.receiver import Receiver, always


def test_the_dispatcher_role_delivers_and_serves_only_its_health(tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(store_url)
    store.create_schema()
    hook = Receiver(always(204)).start()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AUDITLENS_", "MLFLOW_"))},
        "AUDITLENS_DATA_DIR": str(tmp_path / "data"),
        "AUDITLENS_STORE_URL": store_url,
        "AUDITLENS_HEALTH_PORT": str(port),
        "AUDITLENS_WEBHOOK_ALLOW_PRIVATE": "true",
        "AUDITLENS_WEBHOOK_POLL_S": "0.05",
        # The dispatcher role runs the dispatcher whatever this says.
        "AUDITLENS_WEBHOOK_DISPATCHER": "false",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--role", "dispatcher"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        endpoint = store.create_webhook(webhook_values(url=hook.url), created_by="adm")
        store.insert_anomalies([anomaly_row("a1")])
        hook.wait_for(1, timeout_s=60)
        settled = time.monotonic() + 10
        while store.outbox_counts(endpoint.id) != {"delivered": 1}:
            assert time.monotonic() < settled, store.outbox_counts(endpoint.id)
            time.sleep(0.05)

        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                live = httpx.get(f"{base}/livez", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the health port never answered"
                time.sleep(0.1)
        assert live.json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"store": True}
        assert httpx.get(f"{base}/v1/anomalies", timeout=5).status_code == 404

        process.send_signal(signal.SIGTERM)
        # A clean exit, after the dispatcher stopped (not killed by the signal).
        assert process.wait(timeout=30) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        hook.stop()
        store.close()
