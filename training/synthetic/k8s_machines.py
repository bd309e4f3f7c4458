"""Machines at the Kubernetes API: control plane, nodes, operators, applications, CI.

Each machine identity has a fixed set of periodic tasks (renew a lease, update
a status, relist pods, read a config map), each at a steady rate with a little
jitter, around the clock, from the same address with the same user agent.
The task table below is the whole behaviour; rates are scaled so the total
matches the requested volume. CI deployers act on deploy events instead
(:func:`deploy_calls`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.synthetic.activity import periodic
from training.synthetic.clock import DAY, HOUR, US, Period
from training.synthetic.formats.k8s import K8sCalls, allowed_by
from training.synthetic.inventory import Inventory
from training.synthetic.org import Org
from training.synthetic.randomness import IntArray

KS = "system:serviceaccount:kube-system:"


@dataclass(frozen=True)
class Task:
    """A periodic call. ``scope``: ``apps`` (all team namespaces), ``prod``, ``data-prod``,
    a namespace name, or ``""`` for cluster scope; ``names`` as in :meth:`Inventory.names`."""

    actor: str
    verb: str
    resource: str
    scope: str
    names: str
    weight: float
    daily_at_hour: float | None = None


def _reason(actor: str) -> str:
    """The RBAC reason recorded for a machine identity's calls.

    >>> _reason("system:serviceaccount:kube-system:job-controller")
    'RBAC: allowed by ClusterRoleBinding "system:controller:job-controller" of ...'
    >>> _reason("system:serviceaccount:monitoring:prometheus").endswith(
    ...     'to ServiceAccount "prometheus/monitoring"')
    True
    """
    if actor.startswith("system:node:"):
        return allowed_by("system:node", "system:node", 'Group "system:nodes"')
    if not actor.startswith("system:serviceaccount:"):
        return allowed_by(actor, actor, f'User "{actor}"')
    _, _, ns, name = actor.split(":", 3)
    controller = ns == "kube-system" and name.endswith(("controller", "collector", "autoscaler"))
    role = f"system:controller:{name}" if controller else name
    return allowed_by(role, role, f'ServiceAccount "{name}/{ns}"')


def tasks(org: Org) -> list[Task]:
    """The periodic behaviour of every machine identity in the organisation."""
    t = [
        Task(KS + "replicaset-controller", "update", "replicasets/status", "apps", "rs", 3),
        Task(KS + "replicaset-controller", "create", "pods", "apps", "pod", 0.5),
        Task(KS + "replicaset-controller", "delete", "pods", "apps", "pod", 0.5),
        Task(KS + "deployment-controller", "update", "deployments/status", "apps", "app", 2),
        Task(KS + "deployment-controller", "patch", "replicasets", "apps", "rs", 0.3),
        Task(KS + "endpointslice-controller", "update", "endpointslices", "apps", "eps", 3),
        Task(KS + "horizontal-pod-autoscaler", "get", "deployments/scale", "prod", "app", 1.5),
        Task(
            KS + "horizontal-pod-autoscaler",
            "update",
            "horizontalpodautoscalers/status",
            "prod",
            "app",
            1.5,
        ),
        Task(KS + "generic-garbage-collector", "delete", "replicasets", "apps", "rs", 0.1),
        Task(KS + "cronjob-controller", "create", "jobs", "data-prod", "app", 0.15),
        Task(KS + "job-controller", "update", "jobs/status", "data-prod", "app", 0.3),
        Task("system:kube-scheduler", "create", "pods/binding", "apps", "pod", 0.5),
        Task("system:kube-scheduler", "update", "leases", "kube-system", "=kube-scheduler", 3),
        Task(
            "system:kube-controller-manager",
            "update",
            "leases",
            "kube-system",
            "=kube-controller-manager",
            3,
        ),
        Task(
            "system:apiserver", "update", "leases", "kube-system", "=apiserver-5f2kq6bwnrxqv7x4", 2
        ),
        Task(KS + "coredns", "list", "endpointslices", "", "", 0.3),
        Task(KS + "coredns", "list", "services", "", "", 0.3),
        Task(
            KS + "cluster-autoscaler",
            "get",
            "configmaps",
            "kube-system",
            "=cluster-autoscaler-status",
            1,
        ),
        Task(
            KS + "cluster-autoscaler",
            "update",
            "configmaps",
            "kube-system",
            "=cluster-autoscaler-status",
            1,
        ),
        Task(KS + "cluster-autoscaler", "list", "nodes", "", "", 0.4),
        Task(
            KS + "aws-load-balancer-controller",
            "update",
            "leases",
            "kube-system",
            "=aws-load-balancer-controller-leader",
            1,
        ),
        Task(KS + "aws-load-balancer-controller", "list", "services", "", "", 0.2),
    ]
    mon = "system:serviceaccount:monitoring:"
    t += [
        Task(mon + "prometheus", "list", "pods", "", "", 0.8),
        Task(mon + "prometheus", "list", "endpoints", "", "", 0.8),
        Task(mon + "prometheus", "list", "services", "", "", 0.5),
        Task(mon + "prometheus", "get", "nodes/proxy", "", "node", 1.2),
    ]
    t += [
        Task(mon + "kube-state-metrics", "list", r, "", "", 0.12)
        for r in (
            "pods",
            "deployments",
            "replicasets",
            "services",
            "configmaps",
            "secrets",
            "nodes",
            "namespaces",
            "jobs",
            "cronjobs",
            "ingresses",
            "persistentvolumeclaims",
        )
    ]
    cm = "system:serviceaccount:cert-manager:cert-manager"
    argo = "system:serviceaccount:argocd:argocd-application-controller"
    kyv = "system:serviceaccount:kyverno:kyverno-reports-controller"
    gk = "system:serviceaccount:gatekeeper-system:gatekeeper-audit"
    nginx = "system:serviceaccount:ingress-nginx:ingress-nginx-controller"
    velero = "system:serviceaccount:velero:velero"
    t += [
        Task(cm, "get", "certificates", "prod", "tls", 0.4),
        Task(cm, "update", "certificates/status", "prod", "tls", 0.1),
        Task(cm, "get", "secrets", "prod", "tls", 0.4),
        Task(cm, "update", "leases", "kube-system", "=cert-manager-controller", 1.5),
        Task(argo, "get", "deployments", "prod", "app", 0.6),
        Task(argo, "list", "pods", "apps", "", 0.4),
        Task(argo, "patch", "applications", "argocd", "app", 0.2),
        Task(kyv, "update", "policyreports", "apps", "", 0.4),
        Task(kyv, "update", "leases", "kyverno", "=kyverno-reports-controller", 1.5),
        Task(gk, "list", "pods", "", "", 0.3),
        Task(gk, "list", "namespaces", "", "", 0.2),
        Task(nginx, "update", "leases", "ingress-nginx", "=ingress-nginx-leader", 1.5),
        Task(nginx, "list", "ingresses", "", "", 0.3),
        Task(nginx, "get", "secrets", "prod", "tls", 0.1),
        Task("system:serviceaccount:falco:falco", "list", "pods", "", "", 0.2),
    ]
    t += [
        Task(velero, "list", r, "", "", 0.02, daily_at_hour=1.0)
        for r in (
            "namespaces",
            "deployments",
            "services",
            "configmaps",
            "secrets",
            "persistentvolumeclaims",
            "serviceaccounts",
            "ingresses",
        )
    ]
    for node in org.nodes:
        actor = f"system:node:{node}"
        t += [
            Task(actor, "update", "leases", "kube-node-lease", f"={node}", 1.2),
            Task(actor, "patch", "nodes/status", "", f"={node}", 0.3),
            Task(actor, "patch", "pods/status", "apps", "pod", 0.15),
            Task(actor, "get", "configmaps", "apps", "config", 0.1),
        ]
    for ns in org.namespaces:
        if ns.env == "infra":
            continue
        for app in ns.apps:
            actor = f"system:serviceaccount:{ns.name}:{app}"
            t.append(Task(actor, "get", "configmaps", ns.name, f"={app}-config", 0.06))
        leader = ns.apps[1]
        t.append(
            Task(
                f"system:serviceaccount:{ns.name}:{leader}",
                "update",
                "leases",
                ns.name,
                f"={leader}-leader",
                0.1,
            )
        )
    return t


def _expand_scope(org: Org, scope: str) -> list[tuple[int, str | None]]:
    """``(namespace index or -1, namespace name or None)`` of each target of a task."""
    envs = {"apps": ("prod", "staging", "dev"), "prod": ("prod",)}
    if scope == "":
        return [(-1, None)]
    if scope in envs:
        picked = [i for i, ns in enumerate(org.namespaces) if ns.env in envs[scope]]
    elif scope == "data-prod":
        picked = [
            i
            for i, ns in enumerate(org.namespaces)
            if ns.env == "prod" and org.teams[ns.team].kind == "data"
        ]
    else:
        known = [i for i, ns in enumerate(org.namespaces) if ns.name == scope]
        return [(known[0], scope)] if known else [(-1, scope)]  # kube-node-lease has no apps
    return [(i, org.namespaces[i].name) for i in picked]


def machine_calls(
    rng: np.random.Generator, org: Org, inventory: Inventory, period: Period, per_day: float
) -> K8sCalls:
    """All periodic machine calls over the period, about ``per_day`` a day in total.

    The profile's ``k8s_cadence`` speeds up or slows down the tasks on a
    resource relative to the others (the total stays ``per_day``).
    """
    rows: list[tuple[Task, int, str | None, float]] = []
    cadence = dict(org.profile.k8s_cadence)  # resource -> rate multiplier (default: none)
    for task in tasks(org):
        targets = _expand_scope(org, task.scope)
        weight = task.weight * cadence[task.resource] if task.resource in cadence else task.weight
        for index, name in targets:
            rows.append((task, index, name, weight / len(targets)))
    total_weight = sum(r[3] for r in rows)
    rate = np.array([r[3] / total_weight * per_day for r in rows])  # calls per day
    period_us = np.maximum(DAY / np.maximum(rate, 1e-9), US).astype(np.int64)
    phase = (rng.random(len(rows)) * period_us).astype(np.int64)
    daily = np.array([r[0].daily_at_hour is not None for r in rows])
    period_us[daily] = DAY
    phase[daily] = np.array(
        [
            int((r[0].daily_at_hour or 0) * HOUR) + int(rng.integers(0, 600)) * 1000
            for r in rows
            if r[0].daily_at_hour is not None
        ],
        dtype=np.int64,
    )
    start_of_day = period.start - period.start % DAY
    row, times = periodic(rng, period_us, start_of_day, period.end, phase)
    keep = times >= period.start
    row, times = row[keep], times[keep]
    ns = np.array([r[1] for r in rows], dtype=np.int64)[row]
    n = len(row)
    names: list[str | None] = [None] * n
    by_kind: dict[str, list[int]] = {}
    for i, r in enumerate(row.tolist()):
        by_kind.setdefault(rows[r][0].names, []).append(i)
    for kind, where_list in sorted(by_kind.items()):
        where = np.array(where_list, dtype=np.int64)
        if kind == "node":
            picked = rng.integers(0, len(org.nodes), len(where)).tolist()
            values: list[str | None] = [org.nodes[p] for p in picked]
        else:
            values = inventory.names(rng, kind, np.maximum(ns[where], 0), times[where])
        for w, v in zip(where.tolist(), values, strict=True):
            names[w] = v
    task_of = [rows[r][0] for r in row.tolist()]
    identities = org.k8s
    reasons = {t.actor: _reason(t.actor) for t in task_of}
    verbs = [t.verb for t in task_of]
    codes = np.array([201 if v == "create" else 200 for v in verbs], dtype=np.int64)
    codes[(rng.random(n) < 0.01) & np.array([v == "update" for v in verbs], dtype=bool)] = 409
    return K8sCalls(
        time=times,
        actor=[t.actor for t in task_of],
        verb=verbs,
        resource=[t.resource for t in task_of],
        namespace=[rows[r][2] for r in row.tolist()],
        name=names,
        code=codes,
        ip=[identities[t.actor].ip for t in task_of],
        agent=[identities[t.actor].agent for t in task_of],
        reason=[reasons[t.actor] for t in task_of],
        message=[None] * n,
        body=[None] * n,
    )


def deploy_calls(rng: np.random.Generator, org: Org, team: IntArray, times: IntArray) -> K8sCalls:
    """A CI deployer rolling out one application per deploy event: read, patch, watch."""
    parts = []
    env = np.where(rng.random(len(team)) < 0.6, "staging", "prod")
    for t, at, e in zip(team.tolist(), times.tolist(), env.tolist(), strict=True):
        name = org.teams[t].name
        actor = f"system:serviceaccount:ci:{name}-deployer"
        identity = org.k8s[actor]
        ns = org.ns(org.teams[t], e)
        app = org.teams[t].apps[int(rng.integers(len(org.teams[t].apps)))]
        polls = int(rng.integers(2, 6))
        reason = allowed_by("deployer", "edit", f'ServiceAccount "{name}-deployer/ci"', ns)
        steps = [("get", "deployments", app, 0), ("patch", "deployments", app, 2)]
        steps += [("get", "deployments", app, 4 + 3 * k) for k in range(polls)]
        steps.append(("list", "pods", None, 6 + 3 * polls))
        parts.append(
            K8sCalls.rows(
                [
                    {
                        "time": at + offset * US + int(rng.integers(0, 900_000)),
                        "actor": actor,
                        "verb": verb,
                        "resource": resource,
                        "namespace": ns,
                        "name": obj,
                        "ip": identity.ip,
                        "agent": identity.agent,
                        "reason": reason,
                    }
                    for verb, resource, obj, offset in steps
                ]
            )
        )
    return K8sCalls.concat(parts)
