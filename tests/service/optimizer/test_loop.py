"""The optimizer's decisions on live figures: promote, refuse, roll back, retrain once."""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from mlflow import MlflowClient

from models import registry
from models.bundle import LoadedModel
from models.drift import FeatureBins
from models.registry_config import RegistryConfig
from service.config import Settings
from service.optimizer.evidence import version_window
from service.optimizer.loop import GATE_ARTIFACT, Optimizer
from service.store.repository import Store
from tests.service.optimizer.conftest import (
    model_named,
    register_versions,
    score_live,
    shifted_feature,
)


def kinds(store: Store, config: RegistryConfig) -> list[tuple[str, str]]:
    return [(d.model_version, d.kind) for d in store.decisions(config.model_name)]


def champion_and_challenger(config: RegistryConfig) -> tuple[str, str]:
    old, new = register_versions(config, 2)
    registry.promote(config, old)
    registry.set_alias(config, "challenger", new)
    return old, new


def not_retraining(since: date) -> str:
    raise AssertionError("no retrain expected")


def test_a_challenger_as_good_as_the_champion_is_promoted_with_its_evidence_in_mlflow(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
    scoring_model: LoadedModel,
    tmp_path: Path,
) -> None:
    model = model_named(scoring_model, registry_config)
    old, new = champion_and_challenger(registry_config)
    score_live(store, model, old, 4000, alerts=20)
    score_live(store, model, new, 4000, alerts=22, shadow=True)

    actions = Optimizer(optimizer_settings, store, registry_config, not_retraining).tick()

    assert [a.kind for a in actions if a.version == new] == ["promoted"], actions
    assert registry.alias_version(registry_config, "champion") == new
    assert registry.alias_version(registry_config, "challenger") is None
    info = registry.version_info(registry_config, new)
    assert info["tags"]["gate.decision"] == "promoted"
    assert f"as good as version {old}" in info["tags"]["gate.reason"]
    run_tags = MlflowClient().get_run(info["run_id"]).data.tags
    assert run_tags["gate.decision"] == "promoted"
    evidence_file = MlflowClient().download_artifacts(info["run_id"], GATE_ARTIFACT, str(tmp_path))
    evidence = json.loads(Path(evidence_file).read_text())
    assert evidence["evidence"]["challenger"]["events"] == 4000
    assert evidence["evidence"]["champion"]["alerts"] == 20
    assert evidence["gate"]["outcome"] == "promote"
    assert kinds(store, registry_config) == [(new, "promoted")]


def test_a_bad_challenger_is_refused_and_stays_challenger_with_the_reason(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
    scoring_model: LoadedModel,
) -> None:
    model = model_named(scoring_model, registry_config)
    old, new = champion_and_challenger(registry_config)
    score_live(store, model, old, 4000, alerts=20)
    score_live(store, model, new, 4000, alerts=800, shadow=True)  # 20 %, target 0.5 %
    optimizer = Optimizer(
        optimizer_settings.model_copy(update={"retrain_interval_h": 1000}),
        store,
        registry_config,
        not_retraining,
    )

    optimizer.tick()
    optimizer.tick()  # decided once: the second tick leaves it alone

    assert registry.alias_version(registry_config, "champion") == old
    assert registry.alias_version(registry_config, "challenger") == new
    tags = registry.version_info(registry_config, new)["tags"]
    assert tags["gate.decision"] == "refused"
    assert tags["gate.reason"].startswith("alert rate: 20.000% vs champion 0.500%")
    assert kinds(store, registry_config) == [(new, "refused")]


def test_the_gate_waits_for_enough_shadow_scored_events(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
    scoring_model: LoadedModel,
) -> None:
    model = model_named(scoring_model, registry_config)
    old, new = champion_and_challenger(registry_config)
    score_live(store, model, old, 4000, alerts=20)
    score_live(store, model, new, 300, alerts=1, shadow=True)

    actions = Optimizer(optimizer_settings, store, registry_config, not_retraining).tick()

    waiting = [a for a in actions if a.version == new]
    assert [a.kind for a in waiting] == ["waiting"]
    assert "300 shadow-scored" in waiting[0].reason
    assert registry.alias_version(registry_config, "champion") == old
    assert kinds(store, registry_config) == []


@pytest.mark.parametrize(
    ("alerts", "errors", "why"),
    [(1600, 0, "alert rate 40.000%"), (20, 200, "scoring errors 4.76%")],
    ids=["alert-rate", "scoring-errors"],
)
def test_a_champion_that_misbehaves_after_its_promotion_is_rolled_back(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
    scoring_model: LoadedModel,
    alerts: int,
    errors: int,
    why: str,
) -> None:
    model = model_named(scoring_model, registry_config)
    old, new = register_versions(registry_config, 2)
    registry.promote(registry_config, old)
    registry.promote(registry_config, new)
    store.record_decision(registry_config.model_name, new, "promoted", "gate", {}, "optimizer")
    score_live(store, model, new, 4000, alerts=alerts, errors=errors)

    actions = Optimizer(optimizer_settings, store, registry_config, not_retraining).tick()

    assert [a.kind for a in actions] == ["rolled_back"]
    assert why in actions[0].reason
    assert registry.alias_version(registry_config, "champion") == old
    assert registry.version_info(registry_config, new)["tags"]["guard.decision"] == "rolled_back"
    assert kinds(store, registry_config) == [(new, "promoted"), (new, "rolled_back")]


