from __future__ import annotations

import pickle

import numpy as np

from models.calibration import TailCalibrator, score_for_rate


def test_documented_tail_property_holds_on_training_data() -> None:
    """Fraction of training events scoring ≥ s is about 10^(−s/20)."""
    rng = np.random.default_rng(0)
    training = rng.gamma(2.0, size=50_000)
    calibrator = TailCalibrator.fit(training)
    scores = calibrator.score(training)
    for s in (20.0, 40.0, 46.0, 60.0):
        expected = 10 ** (-s / 20)
        observed = float((scores >= s).mean())
        assert abs(observed - expected) / expected < 0.1, (s, observed, expected)


def test_scores_are_monotone_and_bounded() -> None:
    calibrator = TailCalibrator.fit(np.linspace(0, 1, 1000))
    raw = np.linspace(-5, 5, 200)
    scores = calibrator.score(raw)
    assert np.all(np.diff(scores) >= 0)
    assert scores.min() >= 0.0
    assert scores.max() <= 100.0


def test_alert_threshold_matches_alert_rate() -> None:
    rng = np.random.default_rng(1)
    training = rng.normal(size=100_000)
    scores = TailCalibrator.fit(training).score(training)
    rate = float((scores >= score_for_rate(0.005)).mean())
    assert 0.004 <= rate <= 0.006


def test_a_pickled_calibrator_scores_the_same_and_leaves_its_derived_knots_behind() -> None:
    calibrator = TailCalibrator.fit(np.random.default_rng(3).gamma(2.0, size=5000))
    raw = np.linspace(-1.0, 30.0, 257)
    before = calibrator.score(raw)  # the knots are computed (and kept) by the first call
    copied = pickle.loads(pickle.dumps(calibrator))
    assert "_knots" in calibrator.__dict__
    assert "_knots" not in copied.__dict__
    np.testing.assert_array_equal(copied.score(raw), before)
    np.testing.assert_array_equal(calibrator.score(raw), before)
