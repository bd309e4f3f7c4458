"""The scoring model: detectors, calibration and explainer, trained together, versioned together.

A :class:`ScoringModel` is what MLflow stores (inside the pyfunc wrapper) and what
the scorer loads. It holds everything needed to turn a feature matrix into the
published score, severity, alert decision and explanation, so a model version
scores the same way forever.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from pyod.models.base import BaseDetector

from features.state import EntityState
from models.calibration import TailCalibrator, score_for_rate, severity
from models.detectors import make_detector
from models.exceptions import FeatureMismatchError
from models.explain import Contribution, DeviationExplainer


@dataclass
class ScoreResult:
    """Per-event outputs of one batch, index-aligned with the input rows."""

    score: npt.NDArray[np.float64]
    severity: npt.NDArray[np.str_]
    is_anomaly: npt.NDArray[np.bool_]


@dataclass
class ScoringModel:
    feature_names: tuple[str, ...]
    detectors: dict[str, BaseDetector]
    calibrators: dict[str, TailCalibrator]
    explainer: DeviationExplainer
    alert_threshold: float
    feature_set_version: str
    training_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    # Entity history at the end of the training data: where scoring's history starts.
    baseline_state: EntityState = field(default_factory=EntityState)

    @classmethod
    def train(
        cls,
        features: pl.DataFrame,
        feature_names: tuple[str, ...],
        feature_set_version: str,
        detector_names: tuple[str, ...] = ("iforest",),
        alert_rate: float = 0.005,
        seed: int = 0,
        baseline_state: EntityState | None = None,
    ) -> ScoringModel:
        """Fit each detector on the feature matrix and calibrate it on its own training scores."""
        started = time.perf_counter()
        X = features.select(feature_names).to_numpy().astype(np.float64)
        detectors: dict[str, BaseDetector] = {}
        calibrators: dict[str, TailCalibrator] = {}
        for name in detector_names:
            detector = make_detector(name, seed=seed)
            detector.fit(X)
            detectors[name] = detector
            calibrators[name] = TailCalibrator.fit(detector.decision_scores_)
        return cls(
            feature_names=feature_names,
            detectors=detectors,
            calibrators=calibrators,
            explainer=DeviationExplainer.fit(feature_names, X),
            alert_threshold=score_for_rate(alert_rate),
            feature_set_version=feature_set_version,
            training_seconds=time.perf_counter() - started,
            params={"detectors": list(detector_names), "alert_rate": alert_rate, "seed": seed},
            baseline_state=baseline_state if baseline_state is not None else EntityState(),
        )

    def matrix(self, features: pl.DataFrame) -> npt.NDArray[np.float64]:
        missing = [n for n in self.feature_names if n not in features.columns]
        if missing:
            raise FeatureMismatchError(f"scoring input lacks features {missing}")
        return features.select(self.feature_names).to_numpy().astype(np.float64)

    def score_matrix(self, X: npt.NDArray[np.float64]) -> ScoreResult:
        """Mean of the detectors' calibrated scores (one detector: its own score)."""
        if X.shape[0] == 0:
            empty = np.empty(0, dtype=np.float64)
            return ScoreResult(empty, severity(empty), np.empty(0, dtype=np.bool_))
        per_detector = [
            self.calibrators[name].score(detector.decision_function(X))
            for name, detector in self.detectors.items()
        ]
        score = np.asarray(np.round(np.vstack(per_detector).mean(axis=0), 3), dtype=np.float64)
        return ScoreResult(score, severity(score), np.asarray(score >= self.alert_threshold))

    def explain(self, X: npt.NDArray[np.float64]) -> list[list[Contribution]]:
        return self.explainer.explain(X)


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version, ready to score; every anomaly records name and version."""

    model: ScoringModel
    name: str
    version: str
