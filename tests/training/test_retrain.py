"""`auditlens retrain`: a challenger from the archive, without confirmed attacks, with the
analysts' benign verdicts weighted up; the champion does not move."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from features.archive import write_range
from features.files import read_events
from features.schema import to_frame
from features.sources.report_state import ReportSnapshots
from models import registry
from service.cli import main
from service.store.repository import Store
from tests.features.test_archive import archived
from tests.mlflow_db import fresh_registry
from tests.service.conftest import anomaly_row
from training.retrain import retrain
from training.synthetic import generate


@pytest.fixture(scope="module")
def archive_and_events(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], int]:
    """A scorer's archive of a small organisation's days: (root, event ids, events)."""
    root = tmp_path_factory.mktemp("retrain")
    generate(root / "gen", seed=5, days=4, events_per_day=800)
    events, _ = to_frame(
        read_events([root / "gen" / "train.jsonl"], reports=ReportSnapshots()).events
    )
    archive = root / "archive"
    for partition, part in enumerate(events.partition_by("source")):
        write_range(str(archive), archived(part, partition=partition), "audit", partition, 0, 10**6)
    return archive, events["event_id"].to_list(), events.height


def store_with_verdicts(path: Path, attack: str, benign: str) -> str:
    url = f"sqlite:///{path}"
    store = Store(url)
    store.create_schema()
    store.insert_anomalies([anomaly_row(attack), anomaly_row(benign)])
    store.close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for event_id, verdict in ((attack, "true_positive"), (benign, "false_positive")):
            conn.execute(
                sa.text("UPDATE anomalies SET status='closed', verdict=:v WHERE event_id=:e"),
                {"v": verdict, "e": event_id},
            )
    engine.dispose()
    return url


def test_retrain_excludes_attacks_weights_benign_verdicts_and_names_a_challenger(
    archive_and_events: tuple[Path, list[str], int], tmp_path: Path
) -> None:
    archive, ids, count = archive_and_events
    store_url = store_with_verdicts(tmp_path / "store.db", attack=ids[500], benign=ids[900])
    config = fresh_registry(tmp_path / "registry")

    result = retrain(config, str(archive), store_url, None, 0.005, benign_weight=3)

    assert (result.excluded_true_positives, result.benign_weighted) == (1, 1)
    assert result.training.events == count - 1 + 2  # one attack out, one benign event ×3
    assert registry.alias_version(config, "challenger") == result.training.version
    assert registry.alias_version(config, "champion") is None  # promotion is the gate's
    [version] = registry.list_versions(config)
    assert version["tags"]["retrain.excluded_true_positives"] == "1"
    assert version["tags"]["retrain.source"] == "archive since its start"


def test_the_cli_retrains_the_configured_window(
    archive_and_events: tuple[Path, list[str], int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    archive, ids, _ = archive_and_events
    store_url = store_with_verdicts(tmp_path / "store.db", attack=ids[10], benign=ids[20])
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name, value in {
        "AUDITLENS_DATA_DIR": str(tmp_path / "data"),
        "AUDITLENS_ARCHIVE_URL": str(archive),
        "AUDITLENS_STORE_URL": store_url,
    }.items():
        monkeypatch.setenv(name, value)
    # The generated days lie in the past: a window of the last 14 days finds nothing.
    assert main(["retrain"]) == 2
    assert "no usable events" in capsys.readouterr().err
    assert main(["retrain", "--since", "2000-01-01"]) == 0
    printed = capsys.readouterr().out
    assert "archived events since 2000-01-01 (1 true positives excluded" in printed
    assert "alias challenger -> version 1" in printed
