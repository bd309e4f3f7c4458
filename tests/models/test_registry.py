"""Loading a registered version: one of another feature set or key scheme is refused in words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from features.pipeline import FEATURE_SET_VERSION
from models import registry
from models.bundle import ScoringModel
from models.exceptions import IncompatibleModelError
from tests.mlflow_db import fresh_registry


def _register(
    root: Path, feature_set_version: str, key_scheme: str | None = None
) -> registry.RegistryConfig:
    config = fresh_registry(root)
    frame = pl.DataFrame({"a": np.random.default_rng(0).normal(size=400), "b": 0.0})
    model = ScoringModel.train(frame, ("a", "b"), feature_set_version, detector_names=("ecod",))
    if key_scheme is not None:
        model.baseline_state.key_scheme = key_scheme
    version = registry.log_and_register(config, model, frame, {}, {}, {})
    registry.set_alias(config, "champion", version)
    return config


def test_a_version_of_the_current_feature_set_loads(tmp_path: Path) -> None:
    loaded = registry.load(_register(tmp_path, FEATURE_SET_VERSION))
    assert loaded is not None
    assert loaded.model.feature_set_version == FEATURE_SET_VERSION


def test_a_version_of_an_earlier_feature_set_is_refused_with_what_to_do(tmp_path: Path) -> None:
    config = _register(tmp_path, "4")
    with pytest.raises(
        IncompatibleModelError, match=r"feature set 4.*retrain with `auditlens train"
    ):
        registry.load(config)


def test_a_version_keyed_by_another_polars_is_refused_with_what_to_do(tmp_path: Path) -> None:
    config = _register(tmp_path, FEATURE_SET_VERSION, key_scheme="polars-hash-0000000000000000")
    with pytest.raises(IncompatibleModelError, match=r"another polars.*retrain with `auditlens"):
        registry.load(config)
