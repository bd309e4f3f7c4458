"""Partition state kept in the store: claimed on assignment, saved at checkpoints.

Every scorer of a consumer group already reaches the store, so a partition's
history moves with it to whichever scorer the group hands it, with no shared
volume (see :class:`~service.store.tables.PartitionState` for the fencing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from service.store.base import StoreBase
from service.store.tables import PartitionState, utcnow


@dataclass(frozen=True)
class ClaimedPartition:
    """What a scorer gets when it claims a partition: its fence and its saved state."""

    epoch: int
    next_offset: int | None
    snapshot: bytes | None


@dataclass(frozen=True)
class PartitionStateView:
    """A partition's row without its snapshot, for operators."""

    consumer_group: str
    topic: str
    partition: int
    epoch: int
    owner: str
    next_offset: int | None
    snapshot_bytes: int
    saved_at: datetime | None


class PartitionStateStore(StoreBase):
    def claim_partition(
        self, consumer_group: str, topic: str, partition: int, owner: str
    ) -> ClaimedPartition:
        """Take the partition over (its epoch moves on) and return what was saved of it."""
        key = (
            (PartitionState.consumer_group == consumer_group)
            & (PartitionState.topic == topic)
            & (PartitionState.partition == partition)
        )
        for _ in range(2):  # a concurrent first claim wins the insert; the retry updates
            with self.sessions.begin() as session:
                claimed = session.execute(
                    update(PartitionState)
                    .where(key)
                    .values(epoch=PartitionState.epoch + 1, owner=owner, claimed_at=utcnow())
                    .returning(
                        PartitionState.epoch, PartitionState.next_offset, PartitionState.snapshot
                    )
                ).one_or_none()
                if claimed is not None:
                    return ClaimedPartition(*claimed)
            try:
                with self.sessions.begin() as session:
                    session.add(
                        PartitionState(
                            consumer_group=consumer_group,
                            topic=topic,
                            partition=partition,
                            epoch=1,
                            owner=owner,
                            snapshot_bytes=0,
                        )
                    )
                return ClaimedPartition(1, None, None)
            except IntegrityError:
                continue
        raise RuntimeError(f"could not claim {topic}-{partition} for {consumer_group}")

    def save_partition(
        self,
        consumer_group: str,
        topic: str,
        partition: int,
        epoch: int,
        next_offset: int,
        snapshot: bytes,
    ) -> bool:
        """Store the snapshot and its offset; False if another scorer has claimed it since."""
        with self.sessions.begin() as session:
            result = session.execute(
                update(PartitionState)
                .where(
                    (PartitionState.consumer_group == consumer_group)
                    & (PartitionState.topic == topic)
                    & (PartitionState.partition == partition)
                    & (PartitionState.epoch == epoch)
                )
                .values(
                    next_offset=next_offset,
                    snapshot=snapshot,
                    snapshot_bytes=len(snapshot),
                    saved_at=utcnow(),
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def list_partition_states(self, consumer_group: str | None = None) -> list[PartitionStateView]:
        columns = [
            PartitionState.consumer_group,
            PartitionState.topic,
            PartitionState.partition,
            PartitionState.epoch,
            PartitionState.owner,
            PartitionState.next_offset,
            PartitionState.snapshot_bytes,
            PartitionState.saved_at,
        ]
        query = select(*columns).order_by(
            PartitionState.consumer_group, PartitionState.topic, PartitionState.partition
        )
        if consumer_group is not None:
            query = query.where(PartitionState.consumer_group == consumer_group)
        with self.sessions() as session:
            return [PartitionStateView(**row._asdict()) for row in session.execute(query)]
