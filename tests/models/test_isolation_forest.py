"""FastIForest must score exactly as pyod's IForest does, only faster."""

from __future__ import annotations

import multiprocessing
import pickle

import numpy as np
import pytest
from pyod.models.iforest import IForest

from models.isolation_forest import FastIForest
from models.scoring_forms import PARALLEL_MIN_ROWS


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    train = rng.normal(size=(2000, 8))
    test = np.vstack([rng.normal(size=(500, 8)), rng.normal(loc=4.0, size=(20, 8))])
    return train, test


@pytest.mark.parametrize(
    "params",
    [
        {"n_estimators": 50, "max_samples": 256},
        {"n_estimators": 30, "max_samples": 128, "max_features": 0.5},
        {"n_estimators": 30, "max_samples": 64, "bootstrap": True},
        {"n_estimators": 20, "max_samples": 1.0},
    ],
)
def test_scores_equal_pyods_iforest(params: dict[str, object]) -> None:
    train, test = _data()
    reference = IForest(random_state=0, **params).fit(train)
    fast = FastIForest(random_state=0, **params).fit(train)
    np.testing.assert_allclose(fast.decision_function(test), reference.decision_function(test))
    np.testing.assert_allclose(fast.decision_scores_, reference.decision_scores_)


def test_a_single_row_and_a_pickled_model_score_the_same() -> None:
    train, test = _data()
    fast = FastIForest(n_estimators=25, random_state=1).fit(train)
    expected = fast.decision_function(test)
    restored = pickle.loads(pickle.dumps(fast))
    np.testing.assert_allclose(restored.decision_function(test), expected)
    np.testing.assert_allclose(fast.decision_function(test[7:8]), expected[7:8])


def test_refitting_forgets_the_old_trees() -> None:
    train, test = _data()
    fast = FastIForest(n_estimators=25, random_state=1).fit(train)
    fast.decision_function(test)
    fast.fit(train[:, ::-1] * 3.0)
    reference = IForest(n_estimators=25, random_state=1).fit(train[:, ::-1] * 3.0)
    np.testing.assert_allclose(fast.decision_function(test), reference.decision_function(test))


def test_a_matrix_of_the_wrong_width_is_refused() -> None:
    train, test = _data()
    fast = FastIForest(n_estimators=5, random_state=0).fit(train)
    with pytest.raises(ValueError, match="expected a matrix of 8 features"):
        fast.decision_function(test[:, :5])


def test_a_call_large_enough_for_threads_scores_as_pyod_and_to_the_bit_as_small_calls() -> None:
    train, _ = _data()
    rows = np.random.default_rng(5).normal(size=(3 * PARALLEL_MIN_ROWS, 8))
    fast = FastIForest(n_estimators=40, random_state=2).fit(train)
    reference = IForest(n_estimators=40, random_state=2).fit(train)
    whole = fast.decision_function(rows)  # the tree groups on threads (two cores or more)
    pieces = np.concatenate(  # each piece below the threshold: walked in this thread
        [fast.decision_function(piece) for piece in np.array_split(rows, 10)]
    )
    np.testing.assert_array_equal(whole, pieces)
    np.testing.assert_allclose(whole, reference.decision_function(rows))


def test_a_forked_child_scores_with_threads_of_its_own() -> None:
    train, _ = _data()
    rows = np.random.default_rng(6).normal(size=(2 * PARALLEL_MIN_ROWS, 8))
    fast = FastIForest(n_estimators=20, random_state=4).fit(train)
    expected = fast.decision_function(rows)  # the parent's pool is started here
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        scored = pool.apply_async(fast.decision_function, (rows,)).get(timeout=60)
    np.testing.assert_array_equal(scored, expected)
