"""Training end to end on generated data: MLflow run, metrics, reproducibility, the gate."""

from __future__ import annotations

import copy
from pathlib import Path

import mlflow
import numpy as np
import orjson
import pytest

from features.archive import write_range
from features.files import read_events
from features.schema import to_frame
from features.sources.report_state import ReportSnapshots
from models import registry
from models.calibration import TailCalibrator
from models.detectors import make_detector
from tests.features.test_archive import archived
from tests.mlflow_db import fresh_registry
from training.evaluate import read_labels
from training.exceptions import TrainingError
from training.synthetic import generate
from training.train import (
    MIN_TRAINING_EVENTS,
    TrainingOptions,
    ValidationSet,
    _read,
    promotion_gate,
    train,
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated")
    generate(out, seed=11, days=10, events_per_day=2500)
    return out


def _config(root: Path) -> registry.RegistryConfig:
    return fresh_registry(root)


def _options(generated: Path, **overrides: object) -> TrainingOptions:
    base: dict[str, object] = {
        "labels": generated / "labels.csv",
        "validation": (generated / "test.jsonl",),
        "promote": True,
    }
    return TrainingOptions(**{**base, **overrides})  # type: ignore[arg-type]


def test_run_logs_metrics_params_and_registers_a_champion(generated: Path, tmp_path: Path) -> None:
    config = _config(tmp_path)
    result = train([generated / "train.jsonl"], config, _options(generated))
    assert result.promoted
    assert result.reason == "no champion yet"
    assert registry.alias_version(config, "champion") == result.version
    [run] = mlflow.search_runs(experiment_names=["auditlens"], output_format="list")
    for metric in ("roc_auc", "pr_auc", "recall_0.5pct", "iforest.roc_auc", "autoencoder.roc_auc"):
        assert metric in run.data.metrics, metric
    assert run.data.params["feature_set_version"]
    assert run.data.tags["data_fingerprint"]
    assert run.data.tags["version.scikit-learn"]
    # the labelled attacks are far above chance on unseen validation data
    assert result.metrics["roc_auc"] > 0.9


def test_same_data_and_seed_give_the_same_metrics(generated: Path, tmp_path: Path) -> None:
    first = train([generated / "train.jsonl"], _config(tmp_path / "a"), _options(generated))
    second = train([generated / "train.jsonl"], _config(tmp_path / "b"), _options(generated))
    quality = {k: v for k, v in first.metrics.items() if "seconds" not in k}
    assert quality == {k: v for k, v in second.metrics.items() if "seconds" not in k}


def test_gate_refuses_a_worse_version_and_says_why(generated: Path, tmp_path: Path) -> None:
    config = _config(tmp_path)
    good = train([generated / "train.jsonl"], config, _options(generated))
    champion = registry.load(config, "champion")
    assert champion is not None
    # The same model with its detector refitted on noise: its scores carry no information.
    worse = copy.copy(champion.model)
    noise = np.random.default_rng(0).normal(size=(2000, len(worse.feature_names)))
    detector = make_detector("iforest", seed=0).fit(noise)
    worse.detectors = {"iforest": detector}
    worse.calibrators = {"iforest": TailCalibrator.fit(detector.decision_function(noise))}
    events, _ = _read([generated / "test.jsonl"], champion.model.baseline_state.copy())
    labels = read_labels(str(generated / "labels.csv"))

    promoted, reason = promotion_gate(config, worse, ValidationSet(events), labels, 0.005)
    assert not promoted
    assert reason.startswith(f"worse than champion version {good.version}: pr_auc ")

    promoted, reason = promotion_gate(config, champion.model, ValidationSet(events), labels, 0.005)
    assert promoted
    assert reason.startswith(f"not worse than champion version {good.version}")


def test_without_validation_data_an_existing_champion_is_kept(
    generated: Path, tmp_path: Path
) -> None:
    config = _config(tmp_path)
    first = train([generated / "train.jsonl"], config, _options(generated))
    second = train([generated / "train.jsonl"], config, TrainingOptions(promote=True, seed=5))
    assert not second.promoted
    assert "no validation data" in second.reason
    assert registry.alias_version(config, "champion") == first.version
    assert registry.alias_version(config, "challenger") == second.version


def test_too_few_events_get_a_clear_error_saying_how_many_are_needed(tmp_path: Path) -> None:
    lines = [
        orjson.dumps(
            {
                "kind": "Event",
                "apiVersion": "audit.k8s.io/v1",
                "auditID": f"a-{i}",
                "stage": "ResponseComplete",
                "verb": "get",
                "user": {"username": "alice@example.com"},
                "objectRef": {"resource": "pods", "namespace": "shop"},
                "responseStatus": {"code": 200},
                "requestReceivedTimestamp": f"2026-03-02T10:{i // 60:02d}:{i % 60:02d}Z",
            }
        )
        for i in range(MIN_TRAINING_EVENTS - 1)
    ]
    data = tmp_path / "few.jsonl"
    data.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(
        TrainingError,
        match=rf"{MIN_TRAINING_EVENTS - 1} training events are too few"
        rf".*at least {MIN_TRAINING_EVENTS}",
    ):
        train([data], _config(tmp_path), TrainingOptions())


def test_the_archive_trains_on_the_same_events_as_the_files(
    generated: Path, tmp_path: Path
) -> None:
    # The archive as a scorer would have written it: the adapters' output, by partition.
    events, _ = to_frame(read_events([generated / "train.jsonl"], reports=ReportSnapshots()).events)
    root = tmp_path / "archive"
    for partition, part in enumerate(events.partition_by("source")):
        write_range(str(root), archived(part, partition=partition), "audit", partition, 0, 10**6)
    (root / "source=k8s_audit" / "date=2026-01-01").mkdir(parents=True)
    (root / "source=k8s_audit" / "date=2026-01-01" / "audit-9-0-1.parquet").write_bytes(b"x")

    from_files = train([generated / "train.jsonl"], _config(tmp_path / "f"), TrainingOptions())
    from_archive = train([], _config(tmp_path / "a"), TrainingOptions(archive=str(root)))
    assert from_archive.events == from_files.events > 0
    assert from_archive.metrics["training_events"] == from_files.metrics["training_events"]


def test_no_archive_is_a_training_error_that_says_where(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="there is no archive at"):
        train([], _config(tmp_path), TrainingOptions(archive=str(tmp_path / "none")))


class Recorder:
    """A Progress that remembers what it was told."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, str]] = []

    def started(self, stage: str) -> None:
        pass

    def finished(self, stage: str, detail: str, seconds: float) -> None:
        self.stages.append((stage, detail))

    def failed(self, stage: str) -> None:
        self.stages.append((stage, "failed"))


def test_a_run_reports_each_long_stage(generated: Path, tmp_path: Path) -> None:
    recorder = Recorder()
    result = train([generated / "train.jsonl"], _config(tmp_path), _options(generated), recorder)
    names = [name for name, _ in recorder.stages]
    assert names == [
        "reading events",
        "computing features",
        "fitting iforest, autoencoder",
        "evaluating",
        "registering in MLflow",
    ]
    assert dict(recorder.stages)["registering in MLflow"] == f"version {result.version}"
    assert dict(recorder.stages)["reading events"].startswith(f"{result.events:,} events")
