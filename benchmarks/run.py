"""``make bench``: throughput, latency and memory of auditlens, measured side by side in one run.

    .venv/bin/python -m benchmarks.run [--events 1000000] [--quick] [--skip-e2e]

Phases (each bounded in time; a failed phase is recorded and the run goes on
where it can):

1. **workload**: train a champion with the CLI, generate the stream, normalize it
   once (:mod:`benchmarks.workload`);
2. **end to end** through a real broker (a fresh local one in a temporary folder
   unless ``AUDITLENS_KAFKA_BOOTSTRAP_SERVERS`` is set): 1 and 2 scorer processes,
   latency at 25/50/90 % of the 2-scorer rate, a memory run with actors spread
   over about 100k entities (:mod:`benchmarks.e2e`), and the scorer loop under
   cProfile (:mod:`benchmarks.profile_scorer`);
3. **limits**: a bare kafka-python consumer and a bare ``orjson.loads`` over the
   same messages;
4. **stages** alone (:mod:`benchmarks.stages`) and **peers** (:mod:`benchmarks.peers`).

Writes ``benchmarks/results/<date>-<host>.json`` and ``.md`` (``-quick`` added for
``--quick``) and prints the markdown. Everything it starts is stopped on exit.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from benchmarks import e2e, kafka_io, peers, processes, profile_scorer, report, stages, workload
from benchmarks.machine import describe
from service.config import Settings

RESULTS = Path(__file__).parent / "results"
LOADS = [0.1, 0.25, 0.5, 0.9]
T = TypeVar("T")


class PhaseTimeoutError(Exception):
    pass


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`PhaseTimeoutError` in this (main) thread once ``seconds`` have passed."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise PhaseTimeoutError(f"phase exceeded {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities as None, so the file is strict JSON.

    >>> finite({"a": [1.0, float("nan")], "b": float("inf")})
    {'a': [1.0, None], 'b': None}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def source_revision() -> str | None:
    """The commit the run measured (``+changes`` when the work tree differed from it)."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return None
    return f"{commit}{'+changes' if changed else ''}" if commit else None


