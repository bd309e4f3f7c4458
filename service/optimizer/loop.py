"""The optimizer role: keep the baseline current with no person in the loop.

Each tick, under a lease in the store (so any number of optimizers may run and
only one acts), it does at most one thing per step, in this order:

1. **guard** — a champion promoted within ``AUDITLENS_GUARD_HOURS`` whose live
   alert rate is far off its target, or whose scoring errors pass their limit,
   is rolled back to the version before it;
2. **gate** — a challenger nobody has decided on is judged on its shadow window
   (:mod:`service.optimizer.gate`) and promoted or refused, the evidence written
   to the MLflow version and run;
3. **retrain** — with no challenger pending, a new one is trained from the
   archive when the schedule says so or the champion's live feature drift crosses
   ``AUDITLENS_DRIFT_PSI_MAX`` or its alert rate leaves its bounds.

Every decision is recorded in the store (``model_decisions``), which is both the
optimizer's memory between ticks and the timeline ``auditlens report`` shows.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from models import registry
from models.drift import within_factor
from models.registry_config import RegistryConfig
from service import metrics
from service.config import Settings
from service.optimizer.evidence import VersionWindow, shadow_evidence, version_window
from service.optimizer.gate import GateCriteria, evaluate
from service.store.repository import Store
from service.windows import parse_window

log = logging.getLogger(__name__)

LEASE = "optimizer"
DECIDED_BY = "optimizer"
GATE_ARTIFACT = "gate/evidence.json"
GUARD_ARTIFACT = "guard/evidence.json"

# Trains a challenger from the archive since a day; returns its version.
RetrainFn = Callable[[date], str]


@dataclass(frozen=True)
class Action:
    """What one step of a tick did (``kind`` is a decision kind, or ``waiting``/``idle``)."""

    kind: str
    version: str | None
    reason: str


class Optimizer:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        config: RegistryConfig,
        retrain_fn: RetrainFn | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        holder: str | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.config = config
        self.model_name = config.model_name
        self.retrain_fn = retrain_fn or self._retrain_from_archive
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.criteria = GateCriteria.from_settings(settings)
        self._stop = threading.Event()

    # -- the loop --------------------------------------------------------------

    def run(self) -> None:
        """Tick every ``AUDITLENS_OPTIMIZER_INTERVAL_S`` until :meth:`stop`."""
        log.info("optimizer %s started", self.holder)
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # a registry or store outage: try again next tick
                log.exception("optimizer tick failed; retrying in %gs", self.interval)
            self._stop.wait(self.interval)
        self.store.release_lease(LEASE, self.holder)

    def stop(self) -> None:
        self._stop.set()

    @property
    def interval(self) -> float:
        return self.settings.optimizer_interval_s

    def tick(self) -> list[Action]:
        """One look at the models; what it did, step by step."""
        metrics.OPTIMIZER_LAST_TICK.set(time.time())
        if not self.store.acquire_lease(LEASE, self.holder, self.settings.optimizer_lease_s):
            holder = self.store.lease_holder(LEASE)
            return [Action("waiting", None, f"another optimizer ({holder}) holds the lease")]
        with self._renewing_lease():
            champion = registry.alias_version(self.config, "champion")
            if champion is None:
                return [Action("idle", None, "no champion yet: promote a first version by hand")]
            actions = [self._guard(champion)]
            if actions[0].kind == "rolled_back":
                return actions
            actions.append(self._gate(champion))
            if actions[-1].kind in ("waiting", "idle"):
                actions.append(self._maybe_retrain(champion, pending=actions[-1].kind))
        for action in actions:
            if action.kind not in ("waiting", "idle"):
                metrics.OPTIMIZER_ACTIONS.labels(action.kind).inc()
                log.info("optimizer: %s %s: %s", action.kind, action.version, action.reason)
        return actions

    @contextmanager
    def _renewing_lease(self) -> Iterator[None]:
        """Hold the lease while a step runs, however long (a retrain takes minutes)."""
        done = threading.Event()
        every = self.settings.optimizer_lease_s / 3

        def renew() -> None:
            while not done.wait(every):
                try:
                    self.store.acquire_lease(LEASE, self.holder, self.settings.optimizer_lease_s)
                except Exception:
                    log.exception("could not renew the optimizer lease")

        renewer = threading.Thread(target=renew, name="optimizer-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            done.set()
            renewer.join()

    # -- 1. the guard after a promotion ----------------------------------------

    def _guard(self, champion: str) -> Action:
        promoted = self._latest(champion, ("promoted", "rolled_back"))
        if promoted is None or promoted.kind != "promoted":
            return Action("idle", champion, "not promoted by the optimizer: no guard")
        since = promoted.decided_at
        if self.clock() - since > timedelta(hours=self.settings.guard_hours):
            return Action("idle", champion, "guard period over")
        live = version_window(
            self.store,
            self.model_name,
            champion,
            since,
            self.settings.drift_psi_max,
            until=self.clock(),
        )
        if live.events < self.settings.guard_min_events:
            return Action("waiting", champion, f"guard: {live.events} live events so far")
        breach = self._breach(live)
        if breach is None:
            return Action("idle", champion, "guard: within bounds")
        restored = registry.rollback(self.config)
        if restored is None:
            return Action("waiting", champion, f"guard: {breach}; nothing to roll back to")
        evidence = {"restored": restored, "champion": live.to_dict(), "since": since.isoformat()}
        reason = f"{breach}; champion back to version {restored}"
        registry.record_evidence(
            self.config,
            champion,
            {"guard.decision": "rolled_back", "guard.reason": reason},
            evidence,
            GUARD_ARTIFACT,
        )
        self.store.record_decision(
            self.model_name, champion, "rolled_back", reason, evidence, DECIDED_BY
        )
        return Action("rolled_back", champion, reason)

    def _breach(self, live: VersionWindow) -> str | None:
        factor = self.settings.guard_alert_factor
        target, rate = live.target_alert_rate, live.alert_rate
        if target and rate is not None and not within_factor(rate, target, factor):
            return f"alert rate {rate:.3%} is more than ×{factor:g} off its target {target:.2%}"
        errors = live.error_rate
        if errors is not None and errors > self.settings.guard_max_error_rate:
            return (
                f"scoring errors {errors:.2%} of events (limit "
                f"{self.settings.guard_max_error_rate:.2%})"
            )
        return None

    # -- 2. the promotion gate --------------------------------------------------

    def _gate(self, champion: str) -> Action:
        challenger = registry.alias_version(self.config, "challenger")
        if challenger is None or challenger == champion:
            return Action("idle", challenger, "no challenger")
        decided = self._latest(challenger, ("approved", "promoted", "refused", "rolled_back"))
        if decided is not None:
            return Action("idle", challenger, f"already {decided.kind}: {decided.reason}")
        created = registry.version_info(self.config, challenger)["created"]
        since = datetime.fromtimestamp(created / 1000, UTC)
        now = self.clock()
        evidence = shadow_evidence(
            self.store,
            self.model_name,
            champion,
            challenger,
            since,
            now,
            self.settings.drift_psi_max,
        )
        decision = evaluate(evidence, self.criteria, now)
        if decision.outcome == "wait":
            return Action("waiting", challenger, decision.reason)
        record = {"evidence": evidence.to_dict(), "gate": decision.to_dict()}
        if decision.outcome == "refuse":
            kind, reason = "refused", decision.reason
        elif self.settings.auto_promote:
            kind, reason = "promoted", decision.reason
            registry.promote(self.config, challenger)
        else:
            kind = "approved"
            reason = f"{decision.reason}; AUDITLENS_AUTO_PROMOTE is off: promote by hand"
        registry.record_evidence(
            self.config,
            challenger,
            {"gate.decision": kind, "gate.reason": reason},
            record,
            GATE_ARTIFACT,
        )
        self.store.record_decision(self.model_name, challenger, kind, reason, record, DECIDED_BY)
        return Action(kind, challenger, reason)

    # -- 3. retraining ------------------------------------------------------------

    def _maybe_retrain(self, champion: str, pending: str) -> Action:
        if pending == "waiting":  # a challenger is in its shadow window
            return Action("idle", None, "a challenger is being shadow-scored")
        trigger = self._retrain_trigger(champion)
        if trigger is None:
            return Action("idle", None, "no retrain due")
        from training.retrain import window_start  # the training stack: only when retraining

        since = window_start(
            self.settings.resolved_archive_url,
            self.settings.retrain_window_days,
            self.clock().date(),
        )
        try:
            version = self.retrain_fn(since)
        except Exception as exc:
            reason = f"{trigger}; training failed: {exc}"
            self.store.record_decision(
                self.model_name,
                champion,
                "retrain_failed",
                reason,
                {"trigger": trigger},
                DECIDED_BY,
            )
            return Action("retrain_failed", champion, reason)
        evidence = {"trigger": trigger, "since": since.isoformat(), "champion": champion}
        self.store.record_decision(
            self.model_name, version, "retrained", trigger, evidence, DECIDED_BY
        )
        return Action("retrained", version, trigger)

    def _retrain_trigger(self, champion: str) -> str | None:
        """Why a retrain is due now (None: it is not)."""
        now = self.clock()
        last = self._latest(None, ("retrained", "retrain_failed"))
        if last is not None:
            base = last.decided_at
            if now - base < timedelta(hours=self.settings.retrain_cooldown_h):
                return None
        else:
            created = registry.version_info(self.config, champion)["created"]
            base = datetime.fromtimestamp(created / 1000, UTC)
        window = parse_window(self.settings.optimizer_window)
        live = version_window(
            self.store,
            self.model_name,
            champion,
            now - timedelta(seconds=window),
            self.settings.drift_psi_max,
            until=now,
        )
        drift = self._drift(live)
        if drift is not None:
            return f"drift over {self.settings.optimizer_window}: {drift}"
        if now - base >= timedelta(hours=self.settings.retrain_interval_h):
            return f"schedule: {self.settings.retrain_interval_h:g} h since {base:%Y-%m-%d %H:%M}"
        return None

    def _drift(self, live: VersionWindow) -> str | None:
        """Feature drift or an alert rate out of bounds; ``None``: neither.

        The score PSI is evidence (the gate compares it between versions) but no
        trigger: the reference tails come from a calibration sample scored against a
        history still growing through training, so a healthy model's live scores sit
        measurably below them (0.43 on the generator's own normal events) and a
        trigger on it would retrain a model that fits.
        """
        if live.events < self.settings.guard_min_events:
            return None
        limit = self.settings.drift_psi_max
        if live.drifted_features:
            shown = ", ".join(live.drifted_features[:5])
            return f"feature PSI {live.max_feature_psi:.3f} > {limit:g} ({shown})"
        factor = self.settings.alert_rate_factor
        target, rate = live.target_alert_rate, live.alert_rate
        if target and rate is not None and not within_factor(rate, target, factor):
            return f"alert rate {rate:.3%} outside ×{factor:g} of its target {target:.2%}"
        return None

    def _retrain_from_archive(self, since: date) -> str:
        from training.retrain import retrain

        result = retrain(
            self.config,
            self.settings.resolved_archive_url,
            self.settings.resolved_store_url,
            since,
            self.settings.alert_rate,
        )
        return result.training.version

    # -- helpers --------------------------------------------------------------------

    def _latest(self, version: str | None, kinds: tuple[str, ...]) -> Any:
        """The newest decision of one of ``kinds`` (about ``version``, or any)."""
        found = self.store.decisions(self.model_name, version, kinds=kinds)
        return found[-1] if found else None
