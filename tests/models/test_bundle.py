from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.bundle import ScoringModel, combine
from models.calibration import score_for_rate
from models.exceptions import ModelError

NAMES = ("hour", "writes", "rbac")


def _frame(rng: np.random.Generator, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "hour": rng.normal(13, 2, n),
            "writes": rng.binomial(1, 0.1, n).astype(float),
            "rbac": np.zeros(n),  # never seen in training
        }
    )


@pytest.fixture(scope="module")
def model() -> ScoringModel:
    return ScoringModel.train(_frame(np.random.default_rng(3), 5000), NAMES, "test", seed=3)


def test_an_unseen_value_scores_high_and_is_explained_by_that_feature(
    model: ScoringModel,
) -> None:
    normal = model.matrix(_frame(np.random.default_rng(4), 500))
    odd = np.array([[13.0, 0.0, 1.0]])
    odd_result = model.score_matrix(odd)
    assert odd_result.score[0] > np.percentile(model.score_matrix(normal).score, 99.9)
    assert bool(odd_result.is_anomaly[0])
    [explanation] = model.explain(odd)
    assert explanation[0]["feature"] == "rbac"
    assert explanation[0]["value"] == 1.0
    assert explanation[0]["typical"] == 0.0
    assert explanation[0]["contribution"] > 0.5


def test_alert_rate_on_unseen_normal_data_is_near_the_target(model: ScoringModel) -> None:
    fresh = model.matrix(_frame(np.random.default_rng(5), 20_000))
    rate = float(model.score_matrix(fresh).is_anomaly.mean())
    assert model.alert_threshold == pytest.approx(score_for_rate(0.005))
    assert 0.001 <= rate <= 0.015


def test_each_detector_is_calibrated_and_reported(model: ScoringModel) -> None:
    X = model.matrix(_frame(np.random.default_rng(6), 100))
    per_detector = model.detector_scores(X)
    assert set(per_detector) == {"iforest", "autoencoder"}
    assert all((s >= 0).all() and (s <= 100).all() for s in per_detector.values())


def test_same_seed_same_scores() -> None:
    data = _frame(np.random.default_rng(5), 3000)
    a = ScoringModel.train(data, NAMES, "test", seed=11)
    b = ScoringModel.train(data, NAMES, "test", seed=11)
    probe = a.matrix(_frame(np.random.default_rng(6), 100))
    np.testing.assert_array_equal(a.score_matrix(probe).score, b.score_matrix(probe).score)


def test_empty_batch_scores_to_empty_arrays(model: ScoringModel) -> None:
    result = model.score_matrix(np.empty((0, 3)))
    assert result.score.shape == (0,)
    assert result.is_anomaly.shape == (0,)
    assert model.explain(np.empty((0, 3))) == []


def test_too_little_data_is_refused_with_a_reason() -> None:
    with pytest.raises(ModelError, match="too few"):
        ScoringModel.train(_frame(np.random.default_rng(1), 140), NAMES, "test")


def _skewed(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Three continuous features of a quiet environment (rates, ages, rarities)."""
    return pl.DataFrame(
        {
            "hour": rng.normal(13, 2, n),
            "writes": rng.gamma(2.0, 1.0, n),
            "rbac": rng.exponential(1.0, n),
        }
    )


@pytest.mark.parametrize("training_events", [300, 1000])
def test_a_small_model_ranks_without_ties_and_flags_its_most_extreme_events(
    training_events: int,
) -> None:
    """Trained on a few hundred events, the top of a stream is still a strict ranking, and the
    events far beyond anything in training cross the alert threshold."""
    rng = np.random.default_rng(21)
    model = ScoringModel.train(_skewed(rng, training_events), NAMES, "test", seed=2)
    stream = _skewed(np.random.default_rng(22), 20_000).to_numpy()
    extreme = np.column_stack([np.full(20, 13.0), np.linspace(40.0, 80.0, 20), np.full(20, 30.0)])
    result = model.score_matrix(np.vstack([stream, extreme]))
    top = np.sort(result.score)[::-1][: result.score.size // 100]
    assert np.unique(top).size == top.size, "no ties among the top 1 %"
    assert result.is_anomaly[-20:].all(), "the most extreme events reach the alert threshold"
    assert (result.score < 100.0).all()
    assert np.all(np.diff(result.score[-20:]) > 0), "more evidence, a higher score"
    assert model.params["calibration"] == "5-fold out-of-fold"


def test_combination_rules_rank_and_an_uninformative_detector_does_not_hide_a_signal() -> None:
    """With ``max`` or ``hmp`` an event one detector calls extreme stays near the top even when
    the other detector sees nothing unusual in it."""
    e = np.array([[90.0, 5.0, 5.0], [1.0, 5.0, 5.0]])
    for rule in ("max", "hmp"):
        combined = combine(e, rule)
        assert combined[0] > 80.0
        assert combined[1] < 10.0
    assert combine(e, "mean")[0] == pytest.approx(45.5)
    with pytest.raises(ModelError, match="unknown combination"):
        combine(e, "median")
