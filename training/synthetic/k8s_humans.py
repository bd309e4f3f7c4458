"""People at the Kubernetes API: kubectl sessions in their own namespaces.

Each session is one person looking at one namespace (their team's, mostly dev
and staging; SREs look after the infrastructure namespaces, the security team
reads everywhere). Each call draws from the person's own mix of actions;
a write the person may not do in production lands in their dev namespace
instead, which is how an engineering org with ``view`` everywhere and ``edit``
in non-production namespaces behaves. A few calls fail (forbidden, not found,
conflict), as they do.
"""

from __future__ import annotations

import numpy as np

from training.synthetic.activity import Sessions, expand
from training.synthetic.catalogue import HUMAN_K8S_ACTIONS
from training.synthetic.formats.k8s import K8sCalls, allowed_by
from training.synthetic.inventory import Inventory
from training.synthetic.org import Human, Org, Team
from training.synthetic.randomness import IntArray, row_choice

MEAN_CALLS_PER_SESSION = 4.0
VIEW = allowed_by("engineering-view", "view", 'Group "engineering"')
ADMIN = allowed_by("platform-admins", "cluster-admin", 'Group "team-platform"')
AUDITOR = allowed_by("security-auditors", "security-auditor", 'Group "team-security"')


def edit_reason(team: Team, namespace: str) -> str:
    """The RBAC reason of a write in a team's own namespace.

    >>> edit_reason(Team("web", "product", "sfo", ("a",)), "web-dev")
    'RBAC: allowed by RoleBinding "web-edit/web-dev" of ClusterRole "edit" to Group "team-web"'
    """
    return allowed_by(f"{team.name}-edit", "edit", f'Group "{team.group}"', namespace)


def rbac_reason(org: Org, human: Human, write: bool, resource: str, namespace: str | None) -> str:
    """Which binding allowed a person's call (``view`` does not cover secrets)."""
    team = org.teams[human.team]
    if team.kind == "platform":
        return ADMIN
    if not write and resource != "secrets":
        return AUDITOR if team.kind == "security" else VIEW
    return edit_reason(team, namespace or "")


def _placement(org: Org, humans: IntArray, ns: IntArray, actions: IntArray) -> IntArray:
    """Move writes out of namespaces where the person may not write (-1: cluster scope)."""
    envs = np.array([n.env for n in org.namespaces])
    where = np.array([a.where for a in HUMAN_K8S_ACTIONS])[actions]
    team = np.array([p.team for p in org.humans])[humans]
    platform = np.array([t.kind == "platform" for t in org.teams])[team]
    ns_team = np.array([n.team for n in org.namespaces])[ns]
    dev_of_team = np.array([org.namespace_index(org.ns(t, "dev")) for t in org.teams])[team]
    env = envs[ns]
    own = ns_team == team
    allowed_write = own & ((env == "staging") | (env == "dev") | (platform & (env == "infra")))
    out = ns.copy()
    move = ((where == "nonprod") & ~allowed_write) | ((where == "dev") & ~(own & (env == "dev")))
    out[move] = dev_of_team[move]
    out[where == "cluster"] = -1
    return out


def human_calls(
    rng: np.random.Generator, org: Org, inventory: Inventory, sessions: Sessions
) -> K8sCalls:
    """Every kubectl call of the given sessions."""
    session_ns = row_choice(rng, org.human_ns_weights, sessions.human)
    index, times = expand(rng, sessions.start, MEAN_CALLS_PER_SESSION, 25.0)
    humans = sessions.human[index]
    actions = row_choice(rng, org.human_k8s_weights, humans)
    ns = _placement(org, humans, session_ns[index], actions)
    n = len(times)
    codes = np.full(n, 200, dtype=np.int64)
    verbs = [HUMAN_K8S_ACTIONS[a].verb for a in actions.tolist()]
    resources = [HUMAN_K8S_ACTIONS[a].resource for a in actions.tolist()]
    is_write = np.array([a.is_write for a in HUMAN_K8S_ACTIONS])[actions]
    create = np.array([a.verb == "create" for a in HUMAN_K8S_ACTIONS])[actions]
    stream = np.array([a.resource.endswith(("/exec", "/portforward")) for a in HUMAN_K8S_ACTIONS])[
        actions
    ]
    codes[create] = 201
    codes[stream] = 101
    roll = rng.random(n)
    getter = np.array([a.verb == "get" for a in HUMAN_K8S_ACTIONS])[actions]
    codes[getter & (roll < 0.015)] = 404
    codes[is_write & ~create & (roll < 0.03)] = 409
    forbidden = roll > 0.992
    codes[forbidden] = 403

    names = _object_names(rng, org, inventory, actions, ns, times)
    namespaces = [None if i < 0 else org.namespaces[i].name for i in ns.tolist()]
    people = [org.humans[h] for h in humans.tolist()]
    vpn = sessions.vpn[index]
    reasons: list[str | None] = [
        None if f else rbac_reason(org, p, bool(w), r, nsn)
        for p, w, r, nsn, f in zip(
            people, is_write.tolist(), resources, namespaces, forbidden.tolist(), strict=True
        )
    ]
    return K8sCalls(
        time=times,
        actor=[p.username for p in people],
        verb=verbs,
        resource=resources,
        namespace=namespaces,
        name=names,
        code=codes,
        ip=[p.vpn_ip if v else p.office_ip for p, v in zip(people, vpn.tolist(), strict=True)],
        agent=[p.k8s_agent for p in people],
        reason=reasons,
        message=[None] * n,
        body=[None] * n,
    )


def _object_names(
    rng: np.random.Generator,
    org: Org,
    inventory: Inventory,
    actions: IntArray,
    ns: IntArray,
    times: IntArray,
) -> list[str | None]:
    """The object each call names (lists name none)."""
    n = len(actions)
    safe_ns = np.maximum(ns, 0)
    app = inventory.pick_apps(rng, safe_ns)
    pods = inventory.pod(safe_ns, app, times, rng.integers(0, 3, n))
    apps = inventory.app(safe_ns, app)
    nodes = rng.integers(0, len(org.nodes), n).tolist()
    suffix = rng.integers(10_000, 99_999, n).tolist()
    names: list[str | None] = []
    for i, a in enumerate(actions.tolist()):
        action = HUMAN_K8S_ACTIONS[a]
        resource = action.resource.split("/", 1)[0]
        if action.verb == "list":
            names.append(None)
        elif resource == "pods":
            names.append(pods[i])
        elif resource == "nodes":
            names.append(org.nodes[nodes[i]])
        elif resource == "configmaps":
            names.append(
                f"{apps[i]}-config" if action.verb != "create" else f"{apps[i]}-flags-{suffix[i]}"
            )
        elif resource == "secrets":
            names.append(f"{apps[i]}-db-credentials")
        elif resource == "jobs":
            names.append(f"{apps[i]}-manual-{suffix[i]}")
        elif resource == "policyreports":
            names.append(f"polr-ns-{org.namespaces[safe_ns[i]].name}")
        else:
            names.append(apps[i])
    return names
