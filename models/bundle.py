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

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from features.state import EntityState
from models.calibration import (
    SCORE_DECIMALS,
    SCORE_SCALE,
    TailCalibrator,
    published,
    score_for_rate,
    severity,
)
from models.detectors import DEFAULT_DETECTORS, make_detector
from models.drift import DriftReference
from models.exceptions import FeatureMismatchError, ModelError
from models.explain import Contribution, OcclusionExplainer
from models.scoring_forms import Detector, scoring_form

if TYPE_CHECKING:
    from pyod.models.base import BaseDetector

COMBINATION_RULES = ("mean", "max", "hmp", "bounded")
DEFAULT_COMBINATION = "bounded"
MIN_FIT_EVENTS = 150  # after the warm-up: 5 folds of 30 events each
CROSS_FIT_BELOW = 2000  # calibration events: below this, calibrate out of fold
FOLDS = 5


@dataclass
class ScoreResult:
    """Per-event outputs of one batch, index-aligned with the input rows."""

    score: npt.NDArray[np.float64]
    severity: npt.NDArray[np.str_]
    is_anomaly: npt.NDArray[np.bool_]


@dataclass
class ScoringModel:
    feature_names: tuple[str, ...]
    detectors: dict[str, Detector]
    calibrators: dict[str, TailCalibrator]
    ensemble_calibrator: TailCalibrator
    explainer: OcclusionExplainer
    alert_threshold: float
    feature_set_version: str
    training_seconds: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    # Entity history at the end of the training data: where scoring's history starts.
    baseline_state: EntityState = field(default_factory=EntityState)
    combination: str = DEFAULT_COMBINATION
    # The training distribution live drift is measured against (None: trained before
    # drift was measured, so drift is not reported for it).
    reference: DriftReference | None = None

    def for_registry(self) -> ScoringModel:
        """This model with its detectors in their pyod-free scoring forms, as it is
        registered: a scorer that loads it never imports pyod (:mod:`models.scoring_forms`)."""
        return replace(self, detectors={n: scoring_form(d) for n, d in self.detectors.items()})

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
        combination: str = DEFAULT_COMBINATION,
    ) -> ScoringModel:
        """Fit the detectors and calibrate them on scores of events they were not fitted on.

        ``features`` must be in time order (training sorts it so). With enough data
        the later ``calibration_fraction`` is held out (it reflects drift as
        production will); with less than :data:`CROSS_FIT_BELOW` calibration events
        every event is scored by detectors fitted on the other folds instead, so a
        few hundred events still give a calibration sample of the same size.
        """
        if not detector_names:
            raise ModelError("at least one detector is required")
        if combination not in COMBINATION_RULES:
            raise ModelError(f"unknown combination {combination!r}: one of {COMBINATION_RULES}")
        started = time.perf_counter()
        X = features.select(feature_names).to_numpy().astype(np.float64)
        if X.shape[0] < MIN_FIT_EVENTS:
            raise ModelError(
                f"{X.shape[0]} events are too few to fit and calibrate a model "
                f"(need at least {MIN_FIT_EVENTS} after the history warm-up)"
            )
        held_out_rows = int(X.shape[0] * calibration_fraction)
        cross_fit = held_out_rows < CROSS_FIT_BELOW
        fit_rows = X if cross_fit else X[: X.shape[0] - held_out_rows]
        detectors = {name: _fitted(name, seed, fit_rows) for name in detector_names}
        if cross_fit:
            reference = _out_of_fold_scores(detector_names, X, seed)
        else:
            held_out = X[X.shape[0] - held_out_rows :]
            reference = {n: d.decision_function(held_out) for n, d in detectors.items()}
        calibrators = {name: TailCalibrator.fit(reference[name]) for name in detector_names}
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
                "combination": combination,
                "calibration": f"{FOLDS}-fold out-of-fold" if cross_fit else "later events",
                "calibration_fraction": calibration_fraction,
                "fit_events": fit_rows.shape[0],
                "calibration_events": X.shape[0] if cross_fit else held_out_rows,
            },
            baseline_state=baseline_state if baseline_state is not None else EntityState(),
            combination=combination,
        )
        evidences = np.vstack(
            [calibrators[name].evidence(reference[name]) for name in detector_names]
        )
        ensemble_reference = combine(evidences, combination)
        model.ensemble_calibrator = TailCalibrator.fit(ensemble_reference)
        model.reference = DriftReference.fit(
            X, feature_names, model.ensemble_calibrator.score(ensemble_reference), alert_rate
        )
        model.training_seconds = time.perf_counter() - started
        return model

    def matrix(self, features: pl.DataFrame) -> npt.NDArray[np.float64]:
        missing = [n for n in self.feature_names if n not in features.columns]
        if missing:
            raise FeatureMismatchError(f"scoring input lacks features {missing}")
        return features.select(self.feature_names).to_numpy().astype(np.float64)

    def detector_evidence(self, X: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[np.float64]]:
        """Each detector's unbounded evidence ``-20·log10(p)`` (what the ensemble combines)."""
        return {
            name: self.calibrators[name].evidence(detector.decision_function(X))
            for name, detector in self.detectors.items()
        }

    def detector_scores(self, X: npt.NDArray[np.float64]) -> dict[str, npt.NDArray[np.float64]]:
        """Each detector's calibrated 0–100 score (for evaluation and comparison)."""
        return {name: published(e) for name, e in self.detector_evidence(X).items()}

    def ensemble_raw(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        evidences = np.vstack(list(self.detector_evidence(X).values()))
        return combine(evidences, self.combination)

    def evidence(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The ensemble's unbounded evidence (the published score before it bends to 100)."""
        if X.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        return self.ensemble_calibrator.evidence(self.ensemble_raw(X))

    def scores(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The published score, unrounded."""
        return published(self.evidence(X))

    def score_matrix(self, X: npt.NDArray[np.float64]) -> ScoreResult:
        score = np.round(self.scores(X), SCORE_DECIMALS)
        return ScoreResult(score, severity(score), np.asarray(score >= self.alert_threshold))

    def explain(self, X: npt.NDArray[np.float64]) -> list[list[Contribution]]:
        # Attributions on the unbounded evidence: near 100 the published score is
        # compressed, and a feature's share should not shrink because the event is extreme.
        return self.explainer.explain(X, self.evidence)


def combine(evidences: npt.NDArray[np.float64], rule: str) -> npt.NDArray[np.float64]:
    """One evidence per event from the detectors' evidences (shape: detectors × events).

    * ``mean`` — the mean evidence (the geometric mean of the tail probabilities);
    * ``max`` — the strongest detector (ties broken by the mean), so a detector that
      sees nothing cannot dilute one that does;
    * ``hmp`` — the harmonic mean of the tail probabilities: led by the strongest
      detector like ``max`` but smooth, and stronger when several agree;
    * ``bounded`` — the mean of each detector's evidence bent below 100 as the published
      score is (:func:`~models.calibration.published`): a detector whose evidence runs
      away (an autoencoder's reconstruction error is unbounded, an isolation forest's
      path length is not) cannot outvote the other, yet the order is kept.

    >>> e = np.array([[60.0, 20.0], [0.0, 20.0]])
    >>> [combine(e, r).round(2).tolist() for r in ("mean", "max", "hmp", "bounded")]
    [[30.0, 20.0], [60.03, 20.02], [53.99, 20.0], [30.0, 20.0]]
    """
    if rule == "mean":
        return np.asarray(evidences.mean(axis=0), dtype=np.float64)
    if rule == "max":
        return np.asarray(evidences.max(axis=0) + 1e-3 * evidences.mean(axis=0), dtype=np.float64)
    if rule == "bounded":
        return np.asarray(published(evidences).mean(axis=0), dtype=np.float64)
    if rule == "hmp":
        natural = evidences * (math.log(10.0) / SCORE_SCALE)  # -ln p
        pooled = np.logaddexp.reduce(natural, axis=0) - math.log(evidences.shape[0])
        return np.asarray(pooled * (SCORE_SCALE / math.log(10.0)), dtype=np.float64)
    raise ModelError(f"unknown combination {rule!r}: one of {COMBINATION_RULES}")


def _fitted(name: str, seed: int, X: npt.NDArray[np.float64]) -> BaseDetector:
    """A detector fitted on ``X``; an isolation forest samples at most the rows there are."""
    params = {"max_samples": min(512, X.shape[0])} if name == "iforest" else {}
    return make_detector(name, seed=seed, **params).fit(X)


def _out_of_fold_scores(
    detector_names: tuple[str, ...], X: npt.NDArray[np.float64], seed: int
) -> dict[str, npt.NDArray[np.float64]]:
    """Each event's raw score from detectors fitted on the other folds (interleaved folds,
    so every fold spans the whole period)."""
    fold_of = np.arange(X.shape[0]) % FOLDS
    scores = {name: np.empty(X.shape[0], dtype=np.float64) for name in detector_names}
    for fold in range(FOLDS):
        inside = fold_of == fold
        for name in detector_names:
            detector = _fitted(name, seed + fold + 1, X[~inside])
            scores[name][inside] = detector.decision_function(X[inside])
    return scores


@dataclass(frozen=True)
class LoadedModel:
    """A registered model version, ready to score; every anomaly records name and version."""

    model: ScoringModel
    name: str
    version: str
