"""``auditlens train``: files → normalized events → features → fitted, registered model.

The same adapters and feature functions as the streaming scorer are used, so a
model never sees features computed differently from the ones it scores.
"""

from __future__ import annotations

import hashlib
import logging
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import polars as pl

from features.archive import ArchiveError, read_archive
from features.files import read_events
from features.pipeline import FEATURE_NAMES, FEATURE_SET_VERSION, compute_features
from features.schema import NORMALIZED_SCHEMA, to_frame
from features.state import EntityState
from models.bundle import ScoringModel
from models.detectors import DEFAULT_DETECTORS
from models.drift import rate_gap
from models.registry_config import RegistryConfig
from training.evaluate import evaluate, read_labels
from training.exceptions import TrainingError
from training.progress import Progress, Silent, stage

log = logging.getLogger(__name__)
HISTORY_END = "history_end"  # EntityState.metadata: the last event time the history holds
MIN_TRAINING_EVENTS = 300  # enough for the warm-up, five calibration folds and a tail fit
TRACKED_PACKAGES = ("polars", "numpy", "scikit-learn", "pyod", "mlflow", "auditlens")


@dataclass(frozen=True)
class TrainingResult:
    version: str
    promoted: bool
    reason: str
    events: int
    rejected: int
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainingOptions:
    """Everything a run depends on besides the data (all of it is logged as parameters)."""

    detectors: tuple[str, ...] = DEFAULT_DETECTORS
    alert_rate: float = 0.005
    seed: int = 0
    promote: bool = False
    labels: Path | None = None
    validation: tuple[Path, ...] = ()
    validation_fraction: float = 0.25
    warmup_fraction: float = 0.3
    topic: str | None = None
    bootstrap_servers: str = ""
    exclude_event_ids: frozenset[str] = frozenset()
    benign_event_ids: frozenset[str] = frozenset()
    benign_weight: int = 1
    archive: str | None = None  # the archive's root, to read events from
    since: date | None = None  # with ``archive``: events of this day and later
    # The history to continue (a retrain continues the champion's): only events after
    # its end are read into it and fitted, and no warm-up is needed. One that does not
    # record its end (trained before it was recorded) is not continued.
    history: EntityState | None = None


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


def _read(
    paths: Sequence[Path | str],
    state: EntityState,
    topic: str | None = None,
    bootstrap_servers: str = "",
    archive: str | None = None,
    since: date | None = None,
) -> tuple[pl.DataFrame, int]:
    """Normalized events of the files (and of a Kafka topic), in processing order.

    Rejected inputs are logged (the first 20) when there is something to train on;
    when nothing is usable the error says why instead (:class:`TrainingError`).
    """
    read = read_events(paths, reports=state.reports)
    rows, rejected = read.events, len(read.errors)
    if not rows and read.errors and not topic and archive is None:
        where, error = read.errors[0]
        raise TrainingError(
            f"no usable events in {', '.join(map(str, paths))}: {rejected} inputs rejected, "
            f"the first ({where}) because {error} ({error.reason})"
        )
    for where, error in read.errors[:20]:
        log.warning("skipped %s: %s (%s)", where, error, error.reason)
    if topic:
        from training.kafka_replay import read_topic

        topic_rows, topic_rejected = read_topic(bootstrap_servers, topic, state.reports)
        rows, rejected = rows + topic_rows, rejected + topic_rejected
    events, bad_times = to_frame(rows)
    if archive is not None:
        events = _with_archive(events, archive, since)
    return events.sort("event_time", "event_id", maintain_order=True), rejected + len(bad_times)


def _with_archive(events: pl.DataFrame, root: str, since: date | None) -> pl.DataFrame:
    """``events`` plus the archive's (already normalized by the scorer's adapters)."""
    try:
        read = read_archive(root, since)
    except ArchiveError as exc:
        raise TrainingError(str(exc)) from exc
    for path, why in read.skipped:
        log.warning("skipped archive file %s: %s", path, why)
    log.info(
        "archive %s: %d events from %d files (%d skipped)",
        root,
        read.events.height,
        read.files,
        len(read.skipped),
    )
    archived = read.events.select(list(NORMALIZED_SCHEMA))
    return pl.concat([events, archived], how="vertical_relaxed") if events.height else archived


