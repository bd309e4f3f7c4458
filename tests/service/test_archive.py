"""The scorer archives every event it scores, in the checkpoint that moves its offset."""

from __future__ import annotations

from pathlib import Path

import polars as pl
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


def test_a_range_holds_only_the_rows_below_its_checkpoints_offset(loop: ScorerLoop) -> None:
    # The next batch's rows can arrive while a checkpoint writes its range: they wait for
    # the next checkpoint instead of going into a range that ends before them.
    buffer = loop.archive
    assert buffer is not None
    loop.score_records(stream(), BatchOutcome())
    tp = PARTITIONS[0]
    assert buffer.write(tp, None, 20) == 20
    buffer.committed(tp, 20)
    (pending,) = buffer.pending[tp]
    assert pending["offset"].min() == 20, "what comes after the range stays pending"
    assert buffer.write(tp, 20, 61) == pending.height
    buffer.committed(tp, 61)
    assert tp not in buffer.pending
    offsets = read_archive(buffer.root).events.filter(pl.col("partition") == 0)["offset"]
    assert offsets.sort().to_list() == list(range(60)), "each event once; offset 60 is not JSON"
