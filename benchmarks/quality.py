"""Detection quality: every method on the same events, on the generator and off it.

    .venv/bin/python -m benchmarks.quality [--seeds 7 8 9] [--stratus DIR] [--shift] [--out FILE]

A model tuned to one synthetic organisation looks better on it than anywhere
else, so the benchmark reports two families of data sets:

* **own generator** — one ``default``-profile environment per seed, plus one with
  the real Stratus Red Team CloudTrail detonations spliced into the test period
  (``--stratus``);
* **shifted** (``--shift``) — the generator's other profiles (other organisation
  sizes, identity and session naming, working hours, tool mixes and cadence; see
  :mod:`training.synthetic.profile`), with seeds never used while developing, each
  with the real public records of ``tests/fixtures`` spliced in as the attacks
  (the Stratus detonations and the OTRF stolen-EC2-role S3 exfiltration), and a
  *small account*: the small-startup profile at a volume that leaves fewer than a
  thousand training events. The drop from own to shifted is reported per method.

Features are computed once per data set with the shared pipeline (training events,
then test events continuing the same history), and every method scores the same
test events:

* ``ensemble`` — the production model (isolation forest + autoencoder, calibrated,
  combined by the default rule, ``bounded``), and ``ensemble-<rule>`` — the same
  detectors combined by the other rules of :func:`models.bundle.combine` (the mean
  evidence, the maximum, the harmonic mean of the tail probabilities);
* ``iforest``, ``autoencoder`` — each detector of the ensemble alone;
* ``ecod`` — PyOD's ECOD, a parameter-free peer;
* ``hst`` — River's HalfSpaceTrees, a streaming peer that learns and scores one
  event at a time (only when River is installed: ``make bench`` adds it).

Reported per method: ROC-AUC, PR-AUC, precision of the top 100, recall at alert
budgets of 0.5 % and 1 %, ties among the top 1 %, events flagged by the model's own
alert threshold, scenarios caught at 0.5 %, and per scenario its ROC-AUC (its
events against every normal event).
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
import polars as pl

from features.files import read_events
from features.pipeline import FEATURE_NAMES, FEATURE_SET_VERSION, compute_features
from features.schema import to_frame
from features.state import EntityState
from models.bundle import COMBINATION_RULES, DEFAULT_COMBINATION, ScoringModel
from models.detectors import make_detector
from training.evaluate import evaluate, read_labels
from training.synthetic import PROFILES, generate

WARMUP = 0.3
RESULTS = Path(__file__).parent / "results"
FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"
SHIFT_SEEDS = {"small-startup": 101, "enterprise": 102, "follow-the-sun": 103}
OTRF_FILE = "cloudtrail-otrf-s3-exfil/ec2_proxy_s3_exfiltration_2020-09-14011940.json"
OTRF_ACCOUNT = "123456789123"
OTRF_LABEL = "otrf:ec2_proxy_s3_exfiltration"


@dataclass(frozen=True)
class DataSet:
    name: str
    family: str  # "own" or "shifted"
    seed: int
    profile: str = "default"
    days: int = 14
    events_per_day: int = 4000
    stratus: Path | None = None
    otrf: bool = False


def prepare(out: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Training features (after warm-up) and test features, one history throughout."""
    state = EntityState()
    train, _ = to_frame(read_events([out / "train.jsonl"], reports=state.reports).events)
    train_features = compute_features(train.sort("event_time", "event_id"), state)
    test, _ = to_frame(read_events([out / "test.jsonl"], reports=state.reports).events)
    test_features = compute_features(test.sort("event_time", "event_id"), state)
    return train_features.slice(int(train_features.height * WARMUP)), test_features


