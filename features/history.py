"""Entity-history features: an event judged against what came before it.

Semantics, identical for training (one big batch) and streaming (many micro-batches
with :class:`~features.state.EntityState` carried between them): events are
processed in order — batch after batch, and within a batch by
``(event_time, event_id)`` — and every history feature of an event depends only on
events *strictly before* it in that order. Hence the parity guarantee: the same
time-ordered events give the same features whatever the micro-batch sizes.

All of it is vectorised: within-batch history comes from window expressions
(``cum_count``/``cum_sum``/``search_sorted`` over groups), the prior history from
joins against the state's pair tables. :data:`HISTORY_FEATURES` names each
feature and the behaviour it exposes.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from features.state import EntityState

# History keys: name -> normalized columns. Every pair table stores count, policy
# failures, first and last seen.
PAIR_KEYS: dict[str, tuple[str, ...]] = {
    "actor": ("actor",),
    "actor_action_resource": ("actor", "action", "resource"),
    "actor_namespace": ("actor", "namespace"),
    "actor_source_ip": ("actor", "source_ip"),
    "actor_user_agent": ("actor", "user_agent"),
    "actor_hour": ("actor", "hour"),
    "namespace": ("namespace",),
    "namespace_action_resource": ("namespace", "action", "resource"),
}
HISTORY_FEATURES: dict[str, str] = {
    "first_action_resource": "first time this actor performs this action on this resource",
    "first_namespace": "first time this actor acts in this namespace / account-region",
    "first_source_ip": "first time this actor comes from this source IP",
    "first_user_agent": "first time this actor uses this client (user agent)",
    "actor_history_log": "how much history the actor has (log of earlier events): new actors",
    "combo_rarity_actor": "how rare this action+resource is in the actor's own history",
    "combo_rarity_peer": "how rare this action+resource is for everyone in this namespace",
    "hour_rarity_actor": "how rare this hour of day is for this actor (off-hours for them)",
    "source_ip_rarity_actor": "how rarely this actor uses this source IP",
    "user_agent_rarity_actor": "how rarely this actor uses this client",
    "namespace_rarity_actor": "how rarely this actor works in this namespace / account",
    "source_ip_age_log": "how long ago the actor first used this IP (new IP, heavily used)",
    "user_agent_age_log": "how long ago the actor first used this client",
    "deletes_1h": "deletions by this actor in the previous hour (mass deletion)",
    "rate_1h_vs_baseline": "the actor's events in the last hour against its usual hourly rate",
    "new_combos_1h": "new action+resource pairs for the actor in the last hour (exploration)",
    "new_namespaces_1h": "namespaces new to the actor in the last hour (lateral spread)",
    "denials_10m": "denials of the actor's requests in the previous 10 minutes (probing)",
    "denial_burst_then_allow": "an allowed request right after a burst of denials",
    "namespace_fail_rate_vs_baseline": "policy failures in the namespace in the last hour "
    "against its usual rate",
}
ACTOR_WINDOW = timedelta(hours=1)
DENIAL_WINDOW = timedelta(minutes=10)
NAMESPACE_WINDOW = timedelta(hours=1)
_KEY_COLUMNS = ("actor", "action", "resource", "namespace", "source_ip", "user_agent")
_EPSILON_HOURS = 1.0


def _k(column: str) -> str:
    return f"k_{column}"


def with_keys(events: pl.DataFrame) -> pl.DataFrame:
    """Null-safe key columns (null becomes the empty string) and the UTC hour."""
    return events.with_columns(
        *[pl.col(c).fill_null("").alias(_k(c)) for c in _KEY_COLUMNS],
        pl.col("event_time").dt.hour().cast(pl.String).alias(_k("hour")),
    )


def _pair_history(
    batch: pl.DataFrame, state: EntityState, kind: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-event counts before each event, the updated pair table)."""
    keys = [_k(c) for c in PAIR_KEYS[kind]]
    frame = batch.select(*keys, "event_time", "is_policy_violation")
    prior = state.pairs.get(kind)
    if prior is None:
        prior = pl.DataFrame(
            schema={
                **{k: pl.String() for k in keys},
                "count": pl.Int64(),
                "fails": pl.Float64(),
                "first": batch.schema["event_time"],
                "last": batch.schema["event_time"],
            }
        )
    joined = frame.join(prior, on=keys, how="left", maintain_order="left")
    violation = pl.col("is_policy_violation")
    before = joined.select(
        (pl.col("count").fill_null(0) + pl.int_range(pl.len()).over(keys)).alias("count"),
        (pl.col("fails").fill_null(0.0) + (violation.cum_sum() - violation).over(keys)).alias(
            "fails"
        ),
        pl.coalesce(pl.col("first"), pl.col("event_time").min().over(keys)).alias("first"),
    )
    batch_totals = frame.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("count"),
        violation.sum().alias("fails"),
        pl.col("event_time").min().alias("first"),
        pl.col("event_time").max().alias("last"),
    )
    updated = (
        pl.concat([prior, batch_totals], how="vertical_relaxed")
        .group_by(keys)
        .agg(
            pl.col("count").sum(),
            pl.col("fails").sum(),
            pl.col("first").min(),
            pl.col("last").max(),
        )
    )
    return before, updated


