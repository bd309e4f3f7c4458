"""Entity state per input partition, so history moves with the partition on a rebalance.

Producers key messages by actor, so each actor's events live in one partition;
keeping one :class:`~features.state.EntityState` per partition makes a
partition's history depend only on that partition's events, whichever scorer
process reads it. A scorer snapshots the state of each partition it owns (with
the next offset to read, in the same atomic write) at every checkpoint and when
the partition is revoked; the next owner restores it and resumes from exactly
that offset. Scorers of one consumer group therefore share the state directory
(``AUDITLENS_DATA_DIR``, a shared volume in a cluster).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from kafka import TopicPartition

from features.state import EntityState

log = logging.getLogger(__name__)
OFFSET_KEY = "next_offset"


class PartitionStates:
    def __init__(self, directory: Path, seed: Callable[[], EntityState]) -> None:
        self.directory = directory
        self.seed = seed
        self.states: dict[TopicPartition, EntityState] = {}

    def path(self, tp: TopicPartition) -> Path:
        return self.directory / f"{tp.topic}-{tp.partition}"

    def load(self, tp: TopicPartition) -> int | None:
        """Adopt a partition: its saved state (returns the offset to resume at) or a fresh seed."""
        saved = EntityState.restore(self.path(tp))
        if OFFSET_KEY in saved.metadata:
            self.states[tp] = saved
            return int(saved.metadata[OFFSET_KEY])
        self.states[tp] = self.seed()
        return None

    def get(self, tp: TopicPartition) -> EntityState:
        if tp not in self.states:
            self.load(tp)
        return self.states[tp]

    def save(self, tp: TopicPartition, next_offset: int) -> None:
        state = self.states.get(tp)
        if state is not None:
            state.snapshot(self.path(tp), {OFFSET_KEY: str(next_offset)})

    def release(self, tp: TopicPartition) -> None:
        self.states.pop(tp, None)

    def entities(self) -> int:
        return sum(s.entity_count for s in self.states.values())

    def size_rows(self) -> int:
        return sum(s.size_rows() for s in self.states.values())
