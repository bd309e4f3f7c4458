"""The targets, judged honestly, and the markdown table of one run."""

from __future__ import annotations

import math
from typing import Any

GIB = 2**30
TARGET_EVENTS_PER_S = 100_000
TARGET_EFFICIENCY = 0.5
TARGET_P99_S = 1.0
TARGET_P99_QUIET_S = 0.5
TARGET_RSS_BYTES = GIB
TARGET_ENTITIES = 100_000


def _get(results: dict[str, Any], *path: str) -> Any:
    """A nested value, or None when any step is missing.

    >>> _get({"a": {"b": 1}}, "a", "b"), _get({"a": {}}, "a", "b")
    (1, None)
    """
    node: Any = results
    for step in path:
        if not isinstance(node, dict) or step not in node:
            return None
        node = node[step]
    return node


def _num(value: Any, digits: int = 0, suffix: str = "") -> str:
    """A number for the table; ``-`` when unmeasured.

    >>> _num(12345.678), _num(0.4567, 2, " s"), _num(None), _num(float("nan"))
    ('12,346', '0.46 s', '-', '-')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def efficiency(results: dict[str, Any], scorers: str) -> float | None:
    """End-to-end messages/s over the bare consumer's (same client, same checksums)."""
    ours = _get(results, "e2e", scorers, "messages_per_s")
    bare = _get(results, "limits", "bare_consumer", "messages_per_s")
    return ours / bare if ours and bare else None


def _level(results: dict[str, Any], load: float) -> dict[str, Any] | None:
    levels = _get(results, "e2e", "latency", "levels") or []
    return next((level for level in levels if level.get("load") == load), None)


def _harmonic(*rates: float | None) -> float | None:
    """The rate of stages run one after the other.

    >>> _harmonic(100.0, 100.0), _harmonic(100.0, None)
    (50.0, None)
    """
    if any(rate is None or rate <= 0 for rate in rates):
        return None
    return 1.0 / sum(1.0 / rate for rate in rates if rate)


def comparable(results: dict[str, Any]) -> dict[str, float | None]:
    """The rates of one run that another run can be compared on (events/s; latency in s)."""
    stages = {stage["stage"]: stage.get("events_per_s") for stage in results.get("stages", [])}
    columnar = next((rate for name, rate in stages.items() if "in columns" in name), None)
    per_message = _harmonic(
        stages.get("decode + normalize (normalize_message)"),
        stages.get("rows to frame (to_frame)"),
    )
    rates: dict[str, float | None] = {
        "end to end, 1 scorer process": _get(results, "e2e", "scorers_1", "events_per_s"),
        "end to end, 2 scorer processes": _get(results, "e2e", "scorers_2", "events_per_s"),
        "bare kafka-python consumer": _get(results, "limits", "bare_consumer", "events_per_s"),
        "the scorer's decode: bytes to a normalized frame": columnar or per_message,
        **{name: rate for name, rate in stages.items() if rate is not None},
    }
    for load in (0.1, 0.5):
        level = _level(results, load)
        rates[f"p99 latency at {100 * load:.0f} % load (s)"] = level.get("p99_s") if level else None
    return rates


