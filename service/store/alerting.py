"""Pure decisions taken when anomalies are stored: suppressed? which endpoints? which group?

Scoring never changes here: a suppressed anomaly keeps its score and is still
stored (``status`` ``suppressed``), it is only kept out of the alert outbox.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MATCH_FIELDS = ("source", "actor", "action", "resource", "namespace")
SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class SuppressionIndex:
    """Active suppression rules, indexed by the set of fields each one pins.

    A rule matches an anomaly when every field it gives equals the anomaly's
    value; rules are grouped by their field set so matching one anomaly costs one
    dictionary lookup per distinct field set, not one comparison per rule. When
    several rules match, the oldest (lowest id) wins.

    >>> index = SuppressionIndex([
    ...     {"id": 2, "actor": "ci-bot", "action": None, "source": None,
    ...      "resource": None, "namespace": None},
    ...     {"id": 1, "actor": "ci-bot", "action": "delete", "source": None,
    ...      "resource": None, "namespace": None},
    ... ])
    >>> index.match({"actor": "ci-bot", "action": "delete"})
    1
    >>> index.match({"actor": "ci-bot", "action": "get"})
    2
    >>> index.match({"actor": "alice", "action": "delete"}) is None
    True
    """

    def __init__(self, rules: Iterable[Mapping[str, Any]]) -> None:
        self._by_fields: dict[tuple[str, ...], dict[tuple[Any, ...], int]] = {}
        for rule in sorted(rules, key=lambda r: int(r["id"])):
            fields = tuple(f for f in MATCH_FIELDS if rule.get(f) is not None)
            if not fields:
                continue  # a rule pinning nothing would silence everything; never stored
            values = tuple(rule[f] for f in fields)
            self._by_fields.setdefault(fields, {}).setdefault(values, int(rule["id"]))

    def __bool__(self) -> bool:
        return bool(self._by_fields)

    def match(self, row: Mapping[str, Any]) -> int | None:
        """The id of the oldest matching rule, or None."""
        found: int | None = None
        for fields, table in self._by_fields.items():
            rule_id = table.get(tuple(row.get(f) for f in fields))
            if rule_id is not None and (found is None or rule_id < found):
                found = rule_id
        return found


def endpoint_accepts(endpoint: Mapping[str, Any], row: Mapping[str, Any]) -> bool:
    """Severity at or above the endpoint's minimum and every filter it sets equal.

    >>> hook = {"min_severity": "high", "source": None, "namespace": "prod", "actor": None}
    >>> endpoint_accepts(hook, {"severity": "critical", "namespace": "prod"})
    True
    >>> endpoint_accepts(hook, {"severity": "medium", "namespace": "prod"})
    False
    >>> endpoint_accepts(hook, {"severity": "critical", "namespace": "dev"})
    False
    """
    if SEVERITY_RANK.get(row["severity"], -1) < SEVERITY_RANK[endpoint["min_severity"]]:
        return False
    return all(
        endpoint[field] is None or endpoint[field] == row.get(field)
        for field in ("source", "namespace", "actor")
    )


def top_feature(explanation: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The feature that contributed most (explanations are stored top first).

    >>> top_feature([{"feature": "touches_rbac"}, {"feature": "hour_of_day"}])
    'touches_rbac'
    >>> top_feature([]) is None
    True
    """
    if not explanation:
        return None
    return str(explanation[0].get("feature"))


def group_key(actor: str | None, explanation: Sequence[Mapping[str, Any]] | None) -> str:
    """Repeats share a key: the same actor, unusual in the same way.

    >>> group_key("alice", [{"feature": "touches_rbac"}]) == group_key(
    ...     "alice", [{"feature": "touches_rbac"}, {"feature": "x"}])
    True
    >>> group_key("alice", [{"feature": "touches_rbac"}]) == group_key(
    ...     "bob", [{"feature": "touches_rbac"}])
    False
    """
    text = f"{actor or ''}\x1f{top_feature(explanation) or ''}"
    return hashlib.sha256(text.encode()).hexdigest()
