"""The loop shown: the shadow comparison, the report per version, its table and its plot."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from models import registry
from models.bundle import LoadedModel
from models.registry_config import RegistryConfig
from service.cli import main
from service.config import Settings
from service.optimizer.loop import Optimizer
from service.store.repository import Store
from tests.service.conftest import auth
from tests.service.optimizer.conftest import model_named, register_versions, score_live


@pytest.fixture
def config(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> RegistryConfig:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return RegistryConfig(
        settings.mlflow_tracking_uri, settings.mlflow_artifact_root, settings.model_name
    )


def test_a_promotion_shows_in_the_shadow_comparison_the_report_and_its_plot(
    client: TestClient,
    store: Store,
    settings: Settings,
    config: RegistryConfig,
    scoring_model: LoadedModel,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    model = model_named(scoring_model, config)
    old, new = register_versions(config, 2)
    registry.promote(config, old)
    registry.set_alias(config, "challenger", new)
    score_live(store, model, old, 4000, alerts=20)
    score_live(store, model, new, 4000, alerts=28, shadow=True)
    admin = auth(store, "admin")

    shadow = client.get(f"/v1/models/{new}/shadow", headers=admin)
    assert shadow.status_code == 200
    body = shadow.json()
    assert body["champion"]["version"] == old
    assert body["challenger"]["events"] == 4000
    assert body["challenger"]["alert_rate"] == 0.007
    assert body["champion"]["target_alert_rate"] == 0.005
    assert body["gate"]["outcome"] == "wait"  # default AUDITLENS_SHADOW_MIN_EVENTS: 10,000
    assert body["decisions"] == []
    assert client.get("/v1/models/99/shadow", headers=admin).status_code == 404

    gate_settings = settings.model_copy(update={"shadow_hours": 0, "shadow_min_events": 1000})
    Optimizer(gate_settings, store, config, retrain_fn=lambda since: "3").tick()
    score_live(store, model, new, 2000, alerts=12)  # now as champion

    report = client.get("/v1/report", headers=admin)
    assert report.status_code == 200
    rows = {r["version"]: r for r in report.json()["versions"]}
    assert rows[old]["events_scored"] == 4000
    assert rows[old]["alert_rate"] == 0.005
    assert rows[new]["events_scored"] == 2000  # shadow scoring is not the version's use
    assert rows[new]["aliases"] == ["champion"]
    assert [d["kind"] for d in rows[new]["decisions"]] == ["promoted"]
    assert rows[new]["drift_at_promotion"] is not None
    assert rows[new]["cpu_seconds_per_million"] == 0.0  # score_live measures no CPU
    svg = client.get("/v1/report?format=svg", headers=admin)
    assert svg.headers["content-type"] == "image/svg+xml"
    assert f">v{old}</text>" in svg.text
    assert f">v{new}</text>" in svg.text

    monkeypatch.setenv("AUDITLENS_STORE_URL", store.url)
    monkeypatch.setenv("AUDITLENS_DATA_DIR", str(settings.data_dir))
    plot = tmp_path / "report.svg"
    assert main(["report", "--svg", str(plot)]) == 0
    printed = capsys.readouterr().out
    assert "0.500%" in printed
    assert "0.600%" in printed
    assert f"v{new}" in printed
    assert "promoted" in printed
    assert "(optimizer)" in printed
    assert plot.read_text().startswith("<svg")