def baseline(results: dict[str, Any]) -> dict[str, Any]:
    """What a later run shows of an earlier one beside its own figures."""
    return {
        "date": results.get("date"),
        "command": results.get("command"),
        "code": results.get("code"),
        "rates": comparable(results),
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with what was measured and whether it is met (None: not measured)."""
    rate = _get(results, "e2e", "scorers_2", "events_per_s")
    eff = efficiency(results, "scorers_1")
    half = _level(results, 0.5)
    p99 = half.get("p99_s") if half else None
    quiet = _level(results, 0.1)
    p99_quiet = quiet.get("p99_s") if quiet else None
    entities = _get(results, "e2e", "entities", "state_actors")
    rss_list = _get(results, "e2e", "entities", "peak_rss_bytes") or []
    rss = max(rss_list) if rss_list else None
    rss_met = None
    if rss is not None and entities is not None and entities >= TARGET_ENTITIES:
        rss_met = rss <= TARGET_RSS_BYTES
    return [
        {
            "target": ">= 100k events/s end to end with 2 scorers",
            "measured": _num(rate, 0, " events/s"),
            "met": None if rate is None else rate >= TARGET_EVENTS_PER_S,
        },
        {
            "target": ">= 50 % of the bare consumer's rate (1 scorer vs 1 bare consumer)",
            "measured": _num(None if eff is None else 100 * eff, 1, " %"),
            "met": None if eff is None else eff >= TARGET_EFFICIENCY,
        },
        {
            "target": "p99 event-to-anomaly latency <= 1 s at 50 % load",
            "measured": _num(p99, 2, " s"),
            "met": None if p99 is None or math.isnan(p99) else p99 <= TARGET_P99_S,
        },
        {
            "target": "p99 event-to-anomaly latency <= 0.5 s at 10 % load",
            "measured": _num(p99_quiet, 2, " s"),
            "met": None
            if p99_quiet is None or math.isnan(p99_quiet)
            else p99_quiet <= TARGET_P99_QUIET_S,
        },
        {
            "target": "peak RSS <= 1 GiB with 100k active entities",
            "measured": f"{_num(None if rss is None else rss / GIB, 2, ' GiB')} "
            f"with {_num(entities)} entities",
            "met": rss_met,
        },
    ]


def _met(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "not measured"}[value]


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    w = results.get("workload", {})
    t = results.get("training", {})
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    lines = [
        f"# auditlens benchmark, {results['date']} on {m['host']}",
        "",
        f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['os']}; "
        f"load average at start {m['load_average_at_start']}",
        f"- Python {m['python']}; {packages}; crc32c C extension: "
        f"{'yes' if m['crc32c_extension'] else 'no'}; OPENBLAS env: {m['openblas_env'] or '-'}",
        f"- broker: {results.get('broker', '-')}; command: `{results['command']}`",
        f"- stream: {_num(w.get('messages'))} messages, {_num(w.get('events'))} events "
        f"({w.get('events_by_source', {})}), {_num(w.get('actors'))} actors; "
        f"{results['settings']['partitions']} partitions, checkpoint every "
        f"{results['settings']['checkpoint_interval']} s, scorer batches of "
        f"{results['settings'].get('scorer_batch_max_events', '-')} events / "
        f"{results['settings'].get('scorer_batch_max_wait_ms', '-')} ms",
        f"- model: trained on {_num(t.get('training_lines'))} events (the week before "
        f"the stream) in {_num(t.get('train_seconds'), 1)} s; one generation of "
        f"{_num(t.get('generated_lines'))} lines at {_num(t.get('events_per_day'))} events a "
        "day holds both, so model and stream share the organisation and its rates",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "| --- | --- | --- |",
        *(f"| {t['target']} | {t['measured']} | {_met(t['met'])} |" for t in results["targets"]),
        "",
        "## Throughput",
        "",
        "| what | events/s | messages/s | notes |",
        "| --- | ---: | ---: | --- |",
        *_throughput_rows(results),
        "",
        *_baseline_rows(results),
        *_latency_rows(results),
        *_memory_rows(results),
        *_profile_rows(results),
    ]
    errors = results.get("errors") or {}
    if errors:
        lines += ["## Phases that failed", ""]
        lines += [
            f"- {phase}: {message.splitlines()[0][:300]}" for phase, message in errors.items()
        ]
        lines.append("")
    return "\n".join(lines)


def _throughput_rows(results: dict[str, Any]) -> list[str]:
    rows = []
    e2e = results.get("e2e", {})
    for key, label in (
        ("scorers_1", "end to end, 1 scorer process"),
        ("scorers_2", "end to end, 2 scorer processes"),
        ("entities", "end to end, 1 scorer, actors spread (memory run)"),
    ):
        run = e2e.get(key)
        if run:
            flagged = run["anomalies_stored"] / max(run.get("events") or 1, 1)
            note = (
                f"start-up {_num(run.get('startup_s'), 1)} s, {run['anomalies_stored']:,} "
                f"anomalies ({100 * flagged:.1f} % of events)"
            )
            if run.get("timed_out"):
                note += ", TIMED OUT"
            rate, messages = _num(run["events_per_s"]), _num(run["messages_per_s"])
            rows.append(f"| {label} | {rate} | {messages} | {note} |")
    fill = e2e.get("fill")
    if fill:
        rows.append(f"| producer filling the topic | - | {_num(fill['rate'])} | benchmark's own |")
    limits = results.get("limits", {})
    for key, label in (
        ("bare_consumer", "bare kafka-python consumer (as the scorer: CRC checked)"),
        ("bare_consumer_no_crc", "bare kafka-python consumer, check_crcs=False"),
        ("orjson", "bare orjson.loads of the messages"),
    ):
        if key in limits:
            rows.append(
                f"| {label} | {_num(limits[key].get('events_per_s'))} | "
                f"{_num(limits[key].get('messages_per_s'))} | limit |"
            )
    for key in ("scorers_1", "scorers_2"):
        eff = efficiency(results, key)
        if eff is not None:
            rows.append(
                f"| efficiency, {key.replace('_', ' ')} / bare consumer | - | - | "
                f"{100 * eff:.1f} % |"
            )
    for stage in results.get("stages", []):
        unit = "events" if "events" in stage else "rows" if "rows" in stage else "messages"
        rate = stage.get(f"{unit}_per_s")
        events_rate = rate if unit == "events" else stage.get("events_per_s_equivalent")
        note = f"stage alone, {_num(stage.get(unit))} {unit}"
        if unit == "rows":
            note += f" at {_num(rate)} rows/s"
        rows.append(
            f"| {stage['stage']} | {_num(events_rate)} | "
            f"{_num(rate) if unit == 'messages' else '-'} | {note} |"
        )
    prof = results.get("profile")
    if prof:
        rows.append(
            f"| scorer loop in-process under cProfile | - | "
            f"{_num(prof.get('messages_per_s_profiled'))} | "
            f"the scoring thread alone: "
            f"{_num(prof.get('messages_per_s_scoring_alone_profiled'))} msg/s |"
        )
    for peer in results.get("peers", []):
        note = peer.get("skipped") or f"sample of {_num(peer.get('events'))} events"
        rows.append(f"| peer: {peer['peer']} | {_num(peer.get('events_per_s'))} | - | {note} |")
    return rows


def _baseline_rows(results: dict[str, Any]) -> list[str]:
    before = results.get("baseline")
    if not before:
        return []
    rows = [
        f"## Before and after (before: the run of {before['date']}, "
        f"`{before['command']}`{', at ' + before['code'] if before.get('code') else ''})",
        "",
        "| what | before | after | after / before |",
        "| --- | ---: | ---: | ---: |",
    ]
    after = comparable(results)
    for name in dict.fromkeys([*before["rates"], *after]):
        old, new = before["rates"].get(name), after.get(name)
        digits = 3 if name.endswith("(s)") else 0
        ratio = f"{new / old:.2f}" if old and new else "-"
        rows.append(f"| {name} | {_num(old, digits)} | {_num(new, digits)} | {ratio} |")
    return [*rows, ""]


def _latency_rows(results: dict[str, Any]) -> list[str]:
    lat = _get(results, "e2e", "latency")
    if not lat:
        return []
    rows = [
        f"## Event-to-anomaly latency ({lat['scorers']} scorer(s); "
        "stored_at minus send time, anomalies only; scorers checkpoint every "
        f"{results['settings'].get('latency_checkpoint_interval', '-')} s, their default)",
        "",
        "| load | target msg/s | achieved msg/s | anomalies | p50 | p95 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for level in lat["levels"]:
        rows.append(
            f"| {100 * level['load']:.0f} % | {_num(level['target_rate'])} | "
            f"{_num(level['achieved_rate'])} | {level.get('anomalies', 0)} | "
            f"{_num(level.get('p50_s'), 3, ' s')} | {_num(level.get('p95_s'), 3, ' s')} | "
            f"{_num(level.get('p99_s'), 3, ' s')} | {_num(level.get('max_s'), 3, ' s')} |"
        )
    return [*rows, ""]


def _memory_rows(results: dict[str, Any]) -> list[str]:
    e2e = results.get("e2e", {})
    rows = [
        "## Memory and entity state",
        "",
        "| run | peak RSS per scorer (VmHWM) | state on disk | entities remembered |",
        "| --- | --- | ---: | ---: |",
    ]
    for key in ("scorers_1", "scorers_2", "entities", "latency"):
        run = e2e.get(key)
        if not run:
            continue
        rss = ", ".join(f"{r / 2**20:,.0f} MiB" for r in run.get("peak_rss_bytes", []))
        state = run.get("state_bytes")
        rows.append(
            f"| {key} | {rss or '-'} | "
            f"{_num(None if state is None else state / 2**20, 1, ' MiB')} | "
            f"{_num(run.get('state_actors'))} |"
        )
    return [*rows, ""] if len(rows) > 4 else []


def _profile_rows(results: dict[str, Any]) -> list[str]:
    prof = results.get("profile")
    if not prof or not prof.get("top_cumulative"):
        return []
    wall = prof.get("wall_s") or 0.0

    def busy(key: str) -> str:
        seconds = prof.get(key)
        share = f" ({100 * seconds / wall:.0f} %)" if seconds is not None and wall else ""
        return f"{_num(seconds, 1, ' s')}{share}"

    rows = [
        f"## Scorer hot path (cProfile, {prof['batches']} batches, "
        f"{_num(prof['messages'])} messages)",
        "",
        f"Wall time {_num(wall, 1, ' s')}; main thread busy {busy('main_thread_busy_s')} "
        f"(poll {busy('poll_batch_s')}, store, dead letters, checkpoints), scoring thread busy "
        f"{busy('scoring_thread_busy_s')} (decode, features, scoring, explanations).",
        "",
        "| function | cumulative ms per batch | share of wall time | calls |",
        "| --- | ---: | ---: | ---: |",
    ]
    for f in prof["top_cumulative"]:
        share = f.get("share_of_wall")
        rows.append(
            f"| `{f['function']}` | {_num(f.get('cumulative_ms_per_batch'), 1)} | "
            f"{_num(None if share is None else 100 * share, 1, ' %')} | {f['calls']:,} |"
        )
    rows += [
        "",
        "Most time spent in the function itself (leaves of the hot path, both threads):",
        "",
        "| function | own ms per batch | calls |",
        "| --- | ---: | ---: |",
    ]
    for f in prof.get("top_own", []):
        rows.append(
            f"| `{f['function']}` | {_num(f.get('own_ms_per_batch'), 1)} | {f['calls']:,} |"
        )
    return [*rows, ""]
