"""An autoencoder detector on scikit-learn, behind pyod's ``BaseDetector`` contract.

A small ``MLPRegressor`` learns to reproduce standardized feature vectors through
a narrow bottleneck. Normal events, seen thousands of times, are reproduced
well; an event unlike the training data is not, and its reconstruction error is
its anomaly score (higher = more anomalous). The per-feature squared errors say
which features the model could not explain — the explanation comes for free.

Unlike a tree ensemble, the autoencoder also reacts to a value never seen in
training (a flag that was always 0): the standardized input is far from
anything it learned to reproduce.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import numpy.typing as npt
from pyod.models.base import BaseDetector
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from models.scoring_forms import ReconstructionScorer


class MLPAutoencoder(BaseDetector):  # type: ignore[misc]
    """Reconstruction-error detector.

    Parameters follow pyod conventions; ``hidden`` is the layer sizes of the
    whole encoder-decoder (the middle one is the bottleneck), ``max_rows`` caps
    the rows used for fitting (a random sample) to bound training time.
    Fitted attributes: ``scaler_``, ``network_``, ``decision_scores_``,
    ``threshold_``, ``labels_``.
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (32, 8, 32),
        max_iter: int = 60,
        max_rows: int = 60_000,
        contamination: float = 0.1,
        random_state: int = 0,
        min_scale: float = 0.05,
    ) -> None:
        super().__init__(contamination=contamination)
        self.hidden = hidden
        self.max_iter = max_iter
        self.max_rows = max_rows
        self.random_state = random_state
        self.min_scale = min_scale

    def fit(self, X: npt.ArrayLike, y: Any = None) -> MLPAutoencoder:
        data = check_array(X, dtype=np.float64)
        self._set_n_classes(y)
        rng = np.random.default_rng(self.random_state)
        sample = data
        if data.shape[0] > self.max_rows:
            sample = data[rng.choice(data.shape[0], self.max_rows, replace=False)]
        self.scaler_ = StandardScaler().fit(sample)
        # A floor on the scale: a value never (or almost never) seen in training — a flag
        # that was always 0 — must stand out instead of being divided by a zero variance.
        self.scaler_.scale_ = np.maximum(self.scaler_.scale_, self.min_scale)
        standardized = self.scaler_.transform(sample)
        network = MLPRegressor(
            hidden_layer_sizes=self.hidden,
            activation="relu",
            solver="adam",
            learning_rate_init=1e-3,
            # early stopping holds out a tenth; a batch never exceeds what is left
            batch_size=min(256, int(standardized.shape[0] * 0.9)),
            max_iter=self.max_iter,
            early_stopping=True,
            n_iter_no_change=5,
            tol=1e-5,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            # max_iter is a deliberate time budget (with early stopping), not a failure.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.network_ = network.fit(standardized, standardized)
        self.decision_scores_ = self.decision_function(data)
        self._process_decision_scores()
        return self

    def scoring_form(self) -> ReconstructionScorer:
        """The fitted scaler and network alone, for a registered model
        (see :mod:`models.scoring_forms`)."""
        check_is_fitted(self, ["scaler_", "network_"])
        return ReconstructionScorer(self.scaler_, self.network_)

    def feature_errors(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Squared reconstruction error per feature, shape (n_samples, n_features)."""
        return self.scoring_form().feature_errors(X)

    def decision_function(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Mean squared reconstruction error per sample (higher = more anomalous)."""
        return self.scoring_form().decision_function(X)