class Run:
    """The results of one run and the bookkeeping of its phases."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        now = datetime.now(UTC)
        self.results: dict[str, Any] = {
            "date": now.strftime("%Y-%m-%d %H:%M UTC"),
            "command": "python -m benchmarks.run " + " ".join(sys.argv[1:]),
            "code": source_revision(),
            "machine": describe(),
            "settings": {
                **{k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "scorer_batch_max_events": Settings().batch_max_events,
                "scorer_batch_max_wait_ms": Settings().batch_max_wait_ms,
                # Latency is measured as deployed: the scorer's default checkpoint interval.
                "latency_checkpoint_interval": Settings().checkpoint_interval_s,
            },
            "phases": {},
            "errors": {},
            "e2e": {},
            "limits": {},
        }
        suffix = "-quick" if args.quick else ""
        stem = f"{now:%Y-%m-%d}-{self.results['machine']['host']}{suffix}"
        self.json_path = args.out / f"{stem}.json"
        self.md_path = args.out / f"{stem}.md"

    def phase(self, name: str, work: Callable[[], T], limit_s: float | None = None) -> T | None:
        """Run one phase within its time limit; on failure record why and return None."""
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            with deadline(limit_s or self.args.phase_timeout):
                return work()
        except (Exception, PhaseTimeoutError) as exc:
            self.results["errors"][name] = f"{type(exc).__name__}: {exc}"
            print(f"[bench] {name} failed: {exc}", file=sys.stderr, flush=True)
            traceback.print_exc(file=sys.stderr)
            return None
        finally:
            seconds = time.perf_counter() - started
            self.results["phases"][name] = round(seconds, 2)
            print(f"[bench] {name}: {seconds:.1f} s", file=sys.stderr, flush=True)

    def write(self) -> str:
        self.results["targets"] = report.targets(self.results)
        if self.args.baseline is not None:
            self.results["baseline"] = report.baseline(json.loads(self.args.baseline.read_text()))
        self.args.out.mkdir(parents=True, exist_ok=True)
        self.json_path.write_text(
            json.dumps(finite(self.results), indent=2, default=str, allow_nan=False) + "\n"
        )
        table = report.markdown(self.results)
        self.md_path.write_text(table + "\n")
        return table


def _events_per_message(load: workload.Workload) -> float:
    return load.events / max(load.messages, 1)


def run_e2e(run: Run, load: workload.Workload, data_dir: Path, work: Path) -> None:
    """Phase 2 and the bare consumer, all against one broker."""
    args = run.args
    with kafka_io.broker(work / "kafka") as (bootstrap, description):
        run.results["broker"] = description
        cluster = kafka_io.Cluster(bootstrap)
        try:
            ctx = e2e.Context(
                cluster=cluster,
                data_dir=data_dir,
                work=work,
                partitions=args.partitions,
                checkpoint_interval_s=args.checkpoint_interval,
                timeout_s=args.phase_timeout,
                run_id=f"{int(time.time()):x}",
            )
            _e2e_phases(run, ctx, load)
        finally:
            cluster.close()


def _e2e_phases(run: Run, ctx: e2e.Context, load: workload.Workload) -> None:
    args, out = run.args, run.results["e2e"]
    per_message = _events_per_message(load)
    topic = ctx.name("stream")
    messages = kafka_io.keyed(load.values, load.keys, ctx.partitions)
    filled = run.phase("fill topic", lambda: e2e.fill_topic(ctx, topic, messages))
    if filled is None:
        return
    out["fill"] = filled
    for scorers in (1, 2):
        drain = partial(e2e.throughput, ctx, topic, f"s{scorers}", scorers, per_message)
        result = run.phase(f"e2e {scorers} scorer(s)", drain, limit_s=args.phase_timeout + 120)
        if result is not None:
            out[f"scorers_{scorers}"] = result

    def bare(check_crcs: bool) -> dict[str, float]:
        read, seconds = kafka_io.bare_consume(
            ctx.cluster.bootstrap,
            topic,
            ctx.partitions,
            load.messages,
            check_crcs,
            args.phase_timeout,
        )
        rate = read / seconds if seconds else 0.0
        return {"messages": read, "messages_per_s": rate, "events_per_s": rate * per_message}

    for key, crc in (("bare_consumer", True), ("bare_consumer_no_crc", False)):
        found = run.phase(f"limit: {key}", partial(bare, crc))
        if found is not None:
            run.results["limits"][key] = found

    # Two scorers when two could run; otherwise one, at fractions of its own rate.
    best = out.get("scorers_2") or out.get("scorers_1")
    if best and best["messages_per_s"] > 0:
        latency = run.phase(
            "e2e latency",
            lambda: e2e.latency(
                dataclasses.replace(
                    ctx,
                    checkpoint_interval_s=run.results["settings"]["latency_checkpoint_interval"],
                ),
                load.values,
                load.keys,
                load.message_of_event,
                best["messages_per_s"],
                LOADS,
                args.latency_seconds,
                scorers=best["scorers"],
            ),
            limit_s=args.phase_timeout * 2 + 300,
        )
        if latency is not None:
            out["latency"] = latency

    def entities() -> dict[str, Any]:
        values, keys = workload.spread_entities(load, args.entities)
        topic = ctx.name("entities")
        e2e.fill_topic(ctx, topic, kafka_io.keyed(values, keys, ctx.partitions))
        return e2e.throughput(ctx, topic, "entities-group", 1, per_message)

    spread = run.phase("e2e entities (memory)", entities, limit_s=args.phase_timeout * 2 + 120)
    if spread is not None:
        out["entities"] = spread
    profiled = run.phase(
        "profile scorer",
        lambda: profile_scorer.profile(
            ctx.cluster,
            ctx.data_dir,
            topic,
            ctx.partitions,
            ctx.name("profile"),
            ctx.work,
            args.profile_seconds,
        ),
        limit_s=args.profile_seconds + 300,
    )
    if profiled is not None:
        run.results["profile"] = profiled


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run(args)

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    try:
        with tempfile.TemporaryDirectory(prefix="auditlens-bench-") as tmp:
            _run(run, Path(tmp))
    finally:
        processes.stop_all()
        print(run.write())
        print(f"\nwrote {run.json_path} and {run.md_path}", file=sys.stderr)
    return 1 if run.results["errors"] else 0


def _run(run: Run, work: Path) -> None:
    args = run.args
    generated = run.phase(
        "generate environment", lambda: workload.generate(work, args.seed, args.events)
    )
    if generated is None:
        return
    lines, training_file, generation = generated
    trained = run.phase("train model", lambda: workload.train_model(work, training_file))
    if trained is None:
        return
    data_dir, training = trained
    run.results["training"] = {**generation, **training}
    load = run.phase("decode + normalize", lambda: workload.normalize_stream(lines))
    if load is None:
        return
    run.results["workload"] = load.describe()
    per_message = _events_per_message(load)
    run.results["limits"]["orjson"] = {
        "messages_per_s": load.messages / load.timings["parse_s"],
        "events_per_s": load.messages / load.timings["parse_s"] * per_message,
    }
    if not args.skip_e2e:
        run_e2e(run, load, data_dir, work)

    from models import registry

    config = registry.RegistryConfig(
        tracking_uri=f"sqlite:///{(data_dir / 'mlflow.db').resolve()}",
        artifact_root=(data_dir / "mlflow-artifacts").resolve(),
    )
    model = run.phase("load model", lambda: registry.load(config))
    if model is None:
        return
    staged = run.phase(
        "stages", lambda: stages.run(model, load, args.partitions, args.batch_rows, work)
    )
    if staged is None:
        return
    run.results["stages"], features = staged
    X = model.model.matrix(features)
    del features
    run.results["peers"] = [
        p
        for p in (
            run.phase("peer: naive", lambda: peers.naive(load, X, args.peer_sample)),
            run.phase("peer: river", lambda: peers.river_hst(X, args.peer_sample)),
        )
        if p is not None
    ]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--events", type=int, default=None, help="stream messages (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--skip-e2e", action="store_true", help="no broker: stages and peers")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--checkpoint-interval", type=float, default=1.0)
    parser.add_argument("--latency-seconds", type=float, default=None)
    parser.add_argument("--entities", type=int, default=None, help="actors of the memory run")
    parser.add_argument("--peer-sample", type=int, default=None)
    parser.add_argument("--profile-seconds", type=float, default=None)
    parser.add_argument(
        "--batch-rows", type=int, default=None, help="stage batches (the scorer's batch size)"
    )
    parser.add_argument("--phase-timeout", type=float, default=None, help="seconds per phase")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        help="an earlier run's JSON: each stage's rate then is shown beside today's",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    defaults = {
        "events": 50_000 if quick else 1_000_000,
        "latency_seconds": 8.0 if quick else 30.0,
        "entities": 10_000 if quick else 100_000,
        "peer_sample": 2_000 if quick else 20_000,
        "profile_seconds": 10.0 if quick else 30.0,
        "phase_timeout": 300.0 if quick else 1200.0,
        "batch_rows": Settings().batch_max_events,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


if __name__ == "__main__":
    sys.exit(main())
