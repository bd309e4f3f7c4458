"""The scorer archives every event it scores, in the checkpoint that moves its offset."""

from __future__ import annotations

from pathlib import Path

import pytest
from kafka import TopicPartition

from features.archive import read_archive
from models.bundle import LoadedModel
from service.config import Settings
from service.consumer import BatchOutcome, ScorerLoop
from service.store.repository import Store
from tests.service.test_consumer import TOPIC, assign, stream

PARTITIONS = [TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)]


@pytest.fixture
def loop(settings: Settings, tmp_path: Path, scoring_model: LoadedModel) -> ScorerLoop:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    scorer = ScorerLoop(settings, store, lambda: scoring_model)
    scorer.model = scoring_model
    assign(scorer)
    return scorer


def test_scored_events_are_archived_at_the_checkpoint_with_score_and_model(
    loop: ScorerLoop,
) -> None:
    root = loop.settings.resolved_archive_url
    _, rows = loop.score_records(stream(), BatchOutcome())
    with pytest.raises(Exception, match="no archive"):
        read_archive(root)  # nothing before the checkpoint
    loop.checkpoint(None, PARTITIONS, commit=False)  # type: ignore[arg-type]
    events = read_archive(root).events
    assert events.height == 120, "every scored event, not only the anomalies"
    assert set(events["model_version"]) == {loop.model.version}  # type: ignore[union-attr]
    flagged = dict(events.filter("is_anomaly").select("event_id", "score").iter_rows())
    assert flagged == {r["event_id"]: r["score"] for r in rows}
    assert sorted(set(events["partition"])) == [0, 1]
    assert loop.states.saved_offsets == {PARTITIONS[0]: 61, PARTITIONS[1]: 60}


def test_an_archive_that_cannot_be_written_holds_the_offset_and_the_rows(
    loop: ScorerLoop, tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the archive's directory should be")
    loop.archive.root = str(blocked)  # type: ignore[union-attr]
    loop.score_records(stream(), BatchOutcome())
    loop.checkpoint(None, PARTITIONS, commit=False)  # type: ignore[arg-type]
    assert loop.states.saved_offsets == {}, "no state saved past events not archived"
    blocked.unlink()
    loop.checkpoint(None, PARTITIONS, commit=False)  # type: ignore[arg-type]
    assert read_archive(str(blocked)).events.height == 120
    assert set(loop.states.saved_offsets.values()) == {61, 60}


def test_no_archive_when_it_is_off(
    settings: Settings, tmp_path: Path, scoring_model: LoadedModel
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    off = ScorerLoop(settings.model_copy(update={"archive_enabled": False}), store, lambda: None)
    off.model = scoring_model
    assign(off)
    off.score_records(stream(), BatchOutcome())
    off.checkpoint(None, PARTITIONS, commit=False)  # type: ignore[arg-type]
    assert not Path(settings.resolved_archive_url).exists()
