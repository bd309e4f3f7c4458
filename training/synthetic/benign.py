"""Legitimate rare episodes: unusual, but not malicious.

A release day when every team deploys at once, an on-call engineer fixing
production at night, an engineer moving to another team and getting access to
its namespaces, the root user's monthly look at the bill, and (in
:mod:`training.synthetic.build`) a new hire's first days. The recurring ones
also happen once in the training period, as they would in a real history; in
the test period they are labelled ``benign:<kind>`` so that an evaluation can
count how often "rare" is mistaken for "malicious".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from training.synthetic.aws_machines import image_push_calls
from training.synthetic.batch import Batch
from training.synthetic.clock import HOUR, MINUTE, US
from training.synthetic.formats.cloudtrail import AwsCalls
from training.synthetic.formats.k8s import K8sCalls, allowed_by
from training.synthetic.k8s_humans import ADMIN, edit_reason
from training.synthetic.k8s_machines import deploy_calls
from training.synthetic.runtime import build_alerts
from training.synthetic.scenario import Context, human_row


def deploy_burst(ctx: Context, t: int, label: str | None) -> list[Batch]:
    """Release day: every team ships its applications within forty minutes."""
    teams = np.arange(len(ctx.org.teams))
    times = t + np.sort(ctx.rng.uniform(0, 40 * MINUTE, len(teams))).astype(np.int64)
    k8s_calls = deploy_calls(ctx.rng, ctx.org, teams, times)
    batches = ctx.emit.k8s(k8s_calls, label)
    batches += ctx.emit.aws(image_push_calls(ctx.rng, ctx.org, teams, times), label)
    alerts = build_alerts(ctx.rng, ctx.org, times)
    batches.append(alerts if label is None else alerts.labelled(label))
    return batches


def oncall_night(ctx: Context, t: int, label: str | None) -> list[Batch]:
    """An SRE paged at 3 a.m.: looks at a failing service, restarts pods, scales a node group."""
    p = ctx.person(kinds=("platform",), roles=("sre",))
    services = [t for t in ctx.org.teams if t.kind in ("product", "data")]
    team = services[int(ctx.rng.integers(len(services)))]
    ns, app = ctx.org.ns(team, "prod"), team.apps[0]
    ns_index = ctx.org.namespace_index(ns)
    pods = ctx.inventory.pod(
        np.full(3, ns_index), np.zeros(3, np.int64), np.full(3, t), np.arange(3)
    )
    steps: list[dict[str, Any]] = [
        {"verb": "list", "resource": "pods", "namespace": ns},
        {"verb": "list", "resource": "events", "namespace": ns},
        *({"verb": "get", "resource": "pods/log", "namespace": ns, "name": pod} for pod in pods),
        {"verb": "delete", "resource": "pods", "namespace": ns, "name": pods[0]},
        {"verb": "delete", "resource": "pods", "namespace": ns, "name": pods[1]},
        {"verb": "patch", "resource": "deployments", "namespace": ns, "name": app},
        {"verb": "get", "resource": "deployments", "namespace": ns, "name": app},
        {"verb": "list", "resource": "pods", "namespace": ns},
    ]
    offsets = ctx.gaps(len(steps), 40.0)
    rows = [human_row(ctx, p, t + offsets[i], reason=ADMIN, **step) for i, step in enumerate(steps)]
    batches = ctx.emit.k8s(K8sCalls.rows(rows), label)
    sso = ctx.org.sso(p)
    ops = [
        "ec2:DescribeInstances",
        "autoscaling:DescribeAutoScalingGroups",
        "monitoring:GetMetricData",
        "monitoring:GetMetricData",
        "autoscaling:SetDesiredCapacity",
        "autoscaling:DescribeAutoScalingGroups",
    ]
    aws_offsets = ctx.gaps(len(ops), 50.0)
    aws_rows = [
        {
            "time": t + 5 * MINUTE + aws_offsets[i],
            "principal": sso.key,
            "op": op,
            "region": sso.region,
            "ip": p.vpn_ip,
            "agent": p.cli_agent,
            "session": t,
            "params": {"autoScalingGroupName": "eks-general-1", "desiredCapacity": 9}
            if op.endswith("Capacity")
            else None,
        }
        for i, op in enumerate(ops)
    ]
    return batches + ctx.emit.aws(AwsCalls.rows(aws_rows), label)


def role_change(ctx: Context, t: int, label: str | None) -> list[Batch]:
    """The platform lead grants an engineer edit rights in their new team's namespaces; the
    engineer starts working there."""
    lead = next(
        h for h in ctx.org.humans if ctx.org.teams[h.team].kind == "platform" and h.role == "lead"
    )
    mover = ctx.person()
    choices = [
        i for i, team in enumerate(ctx.org.teams) if team.kind == "product" and i != mover.team
    ]
    new_team = ctx.org.teams[choices[int(ctx.rng.integers(len(choices)))]]
    binding = f"{new_team.name}-edit-{mover.short.replace('.', '-')}"
    rows = []
    for i, env in enumerate(("dev", "staging", "prod")):
        ns = ctx.org.ns(new_team, env)
        body = {
            "kind": "RoleBinding",
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "metadata": {"name": binding, "namespace": ns},
            "subjects": [
                {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": mover.username}
            ],
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view" if env == "prod" else "edit",
            },
        }
        rows.append(
            human_row(
                ctx,
                lead,
                t + i * 30 * US,
                vpn=False,
                verb="create",
                resource="rolebindings",
                namespace=ns,
                name=binding,
                code=201,
                reason=ADMIN,
                body=body,
            )
        )
    start = t + 2 * HOUR
    work = [
        ("list", "pods", "dev", None),
        ("list", "deployments", "dev", None),
        ("get", "deployments", "dev", new_team.apps[0]),
        ("patch", "deployments", "dev", new_team.apps[0]),
        ("list", "pods", "staging", None),
        ("get", "configmaps", "staging", f"{new_team.apps[1]}-config"),
        ("list", "events", "prod", None),
    ]
    offsets = ctx.gaps(len(work), 60.0)
    for i, (verb, resource, env, name) in enumerate(work):
        ns = ctx.org.ns(new_team, env)
        reason = (
            edit_reason(new_team, ns)
            if verb not in ("get", "list")
            else (allowed_by(binding, "edit", f'User "{mover.username}"', ns))
        )
        rows.append(
            human_row(
                ctx,
                mover,
                start + offsets[i],
                vpn=False,
                verb=verb,
                resource=resource,
                namespace=ns,
                name=name,
                reason=reason,
            )
        )
    return ctx.emit.k8s(K8sCalls.rows(rows), label)


def root_billing_review(ctx: Context, t: int, label: str | None) -> list[Batch]:
    """The account owner signs in as root (with MFA) to look at last month's costs."""
    root = ctx.org.aws["root"]
    ops = ["signin:ConsoleLogin", "ce:GetCostAndUsage", "ce:GetCostAndUsage", "ce:GetCostAndUsage"]
    offsets = ctx.gaps(len(ops), 40.0)
    rows = [
        {
            "time": t + offsets[i],
            "principal": root.key,
            "op": op,
            "region": "us-east-1",
            "ip": root.ips[0],
            "agent": root.agent,
            "console": True,
            "mfa": True,
            "session": t,
            "params": None
            if op.startswith("signin")
            else {"granularity": "MONTHLY", "metrics": ["UnblendedCost"]},
        }
        for i, op in enumerate(ops)
    ]
    return ctx.emit.aws(AwsCalls.rows(rows), label)


def episodes(ctx: Context) -> tuple[list[Batch], list[Batch]]:
    """``(training-period episodes, labelled test-period episodes)``."""
    nyc, lon = -240, 0
    train: list[Batch] = []
    test: list[Batch] = []
    train += deploy_burst(ctx, ctx.in_train(3, 16.0), None)
    train += oncall_night(ctx, ctx.in_train(5, 3.1, lon), None)
    train += root_billing_review(ctx, ctx.in_train(0, 10.0, nyc), None)
    test += deploy_burst(ctx, ctx.at(1, 16.0, 0, HOUR), "benign:deploy_burst")
    test += oncall_night(ctx, ctx.at(2, 3.1, lon, HOUR), "benign:oncall_night")
    test += role_change(ctx, ctx.at(0, 10.5, lon, 4 * HOUR), "benign:role_change")
    test += root_billing_review(ctx, ctx.at(0, 10.0, nyc, HOUR), "benign:root_billing_review")
    return train, test
