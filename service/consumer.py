"""The streaming scorer: Kafka micro-batches → normalize → features → score → store → commit.

The loop, once per micro-batch:

1. poll until the batch is full (``batch_max_events``), the stream is drained (no more
   events within ``batch_linger_ms``) or its time is up (``batch_max_wait_ms``);
2. decode and normalize every message; a bad one becomes a dead letter, the rest go on;
3. compute features in one call for the whole batch, each event against its
   partition's entity state (:mod:`service.partition_state`); then score and
   explain the whole batch in one call (scoring is stateless, and each call has
   a fixed cost);
4. store the flagged events (idempotent on the event key);
5. flush the dead letters to the dead-letter topic.

And at every checkpoint — each ``checkpoint_interval_s``, when partitions are
revoked, and when the scorer stops:

6. snapshot each partition's entity state together with its next offset;
7. commit those offsets.

Steps 2 and 3 run in a scoring thread while the next batch is polled (steps 1, 4
and 5 stay in the scorer's thread, in batch order); a checkpoint, a rebalance or a
model swap first waits for the batch in flight and stores it (``settle``).

Offsets therefore only move once the batches before them are stored *and* the
entity state that includes them is on disk. After a crash the next owner of a
partition resumes from its snapshot and that snapshot's offset: the replayed
events are judged against exactly the history they were first judged against,
score the same, and the idempotent store turns at-least-once delivery into an
exactly-once effect.

Between batches the scorer also picks up a new champion model version if the alias
moved (step 8).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import polars as pl
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata

from features.columnar import MESSAGE, normalize_messages
from features.pipeline import compute_features, compute_features_of_parts
from features.schema import parse_event_times
from features.state import EntityState
from models.bundle import LoadedModel
from models.exceptions import IncompatibleModelError
from service import metrics
from service.archive import ArchiveBuffer, archive_rows
from service.config import Settings
from service.drift import DriftMonitor
from service.kafka_group import (
    leave_group,
    new_instance_id,
    resume_stranded_join,
    seconds_since_coordinator_answered,
)
from service.liveness import Progress
from service.long_lived import freeze_long_lived
from service.partition_state import (
    DirectorySnapshots,
    PartitionClaimedError,
    PartitionStates,
    SnapshotBackend,
    StoreSnapshots,
)
from service.scoring import anomaly_rows, score_features
from service.store.repository import Store

log = logging.getLogger(__name__)

ModelSource = Callable[[], LoadedModel | None]


@dataclass(frozen=True)
class ShadowSource:
    """Where the scorer finds the challenger to shadow-score: the version behind its
    alias (None: no challenger) and how to load a version."""

    version: Callable[[], str | None]
    load: Callable[[str], LoadedModel]


T = TypeVar("T")

# How old the consumer's view of the topics may get. kafka-python's default is five
# minutes: a scorer that joined before its topic had partitions (a topic created by
# its first producer, a partition count raised) would sit idle that long.
METADATA_MAX_AGE_MS = 5_000
# How long the group coordinator waits for a member that stopped heartbeating before it
# hands its partitions on (kafka-python's default is 45 s). After a broker restart the
# coordinator may wait this long for the member the scorer was before it; a scorer that
# dies is replaced after it too.
SESSION_TIMEOUT_MS = 10_000
# While a batch is being scored, how long a poll may wait before the scorer looks
# whether the scoring thread is free again.
IN_FLIGHT_POLL_MS = 5
_GROUP_REFUSALS = (RebalanceInProgressError, CommitFailedError)


@dataclass
class DeadLetter:
    record: ConsumerRecord
    error_class: str
    reason: str
    message: str


@dataclass
class BatchOutcome:
    messages: int = 0
    events: int = 0
    anomalies_stored: int = 0
    dead_letters: list[DeadLetter] = field(default_factory=list)


@dataclass
class _InFlight:
    """A polled batch handed to the scoring thread."""

    records: list[ConsumerRecord]
    outcome: BatchOutcome
    started: float
    wall_started: float  # time.time(), against the records' timestamps (debug log)
    scored: Future[tuple[pl.DataFrame, list[dict[str, Any]]]]


# A partition's featurized parts (events, feature matrix) and its poison events.
_Featurized = tuple[
    list[tuple[pl.DataFrame, npt.NDArray[np.float64]]], list[tuple[pl.DataFrame, Exception]]
]


@dataclass(frozen=True)
class _Checkpoint:
    """A checkpoint's content, captured between batches: the next offset of each partition
    and a copy of each state that moved (the live ones go on with the next batch)."""

    offsets: dict[TopicPartition, int]
    states: dict[TopicPartition, EntityState]


@dataclass
class _Written:
    """A checkpoint's snapshots as written: the offsets saved (to commit) and the partitions
    another scorer claimed meanwhile (to release, on the loop's thread)."""

    offsets: dict[TopicPartition, OffsetAndMetadata] = field(default_factory=dict)
    claimed: list[PartitionClaimedError] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def dead_letter_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """Original headers plus where the message came from and why it was rejected."""
    record = letter.record
    original = [(k, v) for k, v in (record.headers or []) if not k.startswith("auditlens.")]
    return [
        *original,
        ("auditlens.error.class", letter.error_class.encode()),
        ("auditlens.error.reason", letter.reason.encode()),
        ("auditlens.error.message", letter.message[:1000].encode("utf-8", "replace")),
        ("auditlens.source.topic", record.topic.encode()),
        ("auditlens.source.partition", str(record.partition).encode()),
        ("auditlens.source.offset", str(record.offset).encode()),
    ]


def score_isolating(
    frame: pl.DataFrame, score: Callable[[pl.DataFrame], list[T]]
) -> tuple[list[T], list[tuple[pl.DataFrame, Exception]]]:
    """Score a batch; if it raises, bisect to find the poison events and score the rest.

    Returns the rows of every part that scored, and each poison event (a one-row
    frame) with its error. A healthy batch costs one call; k poison events cost
    about 2·k·log2(n) calls, so one bad event cannot stop the stream.

    >>> frame = pl.DataFrame({"x": [1, 2, 3, 4]})
    >>> def score(part):
    ...     if 3 in part["x"].to_list():
    ...         raise ValueError("poison")
    ...     return part.to_dicts()
    >>> rows, poisoned = score_isolating(frame, score)
    >>> [r["x"] for r in rows], [(p["x"].to_list(), str(e)) for p, e in poisoned]
    ([1, 2, 4], [([3], 'poison')])
    """
    if frame.height == 0:
        return [], []
    try:
        return score(frame), []
    except Exception as exc:  # any failure: find the event(s) that cause it
        if frame.height == 1:
            return [], [(frame, exc)]
    middle = frame.height // 2
    left_rows, left_bad = score_isolating(frame.head(middle), score)
    right_rows, right_bad = score_isolating(frame.slice(middle), score)
    return left_rows + right_rows, left_bad + right_bad


class ScorerLoop:
    """Consumes the configured topics until :meth:`stop` is called."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        model_source: ModelSource,
        version_source: Callable[[], str | None] | None = None,
        shadow: ShadowSource | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.model_source = model_source
        # The version behind the alias, asked before loading: one registry query every
        # model_refresh_s instead of loading the whole model each time.
        self.version_source = version_source
        self.model: LoadedModel | None = None
        self._stop = threading.Event()
        self.assigned_partitions = 0
        # The newest version the model watcher has seen (swapped in between batches), and
        # whether the registry answered its last look; see _watch_models.
        self._offered: LoadedModel | None = None
        self.registry_reachable = True
        # Whether the store took the last write (False while it is down and retried).
        self.store_reachable = True
        self.last_checkpoint = time.monotonic()
        # This process's static group membership, kept across reconnects; it also names
        # the owner of the partition states it claims.
        self.instance_id = new_instance_id()
        # Live counts against the model's training distribution (service.drift).
        self.drift = DriftMonitor(self.instance_id)
        # The challenger scored alongside the champion (None: no challenger), how to
        # find it, and its own drift counts; see _watch_shadow and _shadow_score.
        self.shadow_source = shadow
        self.shadow_model: LoadedModel | None = None
        self._shadow_offered: tuple[LoadedModel | None] | None = None
        self.shadow_drift = DriftMonitor(self.instance_id, shadow=True)
        self._shadow_rows: list[dict[str, Any]] = []
        self.states = PartitionStates(
            self._snapshot_backend(), self._seed_state, settings.state_max_entries
        )
        # Next offset to read per partition, as far as this scorer has processed it.
        self.next_offsets: dict[TopicPartition, int] = {}
        # Scored events waiting for their partition's checkpoint to be archived.
        self.archive = (
            ArchiveBuffer(settings.resolved_archive_url, settings.archive_retention_days)
            if settings.archive_enabled
            else None
        )
        # Partitions revoked or assigned by a rebalance during the current poll.
        self.moved_partitions: set[TopicPartition] = set()
        # What /livez reads: whether batches finish.
        self.progress = Progress()
        self.ended = False
        # The consumer in use (None between connections) and when the group last assigned
        # partitions: /readyz reads the coordinator's silence from them when asked, not
        # from a value the scorer thread would stop refreshing if a call blocked it.
        self._consumer: KafkaConsumer | None = None
        self._producer: KafkaProducer | None = None
        self.joined_at: float | None = None
        # The batch being scored while the next one is polled (see process_batch).
        self._scoring_thread = ThreadPoolExecutor(1, thread_name_prefix="scoring")
        self._in_flight: _InFlight | None = None
        # The periodic checkpoint being written (see process_batch); committed once written.
        self._checkpoint_thread = ThreadPoolExecutor(1, thread_name_prefix="checkpoint")
        self._writing: Future[_Written] | None = None
        # A batch that failed while the rebalance listener settled it, raised after the poll.
        self._failure: Exception | None = None

    # --- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    @property
    def ready(self) -> bool:
        return self.model is not None and self.assigned_partitions > 0

    def _snapshot_backend(self) -> SnapshotBackend:
        directory = DirectorySnapshots(
            self.settings.data_dir / "state" / self.settings.consumer_group
        )
        if self.settings.state_backend == "directory":
            return directory
        return StoreSnapshots(
            self.store, self.settings.consumer_group, self.instance_id, legacy=directory
        )

    def _seed_state(self) -> EntityState:
        """History for a partition never seen before: the end of the model's training data."""
        assert self.model is not None
        state = self.model.model.baseline_state.copy()
        state.max_entries = self.settings.state_max_entries
        return state

    def _connect(self) -> tuple[KafkaConsumer, KafkaProducer]:
        servers = self.settings.kafka_bootstrap_servers
        reconnect_ms = int(self.settings.reconnect_max_s * 1000)
        consumer = KafkaConsumer(
            bootstrap_servers=servers,
            group_id=self.settings.consumer_group,
            group_instance_id=self.instance_id,  # static: see service.kafka_group
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self.settings.batch_max_events,
            client_id="auditlens-scorer",
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            # kafka-python backs off up to 30 s between reconnects by default: a broker
            # back from a restart would wait that long to be noticed.
            reconnect_backoff_max_ms=reconnect_ms,
        )
        producer = KafkaProducer(
            bootstrap_servers=servers,
            acks="all",
            linger_ms=5,
            reconnect_backoff_max_ms=reconnect_ms,
        )
        consumer.subscribe(self.settings.topic_list, listener=_Rebalance(self, consumer, producer))
        return consumer, producer

    def run(self) -> None:
        """Block until stopped; waits for a champion model before consuming anything.

        Nothing stops the scorer but :meth:`stop`: if consuming fails (the broker is
        gone, the store is down), the error is logged and counted, and the scorer
        reconnects after a pause, resuming from its last checkpoint. Only a model it
        must refuse ends it early; ``ended`` then tells ``/livez``.
        """
        try:
            self._run()
        finally:
            self.ended = True

    def _run(self) -> None:
        while self.model is None and not self._stop.is_set():
            try:
                self.refresh_model(force=True)
            except IncompatibleModelError:
                raise
            except Exception as exc:  # the registry is not up yet: wait for it
                self.registry_reachable = False
                log.warning("the model registry is unreachable; waiting: %s", exc)
                self._stop.wait(2.0)
                continue
            self.registry_reachable = True
            if self.model is None:
                log.warning("no model carries the alias %r yet; waiting", self.settings.model_alias)
                self._stop.wait(2.0)
        watcher = threading.Thread(target=self._watch_models, name="model-watcher", daemon=True)
        watcher.start()
        cap = self.settings.reconnect_max_s
        pause = min(0.25, cap)
        while not self._stop.is_set():
            try:
                self._consume()
                return
            except Exception:
                metrics.SCORER_RESTARTS.inc()
                log.exception("the scorer failed; reconnecting in %.2f s", pause)
                self._stop.wait(pause)
                pause = min(pause * 2, cap)  # short and capped: resume soon after a return

    def _consume(self) -> None:
        consumer, producer = self._connect()
        self._consumer, self._producer = consumer, producer
        try:
            while not self._stop.is_set():
                self.process_batch(consumer, producer)  # and the checkpoint when it is due
                if self._offered is not None or self._shadow_offered is not None:
                    self.settle(consumer, producer)  # a batch is scored by one model throughout
                    self.refresh_model()
            self.settle(consumer, producer)
            self.checkpoint(consumer, list(self.next_offsets))  # the final, forced checkpoint
        finally:
            # A batch still being scored (the loop failed) is dropped: its offsets were
            # never committed, so the partitions' next owners read it again.
            self._abandon_in_flight()
            self._abandon_checkpoint()
            if self.archive is not None:  # rows of partitions given up while it was scored
                for tp in list(self.archive.pending):
                    if not self.states.owns(tp):
                        self.archive.drop(tp)
            self._producer = None
            self.assigned_partitions = 0
            self._consumer = None
            self.joined_at = None
            try:
                consumer.close(autocommit=False)
            finally:
                producer.close(timeout=10)
            if self._stop.is_set():  # for good: hand the partitions over now
                leave_group(
                    self.settings.kafka_bootstrap_servers,
                    self.settings.consumer_group,
                    self.instance_id,
                    self.settings.dependency_timeout_s,
                )

    def checkpoint(
        self, consumer: KafkaConsumer, partitions: list[TopicPartition], commit: bool = True
    ) -> None:
        """Steps 6 and 7: snapshot each partition's state with its next offset, then commit.

        Offsets are the scorer's own record of what it processed, so a checkpoint
        needs no request to the broker; the rebalance listener, which runs inside
        the scorer's poll, checkpoints without committing (the next owner resumes
        from the snapshot's offset either way). Nothing may be in flight: the
        periodic checkpoint of :meth:`process_batch` is written by the checkpoint
        thread, and this one waits for it first.
        """
        self.finish_checkpoint(consumer, commit, wait=True)
        captured = self._capture(partitions)
        self.last_checkpoint = time.monotonic()
        self._commit_checkpoint(consumer, self._write_checkpoint(captured, commit), commit)

    def finish_checkpoint(self, consumer: KafkaConsumer, commit: bool, wait: bool) -> None:
        """Commit the checkpoint the checkpoint thread wrote, if it is done (or ``wait``)."""
        writing = self._writing
        if writing is None or not (wait or writing.done()):
            return
        self._writing = None
        self._commit_checkpoint(consumer, writing.result(), commit)

    def _capture(self, partitions: list[TopicPartition]) -> _Checkpoint:
        """What a checkpoint saves, as of the batches settled so far: the next offset of
        every partition processed since its state was loaded, with a copy of the state
        when it moved since its last snapshot."""
        offsets = {tp: self.next_offsets[tp] for tp in partitions if tp in self.next_offsets}
        states = {
            tp: state
            for tp, next_offset in offsets.items()
            if (state := self.states.due(tp, next_offset)) is not None
        }
        return _Checkpoint(offsets, states)

    def _write_checkpoint(self, captured: _Checkpoint, flush_drift: bool) -> _Written:
        """Step 6: the archive and the snapshots of a captured checkpoint (and the drift
        counts). Touches no broker client and releases no partition, so it runs on the
        checkpoint thread while the loop polls and settles; see :meth:`_commit_checkpoint`."""
        started = time.perf_counter()
        written = _Written()
        archive_s = 0.0
        for tp, next_offset in captured.offsets.items():
            try:
                # The archive first: a saved offset always has its events archived.
                archiving = time.perf_counter()
                archived = self._archive_range(tp, next_offset)
                archive_s += time.perf_counter() - archiving
                self.states.save(
                    tp, next_offset, captured.states.get(tp), release_when_claimed=False
                )
            except PartitionClaimedError as exc:
                if self.archive is not None:
                    self.archive.drop(tp)
                written.claimed.append(exc)
                continue
            except Exception as exc:
                # The store (or the archive) is away: the state and the pending archive rows
                # stay in memory and the next checkpoint writes them with a later offset;
                # its offset is not committed meanwhile, so the committed offset never
                # gets ahead of the saved state.
                metrics.STATE_SAVE_FAILURES.inc()
                log.warning("saving %s-%s's state failed; retried: %s", tp.topic, tp.partition, exc)
                continue
            if self.archive is not None:
                self.archive.committed(tp, next_offset)
                metrics.ARCHIVED_EVENTS.inc(archived)
            written.offsets[tp] = OffsetAndMetadata(next_offset, "", -1)
        saved = time.perf_counter()
        if flush_drift:  # not from the rebalance listener, which must not wait on the store
            self._flush_drift()
        written.seconds = {
            "archive": archive_s,
            "states": saved - started - archive_s,
            "drift": time.perf_counter() - saved,
        }
        metrics.CHECKPOINT_SECONDS.observe(time.perf_counter() - started)
        return written

    def _commit_checkpoint(self, consumer: KafkaConsumer, written: _Written, commit: bool) -> None:
        """Step 7, on the loop's thread: commit what was saved, release what was claimed."""
        started = time.perf_counter()
        for refused in written.claimed:
            self.states.release(refused.tp)
        if commit and written.offsets:
            try:
                consumer.commit(written.offsets)
            except KafkaError as exc:
                # The snapshots just written hold these offsets, and the next owner of a
                # partition resumes from its snapshot: a commit that fails because the
                # broker is away loses nothing and is made again at the next checkpoint.
                # Reconnecting instead would join the group as a new member, which the
                # coordinator holds up until the old one's session expires. A commit
                # refused by the group (a rebalance) still reconnects: a fresh join is
                # what settles it.
                if not getattr(exc, "retriable", False) or isinstance(exc, _GROUP_REFUSALS):
                    raise
                metrics.COMMIT_FAILURES.inc()
                log.warning("committing offsets failed; the next checkpoint retries: %s", exc)
        seconds = written.seconds
        log.debug(
            "checkpoint of %d partitions: archive %.0f ms, states %.0f, drift %.0f, commit %.0f",
            len(written.offsets) + len(written.claimed),
            seconds.get("archive", 0.0) * 1000,
            seconds.get("states", 0.0) * 1000,
            seconds.get("drift", 0.0) * 1000,
            (time.perf_counter() - started) * 1000,
        )
        metrics.STATE_ENTITIES.set(self.states.entities())
        metrics.STATE_ROWS.set(self.states.size_rows())
        if written.claimed and commit:
            # Another scorer holds these partitions now: reconnect, so that the group's
            # next assignment, not this scorer's memory, decides what it owns.
            raise written.claimed[0]
        for refused in written.claimed:
            log.warning("%s", refused)

    def _flush_drift(self) -> None:
        monitors = [self.drift] + ([self.shadow_drift] if self.shadow_model else [])
        for monitor in monitors:
            try:
                monitor.flush(self.store)
            except Exception as exc:  # counts stay in memory; the next checkpoint writes them
                log.warning("saving drift counts failed; retried: %s", exc)

    def _archive_range(self, tp: TopicPartition, next_offset: int) -> int:
        if self.archive is None:
            return 0
        try:
            return self.archive.write(tp, self.states.saved_offsets.get(tp), next_offset)
        except Exception:
            metrics.ARCHIVE_WRITE_FAILURES.inc()
            raise

    def refresh_model(self, force: bool = False) -> None:
        """Swap in the version behind the alias; only ever called between batches.

        ``force`` loads now (at start, before any model); otherwise the version the
        model watcher found is taken, so a slow or unreachable registry never holds
        up a batch.
        """
        previous, previous_shadow = self.model, self.shadow_model
        if force:
            loaded = self.model_source()
        else:
            loaded, self._offered = self._offered, None
        if loaded is not None and (self.model is None or loaded.version != self.model.version):
            log.info("scoring with %s version %s", loaded.name, loaded.version)
            self.model = loaded
            metrics.MODEL_VERSION.labels(loaded.name).set(float(loaded.version))
        offered, self._shadow_offered = self._shadow_offered, None
        if offered is not None:
            self._swap_shadow(offered[0])
        if self.model is not previous or self.shadow_model is not previous_shadow:
            freeze_long_lived()  # the models stay until the next swap: out of the GC's passes

    def _swap_shadow(self, challenger: LoadedModel | None) -> None:
        if challenger is None:
            if self.shadow_model is not None:
                log.info("no challenger any more: shadow scoring stops")
                self._flush_drift()
                metrics.SHADOW_MODEL_VERSION.labels(self.shadow_model.name).set(float("nan"))
            self.shadow_model = None
            return
        log.info("shadow-scoring challenger %s version %s", challenger.name, challenger.version)
        if self.shadow_model is not None:
            self._flush_drift()  # the previous challenger's last counts
        self.shadow_model = challenger
        self.shadow_drift.use(challenger)
        metrics.SHADOW_MODEL_VERSION.labels(challenger.name).set(float(challenger.version))

    def _watch_models(self) -> None:
        """Look at the registry every ``model_refresh_s``, in its own thread.

        While the tracking server is unreachable the scorer goes on with the model it
        has (``registry_reachable`` is False, ``/readyz`` reports it); a version of
        another feature set is refused and logged, never swapped in.
        """
        while not self._stop.wait(self.settings.model_refresh_s):
            try:
                if (
                    self.version_source is not None
                    and self.model is not None
                    and self.version_source() in (None, self.model.version)
                ):
                    self.registry_reachable = True
                    self._watch_shadow()  # a new challenger moves no champion
                    continue
                loaded = self.model_source()
            except IncompatibleModelError as exc:
                current = self.model
                log.error(
                    "keeping %s version %s: %s",
                    current.name if current else "-",
                    current.version if current else "-",
                    exc,
                )
                continue
            except Exception as exc:
                if self.registry_reachable:
                    log.warning("the model registry is unreachable; scoring on: %s", exc)
                self.registry_reachable = False
                continue
            if not self.registry_reachable:
                log.info("the model registry is reachable again")
            self.registry_reachable = True
            if loaded is not None and (self.model is None or loaded.version != self.model.version):
                self._offered = loaded
            self._watch_shadow()

    def _watch_shadow(self) -> None:
        """Offer the challenger to shadow-score, when it changed (or went away).

        A challenger that is the champion, or that computes other features, is not
        shadow-scored; a failure here never touches the champion's scoring.
        """
        if self.shadow_source is None or self.model is None:
            return
        current = self.shadow_model.version if self.shadow_model else None
        try:
            version = self.shadow_source.version()
            if version == self.model.version:
                version = None
            if version == current:
                return
            challenger = None if version is None else self.shadow_source.load(version)
        except Exception as exc:
            metrics.SHADOW_FAILURES.labels("load").inc()
            log.warning("not shadow-scoring the challenger: %s", exc)
            return
        if challenger is not None and (
            challenger.model.feature_names != self.model.model.feature_names
        ):
            log.warning(
                "not shadow-scoring version %s: it reads other features than version %s",
                challenger.version,
                self.model.version,
            )
            return
        self._shadow_offered = (challenger,)

    # --- one micro-batch -------------------------------------------------------------

    def poll_batch(self, consumer: KafkaConsumer) -> list[ConsumerRecord]:
        """Step 1: fill a batch until it is full, the stream is drained, or its time is up.

        Natural batching: the first poll waits up to ``batch_max_wait_ms`` for any
        event; after that each poll waits only ``batch_linger_ms``, and a poll that
        brings nothing ends the batch. A quiet stream is scored as soon as events
        arrive (latency), a backlog fills whole batches (throughput, since every
        batch has a fixed cost), and nothing waits longer than the maximum. While
        the previous batch is being scored, the polls are short: once the scoring
        thread is free, what has arrived is the batch (so a batch holds what came
        while the last one was scored), and with nothing arrived the previous
        batch's anomalies are stored at once rather than after the wait.
        """
        records: list[ConsumerRecord] = []
        deadline = time.monotonic() + self.settings.batch_max_wait_ms / 1000
        while len(records) < self.settings.batch_max_events and not self._stop.is_set():
            remaining_ms = int((deadline - time.monotonic()) * 1000)
            if remaining_ms <= 0:
                break
            if records:
                remaining_ms = min(remaining_ms, self.settings.batch_linger_ms)
            in_flight = self._in_flight
            if in_flight is not None and in_flight.scored.done():
                if records:
                    break  # the scoring thread is free: what arrived meanwhile is the batch
                if self._producer is not None:
                    self.settle(consumer, self._producer)  # its anomalies out without waiting
            elif in_flight is not None:
                remaining_ms = min(remaining_ms, IN_FLIGHT_POLL_MS)  # look at it again soon
            self.moved_partitions.clear()
            polled = consumer.poll(
                timeout_ms=remaining_ms,
                max_records=self.settings.batch_max_events - len(records),
            )
            if resume_stranded_join(consumer):
                metrics.GROUP_JOINS_RESUMED.inc()
            if self.moved_partitions:
                # A rebalance ran inside this poll: each partition it handed over (even
                # back to this scorer) resumes from its snapshot's offset (or its start),
                # so what was read of it before is read again; keeping it would count it
                # twice.
                records = [
                    r
                    for r in records
                    if TopicPartition(r.topic, r.partition) not in self.moved_partitions
                ]
            # Between a revocation and the next assignment the client still hands out
            # records of the revoked partitions; they are read again, from the
            # snapshot's offset, by whichever scorer is assigned the partition next.
            arrived = [
                record for tp, part in polled.items() if self.states.owns(tp) for record in part
            ]
            if not arrived and records:
                break
            records.extend(arrived)
        self.assigned_partitions = len(consumer.assignment())
        return records

    def process_batch(self, consumer: KafkaConsumer, producer: KafkaProducer) -> None:
        """Steps 1-5, pipelined: the next batch is polled while this one is scored.

        Polling is Python work in kafka-python; decoding, features and scoring are
        mostly polars, numpy and scikit-learn, which release the GIL. So the scoring
        thread scores batch ``n`` while this thread fetches batch ``n + 1``; batch
        ``n``'s anomalies are stored, its dead letters sent and its outcome counted
        here, in order, before ``n + 1`` is handed over. At most one batch is in flight,
        and every checkpoint, rebalance and model swap settles it first, so offsets
        and snapshots only ever cover stored batches. The periodic checkpoint is
        captured between two batches and written by the checkpoint thread, one at a
        time, while the loop polls and settles; the loop commits it once it is written.
        """
        records = self.poll_batch(consumer)
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure
        self.settle(consumer, producer)
        self.finish_checkpoint(consumer, commit=True, wait=False)
        due = (
            self._writing is None
            and time.monotonic() - self.last_checkpoint >= self.settings.checkpoint_interval_s
        )
        # Captured before the next batch moves the offsets and the states, and written by
        # the checkpoint thread: neither the scoring thread nor the polls wait for the store.
        captured = self._capture(list(self.next_offsets)) if due else None
        if records:
            self.progress.started()
            outcome = BatchOutcome(messages=len(records))
            self._in_flight = _InFlight(
                records,
                outcome,
                time.perf_counter(),
                time.time(),
                self._scoring_thread.submit(self.score_records, records, outcome),
            )
        else:
            self.progress.polled(backlog=self._observe_lag(consumer))
        if captured is not None:
            self.last_checkpoint = time.monotonic()
            self._writing = self._checkpoint_thread.submit(self._write_checkpoint, captured, True)

    def settle(self, consumer: KafkaConsumer, producer: KafkaProducer) -> None:
        """Finish the batch in flight, if any: wait for its scores, then steps 4 and 5."""
        batch, self._in_flight = self._in_flight, None
        if batch is None:
            return
        events, rows = batch.scored.result()
        scored = time.perf_counter()
        # Step 4: durable, idempotent store.
        batch.outcome.anomalies_stored = self._store_until_taken(rows)
        self._store_shadow_rows()
        stored = time.perf_counter()
        # Step 5: dead letters out before the offsets can move.
        self._send_dead_letters(producer, batch.outcome.dead_letters)
        self._observe(batch.records, events, batch.outcome, time.perf_counter() - batch.started)
        self.progress.finished(backlog=self._observe_lag(consumer))
        if log.isEnabledFor(logging.DEBUG):
            # The record timestamps are the producers' clocks (or the broker's): a hint only.
            oldest = min(r.timestamp for r in batch.records) / 1000
            log.debug(
                "batch of %d messages, %d events: scored %.0f ms after its poll, stored in "
                "%.0f ms; its oldest message was %.0f ms old when scoring started",
                len(batch.records),
                batch.outcome.events,
                (scored - batch.started) * 1000,
                (stored - scored) * 1000,
                (batch.wall_started - oldest) * 1000,
            )

    def settle_in_listener(self, consumer: KafkaConsumer, producer: KafkaProducer) -> bool:
        """:meth:`settle` from the rebalance listener; False if the batch failed.

        kafka-python logs and swallows a listener's exception, so the failure is kept
        and raised by :meth:`process_batch` after the poll (the scorer reconnects).
        """
        try:
            self.settle(consumer, producer)
        except Exception as exc:
            self._failure = exc
            return False
        return True

    def _abandon_in_flight(self) -> None:
        batch, self._in_flight = self._in_flight, None
        if batch is not None:
            try:
                batch.scored.result()  # let it end before the states are touched again
            except Exception:
                log.debug("the abandoned batch failed too", exc_info=True)

    def _abandon_checkpoint(self) -> None:
        """Let a checkpoint being written end, uncommitted, before the states are loaded again;
        a partition claimed meanwhile is released (its next owner has it)."""
        writing, self._writing = self._writing, None
        if writing is None:
            return
        try:
            for refused in writing.result().claimed:
                self.states.release(refused.tp)
        except Exception:
            log.debug("the abandoned checkpoint failed too", exc_info=True)

    def _store_shadow_rows(self) -> None:
        """Write the challenger's would-be anomalies once; evidence, so a store that fails
        right after taking the batch costs some evidence (counted), never an alert."""
        rows, self._shadow_rows = self._shadow_rows, []
        if not rows:
            return
        try:
            metrics.SHADOW_ANOMALIES.inc(self.store.insert_shadow_anomalies(rows))
        except Exception as exc:
            metrics.SHADOW_FAILURES.labels("store").inc()
            log.warning("storing %d shadow anomalies failed: %s", len(rows), exc)

    @property
    def broker_answering(self) -> bool:
        """The group coordinator answered a heartbeat within a session timeout."""
        consumer = self._consumer
        if consumer is None:
            return False
        silent = seconds_since_coordinator_answered(consumer, self.joined_at)
        return silent is not None and silent <= SESSION_TIMEOUT_MS / 1000

    def _store_until_taken(self, rows: list[dict[str, Any]]) -> int:
        """Insert the batch's anomalies, retrying while the store is down.

        The batch stays in hand (its offsets do not move) and is retried with a short
        capped backoff, so the scorer resumes within seconds of the store's return,
        with nothing lost and (the insert is idempotent) nothing twice.
        """
        pause = min(0.1, self.settings.reconnect_max_s)
        while True:
            try:
                stored = self.store.insert_anomalies(rows)
            except Exception as exc:
                if self._stop.is_set():
                    raise
                if self.store_reachable:
                    log.warning("the store is unavailable; retrying the batch: %s", exc)
                self.store_reachable = False
                metrics.STORE_RETRIES.inc()
                self._stop.wait(pause)
                pause = min(pause * 2, self.settings.reconnect_max_s)
                continue
            if not self.store_reachable:
                log.info("the store is available again")
            self.store_reachable = True
            return stored

    def score_records(
        self, records: list[ConsumerRecord], outcome: BatchOutcome
    ) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
        """Steps 2 and 3: the batch's normalized events and the anomaly rows to store.

        The events' ``_origin`` is the index, in ``records``, of the message each came
        from. Bad messages and poison events land in ``outcome.dead_letters``; no
        broker call is made here, so the step can be exercised with plain records.
        """
        # Where each message came from, as columns (row i: records[i]).
        messages = pl.DataFrame(
            {
                "topic": [r.topic for r in records],
                "partition": [r.partition for r in records],
                "offset": [r.offset for r in records],
            },
            schema={"topic": pl.String, "partition": pl.Int64, "offset": pl.Int64},
        )
        partitions = (
            messages.group_by("topic", "partition", maintain_order=True)
            .agg(pl.col("offset").max())
            .with_row_index("_partition")
        )
        owned = [
            TopicPartition(topic, partition)
            for topic, partition in partitions.select("topic", "partition").iter_rows()
        ]
        for tp, last in zip(owned, partitions["offset"], strict=True):
            self.next_offsets[tp] = max(self.next_offsets.get(tp, 0), last + 1)
        # Step 2: bytes -> normalized frame, in columns (features.columnar).
        pinned = self.settings.pinned_sources
        decoded = normalize_messages(
            [r.value or b"" for r in records],
            [pinned.get(r.topic) for r in records],
            self.settings.max_message_bytes,
            # Policy reports are re-sent whole: score only results that are new or changed.
            keep=lambda index, rows: self.states.get(
                TopicPartition(records[index].topic, records[index].partition)
            ).reports.new_or_changed(rows),
        )
        for index, error in decoded.errors:
            outcome.dead_letters.append(
                DeadLetter(records[index], type(error).__name__, error.reason, str(error))
            )
        events = decoded.frame.rename({MESSAGE: "_origin"})
        frame, bad_times = parse_event_times(events)
        for event_id, event_time, index in bad_times.select(
            "event_id", "event_time", "_origin"
        ).iter_rows():
            outcome.dead_letters.append(
                DeadLetter(
                    records[index],
                    "AdapterError",
                    "bad_timestamp",
                    f"event {event_id!r}: unparseable time {event_time!r}",
                )
            )
        # Step 3: features, each partition against its own history, then one scoring call.
        partition_of = messages.join(
            partitions.drop("offset"), on=["topic", "partition"], maintain_order="left"
        )["_partition"]
        frame = frame.with_columns(partition_of.gather(frame["_origin"]))
        featured: list[tuple[pl.DataFrame, npt.NDArray[np.float64]]] = []
        for pieces, poisoned in self._featurize_partitions(frame, owned):
            featured.extend(pieces)
            self._dead_letter_poisoned(poisoned, records, outcome)
        return events, self._score(featured, records, messages, outcome)

    def _featurize_partitions(
        self, frame: pl.DataFrame, owned: list[TopicPartition]
    ) -> list[_Featurized]:
        """Every partition's events with their feature matrix, and the poison events.

        ``frame["_partition"]`` indexes ``owned``. One feature call serves every
        partition, each against its own history (``compute_features_of_parts``): on
        a small batch the fixed cost of a call is most of the work. Should that
        call fail, each partition is featurized alone (:meth:`_featurize`), which
        isolates the poison events; histories only advance on success.
        """
        model = self.model
        assert model is not None
        if frame.height == 0:
            return []
        # Partition by partition, as they first appear: the order anomalies are stored in.
        frame = frame.sort("_partition", maintain_order=True)
        states = [self.states.get(tp) for tp in owned]
        trials = [state.copy(share_reports=True) for state in states]
        try:
            features = compute_features_of_parts(frame.drop("_origin"), "_partition", trials)
            X = model.model.matrix(features)
        except Exception:  # a poison event among them: find it partition by partition
            return [
                self._featurize(part.drop("_partition"), owned[int(position)])
                for (position,), part in frame.partition_by(
                    "_partition", maintain_order=True, as_dict=True
                ).items()
            ]
        for state, trial in zip(states, trials, strict=True):
            state.pairs, state.tails = trial.pairs, trial.tails
        return [([(frame.drop("_partition"), X)], [])]

    def _featurize(self, frame: pl.DataFrame, tp: TopicPartition) -> _Featurized:
        """One partition's events with their feature matrix, and the poison events.

        An event whose features cannot be computed is isolated (the caller
        dead-letters it); the partition's history advances past every other event.
        """
        model = self.model
        assert model is not None
        state = self.states.get(tp)

        def featurize(part: pl.DataFrame) -> list[tuple[pl.DataFrame, npt.NDArray[np.float64]]]:
            # Against a copy: the partition's history only advances on success.
            trial = state.copy(share_reports=True)
            X = model.model.matrix(compute_features(part.drop("_origin"), trial))
            state.pairs, state.tails = trial.pairs, trial.tails
            return [(part, X)]

        return score_isolating(frame, featurize)

    def _score(
        self,
        featured: list[tuple[pl.DataFrame, npt.NDArray[np.float64]]],
        origin: list[ConsumerRecord],
        messages: pl.DataFrame,
        outcome: BatchOutcome,
    ) -> list[dict[str, Any]]:
        """Score and explain the batch's featured events at once; anomaly rows to store."""
        model = self.model
        assert model is not None
        if not featured:
            return []
        self.drift.use(model)
        # ``_x`` is each event's row of X, so that bisected parts find their features.
        frame = pl.concat([part for part, _ in featured], how="vertical_relaxed").with_row_index(
            "_x"
        )
        X = np.vstack([matrix for _, matrix in featured])

        scored: list[pl.DataFrame] = []

        def score(part: pl.DataFrame) -> list[dict[str, Any]]:
            cpu = time.process_time()
            features = X[part["_x"].to_numpy()]
            batch = score_features(model, part.drop("_x", "_origin"), features)
            rows = anomaly_rows(model, batch)
            scored.append(batch.frame.with_columns(part["_origin"]))
            self.drift.observe(
                features,
                batch.frame["score"].to_numpy(),
                int(batch.frame["is_anomaly"].sum()),
                cpu_seconds=time.process_time() - cpu,
            )
            return rows

        rows, poisoned = score_isolating(frame, score)
        self._dead_letter_poisoned(poisoned, origin, outcome)
        self.drift.observe_errors(sum(part.height for part, _ in poisoned))
        self._shadow_score(frame, X, poisoned)
        if self.archive is not None and scored:
            self.archive.add(archive_rows(scored, messages, model))
        outcome.events += frame.height - sum(part.height for part, _ in poisoned)
        return rows

    def _shadow_score(
        self,
        frame: pl.DataFrame,
        X: npt.NDArray[np.float64],
        poisoned: list[tuple[pl.DataFrame, Exception]],
    ) -> None:
        """Score what the champion scored with the challenger too; keep its would-be
        anomalies for the store (after the champion's) and count its drift."""
        challenger = self.shadow_model
        if challenger is None:
            return
        started, cpu = time.perf_counter(), time.process_time()
        if poisoned:  # events the champion could not score are not the challenger's test
            bad = pl.concat([part.select("_x") for part, _ in poisoned])["_x"]
            frame = frame.filter(~pl.col("_x").is_in(bad.implode()))
        if frame.height == 0:
            return
        try:
            features = X[frame["_x"].to_numpy()]
            # Scores only: the challenger's flagged events are evidence, not explained alerts.
            result = challenger.model.score_matrix(features)
        except Exception as exc:
            metrics.SHADOW_FAILURES.labels("score").inc()
            log.warning("shadow scoring with version %s failed: %s", challenger.version, exc)
            return
        flagged = np.flatnonzero(result.is_anomaly)
        picked = frame[flagged.tolist()].select("source", "event_id", "event_time")
        self._shadow_rows.extend(
            {
                "model_name": challenger.name,
                "model_version": challenger.version,
                "event_key": f"{source}:{event_id}",
                "event_id": event_id,
                "source": source,
                "event_time": event_time,
                "score": float(score),
            }
            for (source, event_id, event_time), score in zip(
                picked.iter_rows(), result.score[flagged], strict=True
            )
        )
        self.shadow_drift.observe(
            features, result.score, int(flagged.size), cpu_seconds=time.process_time() - cpu
        )
        metrics.SHADOW_EVENTS.inc(frame.height)
        metrics.SHADOW_SECONDS.observe(time.perf_counter() - started)

    @staticmethod
    def _dead_letter_poisoned(
        poisoned: list[tuple[pl.DataFrame, Exception]],
        origin: list[ConsumerRecord],
        outcome: BatchOutcome,
    ) -> None:
        for part, error in poisoned:
            for index in part["_origin"].to_list():
                outcome.dead_letters.append(
                    DeadLetter(origin[index], type(error).__name__, "scoring_failed", str(error))
                )

    def _observe_lag(self, consumer: KafkaConsumer) -> int:
        """Lag = the partition's high watermark (from the last fetch) − our position;
        returns the total over the assigned partitions."""
        total = 0
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            lag = max(0, highwater - consumer.position(tp))
            metrics.CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)
            total += lag
        return total

    def _send_dead_letters(self, producer: KafkaProducer, letters: list[DeadLetter]) -> None:
        if not letters:
            return
        futures = [
            producer.send(
                self.settings.dlq_topic,
                value=letter.record.value,
                key=letter.record.key,
                headers=dead_letter_headers(letter),
            )
            for letter in letters
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the broker did not take it: offsets stay put
        for letter in letters:
            log.warning(
                "dead letter %s/%d@%d: %s (%s)",
                letter.record.topic,
                letter.record.partition,
                letter.record.offset,
                letter.message,
                letter.reason,
            )

    def _observe(
        self,
        records: list[ConsumerRecord],
        events: pl.DataFrame,
        outcome: BatchOutcome,
        seconds: float,
    ) -> None:
        topics = pl.Series("topic", [r.topic for r in records], dtype=pl.String)
        if events.height:
            counts = (
                events.select(topics.gather(events["_origin"]), "source")
                .group_by("topic", "source")
                .len()
            )
            for topic, source, count in counts.iter_rows():
                metrics.EVENTS_CONSUMED.labels(topic, source).inc(count)
        for topic, count in topics.value_counts().iter_rows():
            metrics.MESSAGES_CONSUMED.labels(topic).inc(count)
        for reason, count in Counter(letter.reason for letter in outcome.dead_letters).items():
            metrics.DEAD_LETTERS.labels(reason).inc(count)
        metrics.ANOMALIES_STORED.inc(outcome.anomalies_stored)
        metrics.BATCH_SIZE.observe(len(records))
        metrics.BATCH_SECONDS.observe(seconds)


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands partition state over on a rebalance: save on revoke, restore (and seek) on assign."""

    def __init__(
        self, loop: ScorerLoop, consumer: KafkaConsumer, producer: KafkaProducer | None = None
    ) -> None:
        self.loop = loop
        self.consumer = consumer
        self.producer = producer

    def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        if not self._settle():
            return  # nothing is snapshotted: the partitions resume from their last checkpoint
        self.loop.moved_partitions.update(revoked)
        self.loop.checkpoint(self.consumer, list(revoked), commit=False)
        for tp in revoked:
            self.loop.states.release(tp)
            self.loop.next_offsets.pop(tp, None)
            if self.loop.archive is not None:
                self.loop.archive.drop(tp)  # not checkpointed: the next owner reads them again

    def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        if not self._settle():
            return
        # A checkpoint still being written must end before a state is claimed again.
        self.loop.finish_checkpoint(self.consumer, commit=False, wait=True)
        self.loop.moved_partitions.update(assigned)
        for tp in assigned:
            self.loop.next_offsets.pop(tp, None)
            if self.loop.archive is not None:
                # After a reconnect the state restarts from its snapshot, and whatever was
                # pending past it is read (and archived) again.
                self.loop.archive.drop(tp)
            resume_at = self.loop.states.load(tp)
            if resume_at is not None:
                self.consumer.seek(tp, resume_at)
                # The snapshot's offset is due for commit even if nothing more arrives:
                # a commit lost with the previous owner would otherwise leave the
                # group's offset (its lag, and what autoscaling reads) behind for good.
                self.loop.next_offsets[tp] = resume_at
            else:
                # Never checkpointed, so nothing of it was ever committed either: its
                # history starts at the beginning. The client keeps its position for a
                # partition assigned back to the same member, which would skip what
                # was read and dropped at the rebalance.
                self.consumer.seek_to_beginning(tp)
        self.loop.assigned_partitions = len(assigned)
        self.loop.joined_at = time.monotonic()

    def _settle(self) -> bool:
        """Store the batch in flight before partitions move: it may hold their records, and
        the snapshots taken here must include it (this runs inside the scorer's poll)."""
        return self.producer is None or self.loop.settle_in_listener(self.consumer, self.producer)
