"""Entity-history features: an event judged against what came before it.

Semantics, identical for training (one big batch) and streaming (many micro-batches
with :class:`~features.state.EntityState` carried between them): events are
processed in order — batch after batch, and within a batch by
``(event_time, event_id)`` — and every history feature of an event depends only on
events *strictly before* it in that order. Hence the parity guarantee: the same
time-ordered events give the same features whatever the micro-batch sizes.

History is kept at three levels (:mod:`features.entities`): the **entity** (the
principal at the level where its behaviour is stable), its **peer group** (what
this kind of identity does) and the whole **environment**. Rarity is a smoothed,
hierarchical estimate: the environment's frequency of a value is the prior of
the peer group's, which is the prior of the entity's, each worth
:data:`PRIOR_WEIGHT` events. So an entity with a long history is judged by its
own habits, a new one by its peers' (a new service account doing what service
accounts of its namespace do is not rare), and a few hundred training events
already give sensible values. Rates over sliding windows are compared with the
entity's own hourly rate, smoothed the same way towards its peers' per-member
rate.

All of it is vectorised, and costs the batch plus a copy of the tables: keys are
64-bit hashes; a stable sort groups a batch's rows by key, so "earlier events
with this key" is a rank within the group plus what the state's table (sorted by
key, found by binary search) already held; window sums are differences of
running sums, their starts found by a binary search within each key's rows.
Micro-batches of a few thousand events pay no join or group-by, whose fixed cost
dominated them. The feature arithmetic is one polars ``select``.
:data:`HISTORY_FEATURES` names each feature and the behaviour it exposes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import numpy as np
import numpy.typing as npt
import polars as pl

from features.entities import bytes_out, entity, peer_group, target
from features.state import KEY_SCHEME, KEY_SEED, EntityState


@dataclass(frozen=True)
class History:
    """One history: counts of earlier events per ``level`` key and ``values``.

    ``level`` is the key column the history is kept per (``env`` is the constant
    key: the whole environment).
    """

    level: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """Several histories kept in one state table, stacked.

    A batch's rows are repeated once per history (each block keyed by the history's
    number, its level and its values) and go through one sort and one lookup: a
    batch pays each operation's fixed cost once per table, not once per history.
    ``sums`` are the flags every history of the table adds up.
    """

    histories: dict[str, History]
    sums: tuple[str, ...] = ()


# Per-level activity: what the rates are measured against.
FAMILIES = ("is_data_read", "is_list", "is_delete", "bytes_out")
_THREE = ("entity", "peer", "env")


def _per_level(
    suffix: str, values: tuple[str, ...], levels: tuple[str, ...] = _THREE
) -> dict[str, History]:
    return {f"{level}_{suffix}": History(level, values) for level in levels}


# The entity's own history comes first: the others count new entities (``new_entity``).
ENTITY_TABLE = Table({"entity": History("entity")}, FAMILIES)
TABLES: dict[str, Table] = {
    "totals": Table(
        {
            "peer": History("peer"),
            "env": History("env"),
            "namespace": History("env", ("namespace",)),
        },
        (*FAMILIES, "new_entity", "is_policy_violation"),
    ),
    "counts": Table(
        _per_level("combo", ("action", "resource"))
        | {"namespace_combo": History("namespace", ("action", "resource"))}
        | _per_level("hour", ("hour",))
        | _per_level("ip", ("source_ip",))
        | _per_level("agent", ("user_agent",))
        | _per_level("namespace", ("namespace",), ("entity", "peer"))
        | _per_level("target", ("target",))
    ),
}
HOUR = timedelta(hours=1)
TEN_MINUTES = timedelta(minutes=10)
# Sliding windows, per group: the flags summed and the window widths.
WINDOW_GROUPS: dict[str, tuple[tuple[str, ...], dict[str, timedelta]]] = {
    "entity": (
        ("is_denied", *FAMILIES, "novel_action", "novel_namespace", "novel_target"),
        {"1h": HOUR, "10m": TEN_MINUTES},
    ),
    "namespace": (("is_policy_violation",), {"1h": HOUR}),
}
HISTORY_FEATURES: dict[str, str] = {
    "action_surprise": "how rare this action+resource is for the entity (its peers' habits "
    "when it has little history)",
    "action_surprise_env": "how rare this action+resource is anywhere in the environment",
    "namespace_action_surprise": "how rare this action+resource is in this namespace / account",
    "first_in_environment": "nobody here has done this action on this resource before",
    "hour_surprise": "how rare this hour of day is for the entity (off-hours for them)",
    "source_ip_surprise": "how rarely the entity (and its peers) come from this address",
    "user_agent_surprise": "how rarely the entity (and its peers) use this client",
    "namespace_surprise": "how rarely the entity (and its peers) work in this namespace",
    "target_surprise": "how rarely the entity (and its peers) touch this bucket / object",
    "source_ip_age": "how much younger the address is than the entity's history (log hours)",
    "user_agent_age": "how much younger the client is than the entity's history (log hours)",
    "rate_1h_vs_baseline": "the entity's events in the last hour against its usual hourly rate",
    "reads_10m_vs_baseline": "data reads in the last 10 minutes against the usual rate",
    "reads_1h_vs_baseline": "data reads in the last hour against the usual rate",
    "lists_1h_vs_baseline": "list / describe calls in the last hour against the usual rate "
    "(enumeration)",
    "deletes_1h_vs_baseline": "deletions in the last hour against the usual rate",
    "bytes_out_1h_vs_baseline": "bytes read out in the last hour against the usual rate",
    "novel_actions_1h": "rare actions by the entity in the last hour (exploration)",
    "novel_namespaces_1h": "namespaces rare for the entity in the last hour (lateral spread)",
    "novel_targets_1h": "buckets / objects rare for the entity in the last hour (collection)",
    "denials_10m": "denials of the entity's requests in the previous 10 minutes (probing)",
    "denial_burst_then_allow": "an allowed request right after a burst of denials",
    "namespace_fail_rate_vs_baseline": "policy failures in the namespace in the last hour "
    "against its usual rate",
}
PRIOR_WEIGHT = 10.0  # events: how much a level's prior counts against its own history
PRIOR_HOURS = 24.0  # hours: how long an entity's own rate takes to outweigh its peers'
NOVEL_SURPRISE = math.log(20.0)  # rarer than 1 in 20 for the entity: "novel"
WORKING_COLUMNS = ("bytes_out",)  # derived inputs, not features: dropped from the output
_KEY_COLUMNS = (
    "action",
    "resource",
    "namespace",
    "source_ip",
    "user_agent",
)  # entity: features.entities
_MIN_HOURS = 1.0


def _k(column: str) -> str:
    return f"k_{column}"


def with_keys(events: pl.LazyFrame) -> pl.LazyFrame:
    """Null-safe key columns (null becomes the empty string), entity levels and the UTC hour."""
    return events.with_columns(_key_columns())


@cache  # the expressions are the same for every batch; building them is not free
def _key_columns() -> list[pl.Expr]:
    return [
        *[pl.col(c).fill_null("").alias(_k(c)) for c in _KEY_COLUMNS],
        entity().fill_null("").alias(_k("entity")),
        peer_group().fill_null("").alias(_k("peer")),
        target().fill_null("").alias(_k("target")),
        pl.lit("").alias(_k("env")),
        pl.col("event_time").dt.hour().cast(pl.String).alias(_k("hour")),
        bytes_out().alias("bytes_out"),
    ]


# A history's key is one 64-bit number: polars' hash of each key column, mixed in
# order with the history's number. Keys of one table stay sorted, so a batch finds
# its keys by binary search and the state is advanced with numpy in O(batch) plus
# a copy, instead of joins and group-bys whose fixed cost dominated micro-batches.
# polars does not promise the same hash across versions: the state records its
# scheme (features.state.KEY_SCHEME) and one from another scheme is not used.
_MIX = 0x9E3779B97F4A7C15  # odd 64-bit constant (the golden ratio): a bijective mixing step
_MASK = (1 << 64) - 1


def _history_seed(index: int) -> np.uint64:
    return np.uint64(((index + 1) * _MIX) & _MASK)


def _table_keys(hashes: dict[str, npt.NDArray[np.uint64]], table: Table) -> npt.NDArray[np.uint64]:
    """The keys of every history of ``table``, stacked: one block of the batch's rows each."""
    mix = np.uint64(_MIX)
    blocks = []
    for index, history in enumerate(table.histories.values()):
        key = np.full(len(hashes[history.level]), _history_seed(index), dtype=np.uint64)
        for column in (history.level, *history.values):
            key = (key ^ hashes[column]) * mix  # numpy wraps uint64 arithmetic: intended
        blocks.append(key)
    return np.concatenate(blocks)


