"""End to end through the real broker: train → serve → replay → GET /v1/anomalies.

Every event the offline scorer flags must reach the API exactly once through the
stream, with the same score: the two paths share adapters, features and model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import orjson
import pytest

from service.localstack import free_port

pytestmark = pytest.mark.integration


def run_cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture
def env(tmp_path: Path, kafka_bootstrap: str, unique_name: str) -> dict[str, str]:
    return {
        **os.environ,
        "AUDITLENS_DATA_DIR": str(tmp_path / "data"),
        "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "AUDITLENS_TOPICS": f"k8s-{unique_name}",
        "AUDITLENS_CONSUMER_GROUP": f"group-{unique_name}",
        "AUDITLENS_DLQ_TOPIC": f"dlq-{unique_name}",
        "AUDITLENS_API_PORT": str(free_port()),
        "AUDITLENS_BATCH_MAX_WAIT_MS": "200",
    }


@pytest.fixture
def server(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve"], env=env, stdout=log, stderr=log
    )
    yield process
    process.terminate()
    process.wait(timeout=60)
    log.close()


def pull_all(base: str, key: str) -> list[dict[str, object]]:
    """A SIEM's incremental pull: follow next_cursor until a page comes back empty."""
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(
            f"{base}/v1/anomalies", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        page.raise_for_status()
        body = page.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not body["items"]:
            return items


def test_train_serve_replay_and_read_anomalies(
    env: dict[str, str], tmp_path: Path, server: subprocess.Popen[bytes]
) -> None:
    gen = tmp_path / "gen"
    run_cli(env, "generate", "--out", str(gen), "--days", "8", "--events-per-day", "1500")
    trained = run_cli(env, "train", "--data", str(gen / "train.jsonl"), "--promote")
    assert "alias champion -> version 1" in trained
    key = run_cli(env, "keys", "create", "--role", "reader").strip().splitlines()[-1]
    offline = tmp_path / "offline.jsonl"
    run_cli(env, "score", "--data", str(gen / "test.jsonl"), "--out", str(offline))
    expected = {
        r["event_id"]: r["score"]
        for r in map(orjson.loads, offline.read_bytes().splitlines())
        if r["is_anomaly"]
    }
    assert expected, "the offline scorer flagged nothing: the test would prove nothing"

    replayed = run_cli(
        env, "replay", "--data", str(gen / "test.jsonl"), "--topic", env["AUDITLENS_TOPICS"]
    )
    assert replayed.startswith("produced ")

    base = f"http://127.0.0.1:{env['AUDITLENS_API_PORT']}"
    deadline = time.monotonic() + 120
    stored: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        assert server.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
        try:
            stored = pull_all(base, key)
        except httpx.TransportError:
            stored = []
        if len(stored) >= len(expected):
            break
        time.sleep(1)
    streamed = {str(a["event_id"]): a["score"] for a in stored}
    assert len(stored) == len(streamed), "an anomaly was stored twice"
    assert streamed == expected
    first = stored[0]
    assert first["model"] == {"name": "auditlens", "version": "1"}
    assert first["summary"]
    ready = httpx.get(f"{base}/readyz").json()
    assert ready["checks"] == {"store": True, "model_loaded": True, "partitions_assigned": True}
