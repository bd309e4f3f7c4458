"""Fresh MLflow registries for tests, without paying MLflow's migrations each time.

Creating a SQLite tracking database runs MLflow's whole migration history (seconds);
every test that trains needs an empty one of its own. The first is created by MLflow
itself, then its bytes are copied for each test: the same schema, none of the wait.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from models.registry_config import RegistryConfig


@functools.cache
def _empty_database() -> bytes:
    from mlflow import MlflowClient

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mlflow.db"
        MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()
        return path.read_bytes()


def fresh_registry(root: Path) -> RegistryConfig:
    """A registry in ``root`` (``mlflow.db`` and ``artifacts/``) that holds nothing yet."""
    root.mkdir(parents=True, exist_ok=True)
    database = root / "mlflow.db"
    database.write_bytes(_empty_database())
    return RegistryConfig(tracking_uri=f"sqlite:///{database}", artifact_root=root / "artifacts")
