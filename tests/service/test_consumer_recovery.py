"""The scorer's own answers to outages, without a broker: a registry that stops
answering, a store that fails writes for a while (plain in-process stand-ins for the
two calls; the real outages are in ``tests/integration/test_recovery.py``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from models.bundle import LoadedModel, ScoringModel
from service.config import Settings
from service.consumer import ScorerLoop
from service.store.repository import Store
from tests.service.conftest import wait_until


def loaded(version: str) -> LoadedModel:
    return LoadedModel(model=ScoringModel.__new__(ScoringModel), name="auditlens", version=version)


class Registry:
    """Answers with the current version, or raises while ``down``."""

    def __init__(self) -> None:
        self.version = "1"
        self.down = False
        self.calls = 0

    def __call__(self) -> LoadedModel:
        self.calls += 1
        if self.down:
            raise ConnectionError("tracking server unreachable")
        return loaded(self.version)


def test_the_scorer_keeps_its_model_while_the_registry_is_down_and_swaps_after(
    tmp_path: Path,
) -> None:
    registry = Registry()
    loop = ScorerLoop(
        Settings(data_dir=tmp_path, model_refresh_s=0.05),
        Store(f"sqlite:///{tmp_path / 'store.db'}"),
        registry,
    )
    loop.refresh_model(force=True)
    watcher = threading.Thread(target=loop._watch_models, daemon=True)
    watcher.start()
    try:
        registry.down = True
        wait_until(lambda: not loop.registry_reachable, timeout_s=5.0)
        loop.refresh_model()
        assert loop.model is not None
        assert loop.model.version == "1", "scores on with the model it has"

        registry.version, registry.down = "2", False
        wait_until(lambda: loop.registry_reachable, timeout_s=5.0)
        wait_until(lambda: loop._offered is not None, timeout_s=5.0)
        loop.refresh_model()
        assert loop.model.version == "2", "a version promoted meanwhile is swapped in"
    finally:
        loop.stop()
        watcher.join(timeout=5)


class FlakyStore:
    """Fails the first ``failures`` writes as a database that is down would."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.rows: list[dict[str, Any]] = []

    def insert_anomalies(self, rows: list[dict[str, Any]]) -> int:
        if self.failures:
            self.failures -= 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        self.rows.extend(rows)
        return len(rows)


def test_a_batch_is_held_and_stored_once_the_store_is_back(tmp_path: Path) -> None:
    store = FlakyStore(failures=3)
    loop = ScorerLoop(
        Settings(data_dir=tmp_path, reconnect_max_s=0.05),
        store,  # type: ignore[arg-type]
        lambda: None,
    )
    rows = [{"event_id": "a"}, {"event_id": "b"}]
    assert loop._store_until_taken(rows) == 2
    assert store.rows == rows, "stored once, after the retries"
    assert loop.store_reachable


def test_a_stop_ends_the_retries(tmp_path: Path) -> None:
    loop = ScorerLoop(
        Settings(data_dir=tmp_path, reconnect_max_s=0.05),
        FlakyStore(failures=10**9),  # type: ignore[arg-type]
        lambda: None,
    )
    threading.Timer(0.2, loop.stop).start()
    with pytest.raises(OperationalError):
        loop._store_until_taken([{"event_id": "a"}])


def test_the_watcher_asks_for_the_version_before_loading_the_model(tmp_path: Path) -> None:
    registry = Registry()
    loop = ScorerLoop(
        Settings(data_dir=tmp_path, model_refresh_s=0.02),
        Store(f"sqlite:///{tmp_path / 'store.db'}"),
        registry,
        lambda: registry.version,
    )
    loop.refresh_model(force=True)
    watcher = threading.Thread(target=loop._watch_models, daemon=True)
    watcher.start()
    try:
        time.sleep(0.3)
        assert registry.calls == 1, "an unchanged version is never loaded again"
        registry.version = "3"
        wait_until(lambda: loop._offered is not None, timeout_s=5.0)
        assert registry.calls == 2
    finally:
        loop.stop()
        watcher.join(timeout=5)
