"""From a detector's raw score to the published 0–100 ``score``.

A raw score means nothing across detectors or model versions, so each is mapped
to its *tail probability* ``p`` against a reference sample of the detector's
held-out scores: the fraction of reference events that scored at least as high.
Its **evidence** is ``-20·log10(p)``, and the published score is the evidence
itself up to :data:`KNEE`. The documented property:

    on the training data, the fraction of events with score ≥ s is about 10^(−s/20)

so 20 ↔ 10 %, 40 ↔ 1 %, 46 ↔ 0.5 %, 60 ↔ 0.1 %, 80 ↔ 0.01 %.

Beyond the reference, ``p`` follows an exponential tail fitted to the top of
the reference (peaks over threshold), so evidence keeps growing with the raw
score however small the training set: the most unusual events of a model
trained on a few hundred events still reach the alert threshold. Beyond the
knee the published score bends towards 100 without reaching it
(:func:`published`), so events with different evidence never tie at the top of
a ranking. Everything is computed in log space: no probability underflows to a
shared floor. The score depends only on the frozen reference, so a stored
score never changes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SCORE_SCALE = 20.0
KNEE = 80.0  # published score = evidence up to here (a tail probability of 1e-4)
SCORE_DECIMALS = 6
TAIL_POINTS_MIN = 10  # reference points the exponential tail is fitted to, at least
TAIL_FRACTION = 0.01  # ... or this share of the reference, if larger
SEVERITY_CUTOFFS: tuple[tuple[float, str], ...] = (
    (80.0, "critical"),
    (60.0, "high"),
    (40.0, "medium"),
)
_LOG10 = math.log(10.0)


def score_for_rate(rate: float) -> float:
    """The score above which ``rate`` of the training events lie.

    >>> round(score_for_rate(0.005), 2)
    46.02
    """
    return float(-SCORE_SCALE * np.log10(rate))


def published(evidence: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Evidence (unbounded, ≥ 0) as the 0–100 score: the identity up to :data:`KNEE`,
    then a hyperbola with the same slope at the knee that approaches 100 and never
    reaches it, so more evidence always means a higher score.

    >>> published([10.0, 80.0, 100.0, 1000.0]).round(3).tolist()
    [10.0, 80.0, 90.0, 99.574]
    """
    e = np.maximum(np.asarray(evidence, dtype=np.float64), 0.0)
    room = 100.0 - KNEE
    bent = 100.0 - room * room / (room + np.maximum(e - KNEE, 0.0))
    return np.asarray(np.where(e <= KNEE, e, bent) + 0.0, dtype=np.float64)


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

    Inside the sample the probability is empirical; above the start of its top
    ``max(TAIL_POINTS_MIN, TAIL_FRACTION·n)`` points it follows an exponential tail
    fitted to their excesses (peaks over threshold), so scores above anything seen
    in the reference still grow smoothly instead of saturating at ``1/(n+1)``.
    """

    sorted_scores: npt.NDArray[np.float64]
    tail_start: float = float("inf")
    tail_scale: float = 1.0
    log_tail_probability_at_start: float = 0.0

    @classmethod
    def fit(cls, reference_scores: npt.ArrayLike) -> TailCalibrator:
        ordered = np.sort(np.asarray(reference_scores, dtype=np.float64))
        calibrator = cls(ordered)
        n = ordered.size
        tail_points = max(TAIL_POINTS_MIN, math.ceil(TAIL_FRACTION * n))
        if n < 2 * tail_points:
            return calibrator
        start = float(ordered[n - tail_points - 1])
        excess = ordered[n - tail_points :] - start
        # A tail of ties (a detector that saturates) still needs a positive scale;
        # the spread of the upper half of the reference is the natural unit then.
        spread = float(ordered[-1] - ordered[n // 2])
        scale = float(excess.mean()) if excess.mean() > 0 else max(spread, 1e-9) / n
        calibrator.tail_start = start
        calibrator.tail_scale = scale
        calibrator.log_tail_probability_at_start = float(
            calibrator._log_empirical(np.array([start]))[0]
        )
        return calibrator

    @functools.cached_property
    def _knots(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """The distinct reference scores and their log tail probabilities, the points
        :meth:`_log_empirical` interpolates between: computed once, not per scored
        batch (a sort of the whole reference each time was most of a small batch's
        scoring)."""
        points = np.unique(self.sorted_scores)
        return points, np.log(self._empirical(points))

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the knots, which are derived from the reference."""
        state = dict(self.__dict__)
        state.pop("_knots", None)
        return state

    def _empirical(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """(#reference scores ≥ raw + 1) / (n + 1): never 0, so the log stays finite."""
        n = self.sorted_scores.size
        at_least = n - np.searchsorted(self.sorted_scores, raw, side="left")
        return np.asarray((at_least + 1.0) / (n + 1.0), dtype=np.float64)

    def _log_empirical(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The empirical log tail probability, interpolated between reference scores.

        A step function would give every raw score between two reference points the
        same probability; with a few hundred reference events that ties whole bands
        of a ranking. Interpolating (linearly in log p) keeps it strictly falling.
        """
        points, log_p = self._knots
        if points.size < 2:
            return np.log(self._empirical(raw))
        inside = np.interp(raw, points, log_p)
        # Beyond the largest reference score the step value holds (the tail takes over).
        return np.asarray(
            np.where(raw > points[-1], np.log(self._empirical(raw)), inside), dtype=np.float64
        )

    def log_tail_probability(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Natural log of the tail probability (no floor: it keeps falling with the raw score).

        Above the tail's start it is the lower of the empirical and the fitted tail;
        beyond the largest reference score it falls from there at the tail's rate, so
        it never flattens on the empirical floor ``1/(n+1)``.
        """
        raw_arr = np.asarray(raw, dtype=np.float64)
        log_p = self._log_empirical(raw_arr)
        if not np.isfinite(self.tail_start):
            return log_p
        top = float(self.sorted_scores[-1])
        within = (raw_arr > self.tail_start) & (raw_arr <= top)
        log_p[within] = np.minimum(log_p[within], self._log_tail(raw_arr[within]))
        beyond = raw_arr > top
        if beyond.any():
            at_top = min(float(self._log_empirical(np.array([top]))[0]), self._log_tail(top))
            log_p[beyond] = at_top - (raw_arr[beyond] - top) / self.tail_scale
        return np.asarray(log_p, dtype=np.float64)

    def _log_tail(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64] | float:
        return self.log_tail_probability_at_start - (np.asarray(raw) - self.tail_start) / (
            self.tail_scale
        )

    def evidence(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``-20·log10(p)``, unbounded: what ensembles combine and what keeps rankings tie-free."""
        return np.asarray(
            -SCORE_SCALE * self.log_tail_probability(raw) / _LOG10 + 0.0, dtype=np.float64
        )

    def score(self, raw: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Published 0–100 score.

        >>> cal = TailCalibrator.fit(np.arange(999.0))
        >>> cal.score([-1.0, 500.0, 980.0]).round(1).tolist()
        [0.0, 6.0, 34.0]
        >>> # beyond the reference the tail keeps rising, and never reaches 100
        >>> [round(float(s), 1) for s in cal.score([1000.0, 1010.0, 1100.0, 5000.0])]
        [57.4, 73.2, 97.4, 99.9]
        """
        return published(self.evidence(raw))
