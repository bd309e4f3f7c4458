"""An optimizer on a real store and a real MLflow registry, with live figures written the
way scorers write them (:class:`service.drift.DriftMonitor` flushing to the store)."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow import MlflowClient

from models import registry
from models.bundle import LoadedModel
from models.registry_config import RegistryConfig
from service.config import Settings
from service.drift import DriftMonitor
from service.store.repository import Store
from tests.mlflow_db import fresh_registry
from tests.service.test_drift import training_like, uniform_scores


@pytest.fixture
def registry_config(tmp_path: Path) -> RegistryConfig:
    return fresh_registry(tmp_path / "registry")


@pytest.fixture
def optimizer_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        shadow_hours=0,
        shadow_min_events=1000,
        guard_min_events=1000,
        gate_min_verdicts=5,
    )


def register_versions(config: RegistryConfig, n: int) -> list[str]:
    """``n`` registered versions, each with a training run (no model files: the optimizer
    never loads a model, it judges the figures scorers recorded)."""
    experiment = registry.configure(config)
    client = MlflowClient()
    client.create_registered_model(config.model_name)
    versions = []
    for _ in range(n):
        with mlflow.start_run(experiment_id=experiment) as run:
            pass
        version = client.create_model_version(
            config.model_name, f"{run.info.artifact_uri}/model", run.info.run_id
        )
        versions.append(str(version.version))
    return versions


def score_live(
    store: Store,
    model: LoadedModel,
    version: str,
    events: int,
    alerts: int,
    shadow: bool = False,
    errors: int = 0,
    shift: float = 0.0,
    fixed: dict[str, float] | None = None,
    scores: np.ndarray | None = None,
) -> None:
    """Record ``events`` scored by ``version`` now, as a scorer would (``shift`` moves
    :func:`shifted_feature` that far from its training distribution; ``fixed`` gives
    features one value in every event; ``scores`` replaces calibrated-uniform scores)."""
    monitor = DriftMonitor("scorer-test", shadow=shadow)
    monitor.use(LoadedModel(model=model.model, name=model.name, version=version))
    X = training_like(model, events).copy()
    if shift:
        column = model.model.feature_names.index(shifted_feature(model))
        X[:, column] = X[:, column] + shift
    for feature, value in (fixed or {}).items():
        X[:, model.model.feature_names.index(feature)] = value
    monitor.observe(X, uniform_scores(events) if scores is None else scores, alerts=alerts)
    monitor.observe_errors(errors)
    monitor.flush(store)


def model_named(model: LoadedModel, config: RegistryConfig) -> LoadedModel:
    return LoadedModel(model=model.model, name=config.model_name, version=model.version)


def shifted_feature(model: LoadedModel) -> str:
    """The feature with the most training bins: a shift of it shows in its PSI."""
    assert model.model.reference is not None
    features = model.model.reference.features
    return max(features, key=lambda name: len(features[name].edges))
