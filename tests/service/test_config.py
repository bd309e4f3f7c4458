from __future__ import annotations

from pathlib import Path

import pytest

from service.config import Settings, load_settings
from service.exceptions import ConfigurationError

README = Path(__file__).parents[2] / "README.md"


def test_every_setting_is_documented_in_the_readme() -> None:
    text = README.read_text()
    missing = [
        f"AUDITLENS_{name.upper()}"
        for name in Settings.model_fields
        if f"`AUDITLENS_{name.upper()}`" not in text
    ]
    assert not missing


def test_invalid_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITLENS_API_PORT", "not-a-port")
    with pytest.raises(ConfigurationError, match="AUDITLENS_API_PORT"):
        load_settings()


def test_pinned_topic_sources_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUDITLENS_TOPIC_SOURCES", "audit.k8s=nonsense")
    with pytest.raises(ConfigurationError, match="unknown source 'nonsense'"):
        load_settings()
    monkeypatch.setenv("AUDITLENS_TOPIC_SOURCES", "audit.k8s=k8s_audit")
    assert load_settings().pinned_sources == {"audit.k8s": "k8s_audit"}


def test_defaults_keep_everything_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AUDITLENS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = load_settings()
    assert settings.resolved_store_url == f"sqlite:///{tmp_path / 'auditlens.db'}"
    assert settings.mlflow_tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