def splice_otrf(out: Path, fixture: Path) -> int:
    """Add the OTRF stolen-role S3 exfiltration to the test period, labelled.

    Only the stolen EC2 role's calls are the attack (the console user in the same
    capture is someone else's normal work and stays out). The records keep their
    internal timing, move to the second day of the test period at 02:00 UTC, and
    their account becomes the environment's own (its most common account), so
    the account alone does not give them away.
    """
    test_lines = (out / "test.jsonl").read_bytes().splitlines()
    accounts: Counter[str] = Counter()
    first_time: datetime | None = None
    for line in test_lines[:20000]:
        doc = orjson.loads(line)
        if "recipientAccountId" in doc:
            accounts[doc["recipientAccountId"]] += 1
        stamp = doc.get("eventTime") or doc.get("requestReceivedTimestamp")
        if first_time is None and isinstance(stamp, str):
            first_time = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if first_time is None or not accounts:
        return 0
    account = accounts.most_common(1)[0][0]
    records = [orjson.loads(line) for line in fixture.read_bytes().splitlines() if line.strip()]
    stolen = [r for r in records if r.get("userIdentity", {}).get("type") == "AssumedRole"]
    times = [datetime.fromisoformat(r["@timestamp"].replace("Z", "+00:00")) for r in stolen]
    landing = (first_time + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
    lines, labels = [], []
    for record, when in zip(stolen, times, strict=True):
        moved = landing + (when - min(times))
        text = orjson.dumps(record).decode().replace(OTRF_ACCOUNT, account)
        doc = orjson.loads(text)
        doc["eventTime"] = moved.strftime("%Y-%m-%dT%H:%M:%SZ")
        doc["@timestamp"] = doc["eventTime"]
        lines.append(orjson.dumps(doc))
        labels.append(f"{doc['eventID']},{OTRF_LABEL}")
    with (out / "test.jsonl").open("ab") as f:
        f.write(b"\n".join(lines) + b"\n")
    with (out / "labels.csv").open("a") as f:
        f.write("\n".join(labels) + "\n")
    return len(lines)


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


def _ensemble_name(rule: str) -> str:
    return "ensemble" if rule == DEFAULT_COMBINATION else f"ensemble-{rule}"


def run_dataset(out: Path, labels: pl.DataFrame, seed: int) -> dict[str, dict[str, float]]:
    train_features, test_features = prepare(out)
    X_train = train_features.select(FEATURE_NAMES).to_numpy().astype(np.float64)
    X_test = test_features.select(FEATURE_NAMES).to_numpy().astype(np.float64)
    ids = test_features["event_id"].to_list()
    results: dict[str, dict[str, float]] = {}
    for rule in COMBINATION_RULES:
        started = time.perf_counter()
        model = ScoringModel.train(
            train_features, FEATURE_NAMES, FEATURE_SET_VERSION, seed=seed, combination=rule
        )
        fit_seconds = time.perf_counter() - started
        scores = model.score_matrix(X_test)
        name = _ensemble_name(rule)
        results[name] = evaluate(ids, scores.score, labels)
        results[name] |= {
            "fit_seconds": fit_seconds,
            "training_events": float(train_features.height),
            "flagged": float(scores.is_anomaly.sum()),
            "max_score": float(scores.score.max()),
        }
        if rule == DEFAULT_COMBINATION:
            for detector, detector_scores in model.detector_scores(X_test).items():
                results[detector] = evaluate(ids, detector_scores, labels)
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
        "| data | method | ROC-AUC | PR-AUC | P@100 | recall@0.5% | recall@1% "
        "| ties in top 1% | flagged | scenarios caught @0.5% |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for dataset, methods in all_results.items():
        for method, m in methods.items():
            flagged = f"{m['flagged']:.0f}" if "flagged" in m else "-"
            lines.append(
                f"| {dataset} | {method} | {m.get('roc_auc', float('nan')):.4f} "
                f"| {m.get('pr_auc', float('nan')):.4f} | {m.get('precision_top100', 0):.2f} "
                f"| {m.get('recall_0.5pct', 0):.3f} | {m.get('recall_1pct', 0):.3f} "
                f"| {m.get('ties_top1pct', 0):.0f} | {flagged} "
                f"| {m.get('scenarios_caught_0.5pct', 0):.0f}/{m.get('scenarios_total', 0):.0f} |"
            )
    return "\n".join(lines)


def scenario_markdown(all_results: dict[str, dict[str, dict[str, float]]]) -> str:
    """Per data set and scenario, its ROC-AUC for every method (Stratus techniques pooled)."""
    methods = sorted({m for methods in all_results.values() for m in methods}, key=_method_order)
    lines = [
        "| data | scenario | " + " | ".join(methods) + " |",
        "| --- | --- | " + " | ".join("---:" for _ in methods) + " |",
    ]
    for dataset, results in all_results.items():
        scenarios = sorted(
            k.removeprefix("roc_auc.")
            for k in results["ensemble"]
            if k.startswith("roc_auc.") and not k.startswith("roc_auc.stratus")
        )
        for scenario in scenarios:
            cells = [f"{results[m].get(f'roc_auc.{scenario}', float('nan')):.3f}" for m in methods]
            lines.append(f"| {dataset} | {scenario} | " + " | ".join(cells) + " |")
        stratus = [k for k in results["ensemble"] if k.startswith("roc_auc.stratus")]
        if stratus:
            cells = [
                f"{np.mean([results[m].get(k, np.nan) for k in stratus]):.3f}" for m in methods
            ]
            lines.append(
                f"| {dataset} | Stratus, mean of {len(stratus)} techniques | "
                + " | ".join(cells)
                + " |"
            )
    return "\n".join(lines)


def _method_order(method: str) -> tuple[int, str]:
    order = ["ensemble", "ensemble-mean", "ensemble-max", "ensemble-hmp", "ensemble-bounded"]
    order += ["iforest", "autoencoder", "ecod", "hst"]
    return (order.index(method) if method in order else len(order), method)


def shift_summary(
    all_results: dict[str, dict[str, dict[str, float]]], families: dict[str, str]
) -> str:
    """Mean ROC-AUC, PR-AUC and P@100 per method on own vs shifted data, and the drop."""
    methods = sorted({m for methods in all_results.values() for m in methods}, key=_method_order)
    lines = [
        "| method | ROC-AUC own | ROC-AUC shifted | drop | PR-AUC own | PR-AUC shifted "
        "| P@100 own | P@100 shifted |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]

    def mean(method: str, family: str, metric: str) -> float:
        values = [
            r[method][metric]
            for d, r in all_results.items()
            if families[d] == family and method in r and metric in r[method]
        ]
        return float(np.mean(values)) if values else float("nan")

    for method in methods:
        own, shifted = mean(method, "own", "roc_auc"), mean(method, "shifted", "roc_auc")
        lines.append(
            f"| {method} | {own:.4f} | {shifted:.4f} | {own - shifted:+.4f} "
            f"| {mean(method, 'own', 'pr_auc'):.4f} | {mean(method, 'shifted', 'pr_auc'):.4f} "
            f"| {mean(method, 'own', 'precision_top100'):.2f} "
            f"| {mean(method, 'shifted', 'precision_top100'):.2f} |"
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


def datasets(args: argparse.Namespace) -> list[DataSet]:
    chosen = [DataSet(f"seed {s}", "own", s) for s in args.seeds]
    if args.stratus:
        chosen.append(
            DataSet(f"seed {args.seeds[0]} + Stratus", "own", args.seeds[0], stratus=args.stratus)
        )
    if args.shift:
        stratus = FIXTURES / "cloudtrail-stratus-detonations"
        for profile, seed in SHIFT_SEEDS.items():
            chosen.append(
                DataSet(
                    f"{profile} + real attacks",
                    "shifted",
                    seed,
                    profile,
                    stratus=stratus,
                    otrf=True,
                )
            )
        chosen.append(
            DataSet(
                "small account (small-startup, 7 d x 40/d) + real attacks",
                "shifted",
                104,
                "small-startup",
                days=7,
                events_per_day=40,
                stratus=stratus,
                otrf=True,
            )
        )
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    parser.add_argument("--stratus", type=Path, help="folder of Stratus Red Team detonation logs")
    parser.add_argument("--shift", action="store_true", help="also the shifted profiles")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    unknown = set(SHIFT_SEEDS) - set(PROFILES)
    if unknown:
        parser.error(f"profiles {sorted(unknown)} are not generator profiles")
    all_results: dict[str, dict[str, dict[str, float]]] = {}
    families: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for data in datasets(args):
            out = Path(tmp) / data.name.replace(" ", "_").replace("+", "").replace("/", "")
            generate(
                out,
                seed=data.seed,
                days=data.days,
                events_per_day=data.events_per_day,
                stratus=data.stratus,
                profile=data.profile,
            )
            if data.otrf:
                splice_otrf(out, FIXTURES / OTRF_FILE)
            labels = read_labels(str(out / "labels.csv"))
            all_results[data.name] = run_dataset(out, labels, data.seed)
            families[data.name] = data.family
            print(f"{data.name}: done", flush=True)
    table = markdown(all_results)
    scenarios = scenario_markdown(all_results)
    summary = shift_summary(all_results, families) if args.shift else ""
    print(table, scenarios, summary, sep="\n\n")
    print("ensemble misses at 0.5%:", json.dumps(missed(all_results)))
    report: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "settings": vars(args) | {"stratus": str(args.stratus or "")},
        "families": families,
        "results": all_results,
        "missed_at_0.5pct": missed(all_results),
        "table": table,
        "scenario_table": scenarios,
        "shift_summary": summary,
    }
    target = args.out or RESULTS / f"quality-{datetime.now(UTC):%Y-%m-%d}-{platform.node()}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
