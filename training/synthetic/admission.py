"""OPA as the cluster's validating admission webhook: one decision per covered write.

The webhook sees creates and updates of workloads, services, config maps and
ingresses in the application namespaces (infrastructure namespaces are
excluded by its namespace selector), from whoever makes them: people, CI and
controllers alike. Most are allowed; a small share of people's writes in
dev and staging break a policy and are denied, in which case the API server
answers the audit-logged request with a 403 carrying the webhook's message, so
both sources tell the same story.
"""

from __future__ import annotations

import numpy as np

from training.synthetic.formats.k8s import K8sCalls
from training.synthetic.formats.opa import KINDS, OPERATIONS, Decisions
from training.synthetic.org import Org, stable_token

WEBHOOK = "validating-webhook.openpolicyagent.org"
DENIALS = (
    "container <app> uses the mutable image tag 'latest'",
    "container <app> has no memory limit",
    "image registry docker.io is not allowed, use registry.corp.example",
    "label app.kubernetes.io/owner is required",
)
DECISION_LEAD = 3_000  # µs: the webhook answers before the request completes


def denial_message(reason: str) -> str:
    """The message the API server returns for a webhook denial.

    >>> denial_message("no")
    'admission webhook "validating-webhook.openpolicyagent.org" denied the request: no'
    """
    return f'admission webhook "{WEBHOOK}" denied the request: {reason}'


def covered(org: Org, calls: K8sCalls) -> np.ndarray:
    """Which calls the webhook sees (a boolean mask)."""
    infra = {ns.name for ns in org.namespaces if ns.env == "infra"}
    return np.array(
        [
            v in OPERATIONS and v != "delete" and r in KINDS and ns is not None and ns not in infra
            for v, r, ns in zip(calls.verb, calls.resource, calls.namespace, strict=True)
        ],
        dtype=bool,
    )


def decide(
    rng: np.random.Generator, org: Org, calls: K8sCalls, deny_share: float = 0.0
) -> Decisions:
    """Decisions for the covered calls that passed RBAC (``reason`` set).

    ``deny_share`` of people's successful non-production writes are denied in
    place (code 403 and the webhook's message in ``calls``); a call that already
    carries a webhook message is a denial too.
    """
    where = np.flatnonzero(
        covered(org, calls) & np.array([r is not None for r in calls.reason], dtype=bool)
    )
    envs = {ns.name: ns.env for ns in org.namespaces}
    human = np.array([not calls.actor[i].startswith("system:") for i in where], dtype=bool)
    nonprod = np.array(
        [envs.get(calls.namespace[i] or "", "") in ("dev", "staging") for i in where], dtype=bool
    )
    ok = calls.code[where] < 400
    deny = human & nonprod & ok & (rng.random(len(where)) < deny_share)
    picks = rng.integers(0, len(DENIALS), len(where)).tolist()
    messages: list[str | None] = []
    for j, i in enumerate(where.tolist()):
        message = calls.message[i]
        if deny[j]:
            app = (calls.name[i] or "app").split("-")[0]
            reason = DENIALS[picks[j]].replace("<app>", app)
            calls.code[i] = 403
            calls.message[i] = denial_message(reason)
            messages.append(reason)
        elif message is not None and message.startswith(denial_message("")):
            messages.append(message.removeprefix(denial_message("")))
        else:
            messages.append(None)
    return Decisions(
        time=calls.time[where] - DECISION_LEAD,
        username=[calls.actor[i] for i in where],
        groups=[org.k8s[calls.actor[i]].groups for i in where],
        verb=[calls.verb[i] for i in where],
        resource=[calls.resource[i] for i in where],
        namespace=[calls.namespace[i] or "" for i in where],
        name=[calls.name[i] or "" for i in where],
        message=messages,
        body=[calls.body[i] for i in where],
    )


def instance_id(org: Org) -> str:
    """The OPA instance id label (stable for an organisation)."""
    return f"opa-{stable_token('opa/' + org.accounts['prod'], 10, 'lower')}"
