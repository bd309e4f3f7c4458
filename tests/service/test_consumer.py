"""The scorer's Kafka-free steps (decode, features per partition, one scoring call).

The records are plain ``ConsumerRecord`` tuples; delivery through a real broker
is covered by ``tests/integration/test_delivery.py``.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from sqlalchemy import select

import service.consumer as consumer_module
from features.archive import read_archive
from features.decode import normalize_message
from features.pipeline import FEATURE_NAMES
from features.schema import to_frame
from features.state import EntityState
from models.bundle import LoadedModel
from service.config import Settings
from service.consumer import BatchOutcome, ScorerLoop, ShadowSource, _Rebalance
from service.scoring import anomaly_rows, score_events
from service.store.repository import Store
from service.store.tables import ShadowAnomaly
from tests.service.conftest import k8s_event

TOPIC = "audit"


def record(partition: int, offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(TOPIC, partition, None, offset, 0, 0, None, value, [], None, -1, -1, -1)


def assign(loop: ScorerLoop, topic: str = TOPIC, partitions: tuple[int, ...] = (0, 1)) -> None:
    """What the rebalance listener does on an assignment: take over each partition's state."""
    for partition in partitions:
        loop.states.load(TopicPartition(topic, partition))


def stream() -> list[ConsumerRecord]:
    """The model's quiet cluster a week later, in two partitions, with a few odd events.

    Also one message that is not JSON. The usual events keep the training data's
    shape: reads by known users in office hours.
    """
    start = datetime(2026, 3, 9, 8, 0, tzinfo=UTC)
    records = []
    for i in range(120):
        odd = i % 17 == 5
        when = start + timedelta(days=i * 5 // 120, hours=(i * 7) % 9, minutes=i % 60)
        event = k8s_event(
            f"e-{i}",
            when.replace(hour=3) if odd else when,
            user="intruder@example.com" if odd else f"user{i % 6}@example.com",
            verb="create" if odd else ("get", "list", "watch")[i % 3],
            resource="secrets" if odd else "pods",
            namespace="kube-system" if odd else f"team-{i % 3}",
        )
        records.append(record(i % 2, i // 2, orjson.dumps(event)))
    records.append(record(0, 60, b"this is not json"))
    return records


@pytest.fixture
def loop(settings: Settings, tmp_path: Path) -> ScorerLoop:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    return ScorerLoop(settings, store, lambda: None)


def test_a_batch_scores_as_each_partition_would_alone(
    loop: ScorerLoop, scoring_model: LoadedModel
) -> None:
    loop.model = scoring_model
    assign(loop)
    records = stream()
    outcome = BatchOutcome(messages=len(records))
    _, rows = loop.score_records(records, outcome)

    [letter] = outcome.dead_letters
    assert (letter.reason, letter.record.value) == ("not_json", b"this is not json")
    assert outcome.events == 120
    expected: dict[str, float] = {}
    for partition in (0, 1):
        events = [
            e
            for r in records
            if r.partition == partition and r.value != b"this is not json"
            for e in normalize_message(r.value)
        ]
        frame, _ = to_frame(events)
        scored = score_events(scoring_model, frame, scoring_model.model.baseline_state.copy())
        expected |= {r["event_key"]: r["score"] for r in anomaly_rows(scoring_model, scored)}
    flagged = {key.split(":", 1)[1] for key in expected}
    assert flagged == {f"e-{i}" for i in range(120) if i % 17 == 5}, "the odd events are flagged"
    assert {r["event_key"]: r["score"] for r in rows} == expected
    assert all(r["explanation"] and r["summary"] for r in rows)


class _FailsOnDeletes:
    """A detector that cannot score deletions: a stand-in for any scoring bug."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.column = FEATURE_NAMES.index("is_delete")

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        if (X[:, self.column] > 0).any():
            raise ValueError("cannot score a deletion")
        return np.asarray(self.inner.decision_function(X))


LATE = datetime(2026, 3, 13, 23, 0, tzinfo=UTC)  # after every event of the stream


def _scored_with(loop: ScorerLoop, event: dict[str, Any]) -> tuple[BatchOutcome, list[Any]]:
    """The stream and ``event`` after it in partition 1, scored by ``loop``."""
    assign(loop)
    records = [*stream(), record(1, 61, orjson.dumps(event))]
    outcome = BatchOutcome(messages=len(records))
    _, rows = loop.score_records(records, outcome)
    return outcome, rows


def _scored_alone(loop: ScorerLoop, model: LoadedModel) -> tuple[ScorerLoop, list[Any]]:
    """The stream alone, scored by a fresh scorer with ``model``: what to compare with."""
    clean = ScorerLoop(loop.settings, loop.store, lambda: None)
    clean.model = model
    assign(clean)
    _, rows = clean.score_records(stream(), BatchOutcome())
    return clean, rows


def test_a_poison_event_is_dead_lettered_and_the_rest_of_the_batch_is_scored(
    loop: ScorerLoop, scoring_model: LoadedModel
) -> None:
    detectors = {n: _FailsOnDeletes(d) for n, d in scoring_model.model.detectors.items()}
    poisoned_model = dataclasses.replace(scoring_model.model, detectors=detectors)
    loop.model = dataclasses.replace(scoring_model, model=poisoned_model)
    deletion = k8s_event("d-1", LATE, user="user1@example.com", verb="delete", namespace="team-1")
    outcome, rows = _scored_with(loop, deletion)

    by_reason = {letter.reason: letter for letter in outcome.dead_letters}
    assert sorted(letter.reason for letter in outcome.dead_letters) == [
        "not_json",
        "scoring_failed",
    ]
    poisoned = by_reason["scoring_failed"]
    assert poisoned.record.value == orjson.dumps(deletion)
    assert poisoned.error_class == "ValueError"
    assert "cannot score a deletion" in poisoned.message
    assert outcome.events == 120
    # The deletion comes last, so every other event scores as it would without it.
    _, expected = _scored_alone(loop, scoring_model)
    assert expected
    assert {r["event_key"]: r["score"] for r in rows} == {
        r["event_key"]: r["score"] for r in expected
    }


def _failing_on(actor: str, featurize: Callable[..., pl.DataFrame]) -> Callable[..., pl.DataFrame]:
    """``featurize``, except that it fails on any batch holding an event of ``actor``:
    a stand-in for any feature bug that one odd event triggers."""

    def wrapped(events: pl.DataFrame, *args: Any) -> pl.DataFrame:
        if (events["actor"] == actor).any():
            raise ValueError(f"cannot featurize {actor}")
        return featurize(events, *args)

    return wrapped


def test_an_event_that_cannot_be_featurized_is_dead_lettered_and_the_rest_is_scored(
    loop: ScorerLoop, scoring_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one feature call for every partition fails; each partition is then featurized
    alone, the poison event isolated, and every other event scored as without it."""
    for name in ("compute_features", "compute_features_of_parts"):
        monkeypatch.setattr(
            consumer_module, name, _failing_on("mallory", getattr(consumer_module, name))
        )
    loop.model = scoring_model
    poison = k8s_event("p-1", LATE, user="mallory", verb="get", namespace="team-1")
    outcome, rows = _scored_with(loop, poison)

    by_reason = {letter.reason: letter for letter in outcome.dead_letters}
    assert sorted(by_reason) == ["not_json", "scoring_failed"]
    assert by_reason["scoring_failed"].record.value == orjson.dumps(poison)
    assert "cannot featurize mallory" in by_reason["scoring_failed"].message
    monkeypatch.undo()
    clean, expected = _scored_alone(loop, scoring_model)
    scores = {r["event_key"]: r["score"] for r in rows}
    expected_scores = {r["event_key"]: r["score"] for r in expected}
    assert scores.keys() == expected_scores.keys(), "the same events flagged, the poison excepted"
    # The other partition is untouched: its events score exactly as without the poison.
    # (The poisoned one's are split in message order to find it: smaller micro-batches.)
    untouched = {key for key in expected_scores if int(key.rsplit("-", 1)[1]) % 2 == 0}
    assert untouched
    assert {k: scores[k] for k in untouched} == {k: expected_scores[k] for k in untouched}
    for partition in (0, 1):  # every history advanced past its events, the poison's excepted
        mine, theirs = (s.states.get(TopicPartition(TOPIC, partition)) for s in (loop, clean))
        assert mine.entity_count == theirs.entity_count
    assert (
        loop.states.get(TopicPartition(TOPIC, 0))
        .pairs["counts"]
        .equals(clean.states.get(TopicPartition(TOPIC, 0)).pairs["counts"])
    )


def _filled_topic(bootstrap: str, topic: str, messages: int) -> KafkaConsumer:
    """``messages`` records on a one-partition topic, and a consumer assigned to it."""
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    for i in range(messages):
        producer.send(topic, f"message {i}".encode(), partition=0)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    consumer.assign([TopicPartition(topic, 0)])
    return consumer


def _scorer(tmp_path: Path, **settings: int) -> ScorerLoop:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.create_schema()
    loop = ScorerLoop(Settings(data_dir=tmp_path, **settings), store, lambda: None)
    loop.states.seed = EntityState  # no model here: nothing is scored, only polled
    return loop


@pytest.mark.integration
def test_a_drained_stream_is_batched_without_waiting_for_the_maximum(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    loop = _scorer(tmp_path, batch_max_wait_ms=60_000, batch_linger_ms=200)
    consumer = _filled_topic(kafka_bootstrap, f"drained-{unique_name}", 7)
    assign(loop, f"drained-{unique_name}", (0,))
    try:
        started = time.monotonic()
        batch = loop.poll_batch(consumer)
        # Not a speed test: the batch must end because the stream is drained, long
        # before the 60 s maximum would end it.
        assert time.monotonic() - started < 30
    finally:
        consumer.close()
    assert [r.value for r in batch] == [f"message {i}".encode() for i in range(7)]


@pytest.mark.integration
def test_a_backlog_fills_whole_batches(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    loop = _scorer(tmp_path, batch_max_events=10, batch_max_wait_ms=30_000)
    consumer = _filled_topic(kafka_bootstrap, f"backlog-{unique_name}", 25)
    assign(loop, f"backlog-{unique_name}", (0,))
    try:
        sizes = [len(loop.poll_batch(consumer)) for _ in range(3)]
    finally:
        consumer.close()
    assert sizes[:2] == [10, 10]
    assert sizes[2] == 5


@pytest.mark.integration
def test_records_of_a_partition_the_scorer_does_not_own_are_left_unread(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    # Between a revocation and the next assignment the client still returns records of
    # the revoked partitions. Scored then, against a state claimed on the spot, they
    # would skip the records dropped at the revocation; they are left for the next
    # owner, who reads them again from the partition's snapshot.
    topic = f"unowned-{unique_name}"
    loop = _scorer(tmp_path, batch_max_wait_ms=2_000, batch_linger_ms=200)
    consumer = _filled_topic(kafka_bootstrap, topic, 5)
    try:
        assert loop.poll_batch(consumer) == []
        assert not loop.states.owns(TopicPartition(topic, 0))
        with pytest.raises(KeyError, match="not assigned to this scorer"):
            loop.states.get(TopicPartition(topic, 0))
        consumer.seek(TopicPartition(topic, 0), 0)
        assign(loop, topic, (0,))
        assert [r.offset for r in loop.poll_batch(consumer)] == [0, 1, 2, 3, 4]
    finally:
        consumer.close()


@pytest.mark.integration
def test_a_partition_taken_over_commits_its_snapshots_offset_even_with_nothing_new(
    kafka_bootstrap: str, unique_name: str, tmp_path: Path
) -> None:
    # The previous owner saved its snapshot at offset 5 and died before committing: the
    # new owner resumes at 5 and, with nothing more to read, still commits 5, so the
    # group's offset (its lag) does not stay behind for good.
    topic, group = f"taken-{unique_name}", f"taken-{unique_name}"
    tp = TopicPartition(topic, 0)
    previous = _scorer(tmp_path)
    previous.states.load(tp)
    previous.states.save(tp, 5)
    _filled_topic(kafka_bootstrap, topic, 5).close()

    loop = _scorer(tmp_path)
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    try:
        consumer.assign([tp])
        _Rebalance(loop, consumer).on_partitions_assigned([tp])
        assert consumer.position(tp) == 5
        assert loop.poll_batch(consumer) == []
        loop.checkpoint(consumer, list(loop.next_offsets))
        assert consumer.committed(tp) == 5
    finally:
        consumer.close()


def test_a_challenger_is_shadow_scored_on_the_same_events_and_never_alerts(
    loop: ScorerLoop, scoring_model: LoadedModel
) -> None:
    """The same model as challenger flags the same events, as shadow evidence only."""
    loop.model = scoring_model
    challenger = dataclasses.replace(scoring_model, version="8")
    loop._swap_shadow(challenger)
    assign(loop)
    _, rows = loop.score_records(stream(), BatchOutcome())
    loop._store_until_taken(rows)
    loop._store_shadow_rows()

    assert rows
    assert {r["model_version"] for r in rows} == {"7"}
    with loop.store.sessions() as session:
        shadow = session.execute(
            select(ShadowAnomaly.model_version, ShadowAnomaly.event_key, ShadowAnomaly.score)
        ).all()
    assert {(v, key) for v, key, _ in shadow} == {("8", r["event_key"]) for r in rows}
    assert {key: score for _, key, score in shadow} == {r["event_key"]: r["score"] for r in rows}
    assert loop.store.count_anomalies() == len(rows)  # nothing of version 8 in the feed
    buckets = list(loop.shadow_drift.buckets.values())
    assert sum(b.events for b in buckets) == 120
    assert sum(b.alerts for b in buckets) == len(rows)


def test_the_champion_itself_is_not_shadow_scored(
    loop: ScorerLoop, scoring_model: LoadedModel
) -> None:
    loaded: list[str] = []
    loop.model = scoring_model
    loop.shadow_source = ShadowSource(
        version=lambda: scoring_model.version,
        load=lambda v: loaded.append(v) or scoring_model,  # type: ignore[func-returns-value]
    )
    loop._watch_shadow()
    loop.refresh_model()
    assert loop.shadow_model is None
    assert loaded == []


def test_the_long_lived_objects_are_frozen_when_a_model_comes_in_and_only_then(
    loop: ScorerLoop, scoring_model: LoadedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    freezes: list[str] = []

    def freeze() -> None:
        assert loop.model is not None
        freezes.append(loop.model.version)

    monkeypatch.setattr(consumer_module, "freeze_long_lived", freeze)
    loop.model_source = lambda: scoring_model
    loop.refresh_model(force=True)
    loop.refresh_model()  # nothing new offered
    loop.refresh_model(force=True)  # the same version again
    assert freezes == [scoring_model.version]
    loop._offered = dataclasses.replace(scoring_model, version="8")
    loop.refresh_model()
    assert freezes == [scoring_model.version, "8"]


def test_a_new_challenger_is_found_while_the_champion_stays(
    settings: Settings, tmp_path: Path, scoring_model: LoadedModel
) -> None:
    """The model watcher finds a challenger registered under an unchanged champion."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.create_schema()
    challenger = dataclasses.replace(scoring_model, version="8")
    loop = ScorerLoop(
        settings.model_copy(update={"model_refresh_s": 0.05}),
        store,
        lambda: scoring_model,
        version_source=lambda: scoring_model.version,
        shadow=ShadowSource(version=lambda: "8", load=lambda v: challenger),
    )
    loop.model = scoring_model
    watcher = threading.Thread(target=loop._watch_models, daemon=True)
    watcher.start()
    try:
        deadline = time.monotonic() + 10
        while loop._shadow_offered is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop._stop.set()
        watcher.join()
    loop.refresh_model()

    assert loop.model is scoring_model
    assert loop.shadow_model is challenger


def _checkpointing_every_pass(
    kafka_bootstrap: str,
    topic: str,
    settings: Settings,
    tmp_path: Path,
    scoring_model: LoadedModel,
    batch_max_events: int,
) -> tuple[ScorerLoop, KafkaConsumer, KafkaProducer, list[TopicPartition]]:
    """The test stream in ``topic`` and a loop that checkpoints on every pass, with a
    consumer of the topic's two partitions (of group ``topic``) not yet assigned."""
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for r in stream():
        producer.send(topic, r.value, partition=r.partition)
    producer.flush()
    store = Store(f"sqlite:///{tmp_path / f'{topic}.db'}")
    store.create_schema()
    tuned = settings.model_copy(
        update={
            "checkpoint_interval_s": 0.0,
            "batch_max_events": batch_max_events,
            "batch_max_wait_ms": 5_000,
            "dead_letter_topic": f"dlq-{topic}",
            "state_backend": "directory",
        }
    )
    loop = ScorerLoop(tuned, store, lambda: scoring_model)
    loop.model = scoring_model
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap,
        group_id=topic,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    return loop, consumer, producer, [TopicPartition(topic, 0), TopicPartition(topic, 1)]


@pytest.mark.integration
def test_a_checkpoint_is_written_while_the_next_batch_is_scored_and_saves_only_the_settled(
    kafka_bootstrap: str,
    unique_name: str,
    settings: Settings,
    tmp_path: Path,
    scoring_model: LoadedModel,
) -> None:
    # Every pass checkpoints (interval 0). The checkpoint of the second pass is captured
    # after the first batch is stored and written while the second is being scored: its
    # snapshots, committed offsets and archive must hold the first batch and nothing of
    # the second, whose scoring advances the live states meanwhile.
    topic = f"overlap-{unique_name}"
    loop, consumer, producer, partitions = _checkpointing_every_pass(
        kafka_bootstrap, topic, settings, tmp_path, scoring_model, batch_max_events=50
    )
    try:
        consumer.assign(partitions)
        assign(loop, topic)
        loop.process_batch(consumer, producer)
        assert loop._in_flight is not None
        first = list(loop._in_flight.records)
        # The snapshots are written only once the second batch is scored, the worst case.
        backend, save = loop.states.backend, loop.states.backend.save

        def save_after_the_next_batch(*args: Any) -> bool:
            assert loop._in_flight is not None
            loop._in_flight.scored.result()
            return save(*args)

        backend.save = save_after_the_next_batch  # type: ignore[method-assign]
        loop.process_batch(consumer, producer)
        second = loop._in_flight
        assert second is not None, "the second batch is in flight"
        assert second.records
        loop.finish_checkpoint(consumer, commit=True, wait=True)
        settled = {
            tp: max(r.offset for r in first if r.partition == tp.partition) + 1
            for tp in partitions
            if any(r.partition == tp.partition for r in first)
        }
        assert loop.states.saved_offsets == settled
        assert {tp: consumer.committed(tp) for tp in settled} == settled
        archived = read_archive(loop.settings.resolved_archive_url).events
        assert archived["event_id"].sort().to_list() == sorted(
            orjson.loads(r.value)["auditID"] for r in first if r.value.startswith(b"{")
        )
        # The saved states are those of the first batch alone, scored by a scorer of its own.
        alone = loop.settings.model_copy(update={"data_dir": tmp_path / "alone"})
        reference = ScorerLoop(alone, loop.store, lambda: scoring_model)
        reference.model = scoring_model
        assign(reference, topic)
        reference.score_records(first, BatchOutcome())
        second.scored.result()
        for tp in settled:
            saved = EntityState.restore(loop.states.backend.path(tp))  # type: ignore[attr-defined]
            for name, table in reference.states.get(tp).pairs.items():
                assert saved.pairs[name].equals(table), f"{tp.partition}: {name}"
        assert any(
            not loop.states.get(tp).pairs["entity"].equals(saved.pairs["entity"])
            or loop.states.get(tp).pairs["counts"].height != saved.pairs["counts"].height
            for tp in settled
        ), "the live states moved on with the second batch"
    finally:
        consumer.close()
        producer.close()


@pytest.mark.integration
def test_the_loop_polls_and_settles_while_a_checkpoint_is_written_and_commits_it_after(
    kafka_bootstrap: str,
    unique_name: str,
    settings: Settings,
    tmp_path: Path,
    scoring_model: LoadedModel,
) -> None:
    # The snapshot writes of the first periodic checkpoint are held. Meanwhile the loop
    # goes on: later batches are scored and their anomalies stored, no second checkpoint
    # starts, and nothing is committed. Once the writes land, the next pass commits the
    # offsets they saved, and only those.
    topic = f"writer-{unique_name}"
    loop, consumer, producer, partitions = _checkpointing_every_pass(
        kafka_bootstrap, topic, settings, tmp_path, scoring_model, batch_max_events=30
    )
    backend, save = loop.states.backend, loop.states.backend.save
    held = threading.Event()
    saves: list[int] = []

    def held_save(*args: Any) -> bool:
        assert held.wait(60), "the test releases the writes"
        saves.append(args[2])
        return save(*args)

    backend.save = held_save  # type: ignore[method-assign]
    try:
        consumer.assign(partitions)
        assign(loop, topic)
        loop.process_batch(consumer, producer)  # the first batch, nothing to checkpoint yet
        loop.process_batch(consumer, producer)  # settles it; its checkpoint is being written
        writing = loop._writing
        assert writing is not None
        assert not writing.done()
        first_checkpoint = dict(loop.next_offsets)
        stored_before = loop.store.count_anomalies()
        for _ in range(3):
            loop.process_batch(consumer, producer)
        loop.settle(consumer, producer)
        assert loop.next_offsets != first_checkpoint, "later batches were settled meanwhile"
        assert loop.store.count_anomalies() > stored_before, "and their anomalies stored"
        assert loop._writing is writing, "one checkpoint at a time: the held one"
        assert not writing.done()
        assert {tp: consumer.committed(tp) for tp in partitions} == dict.fromkeys(partitions)

        held.set()
        writing.result(timeout=60)
        loop.process_batch(consumer, producer)
        committed = {tp: consumer.committed(tp) for tp in partitions}
        assert committed == {tp: first_checkpoint.get(tp) for tp in partitions}
        # The held checkpoint's saves came first (that pass started the next checkpoint).
        assert sorted(saves[: len(first_checkpoint)]) == sorted(first_checkpoint.values())
    finally:
        held.set()
        consumer.close()
        producer.close()
