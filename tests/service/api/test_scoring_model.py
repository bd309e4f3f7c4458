"""Which model ``POST /v1/score`` uses: the in-process scorer's, else the cached champion."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from models.bundle import LoadedModel
from service.api.app import default_model_provider
from service.api.scoring_model import ModelProvider
from service.config import Settings


def loaded(version: str) -> LoadedModel:
    return LoadedModel(model=None, name="auditlens", version=version)  # type: ignore[arg-type]


class Registry:
    """A fake registry that counts how often the expensive load happens."""

    def __init__(self, version: str | None) -> None:
        self.version = version
        self.loads = 0
        self.fail = False

    def load(self) -> LoadedModel | None:
        self.loads += 1
        if self.fail:
            raise ConnectionError("tracking server down")
        return None if self.version is None else loaded(self.version)

    def current(self) -> str | None:
        if self.fail:
            raise ConnectionError("tracking server down")
        return self.version


def test_the_scorers_model_wins() -> None:
    registry = Registry("1")
    scorer: Any = SimpleNamespace(model=loaded("9"))
    provider = ModelProvider(scorer, registry.load, registry.current)
    model = provider.get()
    assert model is not None
    assert model.version == "9"
    assert registry.loads == 0


def test_the_champion_is_loaded_once_and_reloaded_only_when_the_alias_moves() -> None:
    registry = Registry("1")
    provider = ModelProvider(None, registry.load, registry.current, refresh_s=0.0)
    assert [provider.get().version for _ in range(3)] == ["1", "1", "1"]  # type: ignore[union-attr]
    assert registry.loads == 1
    registry.version = "2"
    assert provider.get().version == "2"  # type: ignore[union-attr]
    assert registry.loads == 2


def test_a_failing_registry_keeps_the_model_it_has() -> None:
    registry = Registry("1")
    provider = ModelProvider(None, registry.load, registry.current, refresh_s=0.0)
    provider.get()
    registry.fail = True
    assert provider.get().version == "1"  # type: ignore[union-attr]


def test_no_champion_yet_means_no_model() -> None:
    registry = Registry(None)
    provider = ModelProvider(None, registry.load, registry.current, refresh_s=60.0)
    assert provider.get() is None
    assert provider.get() is None
    assert registry.loads == 1  # not retried before refresh_s


def test_the_default_provider_reads_the_real_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings(data_dir=tmp_path, model_name="nothing-here")
    provider = default_model_provider(settings, None)
    assert provider.get() is None
    assert provider.unavailable_hint == (
        "no version of nothing-here carries the alias 'champion'; "
        "run `auditlens train --data ... --promote` first"
    )
