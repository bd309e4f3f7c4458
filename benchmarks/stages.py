"""Each stage of the scorer alone, in this process, on the stream's events.

Decode + normalize is timed while the workload is built (:mod:`benchmarks.workload`);
here: features (one batch, and 5000-row micro-batches with carried state), the
feature matrix, each detector's ``decision_function``, the full
``ScoringModel.score_matrix``, the explanation of the flagged rows, the scorer's
step 3 as it runs it (``score_events`` per partition of each 5000-event batch) and
the store write (``Store.insert_anomalies`` of each batch's anomaly rows, SQLite).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl

from benchmarks.kafka_io import partition_for
from benchmarks.workload import Workload
from features.pipeline import compute_features
from models.bundle import LoadedModel
from service.scoring import anomaly_rows, score_events
from service.store.repository import Store

T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """``(result, seconds)`` of one call.

    >>> value, seconds = timed(lambda: 2 + 2)
    >>> value, seconds >= 0
    (4, True)
    """
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started


def _stage(
    name: str, items: int, seconds: float, unit: str = "events", **extra: Any
) -> dict[str, Any]:
    return {
        "stage": name,
        unit: items,
        "seconds": seconds,
        f"{unit}_per_s": items / seconds if seconds > 0 else float("inf"),
        **extra,
    }


def event_partitions(workload: Workload, partitions: int) -> npt.NDArray[np.int64]:
    """The input partition of every event (the partition of the message that carried it)."""
    per_message = np.fromiter(
        (partition_for(k, partitions, i) for i, k in enumerate(workload.keys)),
        dtype=np.int64,
        count=workload.messages,
    )
    return np.repeat(per_message, workload.events_per_message)


def run(
    model: LoadedModel, workload: Workload, partitions: int, batch_rows: int, store_dir: Path
) -> tuple[list[dict[str, Any]], pl.DataFrame]:
    """Every stage's rate; also returns the features (the peers score them)."""
    events = workload.frame
    scoring = model.model
    stages = [
        _stage(
            "JSON parse only (orjson.loads)",
            workload.messages,
            workload.timings["parse_s"],
            unit="messages",
        ),
        _stage(
            "decode + normalize (normalize_message)",
            workload.events,
            workload.timings["normalize_s"],
        ),
        _stage("rows to frame (to_frame)", workload.events, workload.timings["to_frame_s"]),
    ]

    features, seconds = timed(lambda: compute_features(events, scoring.baseline_state.copy()))
    stages.append(_stage("features, one batch", events.height, seconds))

    def micro() -> None:
        state = scoring.baseline_state.copy()
        for offset in range(0, events.height, batch_rows):
            compute_features(events.slice(offset, batch_rows), state)

    _, seconds = timed(micro)
    stages.append(_stage(f"features, {batch_rows}-row micro-batches", events.height, seconds))

    X, seconds = timed(lambda: scoring.matrix(features))
    stages.append(_stage("feature matrix (polars -> numpy)", events.height, seconds))
    # Whole matrix, then in calls the size the scorer makes (a batch split over partitions):
    # the gap is each call's fixed cost.
    call_rows = max(1, batch_rows // partitions)
    for name, detector in scoring.detectors.items():
        started = time.perf_counter()
        detector.decision_function(X)
        seconds = time.perf_counter() - started
        stages.append(_stage(f"{name} decision_function, one call", events.height, seconds))
        started = time.perf_counter()
        for offset in range(0, X.shape[0], call_rows):
            detector.decision_function(X[offset : offset + call_rows])
        seconds = time.perf_counter() - started
        stages.append(
            _stage(f"{name} decision_function, {call_rows}-row calls", events.height, seconds)
        )
    result, seconds = timed(lambda: scoring.score_matrix(X))
    stages.append(
        _stage("ScoringModel.score_matrix (ensemble + calibration)", events.height, seconds)
    )
    flagged = np.flatnonzero(result.is_anomaly)
    _, seconds = timed(lambda: scoring.explain(X[flagged]))
    stages.append(
        _stage(
            "explanation of flagged rows",
            int(flagged.size),
            seconds,
            unit="rows",
            flagged_fraction=float(flagged.size / max(events.height, 1)),
        )
    )

    batches, seconds = timed(lambda: _score_like_scorer(model, workload, partitions, batch_rows))
    stages.append(
        _stage(
            f"score_events per partition of {batch_rows}-event batches (scorer step 3)",
            events.height,
            seconds,
            partitions=partitions,
        )
    )
    stages.append(_store(batches, store_dir, events.height))
    return stages, features


def _score_like_scorer(
    model: LoadedModel, workload: Workload, partitions: int, batch_rows: int
) -> list[list[dict[str, Any]]]:
    """The anomaly rows of each batch, scored per partition against that partition's state."""
    events = workload.frame.with_columns(
        pl.Series("_partition", event_partitions(workload, partitions))
    )
    states = {p: model.model.baseline_state.copy() for p in range(partitions)}
    batches: list[list[dict[str, Any]]] = []
    for offset in range(0, events.height, batch_rows):
        batch = events.slice(offset, batch_rows)
        rows: list[dict[str, Any]] = []
        for _, part in batch.group_by("_partition", maintain_order=True):
            state = states[int(part["_partition"][0])]
            scored = score_events(model, part.drop("_partition"), state)
            rows.extend(anomaly_rows(model, scored))
        batches.append(rows)
    return batches


def _store(batches: list[list[dict[str, Any]]], store_dir: Path, events: int) -> dict[str, Any]:
    store = Store(f"sqlite:///{store_dir / 'stage-store.db'}")
    try:
        store.create_schema()
        stored, seconds = timed(lambda: sum(store.insert_anomalies(rows) for rows in batches))
    finally:
        store.close()
    rows = sum(map(len, batches))
    return _stage(
        "store write (insert_anomalies per batch, SQLite)",
        rows,
        seconds,
        unit="rows",
        stored=stored,
        batches=len(batches),
        events_per_s_equivalent=events / seconds if seconds > 0 else float("inf"),
    )
