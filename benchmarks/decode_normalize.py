"""Throughput of the per-message path: bytes → JSON → source adapter → batch frame.

Generates a mixed stream of raw messages (Kubernetes audit, CloudTrail records
taken from the real fixtures, OPA decisions, Falco alerts and Kyverno policy
reports), then times :func:`features.decode.normalize_message` over all of them
and :func:`features.schema.to_frame` over the rows, and prints events per second.

    .venv/bin/python -m benchmarks.decode_normalize [--messages 200000] [--seed 7]
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import io
import pstats
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from features.decode import decode, normalize_message
from features.schema import NormalizedEvent, to_frame

FIXTURES = Path(__file__).parents[1] / "tests" / "fixtures"
START = datetime(2026, 3, 2, tzinfo=UTC)
USERS = ["alice", "bob", "system:serviceaccount:ci:deployer", "system:node:worker-1"]
VERBS = ["get", "list", "watch", "create", "patch", "delete"]
RESOURCES = ["pods", "secrets", "deployments", "configmaps", "rolebindings"]
MIX = {"k8s_audit": 0.45, "cloudtrail": 0.25, "opa": 0.15, "falco": 0.13, "kyverno": 0.02}
REPORT_RESULTS = 5


def _time(rng: random.Random) -> str:
    moment = START + timedelta(seconds=rng.uniform(0, 7 * 86400))
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _id(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def k8s_audit(rng: random.Random) -> dict[str, Any]:
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": _id(rng),
        "stage": "ResponseComplete",
        "requestURI": "/api/v1/namespaces/prod/pods",
        "verb": rng.choice(VERBS),
        "user": {"username": rng.choice(USERS), "groups": ["system:authenticated"]},
        "sourceIPs": [f"10.0.{rng.randrange(256)}.{rng.randrange(256)}"],
        "userAgent": "kubectl/v1.31.0 (linux/amd64) kubernetes/abc",
        "objectRef": {
            "resource": rng.choice(RESOURCES),
            "namespace": "prod",
            "name": f"obj-{rng.randrange(500)}",
            "apiVersion": "v1",
        },
        "responseStatus": {"metadata": {}, "code": rng.choice([200, 200, 201, 403, 404])},
        "requestReceivedTimestamp": _time(rng),
        "stageTimestamp": _time(rng),
        "annotations": {"authorization.k8s.io/decision": "allow"},
    }


def cloudtrail_factory() -> Callable[[random.Random], dict[str, Any]]:
    records = [
        record
        for path in sorted((FIXTURES / "cloudtrail-stratus-detonations").glob("*.json"))
        for record in orjson.loads(path.read_bytes())
    ]

    def build(rng: random.Random) -> dict[str, Any]:
        record: dict[str, Any] = copy.deepcopy(rng.choice(records))
        record["eventID"] = _id(rng)
        record["eventTime"] = _time(rng)[:19] + "Z"
        return record

    return build


def opa(rng: random.Random) -> dict[str, Any]:
    return {
        "decision_id": _id(rng),
        "path": "kubernetes/admission/deny",
        "labels": {"id": "opa-1", "version": "0.68.0"},
        "input": {
            "request": {
                "kind": {"kind": "Pod"},
                "name": f"pod-{rng.randrange(500)}",
                "namespace": "prod",
                "operation": rng.choice(["CREATE", "UPDATE"]),
                "userInfo": {"username": rng.choice(USERS)},
            }
        },
        "result": rng.choice([[], ["untrusted registry"]]),
        "timestamp": _time(rng),
    }


def falco(rng: random.Random) -> dict[str, Any]:
    return {
        "hostname": f"worker-{rng.randrange(20)}",
        "output": "Notice A shell was spawned in a container with an attached terminal",
        "priority": rng.choice(["Notice", "Warning", "Critical"]),
        "rule": "Terminal shell in container",
        "source": "syscall",
        "time": _time(rng),
        "output_fields": {
            "container.id": f"{rng.getrandbits(48):012x}",
            "evt.type": "execve",
            "k8s.ns.name": "prod",
            "k8s.pod.name": f"api-{rng.randrange(100)}",
            "proc.cmdline": "bash",
            "user.name": "root",
        },
    }


def kyverno(rng: random.Random) -> dict[str, Any]:
    name = f"pods-{rng.randrange(10_000)}"
    return {
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": "PolicyReport",
        "metadata": {"name": name, "namespace": "prod", "uid": _id(rng)},
        "results": [
            {
                "policy": "require-labels",
                "rule": f"check-{i}",
                "result": rng.choice(["pass", "fail"]),
                "severity": "medium",
                "message": "validation rule passed.",
                "timestamp": {"seconds": 1_772_400_000 + rng.randrange(86400), "nanos": 0},
                "resources": [{"kind": "Pod", "name": f"{name}-{i}", "namespace": "prod"}],
            }
            for i in range(REPORT_RESULTS)
        ],
    }


def generate(count: int, seed: int) -> list[bytes]:
    """``count`` raw messages in the proportions of :data:`MIX`."""
    rng = random.Random(seed)
    builders = {
        "k8s_audit": k8s_audit,
        "cloudtrail": cloudtrail_factory(),
        "opa": opa,
        "falco": falco,
        "kyverno": kyverno,
    }
    sources = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
    return [orjson.dumps(builders[source](rng)) for source in sources]


def run(messages: list[bytes]) -> tuple[list[NormalizedEvent], float, float]:
    started = time.perf_counter()
    events: list[NormalizedEvent] = []
    for message in messages:
        events.extend(normalize_message(message))
    normalized = time.perf_counter()
    frame, rejected = to_frame(events)
    framed = time.perf_counter()
    assert not rejected, f"{len(rejected)} rows with an unparsable time"
    assert frame.height == len(events)
    return events, normalized - started, framed - normalized


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="print the top functions")
    args = parser.parse_args()

    messages = generate(args.messages, args.seed)
    size = sum(map(len, messages))
    started = time.perf_counter()
    for message in messages:
        decode(message)
    parse_only = time.perf_counter() - started

    events, normalize_s, frame_s = run(messages)
    total = normalize_s + frame_s
    by_source = Counter(event["source"] for event in events)
    print(f"messages        {len(messages):>10,}  ({size / 1e6:.1f} MB)")
    print(f"events          {len(events):>10,}  {dict(sorted(by_source.items()))}")
    print(f"JSON parse only {parse_only:>10.2f} s  ({len(messages) / parse_only:,.0f} msg/s)")
    print(f"normalize       {normalize_s:>10.2f} s  ({len(events) / normalize_s:,.0f} events/s)")
    print(f"to_frame        {frame_s:>10.2f} s  ({len(events) / frame_s:,.0f} events/s)")
    print(f"total           {total:>10.2f} s  ({len(events) / total:,.0f} events/s)")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(messages[: max(1, len(messages) // 4)])
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print(out.getvalue())


if __name__ == "__main__":
    main()
