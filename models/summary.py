"""One plain sentence per flagged event, so an analyst sees *why* without reading code."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from models.explain import Contribution


def _times(value: float) -> str:
    return f"{max(math.exp(value), 1.0):.0f}×"


def _odds(surprise: float) -> str:
    """A surprise (``-ln p``) in words: "seen in 1 of 300 events" reads better than 5.7 nats."""
    odds = math.exp(min(surprise, 700.0))
    if odds < 2:
        return "usual"
    if odds >= 1e6:
        return "unseen (rarer than 1 in a million)"
    return f"rare (about 1 in {odds:,.0f})"


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
    "is_data_read": lambda v: "a read of stored data" if v else "no data read",
    "is_list": lambda v: "a list/describe call" if v else "not a listing",
    "is_login_without_mfa": lambda v: "a sign-in without MFA" if v else "a sign-in with MFA",
    "action_surprise": lambda v: f"an action {_odds(v)} for this identity",
    "action_surprise_env": lambda v: f"an action {_odds(v)} in this environment",
    "namespace_action_surprise": lambda v: f"an action {_odds(v)} in this namespace/account",
    "first_in_environment": lambda v: (
        "first time anyone here did this" if v else "done here before"
    ),
    "hour_surprise": lambda v: f"at an hour {_odds(v)} for this identity",
    "source_ip_surprise": lambda v: f"from an address {_odds(v)} for this identity",
    "user_agent_surprise": lambda v: f"with a client {_odds(v)} for this identity",
    "namespace_surprise": lambda v: f"in a namespace/account {_odds(v)} for this identity",
    "target_surprise": lambda v: f"on a bucket/object {_odds(v)} for this identity",
    "source_ip_age": lambda v: "from an address new for this identity",
    "user_agent_age": lambda v: "with a client new for this identity",
    "rate_1h_vs_baseline": lambda v: f"{_times(v)} the identity's usual hourly rate",
    "reads_10m_vs_baseline": lambda v: f"data reads at {_times(v)} the usual rate (10 min)",
    "reads_1h_vs_baseline": lambda v: f"data reads at {_times(v)} the usual rate (1 h)",
    "lists_1h_vs_baseline": lambda v: f"list/describe calls at {_times(v)} the usual rate",
    "deletes_1h_vs_baseline": lambda v: f"deletions at {_times(v)} the usual rate",
    "bytes_out_1h_vs_baseline": lambda v: f"bytes read out at {_times(v)} the usual rate",
    "novel_actions_1h": lambda v: f"{math.expm1(v):.0f} actions rare for it in the last hour",
    "novel_namespaces_1h": lambda v: f"{math.expm1(v):.0f} namespaces rare for it in the last hour",
    "novel_targets_1h": lambda v: (
        f"{math.expm1(v):.0f} buckets/objects rare for it in the last hour"
    ),
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
    ...     {"feature": "first_in_environment", "value": 1.0, "typical": 0.0, "contribution": 0.5},
    ...     {"feature": "rate_1h_vs_baseline", "value": 3.4, "typical": 0.0, "contribution": 0.3}]))
    alice create clusterrolebindings (cluster-wide): first time anyone here did this;
    30× the identity's usual hourly rate.
    """
    where = f" in {namespace}" if namespace else " (cluster-wide)"
    what = f"{actor or 'unknown actor'} {action or '?'} {resource or '?'}{where}"
    if not contributions:
        return f"{what}: unusual combination of otherwise typical features."
    return f"{what}: " + "; ".join(_phrase(c) for c in contributions) + "."
