"""The registry read without MLflow gives MLflow's own answers, on SQLite and on PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa

from features.pipeline import FEATURE_SET_VERSION
from models import registry, registry_reader
from models.bundle import ScoringModel
from models.exceptions import IncompatibleModelError
from models.registry_config import RegistryConfig
from tests.mlflow_db import fresh_registry

FEATURES = ("a", "b")


def _frame(seed: int) -> pl.DataFrame:
    return pl.DataFrame({"a": np.random.default_rng(seed).normal(size=400), "b": 0.0})


def _register(config: RegistryConfig, seed: int, feature_set_version: str) -> str:
    frame = _frame(seed)
    model = ScoringModel.train(frame, FEATURES, feature_set_version, detector_names=("ecod",))
    return registry.log_and_register(config, model, frame, {}, {}, {})


def _two_versions(config: RegistryConfig) -> tuple[str, str]:
    """Version 1 is the challenger, version 2 the champion."""
    first = _register(config, 0, FEATURE_SET_VERSION)
    second = _register(config, 1, FEATURE_SET_VERSION)
    registry.set_alias(config, "challenger", first)
    registry.set_alias(config, "champion", second)
    return first, second


def _assert_same_answers(config: RegistryConfig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="models.registry_reader")
    for alias in ("champion", "challenger", "no-such-alias"):
        assert registry_reader.alias_version(config, alias) == registry.alias_version(config, alias)
    X = np.random.default_rng(9).normal(size=(50, 2))
    for alias in ("champion", "challenger"):
        direct, through_mlflow = registry_reader.load(config, alias), registry.load(config, alias)
        assert direct is not None
        assert through_mlflow is not None
        assert (direct.name, direct.version) == (through_mlflow.name, through_mlflow.version)
        np.testing.assert_array_equal(
            direct.model.score_matrix(X).score, through_mlflow.model.score_matrix(X).score
        )
    assert "through MLflow" not in caplog.text  # every answer above was read directly


def test_sqlite_registry_answers_as_mlflow_does(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = fresh_registry(tmp_path)
    assert registry_reader.alias_version(config, "champion") is None  # no model registered yet
    _two_versions(config)
    _assert_same_answers(config, caplog)


def test_postgresql_registry_answers_as_mlflow_does(
    tmp_path: Path, postgres_url: str, unique_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE mlflow_{unique_name}")
    admin.dispose()
    config = RegistryConfig(
        tracking_uri=postgres_url.rsplit("/", 1)[0] + f"/mlflow_{unique_name}",
        artifact_root=tmp_path / "artifacts",
    )
    registry.configure(config)  # MLflow creates its tables
    assert registry_reader.alias_version(config, "champion") is None
    _two_versions(config)
    _assert_same_answers(config, caplog)


def test_a_missing_sqlite_registry_has_no_champion_and_is_not_created(tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    config = RegistryConfig(f"sqlite:///{database}", tmp_path / "artifacts")
    assert registry_reader.load(config) is None
    assert not database.exists()


def test_a_version_of_an_earlier_feature_set_is_refused_as_mlflow_refuses_it(
    tmp_path: Path,
) -> None:
    config = fresh_registry(tmp_path)
    registry.set_alias(config, "champion", _register(config, 0, "4"))
    with pytest.raises(IncompatibleModelError, match=r"feature set 4.*retrain with `auditlens"):
        registry_reader.load(config)


def test_a_version_the_reader_cannot_locate_is_loaded_through_mlflow(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = fresh_registry(tmp_path)
    version = _register(config, 0, FEATURE_SET_VERSION)
    registry.set_alias(config, "champion", version)
    # A version registered from a run's source only: MLflow resolves its source itself.
    with sa.create_engine(config.tracking_uri).begin() as connection:
        connection.execute(sa.text("UPDATE model_versions SET storage_location = NULL"))
    caplog.set_level("INFO", logger="models.registry_reader")
    loaded = registry_reader.load(config)
    assert loaded is not None
    assert loaded.version == version
    assert f"model version {version} read through MLflow" in caplog.text


def test_a_scorer_loads_its_model_without_importing_mlflow(tmp_path: Path) -> None:
    config = fresh_registry(tmp_path)
    _two_versions(config)
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "from models import registry_reader\n"
        "from models.registry_config import RegistryConfig\n"
        "import service.cli, service.consumer, service.api.app\n"
        f"config = RegistryConfig({config.tracking_uri!r}, Path({str(config.artifact_root)!r}))\n"
        "loaded = registry_reader.load(config)\n"
        "print(loaded.version, registry_reader.alias_version(config, 'challenger'),"
        " 'mlflow' in sys.modules)\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout.split()
    assert answer == ["2", "1", "False"]
