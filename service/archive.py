"""The scorer's side of the archive: scored events held per partition until its checkpoint.

A partition's events since its last checkpoint are written (as one offset range,
see :mod:`features.archive`) in the checkpoint that saves its state, just before
the state: the archive never runs ahead of the offsets the group resumes from,
so a crash or a replay rewrites a range instead of adding to it.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime

import polars as pl
from kafka import TopicPartition

from features import archive
from models.bundle import LoadedModel

log = logging.getLogger(__name__)
# Compaction of closed days and retention run at most this often (per partition).
MAINTAIN_EVERY_S = 3600.0


def archive_rows(
    scored: list[pl.DataFrame], messages: pl.DataFrame, model: LoadedModel
) -> pl.DataFrame:
    """The archive's rows of a batch: scored events (``_origin`` = index into ``messages``,
    the batch's ``topic``, ``partition`` and ``offset`` of each message) with their model."""
    frame = pl.concat(scored, how="vertical_relaxed")
    where = messages.select("topic", "partition", "offset")[frame["_origin"]]
    return (
        pl.concat([frame.drop("_origin"), where], how="horizontal")
        .with_columns(
            pl.lit(model.name).alias("model_name"),
            pl.lit(model.version).alias("model_version"),
            pl.col("partition").cast(pl.Int32),
            pl.col("offset").cast(pl.Int64),
        )
        .select(list(archive.ARCHIVE_SCHEMA))
    )


def _split(parts: list[pl.DataFrame], offset: int) -> tuple[list[pl.DataFrame], list[pl.DataFrame]]:
    """A partition's pending parts split into the rows below ``offset`` and the rest.

    Each part is one batch's rows, so only the part a checkpoint's offset falls in is
    filtered; the others go whole to their side, uncopied.
    """
    below: list[pl.DataFrame] = []
    rest: list[pl.DataFrame] = []
    for part in parts:
        if part.height == 0:
            continue
        offsets = part["offset"]
        if offsets.max() < offset:  # type: ignore[operator]
            below.append(part)
        elif offsets.min() >= offset:  # type: ignore[operator]
            rest.append(part)
        else:
            below.append(part.filter(pl.col("offset") < offset))
            rest.append(part.filter(pl.col("offset") >= offset))
    return below, rest


class ArchiveBuffer:
    """Scored rows per partition, waiting for the partition's next checkpoint.

    The scoring thread adds a batch's rows while the scorer's main thread may be
    writing an earlier checkpoint's range (see ``ScorerLoop.process_batch``), so
    the pending rows are guarded by a lock and a range holds only the rows below
    the offset its checkpoint saves.
    """

    def __init__(self, root: str, retention_days: int) -> None:
        self.root = root
        self.retention_days = retention_days
        self.pending: dict[TopicPartition, list[pl.DataFrame]] = {}
        # Partitions whose archive holds nothing past their checkpointed offset: their
        # next range needs no search for leftovers (a search lists the whole archive).
        self.clean: set[TopicPartition] = set()
        self._expired_at = float("-inf")
        self._compacted_at: dict[TopicPartition, float] = {}
        self._lock = threading.Lock()

    def add(self, rows: pl.DataFrame) -> None:
        parts = rows.partition_by("topic", "partition", as_dict=True)
        with self._lock:
            for (topic, partition), part in parts.items():
                self.pending.setdefault(TopicPartition(topic, partition), []).append(part)

    def _below(self, tp: TopicPartition, end: int) -> pl.DataFrame | None:
        """The partition's pending rows with an offset below ``end`` (the rest stay apart)."""
        with self._lock:
            below, rest = _split(self.pending.get(tp, []), end)
            self.pending[tp] = below + rest
        return pl.concat(below) if below else None

    def write(self, tp: TopicPartition, first: int | None, end: int) -> int:
        """Write the partition's pending rows below ``end`` as the range [first, end):
        ``first`` is its last checkpointed offset (None: never checkpointed, so its first
        row's), ``end`` the offset the checkpoint saves.

        The rows stay pending until :meth:`committed`: if the write or the state's save
        fails, the next checkpoint writes the whole range again, over what this wrote.
        Returns the rows written.
        """
        rows = self._below(tp, end)
        if rows is None:
            return 0
        start = first if first is not None else int(rows["offset"].min())  # type: ignore[arg-type]
        if tp not in self.clean:  # taken over, or a write that did not land: tidy first
            archive.remove_leftovers(self.root, tp.topic, tp.partition, start)
        self.clean.discard(tp)
        archive.write_range(self.root, rows, tp.topic, tp.partition, start, end)
        return rows.height

    def committed(self, tp: TopicPartition, saved_offset: int) -> None:
        """The partition's state was saved at ``saved_offset``, past its written range."""
        with self._lock:
            _, later = _split(self.pending.pop(tp, []), saved_offset)
            if later:
                self.pending[tp] = later
        self.clean.add(tp)
        now = time.monotonic()
        if now - self._compacted_at.get(tp, float("-inf")) >= MAINTAIN_EVERY_S:
            self._compacted_at[tp] = now
            today = datetime.now(UTC).date()
            archive.compact(self.root, tp.topic, tp.partition, today, saved_offset)
        if now - self._expired_at >= MAINTAIN_EVERY_S:
            self._expired_at = now
            removed = archive.expire(self.root, self.retention_days)
            if removed:
                log.info("archive: removed %d file(s) past %d days", removed, self.retention_days)

    def drop(self, tp: TopicPartition) -> None:
        """Forget a partition's pending rows (revoked: the next owner reads them again)."""
        with self._lock:
            self.pending.pop(tp, None)
        self.clean.discard(tp)
        self._compacted_at.pop(tp, None)
