"""Generator profiles: the same generator, shifted to organisations it was not tuned on.

A detector developed against one synthetic organisation learns that
organisation's accidents: its usernames look like ``first.last@corp.example``,
its namespaces end in ``-prod``, its workloads' AWS sessions are named after
the application, its people start at nine. A :class:`GeneratorProfile` moves
those choices, so a benchmark can train and test on an environment the models
were not developed against and measure how detection holds up. The volume
(``events_per_day``), the attack scenarios and the benign episodes stay
the same. Scenarios take their actors and targets from the organisation, so
they follow the new names.

Profiles (:data:`PROFILES`):

* ``default``: today's organisation, byte for byte (300 people in 12 teams on
  six sites, ``first.last@corp.example``, ``<team>-prod``, stable machine
  session names, 9:00 starts).
* ``small-startup``: 28 people in 5 teams in one Berlin office, first-name
  usernames at ``tinyco.example``, bare ``<team>`` production namespaces,
  late starts (10:30, 8 h), Lens/k9s and Terraform/Pulumi everywhere, SDK-named
  machine sessions (``botocore-session-<epoch>``), 4 nodes, quick lease renewals.
* ``enterprise``: 900 people in 20 teams, ``flast@megacorp.example``,
  ``prd-<team>`` namespaces, early long days (7:30, 9 h), Windows kubectl and
  AWS CLI v1/v2, Java/.NET/Go-v1 workloads, instance-id machine sessions,
  40 nodes, slower status reconciles.
* ``follow-the-sun``: 320 people whose teams sit on six sites spread round the
  clock, employee-id usernames (``u48213``), ``<team>-prd`` namespaces, newer
  kubectl and SDK releases, SDK-named machine sessions rotating every 15
  minutes, fast lease renewals.

The shifted profiles also give the new hire a few sure sessions on the first
test day (``new_hire_sessions``): in a large organisation at a small volume
one person's share of the events is otherwise too thin for that episode to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from training.synthetic.clients import (
    AWS_CLI_AGENTS,
    BROWSER_AGENTS,
    DEPLOY_AGENT,
    DEPLOYER_KUBECTL,
    KUBECTL_AGENTS,
    KUBECTL_WEIGHTS,
    TERRAFORM_AGENT,
    WORKLOAD_AGENTS,
)

UsernameStyle = Literal["first.last", "flast", "first", "employee-id"]
SessionStyle = Literal["stable", "sdk", "instance"]
ENVS = ("prod", "staging", "dev")


@dataclass(frozen=True)
class GeneratorProfile:
    """The shape of one synthetic organisation; every default is today's generator.

    Organisation: ``people`` (plus one new hire), ``teams`` (names from
    :data:`training.synthetic.org.TEAM_SPECS` or ``EXTRA_TEAM_SPECS``, in order;
    empty: the twelve standard teams), ``team_sites`` (sites handed to the teams
    in turn; empty: each team's own), ``min_team_size``, ``nodes``.
    Naming: ``username_style`` and ``user_domain`` (``None``: a bare id),
    ``namespace_formats`` (production, staging, dev; ``{team}`` is replaced),
    ``machine_sessions`` (``stable``: a workload role's session is named after
    its application; ``sdk``: named the way its SDK names an unnamed session,
    with the creation time; ``instance``: each session on a fresh instance,
    named by its id) and ``machine_session_minutes`` (how often machine
    credentials renew). Hours: ``work_start`` (mean local start) and
    ``day_hours``. Tools: people's kubectl/CLI/browser agents (``kubectl_weights``
    share of people per kubectl agent, summing to 1), workloads' SDKs, the CI
    deployer's kubectl, the image-push job's CLI, the infrastructure-as-code
    pipeline's agent. Cadence: ``k8s_cadence`` multiplies the rate of machine
    tasks on a resource (at constant total volume: faster leases leave fewer
    other calls), ``sync_every_min`` and ``backup_hour`` time the legacy sync
    and the nightly backup. ``new_hire_sessions``: onboarding sessions the new
    hire is sure to have on the first test day, so that episode shows even where
    a large organisation leaves one person few events (0: left to chance).
    """

    name: str
    description: str
    people: int = 300
    teams: tuple[str, ...] = ()
    team_sites: tuple[str, ...] = ()
    min_team_size: int = 1
    nodes: int = 12
    username_style: UsernameStyle = "first.last"
    user_domain: str | None = "corp.example"
    namespace_formats: tuple[str, str, str] = ("{team}-prod", "{team}-staging", "{team}-dev")
    machine_sessions: SessionStyle = "stable"
    machine_session_minutes: int = 60
    work_start: float = 9.0
    day_hours: float = 8.5
    kubectl_agents: tuple[str, ...] = KUBECTL_AGENTS
    kubectl_weights: tuple[float, ...] = KUBECTL_WEIGHTS
    aws_cli_agents: tuple[str, ...] = AWS_CLI_AGENTS
    browser_agents: tuple[str, ...] = BROWSER_AGENTS
    workload_agents: tuple[str, ...] = WORKLOAD_AGENTS
    deployer_kubectl: str = DEPLOYER_KUBECTL
    deploy_agent: str = DEPLOY_AGENT
    iac_agent: str = TERRAFORM_AGENT
    k8s_cadence: tuple[tuple[str, float], ...] = ()
    sync_every_min: int = 60
    backup_hour: float = 2.0
    new_hire_sessions: int = 0

    def __post_init__(self) -> None:
        """Reject a profile the generator cannot honour, before any drawing starts."""
        if len(self.kubectl_agents) != len(self.kubectl_weights) or not self.kubectl_agents:
            raise ValueError(f"{self.name}: one kubectl weight per kubectl agent")
        if abs(sum(self.kubectl_weights) - 1.0) > 1e-9:
            raise ValueError(f"{self.name}: kubectl_weights must sum to 1")
        if not (self.aws_cli_agents and self.browser_agents and self.workload_agents):
            raise ValueError(f"{self.name}: every tool list needs at least one agent")
        if any("{team}" not in f for f in self.namespace_formats):
            raise ValueError(f"{self.name}: every namespace format needs {{team}}")
        if len(set(self.namespace_formats)) != len(ENVS):
            raise ValueError(f"{self.name}: the three environments need distinct namespaces")
        if not 1 <= self.machine_session_minutes <= 24 * 60:
            raise ValueError(f"{self.name}: machine_session_minutes must be 1..1440")
        if not 1 <= self.sync_every_min <= 24 * 60:
            raise ValueError(f"{self.name}: sync_every_min must be 1..1440")
        if (
            self.min_team_size < 1
            or self.nodes < 1
            or self.day_hours <= 2
            or self.new_hire_sessions < 0
        ):
            raise ValueError(f"{self.name}: teams, nodes and working days must not be empty")

    def namespace(self, team: str, env: str) -> str:
        """The namespace of ``team`` for ``env`` (``prod``, ``staging`` or ``dev``).

        >>> DEFAULT.namespace("web", "dev"), PROFILES["enterprise"].namespace("web", "prod")
        ('web-dev', 'prd-web')
        """
        return self.namespace_formats[ENVS.index(env)].format(team=team)

    def username(self, local: str) -> str:
        """A person's login from the local part of their name.

        >>> DEFAULT.username("ana.silva"), PROFILES["follow-the-sun"].username("u48213")
        ('ana.silva@corp.example', 'u48213')
        """
        return f"{local}@{self.user_domain}" if self.user_domain else local


DEFAULT = GeneratorProfile("default", "today's organisation, byte for byte")

_MAC_CHROME_131 = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
_MAC_SAFARI_18 = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.2 Safari/605.1.15"
)
_SDK_GO_NEW = "aws-sdk-go-v2/1.32.7 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64"

SMALL_STARTUP = GeneratorProfile(
    "small-startup",
    "28 people, 5 teams, one Berlin office, first-name users, bare <team> prod namespaces, "
    "10:30 starts, Lens/k9s + Terraform/Pulumi, SDK-named machine sessions, 4 nodes",
    people=28,
    teams=("payments", "checkout", "analytics", "platform", "security"),
    team_sites=("ber",),
    min_team_size=4,
    nodes=4,
    username_style="first",
    user_domain="tinyco.example",
    namespace_formats=("{team}", "{team}-staging", "{team}-dev"),
    machine_sessions="sdk",
    work_start=10.5,
    day_hours=8.0,
    kubectl_agents=(
        "Lens/2024.11.261604",
        "k9s/v0.32.7 (darwin/arm64) kubernetes/$Format",
        "kubectl/v1.31.4 (darwin/arm64) kubernetes/a78aa47",
    ),
    kubectl_weights=(0.5, 0.3, 0.2),
    aws_cli_agents=(
        "APN/1.0 HashiCorp/1.0 Terraform/1.10.3 (+https://www.terraform.io) "
        "terraform-provider-aws/5.82.2 (+https://registry.terraform.io/providers/hashicorp/aws) "
        "aws-sdk-go-v2/1.32.7 ua/2.1 os/macos lang/go#1.23.4 md/GOOS#darwin md/GOARCH#arm64",
        "APN/1.0 Pulumi/1.0 pulumi-resource-aws/6.66.0 (+https://www.pulumi.com) "
        "aws-sdk-go-v2/1.32.7 ua/2.1 os/macos lang/go#1.23.4 md/GOOS#darwin md/GOARCH#arm64",
        "aws-cli/2.22.20 Python/3.12.6 Darwin/24.2.0 exe/arm64 prompt/off",
    ),
    browser_agents=(_MAC_CHROME_131, _MAC_SAFARI_18),
    workload_agents=(
        "aws-sdk-js/3.712.0 ua/2.1 os/linux#5.10.228 lang/js md/nodejs#20.18.1 api/s3#3.712.0",
        "Boto3/1.35.90 md/Botocore#1.35.90 ua/2.0 os/linux#5.10.228 md/arch#x86_64 "
        "lang/python#3.12.8",
    ),
    deployer_kubectl="kubectl/v1.31.4 (linux/amd64) kubernetes/a78aa47",
    deploy_agent="aws-cli/2.22.20 Python/3.12.6 Linux/6.8.0-1017-azure exe/x86_64.ubuntu.24 "
    "prompt/off command/ecr.get-login-password",
    iac_agent="APN/1.0 Pulumi/1.0 pulumi-resource-aws/6.66.0 (+https://www.pulumi.com) "
    f"{_SDK_GO_NEW}",
    k8s_cadence=(("leases", 2.0),),
    sync_every_min=30,
    backup_hour=3.0,
    new_hire_sessions=2,
)

ENTERPRISE = GeneratorProfile(
    "enterprise",
    "900 people, 20 teams, flast@megacorp.example, prd-<team> namespaces, 7:30 starts of 9 h, "
    "Windows kubectl + AWS CLI v1/v2, Java/.NET/Go-v1 workloads, instance-id machine sessions, "
    "40 nodes, slower status reconciles",
    people=900,
    teams=(
        "payments",
        "checkout",
        "billing",
        "catalog",
        "search",
        "logistics",
        "identity",
        "messaging",
        "support",
        "partners",
        "ads",
        "growth",
        "analytics",
        "ml",
        "fraud",
        "warehouse",
        "mobile",
        "web",
        "platform",
        "security",
    ),
    nodes=40,
    username_style="flast",
    user_domain="megacorp.example",
    namespace_formats=("prd-{team}", "stg-{team}", "dev-{team}"),
    machine_sessions="instance",
    work_start=7.5,
    day_hours=9.0,
    kubectl_agents=(
        "kubectl.exe/v1.28.15 (windows/amd64) kubernetes/841856d",
        "kubectl.exe/v1.29.12 (windows/amd64) kubernetes/9253c9b",
        "kubectl/v1.28.15 (linux/amd64) kubernetes/841856d",
        "Lens/2023.12.180747",
    ),
    kubectl_weights=(0.35, 0.25, 0.25, 0.15),
    aws_cli_agents=(
        "aws-cli/2.11.6 Python/3.11.2 Windows/10 exe/AMD64 prompt/off",
        "aws-cli/1.27.99 Python/3.9.13 Windows/10 botocore/1.29.99",
        "aws-cli/2.13.25 Python/3.11.5 Linux/5.15.0-1051-azure exe/x86_64.ubuntu.22 prompt/off",
    ),
    browser_agents=(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
    ),
    workload_agents=(
        "aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 "
        "OpenJDK_64-Bit_Server_VM/21.0.3+9-LTS Java/21.0.3 vendor/Amazon.com_Inc. io/sync "
        "http/Apache cfg/retry-mode/legacy",
        "aws-sdk-dotnet-coreclr/3.7.300.84 aws-sdk-dotnet-core/3.7.303.5 .NET_Core/8.0.6 "
        "OS/Linux_5.10.219 ClientAsync",
        "aws-sdk-go/1.55.5 (go1.22.5; linux; amd64)",
    ),
    deployer_kubectl="kubectl/v1.28.15 (linux/amd64) kubernetes/841856d",
    deploy_agent="aws-cli/1.27.99 Python/3.9.16 Linux/4.14.343-261.564.amzn2.x86_64 "
    "botocore/1.29.99",
    iac_agent="APN/1.0 HashiCorp/1.0 Terraform/1.5.7 (+https://www.terraform.io) "
    "terraform-provider-aws/4.67.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
    "aws-sdk-go/1.44.261 (go1.19.8; linux; amd64)",
    k8s_cadence=(
        ("replicasets/status", 0.5),
        ("deployments/status", 0.5),
        ("horizontalpodautoscalers/status", 0.5),
    ),
    sync_every_min=240,
    backup_hour=23.0,
    new_hire_sessions=4,
)

FOLLOW_THE_SUN = GeneratorProfile(
    "follow-the-sun",
    "320 people, teams on six sites round the clock, employee-id users (u48213), <team>-prd "
    "namespaces, newer kubectl/SDKs, SDK-named machine sessions renewed every 15 min",
    people=320,
    team_sites=("sfo", "sao", "lon", "dxb", "sgp", "syd"),
    nodes=18,
    username_style="employee-id",
    user_domain=None,
    namespace_formats=("{team}-prd", "{team}-stg", "{team}-dev"),
    machine_sessions="sdk",
    machine_session_minutes=15,
    work_start=8.5,
    day_hours=8.0,
    kubectl_agents=(
        "kubectl/v1.32.1 (linux/amd64) kubernetes/e9c9be4",
        "kubectl/v1.32.1 (darwin/arm64) kubernetes/e9c9be4",
        "kubectl/v1.33.0 (linux/arm64) kubernetes/60a317e",
        "k9s/v0.40.5 (linux/amd64) kubernetes/$Format",
    ),
    kubectl_weights=(0.35, 0.3, 0.2, 0.15),
    aws_cli_agents=(
        "aws-cli/2.24.10 Python/3.12.9 Linux/6.8.0-52-generic exe/x86_64.ubuntu.24 prompt/off",
        "aws-cli/2.24.10 Python/3.12.9 Darwin/24.3.0 exe/arm64 prompt/off",
        "Boto3/1.36.21 md/Botocore#1.36.21 ua/2.0 os/linux#6.8.0-52-generic md/arch#x86_64 "
        "lang/python#3.12.8",
    ),
    browser_agents=(
        "Mozilla/5.0 (X11; Linux x86_64; rv:135.0) Gecko/20100101 Firefox/135.0",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/133.0.0.0 Safari/537.36",
    ),
    workload_agents=(
        f"{_SDK_GO_NEW} api/s3#1.72.0",
        "Boto3/1.36.21 md/Botocore#1.36.21 ua/2.0 os/linux#6.1.124 md/arch#arm64 "
        "lang/python#3.13.1",
    ),
    deployer_kubectl="kubectl/v1.32.1 (linux/amd64) kubernetes/e9c9be4",
    k8s_cadence=(("leases", 3.0), ("endpointslices", 2.0)),
    sync_every_min=30,
    new_hire_sessions=4,
)

PROFILES: dict[str, GeneratorProfile] = {
    p.name: p for p in (DEFAULT, SMALL_STARTUP, ENTERPRISE, FOLLOW_THE_SUN)
}


def resolve(profile: GeneratorProfile | str) -> GeneratorProfile:
    """A profile by name (or itself); an unknown name lists the known ones.

    >>> resolve("enterprise").people
    900
    >>> resolve("nope")
    Traceback (most recent call last):
    ...
    ValueError: unknown generator profile 'nope' (known: default, enterprise, ...)
    """
    if isinstance(profile, GeneratorProfile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ValueError(f"unknown generator profile {profile!r} (known: {known})") from None
