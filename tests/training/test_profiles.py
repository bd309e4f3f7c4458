"""Generator profiles: ``default`` is the old generator byte for byte, the others really shift.

The shifted profiles exist so a benchmark can test detection on environments
it was not developed against; these tests pin that each one still yields a
complete, honestly labelled environment, and that it differs from the default
where it claims to (logins, namespaces, machine session names, hours, tools,
cadence).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import orjson
import pytest

from features.files import read_events
from tests.training.test_synthetic import (
    ALL_SOURCES,
    BENIGN_KINDS,
    require_adapters,
    source_of,
)
from training.synthetic import PROFILES, SCENARIOS, GeneratorProfile, generate
from training.synthetic.org import build_org
from training.synthetic.profile import resolve
from training.synthetic.randomness import stream


class Size(TypedDict):
    seed: int
    days: int
    events_per_day: int


SHIFTED = tuple(name for name in PROFILES if name != "default")
PINNED: Size = {"seed": 11, "days": 4, "events_per_day": 600}
# sha256 of the files the generator wrote for PINNED *before* profiles existed
# (computed from the unmodified code). They pin the ``default`` profile to that
# generator byte for byte: any change to default output must be deliberate.
DEFAULT_SHA256 = {
    "train.jsonl": "10804b476b2cd050b74bc5209b509474052da1a909b0a83e826a583034d619c8",
    "test.jsonl": "7bce17c60ae4db4e6d622957e0611108df6c765200050b43870cb3f57c8d427c",
    "labels.csv": "2a0c473f91e54a53901005d3bf2284620c2aaf7da5898436a777e085f6dc78a2",
    "benign.csv": "fb0444cea8b513eabe38b921527ec307ac967470f2ddd962414cd8cd71732476",
}
# Eight days, so the training period holds working days (four days train on a weekend).
SMALL: Size = {"seed": 11, "days": 8, "events_per_day": 800}


@dataclass(frozen=True)
class Env:
    """One generated environment and the organisation it was generated from."""

    out: Path
    profile: GeneratorProfile

    @cached_property
    def docs(self) -> list[dict[str, Any]]:
        """Every line of both periods, parsed once per environment."""
        lines = (self.out / "train.jsonl").read_bytes().splitlines()
        lines += (self.out / "test.jsonl").read_bytes().splitlines()
        return [orjson.loads(line) for line in lines]

    def labels(self, name: str = "labels.csv") -> dict[str, str]:
        with (self.out / name).open() as f:
            return {row["event_id"]: row["scenario"] for row in csv.DictReader(f)}

    @cached_property
    def offsets(self) -> dict[str, int]:
        """Each person's UTC offset (minutes), from the organisation the seed builds."""
        org = build_org(stream(SMALL["seed"], "org"), self.profile)
        return {h.username: h.offset_min for h in org.humans}


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Env]:
    out = {}
    for name, profile in PROFILES.items():
        folder = tmp_path_factory.mktemp(name)
        generate(folder, profile=name, **SMALL)
        out[name] = Env(folder, profile)
    return out


def _k8s(env: Env) -> list[dict[str, Any]]:
    return [d for d in env.docs if source_of(d) == "k8s_audit" and d["stage"] == "ResponseComplete"]


def _humans_k8s(env: Env) -> list[dict[str, Any]]:
    people = env.offsets
    return [d for d in _k8s(env) if d["user"]["username"] in people]


def _human_logins(env: Env) -> set[str]:
    return {d["user"]["username"] for d in _humans_k8s(env)}


def _workload_sessions(env: Env) -> dict[str, set[str]]:
    """Session names per workload role (``*-irsa``), from CloudTrail ``userIdentity.arn``."""
    sessions: dict[str, set[str]] = defaultdict(set)
    for d in env.docs:
        identity = d.get("userIdentity", {}) if source_of(d) == "cloudtrail" else {}
        if identity.get("type") != "AssumedRole":
            continue
        _, role, session = identity["arn"].split("/", 2)
        if role.endswith("-irsa"):
            sessions[role].add(session)
    return sessions


def _hours(env: Env, local: bool) -> list[float]:
    """Hour of day of people's Kubernetes calls, in their own time zone or in UTC."""
    offsets = env.offsets
    out = []
    for d in _humans_k8s(env):
        seconds = int(np.datetime64(d["requestReceivedTimestamp"].rstrip("Z"), "s").astype(int))
        seconds += offsets[d["user"]["username"]] * 60 if local else 0
        out.append(seconds % 86_400 / 3600)
    return out


