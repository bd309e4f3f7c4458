"""The scorer's live drift counts: what it scored, binned like its model's training data.

Every scored batch adds its feature-bin counts, tail-probability counts, events
and alerts to the current time bucket of the model version that scored it
(:data:`BUCKET_S` of wall-clock time: drift is about what the scorer sees now,
whatever the events' own timestamps). The scorer's gauges are computed from its
own buckets; the buckets also go to the store at each checkpoint, where the
API and the CLI sum every scorer's rows for the same windows.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Concatenate, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from models.bundle import LoadedModel
from models.drift import TAIL_BINS, DriftReference, DriftReport, drift_report, tail_counts
from service import metrics
from service.store.drift import DriftTotals
from service.store.repository import Store
from service.store.tables import DriftCount
from service.windows import parse_window

log = logging.getLogger(__name__)
__all__ = ["BUCKET_S", "KEEP_DAYS", "WINDOWS", "DriftMonitor", "parse_window", "stored_reports"]
BUCKET_S = 300
WINDOWS: dict[str, int] = {"1h": 3600, "24h": 86400}  # name → seconds: gauges and the API
KEEP_DAYS = 7  # buckets older than this are removed from the store
PRUNE_EVERY_S = 3600.0
P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class _Bucket:
    events: int = 0
    alerts: int = 0
    features: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 0), np.int64))
    tails: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(TAIL_BINS, np.int64))
    errors: int = 0
    cpu_seconds: float = 0.0
    dirty: bool = True


def _locked(
    method: Callable[Concatenate[DriftMonitor, P], R],
) -> Callable[Concatenate[DriftMonitor, P], R]:
    """Run under the monitor's lock: the scoring thread counts while the main thread
    flushes at a checkpoint."""

    def locked(monitor: DriftMonitor, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with monitor._lock:
            return method(monitor, *args, **kwargs)

    functools.update_wrapper(locked, method)
    return locked


class DriftMonitor:
    """One scorer's buckets for the model version it scores with now.

    A ``shadow`` monitor counts for the challenger the scorer shadow-scores: its rows
    are marked as such (and named ``<instance>:shadow``) and it publishes no gauges,
    which describe the champion only.
    """

    def __init__(
        self, instance: str, clock: Callable[[], float] = time.time, shadow: bool = False
    ) -> None:
        self.instance = f"{instance}:shadow" if shadow else instance
        self.shadow = shadow
        self.clock = clock
        self.model_name = ""
        self.version = ""
        self.reference: DriftReference | None = None
        self.buckets: dict[int, _Bucket] = {}
        self._reference_saved = False
        self._pruned_at = float("-inf")
        self._lock = threading.RLock()

    @_locked
    def use(self, model: LoadedModel) -> None:
        """Count for ``model`` from now on (a new version starts from empty buckets)."""
        if (model.name, model.version) == (self.model_name, self.version):
            return
        self.model_name, self.version = model.name, model.version
        self.reference = getattr(model.model, "reference", None)
        self.buckets = {}
        self._reference_saved = False
        if self.reference is None:
            log.info("%s version %s has no training reference: drift is not measured", *self.key)
        if self.shadow:
            return
        for window in WINDOWS:  # the previous version's figures no longer describe anything
            metrics.ALERT_RATE.labels(window).set(float("nan"))

    @property
    def key(self) -> tuple[str, str]:
        return self.model_name, self.version

    @_locked
    def observe(
        self,
        X: npt.NDArray[np.float64],
        scores: npt.NDArray[np.float64],
        alerts: int,
        cpu_seconds: float = 0.0,
    ) -> None:
        """Add one scored batch (its feature matrix, published scores, alert count and
        the CPU time its scoring took)."""
        if self.reference is None or X.shape[0] == 0:
            return
        bucket = self._bucket()
        bucket.events += X.shape[0]
        bucket.alerts += alerts
        bucket.cpu_seconds += cpu_seconds
        bucket.features += self.reference.feature_counts(X)
        bucket.tails += tail_counts(scores)
        bucket.dirty = True

    @_locked
    def observe_errors(self, events: int) -> None:
        """Count events that failed scoring (dead-lettered): the optimizer's guard reads them."""
        if self.reference is None or events == 0:
            return
        bucket = self._bucket()
        bucket.errors += events
        bucket.dirty = True

    def _bucket(self) -> _Bucket:
        assert self.reference is not None
        start = int(self.clock()) // BUCKET_S * BUCKET_S
        bucket = self.buckets.get(start)
        if bucket is None:
            width = self.reference.width
            features = np.zeros((len(self.reference.features), width), np.int64)
            bucket = self.buckets[start] = _Bucket(features=features)
        return bucket

    @_locked
    def report(self, window_s: int) -> DriftReport | None:
        """This scorer's drift over the last ``window_s`` seconds (None: not measured)."""
        if self.reference is None:
            return None
        since = self.clock() - window_s
        chosen = [b for start, b in self.buckets.items() if start + BUCKET_S > since]
        width = self.reference.width
        features = sum(
            (b.features for b in chosen), np.zeros((len(self.reference.features), width), np.int64)
        )
        tails = sum((b.tails for b in chosen), np.zeros(TAIL_BINS, np.int64))
        return drift_report(
            self.reference,
            sum(b.events for b in chosen),
            sum(b.alerts for b in chosen),
            features,
            tails,
        )

    def update_metrics(self) -> None:
        for window, seconds in WINDOWS.items():
            report = self.report(seconds)
            if report is None:
                continue
            rate = report.alert_rate
            metrics.ALERT_RATE.labels(window).set(rate if rate is not None else float("nan"))
            metrics.SCORE_DRIFT_PSI.labels(window).set(report.score_psi)
            metrics.TAIL_UNIFORMITY_P.labels(window).set(report.tail.p_value)
            for feature in report.features:
                metrics.FEATURE_DRIFT_PSI.labels(feature.feature, window).set(feature.psi)
        if self.reference is not None:
            metrics.ALERT_RATE_TARGET.set(self.reference.target_alert_rate)

    @_locked
    def flush(self, store: Store) -> None:
        """Write the buckets that changed (and, once, the reference) to the store; forget
        local buckets past the longest window. A failure leaves them for the next flush."""
        if self.reference is None:
            return
        if not self._reference_saved:
            store.save_drift_reference(self.model_name, self.version, self.reference.to_dict())
            self._reference_saved = True
        dirty = [(start, b) for start, b in self.buckets.items() if b.dirty]
        now = datetime.now(UTC)
        store.save_drift_counts(
            [
                DriftCount(
                    model_name=self.model_name,
                    model_version=self.version,
                    bucket_start=datetime.fromtimestamp(start, UTC),
                    instance=self.instance,
                    events=b.events,
                    alerts=b.alerts,
                    feature_counts=b.features.tolist(),
                    tail_counts=b.tails.tolist(),
                    errors=b.errors,
                    cpu_seconds=b.cpu_seconds,
                    shadow=self.shadow,
                    updated_at=now,
                )
                for start, b in dirty
            ]
        )
        for _, bucket in dirty:
            bucket.dirty = False
        horizon = self.clock() - max(WINDOWS.values()) - BUCKET_S
        self.buckets = {s: b for s, b in self.buckets.items() if s >= horizon}
        if self.clock() - self._pruned_at >= PRUNE_EVERY_S:  # any scorer may; one is enough
            store.prune_drift_counts(
                datetime.fromtimestamp(self.clock(), UTC) - timedelta(days=KEEP_DAYS)
            )
            self._pruned_at = self.clock()
        if not self.shadow:
            self.update_metrics()