def test_a_champion_within_its_bounds_is_kept(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
    scoring_model: LoadedModel,
) -> None:
    model = model_named(scoring_model, registry_config)
    old, new = register_versions(registry_config, 2)
    registry.promote(registry_config, old)
    registry.promote(registry_config, new)
    store.record_decision(registry_config.model_name, new, "promoted", "gate", {}, "optimizer")
    score_live(store, model, new, 4000, alerts=25, errors=3)

    Optimizer(optimizer_settings, store, registry_config, not_retraining).tick()

    assert registry.alias_version(registry_config, "champion") == new


def test_drift_on_a_feature_triggers_a_retrain_and_a_steady_stream_does_not(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
    scoring_model: LoadedModel,
) -> None:
    model = model_named(scoring_model, registry_config)
    (champion,) = register_versions(registry_config, 1)
    registry.promote(registry_config, champion)
    trained: list[date] = []

    def retrain(since: date) -> str:
        trained.append(since)
        return "2"

    optimizer = Optimizer(optimizer_settings, store, registry_config, retrain)
    score_live(store, model, champion, 4000, alerts=20)
    assert [a.reason for a in optimizer.tick()][-1] == "no retrain due"

    score_live(store, model, champion, 20000, alerts=100, shift=1000.0)
    actions = optimizer.tick()

    assert actions[-1].kind == "retrained"
    assert actions[-1].reason.startswith("drift over 24h: feature PSI")
    assert shifted_feature(model) in actions[-1].reason
    assert len(trained) == 1
    assert kinds(store, registry_config) == [("2", "retrained")]


def test_an_hour_without_weekend_events_or_with_low_scores_is_no_drift(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
    scoring_model: LoadedModel,
) -> None:
    """A weekday hour has no weekend events, whatever the environment does, and the
    score PSI is evidence, not a trigger: neither starts a retrain."""
    # The test model was trained on weekdays only: give its reference a week's share.
    weekly = copy.copy(scoring_model.model)
    assert weekly.reference is not None
    weekly.reference = dataclasses.replace(
        weekly.reference,
        features={**weekly.reference.features, "is_weekend": FeatureBins((0.5,), (0.7, 0.3))},
    )
    model = model_named(dataclasses.replace(scoring_model, model=weekly), registry_config)
    (champion,) = register_versions(registry_config, 1)
    registry.promote(registry_config, champion)
    optimizer = Optimizer(optimizer_settings, store, registry_config, lambda since: "2")
    familiar = np.zeros(20000)  # tail probability 1: every event as unsurprising as can be

    score_live(store, model, champion, 20000, 100, fixed={"is_weekend": 0.0}, scores=familiar)
    live = version_window(
        store, registry_config.model_name, champion, datetime.now(UTC) - timedelta(hours=1), 0.2
    )
    week = version_window(
        store,
        registry_config.model_name,
        champion,
        datetime.now(UTC) - timedelta(days=7),
        0.2,
        until=datetime.now(UTC),
    )

    assert live.score_psi is not None
    assert live.score_psi > 0.2
    assert "is_weekend" not in live.drifted_features
    assert "is_weekend" in week.drifted_features  # a week of weekdays only is a shift
    assert optimizer.tick()[-1].reason == "no retrain due"
    assert kinds(store, registry_config) == []


def test_two_optimizers_never_retrain_at_once(
    store: Store,
    registry_config: RegistryConfig,
    optimizer_settings: Settings,
) -> None:
    (champion,) = register_versions(registry_config, 1)
    registry.promote(registry_config, champion)
    settings = optimizer_settings.model_copy(update={"retrain_interval_h": 0})  # always due
    running, calls = threading.Lock(), []

    def slow_retrain(since: date) -> str:
        assert running.acquire(blocking=False), "two retrains ran at once"
        try:
            calls.append(since)
            time.sleep(1.5)
            return "2"
        finally:
            running.release()

    stores = [Store(store.url), Store(store.url)]  # two processes' connections
    optimizers = [
        Optimizer(settings, s, registry_config, slow_retrain, holder=f"optimizer-{i}")
        for i, s in enumerate(stores)
    ]
    start = threading.Barrier(2)
    results: dict[str, list[str]] = {}

    def tick(optimizer: Optimizer) -> None:
        start.wait()
        results[optimizer.holder] = [a.kind for a in optimizer.tick()]

    threads = [threading.Thread(target=tick, args=(o,)) for o in optimizers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for s in stores:
        s.close()

    assert len(calls) == 1
    assert sorted(results.values()) == [["idle", "idle", "retrained"], ["waiting"]]
