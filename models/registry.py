"""Model versions in MLflow: log, register, alias (``champion``/``challenger``), load.

The registered model name defaults to ``auditlens``; the scorer always loads
``models:/<name>@champion``, so promotion and rollback are alias moves.
"""

from __future__ import annotations

import fcntl
import logging
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib
import mlflow
import polars as pl
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from models.bundle import LoadedModel, ScoringModel
from models.compatibility import check_compatible
from models.pyfunc import ARTIFACT_KEY, AuditlensPyfunc
from models.registry_config import RegistryConfig as RegistryConfig

log = logging.getLogger(__name__)
EXPERIMENT = "auditlens"


@contextmanager
def _sqlite_init_lock(tracking_uri: str) -> Iterator[None]:
    """Serialise MLflow's first-use schema migration of a local SQLite tracking file.

    Two processes (say ``serve`` and ``train``) opening a fresh file at once would
    otherwise race in MLflow's Alembic migrations.
    """
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    db = Path(tracking_uri.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    with (db.parent / f"{db.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def configure(config: RegistryConfig) -> str:
    """Point MLflow at the tracking store; return the experiment id (created when missing)."""
    mlflow.set_tracking_uri(config.tracking_uri)
    mlflow.set_registry_uri(config.tracking_uri)
    with _sqlite_init_lock(config.tracking_uri):
        experiment = mlflow.get_experiment_by_name(EXPERIMENT)
        if experiment is not None:
            return str(experiment.experiment_id)
        config.artifact_root.mkdir(parents=True, exist_ok=True)
        return str(
            mlflow.create_experiment(EXPERIMENT, artifact_location=config.artifact_root.as_uri())
        )


def log_and_register(
    config: RegistryConfig,
    model: ScoringModel,
    example_features: pl.DataFrame,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
) -> str:
    """One MLflow run: params, metrics, the pyfunc model; returns the new version number."""
    experiment_id = configure(config)
    example = example_features.select(model.feature_names).head(5).to_pandas()
    wrapper = AuditlensPyfunc()
    wrapper.scoring_model = model
    signature = infer_signature(example, wrapper.predict(None, example))
    with (
        mlflow.start_run(experiment_id=experiment_id) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        mlflow.log_params(dict(params))
        mlflow.log_metrics(dict(metrics))
        mlflow.set_tags(dict(tags))
        if model.reference is not None:  # what drift is measured against, readable on its own
            mlflow.log_dict(model.reference.to_dict(), "drift_reference.json")
        artifact = Path(tmp) / "scoring_model.joblib"
        joblib.dump(model.for_registry(), artifact)  # scored without importing pyod
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=AuditlensPyfunc(),
            artifacts={ARTIFACT_KEY: str(artifact)},
            signature=signature,
            input_example=example,
            registered_model_name=config.model_name,
        )
        log.info("logged run %s as %s", run.info.run_id, info.model_uri)
    version = info.registered_model_version
    if version is None:  # pragma: no cover - registration is requested above
        raise MlflowException("model was logged but not registered")
    return str(version)


def alias_version(config: RegistryConfig, alias: str) -> str | None:
    """The version an alias points at, or None when the alias (or model) does not exist."""
    configure(config)
    try:
        return str(MlflowClient().get_model_version_by_alias(config.model_name, alias).version)
    except MlflowException as exc:
        if exc.error_code in _ABSENT:
            return None
        raise  # the registry did not answer: not the same as "no such alias"


# What MLflow answers for a model or an alias that does not exist (file, SQL and REST stores).
_ABSENT = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND")


def set_alias(config: RegistryConfig, alias: str, version: str) -> None:
    configure(config)
    MlflowClient().set_registered_model_alias(config.model_name, alias, version)


def load(config: RegistryConfig, alias: str = "champion") -> LoadedModel | None:
    """Load the version behind ``alias``; None when no version carries it yet."""
    version = alias_version(config, alias)
    if version is None:
        return None
    return load_version(config, version, alias)


def load_version(config: RegistryConfig, version: str, alias: str = "") -> LoadedModel:
    """Load one version, refusing one this release cannot score with."""
    configure(config)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{config.model_name}/{version}")
    model = pyfunc.unwrap_python_model().scoring_model
    check_compatible(model, config.model_name, version, alias)
    return LoadedModel(model=model, name=config.model_name, version=version)


HISTORY_TAG = "auditlens.champion_history"


def list_versions(config: RegistryConfig) -> list[dict[str, Any]]:
    """Every registered version, newest first, with its aliases."""
    configure(config)
    client = MlflowClient()
    try:
        versions = client.search_model_versions(f"name='{config.model_name}'")
        aliases = client.get_registered_model(config.model_name).aliases
    except MlflowException:
        return []
    # Version search results carry no aliases; the registered model has them all.
    by_version: dict[str, list[str]] = {}
    for alias, version in sorted(aliases.items()):
        by_version.setdefault(str(version), []).append(alias)
    return sorted(
        (
            {
                "version": str(v.version),
                "aliases": by_version.get(str(v.version), []),
                "run_id": v.run_id,
                "created": v.creation_timestamp,
                "tags": dict(v.tags or {}),
            }
            for v in versions
        ),
        key=lambda v: int(v["version"]),
        reverse=True,
    )


def set_version_tags(config: RegistryConfig, version: str, tags: Mapping[str, str]) -> None:
    """Record facts about a version on it (e.g. the promotion gate's decision and why)."""
    configure(config)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(config.model_name, version, key, value)


def run_metrics(config: RegistryConfig, run_id: str) -> dict[str, float]:
    """The metrics a version's training run logged (empty when the run is gone)."""
    configure(config)
    try:
        return dict(MlflowClient().get_run(run_id).data.metrics)
    except MlflowException:
        return {}


def promote(config: RegistryConfig, version: str) -> str | None:
    """Point ``champion`` at ``version``; remember the previous one for :func:`rollback`.
    A challenger promoted stops being one (scorers stop shadow-scoring it)."""
    previous = alias_version(config, "champion")
    client = MlflowClient()
    client.get_model_version(config.model_name, version)  # raises for an unknown version
    if previous is not None and previous != version:
        history = _history(config)
        client.set_registered_model_tag(
            config.model_name, HISTORY_TAG, ",".join([*history, previous])
        )
    client.set_registered_model_alias(config.model_name, "champion", version)
    if alias_version(config, "challenger") == version:
        remove_alias(config, "challenger")
    return previous


def rollback(config: RegistryConfig) -> str | None:
    """Move ``champion`` back to the version it pointed at before the last promotion."""
    configure(config)
    history = _history(config)
    if not history:
        return None
    client = MlflowClient()
    previous = history.pop()
    client.set_registered_model_tag(config.model_name, HISTORY_TAG, ",".join(history))
    client.set_registered_model_alias(config.model_name, "champion", previous)
    return previous


def _history(config: RegistryConfig) -> list[str]:
    try:
        model = MlflowClient().get_registered_model(config.model_name)
    except MlflowException:  # nothing registered yet: no history
        return []
    return [v for v in model.tags.get(HISTORY_TAG, "").split(",") if v]


def remove_alias(config: RegistryConfig, alias: str) -> None:
    """Drop ``alias`` (nothing happens when no version carries it)."""
    configure(config)
    try:
        MlflowClient().delete_registered_model_alias(config.model_name, alias)
    except MlflowException as exc:
        if exc.error_code not in _ABSENT:
            raise


def version_info(config: RegistryConfig, version: str) -> dict[str, Any]:
    """One version's run, creation time (Unix ms) and tags."""
    configure(config)
    v = MlflowClient().get_model_version(config.model_name, version)
    return {
        "version": str(v.version),
        "run_id": v.run_id,
        "created": v.creation_timestamp,
        "tags": dict(v.tags or {}),
    }


def record_evidence(
    config: RegistryConfig,
    version: str,
    tags: Mapping[str, str],
    evidence: Mapping[str, Any],
    artifact: str,
) -> None:
    """Write a decision about ``version`` where data scientists look for it: tags on the
    version and on its training run, and the full evidence as a JSON artifact of the run."""
    configure(config)
    client = MlflowClient()
    run_id = client.get_model_version(config.model_name, version).run_id
    for key, value in tags.items():
        client.set_model_version_tag(config.model_name, version, key, value[:MAX_TAG_CHARS])
        if run_id:
            client.set_tag(run_id, key, value[:MAX_TAG_CHARS])
    if run_id:
        client.log_dict(run_id, dict(evidence), artifact)


# MLflow's limit on a tag value (the SQL stores keep 5000 characters).
MAX_TAG_CHARS = 5000


def artifact_bytes(config: RegistryConfig, run_id: str, path: str = "") -> int:
    """The size of a run's artifacts under ``path`` (0 when the run or its files are gone)."""
    configure(config)
    client = MlflowClient()
    try:
        total = 0
        for item in client.list_artifacts(run_id, path or None):
            total += (
                artifact_bytes(config, run_id, item.path) if item.is_dir else item.file_size or 0
            )
        return total
    except (MlflowException, OSError):
        return 0
