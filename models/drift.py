"""The training distribution a model version is compared against once it runs.

A model is only as good as the resemblance between what it scores and what it
was trained on. Each version keeps, from its training data, quantile bins of
every feature and the distribution of its calibrated tail probabilities; live
counts in the same bins then give, without keeping a single event:

* the **PSI** (population stability index) of each feature: how far the live
  share of events per bin moved from the training share (below 0.1 steady,
  0.1–0.2 moving, above 0.2 a shift worth retraining for — the usual reading);
* a **uniformity test** of the calibrated tail probabilities ``p = 10^(−s/20)``:
  calibration makes ``p`` uniform on data like the training data, so a
  chi-square test against the uniform distribution catches a change that no
  single feature shows (for example, events that are unusual only together);
* the live **alert rate** against the rate the model was calibrated for.

Everything here is counts and arithmetic on them, so scorers can add their
counts up in the store and any process can compute the same report.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.calibration import KNEE, SCORE_SCALE

QUANTILES = np.linspace(0.1, 0.9, 9)  # deciles: with the extremes, up to 11 bins per feature
TAIL_BINS = 10  # tail probability in tenths: each holds 10 % when nothing changed
RESOLUTION = 0.05  # of a feature's 1st-99th percentile range: finer differences are noise
PSI_FLOOR = 1e-4  # an empty bin counts as this share, so the PSI stays finite


@dataclass(frozen=True)
class FeatureBins:
    """One feature's bin edges (bin ``i`` holds ``edges[i-1] <= x < edges[i]``) and the
    training share of each of its ``len(edges) + 1`` bins."""

    edges: tuple[float, ...]
    expected: tuple[float, ...]

    def counts(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        bins = np.searchsorted(np.asarray(self.edges), values, side="right")
        return np.bincount(bins, minlength=len(self.expected)).astype(np.int64)


@dataclass(frozen=True)
class DriftReference:
    """A model version's training distribution: feature bins, tail bins, target rate."""

    features: dict[str, FeatureBins]
    tail_expected: tuple[float, ...]
    target_alert_rate: float
    training_events: int

    @classmethod
    def fit(
        cls,
        X: npt.NDArray[np.float64],
        feature_names: tuple[str, ...],
        calibration_scores: npt.NDArray[np.float64],
        target_alert_rate: float,
    ) -> DriftReference:
        """Bins from the training matrix; the tail reference from the scores of the
        calibration sample (the events calibration made uniform)."""
        features = {}
        for column, name in enumerate(feature_names):
            values = X[:, column]
            edges = tuple(float(e) for e in bin_edges(values))
            bins = FeatureBins(edges, (0.0,) * (len(edges) + 1))
            counts = bins.counts(values)
            features[name] = FeatureBins(edges, tuple((counts / max(len(values), 1)).tolist()))
        tail = tail_counts(calibration_scores)
        return cls(
            features=features,
            tail_expected=tuple((tail / max(int(tail.sum()), 1)).tolist()),
            target_alert_rate=target_alert_rate,
            training_events=int(X.shape[0]),
        )

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.features)

    @property
    def width(self) -> int:
        """Columns of a feature-count matrix: the most bins any feature has."""
        return max((len(b.expected) for b in self.features.values()), default=1)

    def feature_counts(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Events per feature (rows, in ``feature_names`` order) and bin (columns)."""
        counts = np.zeros((len(self.features), self.width), dtype=np.int64)
        for row, bins in enumerate(self.features.values()):
            counts[row, : len(bins.expected)] = bins.counts(X[:, row])
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "features": {
                name: {"edges": list(b.edges), "expected": list(b.expected)}
                for name, b in self.features.items()
            },
            "tail_expected": list(self.tail_expected),
            "target_alert_rate": self.target_alert_rate,
            "training_events": self.training_events,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DriftReference:
        return cls(
            features={
                name: FeatureBins(tuple(b["edges"]), tuple(b["expected"]))
                for name, b in data["features"].items()
            },
            tail_expected=tuple(data["tail_expected"]),
            target_alert_rate=float(data["target_alert_rate"]),
            training_events=int(data["training_events"]),
        )


def bin_edges(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Edges between the values a feature's bins are centred on: each of its values when it
    has few (a flag, a small count), else its minimum, deciles and maximum snapped to
    :data:`RESOLUTION` of its central range; each edge in the widest empty stretch of
    the training values between two centres.

    Never at a value: a feature often piles up on one value (a familiar client's
    surprise, say) or on a smear of values a hair apart (a rate against a baseline
    that is ``-0.00002`` here and ``-0.00007`` there), which moves a little as the
    history grows; an edge through a pile would move all of it to the next bin, and a
    shift that means nothing would read as drift. Snapping merges the deciles inside
    a smear; the widest gap keeps every edge away from where the values are.

    >>> bin_edges(np.array([0.0, 0.0, 1.0])).tolist()
    [0.5]
    >>> len(bin_edges(np.arange(1000.0)))
    10
    >>> bin_edges(np.zeros(5)).tolist()
    []
    >>> smear = np.r_[-np.linspace(1e-5, 9e-5, 600), np.linspace(1.0, 10.0, 400)]
    >>> edges = bin_edges(smear)
    >>> float(edges[0])  # the whole smear below the first edge: one bin
    0.5
    >>> pile = np.r_[np.full(100, 2.14), np.linspace(0.0, 10.0, 900)]
    >>> bool(np.abs(bin_edges(pile) - 2.14).min() > 0.005)  # no edge through the pile
    True
    """
    distinct = np.unique(values)
    if len(distinct) <= len(QUANTILES) + 2:
        return np.asarray((distinct[:-1] + distinct[1:]) / 2.0, dtype=np.float64)
    low, high = np.quantile(values, [0.01, 0.99])
    step = (high - low) * RESOLUTION or (distinct[-1] - distinct[0]) * RESOLUTION
    deciles = np.quantile(values, QUANTILES, method="inverted_cdf")
    centres = np.unique(np.round(np.r_[distinct[0], deciles, distinct[-1]] / step) * step)
    edges = []
    for a, b in itertools.pairwise(centres):
        inside = distinct[(distinct > a) & (distinct < b)]
        points = np.r_[a, inside, b]
        widest = int(np.argmax(np.diff(points)))
        edges.append((points[widest] + points[widest + 1]) / 2.0)
    return np.asarray(edges, dtype=np.float64)


def tail_probability(scores: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The calibrated tail probability of published scores (exact up to the knee;
    beyond it all lie below 1e-4, in the first bin either way).

    >>> tail_probability([0.0, 20.0, 40.0]).round(3).tolist()
    [1.0, 0.1, 0.01]
    """
    s = np.minimum(np.asarray(scores, dtype=np.float64), KNEE)
    return np.asarray(10.0 ** (-s / SCORE_SCALE), dtype=np.float64)


def tail_counts(scores: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Events per tenth of tail probability, [0, 0.1) first.

    >>> tail_counts([0.0, 10.0, 40.0, 99.0]).tolist()
    [2, 0, 0, 1, 0, 0, 0, 0, 0, 1]
    """
    bins = np.minimum((tail_probability(scores) * TAIL_BINS).astype(np.int64), TAIL_BINS - 1)
    return np.bincount(bins, minlength=TAIL_BINS).astype(np.int64)


def psi(expected: npt.ArrayLike, observed_counts: npt.ArrayLike) -> float:
    """Population stability index of live counts against training shares; 0 when the
    counts are empty (no evidence of anything).

    >>> psi([0.5, 0.5], [50, 50])
    0.0
    >>> round(psi([0.5, 0.5], [90, 10]), 3)
    0.879
    """
    counts = np.asarray(observed_counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return 0.0
    e = np.maximum(np.asarray(expected, dtype=np.float64), PSI_FLOOR)
    o = np.maximum(counts[: len(e)] / total, PSI_FLOOR)
    return float(max(np.sum((o - e) * np.log(o / e)), 0.0))


@dataclass(frozen=True)
class Uniformity:
    """Chi-square test of tail-probability bins against the uniform distribution."""

    statistic: float
    p_value: float
    events: int


def uniformity(counts: npt.ArrayLike) -> Uniformity:
    """A small ``p_value`` says the live calibrated scores are not what calibration
    promises on data like the training data.

    >>> uniformity([100] * 10).p_value
    1.0
    >>> uniformity([300] + [100] * 9).p_value < 1e-6
    True
    """
    from scipy.stats import chi2  # scipy.stats takes seconds to import: only when asked

    observed = np.asarray(counts, dtype=np.float64)
    n = float(observed.sum())
    if n == 0:
        return Uniformity(0.0, 1.0, 0)
    expected = n / len(observed)
    statistic = float(np.sum((observed - expected) ** 2) / expected)
    p_value = float(chi2.sf(statistic, df=len(observed) - 1))
    return Uniformity(statistic, p_value if math.isfinite(p_value) else 0.0, int(n))


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float
    observed: tuple[float, ...]  # live share per bin
    expected: tuple[float, ...]  # training share per bin
    edges: tuple[float, ...]


@dataclass(frozen=True)
class DriftReport:
    """One window's drift for one model version, from summed counts."""

    events: int
    alerts: int
    target_alert_rate: float
    features: tuple[FeatureDrift, ...]  # the largest PSI first
    score_psi: float
    tail: Uniformity
    tail_observed: tuple[float, ...]
    tail_expected: tuple[float, ...]

    @property
    def alert_rate(self) -> float | None:
        return self.alerts / self.events if self.events else None

    @property
    def max_psi(self) -> float:
        return max((f.psi for f in self.features), default=0.0)


def drift_report(
    reference: DriftReference,
    events: int,
    alerts: int,
    feature_counts: npt.NDArray[np.int64],
    tail_bin_counts: npt.NDArray[np.int64],
) -> DriftReport:
    """PSI per feature, the tail test and the alert rate of one window's counts."""
    features = []
    for row, (name, bins) in enumerate(reference.features.items()):
        counts = (
            feature_counts[row, : len(bins.expected)]
            if row < feature_counts.shape[0]
            else np.zeros(len(bins.expected), dtype=np.int64)
        )
        total = max(int(counts.sum()), 1)
        features.append(
            FeatureDrift(
                name,
                psi(bins.expected, counts),
                tuple((counts / total).tolist()),
                bins.expected,
                bins.edges,
            )
        )
    features.sort(key=lambda f: f.psi, reverse=True)
    tail_total = max(int(tail_bin_counts.sum()), 1)
    return DriftReport(
        events=events,
        alerts=alerts,
        target_alert_rate=reference.target_alert_rate,
        features=tuple(features),
        score_psi=psi(reference.tail_expected, tail_bin_counts),
        tail=uniformity(tail_bin_counts),
        tail_observed=tuple((tail_bin_counts / tail_total).tolist()),
        tail_expected=reference.tail_expected,
    )


def rate_gap(rate: float, target: float) -> float:
    """Distance of an alert rate from its target on a log scale (0 = on target).

    >>> round(rate_gap(0.01, 0.005), 3), round(rate_gap(0.0025, 0.005), 3)
    (0.693, 0.693)
    """
    return abs(math.log(max(rate, 1e-6) / target))


def within_factor(rate: float, target: float, factor: float) -> bool:
    """Whether an alert rate is at most ``factor`` off its target, either way."""
    return target / factor <= rate <= target * factor
