"""SIEM conformance: the documents of a real scoring run, as a SIEM pulls them, checked.

    .venv/bin/python -m benchmarks.siem_conformance --data-dir DIR --events FILE [--out FILE]

``DIR`` is an auditlens data directory holding a champion model (``auditlens train
--promote``), ``FILE`` events to score (e.g. the test period of ``auditlens
generate``). The events are scored as the scorer scores them, the anomalies stored
in a fresh SQLite store, and an ``auditlens serve --role api`` process serves them:
every page of ``GET /v1/anomalies?format=ocsf`` and ``format=ecs``, and each
anomaly alone (OCSF with ``raw_data``), are checked against the official
definitions (:mod:`tests.conformance`), as are the Alertmanager payloads the
webhooks would send for the same anomalies. Prints and writes valid / total.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson

from features.decode import normalize_message
from features.schema import to_frame
from models.registry import RegistryConfig, load
from service.replay import _messages
from service.scoring import anomaly_rows, score_events
from service.store.outbox import AlertContent
from service.store.repository import AnomalyFilter, Store
from service.webhooks.payloads import render
from tests.conformance import alertmanager_errors, ecs_violations, ocsf_errors


def _stored_anomalies(data_dir: Path, events: Path, store: Store) -> int:
    model = load(
        RegistryConfig(f"sqlite:///{data_dir / 'mlflow.db'}", data_dir / "mlflow-artifacts")
    )
    if model is None:
        raise SystemExit(f"no champion model in {data_dir}: run `auditlens train --promote`")
    messages = _messages([events]).sort("time", "event_id", maintain_order=True)
    state = model.model.baseline_state.copy()
    normalized = [
        row
        for value in messages["value"]
        for row in state.reports.new_or_changed(normalize_message(value))
    ]
    frame, _ = to_frame(normalized)
    return store.insert_anomalies(anomaly_rows(model, score_events(model, frame, state)))


def _pull(base: str, key: str, fmt: str) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"format": fmt, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(
            f"{base}/v1/anomalies", params=params, headers={"Authorization": f"Bearer {key}"}
        )
        page.raise_for_status()
        body = page.json()
        documents.extend(body["items"])
        cursor = body["next_cursor"]
        if not body["items"]:
            return documents


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--role", "api"],
        env={**env, "AUDITLENS_API_PORT": str(port)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/livez")
            return server
        except httpx.TransportError:
            time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"the API did not start; see {log}")


def _tally(documents: list[dict[str, Any]], check: Any) -> dict[str, Any]:
    problems = [check(d) for d in documents]
    failing = [p for p in problems if p]
    return {
        "valid": len(documents) - len(failing),
        "total": len(documents),
        "first_problems": failing[0][:5] if failing else [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--events", type=Path, required=True)
    parser.add_argument("--port", type=int, default=18091)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="auditlens-siem-"))
    store_url = f"sqlite:///{work / 'store.db'}"
    store = Store(store_url)
    store.create_schema()
    stored = _stored_anomalies(args.data_dir.resolve(), args.events, store)
    key = store.create_api_key("reader")
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env |= {"AUDITLENS_STORE_URL": store_url, "AUDITLENS_DATA_DIR": str(work)}
    server = _serve(env, args.port, work / "api.log")
    base = f"http://127.0.0.1:{args.port}"
    try:
        findings = _pull(base, key, "ocsf")
        single = [
            httpx.get(
                f"{base}/v1/anomalies/{f['metadata']['uid']}",
                params={"format": "ocsf"},
                headers={"Authorization": f"Bearer {key}"},
            ).json()
            for f in findings
        ]
        alerts = _pull(base, key, "ecs")
    finally:
        server.terminate()
        server.wait(timeout=30)
    rows = store.list_anomalies(AnomalyFilter(), max(stored, 1))[0]
    payloads = [
        orjson.loads(
            render(AlertContent(f"msg_{r.id}", datetime.now(UTC), "alertmanager", r, 1, [r.id]))
        )
        for r in rows
    ]
    result = {
        "anomalies": stored,
        "ocsf_1_5_0": _tally(findings + single, ocsf_errors),
        "ecs": _tally(alerts, ecs_violations),
        "alertmanager_v4": _tally(payloads, alertmanager_errors),
    }
    for name in ("ocsf_1_5_0", "ecs", "alertmanager_v4"):
        tally = result[name]
        print(f"{name}: {tally['valid']} of {tally['total']} documents valid")
        for problem in tally["first_problems"]:
            print(f"    {problem}")
    if args.out:
        args.out.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