def stored_reports(
    store: Store,
    model_name: str,
    version: str,
    windows: dict[str, int],
    now: datetime | None = None,
    shadow: bool = False,
) -> dict[str, DriftReport] | None:
    """Every scorer's drift for ``version`` over each window (name → seconds), from the
    store (``shadow``: its counts as a challenger); None when no scorer recorded the
    version's training reference."""
    data = store.drift_reference(model_name, version)
    if data is None:
        return None
    reference = DriftReference.from_dict(data)
    now = now or datetime.now(UTC)
    return {
        name: report_since(
            store, reference, model_name, version, now - timedelta(seconds=s), shadow
        )[0]
        for name, s in windows.items()
    }


def report_since(
    store: Store,
    reference: DriftReference,
    model_name: str,
    version: str,
    since: datetime,
    shadow: bool = False,
) -> tuple[DriftReport, DriftTotals]:
    """Every scorer's drift for ``version`` since ``since``, from the store, and the totals
    it was computed from. Buckets are whole: the one ``since`` falls in counts in full."""
    start = since - timedelta(seconds=BUCKET_S)
    totals = store.drift_totals(
        model_name, version, start, reference.width, TAIL_BINS, shadow=shadow
    )
    features = totals.feature_counts
    if features.shape[0] == 0:
        features = np.zeros((len(reference.features), reference.width), np.int64)
    report = drift_report(reference, totals.events, totals.alerts, features, totals.tail_counts)
    return report, totals
