"""Why an event scored high: per-feature attributions, observed vs typical values.

The attribution is *occlusion* on the whole ensemble: for each feature, the
event is scored again with that feature set to its typical value (the training
median); the drop in score is that feature's contribution. This works for any
detector mix — it asks the models themselves, not a proxy — and is only paid
for the events that are explained (the flagged ones, in the stream).
When no single feature lowers the score (the anomaly lies in a combination),
the robust deviation from typical is used instead, so an explanation is never empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import numpy.typing as npt

ScoreFunction = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]
# Events explained per call of the score function: each is scored once per atypical
# feature, so the occluded copies of a block are about this many events times the
# features; blocks bound that memory when most of a batch is flagged.
EXPLAIN_BLOCK = 1024


class Contribution(TypedDict):
    feature: str
    value: float
    typical: float
    contribution: float


@dataclass
class OcclusionExplainer:
    feature_names: tuple[str, ...]
    typical: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]

    @classmethod
    def fit(cls, names: tuple[str, ...], X: npt.NDArray[np.float64]) -> OcclusionExplainer:
        typical = np.median(X, axis=0)
        q75, q25 = np.percentile(X, [75, 25], axis=0)
        robust = (q75 - q25) / 1.349
        scale = np.where(robust > 1e-9, robust, np.maximum(X.std(axis=0), 1e-3))
        return cls(names, typical, scale)

    def attributions(
        self, X: npt.NDArray[np.float64], score: ScoreFunction
    ) -> npt.NDArray[np.float64]:
        """Shape (n_events, n_features): score drop when each feature is made typical."""
        # Only atypical cells are occluded: a typical value cannot be the reason, and
        # most features of most events are typical, so this saves most of the scoring.
        rows, columns = np.nonzero(self.typical != X)
        occluded = X[rows]
        occluded[np.arange(rows.size), columns] = self.typical[columns]
        drops = np.zeros(X.shape, dtype=np.float64)
        if rows.size:
            drops[rows, columns] = score(X)[rows] - score(occluded)
        return np.maximum(drops, 0.0)

    def explain(
        self, X: npt.NDArray[np.float64], score: ScoreFunction, top: int = 3
    ) -> list[list[Contribution]]:
        """Top ``top`` contributions per row of ``X``, largest first."""
        if X.shape[0] == 0:
            return []
        weights = np.concatenate(
            [
                self.attributions(X[start : start + EXPLAIN_BLOCK], score)
                for start in range(0, X.shape[0], EXPLAIN_BLOCK)
            ]
        )
        deviation = np.abs(X - self.typical) / self.scale
        no_single_cause = weights.sum(axis=1) <= 0
        weights[no_single_cause] = deviation[no_single_cause]
        totals = weights.sum(axis=1, keepdims=True)
        shares = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
        order = np.argsort(-weights, axis=1, kind="stable")[:, :top]
        return [
            [
                {
                    "feature": self.feature_names[c],
                    "value": float(X[row, c]),
                    "typical": float(self.typical[c]),
                    "contribution": round(float(shares[row, c]), 4),
                }
                for c in columns
                if weights[row, c] > 0
            ]
            for row, columns in enumerate(order)
        ]
