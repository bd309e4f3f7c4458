"""Fitted detectors reduced to what scoring reads, importable without pyod.

Importing pyod imports numba, llvmlite and pandas with it (66 MiB resident and
about 4 s in a scorer), though scoring a fitted isolation forest or autoencoder
needs none of them: only the fitted scikit-learn parts. A model is registered
with its two detectors in these forms (:func:`scoring_form`), so a scorer that
loads it never imports pyod. They score exactly as the detectors they were made
from (``tests/models/test_scoring_forms.py``); any other pyod detector is
registered as it is.

The isolation forest walks each fitted tree with its compiled ``apply`` and a
precomputed path length per node. The score of a row (Liu et al., 2008) is
``2 ** (-E[h(x)] / c(max_samples))``, where ``h(x)`` is the depth of the leaf
the row reaches plus ``c(n)``, the average path length of an unbuilt subtree
over the leaf's ``n`` training rows.

``apply`` runs without the interpreter lock, so a large call walks its trees in
:data:`TREE_GROUPS` groups on as many threads (one 20,000-row call over 200
trees: 131 ms in one thread, 67 ms in two). The groups are fixed and their
sums added in order, so a score is the same to the last bit on any machine,
whether the groups ran side by side or one after the other; small calls, for
which handing work to a thread costs more than it saves, stay in the caller's.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from sklearn.utils import check_array


class Detector(Protocol):
    """What a model needs of a fitted detector: higher scores for more anomalous rows."""

    def decision_function(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]: ...


# The trees are summed in this many fixed groups (see the module's docstring).
TREE_GROUPS = 2
# Below this many rows the groups are walked in the calling thread: 300 rows took
# 2.9 ms there and 3.6 ms handed to two threads; 2,000 rows 14.6 against 8.9 ms.
PARALLEL_MIN_ROWS = 1_000


def average_path_length(n_samples: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """``c(n)``: the average depth of an unsuccessful search in a binary tree of ``n`` nodes.

    >>> average_path_length([0, 1, 2, 256]).round(4).tolist()
    [0.0, 0.0, 1.0, 10.2448]
    """
    n = np.asarray(n_samples, dtype=np.float64)
    lengths = np.zeros_like(n)
    lengths[n == 2] = 1.0
    big = n > 2
    lengths[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return lengths


def _leaf_path_lengths(tree: Any) -> npt.NDArray[np.float64]:
    """Per node of a fitted sklearn ``Tree``: its depth plus ``c(rows that reached it)``."""
    depth = np.zeros(tree.node_count, dtype=np.float64)
    # Children always have larger node ids than their parent, so one pass suffices.
    for node in range(tree.node_count):
        for child in (tree.children_left[node], tree.children_right[node]):
            if child != -1:
                depth[child] = depth[node] + 1.0
    return depth + average_path_length(tree.n_node_samples)


def _feature_subsets(forest: Any) -> list[npt.NDArray[np.intp] | None]:
    """Per tree, the columns it was fitted on, or None when it saw every column in order
    (the default): such a tree reads the rows as they are, without a copy."""
    every_feature = np.arange(forest.n_features_in_)
    return [
        None if np.array_equal(features, every_feature) else np.asarray(features, dtype=np.intp)
        for features in forest.estimators_features_
    ]


@functools.cache
def _tree_walkers() -> ThreadPoolExecutor | None:
    """The threads the tree groups are walked on; None on a single core."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if (cores or 1) < 2:
        return None
    return ThreadPoolExecutor(TREE_GROUPS, thread_name_prefix="iforest")


# A forked child has none of its parent's threads: it starts its own pool when it needs one.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_tree_walkers.cache_clear)


def _depth_sum(rows: npt.NDArray[np.float32], trees: list[tuple[Any, Any, Any]]) -> np.ndarray:
    """The summed path length of every row through ``trees`` (estimator, columns, lengths)."""
    depths = np.zeros(rows.shape[0], dtype=np.float64)
    for estimator, features, lengths in trees:
        subset = rows if features is None else np.ascontiguousarray(rows[:, features])
        depths += lengths[estimator.tree_.apply(subset)]
    return depths


class ForestScorer:
    """A fitted scikit-learn ``IsolationForest`` scored as pyod's ``IForest`` scores it
    (higher = more anomalous), without scikit-learn's per-tree dispatch."""

    def __init__(self, forest: Any) -> None:
        self.forest = forest
        self._groups: list[list[tuple[Any, Any, Any]]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"forest": self.forest}  # the groups are derived again on load

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.forest = state["forest"]
        self._groups = None

    def _tree_groups(self) -> list[list[tuple[Any, Any, Any]]]:
        """The trees with their columns and path lengths, in :data:`TREE_GROUPS` fixed groups."""
        if self._groups is None:
            forest = self.forest
            trees = list(
                zip(
                    forest.estimators_,
                    _feature_subsets(forest),
                    [_leaf_path_lengths(e.tree_) for e in forest.estimators_],
                    strict=True,
                )
            )
            self._groups = [
                trees[i * len(trees) // TREE_GROUPS : (i + 1) * len(trees) // TREE_GROUPS]
                for i in range(TREE_GROUPS)
            ]
        return self._groups

    def decision_function(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        forest = self.forest
        rows = np.ascontiguousarray(X, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != forest.n_features_in_:
            raise ValueError(
                f"expected a matrix of {forest.n_features_in_} features, got shape {rows.shape}"
            )
        groups = self._tree_groups()
        walkers = _tree_walkers() if rows.shape[0] >= PARALLEL_MIN_ROWS else None
        if walkers is None:
            sums = [_depth_sum(rows, group) for group in groups]
        else:
            sums = list(walkers.map(lambda group: _depth_sum(rows, group), groups))
        depths = functools.reduce(np.add, sums)  # in group order: the same bits either way
        denominator = len(forest.estimators_) * average_path_length([forest.max_samples_])[0]
        # sklearn: score_samples = -2**(-depth/c); decision = score_samples - offset_;
        # pyod inverts the sign so that higher is more anomalous.
        return np.asarray(2.0 ** (-depths / denominator) + forest.offset_, dtype=np.float64)


class ReconstructionScorer:
    """A fitted scaler and regression network scored by their reconstruction error."""

    def __init__(self, scaler: Any, network: Any) -> None:
        self.scaler_ = scaler
        self.network_ = network

    def feature_errors(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Squared reconstruction error per feature, shape (n_samples, n_features)."""
        standardized = self.scaler_.transform(check_array(X, dtype=np.float64))
        reconstructed = self.network_.predict(standardized)
        return np.asarray((standardized - reconstructed) ** 2, dtype=np.float64)

    def decision_function(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Mean squared reconstruction error per sample (higher = more anomalous)."""
        return np.asarray(self.feature_errors(X).mean(axis=1), dtype=np.float64)


def scoring_form(detector: Any) -> Any:
    """What a model keeps of a fitted detector: the pyod-free form of an isolation forest
    or an autoencoder of this package, any other detector as it is."""
    form = getattr(detector, "scoring_form", None)
    return form() if callable(form) else detector
