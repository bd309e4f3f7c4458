"""An entity's context around one anomaly: its recent activity, its hours, its history.

Activity comes from the archive (every scored event, not only anomalies), read
for the actor and the days shown only; earlier anomalies and their verdicts come
from the store. Without an archive the page says so instead of drawing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl

from features.archive import read_actor_activity
from service.console.charts import CountBar, count_bars
from service.store.tables import Anomaly


@dataclass
class EntityContext:
    actor: str | None
    days: int
    archived_events: int = 0
    activity: list[CountBar] = field(default_factory=list)
    hours: list[CountBar] = field(default_factory=list)
    first_hour: datetime | None = None
    unavailable: str | None = None


def entity_context(
    anomaly: Anomaly, archive_root: str | None, days: int, now: datetime | None = None
) -> EntityContext:
    """The actor's hourly activity over the ``days`` up to the event, and its hour-of-day
    pattern over the same days, with the event's own hour marked in both."""
    context = EntityContext(anomaly.actor, days)
    if anomaly.actor is None:
        context.unavailable = "this event names no actor"
        return context
    if archive_root is None:
        context.unavailable = (
            "the archive is off (AUDITLENS_ARCHIVE_ENABLED), so only anomalies are kept"
        )
        return context
    event_hour = anomaly.event_time.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = event_hour - timedelta(hours=24 * days - 1)
    events = read_actor_activity(archive_root, anomaly.actor, start.date(), event_hour.date())
    events = events.filter(
        pl.col("event_time").is_between(start, event_hour + timedelta(hours=1), closed="left")
    )
    context.archived_events = events.height
    context.first_hour = start
    if events.height == 0:
        context.unavailable = (
            f"the archive holds no events of this actor in the {days} days up to it"
        )
        return context
    buckets = ((pl.col("event_time") - pl.lit(start)).dt.total_hours()).cast(pl.Int64)
    hourly = (
        events.group_by(buckets.alias("bucket"))
        .agg(pl.len().alias("n"), pl.col("is_anomaly").any().alias("flagged"))
        .sort("bucket")
    )
    counts = [0] * (24 * days)
    flagged = [False] * (24 * days)
    for bucket, n, any_flagged in hourly.iter_rows():
        counts[bucket] = n
        flagged[bucket] = bool(any_flagged)
    labels = [(start + timedelta(hours=h)).strftime("%Y-%m-%d %H:00") for h in range(24 * days)]
    context.activity = count_bars(counts, labels, marked=24 * days - 1, flagged=flagged)
    by_hour = events.group_by(pl.col("event_time").dt.hour().alias("hour")).agg(pl.len().alias("n"))
    per_hour = dict(by_hour.iter_rows())
    context.hours = count_bars(
        [per_hour.get(h, 0) for h in range(24)],
        [f"{h:02d}:00" for h in range(24)],
        marked=event_hour.hour,
    )
    return context
