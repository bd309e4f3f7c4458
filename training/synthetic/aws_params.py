"""``requestParameters`` of CloudTrail records: what each API call was asked to do.

A call's parameters name its target (a bucket and key, a role, an instance,
a trail) in the shape CloudTrail records for that operation. The target comes
from the caller's context (its team's bucket, its application), the variety
from a per-call random integer ``k``.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Params = dict[str, Any] | None


@dataclass(frozen=True)
class Target:
    """What a caller works on."""

    account: str
    region: str
    team: str
    app: str
    bucket: str


def _stable(text: str) -> int:
    """A process-independent hash (Python's ``hash`` of text changes between runs)."""
    return zlib.crc32(text.encode())


def _instance(t: Target, k: int) -> str:
    return f"i-0{_stable(t.team) * 40 + k % 40:016x}"


def _key(t: Target, k: int) -> str:
    day = 1 + k % 28
    return f"{t.app}/2026/03/{day:02d}/part-{k % 10_000:05d}.parquet"


def _elb(t: Target) -> str:
    return f"arn:aws:elasticloadbalancing:{t.region}:{t.account}"


def _kms_key(t: Target) -> str:
    h = f"{_stable(t.team):08x}{_stable(t.region):08x}{_stable(t.account):08x}{_stable(t.app):08x}"
    key = f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"
    return f"arn:aws:kms:{t.region}:{t.account}:key/{key}"


_P: dict[str, Callable[[Target, int], Params]] = {
    "ec2:DescribeInstances": lambda t, k: {
        "instancesSet": {},
        "filterSet": {"items": [{"name": "tag:team", "valueSet": {"items": [{"value": t.team}]}}]},
    },
    "ec2:DescribeSecurityGroups": lambda t, k: {
        "securityGroupSet": {},
        "securityGroupIdSet": {},
        "filterSet": {},
    },
    "ec2:DescribeVpcs": lambda t, k: {"vpcSet": {}, "filterSet": {}},
    "ec2:DescribeSubnets": lambda t, k: {"subnetSet": {}, "filterSet": {}},
    "ec2:DescribeVolumes": lambda t, k: {"volumeSet": {}, "filterSet": {}},
    "ec2:DescribeSnapshots": lambda t, k: {
        "snapshotSet": {},
        "ownersSet": {"items": [{"owner": "self"}]},
        "filterSet": {},
    },
    "ec2:DescribeNetworkInterfaces": lambda t, k: {
        "networkInterfaceIdSet": {},
        "filterSet": {
            "items": [
                {
                    "name": "attachment.instance-id",
                    "valueSet": {"items": [{"value": _instance(t, k)}]},
                }
            ]
        },
    },
    "ec2:DescribeLaunchTemplateVersions": lambda t, k: {
        "DescribeLaunchTemplateVersionsRequest": {
            "LaunchTemplateName": "eks-nodes",
            "LaunchTemplateVersion": {"content": "$Latest", "tag": 1},
        }
    },
    "ec2:DescribeTags": lambda t, k: {
        "filterSet": {
            "items": [{"name": "resource-id", "valueSet": {"items": [{"value": _instance(t, k)}]}}]
        }
    },
    "ec2:AssignPrivateIpAddresses": lambda t, k: {
        "networkInterfaceId": f"eni-0{k % 10**12:012x}",
        "secondaryPrivateIpAddressCount": 1,
    },
    "ec2:CreateTags": lambda t, k: {
        "resourcesSet": {"items": [{"resourceId": _instance(t, k)}]},
        "tagSet": {"items": [{"key": "owner", "value": t.team}]},
    },
    "ec2:CreateSnapshot": lambda t, k: {
        "volumeId": f"vol-0{k % 10**12:012x}",
        "description": "nightly backup",
    },
    "ec2:DeleteSnapshot": lambda t, k: {"snapshotId": f"snap-0{k % 10**12:012x}"},
    "ec2:DescribeImages": lambda t, k: {
        "imagesSet": {},
        "ownersSet": {"items": [{"owner": "self"}]},
        "filterSet": {},
    },
    "ec2:DescribeInstanceTypes": lambda t, k: {"DescribeInstanceTypesRequest": {"MaxResults": 100}},
    "s3:ListBuckets": lambda t, k: {"Host": "s3.amazonaws.com"},
    "s3:GetBucketLocation": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.amazonaws.com",
        "location": "",
    },
    "s3:GetBucketPolicy": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.amazonaws.com",
        "policy": "",
    },
    "s3:GetBucketAcl": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.amazonaws.com",
        "acl": "",
    },
    "s3:GetBucketVersioning": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.amazonaws.com",
        "versioning": "",
    },
    "s3:ListObjects": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.{t.region}.amazonaws.com",
        "prefix": f"{t.app}/2026/03/",
        "list-type": "2",
        "max-keys": "1000",
    },
    "s3:GetObject": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.{t.region}.amazonaws.com",
        "key": _key(t, k),
    },
    "s3:HeadObject": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.{t.region}.amazonaws.com",
        "key": _key(t, k),
    },
    "s3:PutObject": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.{t.region}.amazonaws.com",
        "key": _key(t, k),
    },
    "s3:DeleteObject": lambda t, k: {
        "bucketName": t.bucket,
        "Host": f"{t.bucket}.s3.{t.region}.amazonaws.com",
        "key": _key(t, k),
    },
    "iam:GetRole": lambda t, k: {"roleName": f"{t.team}-{t.app}-irsa"},
    "iam:ListAttachedRolePolicies": lambda t, k: {"roleName": f"{t.team}-{t.app}-irsa"},
    "iam:GetPolicy": lambda t, k: {
        "policyArn": f"arn:aws:iam::{t.account}:policy/{t.team}-{t.app}"
    },
    "iam:GetPolicyVersion": lambda t, k: {
        "policyArn": f"arn:aws:iam::{t.account}:policy/{t.team}-{t.app}",
        "versionId": f"v{1 + k % 4}",
    },
    "iam:GetUser": lambda t, k: {"userName": t.app},
    "iam:ListAccessKeys": lambda t, k: {"userName": t.app},
    "iam:ListAttachedUserPolicies": lambda t, k: {"userName": t.app},
    "iam:ListRoles": lambda t, k: {"maxItems": 100},
    "iam:ListUsers": lambda t, k: {"maxItems": 100},
    "iam:ListPolicies": lambda t, k: {"scope": "Local", "onlyAttached": False},
    "iam:GetAccountAuthorizationDetails": lambda t, k: {
        "filter": ["User", "Role", "Group", "LocalManagedPolicy"]
    },
    "kms:Decrypt": lambda t, k: {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": _kms_key(t)},
    "kms:GenerateDataKey": lambda t, k: {"keyId": _kms_key(t), "keySpec": "AES_256"},
    "kms:DescribeKey": lambda t, k: {"keyId": _kms_key(t)},
    "secretsmanager:GetSecretValue": lambda t, k: {"secretId": f"{t.team}/{t.app}/database"},
    "secretsmanager:DescribeSecret": lambda t, k: {"secretId": f"{t.team}/{t.app}/database"},
    "ssm:GetParameter": lambda t, k: {
        "name": f"/{t.team}/{t.app}/feature-flags",
        "withDecryption": False,
    },
    "ssm:GetParameters": lambda t, k: {
        "names": [f"/{t.team}/{t.app}/endpoint", f"/{t.team}/{t.app}/timeout"],
        "withDecryption": True,
    },
    "ssm:GetParametersByPath": lambda t, k: {"path": f"/{t.team}/{t.app}/", "recursive": True},
    "ssm:StartSession": lambda t, k: {"target": _instance(t, k)},
    "monitoring:GetMetricData": lambda t, k: {
        "metricDataQueries": [
            {
                "id": "m1",
                "metricStat": {
                    "metric": {
                        "namespace": "AWS/ApplicationELB",
                        "metricName": "TargetResponseTime",
                    },
                    "period": 60,
                    "stat": "p99",
                },
            }
        ],
        "startTime": "",
        "endTime": "",
    },
    "monitoring:ListMetrics": lambda t, k: {"namespace": "AWS/EC2"},
    "monitoring:DescribeAlarms": lambda t, k: {"alarmNamePrefix": t.team},
    "logs:FilterLogEvents": lambda t, k: {
        "logGroupName": f"/eks/prod-main/{t.team}/{t.app}",
        "filterPattern": "ERROR",
        "interleaved": True,
    },
    "logs:DescribeLogGroups": lambda t, k: {"logGroupNamePrefix": f"/eks/prod-main/{t.team}"},
    "eks:DescribeCluster": lambda t, k: {"name": "prod-main"},
    "eks:ListNodegroups": lambda t, k: {"clusterName": "prod-main"},
    "eks:DescribeNodegroup": lambda t, k: {
        "clusterName": "prod-main",
        "nodegroupName": f"general-{k % 3}",
    },
    "ecr:DescribeImages": lambda t, k: {"repositoryName": f"{t.team}/{t.app}", "maxResults": 100},
    "ecr:BatchGetImage": lambda t, k: {
        "repositoryName": f"{t.team}/{t.app}",
        "imageIds": [{"imageTag": f"v1.{k % 90}.0"}],
        "registryId": t.account,
    },
    "ecr:GetDownloadUrlForLayer": lambda t, k: {
        "repositoryName": f"{t.team}/{t.app}",
        "registryId": t.account,
    },
    "ecr:BatchCheckLayerAvailability": lambda t, k: {
        "repositoryName": f"{t.team}/{t.app}",
        "registryId": t.account,
    },
    "ecr:InitiateLayerUpload": lambda t, k: {
        "repositoryName": f"{t.team}/{t.app}",
        "registryId": t.account,
    },
    "ecr:UploadLayerPart": lambda t, k: {
        "repositoryName": f"{t.team}/{t.app}",
        "registryId": t.account,
        "partFirstByte": 0,
    },
    "ecr:CompleteLayerUpload": lambda t, k: {
        "repositoryName": f"{t.team}/{t.app}",
        "registryId": t.account,
    },
    "ecr:PutImage": lambda t, k: {
        "repositoryName": f"{t.team}/{t.app}",
        "imageTag": f"v1.{k % 90}.{k % 7}",
        "registryId": t.account,
    },
    "rds:DescribeDBInstances": lambda t, k: {"dBInstanceIdentifier": f"{t.team}-db"},
    "rds:CreateDBSnapshot": lambda t, k: {
        "dBSnapshotIdentifier": f"{t.team}-db-nightly-{k % 1000:03d}",
        "dBInstanceIdentifier": f"{t.team}-db",
    },
    "lambda:GetFunction20150331v2": lambda t, k: {"functionName": f"{t.team}-{t.app}"},
    "dynamodb:DescribeTable": lambda t, k: {"tableName": f"{t.team}-{t.app}"},
    "elasticloadbalancing:DescribeTargetHealth": lambda t, k: {
        "targetGroupArn": f"{_elb(t)}:targetgroup/k8s-{t.team}-{t.app}/{k % 10**16:016x}"
    },
    "elasticloadbalancing:DescribeTargetGroups": lambda t, k: {
        "loadBalancerArn": f"{_elb(t)}:loadbalancer/app/k8s-ingress/{k % 10**16:016x}"
    },
    "autoscaling:DescribeAutoScalingGroups": lambda t, k: {"maxRecords": 100},
    "autoscaling:UpdateAutoScalingGroup": lambda t, k: {
        "autoScalingGroupName": f"eks-general-{k % 3}",
        "desiredCapacity": 4 + k % 4,
    },
    "autoscaling:SetDesiredCapacity": lambda t, k: {
        "autoScalingGroupName": f"eks-general-{k % 3}",
        "desiredCapacity": 4 + k % 6,
        "honorCooldown": False,
    },
    "route53:ListResourceRecordSets": lambda t, k: {
        "hostedZoneId": "Z0123456ABCDEFGHIJKL",
        "maxItems": "300",
    },
    "route53:GetHostedZone": lambda t, k: {"id": "Z0123456ABCDEFGHIJKL"},
    "cloudtrail:LookupEvents": lambda t, k: {
        "maxResults": 50,
        "lookupAttributes": [{"attributeKey": "EventName", "attributeValue": "ConsoleLogin"}],
    },
    "cloudtrail:GetTrailStatus": lambda t, k: {
        "name": f"arn:aws:cloudtrail:us-east-1:{t.account}:trail/org-trail"
    },
    "cloudtrail:GetEventSelectors": lambda t, k: {"trailName": "org-trail"},
    "guardduty:ListFindings": lambda t, k: {
        "detectorId": "f2b6a1c4d3e5f7a9b8c0d1e2f3a4b5c6",
        "maxResults": 50,
    },
    "guardduty:GetFindings": lambda t, k: {
        "detectorId": "f2b6a1c4d3e5f7a9b8c0d1e2f3a4b5c6",
        "findingIds": [f"{k % 10**12:032x}"],
    },
    "athena:StartQueryExecution": lambda t, k: {
        "queryString": "***OMITTED***",
        "workGroup": t.team,
        "queryExecutionContext": {"database": f"{t.team}_events"},
    },
    "athena:GetQueryExecution": lambda t, k: {
        "queryExecutionId": f"{k % 10**8:08d}-1111-4222-8333-444455556666"
    },
    "athena:GetQueryResults": lambda t, k: {
        "queryExecutionId": f"{k % 10**8:08d}-1111-4222-8333-444455556666",
        "maxResults": 1000,
    },
    "glue:GetTable": lambda t, k: {"databaseName": f"{t.team}_events", "name": f"events_{k % 12}"},
    "glue:GetTables": lambda t, k: {"databaseName": f"{t.team}_events"},
    "cloudformation:DescribeStacks": lambda t, k: {"stackName": f"{t.team}-{t.app}"},
    "tagging:GetResources": lambda t, k: {
        "resourcesPerPage": 100,
        "resourceTypeFilters": ["ec2:instance"],
    },
    "ce:GetCostAndUsage": lambda t, k: {
        "granularity": "MONTHLY",
        "metrics": ["UnblendedCost"],
        "timePeriod": {"start": "2026-02-01", "end": "2026-03-01"},
    },
    "sts:AssumeRole": lambda t, k: {
        "roleArn": f"arn:aws:iam::{t.account}:role/{t.app}",
        "roleSessionName": f"{t.app}-session",
        "durationSeconds": 3600,
    },
}


def params(op: str, target: Target, k: int) -> Params:
    """The parameters of one call (``None`` for calls that take none).

    >>> t = Target("111122223333", "us-east-1", "web", "cms", "corp-web-data")
    >>> params("s3:GetObject", t, 7)["key"]
    'cms/2026/03/08/part-00007.parquet'
    >>> params("sts:GetCallerIdentity", t, 7) is None
    True
    """
    make = _P.get(op)
    return None if make is None else make(target, k)
