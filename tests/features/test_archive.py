"""The archive's layout, its rewrite of unfinished ranges, retention and the reader."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from features import archive
from tests.features.test_pipeline import synthetic_events


def archived(
    events: pl.DataFrame, topic: str = "audit", partition: int = 0, first: int = 0
) -> pl.DataFrame:
    """``events`` as the scorer archives them: scored, one message (offset) each."""
    return events.with_columns(
        pl.lit(50.0).alias("score"),
        pl.lit("low").alias("severity"),
        pl.lit(False).alias("is_anomaly"),
        pl.lit("auditlens").alias("model_name"),
        pl.lit("1").alias("model_version"),
        pl.lit(topic).alias("topic"),
        pl.lit(partition, dtype=pl.Int32).alias("partition"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + first).alias("offset"),
    ).select(list(archive.ARCHIVE_SCHEMA))


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.glob("source=*/date=*/*.parquet"))


def test_a_range_is_written_per_source_and_day_and_read_back(tmp_path: Path) -> None:
    events = synthetic_events(300, seed=1)
    rows = archived(events)
    written = archive.write_range(str(tmp_path), rows, "audit", 0, 0, 300)
    days = rows["event_time"].dt.date().n_unique()
    assert written == days * rows["source"].n_unique()
    name = archive.file_name("audit", 0, 0, 300)
    assert all(f.endswith(name) for f in files(tmp_path))
    read = archive.read_archive(str(tmp_path))
    assert read.skipped == []
    assert sorted(read.events["event_id"].to_list()) == sorted(events["event_id"].to_list())
    assert read.events["event_time"].is_sorted()
    assert read.events.schema == pl.Schema(archive.ARCHIVE_SCHEMA)


def test_an_unfinished_range_is_replaced_not_added_to(tmp_path: Path) -> None:
    # A crash after the archive write but before the checkpoint: the range is written
    # again from the same first offset, possibly further; each event stays once.
    events = synthetic_events(400, seed=2)
    rows, other = archived(events), archived(events.head(100), partition=1)
    root = str(tmp_path)
    archive.write_range(root, rows.head(100), "audit", 0, 0, 100)  # checkpointed
    archive.write_range(root, rows.slice(100, 200), "audit", 0, 100, 300)  # crashed after
    archive.write_range(root, other, "audit", 1, 0, 100)  # another partition
    assert archive.remove_leftovers(root, "audit", 0, 100) > 0
    archive.write_range(root, rows.slice(100, 300), "audit", 0, 100, 400)
    on_disk = pl.concat([pl.read_parquet(tmp_path / f) for f in files(tmp_path)])
    per_partition = on_disk.group_by("partition").agg(pl.len(), pl.col("offset").n_unique())
    assert sorted(per_partition.rows()) == [(0, 400, 400), (1, 100, 100)]


def test_the_reader_keeps_one_copy_of_a_range_written_twice(tmp_path: Path) -> None:
    # Object storage is never listed by the scorer, so a rewritten range can stay twice.
    rows = archived(synthetic_events(200, seed=3))
    archive.write_range(str(tmp_path), rows.head(150), "audit", 0, 0, 150)
    archive.write_range(str(tmp_path), rows, "audit", 0, 0, 200)
    archive.write_range(str(tmp_path), rows.head(50), "audit", 0, 0, 51)
    assert archive.read_archive(str(tmp_path)).events.height == 200


def test_since_goes_by_event_day(tmp_path: Path) -> None:
    rows = archived(synthetic_events(300, seed=4))
    archive.write_range(str(tmp_path), rows, "audit", 0, 0, 300)
    first_day = rows["event_time"].dt.date().min()
    assert isinstance(first_day, date)
    later = archive.read_archive(str(tmp_path), since=date.fromordinal(first_day.toordinal() + 1))
    assert 0 < later.events.height < 300
    assert later.events["event_time"].dt.date().min() > first_day


def test_retention_goes_by_when_a_file_was_archived(tmp_path: Path) -> None:
    # Events dated long ago (a replay) are kept for the whole retention all the same.
    rows = archived(synthetic_events(300, seed=4))
    archive.write_range(str(tmp_path), rows.head(100), "audit", 0, 0, 100)
    old = files(tmp_path)
    month_ago = time.time() - 31 * 86400
    for name in old:
        os.utime(tmp_path / name, (month_ago, month_ago))
    archive.write_range(str(tmp_path), rows.slice(100), "audit", 0, 100, 300)
    assert archive.expire(str(tmp_path), retention_days=30) == len(old)
    assert archive.read_archive(str(tmp_path)).events.height == 200
    assert not [d for d in tmp_path.glob("source=*/date=*") if not any(d.iterdir())]
    assert archive.expire(str(tmp_path), retention_days=0) == 0, "0 keeps everything"


def test_a_corrupt_or_foreign_file_is_skipped_with_its_reason(tmp_path: Path) -> None:
    rows = archived(synthetic_events(100, seed=5))
    archive.write_range(str(tmp_path), rows, "audit", 0, 0, 100)
    day_dir = (tmp_path / files(tmp_path)[0]).parent
    (day_dir / archive.file_name("audit", 9, 0, 1)).write_bytes(b"not parquet at all")
    pl.DataFrame({"x": [1]}).write_parquet(day_dir / archive.file_name("audit", 8, 0, 1))
    read = archive.read_archive(str(tmp_path))
    assert read.events.height == 100
    reasons = {Path(path).name.split("-")[1]: why for path, why in read.skipped}
    assert set(reasons) == {"8", "9"}
    assert "not an archive file" in reasons["8"]


def test_no_archive_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(archive.ArchiveError, match="there is no archive at"):
        archive.read_archive(str(tmp_path / "missing"))


def test_closed_days_are_merged_into_one_file_per_partition(tmp_path: Path) -> None:
    # A checkpoint writes a file per partition, source and day: merged, a day reads in one go.
    rows = archived(synthetic_events(600, seed=6))
    root = str(tmp_path)
    for first in range(0, 600, 100):
        archive.write_range(root, rows.slice(first, 100), "audit", 0, first, first + 100)
    before = files(tmp_path)
    last_day = rows["event_time"].dt.date().max()
    assert isinstance(last_day, date)
    merged = archive.compact(root, "audit", 0, before=last_day, committed_end=500)
    after = files(tmp_path)
    assert merged > 0
    assert len(after) < len(before)
    # Today's files and the range not yet checkpointed (from 500) are left as they are.
    assert [f for f in before if "date=" + str(last_day) in f] == [
        f for f in after if "date=" + str(last_day) in f
    ]
    pending = archive.file_name("audit", 0, 500, 600)
    assert [f for f in before if f.endswith(pending)] == [f for f in after if f.endswith(pending)]
    read = archive.read_archive(root)
    assert sorted(read.events["event_id"]) == sorted(rows["event_id"])
    on_disk = pl.concat([pl.read_parquet(tmp_path / f) for f in after])
    assert on_disk.height == 600, "merging neither drops nor repeats a row"


def test_the_newest_day_is_the_latest_event_day_archived(tmp_path: Path) -> None:
    assert archive.newest_day(str(tmp_path / "none")) is None
    rows = archived(synthetic_events(300, seed=4))
    archive.write_range(str(tmp_path), rows, "audit", 0, 0, 300)
    assert archive.newest_day(str(tmp_path)) == rows["event_time"].dt.date().max()
    assert archive.newest_day("s3://bucket/auditlens") is None  # not listed: callers fall back
