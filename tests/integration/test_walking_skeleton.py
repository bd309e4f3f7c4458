"""End to end through the real broker: train → serve → replay → GET /v1/anomalies.

Every event the offline scorer flags must reach the API exactly once through the
stream, with the same score: the two paths share adapters, features and model.
"""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest

from tests.integration.conftest import Processes, TrainedEnvironment, pull_all, run_cli

pytestmark = pytest.mark.integration


def test_train_serve_replay_and_read_anomalies(
    trained: TrainedEnvironment, service_env: dict[str, str], processes: Processes
) -> None:
    # Subscribed to a second topic that does not exist yet, as a fresh deployment is.
    topic = service_env["AUDITLENS_TOPICS"]
    service_env = {
        **service_env,
        "AUDITLENS_TOPICS": f"{topic},{topic}-absent",
        "AUDITLENS_CHECKPOINT_INTERVAL_S": "1",  # drift counts reach the store at checkpoints
    }
    server = processes.serve(service_env, role="all")
    key = run_cli(service_env, "keys", "create", "--role", "reader").strip().splitlines()[-1]
    replayed = run_cli(
        service_env,
        "replay",
        "--data",
        str(trained.test_file),
        "--topic",
        topic,
    )
    assert replayed.startswith("produced ")

    base = f"http://127.0.0.1:{service_env['AUDITLENS_API_PORT']}"
    deadline = time.monotonic() + 120
    stored: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        assert server.poll() is None, processes.logs()
        try:
            stored = pull_all(base, key)
        except httpx.TransportError:
            stored = []
        if len(stored) >= len(trained.expected):
            break
        time.sleep(1)
    streamed = {str(a["event_id"]): a["score"] for a in stored}
    assert len(stored) == len(streamed), "an anomaly was stored twice"
    assert streamed == trained.expected
    first = stored[0]
    assert first["model"] == {"name": "auditlens", "version": "1"}
    assert first["summary"]
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["checks"] == {
        "store": True,
        "model_loaded": True,
        "partitions_assigned": True,
        "broker": True,
    }
    assert "the scorer failed" not in processes.full_logs()

    # Drift: every scored event was counted against the model's training distribution.
    admin = run_cli(service_env, "keys", "create", "--role", "admin").strip().splitlines()[-1]
    scored = len(trained.offline_file.read_bytes().splitlines())
    deadline = time.monotonic() + 60
    while True:
        drift = httpx.get(
            f"{base}/v1/models/drift", headers={"Authorization": f"Bearer {admin}"}
        ).json()
        hour = drift["windows"][0] if drift.get("windows") else {"events": 0}
        if hour["events"] >= scored or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert drift["version"] == "1"
    assert hour["events"] == scored
    assert hour["alerts"] == len(trained.expected)
    assert hour["features"][0]["psi"] >= hour["features"][-1]["psi"]
    assert 0.0 <= hour["tail"]["p_value"] <= 1.0
    assert "auditlens_feature_drift_psi{" in httpx.get(f"{base}/metrics").text
    table = run_cli(service_env, "drift", "--window", "1h")
    assert f"auditlens version 1, last 1h: {scored} events scored" in table
