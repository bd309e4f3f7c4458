"""`auditlens retrain`: a challenger from the archive, without confirmed attacks, with the
analysts' benign verdicts weighted up; the champion does not move."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from mlflow import MlflowClient

from features import archive
from features.archive import read_archive, write_range
from features.files import read_events
from features.schema import to_frame
from features.sources.report_state import ReportSnapshots
from models import registry
from service.cli import main
from service.store.repository import Store
from tests.features.test_archive import archived
from tests.features.test_pipeline import synthetic_events
from tests.mlflow_db import fresh_registry
from tests.service.conftest import anomaly_row
from training.retrain import retrain, window_start
from training.synthetic import generate
from training.train import HISTORY_END, TrainingOptions, train


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
    # The generated days lie in the past: the window counts back from the newest of them.
    assert main(["retrain"]) == 0
    since = window_start(str(archive), 14)
    printed = capsys.readouterr().out
    assert f"archived events since {since.isoformat()} (1 true positives excluded" in printed
    assert "alias challenger -> version 1" in printed
    assert main(["retrain", "--since", "2999-01-01"]) == 2
    assert "no usable events" in capsys.readouterr().err


def test_the_window_counts_back_from_the_newest_archived_day(tmp_path: Path) -> None:
    """A replay of March events in December still trains on them: the window is the
    archive's last days, not the calendar's."""
    rows = archived(synthetic_events(300, seed=4))
    archive.write_range(str(tmp_path), rows, "audit", 0, 0, 300)
    newest = rows["event_time"].dt.date().max()
    assert isinstance(newest, date)
    assert window_start(str(tmp_path), 14) == newest - timedelta(days=13)
    assert window_start(str(tmp_path / "empty"), 1, today=date(2026, 12, 4)) == date(2026, 12, 4)


def test_a_retrain_continues_the_champions_history_with_later_events_only(
    archive_and_events: tuple[Path, list[str], int], tmp_path: Path
) -> None:
    """Archived events the champion's history already holds would count twice; later ones
    get the features the scorers gave them, from a mature history, with no warm-up."""
    archive, _, _ = archive_and_events
    events = read_archive(str(archive)).events
    earlier = events.head(events.height // 2)
    first = tmp_path / "first-half"
    write_range(str(first), earlier, "audit", 0, 0, 10**6)
    config = fresh_registry(tmp_path / "registry")
    champion = train([], config, TrainingOptions(archive=str(first)))
    registry.set_alias(config, "champion", champion.version)
    loaded = registry.load(config, "champion")
    assert loaded is not None
    end = datetime.fromisoformat(loaded.model.baseline_state.metadata[HISTORY_END])
    assert end == earlier["event_time"].max()
    store_url = store_with_verdicts(
        tmp_path / "store.db", attack=earlier["event_id"][0], benign=earlier["event_id"][1]
    )

    result = retrain(config, str(archive), store_url, None, 0.005)

    later = events.filter(pl.col("event_time") > end).height
    assert 0 < later < events.height
    assert result.training.events == later
    run = MlflowClient().get_run(registry.version_info(config, result.training.version)["run_id"])
    assert run.data.params["history"] == f"continued from {end.isoformat()}"
    assert float(run.data.params["warmup_fraction"]) == 0.0
