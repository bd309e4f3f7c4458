from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from models.bundle import ScoringModel
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
        ScoringModel.train(_frame(np.random.default_rng(1), 60), NAMES, "test")
