"""Live drift: a scorer's buckets, their sum in the store over scorers, the API and the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from models.bundle import LoadedModel
from service import metrics
from service.cli import main
from service.drift import BUCKET_S, KEEP_DAYS, DriftMonitor, parse_window, stored_reports
from service.store.repository import Store
from tests.service.conftest import auth


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def training_like(model: LoadedModel, n: int, seed: int = 1) -> np.ndarray:
    """Rows resampled from the training bins' shares: what a steady stream looks like."""
    assert model.model.reference is not None
    rng = np.random.default_rng(seed)
    columns = []
    for bins in model.model.reference.features.values():
        edges = np.r_[bins.edges[0] - 1.0, bins.edges] if bins.edges else np.zeros(1)
        choice = rng.choice(len(bins.expected), size=n, p=np.asarray(bins.expected))
        columns.append(edges[np.minimum(choice, len(edges) - 1)])
    return np.column_stack(columns)


def uniform_scores(n: int, seed: int = 2) -> np.ndarray:
    return -20 * np.log10(np.random.default_rng(seed).uniform(size=n))


def test_a_steady_stream_shows_no_drift_and_a_shift_shows_on_its_feature(
    scoring_model: LoadedModel,
) -> None:
    clock = Clock(1_800_000_000.0)
    monitor = DriftMonitor("scorer-a", clock)
    monitor.use(scoring_model)
    X = training_like(scoring_model, 4000)
    monitor.observe(X, uniform_scores(4000), alerts=20)
    steady = monitor.report(3600)
    assert steady is not None
    assert steady.events == 4000
    assert steady.alert_rate == 0.005
    assert steady.max_psi < 0.05
    assert steady.tail.p_value > 0.001

    clock.now += 2 * 3600  # the steady hour has left the 1 h window, not the 24 h one
    names = scoring_model.model.feature_names
    shifted = training_like(scoring_model, 4000, seed=3)
    column = names.index("hour_surprise")
    shifted[:, column] = shifted[:, column].max() + 5.0
    monitor.observe(shifted, np.full(4000, 50.0), alerts=4000)
    last_hour = monitor.report(3600)
    day = monitor.report(86400)
    assert last_hour is not None
    assert day is not None
    assert last_hour.events == 4000
    assert day.events == 8000
    assert last_hour.features[0].feature == "hour_surprise"
    assert last_hour.features[0].psi > 1.0
    assert last_hour.tail.p_value < 1e-9
    monitor.update_metrics()
    assert metrics.FEATURE_DRIFT_PSI.labels("hour_surprise", "1h")._value.get() > 1.0
    assert metrics.ALERT_RATE.labels("1h")._value.get() == 1.0


def test_a_model_without_a_reference_is_not_measured(scoring_model: LoadedModel) -> None:
    old = LoadedModel(model=scoring_model.model, name="auditlens", version="1")
    monitor = DriftMonitor("scorer-a")
    monitor.use(old)
    monitor.reference = None  # as a version trained before drift was measured loads
    monitor.observe(training_like(scoring_model, 10), uniform_scores(10), alerts=0)
    assert monitor.report(3600) is None
    assert monitor.buckets == {}


def test_the_store_sums_every_scorer_and_the_api_and_cli_read_it(
    scoring_model: LoadedModel,
    store: Store,
    client: TestClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).timestamp()
    for instance, seed in (("scorer-a", 1), ("scorer-b", 2)):
        monitor = DriftMonitor(instance, Clock(now))
        monitor.use(scoring_model)
        monitor.observe(training_like(scoring_model, 1000, seed), uniform_scores(1000, seed), 5)
        monitor.flush(store)
        monitor.observe(training_like(scoring_model, 500, seed), uniform_scores(500, seed), 0)
        monitor.flush(store)  # the same bucket again: replaced, not added twice
    reports = stored_reports(store, "auditlens", "7", {"1h": 3600})
    assert reports is not None
    report = reports["1h"]
    assert (report.events, report.alerts) == (3000, 10)
    assert store.latest_drift_version("auditlens") == "7"

    admin = auth(store, "admin")
    body = client.get("/v1/models/drift", headers=admin).json()
    assert body["version"] == "7"
    assert [w["window"] for w in body["windows"]] == ["1h", "24h"]
    hour = body["windows"][0]
    assert hour["events"] == 3000
    assert hour["target_alert_rate"] == 0.005
    assert len(hour["features"]) == len(scoring_model.model.feature_names)
    assert all(not f["drifted"] for f in hour["features"])
    psis = [f["psi"] for f in hour["features"]]
    assert psis == sorted(psis, reverse=True)

    assert client.get("/v1/models/drift", headers=auth(store, "analyst")).status_code == 403
    unknown = client.get("/v1/models/drift?version=99", headers=admin)
    assert unknown.status_code == 404
    assert "no drift recorded for auditlens version 99" in unknown.json()["detail"]
    bad = client.get("/v1/models/drift?window=soon", headers=admin)
    assert bad.status_code == 422
    assert "window 'soon'" in bad.json()["detail"]

    monkeypatch.setenv("AUDITLENS_STORE_URL", store.url)
    monkeypatch.setenv("AUDITLENS_DATA_DIR", str(tmp_path))
    assert main(["drift", "--window", "24h", "--top", "3"]) == 0
    printed = capsys.readouterr().out
    assert "auditlens version 7, last 24h: 3000 events scored, 10 alerts" in printed
    assert "alert rate" in printed
    assert "target  0.500%" in printed
    assert printed.count("steady") == 3
    assert main(["drift", "--window", "fortnight"]) == 2


def test_old_buckets_are_pruned(scoring_model: LoadedModel, store: Store) -> None:
    clock = Clock(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    monitor = DriftMonitor("scorer-a", clock)
    monitor.use(scoring_model)
    monitor.observe(training_like(scoring_model, 10), uniform_scores(10), 0)
    monitor.flush(store)
    clock.now += (KEEP_DAYS + 1) * 86400  # a week later the scorer's flush prunes the old one
    monitor.observe(training_like(scoring_model, 3), uniform_scores(3), 0)
    monitor.flush(store)
    now = datetime.fromtimestamp(clock.now, UTC)
    reports = stored_reports(store, "auditlens", "7", {"all": 10 * 365 * 86400}, now=now)
    assert reports is not None
    assert reports["all"].events == 3


def test_windows_are_read_as_people_write_them() -> None:
    assert parse_window("15m") == 900
    assert parse_window("15m") >= BUCKET_S
    for bad in ("1", "h", "0h", "1w", "-1h"):
        with pytest.raises(ValueError, match="whole number of minutes"):
            parse_window(bad)
