"""Entity state per input partition, so history moves with the partition on a rebalance.

Producers key messages by actor, so each actor's events live in one partition;
keeping one :class:`~features.state.EntityState` per partition makes a
partition's history depend only on that partition's events, whichever scorer
process reads it. A scorer claims each partition it is assigned and restores
its saved state (which carries the next offset to read, saved in the same
atomic write), snapshots it at every checkpoint and when the partition is
revoked; the next owner resumes from exactly that offset.

Where the snapshots live (``AUDITLENS_STATE_BACKEND``):

* ``store`` (the default): a row per partition in the store
  (:mod:`service.store.partition_states`), which every scorer of the group
  reaches already, so scorers need no shared filesystem; a claim fences off the
  partition's previous owner. Snapshots a release before this one wrote to the
  data directory are adopted the first time their partition is claimed.
* ``directory``: files under ``AUDITLENS_DATA_DIR``; scorers of one group must
  then share that directory (a shared volume in a cluster), and nothing fences.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from kafka import TopicPartition

from features.state import EntityState
from service.store.repository import Store

log = logging.getLogger(__name__)
OFFSET_KEY = "next_offset"


class PartitionClaimedError(Exception):
    """Another scorer claimed the partition since this one did: its save was refused."""

    def __init__(self, tp: TopicPartition) -> None:
        super().__init__(
            f"{tp.topic}-{tp.partition} was claimed by another scorer; this one's state of it "
            "is dropped and the group's assignment decides who owns it"
        )
        self.tp = tp


@dataclass(frozen=True)
class Claim:
    """A partition taken over: the state saved of it (None: never saved) and its fence."""

    state: EntityState | None
    epoch: int


class SnapshotBackend(Protocol):
    def claim(self, tp: TopicPartition) -> Claim: ...

    def save(self, tp: TopicPartition, state: EntityState, next_offset: int, epoch: int) -> bool:
        """Whether the save landed (False: the partition was claimed by another scorer)."""
        ...


class DirectorySnapshots:
    """One directory per partition under ``directory`` (written aside, then renamed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, tp: TopicPartition) -> Path:
        return self.directory / f"{tp.topic}-{tp.partition}"

    def claim(self, tp: TopicPartition) -> Claim:
        saved = EntityState.restore(self.path(tp))
        return Claim(saved if OFFSET_KEY in saved.metadata else None, 0)

    def save(self, tp: TopicPartition, state: EntityState, next_offset: int, epoch: int) -> bool:
        state.snapshot(self.path(tp), {OFFSET_KEY: str(next_offset)})
        return True


class StoreSnapshots:
    """A row per partition of ``consumer_group`` in the store, fenced by its epoch."""

    def __init__(
        self,
        store: Store,
        consumer_group: str,
        owner: str,
        legacy: DirectorySnapshots | None = None,
    ) -> None:
        self.store = store
        self.consumer_group = consumer_group
        self.owner = owner
        self.legacy = legacy

    def claim(self, tp: TopicPartition) -> Claim:
        claimed = self.store.claim_partition(
            self.consumer_group, tp.topic, tp.partition, self.owner
        )
        if claimed.snapshot is not None:
            state = EntityState.from_bytes(claimed.snapshot)
            return Claim(state if OFFSET_KEY in state.metadata else None, claimed.epoch)
        if self.legacy is not None:  # a snapshot from when state lived on disk only
            adopted = self.legacy.claim(tp).state
            if adopted is not None:
                log.info("adopting %s-%s's state from the data directory", tp.topic, tp.partition)
            return Claim(adopted, claimed.epoch)
        return Claim(None, claimed.epoch)

    def save(self, tp: TopicPartition, state: EntityState, next_offset: int, epoch: int) -> bool:
        return self.store.save_partition(
            self.consumer_group,
            tp.topic,
            tp.partition,
            epoch,
            next_offset,
            state.to_bytes({OFFSET_KEY: str(next_offset)}),
        )


class PartitionStates:
    """The states of the partitions this scorer owns, and their fences."""

    def __init__(
        self,
        backend: SnapshotBackend,
        seed: Callable[[], EntityState],
        max_entries: int = 2_000_000,
    ) -> None:
        self.backend = backend
        self.seed = seed
        self.max_entries = max_entries
        self.states: dict[TopicPartition, EntityState] = {}
        self.epochs: dict[TopicPartition, int] = {}
        # The offset each partition's saved snapshot holds: a checkpoint that finds a
        # partition no further along writes nothing (an idle stream costs no store I/O).
        self.saved_offsets: dict[TopicPartition, int] = {}

    def load(self, tp: TopicPartition) -> int | None:
        """Adopt a partition: its saved state (returns the offset to resume at) or a fresh seed."""
        claim = self.backend.claim(tp)
        self.epochs[tp] = claim.epoch
        if claim.state is not None:
            claim.state.max_entries = self.max_entries
            self.states[tp] = claim.state
            self.saved_offsets[tp] = int(claim.state.metadata[OFFSET_KEY])
            return self.saved_offsets[tp]
        self.states[tp] = self.seed()
        return None

    def owns(self, tp: TopicPartition) -> bool:
        """Whether this scorer holds the partition's state (it was assigned and not revoked)."""
        return tp in self.states

    def get(self, tp: TopicPartition) -> EntityState:
        """The state of a partition this scorer owns.

        Never loaded on demand: between a revocation and the next assignment the
        client may still hand out records of a revoked partition, and a state claimed
        then would skip whatever was read (and dropped) before; see ``owns``.
        """
        try:
            return self.states[tp]
        except KeyError:
            raise KeyError(f"{tp.topic}-{tp.partition} is not assigned to this scorer") from None

    def due(self, tp: TopicPartition, next_offset: int) -> EntityState | None:
        """A copy of the partition's state to save at ``next_offset`` (None: nothing to save,
        it is not owned or its snapshot holds that offset already).

        A copy, so that the next batch can be scored while it is written.
        """
        state = self.states.get(tp)
        if state is None or self.saved_offsets.get(tp) == next_offset:
            return None
        return state.copy()

    def save(
        self,
        tp: TopicPartition,
        next_offset: int,
        state: EntityState | None = None,
        release_when_claimed: bool = True,
    ) -> None:
        """Snapshot the partition (``state``: a copy from :meth:`due`, else its live state)
        with its next offset; PartitionClaimedError if fenced off.

        A fenced-off partition is released, unless the caller releases it itself: a save
        made beside the scoring thread must not pull a state from under its batch.
        """
        if tp not in self.states or self.saved_offsets.get(tp) == next_offset:
            return  # released meanwhile, or saved at that offset already
        state = state if state is not None else self.states[tp]
        if not self.backend.save(tp, state, next_offset, self.epochs.get(tp, 0)):
            if release_when_claimed:
                self.release(tp)
            raise PartitionClaimedError(tp)
        self.saved_offsets[tp] = next_offset

    def release(self, tp: TopicPartition) -> None:
        self.states.pop(tp, None)
        self.epochs.pop(tp, None)
        self.saved_offsets.pop(tp, None)

    def entities(self) -> int:
        return sum(s.entity_count for s in self.states.values())

    def size_rows(self) -> int:
        return sum(s.size_rows() for s in self.states.values())
