"""Detection quality: the ensemble, each detector alone, and peers, on the same events.

    .venv/bin/python -m benchmarks.quality [--seeds 7 8 9] [--stratus DIR] [--out FILE]

For each generated environment (one per seed, plus one with the real Stratus Red
Team CloudTrail detonations spliced into the test period when ``--stratus`` is
given), features are computed once with the shared pipeline (training events,
then test events continuing the same entity history), and every method scores
the same test events:

* ``ensemble`` — the production model (isolation forest + autoencoder, calibrated);
* ``iforest``, ``autoencoder`` — each detector of the ensemble alone;
* ``ecod`` — PyOD's ECOD, a parameter-free peer;
* ``hst`` — River's HalfSpaceTrees, a streaming peer that learns and scores one
  event at a time (min-max scaled features; it keeps learning on the test period).

Reported per method: ROC-AUC, PR-AUC, event recall at alert budgets of 0.1 %,
0.5 % and 1 %, and how many scenarios have at least one event in the 0.5 % budget.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from features.files import read_events
from features.pipeline import FEATURE_NAMES, FEATURE_SET_VERSION, compute_features
from features.schema import to_frame
from features.state import EntityState
from models.bundle import ScoringModel
from models.detectors import make_detector
from training.evaluate import evaluate, read_labels
from training.synthetic import generate

WARMUP = 0.3
RESULTS = Path(__file__).parent / "results"


def prepare(out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Training features (after warm-up) and test features, one history throughout."""
    state = EntityState()
    train, _ = to_frame(read_events([out / "train.jsonl"], reports=state.reports).events)
    train_features = compute_features(train.sort("event_time", "event_id"), state)
    test, _ = to_frame(read_events([out / "test.jsonl"], reports=state.reports).events)
    test_features = compute_features(test.sort("event_time", "event_id"), state)
    return train_features.slice(int(train_features.height * WARMUP)), test_features


def river_hst(
    train: npt.NDArray[np.float64], test: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """HalfSpaceTrees learning on the training events, then scoring-and-learning the test."""
    from river import anomaly, compose, preprocessing

    model = compose.Pipeline(preprocessing.MinMaxScaler(), anomaly.HalfSpaceTrees(seed=7))
    names = [f"f{i}" for i in range(train.shape[1])]
    for row in train:
        model.learn_one(dict(zip(names, row, strict=True)))
    scores = np.empty(test.shape[0])
    for i, row in enumerate(test):
        event = dict(zip(names, row, strict=True))
        scores[i] = model.score_one(event)
        model.learn_one(event)
    return scores


def run_dataset(out: Path, labels: pl.DataFrame, seed: int) -> dict[str, dict[str, float]]:
    train_features, test_features = prepare(out)
    X_train = train_features.select(FEATURE_NAMES).to_numpy().astype(np.float64)
    X_test = test_features.select(FEATURE_NAMES).to_numpy().astype(np.float64)
    ids = test_features["event_id"].to_list()
    results: dict[str, dict[str, float]] = {}

    started = time.perf_counter()
    model = ScoringModel.train(train_features, FEATURE_NAMES, FEATURE_SET_VERSION, seed=seed)
    fit_seconds = time.perf_counter() - started
    results["ensemble"] = evaluate(ids, model.scores(X_test), labels)
    results["ensemble"]["fit_seconds"] = fit_seconds
    for name, scores in model.detector_scores(X_test).items():
        results[name] = evaluate(ids, scores, labels)

    started = time.perf_counter()
    ecod = make_detector("ecod").fit(X_train)
    results["ecod"] = evaluate(ids, ecod.decision_function(X_test), labels)
    results["ecod"]["fit_seconds"] = time.perf_counter() - started
    try:
        started = time.perf_counter()
        results["hst"] = evaluate(ids, river_hst(X_train, X_test), labels)
        results["hst"]["fit_seconds"] = time.perf_counter() - started
    except ImportError:
        print("river is not installed (make bench installs it); HalfSpaceTrees skipped")
    return results


def markdown(all_results: dict[str, dict[str, dict[str, float]]]) -> str:
    lines = [
        "| data | method | ROC-AUC | PR-AUC | recall@0.1% | recall@0.5% | recall@1% "
        "| scenarios caught @0.5% |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dataset, methods in all_results.items():
        for method, m in methods.items():
            lines.append(
                f"| {dataset} | {method} | {m.get('roc_auc', float('nan')):.4f} "
                f"| {m.get('pr_auc', float('nan')):.4f} | {m.get('recall_0.1pct', 0):.3f} "
                f"| {m.get('recall_0.5pct', 0):.3f} | {m.get('recall_1pct', 0):.3f} "
                f"| {m.get('scenarios_caught_0.5pct', 0):.0f}/{m.get('scenarios_total', 0):.0f} |"
            )
    return "\n".join(lines)


def missed(all_results: dict[str, dict[str, dict[str, float]]]) -> dict[str, list[str]]:
    """Per dataset, the scenarios the ensemble does not catch at the 0.5 % budget."""
    gaps: dict[str, list[str]] = {}
    for dataset, methods in all_results.items():
        prefix = "recall_0.5pct."
        gaps[dataset] = sorted(
            k[len(prefix) :]
            for k, v in methods["ensemble"].items()
            if k.startswith(prefix) and v == 0
        )
    return gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--events-per-day", type=int, default=4000)
    parser.add_argument("--stratus", type=Path, help="folder of Stratus Red Team detonation logs")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    datasets: list[tuple[str, int, Path | None]] = [(f"seed {s}", s, None) for s in args.seeds]
    if args.stratus:
        datasets.append((f"seed {args.seeds[0]} + Stratus", args.seeds[0], args.stratus))
    all_results: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, seed, stratus in datasets:
            out = Path(tmp) / name.replace(" ", "_").replace("+", "")
            generate(
                out, seed=seed, days=args.days, events_per_day=args.events_per_day, stratus=stratus
            )
            labels = read_labels(str(out / "labels.csv"))
            all_results[name] = run_dataset(out, labels, seed)
            print(f"{name}: done")
    table = markdown(all_results)
    print(table)
    print("ensemble misses at 0.5%:", json.dumps(missed(all_results)))
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "settings": vars(args) | {"stratus": str(args.stratus or "")},
        "results": all_results,
        "missed_at_0.5pct": missed(all_results),
        "table": table,
    }
    target = args.out or RESULTS / f"quality-{datetime.now(UTC):%Y-%m-%d}-{platform.node()}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
