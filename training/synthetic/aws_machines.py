"""Machines in AWS: workloads, nodes, controllers, integrations, AWS services, pipelines.

Workload roles (EKS service-account roles) decrypt, read secrets and move
objects in their team's bucket; nodes and cluster add-ons describe and attach
network interfaces, scale groups, sync DNS and load balancers; a monitoring
integration and AWS Config read broadly on a timer; AWS services assume roles
and encrypt logs on the organisation's behalf; a legacy sync user uploads every
hour and a backup user snapshots every night. All of it periodic. Pipelines
(Terraform plans, image pushes on deploys) happen on working-day events.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.synthetic.activity import periodic
from training.synthetic.aws_params import Target, params
from training.synthetic.catalogue import words
from training.synthetic.clock import DAY, HOUR, MINUTE, US, Period
from training.synthetic.formats.cloudtrail import AwsCalls
from training.synthetic.org import AwsPrincipal, Org
from training.synthetic.randomness import IntArray


@dataclass(frozen=True)
class AwsTask:
    """A periodic call: scaled by ``weight``, or at a fixed ``every`` (µs) from ``offset``."""

    principal: str
    op: str
    weight: float = 0.0
    every: int | None = None
    offset: int | None = None


def _weighted(principal: str, spec: str) -> list[AwsTask]:
    out = []
    for item in spec.split():
        op, _, weight = item.partition("=")
        out.append(AwsTask(principal, op, float(weight)))
    return out


def tasks(org: Org) -> list[AwsTask]:
    """The periodic AWS behaviour of every machine principal."""
    t: list[AwsTask] = []
    for key in org.aws:
        if key.startswith("app:"):
            t += _weighted(
                key,
                "kms:Decrypt=3 secretsmanager:GetSecretValue=0.6 s3:GetObject=4 s3:PutObject=2 "
                "ssm:GetParameters=0.6",
            )
        elif key.startswith("node:"):
            t += _weighted(
                key,
                "ec2:DescribeNetworkInterfaces=0.4 ec2:AssignPrivateIpAddresses=0.1 "
                "ecr:GetAuthorizationToken=0.1 ec2:DescribeInstances=0.1 ecr:BatchGetImage=0.1",
            )
        elif key.startswith("service:") and key != "service:cloudtrail.amazonaws.com":
            t += _weighted(key, "sts:AssumeRole=0.5")
    t += _weighted("service:cloudtrail.amazonaws.com", "kms:GenerateDataKey=1")
    t += _weighted(
        "role:cluster-autoscaler",
        "autoscaling:DescribeAutoScalingGroups=3 ec2:DescribeLaunchTemplateVersions=0.6 "
        "ec2:DescribeInstanceTypes=0.2",
    )
    t += _weighted(
        "role:external-dns", "route53:ListHostedZones=0.8 route53:ListResourceRecordSets=1.6"
    )
    t += _weighted(
        "role:aws-load-balancer-controller",
        "elasticloadbalancing:DescribeTargetHealth=1.5 "
        "elasticloadbalancing:DescribeTargetGroups=0.6 ec2:DescribeSecurityGroups=0.4",
    )
    t += _weighted(
        "role:datadog",
        "monitoring:GetMetricData=3 monitoring:ListMetrics=1 ec2:DescribeInstances=0.6 "
        "rds:DescribeDBInstances=0.3 elasticloadbalancing:DescribeLoadBalancers=0.3 "
        "tagging:GetResources=0.6",
    )
    t += _weighted(
        "role:config",
        "ec2:DescribeInstances=0.3 ec2:DescribeSecurityGroups=0.3 iam:GetRole=0.2 "
        "s3:GetBucketPolicy=0.2 s3:GetBucketAcl=0.2",
    )
    sync = "iam:s3-sync-legacy"
    every = org.profile.sync_every_min * MINUTE
    at = 7 * MINUTE % every
    t += [
        AwsTask(sync, "s3:ListObjects", every=every, offset=at),
        AwsTask(sync, "s3:PutObject", every=every, offset=at + 3 * US),
        AwsTask(sync, "s3:PutObject", every=every, offset=at + 9 * US),
    ]
    backup = "iam:backup-agent"
    nightly = ["ec2:DescribeVolumes", "rds:DescribeDBInstances"]
    nightly += ["ec2:CreateSnapshot"] * 6 + ["ec2:DescribeSnapshots"] + ["ec2:DeleteSnapshot"] * 6
    nightly += ["rds:CreateDBSnapshot"] * 2
    night = int(org.profile.backup_hour * HOUR)
    t += [AwsTask(backup, op, every=DAY, offset=night + i * 4 * US) for i, op in enumerate(nightly)]
    return t


def _target(org: Org, principal: AwsPrincipal) -> Target:
    """What a machine principal works on: its team's bucket and app, or the platform's."""
    team = next((t for t in org.teams if principal.name.startswith(f"{t.name}-")), None)
    if team is None:
        team = next(t for t in org.teams if t.kind == "platform")
        app = principal.session or principal.name
    else:
        app = principal.session
    return Target(principal.account, principal.region, team.name, app, org.buckets[team.name])


def machine_calls(rng: np.random.Generator, org: Org, period: Period, per_day: float) -> AwsCalls:
    """All periodic machine calls over the period, about ``per_day`` a day for the scaled ones."""
    all_tasks = tasks(org)
    scaled_weight = sum(t.weight for t in all_tasks if t.every is None)
    period_us = np.array(
        [
            t.every
            if t.every is not None
            else int(DAY / max(t.weight / scaled_weight * per_day, 1e-9))
            for t in all_tasks
        ],
        dtype=np.int64,
    )
    phase = np.array([t.offset if t.offset is not None else -1 for t in all_tasks], dtype=np.int64)
    drawn = (rng.random(len(all_tasks)) * period_us).astype(np.int64)
    phase = np.where(phase < 0, drawn, phase)
    start_of_day = period.start - period.start % DAY
    task, times = periodic(rng, period_us, start_of_day, period.end, phase, jitter=0.02)
    keep = times >= period.start
    task, times = task[keep], times[keep]
    n = len(task)
    ks = rng.integers(0, 10**6, n).tolist()
    failures = (rng.random(n) < 0.002).tolist()
    targets = {t.principal: _target(org, org.aws[t.principal]) for t in all_tasks}
    sessions = _sessions(org, [t.principal for t in all_tasks], task, times).tolist()
    rows: list[dict[str, Any]] = []
    for i, (ti, t) in enumerate(zip(task.tolist(), times.tolist(), strict=True)):
        spec = all_tasks[ti]
        principal = org.aws[spec.principal]
        rows.append(
            {
                "time": t,
                "principal": spec.principal,
                "op": spec.op,
                "region": principal.region,
                "ip": principal.ips[0],
                "agent": principal.agent,
                "error": "ThrottlingException" if failures[i] else None,
                "params": params(spec.op, targets[spec.principal], ks[i]),
                "session": sessions[i],
            }
        )
    return AwsCalls.rows(rows)


def _sessions(org: Org, principals: list[str], task: IntArray, times: IntArray) -> IntArray:
    """The start of the credentials' session of each call (µs).

    Temporary credentials renew every ``machine_session_minutes`` (hourly by
    default, on the hour). When sessions are not named after the caller, each
    principal renews at its own minute, as independent clients do, so session
    names (which carry the creation time) are not shared by all machines.
    """
    every = org.profile.machine_session_minutes * MINUTE
    if org.profile.machine_sessions == "stable":
        phase = np.zeros(len(principals), dtype=np.int64)
    else:
        phase = np.array([zlib.crc32(p.encode()) % every for p in principals], dtype=np.int64)
    start: IntArray = times - (times - phase[task]) % every
    return start


TERRAFORM_READS = words(
    "iam:GetRole iam:GetPolicy iam:GetPolicyVersion iam:ListAttachedRolePolicies ec2:DescribeVpcs "
    "ec2:DescribeSubnets ec2:DescribeSecurityGroups ec2:DescribeLaunchTemplateVersions "
    "eks:DescribeCluster eks:DescribeNodegroup s3:GetBucketPolicy s3:GetBucketAcl "
    "s3:GetBucketVersioning s3:GetBucketLocation rds:DescribeDBInstances route53:GetHostedZone "
    "route53:ListResourceRecordSets kms:DescribeKey secretsmanager:DescribeSecret "
    "logs:DescribeLogGroups ssm:GetParameter sts:GetCallerIdentity"
)
TERRAFORM_WRITES = ("ec2:CreateTags", "autoscaling:UpdateAutoScalingGroup", "iam:AttachRolePolicy")
IMAGE_PUSH = words(
    "sts:GetCallerIdentity ecr:GetAuthorizationToken ecr:BatchCheckLayerAvailability "
    "ecr:InitiateLayerUpload ecr:UploadLayerPart ecr:UploadLayerPart ecr:CompleteLayerUpload "
    "ecr:PutImage eks:DescribeCluster"
)


def terraform_calls(rng: np.random.Generator, org: Org, times: IntArray) -> AwsCalls:
    """Terraform plans (and some applies) by the CI user: a sweep of reads across services."""
    principal = org.aws["iam:terraform-ci"]
    rows: list[dict[str, Any]] = []
    for start in times.tolist():
        reads = rng.choice(len(TERRAFORM_READS), size=int(rng.integers(20, 40)))
        ops = [TERRAFORM_READS[r] for r in reads.tolist()]
        if rng.random() < 0.25:
            ops += [TERRAFORM_WRITES[int(rng.integers(len(TERRAFORM_WRITES)))]]
        t = start
        for op in ops:
            t += int(rng.exponential(1.5 * US))
            k = int(rng.integers(10**6))
            team = org.teams[k % len(org.teams)]
            target = Target(
                principal.account, principal.region, team.name, team.apps[0], org.buckets[team.name]
            )
            rows.append(
                {
                    "time": t,
                    "principal": principal.key,
                    "op": op,
                    "region": principal.region,
                    "ip": principal.ips[0],
                    "agent": principal.agent,
                    "params": params(op, target, k),
                }
            )
    return AwsCalls.rows(rows)


def image_push_calls(
    rng: np.random.Generator, org: Org, team: IntArray, times: IntArray
) -> AwsCalls:
    """A CI job pushing an image just before its deploy (the same deploy events as the cluster)."""
    rows: list[dict[str, Any]] = []
    for t_index, at in zip(team.tolist(), times.tolist(), strict=True):
        team_ = org.teams[t_index]
        principal = org.aws[f"deploy:{team_.name}"]
        ip = principal.ips[int(rng.integers(len(principal.ips)))]
        app = team_.apps[int(rng.integers(len(team_.apps)))]
        t = at - int(rng.integers(90, 240)) * US
        session = t
        for op in IMAGE_PUSH:
            k = int(rng.integers(10**6))
            target = Target(
                principal.account, principal.region, team_.name, app, org.buckets[team_.name]
            )
            rows.append(
                {
                    "time": t,
                    "principal": principal.key,
                    "op": op,
                    "region": principal.region,
                    "ip": ip,
                    "agent": principal.agent,
                    "params": params(op, target, k),
                    "session": session,
                }
            )
            t += int(rng.exponential(4 * US)) + 200_000
    return AwsCalls.rows(rows)