# --- default ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["default", PROFILES["default"], None])
def test_default_profile_is_the_generator_before_profiles_byte_for_byte(
    tmp_path: Path, profile: GeneratorProfile | str | None
) -> None:
    kwargs: dict[str, Any] = {} if profile is None else {"profile": profile}
    generate(tmp_path, **PINNED, **kwargs)
    for name, digest in DEFAULT_SHA256.items():
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == digest, name


# --- every shifted profile is a complete, labelled environment -------------------------------


@pytest.mark.parametrize("name", SHIFTED)
def test_shifted_profile_keeps_every_source_scenario_and_episode(
    envs: dict[str, Env], name: str
) -> None:
    require_adapters(*ALL_SOURCES)
    env = envs[name]
    for part in ("train.jsonl", "test.jsonl"):
        lines = (env.out / part).read_bytes().splitlines()
        assert {source_of(orjson.loads(line)) for line in lines} == set(ALL_SOURCES), part
    labels, benign = env.labels(), env.labels("benign.csv")
    assert labels
    assert set(labels.values()) == set(SCENARIOS)
    assert set(benign.values()) == {f"benign:{kind}" for kind in BENIGN_KINDS}
    ids = {}
    for part in ("train.jsonl", "test.jsonl"):
        result = read_events([env.out / part])
        assert not result.errors, result.errors[:3]
        ids[part] = {row["event_id"] for row in result.events}
    assert set(labels) <= ids["test.jsonl"]
    assert set(benign) <= ids["test.jsonl"]
    assert not (set(labels) | set(benign)) & ids["train.jsonl"]


def test_organisation_sizes_follow_the_profiles() -> None:
    sizes = {}
    for name, profile in PROFILES.items():
        org = build_org(stream(3, "org"), profile)
        sizes[name] = (len(org.humans), len(org.teams), len(org.nodes))
    assert sizes["default"] == (301, 12, 12)  # plus the new hire
    assert sizes["small-startup"] == (29, 5, 4)
    assert sizes["enterprise"] == (901, 20, 40)
    assert sizes["follow-the-sun"][0] == 321


# --- and really differs from the default ------------------------------------------------------


def test_shifted_profiles_name_people_differently(envs: dict[str, Env]) -> None:
    default = _human_logins(envs["default"])
    assert all(re.fullmatch(r"[a-z]+\.[a-z]+\d*@corp\.example", u) for u in default)
    patterns = {
        "small-startup": r"[a-z]+\d*@tinyco\.example",
        "enterprise": r"[a-z][a-z]+\d*@megacorp\.example",
        "follow-the-sun": r"u\d{5}",
    }
    for name, pattern in patterns.items():
        logins = _human_logins(envs[name])
        assert logins
        assert not logins & default, name
        assert all(re.fullmatch(pattern, u) for u in logins), (name, sorted(logins)[:5])


def test_shifted_profiles_name_namespaces_differently(envs: dict[str, Env]) -> None:
    def namespaces(name: str) -> set[str]:
        return {d["objectRef"].get("namespace") for d in _k8s(envs[name])} - {None}

    assert {"payments-prod", "payments-dev"} <= namespaces("default")
    assert {"payments", "payments-dev"} <= namespaces("small-startup")
    assert {"prd-payments", "dev-payments"} <= namespaces("enterprise")
    assert {"payments-prd", "payments-stg"} <= namespaces("follow-the-sun")
    for name in SHIFTED:
        assert not {n for n in namespaces(name) if n.endswith("-prod")}, name


def test_machine_sessions_are_named_per_session_where_the_profile_says_so(
    envs: dict[str, Env],
) -> None:
    default = _workload_sessions(envs["default"])
    assert default
    assert all(len(names) == 1 for names in default.values())  # the application's name
    sdk = r"botocore-session-\d{10}|aws-go-sdk-\d{19}"  # Python and Go clients' own names
    formats = {
        "small-startup": sdk + r"|aws-sdk-js-session-\d{13}",
        "enterprise": r"i-0[0-9a-f]{16}",
        "follow-the-sun": sdk,
    }
    for name, pattern in formats.items():
        sessions = _workload_sessions(envs[name])
        busy = [names for names in sessions.values() if len(names) > 1]
        assert len(busy) >= len(sessions) // 2, name  # a new actor string per session
        assert all(re.fullmatch(pattern, s) for names in sessions.values() for s in names), name
    assert sum(map(len, _workload_sessions(envs["follow-the-sun"]).values())) > sum(
        map(len, _workload_sessions(envs["small-startup"]).values())
    )  # 15-minute credentials renew four times as often as hourly ones


