"""The feature pipeline: one definition for training (files) and scoring (micro-batches).

:func:`compute_features` adds every feature column to a frame of normalized
events. Event features (:mod:`features.event_features`) look at one event;
history features (:mod:`features.history`) compare it with what came before,
through an :class:`~features.state.EntityState`. Training calls it once over the
time-ordered training events (or chunk by chunk for data larger than memory,
:func:`compute_features_chunked`); the scorer calls it per micro-batch with the
state it keeps. :data:`FEATURE_SET_VERSION` is logged with every model.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache

import numpy as np
import polars as pl

from features.event_features import EVENT_FEATURES
from features.history import (
    HISTORY_FEATURES,
    WORKING_COLUMNS,
    history_features,
    history_features_of_parts,
    with_keys,
)
from features.state import EntityState

FEATURE_SET_VERSION = "6"  # 6: the same features as 5 from hashed, sorted history tables
EVENT_FEATURE_NAMES: tuple[str, ...] = tuple(f.__name__ for f in EVENT_FEATURES)
HISTORY_FEATURE_NAMES: tuple[str, ...] = tuple(HISTORY_FEATURES)
FEATURE_NAMES: tuple[str, ...] = EVENT_FEATURE_NAMES + HISTORY_FEATURE_NAMES
PROCESSING_ORDER = ("event_time", "event_id")


def feature_descriptions() -> dict[str, str]:
    """Feature name -> the first line of its definition's docstring (logged to MLflow)."""
    return {
        f.__name__: (f.__doc__ or "").strip().splitlines()[0] for f in EVENT_FEATURES
    } | HISTORY_FEATURES


@cache  # built once: on a small batch building the expressions costs more than running them
def _event_feature_columns() -> list[pl.Expr]:
    return [f().cast(pl.Float64).alias(f.__name__) for f in EVENT_FEATURES]


def compute_features(
    events: pl.DataFrame | pl.LazyFrame, state: EntityState | None = None
) -> pl.DataFrame:
    """The events, in their input row order, with one Float64 column per feature.

    ``state`` carries history between calls and is advanced past these events;
    without one, history starts empty (a fresh state is used and discarded).
    """
    state = state if state is not None else EntityState()
    ordered = _ordered(events.lazy(), PROCESSING_ORDER)
    return _with_history(ordered, history_features(ordered, state))


def compute_features_of_parts(
    events: pl.DataFrame, part: str, states: Sequence[EntityState]
) -> pl.DataFrame:
    """:func:`compute_features` of several independent streams at once (a scorer's partitions).

    Row ``i`` belongs to the stream ``states[events[part][i]]``: it is judged against
    that state only, and each state is advanced past its own rows, exactly as
    ``compute_features`` of each stream's rows alone with its state would. One call
    pays the fixed cost of the queries once instead of once per stream.
    """
    ordered = _ordered(events.lazy(), (part, *PROCESSING_ORDER))
    rows = np.bincount(ordered[part].to_numpy(), minlength=len(states))
    if rows.size > len(states):
        raise ValueError(f"{part!r} names stream {rows.size - 1}; {len(states)} states are given")
    parts = [(state, int(count)) for state, count in zip(states, rows, strict=True)]
    return _with_history(ordered, history_features_of_parts(ordered, parts))


def _ordered(events: pl.LazyFrame, order: Sequence[str]) -> pl.DataFrame:
    """The events keyed, with their event features, sorted by ``order`` (``_row``: their
    input position). One query each side of the history step: on a small batch, every
    query's fixed cost counts more than the work it does."""
    return (
        with_keys(events.with_row_index("_row").sort(order, maintain_order=True))
        .with_columns(_event_feature_columns())
        .collect()
    )


def _with_history(ordered: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    """The history columns beside the events, back in input order, without working columns."""
    working = [c for c in ordered.columns if c.startswith("k_") or c in WORKING_COLUMNS]
    return ordered.hstack(history).lazy().sort("_row").drop("_row", *working).collect()


def compute_features_chunked(
    events: pl.LazyFrame, chunk_rows: int = 200_000, state: EntityState | None = None
) -> Iterator[pl.DataFrame]:
    """Features for data larger than memory: the streaming engine sorts, chunks are scored in order.

    The chunks go through exactly the micro-batch path, so the result equals
    :func:`compute_features` over the whole frame (the parity guarantee).
    """
    state = state if state is not None else EntityState()
    ordered = events.sort(PROCESSING_ORDER, maintain_order=True)
    for chunk in ordered.collect_batches(chunk_size=chunk_rows, engine="streaming"):
        yield compute_features(chunk, state)


def feature_matrix(features: pl.DataFrame) -> pl.DataFrame:
    """Only the feature columns, in :data:`FEATURE_NAMES` order (the model's input)."""
    return features.select(FEATURE_NAMES)
