"""``/livez`` and ``/readyz`` with an in-process scorer: what an orchestrator acts on.

The scorer is a plain stand-in with the attributes the routes read (its real
counterpart runs in ``tests/integration/test_health.py``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from service.api.app import create_app
from service.config import Settings
from service.liveness import Progress
from service.store.repository import Store


@dataclass
class ScorerState:
    progress: Progress = field(default_factory=Progress)
    model: object | None = "a model"
    assigned_partitions: int = 2
    broker_answering: bool = True
    registry_reachable: bool = True
    store_reachable: bool = True
    ended: bool = False


def client_for(store: Store, scorer: ScorerState, operations_only: bool = False) -> TestClient:
    settings = Settings(stall_s=5.0)
    app = create_app(store, scorer, settings, operations_only=operations_only)  # type: ignore[arg-type]
    return TestClient(app)


def test_a_scorer_with_work_waiting_and_no_batch_finished_is_not_live(store: Store) -> None:
    scorer = ScorerState()
    client = client_for(store, scorer)
    assert client.get("/livez").json() == {"status": "ok", "stalled_s": 0.0}

    # The last batch finished 10 s ago and left 40 records waiting.
    scorer.progress.finished(backlog=40, now=time.monotonic() - 10)
    live = client.get("/livez")
    assert live.status_code == 503
    assert live.json()["status"] == "stalled"
    assert live.json()["stalled_s"] > 5

    scorer.progress.finished(backlog=0)
    assert client.get("/livez").status_code == 200


def test_a_batch_held_for_a_store_that_is_down_is_waiting_not_stuck(store: Store) -> None:
    scorer = ScorerState(store_reachable=False)
    scorer.progress.started(now=time.monotonic() - 60)
    client = client_for(store, scorer)
    assert client.get("/livez").status_code == 200
    scorer.store_reachable = True  # the same batch, with the store answering: stuck
    assert client.get("/livez").status_code == 503


def test_a_scorer_thread_that_ended_is_not_live(store: Store) -> None:
    client = client_for(store, ScorerState(ended=True))
    assert client.get("/livez").status_code == 503
    assert client.get("/livez").json() == {"status": "stopped"}


def test_readiness_names_the_dependency_that_is_gone(store: Store) -> None:
    scorer = ScorerState()
    client = client_for(store, scorer)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "store": True,
        "model_loaded": True,
        "partitions_assigned": True,
        "broker": True,
    }
    scorer.broker_answering = False
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["broker"] is False


def test_the_operations_app_serves_health_and_metrics_only(store: Store) -> None:
    client = client_for(store, ScorerState(), operations_only=True)
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert client.get("/v1/anomalies").status_code == 404
    assert client.get("/docs").status_code == 200  # the operations endpoints' own schema
