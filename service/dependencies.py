"""Bounded waits on Kafka, the store and MLflow, and what to tell a user when one is down.

Every call to a dependency is bounded by ``AUDITLENS_DEPENDENCY_TIMEOUT_S`` (the
connect / request timeout) and ``AUDITLENS_DEPENDENCY_RETRIES`` (MLflow's own
retries); :func:`configure_clients` hands them to the client libraries before
they are used. :func:`as_unavailable` turns the libraries' own exceptions for an
unreachable dependency into one :class:`DependencyUnavailableError` whose message
names the dependency, where it was looked for, and the setting that points at it.
"""

from __future__ import annotations

import os
import re

from service.config import Settings
from service.exceptions import DependencyUnavailableError


def configure_clients(settings: Settings) -> None:
    """MLflow reads its HTTP timeout and retries from the environment: bound them.

    An operator's own ``MLFLOW_HTTP_REQUEST_*`` values win. MLflow's defaults (120 s
    a request, 7 retries with exponential backoff) keep a command silent for minutes.
    """
    os.environ.setdefault(
        "MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(1, round(settings.dependency_timeout_s)))
    )
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(settings.dependency_retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    # MLflow logs its own housekeeping (creating its database tables) at INFO on stderr,
    # which would bury the one line a command answers with.
    if settings.log_level != "DEBUG":
        os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


def redact(url: str) -> str:
    """``url`` without its password (store URLs carry credentials)."""
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def as_unavailable(exc: BaseException, settings: Settings) -> DependencyUnavailableError | None:
    """The dependency ``exc`` says is unreachable, as one clear error; None if it is not that."""
    module = type(exc).__module__
    if module.startswith("sqlalchemy") and type(exc).__name__ in (
        "OperationalError",
        "InterfaceError",
        "DisconnectionError",
        "TimeoutError",
    ):
        return DependencyUnavailableError(
            "store",
            f"the store at {redact(settings.resolved_store_url)} is unavailable "
            f"({_first_line(getattr(exc, 'orig', None) or exc)}); check that the database "
            "is running and AUDITLENS_STORE_URL points at it",
        )
    if module.startswith("kafka") and type(exc).__name__ in (
        "NoBrokersAvailable",
        "KafkaTimeoutError",
        "KafkaConnectionError",
    ):
        return DependencyUnavailableError(
            "kafka",
            f"no Kafka broker answered at {settings.kafka_bootstrap_servers or '(unset)'} "
            f"({_first_line(exc)}); check that it is running and "
            "AUDITLENS_KAFKA_BOOTSTRAP_SERVERS points at it",
        )
    if _is_mlflow_unreachable(exc):
        return DependencyUnavailableError(
            "mlflow",
            f"the MLflow tracking server at {redact(settings.mlflow_tracking_uri)} did not "
            f"answer within {settings.dependency_timeout_s:g} s and "
            f"{settings.dependency_retries} retries; check that it is running and "
            "MLFLOW_TRACKING_URI points at it (AUDITLENS_DEPENDENCY_TIMEOUT_S and "
            "AUDITLENS_DEPENDENCY_RETRIES bound the wait)",
        )
    return None


def _is_mlflow_unreachable(exc: BaseException) -> bool:
    """MLflow wraps connection failures in MlflowException with the requests error's text."""
    name = type(exc).__name__
    module = type(exc).__module__
    if module.startswith("requests") and name in ("ConnectionError", "Timeout", "ReadTimeout"):
        return True
    if module.startswith("mlflow") and name == "MlflowException":
        text = str(exc)
        return any(
            marker in text
            for marker in (
                "Max retries exceeded",
                "Connection refused",
                "ConnectionError",
                "Read timed out",
                "timed out",
                "Failed to establish",
            )
        )
    return False
