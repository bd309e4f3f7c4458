"""History features say what they claim: peers judge the new, windows see bulk activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
import pytest

from features.history import NOVEL_SURPRISE, PARALLEL_SORT_KEYS, stable_order
from features.pipeline import FEATURE_NAMES, compute_features
from features.schema import NORMALIZED_SCHEMA

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def event(i: int, at: datetime, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(NORMALIZED_SCHEMA)
    row |= {
        "event_id": f"e{i:06d}",
        "source": "k8s_audit",
        "event_time": at,
        "actor_type": "user",
        "outcome": "allow",
        "raw": "{}",
    }
    return row | fields


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=NORMALIZED_SCHEMA)


def last(features: pl.DataFrame, column: str) -> float:
    return float(features[column][-1])


def test_an_assumed_role_keeps_its_history_across_session_names() -> None:
    """Each machine session has a new name; the role's habits still apply to it."""
    rows = [
        event(
            i,
            T0 + timedelta(minutes=10 * i),
            source="cloudtrail",
            actor=f"etl-runner/botocore-session-{i}",
            actor_type="role",
            action="s3:GetObject",
            resource="AWS::S3::Object",
            object="arn:aws:s3:::lake/part-1",
            source_ip="10.0.0.5",
            user_agent="Boto3/1.34",
        )
        for i in range(200)
    ]
    features = compute_features(frame(rows))
    assert last(features, "action_surprise") < 0.1
    assert last(features, "source_ip_surprise") < 0.1
    assert last(features, "source_ip_age") == 0.0


def test_a_new_identity_is_judged_against_its_peers_not_for_being_new() -> None:
    """A new service account doing what its namespace's accounts do is not rare; the same
    account doing what none of them do is."""
    peers = [
        event(
            i,
            T0 + timedelta(minutes=i),
            actor=f"system:serviceaccount:tools:worker-{i % 5}",
            actor_type="service_account",
            action="get",
            resource="configmaps",
            namespace="tools",
            source_ip="10.1.0.9",
            user_agent="controller/v1",
        )
        for i in range(500)
    ]
    newcomer = {
        "actor": "system:serviceaccount:tools:worker-new",
        "actor_type": "service_account",
        "namespace": "tools",
        "source_ip": "10.1.0.9",
        "user_agent": "controller/v1",
    }
    routine = compute_features(
        frame(
            [
                *peers,
                event(
                    900, T0 + timedelta(hours=9), action="get", resource="configmaps", **newcomer
                ),
            ]
        )
    )
    unusual = compute_features(
        frame(
            [
                *peers,
                event(
                    900,
                    T0 + timedelta(hours=9),
                    action="create",
                    resource="clusterrolebindings",
                    **newcomer,
                ),
            ]
        )
    )
    assert last(routine, "action_surprise") < 0.5
    assert last(unusual, "action_surprise") > NOVEL_SURPRISE
    assert last(routine, "source_ip_surprise") < 0.5
    assert last(unusual, "first_in_environment") == 1.0


def test_an_hour_unusual_for_the_person_stands_out() -> None:
    """Twenty working days from 9 to 17; a sign-in at 03:00 is rare for them, 11:00 is not."""
    rows = [
        event(
            d * 10 + k,
            T0 + timedelta(days=d, hours=9 + (k * 0.8)),
            actor="mei@corp.example",
            action="get",
            resource="pods",
            namespace="shop",
        )
        for d in range(20)
        for k in range(10)
    ]
    day = T0 + timedelta(days=21)
    at_night = compute_features(
        frame(
            [
                *rows,
                event(
                    999,
                    day + timedelta(hours=3),
                    actor="mei@corp.example",
                    action="get",
                    resource="pods",
                    namespace="shop",
                ),
            ]
        )
    )
    at_noon = compute_features(
        frame(
            [
                *rows,
                event(
                    999,
                    day + timedelta(hours=11),
                    actor="mei@corp.example",
                    action="get",
                    resource="pods",
                    namespace="shop",
                ),
            ]
        )
    )
    assert last(at_night, "hour_surprise") > last(at_noon, "hour_surprise") + 3.0


def test_bulk_reads_of_seldom_read_buckets_show_in_the_windows() -> None:
    """A role reading one object an hour, then two hundred from other buckets in ten minutes."""
    routine = [
        event(
            i,
            T0 + timedelta(hours=i),
            source="cloudtrail",
            actor="backup/i-0aa",
            actor_type="role",
            action="s3:GetObject",
            resource="AWS::S3::Object",
            object="arn:aws:s3:::backups/daily.tar",
            raw='{"additionalEventData": {"bytesTransferredOut": 1000.0}}',
        )
        for i in range(100)
    ]
    burst_start = T0 + timedelta(hours=100, minutes=30)
    burst = [
        event(
            1000 + j,
            burst_start + timedelta(seconds=3 * j),
            source="cloudtrail",
            actor="backup/i-0bb",
            actor_type="role",
            action="s3:GetObject",
            resource="AWS::S3::Object",
            object=f"arn:aws:s3:::prod-{j % 20}/customers/{j}.csv",
            raw='{"additionalEventData": {"bytesTransferredOut": 5000000.0}}',
        )
        for j in range(200)
    ]
    features = compute_features(frame([*routine, *burst]))
    quiet = features.row(99, named=True)
    loud = features.row(features.height - 1, named=True)
    assert loud["reads_10m_vs_baseline"] > quiet["reads_10m_vs_baseline"] + 3.0
    assert loud["bytes_out_1h_vs_baseline"] > quiet["bytes_out_1h_vs_baseline"] + 10.0
    assert loud["novel_targets_1h"] > 2.0  # log1p of the 20 buckets new to the role
    assert quiet["novel_targets_1h"] == 0.0


def test_few_events_give_finite_values() -> None:
    rows = [
        event(i, T0 + timedelta(minutes=i), actor="a", action="get", resource="pods")
        for i in range(3)
    ]
    features = compute_features(frame(rows)).select(FEATURE_NAMES)
    assert features.to_numpy().min() > -1e9
    assert features.to_numpy().max() < 1e9


@pytest.mark.parametrize("size", [0, 1, 500, PARALLEL_SORT_KEYS - 1, PARALLEL_SORT_KEYS, 30_000])
def test_keys_sort_in_order_and_equal_keys_keep_theirs_on_either_sort(size: int) -> None:
    rng = np.random.default_rng(size)
    keys = rng.integers(0, 2**64 - 1, max(1, size // 7), dtype=np.uint64, endpoint=True)
    keys = keys[rng.integers(0, keys.size, size)] if size else keys[:0]  # many repeats
    order = stable_order(keys)
    expected = sorted(range(size), key=lambda position: (int(keys[position]), position))
    assert order.tolist() == expected
