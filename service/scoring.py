"""Score a batch of normalized events with a loaded model version.

Used by the streaming scorer, by ``auditlens score`` and by ``POST /v1/score``:
one code path from normalized rows to published scores and explanations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from features.pipeline import compute_features
from features.state import EntityState
from models.bundle import LoadedModel
from models.summary import summarize

SCORE_COLUMNS = ("score", "severity", "is_anomaly")


@dataclass(frozen=True)
class ScoredBatch:
    """The batch's normalized rows with score columns, and the explanations of the rows
    that were explained (the flagged ones in the stream), by row position.

    Only explained rows carry an entry: a list per row of a 20,000-row batch cost
    more (the garbage collector walking them) than the few explanations it held.
    """

    frame: pl.DataFrame
    explanations: dict[int, list[dict[str, Any]]]
    summaries: dict[int, str]

    def explanation(self, position: int) -> list[dict[str, Any]]:
        """The contributions of row ``position``, largest first (empty: not explained)."""
        return self.explanations.get(position, [])

    def summary(self, position: int) -> str:
        """The one-line reason of row ``position`` ("": not explained)."""
        return self.summaries.get(position, "")


def score_events(
    model: LoadedModel,
    events: pl.DataFrame,
    state: EntityState | None = None,
    explain_all: bool = False,
) -> ScoredBatch:
    """Score every row; explain the flagged ones (or all of them, with ``explain_all``).

    ``state`` is the entity history to judge the events against, advanced past
    them; without one, history starts from the end of the model's training data.
    """
    if state is None:
        state = model.model.baseline_state.copy()
    X = model.model.matrix(compute_features(events, state))
    return score_features(model, events, X, explain_all)


def score_features(
    model: LoadedModel,
    events: pl.DataFrame,
    X: npt.NDArray[np.float64],
    explain_all: bool = False,
) -> ScoredBatch:
    """Score rows whose feature matrix ``X`` is already computed (row-aligned with ``events``).

    Scoring is stateless, so the streaming scorer computes features per partition
    (each against its own history) and scores the whole batch in one call.
    """
    result = model.model.score_matrix(X)
    frame = events.with_columns(
        pl.Series("score", result.score, dtype=pl.Float64),
        pl.Series("severity", result.severity, dtype=pl.String),
        pl.Series("is_anomaly", result.is_anomaly, dtype=pl.Boolean),
    )
    explained = np.arange(frame.height) if explain_all else np.flatnonzero(result.is_anomaly)
    explanations: dict[int, list[dict[str, Any]]] = {}
    summaries: dict[int, str] = {}
    if explained.size:
        per_row = model.model.explain(X[explained])
        context = frame[explained.tolist()].select("actor", "action", "resource", "namespace")
        for position, contributions, (actor, action, resource, namespace) in zip(
            explained.tolist(), per_row, context.iter_rows(), strict=True
        ):
            explanations[position] = [dict(c) for c in contributions]
            summaries[position] = summarize(actor, action, resource, namespace, contributions)
    return ScoredBatch(frame, explanations, summaries)


def anomaly_rows(model: LoadedModel, batch: ScoredBatch) -> list[dict[str, Any]]:
    """Store rows for the flagged events of a scored batch."""
    flagged = batch.frame.with_row_index("_row").filter(pl.col("is_anomaly"))
    rows: list[dict[str, Any]] = []
    for row in flagged.iter_rows(named=True):
        position = row.pop("_row")
        rows.append(
            {
                **row,
                "event_key": f"{row['source']}:{row['event_id']}",
                "explanation": batch.explanation(position),
                "summary": batch.summary(position),
                "model_name": model.name,
                "model_version": model.version,
                "status": "new",
            }
        )
    return rows


def result_records(model: LoadedModel, batch: ScoredBatch) -> list[dict[str, Any]]:
    """The published per-event record of ``auditlens score`` and ``POST /v1/score``."""
    records = []
    columns = batch.frame.select("event_id", "source", "event_time", *SCORE_COLUMNS)
    for position, row in enumerate(columns.iter_rows(named=True)):
        records.append(
            {
                "event_id": row["event_id"],
                "source": row["source"],
                "event_time": row["event_time"].isoformat(),
                "score": row["score"],
                "severity": row["severity"],
                "is_anomaly": row["is_anomaly"],
                "explanation": batch.explanation(position),
                "summary": batch.summary(position),
                "model": {"name": model.name, "version": model.version},
            }
        )
    return records
