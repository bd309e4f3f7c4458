"""The clients people and machines use, as their user agents: the default tool mix.

Kept apart from :mod:`.org` so that a :class:`~training.synthetic.profile.GeneratorProfile`
can take these as its defaults (and swap them for another mix) without the
organisation module and the profile module importing each other.
"""

from __future__ import annotations

import hashlib

K8S_VERSION = "v1.31.2"
K8S_COMMIT = "5864a46"

KUBECTL_AGENTS = (
    "kubectl/v1.30.4 (darwin/arm64) kubernetes/a51b3b7",
    f"kubectl/{K8S_VERSION} (darwin/arm64) kubernetes/{K8S_COMMIT}",
    f"kubectl/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}",
    "kubectl/v1.29.8 (linux/amd64) kubernetes/7c48c2b",
    "k9s/v0.32.5 (darwin/arm64) kubernetes/$Format",
    "Lens/2024.9.300059",
)
KUBECTL_WEIGHTS = (0.2, 0.3, 0.2, 0.1, 0.12, 0.08)  # share of people using each of the above
AWS_CLI_AGENTS = (
    "aws-cli/2.15.30 Python/3.11.8 Darwin/23.3.0 exe/x86_64 prompt/off",
    "aws-cli/2.17.18 Python/3.11.9 Darwin/23.5.0 exe/arm64 prompt/off",
    "aws-cli/2.13.25 Python/3.11.5 Linux/6.5.0-35-generic exe/x86_64.ubuntu.22 prompt/off",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/macos#23.4.0 md/arch#arm64 lang/python#3.12.2",
)
BROWSER_AGENTS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36 Edg/122.0.2365.80",
)

SDK_GO = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64"
# Workload roles' SDKs, one drawn per application (the order fixes which one the draw picks).
WORKLOAD_AGENTS = (
    f"{SDK_GO} api/s3#1.58.2",
    "Boto3/1.34.84 md/Botocore#1.34.84 ua/2.0 os/linux#5.10.223 md/arch#x86_64 lang/python#3.12.4",
)
DEPLOYER_KUBECTL = f"kubectl/{K8S_VERSION} (linux/amd64) kubernetes/{K8S_COMMIT}"
DEPLOY_AGENT = (
    "aws-cli/2.17.20 Python/3.11.9 Linux/6.5.0-1025-azure exe/x86_64.ubuntu.22 "
    "prompt/off command/ecr.get-login-password"
)
TERRAFORM_AGENT = (
    "APN/1.0 HashiCorp/1.0 Terraform/1.9.5 (+https://www.terraform.io) "
    "terraform-provider-aws/5.64.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) "
    f"{SDK_GO}"
)


def _sub_units(key: str, session_us: int, modulus: int) -> int:
    """Stable digits below the microsecond (or second) for a session's name."""
    digest = hashlib.blake2b(f"{key}/{session_us}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % modulus


def session_name(style: str, key: str, agent: str, session_us: int) -> str:
    """The role session name a machine's client gives its session started at ``session_us``.

    Real CloudTrail shows such names: an SDK assuming a role without being told
    a name makes one from the clock, and instance roles are named by the
    instance, so ``role/session`` changes with every session. Derived, not
    drawn, so a session keeps its name across all of its calls.

    >>> session_name("sdk", "app:x", "Boto3/1.34.84 md/Botocore#1.34.84", 1_700_000_000_000_000)
    'botocore-session-1700000000'
    >>> session_name("sdk", "app:x", "aws-sdk-go-v2/1.30.3 os/linux", 1_700_000_000_000_000)[:21]
    'aws-go-sdk-1700000000'
    >>> name = session_name("instance", "app:x", "any", 1_700_000_000_000_000)
    >>> name.startswith("i-0"), len(name)
    (True, 19)
    """
    if style == "instance":
        digest = hashlib.blake2b(f"{key}/{session_us}".encode(), digest_size=8).hexdigest()
        return "i-0" + digest
    seconds, millis = session_us // 1_000_000, session_us // 1_000
    if agent.startswith(("Boto3", "Botocore", "aws-cli")):
        return f"botocore-session-{seconds}"
    if agent.startswith("aws-sdk-go"):  # v1 and v2: UnixNano
        return f"aws-go-sdk-{session_us * 1_000 + _sub_units(key, session_us, 1_000)}"
    if agent.startswith("aws-sdk-java"):
        return f"aws-sdk-java-{millis}"
    if agent.startswith("aws-sdk-js"):
        return f"aws-sdk-js-session-{millis}"
    if agent.startswith("aws-sdk-dotnet"):  # DateTime ticks: 100 ns since year 1
        return f"aws-dotnet-sdk-session-{session_us * 10 + 621_355_968_000_000_000}"
    return f"session-{seconds}"