def _window_history(
    batch: pl.DataFrame,
    state: EntityState,
    group: str,
    flags: list[str],
    windows: dict[str, timedelta],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Counts and flag sums over each window strictly before each event, per ``group``.

    Returns one row per batch event with ``n_<w>`` (events in window ``w``) and
    ``<flag>_<w>`` (sum of the flag in that window), and the new tail.
    """
    key = _k(group)
    columns = [key, "event_time", *flags]
    current = batch.select(columns).with_columns(pl.lit(value=True).alias("_current"))
    tail = state.tails.get(group)
    if tail is None:
        combined = current
    else:
        combined = pl.concat(
            [tail.select(columns).with_columns(pl.lit(value=False).alias("_current")), current],
            how="vertical_relaxed",
        )
    # Running sums of each flag *before* each row; a window's sum is a difference of two.
    prepared = combined.with_columns(
        [(pl.col(f).cum_sum() - pl.col(f)).over(key).alias(f"_{f}_before") for f in flags]
    )
    position = pl.int_range(pl.len()).over(key)
    exprs: list[pl.Expr] = []
    for name, width in windows.items():
        since = pl.col("event_time") - pl.lit(width)
        found = pl.col("event_time").search_sorted(since, side="right").over(key).cast(pl.Int64)
        # An event older than ones already seen (late arrival) breaks the time order the
        # search assumes; clamping keeps its window within the events before it.
        start = pl.min_horizontal(found, position)
        exprs.append((position - start).alias(f"n_{name}"))
        exprs.extend(
            (pl.col(f"_{f}_before") - pl.col(f"_{f}_before").gather(start).over(key)).alias(
                f"{f}_{name}"
            )
            for f in flags
        )
    result = prepared.with_columns(exprs).filter(pl.col("_current"))
    horizon = pl.col("event_time").max() - pl.lit(max(windows.values()))
    new_tail = combined.filter(pl.col("event_time") > horizon).select(columns)
    return result.drop(columns, "_current", *[f"_{f}_before" for f in flags]), new_tail


def history_features(batch: pl.DataFrame, state: EntityState) -> pl.DataFrame:
    """History feature columns for ``batch`` (already keyed and in processing order).

    ``batch`` must carry the event feature columns ``is_policy_violation`` and
    ``is_denied`` and ``is_delete``. ``state`` is advanced past the batch.
    """
    befores: dict[str, pl.DataFrame] = {}
    for kind in PAIR_KEYS:
        befores[kind], state.pairs[kind] = _pair_history(batch, state, kind)

    def count(kind: str) -> pl.Series:
        return befores[kind]["count"].cast(pl.Float64)

    def age_hours(kind: str) -> pl.Series:
        """Hours since the key was first seen (0 for a first sighting or a late event)."""
        hours = (batch["event_time"] - befores[kind]["first"]).dt.total_seconds() / 3600.0
        return hours.clip(lower_bound=0.0)

    actor_total = count("actor")
    hours_known = (
        (batch["event_time"] - befores["actor"]["first"]).dt.total_seconds() / 3600.0
    ).clip(lower_bound=_EPSILON_HOURS)
    firsts = pl.DataFrame(
        {
            "first_action_resource": (count("actor_action_resource") == 0).cast(pl.Float64),
            "first_namespace": (count("actor_namespace") == 0).cast(pl.Float64),
            "first_source_ip": (count("actor_source_ip") == 0).cast(pl.Float64),
            "first_user_agent": (count("actor_user_agent") == 0).cast(pl.Float64),
        }
    )
    windowed = pl.concat([batch, firsts], how="horizontal")
    actor_windows, state.tails["actor"] = _window_history(
        windowed,
        state,
        "actor",
        ["first_action_resource", "first_namespace", "is_denied", "is_delete"],
        {"1h": ACTOR_WINDOW, "10m": DENIAL_WINDOW},
    )
    ns_windows, state.tails["namespace"] = _window_history(
        windowed, state, "namespace", ["is_policy_violation"], {"1h": NAMESPACE_WINDOW}
    )
    ns_hours = (
        (batch["event_time"] - befores["namespace"]["first"]).dt.total_seconds() / 3600.0
    ).clip(lower_bound=_EPSILON_HOURS)
    ns_fail_baseline = befores["namespace"]["fails"] / ns_hours
    actor_baseline = actor_total / hours_known
    allowed = (batch["outcome"] == "allow").fill_null(value=False).cast(pl.Float64)
    denials = actor_windows["is_denied_10m"].cast(pl.Float64)
    state.evict()
    return firsts.with_columns(
        actor_history_log=(actor_total + 1.0).log(),
        combo_rarity_actor=-((count("actor_action_resource") + 1.0) / (actor_total + 2.0)).log(),
        combo_rarity_peer=-(
            (count("namespace_action_resource") + 1.0) / (count("namespace") + 2.0)
        ).log(),
        hour_rarity_actor=-((count("actor_hour") + 1.0) / (actor_total + 24.0)).log(),
        source_ip_age_log=age_hours("actor_source_ip").log1p(),
        user_agent_age_log=age_hours("actor_user_agent").log1p(),
        deletes_1h=actor_windows["is_delete_1h"].cast(pl.Float64),
        source_ip_rarity_actor=-((count("actor_source_ip") + 1.0) / (actor_total + 2.0)).log(),
        user_agent_rarity_actor=-((count("actor_user_agent") + 1.0) / (actor_total + 2.0)).log(),
        namespace_rarity_actor=-((count("actor_namespace") + 1.0) / (actor_total + 2.0)).log(),
        rate_1h_vs_baseline=(
            (actor_windows["n_1h"].cast(pl.Float64) + 1.0) / (actor_baseline + 1.0)
        ).log(),
        new_combos_1h=actor_windows["first_action_resource_1h"].cast(pl.Float64),
        new_namespaces_1h=actor_windows["first_namespace_1h"].cast(pl.Float64),
        denials_10m=denials,
        denial_burst_then_allow=denials * allowed,
        namespace_fail_rate_vs_baseline=(
            (ns_windows["is_policy_violation_1h"].cast(pl.Float64) + 1.0) / (ns_fail_baseline + 1.0)
        ).log(),
    )
