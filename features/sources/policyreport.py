"""PolicyReport / ClusterPolicyReport objects (Kyverno, kube-bench, Falco and other engines).

Accepted API groups: ``wgpolicyk8s.io`` (``v1alpha1``, ``v1alpha2``,
``v1beta1``), ``reports.x-k8s.io`` and ``openreports.io`` (kinds ``Report`` /
``ClusterReport``); lists of them (``kind: List``, ``PolicyReportList``) are
opened by :func:`features.decode.unwrap`.

A report holds many results: the adapter yields **one row per result**, and it
stays a pure function of the report (every result, every time). Reports are
snapshots, re-published whenever the engine re-scans, so the same result comes
back again and again; :class:`features.sources.report_state.ReportSnapshots`
keeps only the results that are new or changed since the previous snapshot of
the same report.

The key of a row is ``<report>/<policy>/<rule>/<kind>/<namespace>/<name>``:
``<report>`` is the report's ``metadata.uid`` (else its ``<namespace>/<name>``,
or ``<name>`` for a cluster report) and the last three name the result's
subject. Reports whose results name no subject
(kube-bench) can repeat a key; a repeated key gets ``#`` and the result's
``properties.index`` (else its position among the repeats), so every row of a
report has its own, stable key.

Times: a result's ``timestamp`` (``{seconds, nanos}``; ``seconds: 0`` is Go's
unset value, not 1970) is used when set; else the latest ``metadata.managedFields``
time (when the report was last written); else ``metadata.creationTimestamp``.
Reports read from a cluster always have one of these. A hand-written report
with no time at all still yields its rows, dated at the Unix epoch
(``1970-01-01T00:00:00Z``), so an unknown time never passes for a recent one.

``raw`` of a row is ``{"report": {apiVersion, kind, metadata{name, namespace,
uid}, scope}, "result": <the result>}``: the whole report (up to 1 MB)
repeated per row would multiply storage by its number of results.

Field mapping:

=============  ==========================================================
column         from
=============  ==========================================================
event_id       see above
source         the result's ``source`` (else the report's) when it is a
               known source (``kyverno``, ``falco``, ...), else ``kyverno``
event_time     see above
action         null: a report describes state, not a request
resource       subject ``kind``: ``resources[0]`` (``subjects[0]`` in later
               versions), else the result's ``scope``, else the report's
object         subject ``name``
namespace      subject ``namespace``, else the report's ``metadata.namespace``
outcome        ``result``: ``pass``/``fail``/``warn``/``error``; ``skip`` is
               ``pass`` (the policy did not apply)
policy         ``policy``, plus ``/<rule>`` when the result names a rule
severity       ``severity`` (else ``properties.severity``), lower case
=============  ==========================================================
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import orjson

from features.exceptions import AdapterError
from features.schema import SOURCES, NormalizedEvent
from features.sources.fields import field, opt_list, opt_str, req_str
from features.sources.generic import raw_text, utc_text

SOURCE = "kyverno"
GROUPS = ("wgpolicyk8s.io/", "reports.x-k8s.io/", "openreports.io/")
KINDS = frozenset({"PolicyReport", "ClusterPolicyReport", "Report", "ClusterReport"})
RESULTS = {"pass": "pass", "fail": "fail", "warn": "warn", "error": "error", "skip": "pass"}
EPOCH = "1970-01-01T00:00:00Z"
RAW_PREFIX = '{"report":'


def matches(doc: Mapping[str, Any]) -> bool:
    """A policy report names its kind and one of the report API groups."""
    kind, api_version = doc.get("kind"), doc.get("apiVersion")
    return (
        isinstance(kind, str)
        and kind in KINDS
        and isinstance(api_version, str)
        and api_version.startswith(GROUPS)
    )


def _object(value: Any, path: str) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise AdapterError(
            f"field {path!r}: expected an object, got {type(value).__name__}", reason="bad_field"
        )
    return value


def _first(result: Mapping[str, Any], *paths: str) -> Mapping[str, Any] | None:
    for path in paths:
        items = opt_list(result, path)
        if items:
            return _object(items[0], f"{path}[0]")
    return None


def report_time(doc: Mapping[str, Any]) -> str:
    """When the report was last written, for results without their own time.

    >>> report_time({"metadata": {"creationTimestamp": "2021-04-08T11:44:57Z",
    ...     "managedFields": [{"time": "2021-04-09T08:00:00Z"}]}})
    '2021-04-09T08:00:00Z'
    >>> report_time({})
    '1970-01-01T00:00:00Z'
    """
    latest: str | None = None
    for position, entry in enumerate(opt_list(doc, "metadata.managedFields")):
        entry_map = _object(entry, f"metadata.managedFields[{position}]")
        value = field(entry_map, "time") if entry_map is not None else None
        if value is not None:
            text = utc_text(value, f"metadata.managedFields[{position}].time")
            latest = text if latest is None or text > latest else latest
    if latest is not None:
        return latest
    created = field(doc, "metadata.creationTimestamp")
    return utc_text(created, "metadata.creationTimestamp") if created is not None else EPOCH


def result_time(result: Mapping[str, Any], fallback: str) -> str:
    """A result's own time when it is set (``seconds: 0`` is Go's unset value).

    >>> result_time({"timestamp": {"seconds": 1679565894, "nanos": 0}}, "x")
    '2023-03-23T10:04:54.000000Z'
    >>> result_time({"timestamp": {"seconds": 0, "nanos": 0}}, "fallback")
    'fallback'
    """
    value = field(result, "timestamp")
    if value is None or (isinstance(value, Mapping) and not value.get("seconds")):
        return fallback
    return utc_text(value, "results[].timestamp")


def _source(*candidates: str | None) -> str:
    for candidate in candidates:
        lowered = (candidate or "").lower()
        if lowered in SOURCES:
            return lowered
    return SOURCE


def unique_keys(keys: list[str], tags: list[str | None]) -> list[str]:
    """Make repeated keys unique with ``#<tag>`` (else ``#<n>``), leaving unique ones alone.

    >>> unique_keys(["a", "b", "b", "b"], [None, "1.1", "1.2", None])
    ['a', 'b#1.1', 'b#1.2', 'b#3']
    """
    counts = Counter(keys)
    seen: Counter[str] = Counter()
    unique: list[str] = []
    taken: set[str] = set()
    for key, tag in zip(keys, tags, strict=True):
        if counts[key] > 1:
            seen[key] += 1
            candidate = f"{key}#{tag}" if tag else f"{key}#{seen[key]}"
            key = candidate if candidate not in taken else f"{key}#{seen[key]}"
        taken.add(key)
        unique.append(key)
    return unique


def _report_identity(doc: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    metadata = _object(doc.get("metadata"), "metadata") or {}
    name = opt_str(metadata, "name")
    namespace = opt_str(metadata, "namespace")
    uid = opt_str(metadata, "uid")
    if not (uid or name):
        raise AdapterError("required field 'metadata.name' is missing", reason="missing_field")
    identity = {
        "apiVersion": doc.get("apiVersion"),
        "kind": doc.get("kind"),
        "metadata": {"name": name, "namespace": namespace, "uid": uid},
    }
    if doc.get("scope") is not None:
        identity["scope"] = doc["scope"]
    return uid or (f"{namespace}/{name}" if namespace else f"{name}"), identity


def normalize(doc: Mapping[str, Any], raw: str | None = None) -> list[NormalizedEvent]:
    """One row per result of the report (none for a report without results)."""
    results = opt_list(doc, "results")
    if not results:
        return []
    report_key, identity = _report_identity(doc)
    report_scope = _object(doc.get("scope"), "scope")
    report_namespace = opt_str(doc, "metadata.namespace")
    report_source = opt_str(doc, "source")
    fallback_time = report_time(doc)
    rows: list[NormalizedEvent] = []
    keys: list[str] = []
    tags: list[str | None] = []
    for position, item in enumerate(results):
        result = _object(item, f"results[{position}]")
        if result is None:
            raise AdapterError(f"results[{position}] is null", reason="bad_field")
        verdict = req_str(result, "result").lower()
        if verdict not in RESULTS:
            raise AdapterError(
                f"results[{position}].result: unknown result {verdict!r}", reason="bad_field"
            )
        policy = req_str(result, "policy")
        rule = opt_str(result, "rule")
        subject = (
            _first(result, "resources", "subjects")
            or _object(result.get("scope"), "scope")
            or report_scope
            or {}
        )
        kind = opt_str(subject, "kind")
        name = opt_str(subject, "name")
        namespace = opt_str(subject, "namespace") or report_namespace
        keys.append(
            f"{report_key}/{policy}/{rule or ''}/{kind or ''}/{namespace or ''}/{name or ''}"
        )
        tags.append(opt_str(result, "properties.index"))
        level = opt_str(result, "severity") or opt_str(result, "properties.severity")
        rows.append(
            {
                "event_id": "",
                "source": _source(opt_str(result, "source"), report_source),
                "event_time": result_time(result, fallback_time),
                "actor": None,
                "actor_type": None,
                "action": None,
                "resource": kind,
                "object": name,
                "namespace": namespace,
                "outcome": RESULTS[verdict],
                "source_ip": None,
                "user_agent": None,
                "policy": f"{policy}/{rule}" if rule else policy,
                "severity": level.lower() if level else None,
                "raw": raw_text({"report": identity, "result": result}, None),
            }
        )
    for row, key in zip(rows, unique_keys(keys, tags), strict=True):
        row["event_id"] = key
    return rows


def report_result(row: NormalizedEvent) -> tuple[str, Mapping[str, Any]] | None:
    """``(report key, result)`` of a row this adapter produced; None for any other row.

    >>> [row] = normalize({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport",
    ...     "metadata": {"name": "r", "namespace": "dev"},
    ...     "results": [{"policy": "p", "result": "fail", "message": "no"}]})
    >>> report_result(row)
    ('dev/r', {'policy': 'p', 'result': 'fail', 'message': 'no'})
    """
    raw = row["raw"]
    if not raw.startswith(RAW_PREFIX):
        return None
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    report, result = doc.get("report"), doc.get("result")
    metadata = report.get("metadata") if isinstance(report, Mapping) else None
    if not (isinstance(metadata, Mapping) and isinstance(result, Mapping)):
        return None
    uid, name, namespace = metadata.get("uid"), metadata.get("name"), metadata.get("namespace")
    key = uid or (f"{namespace}/{name}" if namespace else f"{name}")
    # Another source's event could start the same way; only this adapter's keys
    # begin with their report's key.
    return (key, result) if row["event_id"].startswith(f"{key}/") else None
