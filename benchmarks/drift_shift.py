"""Drift per feature on a steady day and on a shifted one: what the retrain trigger reads.

Trains on the default organisation, then measures each feature's PSI against the
training reference on (1) one normal day of the same organisation's test period and
(2) one normal day of the same organisation grown by two teams with new kubectl
clients (the profile the optimizer's end-to-end test streams). Injected attacks are
left out of both: the question is whether the reference tells a steady environment
from a changed one, not whether attacks move it.

    .venv/bin/python -m benchmarks.drift_shift [--out DIR] [--days 8] [--events-per-day 2000]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from features.event_features import CALENDAR_FEATURES
from features.files import read_events
from features.pipeline import compute_features
from features.schema import to_frame
from models.drift import drift_report, tail_counts
from models.registry import RegistryConfig, load
from training.synthetic import generate
from training.synthetic.grown import GROWN


def normal_day(path: Path, day: int, events: pl.DataFrame) -> pl.DataFrame:
    labelled = pl.read_csv(path.parent / "labels.csv")["event_id"].implode()
    start = events["event_time"].min()
    return events.filter(
        ((pl.col("event_time") - start).dt.total_days() == day)
        & ~pl.col("event_id").is_in(labelled)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--events-per-day", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    root = args.out or Path(tempfile.mkdtemp(prefix="drift-shift-"))
    generate(root / "default", args.seed, args.days, args.events_per_day)
    generate(root / "grown", args.seed, args.days, args.events_per_day, profile=GROWN)
    data = root / "data"
    shutil.rmtree(data, ignore_errors=True)  # a fresh registry: version 1 is this run's
    subprocess.run(
        [
            sys.executable,
            "-m",
            "service.cli",
            "train",
            "--data",
            str(root / "default/train.jsonl"),
            "--promote",
        ],
        env={"AUDITLENS_DATA_DIR": str(data), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
    )
    model = load(RegistryConfig(f"sqlite:///{data / 'mlflow.db'}", data / "mlflow-artifacts"))
    assert model is not None
    assert model.model.reference is not None
    reference = model.model.reference
    state = model.model.baseline_state.copy()
    psi: dict[str, dict[str, float]] = {}
    for name, path, day in (
        ("steady", root / "default/test.jsonl", 0),
        ("grown", root / "grown/test.jsonl", 1),
    ):
        events = to_frame(read_events([path], reports=state.reports).events)[0]
        events = normal_day(path, day, events)
        X = model.model.matrix(compute_features(events, state))
        scored = model.model.score_matrix(X)
        report = drift_report(
            reference,
            X.shape[0],
            int(scored.is_anomaly.sum()),
            reference.feature_counts(X),
            tail_counts(scored.score),
        )
        psi[name] = {f.feature: f.psi for f in report.features}
        print(
            f"{name}: {X.shape[0]} events, alert rate {report.alert_rate:.2%}, "
            f"score PSI {report.score_psi:.3f}"
        )
    print(f"\n{'feature':34s} {'steady':>7s} {'grown':>7s}")
    for feature in sorted(psi["steady"], key=lambda f: -psi["grown"][f]):
        calendar = "  (calendar: left out under a week)" if feature in CALENDAR_FEATURES else ""
        print(f"{feature:34s} {psi['steady'][feature]:7.3f} {psi['grown'][feature]:7.3f}{calendar}")


if __name__ == "__main__":
    main()
