"""Speed of ``auditlens generate``: lines written per second for about a million events.

Runs the generator once into a temporary folder (14 days, the daily volume that
makes about a million lines by default) and prints the wall time, the lines
per second, the file sizes and where the time went (``--profile``).

    .venv/bin/python -m benchmarks.generate [--days 14] [--events-per-day 70000] [--seed 7]
        [--stratus DIR] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from training.synthetic import generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--events-per-day", type=int, default=70_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stratus", type=Path)
    parser.add_argument("--profile", action="store_true", help="print the top functions by time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="auditlens-generate-") as tmp:
        out = Path(tmp)
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        counts = generate(
            out,
            seed=args.seed,
            days=args.days,
            events_per_day=args.events_per_day,
            stratus=args.stratus,
        )
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - started
        lines = counts["train"] + counts["test"]
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    print(f"days={args.days} events_per_day={args.events_per_day} seed={args.seed}")
    print(
        f"lines written: {lines:,} (train {counts['train']:,}, test {counts['test']:,}), "
        f"{size:,.0f} MiB"
    )
    print(f"labelled: {counts['attacks']:,} attack events, {counts['benign']:,} benign rare events")
    print(f"wall time: {wall:.1f} s   throughput: {lines / wall:,.0f} lines/s")
    if profiler is not None:
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(30)
        print(stream.getvalue())


if __name__ == "__main__":
    main()
