"""The two registry answers a scorer needs, read without importing MLflow when it can be.

A scorer asks the registry which version an alias points at (every
``AUDITLENS_MODEL_REFRESH_S``) and, when that changes, for the version's scoring
model. MLflow's client answers both, but importing it costs the process about
65 MiB of resident memory for its whole life (MLflow and what it pulls in), in a
process whose memory is budgeted per scorer.

When the registry is a database MLflow manages (the embedded SQLite file, or
PostgreSQL / MySQL) and the version's artifacts sit on a file system this process
can read, both answers are read here directly: the alias from
``registered_model_aliases``, the version's ``storage_location`` from
``model_versions``, and the joblib file its ``MLmodel`` names (what
:meth:`models.pyfunc.AuditlensPyfunc.load_context` loads). Anything else, a
tracking server or remote artifacts, goes through :mod:`models.registry` and
MLflow. Those table and file layouts are MLflow's, not a published API: the tests
check these answers against MLflow's own on the locked MLflow version, so an
upgrade that changes them fails there, not in production.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from urllib.parse import unquote, urlparse

import joblib
import sqlalchemy as sa
import yaml

from models.bundle import LoadedModel, ScoringModel
from models.compatibility import check_compatible
from models.registry_config import ARTIFACT_KEY, RegistryConfig

log = logging.getLogger(__name__)

_DATABASE_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")


class _NotReadableError(Exception):
    """This registry or version is not one this module reads: ask MLflow."""


def reads_directly(config: RegistryConfig) -> bool:
    """Whether the registry is a database this module can query (else MLflow answers).

    >>> from pathlib import Path
    >>> reads_directly(RegistryConfig("sqlite:////tmp/mlflow.db", Path("/tmp/a")))
    True
    >>> reads_directly(RegistryConfig("postgresql+psycopg://db/mlflow", Path("/tmp/a")))
    True
    >>> reads_directly(RegistryConfig("http://mlflow:5000", Path("/tmp/a")))
    False
    """
    scheme = config.tracking_uri.split(":", 1)[0].split("+", 1)[0]
    return scheme in _DATABASE_SCHEMES


@functools.cache
def _engine(tracking_uri: str) -> sa.Engine:
    return sa.create_engine(tracking_uri, pool_pre_ping=True)


def _database_alias_version(config: RegistryConfig, alias: str) -> str | None:
    sqlite_file = config.tracking_uri.removeprefix("sqlite:///")
    if sqlite_file != config.tracking_uri and not Path(sqlite_file).exists():
        return None  # nothing trained yet; opening it would create an empty file
    query = sa.text(
        "SELECT version FROM registered_model_aliases WHERE name = :name AND alias = :alias"
    )
    with _engine(config.tracking_uri).connect() as connection:
        rows = connection.execute(query, {"name": config.model_name, "alias": alias}).all()
    if len(rows) > 1:  # one per MLflow workspace: only MLflow knows which is this one
        raise _NotReadableError(f"alias {alias!r} is set in {len(rows)} workspaces")
    return str(rows[0][0]) if rows else None


def _local_path(uri: str) -> Path:
    """The file-system path of a ``file:`` URI or a plain path; remote URIs are not read here.

    >>> _local_path("file:///data/mlflow-artifacts/models/m-1/artifacts")
    PosixPath('/data/mlflow-artifacts/models/m-1/artifacts')
    >>> try:
    ...     _local_path("s3://bucket/models/m-1")
    ... except _NotReadableError as why:
    ...     print(why)
    artifacts at s3://bucket/models/m-1 are not local
    """
    parsed = urlparse(uri)
    if parsed.scheme == "file" and parsed.netloc in ("", "localhost"):
        return Path(unquote(parsed.path))
    if parsed.scheme == "" and uri.startswith("/"):
        return Path(uri)
    raise _NotReadableError(f"artifacts at {uri} are not local")


def _model_file(config: RegistryConfig, version: str) -> Path:
    """The joblib file of ``version``'s scoring model, from its row and its ``MLmodel``."""
    query = sa.text(
        "SELECT storage_location, status FROM model_versions WHERE name = :name AND version = :v"
    )
    with _engine(config.tracking_uri).connect() as connection:
        rows = connection.execute(query, {"name": config.model_name, "v": int(version)}).all()
    if len(rows) != 1:
        raise _NotReadableError(f"{len(rows)} rows for version {version}")
    location, status = rows[0]
    if status != "READY" or not location:
        raise _NotReadableError(f"version {version} is {status}, stored at {location!r}")
    root = _local_path(location)
    mlmodel = yaml.safe_load((root / "MLmodel").read_text())
    relative: str = mlmodel["flavors"]["python_function"]["artifacts"][ARTIFACT_KEY]["path"]
    return root / relative


def alias_version(config: RegistryConfig, alias: str) -> str | None:
    """The version an alias points at, or None when the alias (or model) does not exist."""
    if reads_directly(config):
        try:
            return _database_alias_version(config, alias)
        except (_NotReadableError, sa.exc.NoSuchTableError, sa.exc.ProgrammingError) as why:
            log.info("registry read through MLflow: %s", why)
        except sa.exc.OperationalError as why:
            if "no such table" not in str(why):  # a database MLflow has not created yet
                raise
    from models import registry

    return registry.alias_version(config, alias)


def load_version(config: RegistryConfig, version: str, alias: str = "") -> LoadedModel:
    """Load one version, refusing one this release cannot score with."""
    if reads_directly(config):
        try:
            path = _model_file(config, version)
        except (_NotReadableError, OSError, KeyError, TypeError) as why:
            log.info("model version %s read through MLflow: %s", version, why)
        else:
            model = joblib.load(path)
            if not isinstance(model, ScoringModel):
                raise TypeError(f"{path} holds a {type(model).__name__}, not a ScoringModel")
            check_compatible(model, config.model_name, version, alias)
            return LoadedModel(model=model, name=config.model_name, version=version)
    from models import registry

    return registry.load_version(config, version, alias)


def load(config: RegistryConfig, alias: str = "champion") -> LoadedModel | None:
    """Load the version behind ``alias``; None when no version carries it yet."""
    version = alias_version(config, alias)
    if version is None:
        return None
    return load_version(config, version, alias)