# Below this many keys numpy sorts in the calling thread faster than polars hands the sort
# to its pool and back (0.03 against 0.49 ms for 1,000 keys, 0.28 against 0.55 for 5,000);
# from about 20,000 polars' parallel sort wins (1.2 against 1.4 ms; 45 against 114 ms for
# a million).
PARALLEL_SORT_KEYS = 10_000


def stable_order(keys: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
    """The positions of ``keys`` in sorted order, equal keys in their order (a stable sort
    has one answer, so both ways give the same positions)."""
    if keys.size < PARALLEL_SORT_KEYS:
        return np.argsort(keys, kind="stable")
    by_key = pl.DataFrame({"key": keys}).select(pl.arg_sort_by("key", maintain_order=True))
    return by_key.to_series().to_numpy().astype(np.intp, copy=False)


@dataclass(frozen=True)
class _Runs:
    """Rows grouped by key: a stable sort, so each key's rows keep their order."""

    order: np.ndarray  # sorted position -> row
    starts: np.ndarray  # sorted position of each key's first row
    run: np.ndarray  # sorted position -> its key's number

    @classmethod
    def of(cls, keys: npt.NDArray[np.uint64]) -> _Runs:
        order = stable_order(keys)
        sorted_keys = keys[order]
        head = np.ones(keys.size, dtype=bool)
        head[1:] = sorted_keys[1:] != sorted_keys[:-1]
        return cls(order, np.flatnonzero(head), np.cumsum(head) - 1)

    def rank(self) -> np.ndarray:
        """Per sorted position: how many rows of the same key come before it."""
        rank: np.ndarray = np.arange(self.order.size) - self.starts[self.run]
        return rank

    def unsort(self, values: np.ndarray) -> np.ndarray:
        """Values by sorted position, back in row order."""
        out = np.empty_like(values)
        out[self.order] = values
        return out


def _exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    """What came before each position; differences of it are sums over ranges (exact for
    the integral values summed here, flags and bytes, whatever the batch size)."""
    before: np.ndarray = np.cumsum(values) - values
    return before


def _empty_table(table: Table) -> dict[str, np.ndarray]:
    return {
        "key": np.empty(0, np.uint64),
        "history": np.empty(0, np.uint8),
        "count": np.empty(0, np.int64),
        **{s: np.empty(0, np.float64) for s in table.sums},
        "first": np.empty(0, np.int64),
        "last": np.empty(0, np.int64),
    }


def _advance(
    prior: pl.DataFrame | None,
    table: Table,
    keys: npt.NDArray[np.uint64],
    times: npt.NDArray[np.int64],
    sums: dict[str, npt.NDArray[np.float64]],
) -> tuple[dict[str, np.ndarray], pl.DataFrame]:
    """Per stacked row: count, sums and first time of the *earlier* events with its key;
    and the table advanced past the rows.

    Rows are in processing order within each history's block; a stable sort by key
    groups each key's rows in that order, so "earlier" is the rank within the run
    plus what the table already held. Sums are of integral values (flags, bytes),
    exact in float64, so batch size never changes a result.
    """
    rows = keys.size
    histories = len(table.histories)
    runs = _Runs.of(keys)
    order, starts, run = runs.order, runs.starts, runs.run
    unique = keys[order][starts]
    lengths = np.diff(np.append(starts, rows))
    old = _empty_table(table) if prior is None else {c: prior[c].to_numpy() for c in prior.columns}
    position = np.searchsorted(old["key"], unique)
    found = np.zeros(unique.size, dtype=bool)
    if old["key"].size:
        found = old["key"][np.minimum(position, old["key"].size - 1)] == unique

    def prior_of(column: str, default: float) -> np.ndarray:
        """The table's value of ``column`` for each of the batch's keys (``default``: new)."""
        values = np.full(unique.size, default, dtype=old[column].dtype)
        values[found] = old[column][position[found]]
        return values

    unsort = runs.unsort
    sorted_times = times[order]
    run_first = np.minimum.reduceat(sorted_times, starts)
    run_last = np.maximum.reduceat(sorted_times, starts)
    before: dict[str, np.ndarray] = {
        "count": unsort(prior_of("count", 0)[run] + runs.rank()),
        "first": unsort(np.where(found, prior_of("first", 0), run_first)[run]),
    }
    run_sums = {}
    for name in table.sums:
        values = sums[name][order]
        running = _exclusive_cumsum(values)
        before[name] = unsort(prior_of(name, 0.0)[run] + running - running[starts][run])
        run_sums[name] = np.add.reduceat(values, starts)

    # The table advanced: new keys are inserted in order (one new array per column, the
    # prior table is shared with checkpoints and never written), then known keys, at
    # their shifted places, add the batch's totals.
    new = ~found
    where = position[new]
    history_of_run = (order[starts] // (rows // histories)).astype(np.uint8)
    inserted = {
        "key": unique[new],
        "history": history_of_run[new],
        "count": lengths[new].astype(np.int64),
        **{name: run_sums[name][new] for name in table.sums},
        "first": run_first[new],
        "last": run_last[new],
    }
    updated = {column: np.insert(old[column], where, inserted[column]) for column in old}
    known = position[found]
    known = known + np.searchsorted(where, known, side="right")  # past the inserted keys
    updated["count"][known] += lengths[found]
    for name in table.sums:
        updated[name][known] += run_sums[name][found]
    updated["first"][known] = np.minimum(updated["first"][known], run_first[found])
    updated["last"][known] = np.maximum(updated["last"][known], run_last[found])
    return before, pl.DataFrame(updated)


def _key_hashes(batch: pl.DataFrame) -> dict[str, npt.NDArray[np.uint64]]:
    """polars' hash of every key column the histories and windows are kept by."""
    every = [h for t in (ENTITY_TABLE, *TABLES.values()) for h in t.histories.values()]
    columns = sorted({c for h in every for c in (h.level, *h.values)} | set(WINDOW_GROUPS))
    hashed = batch.select(pl.col(_k(c)).hash(seed=KEY_SEED) for c in columns)
    return {c: hashed[_k(c)].to_numpy() for c in columns}


def _count_histories(
    hashes: dict[str, npt.NDArray[np.uint64]],
    times: npt.NDArray[np.int64],
    values: dict[str, npt.NDArray[np.float64]],
    state: EntityState,
) -> dict[str, np.ndarray]:
    """Every history's counts before each event of one part, side by side; advances its state.

    One column per history and measure, ``<history>.count``, ``<history>.first`` and
    ``<history>.<sum>``. The peer and environment histories also count distinct
    entities (``new_entity``: the event's entity had no history before it), which
    comes from the entity's own history, done first.
    """
    rows = times.size
    values = dict(values)
    out: dict[str, np.ndarray] = {}
    for name, table in (("entity", ENTITY_TABLE), *TABLES.items()):
        copies = len(table.histories)
        stacked = {s: np.tile(values[s], copies) for s in table.sums}
        keys = _table_keys(hashes, table)
        before, state.pairs[name] = _advance(
            state.pairs.get(name), table, keys, np.tile(times, copies), stacked
        )
        if name == "entity":
            values["new_entity"] = (before["count"] == 0).astype(np.float64)
        for index, history in enumerate(table.histories):
            block = slice(index * rows, (index + 1) * rows)
            for measure, column in before.items():
                out[f"{history}.{measure}"] = column[block]
    return out


def _concatenated(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The parts' columns, one after the other."""
    if len(parts) == 1:
        return parts[0]
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def _ticks(width: timedelta, time_type: pl.DataType) -> int:
    """``width`` in the physical unit of ``time_type`` (a polars Datetime)."""
    unit = getattr(time_type, "time_unit", "us") or "us"
    per_second = {"ns": 1_000_000_000, "us": 1_000_000, "ms": 1_000}[unit]
    return int(width.total_seconds() * per_second)


def _windows(
    group: str,
    keys: npt.NDArray[np.uint64],
    times: npt.NDArray[np.int64],
    flags: dict[str, np.ndarray],
    tail: pl.DataFrame | None,
    widths: dict[str, int],
) -> tuple[dict[str, np.ndarray], pl.DataFrame]:
    """Counts and flag sums over each window strictly before each event, per key.

    Returns, per event, ``<group>.n_<w>`` (events in window ``w``) and
    ``<group>.<flag>_<w>`` (the flag's sum in it), and the new tail: the rows within
    the longest window of the latest, kept so windows span batches. The window of
    a row is found by a binary search within its key's rows (vectorised over all
    rows at once); an event older than ones already seen (a late arrival) breaks
    the time order it assumes, and its window stays within the events before it.
    """
    current = keys.size
    if tail is not None and tail.height:
        keys = np.concatenate([tail["key"].to_numpy(), keys])
        times = np.concatenate([tail["time"].to_numpy(), times])
        flags = {f: np.concatenate([tail[f].to_numpy(), v]) for f, v in flags.items()}
    runs = _Runs.of(keys)
    sorted_times = times[runs.order]
    # Only the batch's rows (the last ``current``) are answered: the tail's rows are
    # there to be counted, and a tail is often a hundred times the batch.
    mine = runs.unsort(np.arange(keys.size))[-current:]  # each batch row's sorted position
    first_of_key = runs.starts[runs.run[mine]]
    running = {f: _exclusive_cumsum(v[runs.order]) for f, v in flags.items()}
    out: dict[str, np.ndarray] = {}
    for name, width in widths.items():
        since = sorted_times[mine] - width
        low, high = first_of_key, mine  # the answer is in [low, high]
        while (low < high).any():
            middle = (low + high) // 2
            inside = sorted_times[middle] > since
            high = np.where(inside, middle, high)
            low = np.where(inside, low, middle + 1)
        out[f"{group}.n_{name}"] = mine - low
        for f, sums in running.items():
            out[f"{group}.{f}_{name}"] = sums[mine] - sums[low]
    kept = times > times.max() - max(widths.values())
    new_tail = {"key": keys[kept], "time": times[kept], **{f: v[kept] for f, v in flags.items()}}
    return out, pl.DataFrame(new_tail)


def _backoff(levels: list[tuple[pl.Expr, pl.Expr]], top_prior: float) -> pl.Expr:
    """Smoothed probability of a value, from the broadest level down to the entity.

    ``levels`` are ``(count of the value, count of all events)`` pairs, broadest
    first. The broadest level starts from ``top_prior`` (its share for a value
    never seen); each narrower level uses the one above as its prior, worth
    :data:`PRIOR_WEIGHT` events.
    """
    value, total = levels[0]
    p = (value + 1.0) / (total + 1.0 / top_prior)
    for value, total in levels[1:]:
        p = (value + PRIOR_WEIGHT * p) / (total + PRIOR_WEIGHT)
    return p


def _surprise(levels: list[tuple[pl.Expr, pl.Expr]], top_prior: float = 0.5) -> pl.Expr:
    """``-ln p`` of :func:`_backoff`: 0 for the expected, growing without bound for the rare."""
    return -_backoff(levels, top_prior).log()


def _hours(since: pl.Expr, now: pl.Expr) -> pl.Expr:
    return ((now - since).dt.total_seconds() / 3600.0).clip(lower_bound=_MIN_HOURS)


def _n(history: str) -> pl.Expr:
    """How many events the history had seen before the event."""
    return pl.col(f"{history}.count").cast(pl.Float64)


def _levels(*histories: str) -> list[tuple[pl.Expr, pl.Expr]]:
    """``(count of the value, count of all events)`` of each history, at its own level."""
    return [(_n(h), _n(h.split("_")[0])) for h in histories]


def history_features(batch: pl.DataFrame, state: EntityState) -> pl.DataFrame:
    """History feature columns for ``batch`` (already keyed and in processing order).

    ``batch`` must carry the event feature columns ``is_policy_violation``,
    ``is_denied``, ``is_delete``, ``is_data_read`` and ``is_list``. ``state`` is
    advanced past the batch.
    """
    return history_features_of_parts(batch, [(state, batch.height)])


def history_features_of_parts(
    batch: pl.DataFrame, parts: Sequence[tuple[EntityState, int]]
) -> pl.DataFrame:
    """History feature columns for a batch of several parts, each with its own history.

    ``batch`` holds each part's rows one after the other, ``parts`` names each
    part's state and how many rows it has, and every part is in processing order.
    A part gets exactly the columns, and its state exactly the advance, of
    :func:`history_features` over that part alone: only the lookups in the
    states (numpy) run per part. The polars queries run once for the batch,
    because on small parts (a scorer's partitions) their fixed cost is most of
    the work.
    """
    held = sum(rows for _, rows in parts)
    if held != batch.height:
        raise ValueError(f"the parts hold {held} rows, the batch {batch.height}")
    if batch.height == 0:
        return pl.DataFrame(schema=dict.fromkeys(HISTORY_FEATURES, pl.Float64))
    for state, _ in parts:
        if not state.usable:
            raise ValueError(
                f"entity state keyed with {state.key_scheme or 'an unrecorded scheme'}, "
                f"this process keys with {KEY_SCHEME}: its history matches nothing"
            )
    hashes = _key_hashes(batch)
    times = batch["event_time"].to_physical().to_numpy()
    time_type = batch.schema["event_time"]
    flags = batch.select(pl.col(*FAMILIES, "is_policy_violation").cast(pl.Float64))
    values = {c: flags[c].to_numpy() for c in flags.columns}
    ends = np.cumsum([rows for _, rows in parts]).tolist()
    slices = [
        (state, slice(end - rows, end))
        for (state, rows), end in zip(parts, ends, strict=True)
        if rows
    ]

    def part_of(columns: dict[str, np.ndarray], rows: slice) -> dict[str, np.ndarray]:
        return {name: column[rows] for name, column in columns.items()}

    counts = _concatenated(
        [
            _count_histories(part_of(hashes, rows), times[rows], part_of(values, rows), state)
            for state, rows in slices
        ]
    )
    surprise_columns, novelty_columns = _surprise_columns()
    surprises = (
        batch.hstack(
            [
                pl.Series(name, column).cast(time_type)
                if name.endswith(".first")
                else pl.Series(name, column)
                for name, column in counts.items()
            ]
        )
        .lazy()
        .with_columns(surprise_columns)
        .with_columns(novelty_columns)
        .collect()
    )
    windowed: list[dict[str, np.ndarray]] = []
    groups = {
        group: (
            {f: surprises[f].to_numpy() for f in group_flags},
            {name: _ticks(width, time_type) for name, width in widths.items()},
        )
        for group, (group_flags, widths) in WINDOW_GROUPS.items()
    }
    for state, rows in slices:
        part: dict[str, np.ndarray] = {}
        for group, (group_flags, ticks) in groups.items():
            counted, state.tails[group] = _windows(
                group,
                hashes[group][rows],
                times[rows],
                part_of(group_flags, rows),
                state.tails.get(group),
                ticks,
            )
            part |= counted
        windowed.append(part)
    windowed_frame = surprises.hstack([pl.Series(k, v) for k, v in _concatenated(windowed).items()])
    features = windowed_frame.lazy().select(_feature_columns()).collect()
    for state, _ in slices:
        state.evict()
    return features


@cache  # the expressions are the same for every batch; building them is not free
def _surprise_columns() -> tuple[list[pl.Expr], list[pl.Expr]]:
    """The surprise of each event's action, namespace and target, then their novelty flags."""
    action = _surprise(_levels("env_combo", "peer_combo", "entity_combo"))
    namespace = _surprise(
        [
            (_n("namespace"), _n("env")),
            (_n("peer_namespace"), _n("peer")),
            (_n("entity_namespace"), _n("entity")),
        ]
    )
    target_rarity = _surprise(_levels("env_target", "peer_target", "entity_target"))
    return [
        action.alias("action_surprise"),
        namespace.alias("namespace_surprise"),
        target_rarity.alias("target_surprise"),
    ], [
        (pl.col("action_surprise") > NOVEL_SURPRISE).cast(pl.Float64).alias("novel_action"),
        (pl.col("namespace_surprise") > NOVEL_SURPRISE).cast(pl.Float64).alias("novel_namespace"),
        ((pl.col("target_surprise") > NOVEL_SURPRISE) & (pl.col("k_target") != ""))
        .cast(pl.Float64)
        .alias("novel_target"),
    ]


@cache
def _feature_columns() -> list[pl.Expr]:
    """Every history feature, from the histories' counts and the windows beside each event."""
    now = pl.col("event_time")
    entity_hours = _hours(pl.col("entity.first"), now)
    peer_member_hours = _hours(pl.col("peer.first"), now) * pl.col("peer.new_entity").clip(1.0)
    env_member_hours = _hours(pl.col("env.first"), now) * pl.col("env.new_entity").clip(1.0)

    def vs_baseline(observed: str, family: str | None, window: timedelta) -> pl.Expr:
        """``ln((observed + 1) / (expected + 1))``: the window against the smoothed usual rate."""

        def total(level: str) -> pl.Expr:
            return _n(level) if family is None else pl.col(f"{level}.{family}")

        env_rate = total("env") / env_member_hours
        peer_rate = (total("peer") + PRIOR_HOURS * env_rate) / (peer_member_hours + PRIOR_HOURS)
        rate = (total("entity") + PRIOR_HOURS * peer_rate) / (entity_hours + PRIOR_HOURS)
        expected = rate * (window / HOUR)
        return ((pl.col(f"entity.{observed}").cast(pl.Float64) + 1.0) / (expected + 1.0)).log()

    def age(history: str) -> pl.Expr:
        """Log hours the value is younger than the entity's history (0: known from the start)."""
        value_hours = ((now - pl.col(f"{history}.first")).dt.total_seconds() / 3600.0).clip(0.0)
        known_hours = ((now - pl.col("entity.first")).dt.total_seconds() / 3600.0).clip(0.0)
        return known_hours.log1p() - value_hours.log1p()

    def windowed_count(column: str) -> pl.Expr:
        return pl.col(f"entity.{column}").cast(pl.Float64)

    allowed = (pl.col("outcome") == "allow").fill_null(value=False).cast(pl.Float64)
    denials = windowed_count("is_denied_10m")
    ns_fail_baseline = pl.col("namespace.is_policy_violation") / _hours(
        pl.col("namespace.first"), now
    )
    return [
        pl.col("action_surprise"),
        _surprise(_levels("env_combo")).alias("action_surprise_env"),
        _surprise([(_n("env_combo"), _n("env")), (_n("namespace_combo"), _n("namespace"))]).alias(
            "namespace_action_surprise"
        ),
        (_n("env_combo") == 0).cast(pl.Float64).alias("first_in_environment"),
        _surprise(_levels("env_hour", "peer_hour", "entity_hour"), top_prior=1.0 / 24.0).alias(
            "hour_surprise"
        ),
        _surprise(_levels("env_ip", "peer_ip", "entity_ip")).alias("source_ip_surprise"),
        _surprise(_levels("env_agent", "peer_agent", "entity_agent")).alias("user_agent_surprise"),
        pl.col("namespace_surprise"),
        pl.col("target_surprise"),
        age("entity_ip").alias("source_ip_age"),
        age("entity_agent").alias("user_agent_age"),
        vs_baseline("n_1h", None, HOUR).alias("rate_1h_vs_baseline"),
        vs_baseline("is_data_read_10m", "is_data_read", TEN_MINUTES).alias("reads_10m_vs_baseline"),
        vs_baseline("is_data_read_1h", "is_data_read", HOUR).alias("reads_1h_vs_baseline"),
        vs_baseline("is_list_1h", "is_list", HOUR).alias("lists_1h_vs_baseline"),
        vs_baseline("is_delete_1h", "is_delete", HOUR).alias("deletes_1h_vs_baseline"),
        vs_baseline("bytes_out_1h", "bytes_out", HOUR).alias("bytes_out_1h_vs_baseline"),
        windowed_count("novel_action_1h").log1p().alias("novel_actions_1h"),
        windowed_count("novel_namespace_1h").log1p().alias("novel_namespaces_1h"),
        windowed_count("novel_target_1h").log1p().alias("novel_targets_1h"),
        denials.alias("denials_10m"),
        (denials * allowed).alias("denial_burst_then_allow"),
        (
            (pl.col("namespace.is_policy_violation_1h").cast(pl.Float64) + 1.0)
            / (ns_fail_baseline + 1.0)
        )
        .log()
        .alias("namespace_fail_rate_vs_baseline"),
    ]
