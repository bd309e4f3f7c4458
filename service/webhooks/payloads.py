"""Alert bodies: ``standard`` (Standard Webhooks event), ``slack``, ``alertmanager`` (v4).

The body is rendered once, when an alert is first claimed, and then kept: every
retry sends the same bytes with the same ``webhook-id``.

``standard``: ``{"type": "anomaly.created", "timestamp": …, "data": …}`` where
``data`` is the anomaly exactly as ``GET /v1/anomalies`` shows it, plus ``count``
(how many similar anomalies this alert stands for, see grouping) and
``anomaly_ids``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import orjson

from service.api.schemas import AnomalyPublic
from service.store.alerting import top_feature
from service.store.outbox import AlertContent

EVENT_TYPE = "anomaly.created"
FORMATS = ("standard", "slack", "alertmanager")
ALERTNAME = "AuditlensAnomaly"


def _data(content: AlertContent) -> dict[str, Any]:
    data = AnomalyPublic.from_row(content.anomaly).model_dump(mode="json")
    data["count"] = content.count
    data["anomaly_ids"] = content.anomaly_ids
    return data


def standard(content: AlertContent) -> dict[str, Any]:
    return {
        "type": EVENT_TYPE,
        "timestamp": content.created_at.isoformat(),
        "data": _data(content),
    }


def slack(content: AlertContent) -> dict[str, Any]:
    """An incoming-webhook message: a one-line ``text`` plus blocks with the explanation."""
    anomaly = content.anomaly
    repeats = f" ({content.count} similar)" if content.count > 1 else ""
    headline = f"[{anomaly.severity}] {anomaly.summary}{repeats}"
    reasons = "\n".join(
        f"• `{c['feature']}`: {c['value']:g} (typical {c['typical']:g})"
        for c in anomaly.explanation[:3]
    )
    return {
        "text": f"auditlens anomaly {headline}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{headline}*"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*Score*\n{anomaly.score:.1f}"},
                    {"type": "mrkdwn", "text": f"*Actor*\n{anomaly.actor or '-'}"},
                    {"type": "mrkdwn", "text": f"*Action*\n{anomaly.action or '-'}"},
                    {"type": "mrkdwn", "text": f"*Resource*\n{anomaly.resource or '-'}"},
                ],
            },
            *(
                [{"type": "section", "text": {"type": "mrkdwn", "text": reasons}}]
                if reasons
                else []
            ),
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"anomaly {anomaly.id} · {anomaly.source} · "
                        f"{anomaly.event_time.isoformat()} · model "
                        f"{anomaly.model_name} v{anomaly.model_version}",
                    }
                ],
            },
        ],
    }


def label_set(labels: dict[str, str]) -> str:
    r"""A label set as Alertmanager writes it in a group key: sorted, values quoted as Go's
    ``%q`` quotes them (so a quote or newline in a value cannot break the key).

    >>> print(label_set({"feature": "touches_rbac", "actor": 'eve "x"'}))
    {actor="eve \"x\"", feature="touches_rbac"}
    """
    pairs = (f"{name}={orjson.dumps(value).decode()}" for name, value in sorted(labels.items()))
    return "{" + ", ".join(pairs) + "}"


def alertmanager(content: AlertContent) -> dict[str, Any]:
    """Alertmanager's webhook receiver payload, version 4, with one firing alert."""
    anomaly = content.anomaly
    feature = top_feature(anomaly.explanation) or ""
    labels = {
        key: str(value)
        for key, value in {
            "alertname": ALERTNAME,
            "severity": anomaly.severity,
            "source": anomaly.source,
            "actor": anomaly.actor,
            "namespace": anomaly.namespace,
            "feature": feature,
        }.items()
        if value
    }
    annotations = {
        "summary": anomaly.summary,
        "description": f"score {anomaly.score:.1f} ({anomaly.severity}); "
        f"{content.count} similar anomalies; ids {content.anomaly_ids}",
        "anomaly_id": str(anomaly.id),
        "score": f"{anomaly.score:.3f}",
        "count": str(content.count),
    }
    group_labels: dict[str, str] = {k: labels[k] for k in ("actor", "feature") if k in labels}
    fingerprint = hashlib.sha256(
        orjson.dumps(labels, option=orjson.OPT_SORT_KEYS) + str(anomaly.id).encode()
    ).hexdigest()[:16]
    group_key = "{}:" + label_set(group_labels)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "auditlens",
        "groupLabels": group_labels,
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": annotations,
                "startsAt": anomaly.event_time.isoformat().replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "",
                "fingerprint": fingerprint,
            }
        ],
    }


_RENDERERS: dict[str, Callable[[AlertContent], dict[str, Any]]] = {
    "standard": standard,
    "slack": slack,
    "alertmanager": alertmanager,
}


def render(content: AlertContent) -> str:
    """The JSON body for the endpoint's format."""
    return orjson.dumps(_RENDERERS[content.payload_format](content)).decode()
