"""Feature pipeline throughput (batch and stream) and memory per active entity.

    .venv/bin/python -m benchmarks.features [--days 14] [--events-per-day 20000]

Generates a synthetic environment, normalizes it once, then measures:

* batch mode: one ``compute_features`` call over all events (as training does);
* stream mode: the same events in micro-batches of ``--batch`` rows with a carried
  :class:`~features.state.EntityState` (as the scorer does);
* memory per entity: the state's estimated size divided by the actors it holds,
  after the stream run (and the state's row count).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import polars as pl

from features.files import read_events
from features.pipeline import compute_features
from features.schema import to_frame
from features.state import EntityState
from training.synthetic import generate


def measure(events: pl.DataFrame, batch_rows: int) -> dict[str, float]:
    started = time.perf_counter()
    compute_features(events, EntityState())
    batch_seconds = time.perf_counter() - started

    state = EntityState()
    started = time.perf_counter()
    for offset in range(0, events.height, batch_rows):
        compute_features(events.slice(offset, batch_rows), state)
    stream_seconds = time.perf_counter() - started
    return {
        "events": events.height,
        "batch_events_per_s": events.height / batch_seconds,
        "stream_events_per_s": events.height / stream_seconds,
        "stream_batch_rows": batch_rows,
        "entities": state.entity_count,
        "state_rows": state.size_rows(),
        "state_bytes": state.size_bytes(),
        "bytes_per_entity": state.size_bytes() / max(state.entity_count, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--events-per-day", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate(out, seed=args.seed, days=args.days, events_per_day=args.events_per_day)
        read = read_events([out / "train.jsonl", out / "test.jsonl"])
    events, _ = to_frame(read.events)
    events = events.sort("event_time", "event_id")
    print(json.dumps(measure(events, args.batch), indent=2))


if __name__ == "__main__":
    main()
