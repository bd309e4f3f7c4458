"""The synthetic organisation: teams, people, namespaces, service accounts, AWS principals.

Built once per seed, it is what makes the generated behaviour *structured*:
each person belongs to a team that owns three namespaces and works from one
office in one time zone; each has a personal, stable mix of Kubernetes actions
and AWS calls drawn around the team's profile, one office and one VPN egress IP,
and one client version per tool. Service accounts and AWS roles have fixed
addresses and user agents. Identifiers that must be stable (principal ids,
access keys) are derived from names, not drawn, so they never shift when the
random draws change.

Its shape (how many people and teams, on which sites, how logins, namespaces
and machine sessions are named, which tools people use, when they work) comes
from a :class:`~training.synthetic.profile.GeneratorProfile`; the default one
is the organisation described here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from training.synthetic.catalogue import (
    AWS_OPS,
    HUMAN_AWS_MIXES,
    HUMAN_K8S_ACTIONS,
    TEAM_KINDS,
    words,
)
from training.synthetic.clients import K8S_COMMIT, K8S_VERSION, SDK_GO, session_name
from training.synthetic.profile import DEFAULT, ENVS, GeneratorProfile, SessionStyle

CLUSTER = "prod-main"


@dataclass(frozen=True)
class Site:
    """An office: its UTC offset (minutes), the AWS region its teams use, its egress IPs."""

    offset_min: int
    region: str
    office_ip: str
    vpn_ips: tuple[str, ...]


SITES: dict[str, Site] = {
    "sfo": Site(-420, "us-east-1", "198.51.100.10", ("198.51.100.20", "198.51.100.21")),
    "nyc": Site(-240, "us-east-1", "198.51.100.40", ("198.51.100.50", "198.51.100.51")),
    "lon": Site(0, "eu-west-1", "203.0.113.10", ("203.0.113.20", "203.0.113.21")),
    "ber": Site(60, "eu-west-1", "203.0.113.40", ("203.0.113.50", "203.0.113.51")),
    "blr": Site(330, "ap-southeast-1", "192.0.2.10", ("192.0.2.20", "192.0.2.21")),
    "sgp": Site(480, "ap-southeast-1", "192.0.2.40", ("192.0.2.50", "192.0.2.51")),
    # Further offices, used only by shifted profiles (a follow-the-sun organisation).
    "sao": Site(-180, "sa-east-1", "198.18.10.10", ("198.18.10.20", "198.18.10.21")),
    "dxb": Site(240, "me-central-1", "198.18.20.10", ("198.18.20.20", "198.18.20.21")),
    "syd": Site(660, "ap-southeast-2", "198.18.30.10", ("198.18.30.20", "198.18.30.21")),
}

# name, kind, site, applications
TEAM_SPECS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("payments", "product", "nyc", ("payments-api", "ledger", "payouts-worker")),
    ("checkout", "product", "nyc", ("checkout-web", "cart", "pricing")),
    ("catalog", "product", "ber", ("catalog-api", "inventory", "media-resizer")),
    ("search", "product", "ber", ("search-api", "indexer", "query-suggest")),
    ("identity", "product", "lon", ("auth", "user-profile", "sessions")),
    ("messaging", "product", "blr", ("notifier", "email-sender", "push-gateway")),
    ("analytics", "data", "lon", ("events-collector", "etl-runner", "reporting")),
    ("ml", "data", "sfo", ("feature-store", "model-server", "trainer")),
    ("mobile", "product", "sgp", ("mobile-bff", "app-config", "deeplinks")),
    ("web", "product", "sfo", ("storefront", "cms", "assets")),
    ("platform", "platform", "lon", ("internal-portal", "status-page", "chatops")),
    ("security", "security", "nyc", ("scanner", "siem-forwarder", "vault-agent")),
)
# More teams, for larger shifted organisations (the twelve above are the default).
EXTRA_TEAM_SPECS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("billing", "product", "nyc", ("invoicing", "tax-engine", "dunning")),
    ("logistics", "product", "ber", ("shipping-api", "route-planner", "tracking")),
    ("support", "product", "blr", ("helpdesk", "chat-widget", "kb-search")),
    ("partners", "product", "lon", ("partner-api", "partner-webhooks", "onboarding")),
    ("ads", "product", "sgp", ("ad-server", "bidder", "campaigns")),
    ("growth", "product", "sfo", ("experiments", "referrals", "landing-pages")),
    ("fraud", "data", "sfo", ("risk-scorer", "rules-engine", "case-manager")),
    ("warehouse", "data", "lon", ("dwh-loader", "dbt-runner", "bi-gateway")),
)

# Infrastructure namespaces, all owned by the platform team.
INFRA_NAMESPACES: dict[str, tuple[str, ...]] = {
    "kube-system": ("coredns", "aws-load-balancer-controller", "cluster-autoscaler"),
    "monitoring": ("prometheus", "grafana", "alertmanager", "kube-state-metrics"),
    "ingress-nginx": ("ingress-nginx-controller",),
    "cert-manager": ("cert-manager", "cert-manager-webhook"),
    "argocd": ("argocd-server", "argocd-repo-server", "argocd-application-controller"),
    "kyverno": ("kyverno-admission-controller", "kyverno-reports-controller"),
    "gatekeeper-system": ("gatekeeper-controller-manager", "gatekeeper-audit"),
    "falco": ("falco",),
    "velero": ("velero",),
    "ci": ("gitlab-runner",),
}

FIRST_NAMES = words(
    "aisha alex amara ana andrei anna ben carla chen chloe daniel david diego elena emma "
    "fatima felix grace hana hiro ian isabel ivan james jana jin julia kai karim kenji laura "
    "leon lucas maria mateo maya mei mohammed nadia naomi nikhil noah olga omar priya rafael "
    "rahul rosa sam sara sofia tariq tom uma victor wei yara yusuf zoe"
)
LAST_NAMES = words(
    "abbott ahmed alvarez andersen bauer becker brown chen costa das dubois evans fischer "
    "garcia gupta hansen hoffmann ito jansen johnson kang khan kim kowalski kumar lee lopez "
    "martin meyer moreau muller nair nguyen novak okafor olsen park patel perez petrov "
    "rossi santos schmidt silva singh smith tanaka taylor walker wang weber wilson wong "
    "yamamoto zhang"
)

PERMISSION_SETS = {
    "product": "DeveloperAccess",
    "data": "DataEngineer",
    "platform": "AdministratorAccess",
    "security": "SecurityAudit",
}


_TOKEN_TABLE = bytes((b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 8)[i] for i in range(256))


def stable_token(text: str, width: int, alphabet: str = "upper") -> str:
    """A deterministic pseudo-random token derived from ``text`` (for AWS-style ids).

    >>> stable_token("alice", 8) == stable_token("alice", 8), len(stable_token("bob", 17))
    (True, 17)
    >>> stable_token("bob", 6).isupper(), stable_token("bob", 6, "lower").islower()
    (True, True)
    """
    digest = hashlib.blake2b(text.encode(), digest_size=32).digest()[:width]
    token = digest.translate(_TOKEN_TABLE).decode()
    return token if alphabet == "upper" else token.lower()


@dataclass(frozen=True)
class Team:
    name: str
    kind: str
    site: str
    apps: tuple[str, ...]

    @property
    def kind_index(self) -> int:
        return TEAM_KINDS.index(self.kind)

    @property
    def group(self) -> str:
        return f"team-{self.name}"


@dataclass(frozen=True)
class Namespace:
    name: str
    team: int
    env: str  # prod | staging | dev | infra
    apps: tuple[str, ...]


@dataclass(frozen=True)
class Human:
    """One person. ``joins_day`` is set for a new hire (first active day of the test period)."""

    username: str
    team: int
    role: str  # engineer | lead | sre | analyst
    offset_min: int
    office_ip: str
    vpn_ip: str
    k8s_agent: str
    cli_agent: str
    browser_agent: str
    activity: float  # relative volume of this person's work
    start_hour: float  # local time they usually start
    day_hours: float
    aws_share: float  # fraction of their sessions spent in AWS rather than in the cluster
    wfh: float  # probability of working through the VPN on a given day
    iam_user: str | None = None  # a legacy IAM user with console access, if any
    joins: bool = False

    @property
    def short(self) -> str:
        return self.username.split("@", 1)[0]


@dataclass(frozen=True)
class K8sIdentity:
    """How a Kubernetes client appears in audit events."""

    username: str
    groups: tuple[str, ...]
    ip: str
    agent: str


@dataclass(frozen=True)
class AwsPrincipal:
    """An AWS caller: its ``userIdentity`` (built per session), account, region, IPs, agent."""

    key: str
    kind: str  # sso | iam_user | role | service | root
    account: str
    region: str
    ips: tuple[str, ...]
    agent: str
    name: str  # user, role or service name
    session: str = ""  # role session name for assumed roles (with ``stable`` naming)
    permission_set: str = ""
    session_style: SessionStyle = "stable"  # see :func:`.clients.session_name`

    def session_name(self, session_us: int | None = None) -> str:
        """The role session name of the session started at ``session_us`` (µs)."""
        if self.session_style == "stable" or session_us is None:
            return self.session
        return session_name(self.session_style, self.key, self.agent, session_us)

    def identity(
        self, session_start: str, access_key: str, mfa: bool = False, session_us: int | None = None
    ) -> dict[str, Any]:
        """The ``userIdentity`` object CloudTrail records for this principal.

        ``session_us`` (the session's start) names the session of a role whose
        sessions are not named after the caller.
        """
        acct = self.account
        if self.kind == "service":
            return {"type": "AWSService", "invokedBy": self.name}
        if self.kind == "iam_user":
            identity: dict[str, Any] = {
                "type": "IAMUser",
                "principalId": "AIDA" + stable_token(self.key, 17),
                "arn": f"arn:aws:iam::{acct}:user/{self.name}",
                "accountId": acct,
                "accessKeyId": access_key,
                "userName": self.name,
            }
            if access_key.startswith("ASIA"):  # a console session
                identity["sessionContext"] = {
                    "sessionIssuer": {},
                    "webIdFederationData": {},
                    "attributes": {
                        "creationDate": session_start,
                        "mfaAuthenticated": "true" if mfa else "false",
                    },
                }
            return identity
        if self.kind == "root":
            return {
                "type": "Root",
                "principalId": acct,
                "arn": f"arn:aws:iam::{acct}:root",
                "accountId": acct,
                "accessKeyId": access_key,
                "sessionContext": {
                    "attributes": {"creationDate": session_start, "mfaAuthenticated": "true"}
                },
            }
        role_id = "AROA" + stable_token(f"{acct}/{self.name}", 17)
        role_path = "aws-reserved/sso.amazonaws.com/" if self.kind == "sso" else ""
        session = self.session_name(session_us)
        return {
            "type": "AssumedRole",
            "principalId": f"{role_id}:{session}",
            "arn": f"arn:aws:sts::{acct}:assumed-role/{self.name}/{session}",
            "accountId": acct,
            "accessKeyId": access_key,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": role_id,
                    "arn": f"arn:aws:iam::{acct}:role/{role_path}{self.name}",
                    "accountId": acct,
                    "userName": self.name,
                },
                "webIdFederationData": {},
                "attributes": {
                    "creationDate": session_start,
                    "mfaAuthenticated": "true" if mfa else "false",
                },
            },
        }

    def long_term_key(self) -> str:
        """An IAM user's access key id (stable for the user)."""
        return "AKIA" + stable_token(f"key/{self.key}", 16)

    def session_key(self, session: int) -> str:
        """Temporary credentials' key id for the ``session``-th session of this principal."""
        return "ASIA" + stable_token(f"{self.key}/{session}", 16)


@dataclass
class Org:
    """Everything the behaviour generators draw actors and targets from."""

    teams: tuple[Team, ...]
    namespaces: tuple[Namespace, ...]
    humans: tuple[Human, ...]
    accounts: dict[str, str]  # prod | staging | shared -> 12-digit id
    k8s: dict[str, K8sIdentity]  # every Kubernetes client by username
    aws: dict[str, AwsPrincipal]  # every AWS principal by key
    human_k8s_weights: npt.NDArray[np.float64]  # humans x HUMAN_K8S_ACTIONS
    human_ns_weights: npt.NDArray[np.float64]  # humans x namespaces
    human_aws_ops: tuple[str, ...]  # columns of human_aws_weights
    human_aws_weights: npt.NDArray[np.float64]  # humans x human_aws_ops
    nodes: tuple[str, ...]
    buckets: dict[str, str] = field(default_factory=dict)  # team -> bucket
    profile: GeneratorProfile = DEFAULT  # the shape it was built to (hours, naming, cadence)

    def namespace_index(self, name: str) -> int:
        return next(i for i, ns in enumerate(self.namespaces) if ns.name == name)

    def ns(self, team: Team, env: str) -> str:
        """The name of ``team``'s namespace for ``env`` under this organisation's naming."""
        return self.profile.namespace(team.name, env)

    def team_of(self, kind: str) -> Team:
        """The first team of a kind (there is one ``platform`` and one ``security`` team)."""
        return next(t for t in self.teams if t.kind == kind)

    def owner_name(self, namespace: str) -> str:
        """The team an application namespace belongs to (for image repositories); for an
        infrastructure or unknown namespace, its first word, as the registry is laid out."""
        for ns in self.namespaces:
            if ns.name == namespace and ns.env != "infra":
                return self.teams[ns.team].name
        return namespace.rsplit("-", 1)[0]

    def sso(self, human: Human) -> AwsPrincipal:
        return self.aws[human.username]


def _people(rng: np.random.Generator, count: int, style: str = "first.last") -> list[str]:
    """``count`` distinct local parts of logins (before any ``@domain``), in ``style``."""
    if style == "employee-id":
        return [f"u{10_000 + n}" for n in rng.choice(90_000, size=count, replace=False).tolist()]
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        name = {"first.last": f"{first}.{last}", "flast": f"{first[0]}{last}", "first": first}[
            style
        ]
        if name in seen:
            name = f"{name}{int(rng.integers(2, 99))}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _teams(profile: GeneratorProfile) -> list[Team]:
    """The profile's teams in its order, on its sites; checked for what scenarios need."""
    specs = {spec[0]: spec for spec in TEAM_SPECS + EXTRA_TEAM_SPECS}
    unknown = [name for name in profile.teams if name not in specs]
    if unknown:
        raise ValueError(f"{profile.name}: unknown teams {unknown} (known: {sorted(specs)})")
    chosen = [specs[name] for name in profile.teams] if profile.teams else list(TEAM_SPECS)
    sites = profile.team_sites
    teams = [
        Team(name, kind, sites[i % len(sites)] if sites else site, apps)
        for i, (name, kind, site, apps) in enumerate(chosen)
    ]
    apps = [app for t in teams for app in t.apps]
    if len(set(apps)) != len(apps):  # workload roles are keyed by application
        raise ValueError(f"{profile.name}: two teams share an application name")
    kinds = [t.kind for t in teams]
    if kinds.count("product") < 2 or "data" not in kinds:
        raise ValueError(f"{profile.name}: scenarios need two product teams and a data team")
    if kinds.count("platform") != 1 or kinds.count("security") != 1:
        raise ValueError(f"{profile.name}: exactly one platform and one security team")
    missing = sorted({t.site for t in teams} - SITES.keys())
    if missing:
        raise ValueError(f"{profile.name}: unknown sites {missing} (known: {sorted(SITES)})")
    return teams


def _namespaces(profile: GeneratorProfile) -> tuple[list[Team], list[Namespace]]:
    """Three namespaces per team (team-major: staging of team ``k`` is ``3k + 1``), then infra."""
    teams = _teams(profile)
    namespaces: list[Namespace] = []
    for index, team in enumerate(teams):
        for env in ENVS:
            namespaces.append(Namespace(profile.namespace(team.name, env), index, env, team.apps))
    platform = next(i for i, t in enumerate(teams) if t.kind == "platform")
    for name, apps in INFRA_NAMESPACES.items():
        namespaces.append(Namespace(name, platform, "infra", apps))
    names = [ns.name for ns in namespaces]
    if len(set(names)) != len(names):
        raise ValueError(f"{profile.name}: namespace names collide: {sorted(names)}")
    return teams, namespaces


def _human_ns_weights(
    rng: np.random.Generator, teams: list[Team], team_index: int, namespaces: list[Namespace]
) -> npt.NDArray[np.float64]:
    team = teams[team_index]
    weights = np.zeros(len(namespaces))
    own = {
        ns.env: i for i, ns in enumerate(namespaces) if ns.team == team_index and ns.env != "infra"
    }
    if team.kind in ("product", "data"):
        split = rng.dirichlet(np.array([2.5, 3.0, 4.5]) * 4)
        for env, share in zip(("prod", "staging", "dev"), split, strict=True):
            weights[own[env]] = share
        neighbour = int(rng.integers(len(teams)))  # a collaborating team's staging
        weights[3 * neighbour + 1] += 0.03
    elif team.kind == "platform":
        infra = [i for i, ns in enumerate(namespaces) if ns.env == "infra"]
        prods = [i for i, ns in enumerate(namespaces) if ns.env == "prod"]
        weights[infra] = rng.dirichlet(np.ones(len(infra)) * 2) * 0.6
        weights[prods] = rng.dirichlet(np.ones(len(prods)) * 2) * 0.3
        for i in own.values():
            weights[i] += 0.1 / 3
    else:  # security reads everywhere
        weights[:] = rng.dirichlet(np.ones(len(namespaces)) * 3)
    return weights


def _personal_mix(
    rng: np.random.Generator, base: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """A person's own mix: a Dirichlet draw around the team profile, with a few habits dropped."""
    present = base > 0
    keep = rng.random(len(base)) > 0.25
    keep |= base >= np.sort(base[present])[-3]  # everyone keeps the three staples
    profile = np.where(present & keep, base, 0.0)
    mix = np.zeros(len(base))
    mix[profile > 0] = rng.dirichlet(profile[profile > 0] / profile.sum() * 30)
    return mix


def _humans(
    rng: np.random.Generator,
    teams: list[Team],
    namespaces: list[Namespace],
    profile: GeneratorProfile,
) -> tuple[
    list[Human],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    list[str],
    npt.NDArray[np.float64],
]:
    count, least = profile.people, profile.min_team_size
    if count < least * len(teams):
        raise ValueError(f"{profile.name}: {count} people cannot fill {len(teams)} teams")
    sizes = rng.multinomial(count - least * len(teams), np.ones(len(teams)) / len(teams)) + least
    names = _people(rng, count + 1, profile.username_style)
    start, length = profile.work_start, profile.day_hours
    kubectl, kubectl_weights = profile.kubectl_agents, list(profile.kubectl_weights)
    cli, browsers = profile.aws_cli_agents, profile.browser_agents
    aws_ops = sorted({op for mix in HUMAN_AWS_MIXES.values() for op in mix})
    k8s_base = np.array([a.weights for a in HUMAN_K8S_ACTIONS], dtype=np.float64)
    humans: list[Human] = []
    k8s_rows, ns_rows, aws_rows = [], [], []
    legacy_iam = 0
    new_hire_team = int(rng.choice([i for i, t in enumerate(teams) if t.kind == "product"]))
    for team_index, team in enumerate(teams):
        site = SITES[team.site]
        members = int(sizes[team_index]) + (1 if team_index == new_hire_team else 0)
        for member in range(members):
            joins = team_index == new_hire_team and member == members - 1
            role = {"platform": "sre", "security": "analyst"}.get(team.kind, "engineer")
            if member == 0:
                role = "lead"
            iam_user: str | None = None
            if (
                team.kind in ("platform", "data", "security")
                and member in (1, 2)
                and legacy_iam < 6
            ):
                legacy_iam += 1
                iam_user = names[len(humans)].replace(".", "-")
            aws_base = {"product": 0.2, "data": 0.45, "platform": 0.35, "security": 0.45}[team.kind]
            humans.append(
                Human(
                    username=profile.username(names[len(humans)]),
                    team=team_index,
                    role=role,
                    offset_min=site.offset_min,
                    office_ip=site.office_ip,
                    vpn_ip=site.vpn_ips[int(rng.integers(len(site.vpn_ips)))],
                    k8s_agent=kubectl[int(rng.choice(len(kubectl), p=kubectl_weights))],
                    cli_agent=cli[int(rng.integers(len(cli)))],
                    browser_agent=browsers[int(rng.integers(len(browsers)))],
                    activity=float(rng.lognormal(0.0, 0.45)) * (1.6 if joins else 1.0),
                    start_hour=float(np.clip(rng.normal(start, 0.8), start - 2.0, start + 2.0)),
                    day_hours=float(np.clip(rng.normal(length, 0.6), length - 1.5, length + 1.5)),
                    aws_share=float(np.clip(rng.normal(aws_base, 0.08), 0.05, 0.8)),
                    wfh=float(rng.beta(2, 3)),
                    iam_user=iam_user,
                    joins=joins,
                )
            )
            k8s_rows.append(_personal_mix(rng, k8s_base[:, team.kind_index]))
            ns_rows.append(_human_ns_weights(rng, teams, team_index, namespaces))
            mix = HUMAN_AWS_MIXES[team.kind]
            aws_rows.append(_personal_mix(rng, np.array([mix.get(op, 0.0) for op in aws_ops])))
    return humans, np.array(k8s_rows), np.array(ns_rows), aws_ops, np.array(aws_rows)


def _k8s_identities(
    rng: np.random.Generator,
    humans: list[Human],
    teams: list[Team],
    namespaces: list[Namespace],
    profile: GeneratorProfile,
) -> tuple[dict[str, K8sIdentity], tuple[str, ...]]:
    """People, nodes, control-plane components and service accounts as the API server sees them."""
    out: dict[str, K8sIdentity] = {}
    for h in humans:
        groups = (teams[h.team].group, "engineering", "system:authenticated")
        out[h.username] = K8sIdentity(h.username, groups, h.office_ip, h.k8s_agent)
    kubelet = f"kubelet/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
    nodes = []
    for i in range(profile.nodes):
        ip = f"10.0.{16 * (i % 3) + int(rng.integers(1, 15))}.{int(rng.integers(10, 250))}"
        name = f"ip-{ip.replace('.', '-')}.ec2.internal"
        nodes.append(name)
        out[f"system:node:{name}"] = K8sIdentity(
            f"system:node:{name}", ("system:nodes", "system:authenticated"), ip, kubelet
        )
    control = f"kube-controller-manager/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
    for component, agent in (
        (
            "system:kube-scheduler",
            f"kube-scheduler/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}",
        ),
        ("system:kube-controller-manager", control + "/leader-election"),
        ("system:apiserver", f"kube-apiserver/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"),
    ):
        out[component] = K8sIdentity(component, ("system:authenticated",), "10.0.0.12", agent)
    for controller in (
        "replicaset-controller",
        "deployment-controller",
        "endpointslice-controller",
        "horizontal-pod-autoscaler",
        "generic-garbage-collector",
        "job-controller",
        "cronjob-controller",
    ):
        name = f"system:serviceaccount:kube-system:{controller}"
        out[name] = K8sIdentity(
            name,
            (
                "system:serviceaccounts",
                "system:serviceaccounts:kube-system",
                "system:authenticated",
            ),
            "10.0.0.12",
            f"{control}/{name}",
        )
    operator_agents = {
        "coredns": "coredns/v1.11.3 (linux/amd64) kubernetes/$Format",
        "aws-load-balancer-controller": "aws-load-balancer-controller/v2.8.2 (linux/amd64)",
        "cluster-autoscaler": "cluster-autoscaler/v1.31.0 (linux/amd64) kubernetes/$Format",
        "prometheus": "Prometheus/2.54.1",
        "kube-state-metrics": "kube-state-metrics/v2.13.0 (linux/amd64) kubernetes/$Format",
        "cert-manager": "cert-manager-controller/v1.15.3 (linux/amd64) cert-manager/2bd8ab3",
        "argocd-application-controller": "argocd-application-controller/v2.12.4",
        "kyverno-reports-controller": "kyverno/v1.12.5 (linux/amd64) kubernetes/$Format",
        "gatekeeper-audit": "gatekeeper/v3.17.0 (linux/amd64) 5d9b4b6/audit",
        "velero": "velero-server/v1.14.1 (linux/amd64) 8afe3cea",
        "ingress-nginx-controller": "nginx-ingress-controller/v1.11.2 (linux/amd64)",
        "falco": "falco/0.38.2",
        "gitlab-runner": "gitlab-runner/17.3.1 (linux/amd64)",
    }
    for ns in namespaces:
        for app in ns.apps:
            name = f"system:serviceaccount:{ns.name}:{app}"
            app_agent = operator_agents.get(app)
            if app_agent is None:
                flavour = int(rng.integers(3))
                app_agent = (
                    f"{app}/v{int(rng.integers(1, 4))}.{int(rng.integers(0, 20))}.0 "
                    "(linux/amd64) kubernetes/$Format",
                    "fabric8-kubernetes-client/6.10.0",
                    "Go-http-client/2.0",
                )[flavour]
            ip = f"10.42.{int(rng.integers(0, 64))}.{int(rng.integers(2, 254))}"
            out[name] = K8sIdentity(
                name,
                (
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{ns.name}",
                    "system:authenticated",
                ),
                ip,
                app_agent,
            )
    for team in teams:
        name = f"system:serviceaccount:ci:{team.name}-deployer"
        out[name] = K8sIdentity(
            name,
            ("system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"),
            f"10.42.{int(rng.integers(64, 72))}.{int(rng.integers(2, 254))}",
            profile.deployer_kubectl,
        )
    return out, tuple(nodes)


def _aws_principals(
    rng: np.random.Generator,
    humans: list[Human],
    teams: list[Team],
    accounts: dict[str, str],
    nodes: tuple[str, ...],
    profile: GeneratorProfile,
) -> dict[str, AwsPrincipal]:
    """Every AWS caller. Workload, add-on and pipeline roles name their sessions as the
    profile's ``machine_sessions`` says; vendor integrations and nodes keep theirs (a vendor
    fixes its session name, a node's is its instance)."""
    prod = accounts["prod"]
    style = profile.machine_sessions
    workload_agents = profile.workload_agents
    out: dict[str, AwsPrincipal] = {}
    for h in humans:
        team = teams[h.team]
        site = SITES[team.site]
        pset = PERMISSION_SETS[team.kind]
        role = f"AWSReservedSSO_{pset}_{stable_token(pset + prod, 16, 'lower')}"
        out[h.username] = AwsPrincipal(
            key=h.username,
            kind="sso",
            account=prod,
            region=site.region,
            ips=(h.office_ip, h.vpn_ip),
            agent=h.cli_agent,
            name=role,
            session=h.username,
            permission_set=pset,
        )
        if h.iam_user:
            out[f"iam:{h.iam_user}"] = AwsPrincipal(
                key=f"iam:{h.iam_user}",
                kind="iam_user",
                account=prod,
                region=site.region,
                ips=(h.office_ip, h.vpn_ip),
                agent=h.cli_agent,
                name=h.iam_user,
            )
    for team in teams:
        region = SITES[team.site].region
        for app in team.apps[:2]:
            out[f"app:{app}"] = AwsPrincipal(
                key=f"app:{app}",
                kind="role",
                account=prod,
                region=region,
                ips=(f"10.0.{int(rng.integers(32, 64))}.{int(rng.integers(2, 254))}",),
                agent=workload_agents[int(rng.integers(len(workload_agents)))],
                name=f"{team.name}-{app}-irsa",
                session=app,
                session_style=style,
            )
        runner_ips = tuple(
            f"{int(rng.choice([4, 20, 52]))}.{int(rng.integers(1, 250))}."
            f"{int(rng.integers(1, 250))}.{int(rng.integers(1, 250))}"
            for _ in range(4)
        )
        out[f"deploy:{team.name}"] = AwsPrincipal(
            key=f"deploy:{team.name}",
            kind="role",
            account=prod,
            region=region,
            ips=runner_ips,
            agent=profile.deploy_agent,
            name=f"gha-deploy-{team.name}",
            session="GitHubActions",
            session_style=style,
        )
    for node in nodes:
        instance = "i-0" + stable_token(node, 16, "lower")
        out[f"node:{node}"] = AwsPrincipal(
            key=f"node:{node}",
            kind="role",
            account=prod,
            region="us-east-1",
            ips=(node.removeprefix("ip-").removesuffix(".ec2.internal").replace("-", "."),),
            agent=f"{SDK_GO} api/ec2#1.171.0",
            name=f"{CLUSTER}-node-role",
            session=instance,
        )
    for key, name, session, ip, agent in (
        (
            "role:cluster-autoscaler",
            "cluster-autoscaler-irsa",
            "cluster-autoscaler",
            "10.0.33.17",
            f"{SDK_GO} api/autoscaling#1.43.3",
        ),
        (
            "role:external-dns",
            "external-dns-irsa",
            "external-dns",
            "10.0.35.90",
            f"{SDK_GO} api/route53#1.42.3",
        ),
        (
            "role:aws-load-balancer-controller",
            "aws-load-balancer-controller-irsa",
            "aws-load-balancer-controller",
            "10.0.34.41",
            f"{SDK_GO} api/elasticloadbalancingv2#1.34.1",
        ),
        (
            "role:datadog",
            "DatadogIntegrationRole",
            "DatadogAWSIntegration",
            "3.233.147.213",
            "aws-sdk-go/1.54.19 (go1.22.5; linux; amd64)",
        ),
        (
            "role:config",
            "AWSServiceRoleForConfig",
            "AWSConfig-Describe",
            "config.amazonaws.com",
            "config.amazonaws.com",
        ),
    ):
        vendor = key in ("role:datadog", "role:config")  # vendors fix their session names
        out[key] = AwsPrincipal(
            key,
            "role",
            prod,
            "us-east-1",
            (ip,),
            agent,
            name,
            session,
            session_style="stable" if vendor else style,
        )
    for key, name, ip, agent in (
        (
            "iam:terraform-ci",
            "terraform-ci",
            "198.51.100.77",
            profile.iac_agent,
        ),
        (
            "iam:backup-agent",
            "backup-agent",
            "10.0.8.25",
            "aws-sdk-java/1.12.767 Linux/5.10.223 OpenJDK_64-Bit_Server_VM/17.0.12+7-LTS "
            "java/17.0.12",
        ),
        (
            "iam:s3-sync-legacy",
            "s3-sync-legacy",
            "203.0.113.120",
            "aws-cli/1.18.69 Python/2.7.18 Linux/4.14.336-257.562.amzn2.x86_64 botocore/1.17.46",
        ),
    ):
        out[key] = AwsPrincipal(key, "iam_user", prod, "us-east-1", (ip,), agent, name)
    for service in (
        "eks.amazonaws.com",
        "ec2.amazonaws.com",
        "autoscaling.amazonaws.com",
        "lambda.amazonaws.com",
        "cloudtrail.amazonaws.com",
    ):
        out[f"service:{service}"] = AwsPrincipal(
            f"service:{service}", "service", prod, "us-east-1", (service,), service, service
        )
    out["root"] = AwsPrincipal(
        "root", "root", prod, "us-east-1", ("198.51.100.40",), profile.browser_agents[0], "root"
    )
    return out


def build_org(rng: np.random.Generator, profile: GeneratorProfile = DEFAULT) -> Org:
    """The organisation for one seed, shaped by ``profile`` (by default three hundred people
    in twelve teams, plus one new hire)."""
    teams, namespaces = _namespaces(profile)
    humans, k8s_w, ns_w, aws_ops, aws_w = _humans(rng, teams, namespaces, profile)
    accounts = {
        env: str(int(rng.integers(10**11, 10**12))) for env in ("prod", "staging", "shared")
    }
    k8s, nodes = _k8s_identities(rng, humans, teams, namespaces, profile)
    aws = _aws_principals(rng, humans, teams, accounts, nodes, profile)
    buckets = {t.name: f"corp-{t.name}-{accounts['prod'][-4:]}-data" for t in teams}
    unknown = [op for op in aws_ops if op not in AWS_OPS]
    if unknown:  # the tables are code: a typo is a bug, caught on first use
        raise KeyError(f"unknown AWS operations {unknown}")
    return Org(
        teams=tuple(teams),
        namespaces=tuple(namespaces),
        humans=tuple(humans),
        accounts=accounts,
        k8s=k8s,
        aws=aws,
        human_k8s_weights=k8s_w,
        human_ns_weights=ns_w,
        human_aws_ops=tuple(aws_ops),
        human_aws_weights=aws_w,
        nodes=nodes,
        buckets=buckets,
        profile=profile,
    )