def test_working_hours_shift_with_the_profile(envs: dict[str, Env]) -> None:
    median = {name: float(np.median(_hours(env, local=True))) for name, env in envs.items()}
    assert median["small-startup"] > median["default"] + 1.0  # 10:30 starts
    assert median["enterprise"] < median["default"] - 1.0  # 7:30 starts

    def quietest_eight_utc_hours(name: str) -> float:
        counts = np.histogram(_hours(envs[name], local=False), bins=24, range=(0, 24))[0]
        return float(min(np.roll(counts, -k)[:8].sum() for k in range(24)) / counts.sum())

    # Sites round the clock leave no quiet stretch of the UTC day; one office leaves a long one.
    assert quietest_eight_utc_hours("follow-the-sun") > quietest_eight_utc_hours("default") + 0.04
    assert quietest_eight_utc_hours("small-startup") < 0.05


def test_tool_mix_differs(envs: dict[str, Env]) -> None:
    def agents(name: str) -> tuple[set[str], set[str]]:
        logins = envs[name].offsets
        k8s = {d["userAgent"] for d in _humans_k8s(envs[name])}
        aws = {
            d["userAgent"]
            for d in envs[name].docs
            if source_of(d) == "cloudtrail"
            and d["userIdentity"].get("arn", "").rsplit("/", 1)[-1] in logins
        }
        return k8s, aws

    default_k8s, default_aws = agents("default")
    assert default_k8s
    assert default_aws
    for name in SHIFTED:
        k8s, aws = agents(name)
        assert k8s
        assert aws
        assert not k8s & default_k8s, name
        assert not aws & default_aws, name
    startup_k8s, startup_aws = agents("small-startup")
    assert any(a.startswith("Lens/") for a in startup_k8s)
    assert any("Terraform/" in a for a in startup_aws)
    assert any("Pulumi/" in a for a in startup_aws)


def test_controller_cadence_shifts_the_machine_mix(envs: dict[str, Env]) -> None:
    def lease_share(name: str) -> float:
        machines = Counter(
            d["objectRef"].get("resource") == "leases"
            for d in _k8s(envs[name])
            if d["user"]["username"].startswith("system:")
        )
        return machines[True] / (machines[True] + machines[False])

    assert lease_share("follow-the-sun") > lease_share("default") + 0.1  # leases renew 3x faster


# --- names, validation and the command line ---------------------------------------------------


def test_profiles_are_named_described_and_resolved() -> None:
    assert len(SHIFTED) >= 3
    for name, profile in PROFILES.items():
        assert profile.name == name
        assert profile.description
        assert resolve(name) is profile
        assert resolve(profile) is profile
    with pytest.raises(ValueError, match="known: default, enterprise, follow-the-sun"):
        resolve("medium-corp")


def test_impossible_profiles_are_rejected_before_generating(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sum to 1"):
        GeneratorProfile("x", "x", kubectl_agents=("a",), kubectl_weights=(0.5,))
    with pytest.raises(ValueError, match="distinct"):
        GeneratorProfile("x", "x", namespace_formats=("{team}", "{team}", "{team}-dev"))
    no_data = GeneratorProfile("x", "x", teams=("payments", "checkout", "platform", "security"))
    with pytest.raises(ValueError, match="data team"):
        generate(tmp_path, profile=no_data, **PINNED)


def test_command_line_takes_a_profile(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main

    out = tmp_path / "startup"
    args = ["generate", "--out", str(out), "--days", "4", "--events-per-day", "300"]
    assert main([*args, "--profile", "small-startup"]) == 0
    assert "small-startup profile" in capsys.readouterr().out
    assert (out / "labels.csv").stat().st_size > 0
    with pytest.raises(SystemExit) as exited:
        main([*args, "--profile", "medium-corp"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'medium-corp'" in error
    assert all(name in error for name in PROFILES)
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    usage = capsys.readouterr().out
    assert all(f"{name} " in usage and p.description[:20] in usage for name, p in PROFILES.items())
