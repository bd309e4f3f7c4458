"""Contract tests: every detector the factory builds honours the same promises."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from models.detectors import make_detector

DETECTORS = ["iforest", "autoencoder", "ecod", "hbos", "copod"]


def _data(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    train = rng.normal(size=(3000, 6))
    normal = rng.normal(size=(300, 6))
    outliers = rng.normal(loc=5.0, size=(30, 6))
    return train, normal, outliers


@pytest.mark.parametrize("name", DETECTORS)
def test_higher_means_more_anomalous(name: str) -> None:
    train, normal, outliers = _data(0)
    detector = make_detector(name, seed=0).fit(train)
    scores = detector.decision_function(np.vstack([normal, outliers]))
    labels = np.r_[np.zeros(len(normal)), np.ones(len(outliers))]
    assert roc_auc_score(labels, scores) > 0.95


@pytest.mark.parametrize("name", DETECTORS)
def test_fit_sets_pyod_attributes(name: str) -> None:
    train, _, _ = _data(1)
    detector = make_detector(name, seed=1).fit(train)
    assert detector.decision_scores_.shape == (len(train),)
    assert set(np.unique(detector.labels_)) <= {0, 1}
    assert np.isfinite(detector.threshold_)


@pytest.mark.parametrize("name", ["iforest", "autoencoder"])
def test_same_seed_is_reproducible(name: str) -> None:
    train, normal, _ = _data(2)
    a = make_detector(name, seed=7).fit(train).decision_function(normal)
    b = make_detector(name, seed=7).fit(train).decision_function(normal)
    np.testing.assert_array_equal(a, b)


def test_autoencoder_errors_point_at_the_feature_that_breaks_the_pattern() -> None:
    rng = np.random.default_rng(3)
    mixing = rng.normal(size=(2, 12))
    train = rng.normal(size=(4000, 2)) @ mixing + 0.05 * rng.normal(size=(4000, 12))
    detector = make_detector("autoencoder", seed=3).fit(train)
    odd = train[:20].copy()
    odd[:, 4] += 6.0 * train[:, 4].std()
    errors = detector.feature_errors(odd)
    assert (np.argmax(errors, axis=1) == 4).mean() >= 0.9
