"""The scoring model: detectors, calibration and explainer, trained together, versioned together.

A :class:`ScoringModel` is what MLflow stores (inside the pyfunc wrapper) and what
the scorer loads. It holds everything needed to turn a feature matrix into the
published score, severity, alert decision and explanation, so a model version
scores the same way forever.

Training splits the (time-ordered) training events: detectors are fitted on the
first part and calibrated on the held-out last part, so thresholds reflect how
the model sees events it was not fitted on — as it will in production. Each
detector's raw score becomes a calibrated score (tail probability against its
held-out scores); the ensemble averages them and is calibrated once more, so the
published score keeps its documented meaning whatever the detector mix.
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
from models.detectors import DEFAULT_DETECTORS, make_detector
from models.exceptions import FeatureMismatchError, ModelError
from models.explain import Contribution, OcclusionExplainer


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
    ensemble_calibrator: TailCalibrator
    explainer: OcclusionExplainer
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
        detector_names: tuple[str, ...] = DEFAULT_DETECTORS,
        alert_rate: float = 0.005,
        seed: int = 0,
        baseline_state: EntityState | None = None,
        calibration_fraction: float = 0.2,
    ) -> ScoringModel:
        """Fit on the earlier events, calibrate on the later ``calibration_fraction``.

        ``features`` must be in time order (training sorts it so).
        """
        if not detector_names:
            raise ModelError("at least one detector is required")
        started = time.perf_counter()
        X = features.select(feature_names).to_numpy().astype(np.float64)
        split = int(X.shape[0] * (1.0 - calibration_fraction))
        if split < 50 or X.shape[0] - split < 50:
            raise ModelError(
                f"{X.shape[0]} training events are too few to fit and calibrate (need ≥ 100)"
            )
        fit_rows, held_out = X[:split], X[split:]
        detectors: dict[str, BaseDetector] = {}
        calibrators: dict[str, TailCalibrator] = {}
        for name in detector_names:
            detector = make_detector(name, seed=seed)
            detector.fit(fit_rows)
            detectors[name] = detector
            calibrators[name] = TailCalibrator.fit(detector.decision_function(held_out))
        model = cls(
            feature_names=feature_names,
            detectors=detectors,
            calibrators=calibrators,
            ensemble_calibrator=TailCalibrator.fit(np.zeros(1)),
            explainer=OcclusionExplainer.fit(feature_names, fit_rows),
            alert_threshold=score_for_rate(alert_rate),
            feature_set_version=feature_set_version,
            params={
                "detectors": list(detector_names),
                "alert_rate": alert_rate,
                "seed": seed,
                "calibration_fraction": calibration_fraction,
                "fit_events": split,
                "calibration_events": X.shape[0] - split,
            },
            baseline_state=baseline_state if baseline_state is not None else EntityState(),
        )
        model.ensemble_calibrator = TailCalibrator.fit(model.ensemble_raw(held_out))
        model.training_seconds = time.perf_counter() - started
        return model

    def matrix(self, features: pl.DataFrame) -> npt.NDArray[np.float64]:
        missing = [n for n in self.feature_names if n not in features.columns]
        if missing:
            raise FeatureMismatchError(f"scoring input lacks features {missing}")
        return features.select(self.feature_names).to_numpy().astype(np.float64)

    def detector_scores(self, X: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[np.float64]]:
        """Each detector's calibrated 0–100 score (for evaluation and comparison)."""
        return {
            name: self.calibrators[name].score(detector.decision_function(X))
            for name, detector in self.detectors.items()
        }

    def ensemble_raw(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        per_detector = list(self.detector_scores(X).values())
        return np.asarray(np.vstack(per_detector).mean(axis=0), dtype=np.float64)

    def scores(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The published score, unrounded."""
        if X.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        return self.ensemble_calibrator.score(self.ensemble_raw(X))

    def score_matrix(self, X: npt.NDArray[np.float64]) -> ScoreResult:
        score = np.round(self.scores(X), 3)
        return ScoreResult(score, severity(score), np.asarray(score >= self.alert_threshold))

    def explain(self, X: npt.NDArray[np.float64]) -> list[list[Contribution]]:
        return self.explainer.explain(X, self.scores)


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version, ready to score; every anomaly records name and version."""

    model: ScoringModel
    name: str
    version: str
