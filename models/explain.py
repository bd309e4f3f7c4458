"""Why an event scored high: the features furthest from what is typical.

Each feature's deviation is measured in robust units against the training data
(distance from the median over a scale: the IQR-based sigma, or the standard
deviation for near-constant features such as rare flags). Contributions are the
deviations normalised to sum to one per event, top first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import numpy.typing as npt


class Contribution(TypedDict):
    feature: str
    value: float
    typical: float
    contribution: float


@dataclass
class DeviationExplainer:
    feature_names: tuple[str, ...]
    median: npt.NDArray[np.float64]
    scale: npt.NDArray[np.float64]

    @classmethod
    def fit(cls, names: tuple[str, ...], X: npt.NDArray[np.float64]) -> DeviationExplainer:
        median = np.median(X, axis=0)
        q75, q25 = np.percentile(X, [75, 25], axis=0)
        robust = (q75 - q25) / 1.349
        scale = np.where(robust > 1e-9, robust, np.maximum(X.std(axis=0), 1e-3))
        return cls(names, median, scale)

    def deviations(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Shape (n_events, n_features): absolute robust z-scores."""
        return np.abs(X - self.median) / self.scale

    def explain(self, X: npt.NDArray[np.float64], top: int = 3) -> list[list[Contribution]]:
        """Top ``top`` contributions per row of ``X`` (features that deviate at all)."""
        deviation = self.deviations(X)
        totals = deviation.sum(axis=1, keepdims=True)
        shares = np.divide(deviation, totals, out=np.zeros_like(deviation), where=totals > 0)
        order = np.argsort(-deviation, axis=1)[:, :top]
        explanations: list[list[Contribution]] = []
        for row, columns in enumerate(order):
            explanations.append(
                [
                    {
                        "feature": self.feature_names[c],
                        "value": float(X[row, c]),
                        "typical": float(self.median[c]),
                        "contribution": round(float(shares[row, c]), 4),
                    }
                    for c in columns
                    if deviation[row, c] > 0
                ]
            )
        return explanations
