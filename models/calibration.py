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
    """Tail probability against a reference sample of raw scores.

    Inside the sample the probability is empirical; beyond its upper
    ``tail_quantile`` it follows an exponential tail fitted to the excesses over
    that quantile (peaks over threshold), so scores above anything seen in the
    reference still grow smoothly instead of saturating at ``1/(n+1)``.
    """

    sorted_scores: npt.NDArray[np.float64]
    tail_start: float = float("inf")
    tail_scale: float = 1.0
    tail_probability_at_start: float = 0.0

    @classmethod
    def fit(cls, reference_scores: npt.ArrayLike, tail_quantile: float = 0.99) -> TailCalibrator:
        ordered = np.sort(np.asarray(reference_scores, dtype=np.float64))
        calibrator = cls(ordered)
        if ordered.size >= 100:
            start = float(np.quantile(ordered, tail_quantile))
            excess = ordered[ordered > start] - start
            if excess.size >= 5 and float(excess.mean()) > 0:
                calibrator.tail_start = start
                calibrator.tail_scale = float(excess.mean())
                calibrator.tail_probability_at_start = float(
                    calibrator._empirical(np.array([start]))[0]
                )
        return calibrator

    def _empirical(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(#reference scores ≥ raw + 1) / (n + 1): never 0, so the log stays finite."""
        n = self.sorted_scores.size
        at_least = n - np.searchsorted(self.sorted_scores, raw, side="left")
        return np.asarray((at_least + 1.0) / (n + 1.0), dtype=np.float64)

    def tail_probability(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        raw_arr = np.asarray(raw, dtype=np.float64)
        empirical = self._empirical(raw_arr)
        beyond = raw_arr > self.tail_start
        if beyond.any():
            extrapolated = self.tail_probability_at_start * np.exp(
                -(raw_arr[beyond] - self.tail_start) / self.tail_scale
            )
            empirical[beyond] = np.minimum(empirical[beyond], extrapolated)
        return np.maximum(empirical, 1e-300)

    def score(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Published 0–100 score.

        >>> cal = TailCalibrator.fit(np.arange(999.0))
        >>> cal.score([-1.0, 500.0, 980.0]).round(1).tolist()
        [0.0, 6.0, 34.0]
        >>> # beyond the reference the tail keeps rising instead of saturating
        >>> [round(float(s)) for s in cal.score([1000.0, 1010.0, 1020.0])]
        [60, 74, 90]
        """
        scores = np.clip(-SCORE_SCALE * np.log10(self.tail_probability(raw)), 0.0, 100.0)
        return np.asarray(scores + 0.0, dtype=np.float64)  # + 0.0 turns -0.0 into 0.0
