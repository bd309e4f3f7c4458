"""The training reference and the arithmetic of drift: PSI, the tail test, the report."""

from __future__ import annotations

import numpy as np
import polars as pl

from models.bundle import ScoringModel
from models.calibration import score_for_rate
from models.drift import DriftReference, drift_report, psi, tail_counts, uniformity

RNG = np.random.default_rng(7)


def reference_of(X: np.ndarray, names: tuple[str, ...] = ("a", "b")) -> DriftReference:
    scores = -20 * np.log10(RNG.uniform(size=5000))  # calibrated scores on training data
    return DriftReference.fit(X, names, scores, 0.005)


def test_the_same_distribution_has_no_drift_and_a_shift_has_a_lot() -> None:
    X = np.column_stack([RNG.normal(size=20_000), RNG.integers(0, 2, 20_000)]).astype(float)
    reference = reference_of(X)
    same = np.column_stack([RNG.normal(size=5000), RNG.integers(0, 2, 5000)]).astype(float)
    shifted = np.column_stack([RNG.normal(1.5, 1.0, 5000), np.ones(5000)])
    steady = drift_report(reference, 5000, 25, reference.feature_counts(same), np.zeros(10, int))
    moved = drift_report(reference, 5000, 25, reference.feature_counts(shifted), np.zeros(10, int))
    assert steady.max_psi < 0.02
    assert {f.feature: f.psi > 0.2 for f in moved.features} == {"a": True, "b": True}
    assert moved.features[0].psi >= moved.features[1].psi  # the largest first


def test_a_binary_feature_gets_bins_for_each_value() -> None:
    X = np.column_stack([np.r_[np.zeros(900), np.ones(100)], np.zeros(1000)])
    reference = reference_of(X)
    bins = reference.features["a"]
    assert bins.edges == (0.5,)
    assert bins.expected == (0.9, 0.1)
    assert reference.features["b"].expected == (1.0,)  # a constant: one bin holds it all


def test_a_pile_on_one_value_that_moves_by_a_hair_is_not_drift() -> None:
    # A familiar value's surprise: most events share it, and it shrinks as counts grow.
    training = np.r_[np.full(8000, 0.0513), RNG.uniform(1.0, 6.0, 2000)]
    reference = reference_of(np.column_stack([training, training]))
    live = np.r_[np.full(800, 0.0498), RNG.uniform(1.0, 6.0, 200)]
    counts = reference.feature_counts(np.column_stack([live, live]))
    assert drift_report(reference, 1000, 5, counts, np.zeros(10, int)).max_psi < 0.05


def test_calibrated_scores_are_uniform_in_tail_probability_until_the_stream_moves() -> None:
    uniform = -20 * np.log10(RNG.uniform(size=10_000))
    assert uniformity(tail_counts(uniform)).p_value > 0.01
    inflated = np.r_[uniform[:8000], np.full(2000, 55.0)]  # a fifth of events now look unusual
    assert uniformity(tail_counts(inflated)).p_value < 1e-6


def test_psi_of_empty_counts_is_zero_and_never_negative() -> None:
    assert psi([0.2, 0.8], [0, 0]) == 0.0
    assert psi([0.0, 1.0], [0, 10]) >= 0.0


def test_the_reference_round_trips_through_json() -> None:
    reference = reference_of(RNG.normal(size=(500, 2)))
    assert DriftReference.from_dict(reference.to_dict()) == reference


def test_training_records_the_reference_with_the_model() -> None:
    frame = pl.DataFrame({"a": RNG.normal(size=600), "b": RNG.integers(0, 3, 600).astype(float)})
    model = ScoringModel.train(frame, ("a", "b"), "test", detector_names=("ecod",))
    assert model.reference is not None
    assert model.reference.feature_names == ("a", "b")
    assert model.reference.training_events == 600
    assert model.reference.target_alert_rate == 0.005
    # The calibration sample's tail probabilities are close to uniform, by construction.
    assert max(model.reference.tail_expected) < 0.2
    assert score_for_rate(model.reference.target_alert_rate) == model.alert_threshold
