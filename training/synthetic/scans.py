"""Background policy scans: Kyverno reports per namespace, Gatekeeper audit runs.

Both engines periodically re-evaluate what is running and report the same
standing verdicts again and again: most workloads pass, some in dev and
staging do not (no limits, mutable tags, images from an unapproved registry),
and the Falco daemon set is privileged by design. Verdicts belong to an
application, so a pod keeps its verdicts across restarts and both engines
agree. A :class:`Finding` injects a resource that exists for a while (an
attacker's pod) with its own verdicts; the lines that report it are returned
in a separate, labelled batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from training.synthetic.activity import periodic
from training.synthetic.batch import Batch
from training.synthetic.clock import DAY, US, Period
from training.synthetic.formats import gatekeeper, kyverno
from training.synthetic.inventory import Inventory
from training.synthetic.org import Org
from training.synthetic.randomness import uuid4_strings

# policy, rule, severity, category, failure message
POLICIES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "disallow-privileged-containers",
        "privileged-containers",
        "high",
        "Pod Security Standards (Baseline)",
        "validation error: Privileged mode is disallowed. The fields "
        "spec.containers[*].securityContext.privileged must be unset or set to `false`.",
    ),
    (
        "disallow-latest-tag",
        "validate-image-tag",
        "medium",
        "Best Practices",
        "validation error: Using a mutable image tag e.g. 'latest' is not allowed.",
    ),
    (
        "require-requests-limits",
        "validate-resources",
        "medium",
        "Best Practices",
        "validation error: CPU and memory resource requests and limits are required.",
    ),
    (
        "require-labels",
        "check-for-labels",
        "low",
        "Best Practices",
        "validation error: The label `app.kubernetes.io/name` is required.",
    ),
    (
        "restrict-image-registries",
        "validate-registries",
        "medium",
        "Best Practices",
        "validation error: Unknown image registry.",
    ),
)
PRIVILEGED, LATEST, LIMITS, LABELS, REGISTRIES = range(len(POLICIES))
FAIL_RATES = {  # per environment, per policy
    "prod": (0.0, 0.01, 0.03, 0.02, 0.0),
    "staging": (0.0, 0.08, 0.10, 0.05, 0.03),
    "dev": (0.0, 0.25, 0.30, 0.15, 0.06),
    "infra": (0.0, 0.0, 0.05, 0.05, 0.0),
}


@dataclass(frozen=True)
class Finding:
    """An extra pod present in scans during ``[start, end)``, failing the named policies."""

    namespace: str
    name: str
    uid: str
    start: int
    end: int
    label: str
    kyverno_fails: tuple[int, ...]  # indexes into POLICIES
    gatekeeper: tuple[tuple[str, str, str], ...]  # (constraint kind, name, message)


def verdicts(rng: np.random.Generator, org: Org, inventory: Inventory) -> npt.NDArray[np.bool_]:
    """Which (namespace, app, policy) fails: drawn once, stable over time."""
    rates = np.array([FAIL_RATES[ns.env] for ns in org.namespaces])
    fails = rng.random((len(org.namespaces), inventory.apps_max, len(POLICIES))) < rates[:, None, :]
    falco = org.namespace_index("falco")
    fails[falco, :, PRIVILEGED] = True
    return fails


def _labelled(normal: list[int], tagged: dict[str, list[int]], batch: Batch) -> list[Batch]:
    mask = np.zeros(len(batch), dtype=bool)
    mask[normal] = True
    out = [batch.select(mask)]
    for label, rows in sorted(tagged.items()):
        m = np.zeros(len(batch), dtype=bool)
        m[rows] = True
        out.append(batch.select(m).labelled(label))
    return out


def kyverno_reports(
    rng: np.random.Generator,
    org: Org,
    inventory: Inventory,
    fails: npt.NDArray[np.bool_],
    period: Period,
    lines_per_day: float,
    findings: Sequence[Finding] = (),
) -> list[Batch]:
    """Background-scan reports of every namespace, one line per namespace and scan."""
    n_ns = len(org.namespaces)
    scans_per_day = float(np.clip(lines_per_day / n_ns, 1.0, 4.0))
    every = np.full(n_ns, int(DAY / scans_per_day), dtype=np.int64)
    ns_of, times = periodic(rng, every, period.start, period.end, jitter=0.01, skip=0.0)
    order = np.argsort(times, kind="stable")
    ns_of, times = ns_of[order], times[order]
    report_uids = uuid4_strings(rng, n_ns)
    generation = np.zeros(n_ns, dtype=np.int64)
    reports: list[kyverno.Report] = []
    normal: list[int] = []
    tagged: dict[str, list[int]] = {}
    for row, (ns, t) in enumerate(zip(ns_of.tolist(), times.tolist(), strict=True)):
        namespace = org.namespaces[ns]
        day = int(inventory.day(np.array([t]))[0])
        results: list[kyverno.Result] = []
        for app in range(len(namespace.apps)):
            for replica in range(int(inventory.replicas[ns])):
                pod = str(inventory.pods[ns, app, day, replica])
                uid = inventory.pod_uid(ns, app, day, replica)
                results += _results(pod, uid, fails[ns, app], flagged=False)
        labels = set()
        for f in findings:
            if f.namespace == namespace.name and f.start <= t < f.end:
                failing = np.zeros(len(POLICIES), dtype=bool)
                failing[list(f.kyverno_fails)] = True
                results += _results(f.name, f.uid, failing, flagged=True)
                labels.add(f.label)
        generation[ns] += 1
        reports.append(
            kyverno.Report(t, namespace.name, report_uids[ns], int(generation[ns]), tuple(results))
        )
        if labels:
            tagged.setdefault(sorted(labels)[0], []).append(row)
        else:
            normal.append(row)
    batch = kyverno.write(reports, times)
    return _labelled(normal, tagged, batch)


def _results(
    pod: str, uid: str, failing: npt.NDArray[np.bool_], flagged: bool
) -> list[kyverno.Result]:
    out = []
    for p, (policy, rule, severity, category, message) in enumerate(POLICIES):
        fail = bool(failing[p])
        result = ("warn" if p == LABELS else "fail") if fail else "pass"
        text = (
            f"{message} rule {rule} failed at path /spec/containers/0/"
            if fail
            else f"validation rule '{rule}' passed."
        )
        out.append(
            kyverno.Result(
                policy, rule, result, severity, category, text, "Pod", pod, uid, flagged and fail
            )
        )
    return out


def gatekeeper_audits(
    rng: np.random.Generator,
    org: Org,
    inventory: Inventory,
    fails: npt.NDArray[np.bool_],
    period: Period,
    lines_per_day: float,
    findings: Sequence[Finding] = (),
) -> list[Batch]:
    """Audit runs reporting every standing violation (and any finding) each time."""
    unlabelled_ns = [
        i for i, ns in enumerate(org.namespaces) if ns.env == "dev" and rng.random() < 0.35
    ]
    dev = np.array([ns.env == "dev" for ns in org.namespaces])
    limits = np.argwhere(fails[:, :, LIMITS] & dev[:, None])
    registries = np.argwhere(fails[:, :, REGISTRIES])
    per_run = len(unlabelled_ns) + len(limits) + len(registries)
    runs_per_day = float(np.clip(lines_per_day / max(per_run, 1), 1.0, 144.0))
    every = int(DAY / runs_per_day)
    _, starts = periodic(
        rng, np.array([every], dtype=np.int64), period.start, period.end, jitter=0.002, skip=0.0
    )
    violations: list[gatekeeper.Violation] = []
    run_of: list[int] = []
    times: list[int] = []
    labels: list[str | None] = []
    for start in starts.tolist():
        day = int(inventory.day(np.array([start]))[0])
        found: list[tuple[gatekeeper.Violation, str | None]] = []
        for ns in unlabelled_ns:
            name = org.namespaces[ns].name
            found.append(
                (
                    gatekeeper.Violation(
                        "K8sRequiredLabels",
                        "ns-must-have-owner",
                        "Namespace",
                        "",
                        name,
                        'you must provide labels: {"owner"}',
                    ),
                    None,
                )
            )
        for ns, app in limits.tolist():
            namespace = org.namespaces[ns]
            if app >= len(namespace.apps):
                continue
            for replica in range(int(inventory.replicas[ns])):
                pod = str(inventory.pods[ns, app, day, replica])
                found.append(
                    (
                        gatekeeper.Violation(
                            "K8sContainerLimits",
                            "containers-must-have-limits",
                            "Pod",
                            namespace.name,
                            pod,
                            f"container <{namespace.apps[app]}> has no resource limits",
                        ),
                        None,
                    )
                )
        for ns, app in registries.tolist():
            namespace = org.namespaces[ns]
            if app >= len(namespace.apps):
                continue
            found.append(
                (
                    gatekeeper.Violation(
                        "K8sAllowedRepos",
                        "allowed-repos",
                        "Deployment",
                        namespace.name,
                        namespace.apps[app],
                        f"container <{namespace.apps[app]}> has an invalid image repo "
                        f"<docker.io/library/{namespace.apps[app]}:1.4>, allowed repos are "
                        '["registry.corp.example/"]',
                        "v1",
                        "apps",
                    ),
                    None,
                )
            )
        for f in findings:
            if f.start <= start < f.end:
                for kind, constraint, message in f.gatekeeper:
                    found.append(
                        (
                            gatekeeper.Violation(
                                kind, constraint, "Pod", f.namespace, f.name, message
                            ),
                            f.label,
                        )
                    )
        for position, (violation, label) in enumerate(found):
            violations.append(violation)
            run_of.append(start)
            times.append(start + 5 * US + position * 1_700)  # the audit writes as it goes
            labels.append(label)
    batch = gatekeeper.write(
        violations, np.array(times, dtype=np.int64), np.array(run_of, dtype=np.int64)
    )
    normal = [i for i, label in enumerate(labels) if label is None]
    tagged: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if label is not None:
            tagged.setdefault(label, []).append(i)
    return _labelled(normal, tagged, batch)
