"""From a detector's raw score to the published 0–100 ``score``.

A raw score means nothing across detectors or model versions, so each is mapped
to its *tail probability* against the detector's own training scores: the
fraction of training events that scored at least as high. The published score
is ``-20·log10(p)``, clipped to 0–100. The documented property:

    on the training data, the fraction of events with score ≥ s is about 10^(−s/20)

so 20 ↔ 10 %, 40 ↔ 1 %, 46 ↔ 0.5 %, 60 ↔ 0.1 %, 80 ↔ 0.01 %. The score depends
only on the frozen training distribution, so a stored score never changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SCORE_SCALE = 20.0
SEVERITY_CUTOFFS: tuple[tuple[float, str], ...] = (
    (80.0, "critical"),
    (60.0, "high"),
    (40.0, "medium"),
)


def score_for_rate(rate: float) -> float:
    """The score above which ``rate`` of the training events lie.

    >>> round(score_for_rate(0.005), 2)
    46.02
    """
    return float(-SCORE_SCALE * np.log10(rate))


def severity(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.str_]:
    """Severity label per score from the fixed cut-offs (below the lowest: ``low``).

    >>> severity(np.array([10.0, 45.0, 65.0, 99.0])).tolist()
    ['low', 'medium', 'high', 'critical']
    """
    labels = np.full(scores.shape, "low", dtype="<U8")
    for cutoff, label in reversed(SEVERITY_CUTOFFS):
        labels[scores >= cutoff] = label
    return labels


@dataclass
class TailCalibrator:
    """Empirical tail probability against the sorted training scores."""

    sorted_scores: npt.NDArray[np.float64]

    @classmethod
    def fit(cls, training_scores: npt.ArrayLike) -> TailCalibrator:
        return cls(np.sort(np.asarray(training_scores, dtype=np.float64)))

    def tail_probability(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """(#training scores ≥ raw + 1) / (n + 1): never 0, so the log stays finite."""
        raw_arr = np.asarray(raw, dtype=np.float64)
        n = self.sorted_scores.size
        at_least = n - np.searchsorted(self.sorted_scores, raw_arr, side="left")
        return np.asarray((at_least + 1.0) / (n + 1.0), dtype=np.float64)

    def score(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Published 0–100 score.

        >>> cal = TailCalibrator.fit(np.arange(999.0))
        >>> cal.score([-1.0, 990.0, 5000.0]).round(1).tolist()
        [0.0, 40.0, 60.0]
        """
        scores = np.clip(-SCORE_SCALE * np.log10(self.tail_probability(raw)), 0.0, 100.0)
        return np.asarray(scores + 0.0, dtype=np.float64)  # + 0.0 turns -0.0 into 0.0
