"""``auditlens train``: files → normalized events → features → fitted, registered model.

The same adapters and feature functions as the streaming scorer are used, so a
model never sees features computed differently from the ones it scores.
"""

from __future__ import annotations

import hashlib
import logging
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import polars as pl

from features.files import read_events
from features.pipeline import FEATURE_NAMES, FEATURE_SET_VERSION, compute_features
from features.schema import to_frame
from features.state import EntityState
from models import registry
from models.bundle import ScoringModel
from models.detectors import DEFAULT_DETECTORS
from training.exceptions import TrainingError

log = logging.getLogger(__name__)
TRACKED_PACKAGES = ("polars", "numpy", "scikit-learn", "pyod", "mlflow", "auditlens")


@dataclass(frozen=True)
class TrainingResult:
    version: str
    promoted: bool
    reason: str
    events: int
    rejected: int


def data_fingerprint(events: pl.DataFrame) -> str:
    """A stable digest of the training events (ids and times), so runs can be compared."""
    digest = hashlib.sha256()
    ordered = events.select("source", "event_id", "event_time").sort("source", "event_id")
    for chunk in ordered.iter_slices(100_000):
        digest.update(chunk.write_csv().encode())
    return digest.hexdigest()[:16]


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def train(
    paths: Sequence[Path | str],
    config: registry.RegistryConfig,
    detectors: tuple[str, ...] = DEFAULT_DETECTORS,
    alert_rate: float = 0.005,
    seed: int = 0,
    promote: bool = False,
) -> TrainingResult:
    read = read_events(paths)
    for where, error in read.errors[:20]:
        log.warning("skipped %s: %s (%s)", where, error, error.reason)
    events, bad_times = to_frame(read.events)
    if events.height == 0:
        raise TrainingError(f"no usable events in {', '.join(map(str, paths))}")
    events = events.sort("event_time", "event_id", maintain_order=True)
    state = EntityState()
    features = compute_features(events, state)
    model = ScoringModel.train(
        features,
        FEATURE_NAMES,
        FEATURE_SET_VERSION,
        detectors,
        alert_rate=alert_rate,
        seed=seed,
        baseline_state=state,
    )
    training_scores = model.score_matrix(model.matrix(features)).score
    metrics_extra = {"entities": float(state.entity_count), "state_rows": float(state.size_rows())}
    metrics = {
        "training_events": float(events.height),
        "rejected_inputs": float(len(read.errors) + len(bad_times)),
        "training_seconds": model.training_seconds,
        "alert_threshold": model.alert_threshold,
        "training_alert_rate": float((training_scores >= model.alert_threshold).mean()),
        **metrics_extra,
    }
    params = {
        "detectors": ",".join(detectors),
        "alert_rate": alert_rate,
        "seed": seed,
        "feature_set_version": FEATURE_SET_VERSION,
        "features": ",".join(FEATURE_NAMES),
    }
    tags = {
        "data_fingerprint": data_fingerprint(events),
        **{f"version.{k}": v for k, v in package_versions().items()},
    }
    version = registry.log_and_register(config, model, features, params, metrics, tags)
    log.info("registered %s version %s", config.model_name, version)
    promoted, reason = False, "not requested (use --promote)"
    if promote:
        promoted, reason = promotion_gate(config)
        registry.set_alias(config, "champion" if promoted else "challenger", version)
    return TrainingResult(
        version, promoted, reason, events.height, len(read.errors) + len(bad_times)
    )


def promotion_gate(config: registry.RegistryConfig) -> tuple[bool, str]:
    """Whether a new version may become champion.

    Without a current champion the gate passes. A comparison of the new version
    against the champion on shared validation data is not implemented yet, so
    an existing champion is kept and the new version becomes ``challenger``.
    """
    current = registry.alias_version(config, "champion")
    if current is None:
        return True, "no champion yet"
    return False, (
        f"champion is version {current}; promote explicitly with "
        "`auditlens models promote VERSION` (automatic comparison not available)"
    )
