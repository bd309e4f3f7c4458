"""Wait for the streamed test period to be scored, then print what an analyst would see."""

from __future__ import annotations

import argparse
import csv
import os
import time
from collections import Counter
from pathlib import Path

import httpx2 as httpx


def fetch_all(base: str, key: str) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        body = httpx.get(
            f"{base}/v1/anomalies", params=params, headers={"Authorization": f"Bearer {key}"}
        ).json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if not body["items"]:
            return items


def consumed(base: str) -> float:
    """Messages the scorer has taken from Kafka, summed over topics."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in httpx.get(f"{base}/metrics").text.splitlines()
        if line.startswith("auditlens_messages_consumed_total{")
    )


def optimizer_last_tick(base: str) -> float:
    """When the optimizer last began a look at the models (0: it has not, or no answer)."""
    try:
        text = httpx.get(f"{base}/metrics").text
    except httpx.TransportError:
        return 0.0
    for line in text.splitlines():
        if line.startswith("auditlens_optimizer_last_tick_timestamp_seconds "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def await_optimizer(base: str, timeout_s: float) -> bool:
    """Wait until the optimizer has finished one look begun after the stream was scored.

    Ticks run one after another, so a tick that starts after that one means it ended,
    whatever it did (a retrain from the archive takes a minute or so).
    """
    started, first = time.time(), 0.0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        tick = optimizer_last_tick(base)
        if not first and tick > started:
            first = tick
        elif first and tick > first:
            return True
        time.sleep(1)
    return False


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--labels", type=Path)
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument(
        "--await-optimizer",
        type=float,
        default=0,
        metavar="SECONDS",
        help="then wait up to this long for the optimizer's look at the stream",
    )
    args = parser.parse_args()
    host = os.environ.get("AUDITLENS_API_HOST", "127.0.0.1")
    base = f"http://{host}:{os.environ['AUDITLENS_API_PORT']}"
    deadline = time.monotonic() + args.timeout
    last, stable = -1.0, 0
    while time.monotonic() < deadline and stable < 3:
        try:
            now = consumed(base)
        except httpx.TransportError:
            now = -1.0
        stable = stable + 1 if now == last and now > 0 else 0
        last = now
        time.sleep(1)
    anomalies = fetch_all(base, args.key)
    labels = {}
    if args.labels and args.labels.exists():
        with args.labels.open() as f:
            labels = {row["event_id"]: row["scenario"] for row in csv.DictReader(f)}
    print(f"\nevents processed: {int(last)}")
    by_severity = dict(Counter(a["severity"] for a in anomalies))
    print(f"anomalies: {len(anomalies)}  by severity: {by_severity}")
    if labels:
        caught = {labels[str(a["event_id"])] for a in anomalies if str(a["event_id"]) in labels}
        print(f"labelled attack scenarios caught: {len(caught)} of {len(set(labels.values()))}")
    print("top five:")
    for a in sorted(anomalies, key=lambda a: -float(a["score"]))[:5]:  # type: ignore[arg-type]
        print(f"  {a['score']:6.1f} {a['severity']:<8} {a['summary']}")
    tracking = Path(os.environ.get("AUDITLENS_DATA_DIR", ".auditlens")).resolve() / "mlflow.db"
    print(f"\nAPI:    {base}/v1/anomalies  (Authorization: Bearer {args.key})")
    print(f"docs:   {base}/docs")
    print(
        f"MLflow: sqlite:///{tracking}  (browse: .venv/bin/mlflow ui --backend-store-uri sqlite:///{tracking})"
    )
    if args.await_optimizer:
        print("\nthe optimizer takes a look at the stream (it retrains when drift says so) ...")
        if not await_optimizer(base, args.await_optimizer):
            print(f"  it has not finished within {args.await_optimizer:g} s; see the log")


if __name__ == "__main__":
    main()
