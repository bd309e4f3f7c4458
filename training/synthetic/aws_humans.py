"""People in AWS: console and CLI sessions through single sign-on, read-heavy.

Everyone reaches AWS through IAM Identity Center (an ``AssumedRole`` of their
team's permission set, session named after them); a few long-standing platform,
data and security engineers still have IAM users, which they use for part of
their CLI work and for console sign-ins, always with MFA. A console session
starts with a ``ConsoleLogin``. Calls follow each person's own mix.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from training.synthetic.activity import Sessions, expand
from training.synthetic.aws_params import Target, params
from training.synthetic.clock import US
from training.synthetic.formats.cloudtrail import AwsCalls
from training.synthetic.org import Org
from training.synthetic.randomness import row_choice

MEAN_CALLS_PER_SESSION = 6.0
CONSOLE_SHARE = 0.35
SIGN_IN_LEAD = 20 * US  # a console sign-in comes shortly before the first call


def _error(op: str, roll: float) -> str | None:
    """A realistic failure for a small share of calls.

    >>> _error("ec2:DescribeInstances", 0.01), _error("s3:GetObject", 0.02), _error("x:Y", 0.5)
    ('Client.UnauthorizedOperation', 'NoSuchKey', None)
    """
    if roll < 0.015:
        return "Client.UnauthorizedOperation" if op.startswith("ec2:") else "AccessDenied"
    if roll < 0.025 and op == "s3:GetObject":
        return "NoSuchKey"
    if roll > 0.997:
        return "ThrottlingException"
    return None


def human_calls(rng: np.random.Generator, org: Org, sessions: Sessions) -> AwsCalls:
    """Every AWS call of the given sessions, console sign-ins included."""
    console = rng.random(len(sessions)) < CONSOLE_SHARE
    via_iam = rng.random(len(sessions)) < np.where(console, 0.8, 0.5)
    index, times = expand(rng, sessions.start, MEAN_CALLS_PER_SESSION, 30.0)
    ops = row_choice(rng, org.human_aws_weights, sessions.human[index]).tolist()
    n = len(times)
    rolls = rng.random(n).tolist()
    ks = rng.integers(0, 10**6, n).tolist()
    first = np.ones(n, dtype=bool)
    first[1:] = index[1:] != index[:-1]
    rows: list[dict[str, Any]] = []
    for i, (s, t) in enumerate(zip(index.tolist(), times.tolist(), strict=True)):
        person = org.humans[int(sessions.human[s])]
        team = org.teams[person.team]
        is_console = bool(console[s])
        principal = (
            org.aws[f"iam:{person.iam_user}"] if person.iam_user and via_iam[s] else org.sso(person)
        )
        common = {
            "principal": principal.key,
            "ip": person.vpn_ip if sessions.vpn[s] else person.office_ip,
            "agent": person.browser_agent if is_console else person.cli_agent,
            "session": int(sessions.start[s]) - SIGN_IN_LEAD,
            "console": is_console,
            "mfa": principal.kind == "iam_user" and is_console,
        }
        if first[i] and is_console:
            rows.append(
                {
                    **common,
                    "time": t - SIGN_IN_LEAD,
                    "op": "signin:ConsoleLogin",
                    "region": "us-east-1",
                }
            )
        op = org.human_aws_ops[ops[i]]
        app = team.apps[ks[i] % len(team.apps)]
        target = Target(principal.account, principal.region, team.name, app, org.buckets[team.name])
        rows.append(
            {
                **common,
                "time": t,
                "op": op,
                "region": principal.region,
                "error": _error(op, rolls[i]),
                "params": params(op, target, ks[i]),
            }
        )
    return AwsCalls.rows(rows)
