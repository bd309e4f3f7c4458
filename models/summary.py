"""One plain sentence per flagged event, so an analyst sees *why* without reading code."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from models.explain import Contribution


def _times(value: float) -> str:
    return f"{max(math.exp(value), 1.0):.0f}×"


# How to say "this feature is unusual" in words, given its observed value.
_PHRASES: dict[str, Callable[[float], str]] = {
    "is_weekend": lambda v: "on a weekend" if v else "on a weekday",
    "is_read": lambda v: "a read" if v else "not a read",
    "is_write": lambda v: "a write" if v else "not a write",
    "is_delete": lambda v: "a deletion" if v else "not a deletion",
    "is_privilege_change": lambda v: "a privilege change" if v else "no privilege change",
    "is_auth": lambda v: "an authentication" if v else "not an authentication",
    "is_logging_change": lambda v: "a change to audit logging" if v else "no logging change",
    "touches_secrets": lambda v: "touching secrets or credentials" if v else "no secrets",
    "touches_rbac_or_iam": lambda v: "touching RBAC/IAM" if v else "no RBAC/IAM",
    "is_interactive": lambda v: "interactive access to a workload" if v else "not interactive",
    "is_denied": lambda v: "denied" if v else "allowed",
    "is_error": lambda v: "failed" if v else "succeeded",
    "is_policy_violation": lambda v: "a policy violation" if v else "no policy violation",
    "is_service_account": lambda v: "by a service account" if v else "by a human",
    "is_cluster_scoped": lambda v: "cluster-wide" if v else "namespaced",
    "first_action_resource": lambda v: "first time this actor did this" if v else "a repeat",
    "first_namespace": lambda v: "first time in this namespace/account" if v else "a known place",
    "first_source_ip": lambda v: "from a source IP new for this actor" if v else "a known IP",
    "first_user_agent": lambda v: "with a user agent new for this actor" if v else "a known agent",
    "actor_history_log": lambda v: f"an actor with {math.exp(v) - 1:.0f} earlier events",
    "combo_rarity_actor": lambda v: "an action rare for this actor",
    "combo_rarity_peer": lambda v: "an action rare in this namespace/account",
    "hour_rarity_actor": lambda v: "at an hour unusual for this actor",
    "source_ip_rarity_actor": lambda v: "from a source IP this actor rarely uses",
    "user_agent_rarity_actor": lambda v: "with a user agent this actor rarely uses",
    "namespace_rarity_actor": lambda v: "in a namespace/account this actor rarely touches",
    "source_ip_age_log": lambda v: f"from a source IP first used {math.expm1(v):.1f} h ago",
    "user_agent_age_log": lambda v: f"with a user agent first used {math.expm1(v):.1f} h ago",
    "deletes_1h": lambda v: f"{v:.0f} deletions by this actor in the previous hour",
    "is_login_without_mfa": lambda v: "a sign-in without MFA" if v else "a sign-in with MFA",
    "rate_1h_vs_baseline": lambda v: f"{_times(v)} the actor's usual hourly rate",
    "new_combos_1h": lambda v: f"{v:.0f} new action/resource pairs in the last hour",
    "new_namespaces_1h": lambda v: f"{v:.0f} new namespaces in the last hour",
    "denials_10m": lambda v: f"{v:.0f} denials in the previous 10 minutes",
    "denial_burst_then_allow": lambda v: f"allowed right after {v:.0f} denials",
    "namespace_fail_rate_vs_baseline": lambda v: (
        f"policy failures here at {_times(v)} the usual rate"
    ),
}


def _phrase(item: Contribution) -> str:
    phrase = _PHRASES.get(item["feature"])
    if phrase is None:
        return f"{item['feature']} = {item['value']:g} (typical {item['typical']:g})"
    return phrase(item["value"])


def summarize(
    actor: str | None,
    action: str | None,
    resource: str | None,
    namespace: str | None,
    contributions: Sequence[Contribution],
) -> str:
    """The analyst's sentence: who did what where, then the top reasons in words.

    >>> print(summarize("alice", "create", "clusterrolebindings", None, [
    ...     {"feature": "first_action_resource", "value": 1.0, "typical": 0.0, "contribution": 0.5},
    ...     {"feature": "rate_1h_vs_baseline", "value": 3.4, "typical": 0.0, "contribution": 0.3}]))
    alice create clusterrolebindings (cluster-wide): first time this actor did this;
    30× the actor's usual hourly rate.
    """
    where = f" in {namespace}" if namespace else " (cluster-wide)"
    what = f"{actor or 'unknown actor'} {action or '?'} {resource or '?'}{where}"
    if not contributions:
        return f"{what}: unusual combination of otherwise typical features."
    return f"{what}: " + "; ".join(_phrase(c) for c in contributions) + "."
