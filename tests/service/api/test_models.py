from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from fastapi.testclient import TestClient

from models import registry
from models.bundle import ScoringModel
from service.config import Settings
from service.store.repository import Store
from tests.service.conftest import auth


@pytest.fixture
def two_versions(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> registry.RegistryConfig:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    config = registry.RegistryConfig(
        settings.mlflow_tracking_uri, settings.mlflow_artifact_root, settings.model_name
    )
    frame = pl.DataFrame({"a": np.random.default_rng(0).normal(size=400), "b": 0.0})
    model = ScoringModel.train(frame, ("a", "b"), "test", detector_names=("ecod",))
    for _ in range(2):
        registry.log_and_register(config, model, frame, {}, {}, {})
    registry.set_alias(config, "champion", "1")
    return config


def test_list_promote_rollback(
    client: TestClient, store: Store, two_versions: registry.RegistryConfig
) -> None:
    if store.is_postgres:
        pytest.skip("the registry is MLflow's, not the store's: one backend is enough")
    admin = auth(store, "admin")
    listed = client.get("/v1/models", headers=admin)
    assert listed.status_code == 200
    assert [(v["version"], v["aliases"]) for v in listed.json()["items"]] == [
        ("2", []),
        ("1", ["champion"]),
    ]
    promoted = client.post("/v1/models/2/promote", headers=admin)
    assert promoted.json() == {"champion": "2", "previous": "1"}
    assert registry.alias_version(two_versions, "champion") == "2"
    rolled_back = client.post("/v1/models/rollback", headers=admin)
    assert rolled_back.json() == {"champion": "1", "previous": "2"}
    timeline = [(d.model_version, d.kind, d.decided_by) for d in store.decisions("auditlens")]
    assert timeline == [("2", "promoted", "api"), ("2", "rolled_back", "api")]
    again = client.post("/v1/models/rollback", headers=admin)
    assert again.status_code == 409
    assert again.json() == {"detail": "the champion has no earlier version to roll back to"}
    missing = client.post("/v1/models/99/promote", headers=admin)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "no model version '99'"}
    assert client.post("/v1/models/latest/promote", headers=admin).status_code == 422


def test_a_registry_that_does_not_answer_is_a_503_naming_the_setting(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store.is_postgres:
        pytest.skip("the registry is MLflow's, not the store's: one backend is enough")
    from service.localstack import free_port

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # nothing there
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    admin = auth(store, "admin")
    for method, path in (
        ("GET", "/v1/models"),
        ("POST", "/v1/models/1/promote"),
        ("POST", "/v1/models/rollback"),
    ):
        answer = client.request(method, path, headers=admin)
        assert answer.status_code == 503, (path, answer.text)
        assert answer.headers["retry-after"] == "5"
        assert "MLFLOW_TRACKING_URI" in answer.json()["detail"]
