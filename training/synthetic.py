"""``auditlens generate``: a synthetic Kubernetes cluster with labelled attacks.

Normal behaviour has structure, not uniform noise: human users belong to teams
that own namespaces and work office hours on weekdays in their team's time
zone, reading far more than they write; service accounts (controllers) poll and
update their own namespace around the clock. The test period additionally holds
labelled attack scenarios. Everything is drawn from one seeded generator, so the
same seed gives byte-identical files.

Output: ``train.jsonl`` (normal only), ``test.jsonl`` (normal + attacks, time
ordered) and ``labels.csv`` (``event_id,scenario`` for attack events).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson

EPOCH = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
READ_RESOURCES = ("pods", "deployments", "services", "configmaps", "events", "replicasets")
WRITE_RESOURCES = ("deployments", "configmaps", "services")
CONTROLLER_RESOURCES = ("pods", "endpoints", "leases", "configmaps")
USER_AGENT_HUMAN = "kubectl/v1.31.2 (linux/amd64) kubernetes/5864a46"
USER_AGENT_SA = "kube-controller/v1.31.2 (linux/amd64)"


@dataclass(frozen=True)
class Actor:
    username: str
    team: int
    utc_offset: int
    source_ip: str
    user_agent: str
    namespaces: tuple[str, ...]
    is_service_account: bool


@dataclass(frozen=True)
class Environment:
    humans: tuple[Actor, ...]
    service_accounts: tuple[Actor, ...]
    namespaces: tuple[str, ...]


def build_environment(
    rng: np.random.Generator, teams: int = 6, users_per_team: int = 10
) -> Environment:
    offsets = (-8, -5, 0, 1, 5, 9)
    namespaces: list[str] = []
    humans: list[Actor] = []
    service_accounts: list[Actor] = []
    for team in range(teams):
        owned = (f"team{team}-prod", f"team{team}-dev")
        namespaces.extend(owned)
        for member in range(users_per_team):
            humans.append(
                Actor(
                    username=f"user{team:02d}{member:02d}@example.com",
                    team=team,
                    utc_offset=offsets[team % len(offsets)],
                    source_ip=f"10.{team}.{member}.{int(rng.integers(2, 250))}",
                    user_agent=USER_AGENT_HUMAN,
                    namespaces=owned,
                    is_service_account=False,
                )
            )
        for name in ("deployer", "operator"):
            service_accounts.append(
                Actor(
                    username=f"system:serviceaccount:{owned[0]}:{name}",
                    team=team,
                    utc_offset=0,
                    source_ip=f"172.16.{team}.{10 + len(service_accounts)}",
                    user_agent=USER_AGENT_SA,
                    namespaces=(owned[0],),
                    is_service_account=True,
                )
            )
    return Environment(tuple(humans), tuple(service_accounts), tuple(namespaces))


def audit_event(
    event_id: str,
    when: datetime,
    actor: Actor,
    verb: str,
    resource: str,
    namespace: str | None,
    name: str,
    code: int = 200,
    source_ip: str | None = None,
) -> dict[str, object]:
    """One ``ResponseComplete`` audit event in the ``audit.k8s.io/v1`` format."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    resource_name, _, subresource = resource.partition("/")
    object_ref: dict[str, object] = {"resource": resource_name, "name": name, "apiVersion": "v1"}
    if subresource:
        object_ref["subresource"] = subresource
    if namespace:
        object_ref["namespace"] = namespace
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": event_id,
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/{resource_name}",
        "verb": verb,
        "user": {"username": actor.username, "groups": ["system:authenticated"]},
        "sourceIPs": [source_ip or actor.source_ip],
        "userAgent": actor.user_agent,
        "objectRef": object_ref,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": stamp,
        "stageTimestamp": stamp,
    }