def split_validation(
    events: pl.DataFrame, options: TrainingOptions, has_labels: bool
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """Training events and, with labels but no validation files, the last part by time."""
    if options.validation or not has_labels:
        return events, None
    cut = int(events.height * (1.0 - options.validation_fraction))
    return events.head(cut), events.slice(cut)


def prepare_training_events(
    events: pl.DataFrame, labels: pl.DataFrame | None, options: TrainingOptions
) -> pl.DataFrame:
    """Attacks and confirmed true positives never train the baseline; analysts' benign
    verdicts can be weighted up so the baseline learns them as normal."""
    excluded = set(options.exclude_event_ids)
    if labels is not None:
        excluded |= set(labels["event_id"].to_list())
    kept = events.filter(~pl.col("event_id").is_in(list(excluded))) if excluded else events
    if options.benign_weight > 1 and options.benign_event_ids:
        benign = kept.filter(pl.col("event_id").is_in(list(options.benign_event_ids)))
        kept = pl.concat([kept, *[benign] * (options.benign_weight - 1)]).sort(
            "event_time", "event_id", maintain_order=True
        )
    return kept


def train(
    paths: Sequence[Path | str],
    config: RegistryConfig,
    options: TrainingOptions,
    progress: Progress | None = None,
) -> TrainingResult:
    """Read, compute features, fit, evaluate, register (and promote through the gate)."""
    progress = progress or Silent()
    # A history that does not record its end cannot be continued safely: start afresh.
    history_end = options.history.metadata.get(HISTORY_END) if options.history else None
    state = options.history.copy() if options.history and history_end else EntityState()
    with stage(progress, "reading events") as said:
        events, rejected = _read(
            paths, state, options.topic, options.bootstrap_servers, options.archive, options.since
        )
        if history_end:
            # Events the history already holds would count twice: only later ones.
            end = datetime.fromisoformat(history_end)
            events = events.filter(pl.col("event_time") > end)
            said(f"{events.height:,} events after the history's end {end:%Y-%m-%d %H:%M}")
        else:
            said(f"{events.height:,} events, {rejected:,} inputs rejected")
    if events.height == 0:
        where = [
            *map(str, paths),
            *([f"topic {options.topic}"] if options.topic else []),
            *([f"the archive {options.archive}"] if options.archive else []),
        ]
        raise TrainingError(f"no usable events in {', '.join(where)}")
    labels = read_labels(str(options.labels)) if options.labels else None
    training_events, validation_events = split_validation(events, options, labels is not None)
    training_events = prepare_training_events(training_events, labels, options)
    if training_events.height < MIN_TRAINING_EVENTS:
        raise TrainingError(
            f"{training_events.height} training events are too few: a baseline needs at least "
            f"{MIN_TRAINING_EVENTS} (give more files or a longer period)"
        )
    with stage(progress, "computing features") as said:
        features = compute_features(training_events, state)
        said(f"{len(FEATURE_NAMES)} features of {features.height:,} events")
    newest = features["event_time"].max()
    if isinstance(newest, datetime):
        state.metadata[HISTORY_END] = newest.isoformat()
    # History features are immature at the start of the data (everything is "first seen");
    # the detectors learn from events after a warm-up, the state from all of them. A
    # continued history is mature from its first event.
    warmup = 0.0 if history_end else options.warmup_fraction
    warm = features.slice(int(features.height * warmup))
    with stage(progress, f"fitting {', '.join(options.detectors)}") as said:
        model = ScoringModel.train(
            warm,
            FEATURE_NAMES,
            FEATURE_SET_VERSION,
            options.detectors,
            alert_rate=options.alert_rate,
            seed=options.seed,
            baseline_state=state.copy(),
        )
        said(f"on {warm.height:,} events")
    held_out_scores = model.scores(model.matrix(warm.tail(model.params["calibration_events"])))
    metrics: dict[str, float] = {
        "training_events": float(training_events.height),
        "rejected_inputs": float(rejected),
        "training_seconds": model.training_seconds,
        "alert_threshold": model.alert_threshold,
        "calibration_alert_rate": float((held_out_scores >= model.alert_threshold).mean()),
        "entities": float(state.entity_count),
        "state_rows": float(state.size_rows()),
        **{
            f"score_p{name}": float(np.percentile(held_out_scores, q))
            for name, q in (("50", 50.0), ("90", 90.0), ("99", 99.0), ("99_9", 99.9))
        },
    }
    validation = _validation_set(validation_events, options, state)
    if validation is not None:
        with stage(progress, "evaluating") as said:
            metrics.update(_validation_metrics(model, validation, labels))
            said(f"on {validation.events.height:,} events")
    params = {
        "detectors": ",".join(options.detectors),
        "alert_rate": options.alert_rate,
        "seed": options.seed,
        "feature_set_version": FEATURE_SET_VERSION,
        "features": ",".join(FEATURE_NAMES),
        "labels": str(options.labels or ""),
        "topic": options.topic or "",
        "archive": options.archive or "",
        "archive_since": str(options.since or ""),
        "validation": ",".join(map(str, options.validation))
        or (f"last {options.validation_fraction:g} of the data" if validation is not None else ""),
        "excluded_events": len(options.exclude_event_ids),
        "benign_weight": options.benign_weight,
        "warmup_fraction": warmup,
        "history": f"continued from {history_end}" if history_end else "fresh",
        **{k: v for k, v in model.params.items() if k not in ("detectors", "alert_rate", "seed")},
    }
    tags = {
        "data_fingerprint": data_fingerprint(training_events),
        **{f"version.{k}": v for k, v in package_versions().items()},
    }
    from models import registry  # MLflow (slow to import): only once the input is read

    with stage(progress, "registering in MLflow") as said:
        version = registry.log_and_register(config, model, warm, params, metrics, tags)
        said(f"version {version}")
    log.info("registered %s version %s", config.model_name, version)
    promoted, reason = False, "not requested (use --promote)"
    if options.promote:
        promoted, reason = promotion_gate(config, model, validation, labels, options.alert_rate)
        registry.set_alias(config, "champion" if promoted else "challenger", version)
        registry.set_version_tags(
            config, version, {"gate.passed": str(promoted).lower(), "gate.reason": reason}
        )
    return TrainingResult(version, promoted, reason, training_events.height, rejected, metrics)


@dataclass(frozen=True)
class ValidationSet:
    events: pl.DataFrame


def _validation_set(
    split_off: pl.DataFrame | None, options: TrainingOptions, state: EntityState
) -> ValidationSet | None:
    if options.validation:
        events, _ = _read(options.validation, state.copy())
        return ValidationSet(events)
    return ValidationSet(split_off) if split_off is not None else None


def _model_scores(model: ScoringModel, validation: ValidationSet) -> np.ndarray:
    """A model's scores on the validation events, judged from that model's own baseline."""
    features = compute_features(validation.events, model.baseline_state.copy())
    return model.scores(model.matrix(features))


def _validation_metrics(
    model: ScoringModel, validation: ValidationSet, labels: pl.DataFrame | None
) -> dict[str, float]:
    features = compute_features(validation.events, model.baseline_state.copy())
    X = model.matrix(features)
    scores = model.scores(X)
    metrics = {"validation_alert_rate": float((scores >= model.alert_threshold).mean())}
    if labels is None:
        return metrics
    ids = features["event_id"].to_list()
    metrics.update(evaluate(ids, scores, labels))
    for name, detector_scores in model.detector_scores(X).items():
        for key, value in evaluate(ids, detector_scores, labels).items():
            if key in ("roc_auc", "pr_auc", "scenarios_caught_0.5pct", "recall_0.5pct"):
                metrics[f"{name}.{key}"] = value
    return metrics


def promotion_gate(
    config: RegistryConfig,
    model: ScoringModel,
    validation: ValidationSet | None,
    labels: pl.DataFrame | None,
    alert_rate: float,
) -> tuple[bool, str]:
    """Whether the new version may become champion: not worse than the champion on the
    same validation events (PR-AUC and ROC-AUC with labels; closeness of the alert
    rate to its target without)."""
    from models import registry

    current = registry.load(config, "champion")
    if current is None:
        return True, "no champion yet"
    if validation is None:
        return False, (
            f"champion is version {current.version} and there is no validation data to compare "
            "on (give --labels or --validation); promote explicitly with `auditlens models promote`"
        )
    if current.model.feature_names != model.feature_names:
        return False, (
            f"champion version {current.version} uses another feature set "
            f"({current.model.feature_set_version}); compare offline and promote explicitly"
        )
    new_scores = _model_scores(model, validation)
    old_scores = _model_scores(current.model, validation)
    if labels is not None:
        ids = validation.events["event_id"].to_list()
        new, old = evaluate(ids, new_scores, labels), evaluate(ids, old_scores, labels)
        if "pr_auc" not in new:
            return False, "validation data holds no labelled attacks to compare on"
        worse = [
            f"{k} {new[k]:.4f} < {old[k]:.4f}"
            for k, tolerance in (("pr_auc", 0.01), ("roc_auc", 0.002))
            if new[k] < old[k] - tolerance
        ]
        if worse:
            return False, f"worse than champion version {current.version}: " + ", ".join(worse)
        return True, (
            f"not worse than champion version {current.version} "
            f"(PR-AUC {new['pr_auc']:.4f} vs {old['pr_auc']:.4f}, "
            f"ROC-AUC {new['roc_auc']:.4f} vs {old['roc_auc']:.4f})"
        )
    new_rate = float((new_scores >= model.alert_threshold).mean())
    old_rate = float((old_scores >= current.model.alert_threshold).mean())
    new_gap, old_gap = rate_gap(new_rate, alert_rate), rate_gap(old_rate, alert_rate)
    if new_gap > old_gap + 0.1:
        return False, (
            f"validation alert rate {new_rate:.4%} is further from the {alert_rate:.2%} target "
            f"than champion version {current.version}'s {old_rate:.4%}"
        )
    return True, (
        f"validation alert rate {new_rate:.4%} (champion {old_rate:.4%}, target {alert_rate:.2%})"
    )
