"""One plain sentence per flagged event, so an analyst sees *why* without reading code."""

from __future__ import annotations

from collections.abc import Sequence

from models.explain import Contribution

# How to say "this feature is unusual" in words; value-dependent phrases get the number.
_PHRASES: dict[str, str] = {
    "hour_of_day": "at {value:.0f}:00 UTC (usually around {typical:.0f}:00)",
    "is_weekend": "on a weekend",
    "is_read": "a read",
    "is_write": "a write",
    "is_delete": "a deletion",
    "touches_secrets": "touching secrets",
    "touches_rbac": "changing or reading RBAC objects",
    "is_interactive": "interactive access (exec/attach/port-forward) to a pod",
    "is_denied": "the request was denied",
    "is_service_account": "by a service account",
    "is_cluster_scoped": "on a cluster-scoped object",
}


def _phrase(item: Contribution) -> str:
    template = _PHRASES.get(item["feature"])
    if template is None:
        return f"{item['feature']} = {item['value']:g} (typical {item['typical']:g})"
    if item["value"] == 0.0 and "{value" not in template:
        return f"not {template}"
    return template.format(value=item["value"], typical=item["typical"])


def summarize(
    actor: str | None,
    action: str | None,
    resource: str | None,
    namespace: str | None,
    contributions: Sequence[Contribution],
) -> str:
    """E.g. ``alice create clusterrolebindings: unusual because changing RBAC objects; ...``.

    >>> summarize("alice", "create", "clusterrolebindings", None,
    ...           [{"feature": "touches_rbac", "value": 1.0, "typical": 0.0, "contribution": 0.7}])
    'alice create clusterrolebindings (cluster-wide): unusual because changing or reading RBAC...'
    """
    where = f" in {namespace}" if namespace else " (cluster-wide)"
    what = f"{actor or 'unknown actor'} {action or '?'} {resource or '?'}{where}"
    if not contributions:
        return f"{what}: unusual combination of otherwise typical features."
    reasons = "; ".join(_phrase(c) for c in contributions)
    return f"{what}: unusual because {reasons}."
