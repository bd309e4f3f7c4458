"""A registered model's detectors: scored exactly as trained, and without importing pyod."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl

from features.pipeline import FEATURE_SET_VERSION
from models import registry
from models.autoencoder import MLPAutoencoder
from models.bundle import ScoringModel
from models.detectors import make_detector
from models.isolation_forest import FastIForest
from models.scoring_forms import (
    PARALLEL_MIN_ROWS,
    ForestScorer,
    ReconstructionScorer,
    scoring_form,
)
from tests.mlflow_db import fresh_registry


def _rows(seed: int, count: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 4))


def test_the_forms_score_to_the_bit_as_the_detectors_they_come_from() -> None:
    train = _rows(0, 1500)
    rows = np.vstack([_rows(1, 2 * PARALLEL_MIN_ROWS), _rows(2, 20) + 5.0])
    forest = FastIForest(n_estimators=30, random_state=0).fit(train)
    autoencoder = MLPAutoencoder(hidden=(8, 2, 8), max_iter=20).fit(train)
    forest_form, autoencoder_form = scoring_form(forest), scoring_form(autoencoder)

    assert isinstance(forest_form, ForestScorer)
    assert isinstance(autoencoder_form, ReconstructionScorer)
    for detector, form in ((forest, forest_form), (autoencoder, autoencoder_form)):
        np.testing.assert_array_equal(
            form.decision_function(rows), detector.decision_function(rows)
        )
        np.testing.assert_array_equal(
            form.decision_function(rows[:10]), detector.decision_function(rows[:10])
        )


def test_any_other_detector_is_kept_as_it_is() -> None:
    ecod = make_detector("ecod", seed=0).fit(_rows(0, 300))
    assert scoring_form(ecod) is ecod


def test_a_registered_model_is_scored_as_trained_without_importing_pyod(tmp_path: Path) -> None:
    config = fresh_registry(tmp_path)
    frame = pl.DataFrame(_rows(3, 600), schema=["a", "b", "c", "d"])
    model = ScoringModel.train(
        frame, ("a", "b", "c", "d"), FEATURE_SET_VERSION
    )  # isolation forest + autoencoder
    registry.set_alias(
        config, "champion", registry.log_and_register(config, model, frame, {}, {}, {})
    )
    rows = np.vstack([_rows(4, 40), _rows(5, 10) + 4.0])
    np.save(tmp_path / "rows.npy", rows)
    program = (
        "import sys\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "from models import registry_reader\n"
        "from models.registry_config import RegistryConfig\n"
        "import service.cli, service.consumer, service.api.app\n"
        f"config = RegistryConfig({config.tracking_uri!r}, Path({str(config.artifact_root)!r}))\n"
        "loaded = registry_reader.load(config)\n"
        f"scores = loaded.model.score_matrix(np.load({str(tmp_path / 'rows.npy')!r})).score\n"
        f"np.save({str(tmp_path / 'scores.npy')!r}, scores)\n"
        "print(sorted(loaded.model.detectors), 'pyod' in sys.modules)\n"
    )
    loading = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert loading.returncode == 0, loading.stderr
    answer = loading.stdout.strip()
    assert answer == "['autoencoder', 'iforest'] False"
    np.testing.assert_array_equal(np.load(tmp_path / "scores.npy"), model.score_matrix(rows).score)
