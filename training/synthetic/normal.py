"""Normal behaviour of the whole organisation over the whole period, in every source.

:data:`SHARES` splits the requested daily volume between the kinds of
activity (the policy engines' decisions and runtime alerts follow from the
activity that causes them and are not budgeted separately). The new hire's
work is returned in its own batch, labelled ``benign:new_hire``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.synthetic import aws_humans, aws_machines, k8s_humans, k8s_machines, runtime, scans
from training.synthetic.activity import ABSENCE, WEEKEND_FACTOR, human_sessions, working_events
from training.synthetic.batch import Batch
from training.synthetic.clock import Period
from training.synthetic.emitter import Emitter
from training.synthetic.formats.cloudtrail import AwsCalls
from training.synthetic.formats.k8s import K8sCalls
from training.synthetic.inventory import Inventory
from training.synthetic.org import SITES, Org
from training.synthetic.randomness import stream

SHARES = {
    "k8s_machines": 0.38,
    "k8s_humans": 0.17,
    "aws_machines": 0.22,
    "aws_humans": 0.08,
    "deploys": 0.06,
    "terraform": 0.02,
    "kyverno": 0.01,
    "gatekeeper": 0.02,
}
LINES_PER_DEPLOY = 18.0
LINES_PER_PLAN = 31.0
DENY_SHARE = 0.04  # people's non-production writes refused by admission policy
NEW_HIRE = "benign:new_hire"
_WEEK = (5 + 2 * WEEKEND_FACTOR) / 7 * (1 - ABSENCE)


def _sessions_per_day(org: Org, human_lines: float) -> float:
    """Sessions per person on an average weekday so that people produce ``human_lines`` a day."""
    activity = np.array([h.activity for h in org.humans])
    aws = np.array([h.aws_share for h in org.humans])
    calls = (1 - aws) * k8s_humans.MEAN_CALLS_PER_SESSION + aws * (
        aws_humans.MEAN_CALLS_PER_SESSION + aws_humans.CONSOLE_SHARE
    )
    return human_lines / float((activity * calls).sum()) / _WEEK


def _split_k8s(calls: K8sCalls, actor: str) -> tuple[K8sCalls, K8sCalls]:
    mine = np.array([a == actor for a in calls.actor], dtype=bool)
    return calls.take(np.flatnonzero(~mine)), calls.take(np.flatnonzero(mine))


def _split_aws(calls: AwsCalls, principal: str) -> tuple[AwsCalls, AwsCalls]:
    mine = [p == principal for p in calls.principal]
    keep = [i for i, m in enumerate(mine) if not m]
    theirs = [i for i, m in enumerate(mine) if m]
    return _take_aws(calls, keep), _take_aws(calls, theirs)


def _take_aws(calls: AwsCalls, where: list[int]) -> AwsCalls:
    index = np.array(where, dtype=np.int64)
    return AwsCalls(
        time=calls.time[index],
        principal=[calls.principal[i] for i in where],
        op=[calls.op[i] for i in where],
        region=[calls.region[i] for i in where],
        ip=[calls.ip[i] for i in where],
        agent=[calls.agent[i] for i in where],
        error=[calls.error[i] for i in where],
        params=[calls.params[i] for i in where],
        session=calls.session[index],
        console=[calls.console[i] for i in where],
        mfa=[calls.mfa[i] for i in where],
        response=[calls.response[i] for i in where],
    )


def behaviour(
    seed: int,
    org: Org,
    inventory: Inventory,
    period: Period,
    emit: Emitter,
    per_day: float,
    findings: Sequence[scans.Finding] = (),
) -> list[Batch]:
    """Every normal line of the period (plus the scan lines that report ``findings``)."""
    budget = {part: share * per_day for part, share in SHARES.items()}
    sessions = human_sessions(
        stream(seed, "sessions"),
        org,
        period,
        _sessions_per_day(org, budget["k8s_humans"] + budget["aws_humans"]),
    )
    aws_share = np.array([h.aws_share for h in org.humans])[sessions.human]
    in_aws = stream(seed, "session-kind").random(len(sessions)) < aws_share

    offsets = np.array([SITES[t.site].offset_min for t in org.teams], dtype=np.int64)
    per_team = np.full(
        len(org.teams), budget["deploys"] * 7 / 5 / LINES_PER_DEPLOY / len(org.teams)
    )
    hours = (org.profile.work_start + 0.5, org.profile.work_start + org.profile.day_hours)
    deploy_team, deploy_times = working_events(
        stream(seed, "deploys"), period, offsets, per_team, hours
    )

    k8s_calls = K8sCalls.concat(
        [
            k8s_humans.human_calls(
                stream(seed, "k8s-humans"), org, inventory, sessions.take(~in_aws)
            ),
            k8s_machines.machine_calls(
                stream(seed, "k8s-machines"), org, inventory, period, budget["k8s_machines"]
            ),
            k8s_machines.deploy_calls(stream(seed, "k8s-deploys"), org, deploy_team, deploy_times),
        ]
    )
    joiner = next(h for h in org.humans if h.joins)
    usual, new = _split_k8s(k8s_calls, joiner.username)
    batches = emit.k8s(usual, None, DENY_SHARE) + emit.k8s(new, NEW_HIRE, DENY_SHARE)

    platform = next(i for i, t in enumerate(org.teams) if t.kind == "platform")
    plans = budget["terraform"] * 7 / 5 / LINES_PER_PLAN
    _, plan_times = working_events(
        stream(seed, "plans"), period, offsets[[platform]], np.array([plans]), hours
    )
    aws_calls = AwsCalls.concat(
        [
            aws_humans.human_calls(stream(seed, "aws-humans"), org, sessions.take(in_aws)),
            aws_machines.machine_calls(
                stream(seed, "aws-machines"), org, period, budget["aws_machines"]
            ),
            aws_machines.terraform_calls(stream(seed, "terraform"), org, plan_times),
            aws_machines.image_push_calls(
                stream(seed, "image-pushes"), org, deploy_team, deploy_times
            ),
        ]
    )
    usual_aws, new_aws = _split_aws(aws_calls, joiner.username)
    batches += emit.aws(usual_aws) + emit.aws(new_aws, NEW_HIRE)

    batches.append(runtime.build_alerts(stream(seed, "build-alerts"), org, deploy_times))
    batches.append(runtime.scanner_alerts(stream(seed, "scanner-alerts"), org, period))
    fails = scans.verdicts(stream(seed, "verdicts"), org, inventory)
    batches += scans.kyverno_reports(
        stream(seed, "kyverno"), org, inventory, fails, period, budget["kyverno"], findings
    )
    batches += scans.gatekeeper_audits(
        stream(seed, "gatekeeper"), org, inventory, fails, period, budget["gatekeeper"], findings
    )
    return [b for b in batches if len(b)]
