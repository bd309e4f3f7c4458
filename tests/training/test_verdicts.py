from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from service.store.repository import Store
from tests.features.test_pipeline import synthetic_events
from tests.service.conftest import anomaly_row
from training.train import TrainingOptions, prepare_training_events
from training.verdicts import read_verdicts


def test_verdicts_exclude_true_positives_and_weight_benign_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = Store(url)
    store.create_schema()
    store.insert_anomalies([anomaly_row(f"e{i:06d}") for i in range(4)])
    with store.engine.begin() as conn:
        for event_id, verdict in (
            ("e000000", "true_positive"),
            ("e000001", "false_positive"),
            ("e000002", "benign_positive"),
        ):
            conn.execute(
                sa.text("UPDATE anomalies SET verdict = :v WHERE event_id = :e"),
                {"v": verdict, "e": event_id},
            )
    store.close()

    verdicts = read_verdicts(url)
    assert verdicts.true_positive == {"e000000"}
    assert verdicts.benign == {"e000001", "e000002"}

    events = synthetic_events(10)
    options = TrainingOptions(
        exclude_event_ids=verdicts.true_positive, benign_event_ids=verdicts.benign, benign_weight=3
    )
    prepared = prepare_training_events(events, None, options)
    counts = dict(prepared.group_by("event_id").len().iter_rows())
    assert "e000000" not in counts
    assert counts["e000001"] == counts["e000002"] == 3
    assert counts["e000003"] == 1
    assert prepared["event_time"].is_sorted()
