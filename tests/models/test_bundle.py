from __future__ import annotations

import numpy as np
import polars as pl

from models.bundle import ScoringModel


def _frame(rng: np.random.Generator, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "hour": rng.normal(13, 2, n),
            "writes": rng.binomial(1, 0.1, n).astype(float),
            "rbac": rng.binomial(1, 0.002, n).astype(float),
        }
    )


def test_outlier_scores_high_and_is_explained_by_the_odd_feature() -> None:
    rng = np.random.default_rng(3)
    names = ("hour", "writes", "rbac")
    model = ScoringModel.train(_frame(rng, 5000), names, "test", seed=3)
    normal = model.matrix(_frame(rng, 200))
    odd = np.array([[21.0, 1.0, 1.0]])
    normal_scores = model.score_matrix(normal).score
    odd_result = model.score_matrix(odd)
    assert odd_result.score[0] > np.percentile(normal_scores, 99)
    assert bool(odd_result.is_anomaly[0])
    [explanation] = model.explain(odd)
    assert explanation[0]["feature"] == "rbac"
    assert explanation[0]["value"] == 1.0
    assert explanation[0]["typical"] == 0.0


def test_same_seed_same_scores() -> None:
    rng = np.random.default_rng(5)
    data = _frame(rng, 3000)
    names = ("hour", "writes", "rbac")
    a = ScoringModel.train(data, names, "test", seed=11)
    b = ScoringModel.train(data, names, "test", seed=11)
    probe = a.matrix(_frame(np.random.default_rng(6), 100))
    np.testing.assert_array_equal(a.score_matrix(probe).score, b.score_matrix(probe).score)


def test_empty_batch_scores_to_empty_arrays() -> None:
    rng = np.random.default_rng(7)
    names = ("hour", "writes", "rbac")
    model = ScoringModel.train(_frame(rng, 500), names, "test")
    result = model.score_matrix(np.empty((0, 3)))
    assert result.score.shape == (0,)
    assert result.is_anomaly.shape == (0,)
