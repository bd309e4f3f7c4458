"""Kyverno ``PolicyReport`` objects (``wgpolicyk8s.io/v1alpha2``), one report per line.

Kyverno's background scan rewrites one report per namespace on every scan; each
line is such a snapshot, holding one result per (resource, policy rule). The
project's id of a result is ``<metadata.uid>/<policy>/<rule>/<kind>/<namespace>/<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from training.synthetic.batch import Batch, dumps
from training.synthetic.clock import US, rfc3339_seconds
from training.synthetic.randomness import IntArray

SOURCE = "kyverno"


@dataclass(frozen=True)
class Result:
    """One policy result about one resource; ``flagged`` results are returned as ids."""

    policy: str
    rule: str
    result: str  # pass | fail | warn
    severity: str
    category: str
    message: str
    kind: str
    name: str
    uid: str
    flagged: bool = False


@dataclass(frozen=True)
class Report:
    time: int  # µs
    namespace: str
    uid: str
    generation: int
    results: tuple[Result, ...]


def result_id(report_uid: str, namespace: str, result: Result) -> str:
    """The event id of one result.

    >>> result_id("u1", "shop", Result("p", "r", "fail", "high", "c", "m", "Pod", "web", "x"))
    'u1/p/r/Pod/shop/web'
    """
    return f"{report_uid}/{result.policy}/{result.rule}/{result.kind}/{namespace}/{result.name}"


def write(reports: list[Report], times: IntArray) -> Batch:
    """Serialise reports (``times`` are their scan times, µs) as JSON lines."""
    stamps = rfc3339_seconds(times)
    lines: list[bytes] = []
    ids: list[tuple[str, ...]] = []
    for report, stamp in zip(reports, stamps, strict=True):
        seconds = report.time // US
        summary = {"pass": 0, "fail": 0, "warn": 0, "error": 0, "skip": 0}
        results = []
        flagged = []
        for r in report.results:
            summary[r.result] += 1
            results.append(
                {
                    "category": r.category,
                    "message": r.message,
                    "policy": r.policy,
                    "resources": [
                        {
                            "apiVersion": "v1" if r.kind == "Pod" else "apps/v1",
                            "kind": r.kind,
                            "name": r.name,
                            "namespace": report.namespace,
                            "uid": r.uid,
                        }
                    ],
                    "result": r.result,
                    "rule": r.rule,
                    "scored": True,
                    "severity": r.severity,
                    "source": "kyverno",
                    "timestamp": {"nanos": 0, "seconds": seconds},
                }
            )
            if r.flagged:
                flagged.append(result_id(report.uid, report.namespace, r))
        doc = {
            "apiVersion": "wgpolicyk8s.io/v1alpha2",
            "kind": "PolicyReport",
            "metadata": {
                "creationTimestamp": stamp,
                "generation": report.generation,
                "labels": {"app.kubernetes.io/managed-by": "kyverno"},
                "name": f"polr-ns-{report.namespace}",
                "namespace": report.namespace,
                "resourceVersion": str(1000 + report.generation * 7),
                "uid": report.uid,
            },
            "results": results,
            "summary": summary,
        }
        lines.append(dumps(doc))
        ids.append(tuple(flagged))
    return Batch(SOURCE, times.copy(), lines, ids)