class _Ids:
    """Deterministic UUIDs from the seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self) -> str:
        return str(uuid.UUID(bytes=self.rng.bytes(16), version=4))


def _normal_events(
    rng: np.random.Generator, env: Environment, start: datetime, days: int, per_day: int
) -> Iterator[tuple[datetime, dict[str, object]]]:
    ids = _Ids(rng)
    human_share = 0.6
    for day in range(days):
        day_start = start + timedelta(days=day)
        weekend = day_start.weekday() >= 5
        n_sa = int(per_day * (1 - human_share))
        n_human = 0 if weekend else int(per_day * human_share)
        for offset_s in np.sort(rng.uniform(0, 86400, n_sa)):
            actor = env.service_accounts[int(rng.integers(len(env.service_accounts)))]
            verb = str(rng.choice(["get", "list", "watch", "update"], p=[0.35, 0.3, 0.2, 0.15]))
            resource = str(rng.choice(CONTROLLER_RESOURCES))
            when = day_start + timedelta(seconds=float(offset_s))
            yield (
                when,
                audit_event(
                    ids(),
                    when,
                    actor,
                    verb,
                    resource,
                    actor.namespaces[0],
                    f"{resource}-{int(rng.integers(20))}",
                ),
            )
        for _ in range(n_human):
            actor = env.humans[int(rng.integers(len(env.humans)))]
            local_hour = float(np.clip(rng.normal(13.0, 2.5), 8.0, 19.5))
            when = day_start + timedelta(hours=local_hour - actor.utc_offset)
            roll = rng.random()
            if roll < 0.85:
                verb, resource = str(rng.choice(["get", "list"])), str(rng.choice(READ_RESOURCES))
            elif roll < 0.98:
                verb, resource = (
                    str(rng.choice(["patch", "create", "update"])),
                    str(rng.choice(WRITE_RESOURCES)),
                )
            else:
                verb, resource = "delete", "pods"
            namespace = actor.namespaces[int(rng.integers(len(actor.namespaces)))]
            code = 403 if rng.random() < 0.01 else 200
            yield (
                when,
                audit_event(
                    ids(),
                    when,
                    actor,
                    verb,
                    resource,
                    namespace,
                    f"{resource}-{int(rng.integers(50))}",
                    code,
                ),
            )


def _attacks(
    rng: np.random.Generator, env: Environment, start: datetime
) -> Iterator[tuple[str, datetime, dict[str, object]]]:
    """Labelled attack scenarios, each a short burst at a time chosen in the period."""
    ids = _Ids(rng)
    user = env.humans[int(rng.integers(len(env.humans)))]
    at = start + timedelta(hours=26.5 - user.utc_offset)  # 02:30 local, a Tuesday night
    for i, resource in enumerate(("clusterroles", "clusterrolebindings")):
        yield (
            "rbac_privilege_escalation",
            at + timedelta(seconds=i * 20),
            audit_event(
                ids(),
                at + timedelta(seconds=i * 20),
                user,
                "create",
                resource,
                None,
                "backdoor-admin",
            ),
        )
    sa = env.service_accounts[0]
    at = start + timedelta(hours=40)
    for i, namespace in enumerate(env.namespaces[:8]):
        when = at + timedelta(seconds=i * 7)
        yield (
            "stolen_token_secrets_enum",
            when,
            audit_event(
                ids(), when, sa, "list", "secrets", namespace, "", source_ip="203.0.113.66"
            ),
        )
    user = env.humans[int(rng.integers(len(env.humans)))]
    at = start + timedelta(hours=51 - user.utc_offset)  # 03:00 local
    for i in range(3):
        when = at + timedelta(seconds=i * 45)
        yield (
            "exec_into_production",
            when,
            audit_event(ids(), when, user, "create", "pods/exec", user.namespaces[0], f"api-{i}"),
        )
    user = env.humans[int(rng.integers(len(env.humans)))]
    at = start + timedelta(hours=60 - user.utc_offset + 12)
    for i in range(12):
        when = at + timedelta(seconds=i * 2)
        yield (
            "mass_deletion",
            when,
            audit_event(
                ids(),
                when,
                user,
                "deletecollection",
                str(rng.choice(WRITE_RESOURCES)),
                None,
                f"all-{i}",
            ),
        )


def generate(
    out: Path, seed: int = 7, days: int = 14, events_per_day: int = 4000
) -> dict[str, int]:
    """Write train/test/labels into ``out``; the last quarter of the days is the test period."""
    rng = np.random.default_rng(seed)
    env = build_environment(rng)
    test_days = max(1, days // 4)
    train_days = max(1, days - test_days)
    test_start = EPOCH + timedelta(days=train_days)
    out.mkdir(parents=True, exist_ok=True)
    train = sorted(_normal_events(rng, env, EPOCH, train_days, events_per_day), key=lambda x: x[0])
    test_normal = list(_normal_events(rng, env, test_start, test_days, events_per_day))
    attacks = list(_attacks(rng, env, test_start))
    test = sorted(test_normal + [(when, event) for _, when, event in attacks], key=lambda x: x[0])
    with (out / "train.jsonl").open("wb") as f:
        f.writelines(orjson.dumps(event) + b"\n" for _, event in train)
    with (out / "test.jsonl").open("wb") as f:
        f.writelines(orjson.dumps(event) + b"\n" for _, event in test)
    with (out / "labels.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["event_id", "scenario"])
        writer.writerows((event["auditID"], scenario) for scenario, _, event in attacks)
    return {"train": len(train), "test": len(test), "attacks": len(attacks)}
