"""Each stage of the scorer alone, in this process, on the stream's events.

Decode + normalize is timed while the workload is built (:mod:`benchmarks.workload`);
here: features (one batch, and micro-batches of the scorer's batch size with
carried state), the feature matrix, each detector's ``decision_function``, the
full ``ScoringModel.score_matrix``, the explanation of the flagged rows, the
scorer's steps 2 and 3 with its own code (``ScorerLoop.score_records`` on
batches of the stream's records of the scorer's batch size, spread over the
partitions as the producer spreads them) and the store write
(``Store.insert_anomalies`` of each batch's anomaly rows, SQLite).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import polars as pl
from kafka import TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from benchmarks.kafka_io import partition_for
from benchmarks.workload import Workload
from features.pipeline import compute_features
from models.bundle import LoadedModel
from service.config import Settings
from service.consumer import BatchOutcome, ScorerLoop
from service.drift import DriftMonitor
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
        _stage(
            "decode + normalize in columns (normalize_messages + parse_event_times)",
            workload.events,
            workload.timings["columnar_s"],
        ),
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
    monitor = DriftMonitor("bench")
    monitor.use(model)

    def drift_counts() -> None:  # what each scored part adds to the live drift counts
        for offset in range(0, X.shape[0], call_rows):
            part = slice(offset, offset + call_rows)
            monitor.observe(X[part], result.score[part], int(result.is_anomaly[part].sum()))

    _, seconds = timed(drift_counts)
    stages.append(
        _stage(
            f"drift counts (DriftMonitor.observe), {call_rows}-row calls", events.height, seconds
        )
    )
    shadow = DriftMonitor("bench", shadow=True)
    shadow.use(model)

    def shadow_scoring() -> None:  # what a challenger adds to each scored part (the canary)
        for offset in range(0, X.shape[0], call_rows):
            part = X[offset : offset + call_rows]
            scored = scoring.score_matrix(part)
            shadow.observe(part, scored.score, int(scored.is_anomaly.sum()))

    _, seconds = timed(shadow_scoring)
    stages.append(
        _stage(
            f"shadow scoring (challenger score_matrix + drift counts), {call_rows}-row calls",
            events.height,
            seconds,
        )
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

    batches, seconds = timed(
        lambda: _score_like_scorer(model, workload, partitions, batch_rows, store_dir)
    )
    stages.append(
        _stage(
            f"ScorerLoop.score_records, {batch_rows}-message batches (scorer steps 2 + 3)",
            events.height,
            seconds,
            partitions=partitions,
        )
    )
    stages.append(_store(batches, store_dir, events.height))
    return stages, features


def _score_like_scorer(
    model: LoadedModel, workload: Workload, partitions: int, batch_rows: int, work: Path
) -> list[list[dict[str, Any]]]:
    """The anomaly rows of each batch, from the scorer's own decode, features and scoring."""
    per_message = [partition_for(k, partitions, i) for i, k in enumerate(workload.keys)]
    offsets = [0] * partitions
    records = []
    for partition, value in zip(per_message, workload.values, strict=True):
        records.append(
            ConsumerRecord(
                "stream",
                partition,
                None,
                offsets[partition],
                0,
                0,
                None,
                value,
                [],
                None,
                -1,
                -1,
                -1,
            )
        )
        offsets[partition] += 1
    # No checkpoints are taken here, so the states need no store table.
    settings = Settings(data_dir=work / "stage-scorer", state_backend="directory")
    loop = ScorerLoop(settings, Store(f"sqlite:///{work / 'stage-scorer.db'}"), lambda: model)
    loop.model = model
    for partition in range(partitions):  # as the rebalance listener does on an assignment
        loop.states.load(TopicPartition("stream", partition))
    batches: list[list[dict[str, Any]]] = []
    for offset in range(0, len(records), batch_rows):
        batch = records[offset : offset + batch_rows]
        _, rows = loop.score_records(batch, BatchOutcome(messages=len(batch)))
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
