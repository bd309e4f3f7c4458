"""The feature definitions: named polars expressions, one definition for training and scoring.

Each feature is a small function returning a ``pl.Expr`` over the normalized
event columns (:mod:`features.schema`); its docstring says which behaviour it
exposes. :func:`compute_features` evaluates them all on a batch (eager frame) or
on a whole file set (lazy frame), so training and the streaming scorer cannot
drift apart. :data:`FEATURE_SET_VERSION` goes into every MLflow run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

FEATURE_SET_VERSION = "1"

READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = ("create", "update", "patch")
DELETE_VERBS = ("delete", "deletecollection")
RBAC_RESOURCES = ("roles", "rolebindings", "clusterroles", "clusterrolebindings")
INTERACTIVE_SUBRESOURCES = ("pods/exec", "pods/attach", "pods/portforward")


def _flag(condition: pl.Expr) -> pl.Expr:
    return condition.fill_null(value=False).cast(pl.Float64)


def hour_of_day() -> pl.Expr:
    """UTC hour with minutes as a fraction: activity at unusual times of day stands out."""
    t = pl.col("event_time")
    return t.dt.hour().cast(pl.Float64) + t.dt.minute().cast(pl.Float64) / 60.0


def is_weekend() -> pl.Expr:
    """Saturday or Sunday (UTC): most human change happens on working days."""
    return _flag(pl.col("event_time").dt.weekday() >= 6)


def is_read() -> pl.Expr:
    """A read-only verb: the bulk of normal traffic."""
    return _flag(pl.col("action").str.to_lowercase().is_in(READ_VERBS))


def is_write() -> pl.Expr:
    """A create/update/patch: a change to the environment."""
    return _flag(pl.col("action").str.to_lowercase().is_in(WRITE_VERBS))


def is_delete() -> pl.Expr:
    """A deletion: rare for most actors, and mass deletion is destructive."""
    return _flag(pl.col("action").str.to_lowercase().is_in(DELETE_VERBS))


def touches_secrets() -> pl.Expr:
    """Secrets are the most sensitive object kind in a cluster."""
    return _flag(pl.col("resource").str.starts_with("secrets"))


def touches_rbac() -> pl.Expr:
    """RBAC objects: a change here is a privilege change."""
    return _flag(pl.col("resource").is_in(RBAC_RESOURCES))


def is_interactive() -> pl.Expr:
    """exec/attach/port-forward into a pod: hands-on access to a workload."""
    return _flag(pl.col("resource").is_in(INTERACTIVE_SUBRESOURCES))


def is_denied() -> pl.Expr:
    """The request was denied or failed: probing shows up as denials."""
    return _flag(pl.col("outcome").is_in(("deny", "error", "fail")))


def is_service_account() -> pl.Expr:
    """Machine identities behave periodically; humans do not."""
    return _flag(pl.col("actor_type") == "service_account")


def is_cluster_scoped() -> pl.Expr:
    """No namespace: cluster-wide objects have a wider blast radius."""
    return _flag(pl.col("namespace").is_null())


@dataclass(frozen=True)
class Feature:
    """A named feature and the function that defines it."""

    name: str
    expression: Callable[[], pl.Expr]

    @property
    def description(self) -> str:
        doc = self.expression.__doc__ or ""
        return doc.strip().splitlines()[0] if doc else ""


FEATURES: tuple[Feature, ...] = tuple(
    Feature(fn.__name__, fn)
    for fn in (
        hour_of_day,
        is_weekend,
        is_read,
        is_write,
        is_delete,
        touches_secrets,
        touches_rbac,
        is_interactive,
        is_denied,
        is_service_account,
        is_cluster_scoped,
    )
)
FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)


def feature_expressions() -> list[pl.Expr]:
    return [f.expression().cast(pl.Float64).alias(f.name) for f in FEATURES]


def compute_features(events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Every normalized column plus one Float64 column per feature, in the same row order."""
    lazy = events.lazy() if isinstance(events, pl.DataFrame) else events
    return lazy.with_columns(feature_expressions()).collect()


def feature_matrix(features: pl.DataFrame) -> pl.DataFrame:
    """Only the feature columns, in :data:`FEATURE_NAMES` order (the model's input)."""
    return features.select(FEATURE_NAMES)
