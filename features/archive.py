"""The archive: every normalized event the scorer processed, with its score, as Parquet.

Layout under the archive root (a directory, or any URL polars writes to)::

    source=<source>/date=<YYYY-MM-DD>/<topic>-<partition>-<first>-<end>.parquet

``date`` is the event's UTC date; a file holds the events of one source and day
read from one input partition at offsets ``first`` up to (excluding) ``end``. The
scorer writes a partition's range when it checkpoints the partition, before the
snapshot that moves its offset past ``end``: a row is in the archive once its
offset is checkpointed, and a crash in between leaves a range that is written
again from the same ``first``. Before writing, a range's leftovers (files of the
partition that start at or after ``first``) are removed, so on a local archive
each event is in one file; on object storage, where the scorer does not list,
:func:`read_archive` keeps one copy of each (topic, partition, offset, event).

:func:`read_archive` returns the normalized events (the adapters' schema), so
training from the archive computes exactly the features it would from the files.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from features.schema import NORMALIZED_SCHEMA

log = logging.getLogger(__name__)

ORIGIN_COLUMNS: dict[str, pl.DataType] = {
    "topic": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
}
SCORE_COLUMNS: dict[str, pl.DataType] = {
    "score": pl.Float64(),
    "severity": pl.String(),
    "is_anomaly": pl.Boolean(),
    "model_name": pl.String(),
    "model_version": pl.String(),
}
ARCHIVE_SCHEMA: dict[str, pl.DataType] = {
    **NORMALIZED_SCHEMA,
    **SCORE_COLUMNS,
    **ORIGIN_COLUMNS,
}
_FILE = re.compile(r"^(?P<topic>.+)-(?P<partition>\d+)-(?P<first>\d{20})-(?P<end>\d{20})\.parquet$")


class ArchiveError(Exception):
    """The archive cannot be read or written; the message says which file and why."""


def is_local(root: str) -> bool:
    """Whether ``root`` is a local directory (a path or a ``file://`` URL).

    >>> is_local("/var/lib/auditlens/archive"), is_local("s3://bucket/archive")
    (True, False)
    """
    return "://" not in root or root.startswith("file://")


def _local(root: str) -> Path:
    return Path(root.removeprefix("file://"))


def file_name(topic: str, partition: int, first: int, end: int) -> str:
    """>>> file_name("audit", 3, 120, 250)
    'audit-3-00000000000000000120-00000000000000000250.parquet'
    """
    return f"{topic}-{partition}-{first:020d}-{end:020d}.parquet"


def remove_leftovers(root: str, topic: str, partition: int, first: int) -> int:
    """Delete the partition's files that start at or after ``first`` (an unfinished range).

    Only on a local archive; returns how many were removed.
    """
    if not is_local(root):
        return 0
    removed = 0
    for path in _local(root).glob(f"source=*/date=*/{topic}-{partition}-*.parquet"):
        match = _FILE.match(path.name)
        if (
            match
            and (match["topic"], int(match["partition"])) == (topic, partition)
            and int(match["first"]) >= first
        ):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def write_range(
    root: str, rows: pl.DataFrame, topic: str, partition: int, first: int, end: int
) -> int:
    """Write one partition's archived rows for offsets [first, end), a file per source and day.

    Local files are written aside and renamed, so a reader never sees half a file.
    Returns the number of files written.
    """
    if rows.height == 0:
        return 0
    name = file_name(topic, partition, first, end)
    days = rows.with_columns(
        pl.col("event_time").dt.convert_time_zone("UTC").dt.date().alias("_day")
    )
    written = 0
    for (source, day), part in days.partition_by("source", "_day", as_dict=True).items():
        target = f"{root.rstrip('/')}/source={source}/date={day}/{name}"
        frame = part.drop("_day")
        if is_local(root):
            _write_local(_local(target), frame)
        else:
            frame.write_parquet(target)
        written += 1
    return written


def _write_local(path: Path, frame: pl.DataFrame) -> None:
    """Write aside and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    frame.write_parquet(staging)
    os.replace(staging, path)


def compact(root: str, topic: str, partition: int, before: date, committed_end: int) -> int:
    """Merge each day's files of one partition into one file, for days before ``before``
    and ranges that end by ``committed_end`` (the partition's checkpointed offset).

    A checkpoint writes a file per partition, source and day, so a day gathers
    thousands; merged, a day reads in one go. A crash between the merged file's
    write and the removal of its parts leaves rows twice, which the next merge
    (and the reader) drop. Local archive only; returns how many files were merged.
    """
    if not is_local(root):
        return 0
    days: dict[Path, list[tuple[int, int, Path]]] = {}
    for path in _local(root).glob(f"source=*/date=*/{topic}-{partition}-*.parquet"):
        match = _FILE.match(path.name)
        day = _day(path.parent.name)
        if (
            match is None
            or (match["topic"], int(match["partition"])) != (topic, partition)
            or day is None
            or day >= before
            or int(match["end"]) > committed_end
        ):
            continue
        days.setdefault(path.parent, []).append((int(match["first"]), int(match["end"]), path))
    merged = 0
    for directory, files in days.items():
        if len(files) < 2:
            continue
        files.sort()
        frame = pl.concat([pl.read_parquet(path) for _, _, path in files], how="vertical_relaxed")
        frame = frame.unique(["offset", "event_id"], keep="first", maintain_order=True)
        target = directory / file_name(topic, partition, files[0][0], max(e for _, e, _ in files))
        written_at = max(path.stat().st_mtime for _, _, path in files)
        _write_local(target, frame)
        os.utime(target, (written_at, written_at))  # retention counts from the newest part
        for _, _, path in files:
            if path != target:
                path.unlink(missing_ok=True)
        merged += len(files)
    return merged


def expire(root: str, retention_days: int, now: float | None = None) -> int:
    """Remove files archived more than ``retention_days`` ago (local archive), and the
    day directories they leave empty; returns how many files.

    By when a file was written, not by its events' dates: a replay of last quarter's
    logs is archived for the full retention like any other.
    """
    if not is_local(root) or retention_days <= 0:
        return 0
    cutoff = (now if now is not None else time.time()) - retention_days * 86400
    removed = 0
    for path in _local(root).glob("source=*/date=*/*.parquet"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    for day_dir in _local(root).glob("source=*/date=*"):
        with contextlib.suppress(OSError):  # not empty: still holds recent files
            day_dir.rmdir()
    return removed


def _day(directory: str) -> date | None:
    try:
        return date.fromisoformat(directory.removeprefix("date="))
    except ValueError:
        return None


def newest_day(root: str) -> date | None:
    """The latest event day a local archive holds (None: empty, or not a local archive).

    Retraining counts its window back from here, not from today: a backfill or a
    replay of older events is archived under the days the events happened.
    """
    if not is_local(root) or not _local(root).is_dir():
        return None
    days = [_day(d.name) for d in _local(root).glob("source=*/date=*") if any(d.iterdir())]
    return max((d for d in days if d is not None), default=None)


@dataclass
class ArchiveRead:
    """The archived events, and the files that could not be read (skipped, with why)."""

    events: pl.DataFrame
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_archive(root: str, since: date | None = None) -> ArchiveRead:
    """Every archived event (of days from ``since`` on), one copy each, oldest first.

    A file that is not readable Parquet of the archive's shape is skipped and
    reported, never fatal: the rest of the archive still trains a model.
    """
    if not is_local(root):
        pattern = f"{root.rstrip('/')}/source=*/date=*/*.parquet"
        try:
            frames = [pl.read_parquet(pattern)]
        except Exception as exc:
            raise ArchiveError(f"cannot read the archive at {root}: {exc}") from exc
        return _combine(frames, since, ArchiveRead(pl.DataFrame(), files=1))
    base = _local(root)
    if not base.is_dir():
        raise ArchiveError(f"there is no archive at {root} (the scorer writes it as it runs)")
    result = ArchiveRead(pl.DataFrame())
    frames = []
    for path in sorted(base.glob("source=*/date=*/*.parquet")):
        day = _day(path.parent.name)
        if since is not None and day is not None and day < since:
            continue
        result.files += 1
        try:
            frame = pl.read_parquet(path)
            missing = set(ARCHIVE_SCHEMA) - set(frame.columns)
            if missing:
                raise ArchiveError(f"not an archive file: no column {', '.join(sorted(missing))}")
            frames.append(frame.select(list(ARCHIVE_SCHEMA)).cast(pl.Schema(ARCHIVE_SCHEMA)))
        except Exception as exc:
            log.warning("skipping archive file %s: %s", path, exc)
            result.skipped.append((str(path), str(exc)))
    return _combine(frames, since, result)


def _combine(frames: list[pl.DataFrame], since: date | None, result: ArchiveRead) -> ArchiveRead:
    if not frames:
        result.events = pl.DataFrame(schema=ARCHIVE_SCHEMA)
        return result
    events = pl.concat(frames, how="vertical_relaxed")
    if since is not None:
        events = events.filter(pl.col("event_time").dt.date() >= since)
    result.events = events.unique(
        ["topic", "partition", "offset", "event_id"], keep="first", maintain_order=True
    ).sort("event_time", "event_id", maintain_order=True)
    return result


ACTIVITY_COLUMNS = ("event_time", "score", "is_anomaly", "topic", "partition", "offset", "event_id")


def read_actor_activity(root: str, actor: str, first_day: date, last_day: date) -> pl.DataFrame:
    """One actor's archived events of days ``first_day``..``last_day``: when, and how they scored.

    What the console draws an entity's recent activity from. Only the day
    directories in range are opened and only the few columns it needs are read,
    so a lookup stays cheap on a large archive. Unreadable files are skipped, as
    in :func:`read_archive`; no archive at all is an empty frame.
    """
    schema = {c: ARCHIVE_SCHEMA[c] for c in ACTIVITY_COLUMNS}
    empty = pl.DataFrame(schema=schema)
    if is_local(root):
        base = _local(root)
        paths = [
            str(path)
            for path in base.glob("source=*/date=*/*.parquet")
            if (day := _day(path.parent.name)) is not None and first_day <= day <= last_day
        ]
    else:
        paths = [f"{root.rstrip('/')}/source=*/date=*/*.parquet"]
    if not paths:
        return empty

    def scan(sources: list[str]) -> pl.DataFrame:
        query = pl.scan_parquet(sources).filter(pl.col("actor") == actor)
        return query.select(ACTIVITY_COLUMNS).collect().cast(pl.Schema(schema))

    try:
        frames = [scan(paths)]  # one scan over every file: the common, fast case
    except Exception:
        frames = []
        for path in paths:  # a damaged file: read the others one by one
            try:
                frames.append(scan([path]))
            except Exception as exc:
                log.warning("skipping archive file %s: %s", path, exc)
    if not frames:
        return empty
    events = pl.concat(frames, how="vertical_relaxed")
    return events.unique(
        ["topic", "partition", "offset", "event_id"], keep="first", maintain_order=True
    ).filter(pl.col("event_time").dt.date().is_between(first_day, last_day))
