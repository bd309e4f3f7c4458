"""Occlusion attributions: the score drop when one feature is made typical."""

from __future__ import annotations

import numpy as np
import pytest

from models import explain
from models.explain import OcclusionExplainer


def _linear_explainer() -> tuple[OcclusionExplainer, np.ndarray]:
    names = ("a", "b", "c", "d")
    explainer = OcclusionExplainer(names, typical=np.array([0.0, 1.0, 2.0, 3.0]), scale=np.ones(4))
    weights = np.array([1.0, -2.0, 0.5, 3.0])
    return explainer, weights


def test_each_atypical_feature_is_credited_with_its_own_score_drop() -> None:
    explainer, weights = _linear_explainer()
    X = np.array([[2.0, 1.0, 2.0, 5.0], [0.0, 0.0, 6.0, 3.0]])
    calls: list[int] = []

    def score(rows: np.ndarray) -> np.ndarray:
        calls.append(rows.shape[0])
        return rows @ weights

    drops = explainer.attributions(X, score)
    # A linear score drops by w * (x - typical) when x is made typical; rises are not reasons.
    expected = np.maximum(weights * (X - explainer.typical), 0.0)
    np.testing.assert_allclose(drops, expected)
    # Typical cells are never rescored: 2 events, then only their 4 atypical cells.
    assert calls == [2, 4]


def test_an_all_typical_batch_needs_no_occlusion() -> None:
    explainer, weights = _linear_explainer()
    X = np.tile(explainer.typical, (3, 1))
    calls: list[int] = []

    def score(rows: np.ndarray) -> np.ndarray:
        calls.append(rows.shape[0])
        return rows @ weights

    assert not explainer.attributions(X, score).any()
    assert calls == []


def test_many_flagged_events_are_explained_in_blocks_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch that is mostly flagged is explained a block at a time, bounding the
    occluded copies in memory, with the same contributions as all at once."""
    explainer, weights = _linear_explainer()
    X = np.random.default_rng(7).normal(2.0, 2.0, size=(50, 4)).round(1)
    calls: list[int] = []

    def score(rows: np.ndarray) -> np.ndarray:
        calls.append(rows.shape[0])
        return rows @ weights

    whole = explainer.explain(X, score)
    monkeypatch.setattr(explain, "EXPLAIN_BLOCK", 16)
    calls.clear()
    assert explainer.explain(X, score) == whole
    # Four blocks (16, 16, 16, 2 events), each scored, then its atypical cells.
    assert calls[0::2] == [16, 16, 16, 2]
    assert max(calls[1::2]) <= 16 * 4
