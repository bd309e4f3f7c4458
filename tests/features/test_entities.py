"""Entities and peer groups: history is kept where behaviour is stable, per source."""

from __future__ import annotations

import polars as pl
import pytest

from features.entities import bytes_out, entity, peer_group, target


def _one(source: str, actor: str | None, actor_type: str | None) -> tuple[str, str]:
    frame = pl.DataFrame(
        {"source": [source], "actor": [actor], "actor_type": [actor_type]},
        schema={"source": pl.String(), "actor": pl.String(), "actor_type": pl.String()},
    )
    row = frame.select(entity().alias("e"), peer_group().alias("p")).row(0)
    return row[0], row[1]


@pytest.mark.parametrize(
    ("source", "actor", "actor_type", "expected"),
    [
        # an assumed role is one entity whatever its (random or instance) session name
        ("cloudtrail", "Deployer/i-0abc123", "role", ("Deployer", "aws:roles")),
        ("cloudtrail", "Deployer/botocore-session-1712345678", "role", ("Deployer", "aws:roles")),
        # an Identity Center session names a person: the person is the entity, the set its peers
        (
            "cloudtrail",
            "AWSReservedSSO_DeveloperAccess_0123abcd4567ef89/mei@corp.example",
            "role",
            ("mei@corp.example", "aws:sso:DeveloperAccess"),
        ),
        ("cloudtrail", "terraform-ci", "user", ("terraform-ci", "aws:users")),
        ("cloudtrail", "root", "root", ("root", "aws:root")),
        ("cloudtrail", "ec2.amazonaws.com", "service", ("ec2.amazonaws.com", "aws:service")),
        (
            "k8s_audit",
            "system:serviceaccount:argocd:argocd-server",
            "service_account",
            ("system:serviceaccount:argocd:argocd-server", "k8s:serviceaccounts:argocd"),
        ),
        # nodes come and go with the autoscaler: one class
        (
            "k8s_audit",
            "system:node:ip-10-0-1-2.ec2.internal",
            "node",
            ("system:nodes", "k8s:nodes"),
        ),
        (
            "k8s_audit",
            "system:kube-controller-manager",
            "system",
            ("system:kube-controller-manager", "k8s:control-plane"),
        ),
        ("k8s_audit", "system:kube-dns", "system", ("system:kube-dns", "k8s:system")),
        ("k8s_audit", "alice@corp.example", "user", ("alice@corp.example", "k8s:users")),
        ("kyverno", None, None, ("kyverno", "kyverno:any")),
        ("falco", "root", "user", ("root", "falco:user")),
    ],
)
def test_entity_and_peer_group_per_source(
    source: str, actor: str | None, actor_type: str | None, expected: tuple[str, str]
) -> None:
    assert _one(source, actor, actor_type) == expected


def test_target_is_the_bucket_of_an_s3_object_and_the_object_otherwise() -> None:
    frame = pl.DataFrame(
        {"object": ["arn:aws:s3:::prod-data/2024/01/a.csv", "arn:aws:s3:::prod-data", "web-7f9"]}
    )
    assert frame.select(target())["object"].to_list() == [
        "arn:aws:s3:::prod-data",
        "arn:aws:s3:::prod-data",
        "web-7f9",
    ]


def test_bytes_out_comes_from_cloudtrail_records_that_carry_it() -> None:
    frame = pl.DataFrame(
        {
            "source": ["cloudtrail", "cloudtrail", "k8s_audit"],
            "raw": [
                '{"additionalEventData": {"bytesTransferredOut": 5120.0}}',
                '{"eventName": "ListBuckets"}',
                '{"bytesTransferredOut": 9}',
            ],
        }
    )
    assert frame.select(bytes_out())["raw"].to_list() == [5120.0, 0.0, 0.0]
