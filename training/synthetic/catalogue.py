"""What exists to be done: Kubernetes resources and the AWS API operations actors call.

These tables are the vocabulary of the synthetic organisation. Weights are
per *kind* of team (``product``, ``data``, ``platform``, ``security``), so a
data engineer's day looks different from an SRE's; each person then draws a
personal mix around their team's profile (see :mod:`training.synthetic.org`).
"""

from __future__ import annotations

from dataclasses import dataclass

TEAM_KINDS = ("product", "data", "platform", "security")


def words(text: str) -> tuple[str, ...]:
    """A table written as whitespace-separated words.

    >>> words("a b  c")
    ('a', 'b', 'c')
    """
    return tuple(text.split())


@dataclass(frozen=True)
class K8sResource:
    group: str
    version: str
    namespaced: bool

    @property
    def api_prefix(self) -> str:
        """The URL prefix of the resource's API group.

        >>> K8S_RESOURCES["deployments"].api_prefix, K8S_RESOURCES["pods"].api_prefix
        ('/apis/apps/v1', '/api/v1')
        """
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


_RBAC = "rbac.authorization.k8s.io"
K8S_RESOURCES: dict[str, K8sResource] = {
    "pods": K8sResource("", "v1", True),
    "services": K8sResource("", "v1", True),
    "configmaps": K8sResource("", "v1", True),
    "secrets": K8sResource("", "v1", True),
    "events": K8sResource("", "v1", True),
    "endpoints": K8sResource("", "v1", True),
    "serviceaccounts": K8sResource("", "v1", True),
    "persistentvolumeclaims": K8sResource("", "v1", True),
    "namespaces": K8sResource("", "v1", False),
    "nodes": K8sResource("", "v1", False),
    "deployments": K8sResource("apps", "v1", True),
    "replicasets": K8sResource("apps", "v1", True),
    "statefulsets": K8sResource("apps", "v1", True),
    "daemonsets": K8sResource("apps", "v1", True),
    "jobs": K8sResource("batch", "v1", True),
    "cronjobs": K8sResource("batch", "v1", True),
    "horizontalpodautoscalers": K8sResource("autoscaling", "v2", True),
    "ingresses": K8sResource("networking.k8s.io", "v1", True),
    "endpointslices": K8sResource("discovery.k8s.io", "v1", True),
    "leases": K8sResource("coordination.k8s.io", "v1", True),
    "roles": K8sResource(_RBAC, "v1", True),
    "rolebindings": K8sResource(_RBAC, "v1", True),
    "clusterroles": K8sResource(_RBAC, "v1", False),
    "clusterrolebindings": K8sResource(_RBAC, "v1", False),
    "selfsubjectrulesreviews": K8sResource("authorization.k8s.io", "v1", False),
    "policyreports": K8sResource("wgpolicyk8s.io", "v1alpha2", True),
    "certificates": K8sResource("cert-manager.io", "v1", True),
    "applications": K8sResource("argoproj.io", "v1alpha1", True),
}


@dataclass(frozen=True)
class HumanK8sAction:
    """One kind of thing a person does with kubectl, and where it is allowed.

    ``where``: ``any`` namespace, ``nonprod`` (staging/dev, or infrastructure
    namespaces for the platform team), ``dev`` only, or ``cluster`` (no namespace).
    ``weights``: base popularity per team kind, in :data:`TEAM_KINDS` order.
    """

    verb: str
    resource: str
    where: str
    weights: tuple[float, float, float, float]

    @property
    def is_write(self) -> bool:
        return self.verb not in ("get", "list", "watch")


HUMAN_K8S_ACTIONS: tuple[HumanK8sAction, ...] = (
    HumanK8sAction("list", "pods", "any", (14, 10, 12, 8)),
    HumanK8sAction("get", "pods", "any", (10, 8, 10, 6)),
    HumanK8sAction("get", "pods/log", "any", (9, 7, 8, 2)),
    HumanK8sAction("list", "deployments", "any", (6, 5, 6, 4)),
    HumanK8sAction("get", "deployments", "any", (6, 4, 5, 3)),
    HumanK8sAction("list", "services", "any", (3, 2, 3, 2)),
    HumanK8sAction("get", "services", "any", (2, 1, 2, 1)),
    HumanK8sAction("get", "configmaps", "any", (3, 3, 3, 1)),
    HumanK8sAction("list", "configmaps", "any", (2, 2, 2, 1)),
    HumanK8sAction("list", "events", "any", (4, 3, 5, 2)),
    HumanK8sAction("list", "replicasets", "any", (2, 1, 2, 1)),
    HumanK8sAction("get", "ingresses", "any", (1, 0.5, 2, 1)),
    HumanK8sAction("list", "horizontalpodautoscalers", "any", (1, 0.5, 2, 0.5)),
    HumanK8sAction("list", "jobs", "any", (1, 4, 1, 0.5)),
    HumanK8sAction("get", "jobs", "any", (0.5, 3, 0.5, 0.2)),
    HumanK8sAction("patch", "deployments", "nonprod", (2, 1, 3, 0)),
    HumanK8sAction("update", "configmaps", "nonprod", (1, 1, 1, 0)),
    HumanK8sAction("create", "configmaps", "nonprod", (0.5, 0.5, 0.5, 0)),
    HumanK8sAction("delete", "pods", "nonprod", (1.5, 1, 2, 0)),
    HumanK8sAction("create", "jobs", "nonprod", (0.3, 2, 0.3, 0)),
    HumanK8sAction("create", "pods/exec", "nonprod", (1, 1.5, 1.5, 0)),
    HumanK8sAction("create", "pods/portforward", "nonprod", (1, 1, 0.5, 0)),
    HumanK8sAction("get", "secrets", "dev", (0.5, 0.5, 0.5, 0)),
    HumanK8sAction("list", "namespaces", "cluster", (1, 1, 2, 2)),
    HumanK8sAction("list", "nodes", "cluster", (0.3, 0.3, 4, 1)),
    HumanK8sAction("get", "nodes", "cluster", (0.1, 0.1, 2, 0.5)),
    HumanK8sAction("list", "rolebindings", "any", (0.1, 0.1, 1, 3)),
    HumanK8sAction("list", "clusterrolebindings", "cluster", (0, 0, 0.5, 2)),
    HumanK8sAction("list", "policyreports", "any", (0.2, 0.1, 1, 4)),
    HumanK8sAction("get", "policyreports", "any", (0.1, 0.1, 0.5, 2)),
)


@dataclass(frozen=True)
class AwsOp:
    """One CloudTrail ``eventSource``/``eventName`` and how it is recorded."""

    source: str
    name: str
    read_only: bool
    data_event: bool = False

    @property
    def key(self) -> str:
        """``service:Name``, the short form used in the tables below.

        >>> AWS_OPS["s3:GetObject"].key
        's3:GetObject'
        """
        return f"{self.source.split('.', 1)[0]}:{self.name}"


def _ops(source: str, reads: str, writes: str = "", data: str = "") -> list[AwsOp]:
    ops = [AwsOp(source, name, True) for name in reads.split()]
    ops += [AwsOp(source, name, False) for name in writes.split()]
    ops += [
        AwsOp(source, name.lstrip("+"), not name.startswith("+"), True) for name in data.split()
    ]
    return ops


_ALL_OPS = [
    *_ops(
        "ec2.amazonaws.com",
        "DescribeInstances DescribeSecurityGroups DescribeVpcs DescribeSubnets DescribeVolumes "
        "DescribeSnapshots DescribeNetworkInterfaces DescribeImages DescribeRegions "
        "DescribeLaunchTemplateVersions DescribeTags DescribeInstanceTypes",
        "RunInstances TerminateInstances CreateTags CreateSnapshot DeleteSnapshot "
        "AuthorizeSecurityGroupIngress AssignPrivateIpAddresses",
    ),
    *_ops(
        "s3.amazonaws.com",
        "ListBuckets GetBucketLocation GetBucketPolicy GetBucketAcl GetBucketVersioning",
        "PutBucketPolicy",
        "ListObjects GetObject HeadObject +PutObject +DeleteObject",
    ),
    *_ops(
        "iam.amazonaws.com",
        "ListUsers ListRoles GetRole GetUser ListAttachedRolePolicies ListAttachedUserPolicies "
        "GetPolicy GetPolicyVersion ListPolicies ListAccessKeys GetAccountAuthorizationDetails "
        "ListGroups",
        "CreateAccessKey AttachUserPolicy AttachRolePolicy PutRolePolicy CreateUser "
        "CreateLoginProfile",
    ),
    *_ops("sts.amazonaws.com", "GetCallerIdentity", "AssumeRole"),
    *_ops("kms.amazonaws.com", "Decrypt GenerateDataKey DescribeKey ListKeys ListAliases"),
    *_ops("secretsmanager.amazonaws.com", "GetSecretValue ListSecrets DescribeSecret"),
    *_ops(
        "ssm.amazonaws.com",
        "GetParameter GetParameters GetParametersByPath DescribeParameters",
        "StartSession SendCommand",
    ),
    *_ops("monitoring.amazonaws.com", "GetMetricData ListMetrics DescribeAlarms"),
    *_ops("logs.amazonaws.com", "DescribeLogGroups FilterLogEvents", "CreateLogStream"),
    *_ops("eks.amazonaws.com", "DescribeCluster ListClusters ListNodegroups DescribeNodegroup"),
    *_ops(
        "ecr.amazonaws.com",
        "GetAuthorizationToken BatchGetImage GetDownloadUrlForLayer DescribeRepositories "
        "DescribeImages BatchCheckLayerAvailability",
        "PutImage InitiateLayerUpload UploadLayerPart CompleteLayerUpload",
    ),
    *_ops(
        "rds.amazonaws.com",
        "DescribeDBInstances DescribeDBClusters DescribeDBSnapshots",
        "CreateDBSnapshot",
    ),
    *_ops("lambda.amazonaws.com", "ListFunctions20150331 GetFunction20150331v2"),
    *_ops(
        "cloudtrail.amazonaws.com",
        "DescribeTrails GetTrailStatus LookupEvents GetEventSelectors",
        "StopLogging DeleteTrail PutEventSelectors",
    ),
    *_ops("dynamodb.amazonaws.com", "DescribeTable ListTables"),
    *_ops(
        "elasticloadbalancing.amazonaws.com",
        "DescribeLoadBalancers DescribeTargetGroups DescribeTargetHealth",
        "RegisterTargets",
    ),
    *_ops(
        "autoscaling.amazonaws.com",
        "DescribeAutoScalingGroups",
        "SetDesiredCapacity UpdateAutoScalingGroup",
    ),
    *_ops(
        "route53.amazonaws.com",
        "ListHostedZones ListResourceRecordSets GetHostedZone",
        "ChangeResourceRecordSets",
    ),
    *_ops("guardduty.amazonaws.com", "ListDetectors ListFindings GetFindings"),
    *_ops("organizations.amazonaws.com", "DescribeOrganization ListAccounts"),
    *_ops("config.amazonaws.com", "DescribeComplianceByConfigRule DescribeConfigRules"),
    *_ops("securityhub.amazonaws.com", "GetFindings"),
    *_ops("athena.amazonaws.com", "GetQueryExecution GetQueryResults", "StartQueryExecution"),
    *_ops("glue.amazonaws.com", "GetTable GetDatabases GetTables"),
    *_ops("cloudformation.amazonaws.com", "DescribeStacks ListStacks"),
    *_ops("tagging.amazonaws.com", "GetResources"),
    *_ops("sns.amazonaws.com", "ListTopics"),
    *_ops("sqs.amazonaws.com", "ListQueues"),
    *_ops("ce.amazonaws.com", "GetCostAndUsage"),
    *_ops("signin.amazonaws.com", "", "ConsoleLogin"),
]
AWS_OPS: dict[str, AwsOp] = {op.key: op for op in _ALL_OPS}


def _mix(spec: str) -> dict[str, float]:
    """``"ec2:DescribeInstances=3 s3:ListBuckets=1"`` -> a weight per operation.

    >>> _mix("s3:ListBuckets=2 sts:GetCallerIdentity=0.5")
    {'s3:ListBuckets': 2.0, 'sts:GetCallerIdentity': 0.5}
    """
    mix = {}
    for item in spec.split():
        key, _, weight = item.partition("=")
        if key not in AWS_OPS:
            raise KeyError(f"unknown AWS operation {key!r}")
        mix[key] = float(weight)
    return mix


# What a person does in AWS on an ordinary day, by team kind (read-heavy).
HUMAN_AWS_MIXES: dict[str, dict[str, float]] = {
    "product": _mix(
        "ec2:DescribeInstances=3 ec2:DescribeSecurityGroups=1 logs:FilterLogEvents=4 "
        "logs:DescribeLogGroups=2 monitoring:GetMetricData=4 monitoring:DescribeAlarms=1 "
        "s3:ListBuckets=1 s3:ListObjects=2 s3:GetObject=2 rds:DescribeDBInstances=1 "
        "eks:DescribeCluster=1 ecr:DescribeImages=1 secretsmanager:DescribeSecret=0.3 "
        "ssm:GetParameter=1 lambda:ListFunctions20150331=0.5 cloudformation:DescribeStacks=1 "
        "dynamodb:DescribeTable=0.5 sts:GetCallerIdentity=1"
    ),
    "data": _mix(
        "s3:ListObjects=5 s3:GetObject=5 s3:PutObject=2 athena:StartQueryExecution=3 "
        "athena:GetQueryExecution=4 athena:GetQueryResults=3 glue:GetTable=2 "
        "glue:GetDatabases=1 glue:GetTables=1 logs:FilterLogEvents=1 "
        "monitoring:GetMetricData=1 sts:GetCallerIdentity=1 s3:ListBuckets=1"
    ),
    "platform": _mix(
        "ec2:DescribeInstances=4 ec2:DescribeSecurityGroups=2 ec2:DescribeVpcs=1 "
        "ec2:DescribeSubnets=1 ec2:DescribeVolumes=1 autoscaling:DescribeAutoScalingGroups=2 "
        "eks:DescribeCluster=2 eks:ListNodegroups=1 eks:DescribeNodegroup=1 iam:GetRole=1 "
        "iam:ListRoles=0.5 iam:ListAttachedRolePolicies=0.5 monitoring:GetMetricData=2 "
        "logs:FilterLogEvents=2 elasticloadbalancing:DescribeLoadBalancers=1 "
        "elasticloadbalancing:DescribeTargetHealth=1 route53:ListResourceRecordSets=0.5 "
        "ssm:StartSession=0.3 ec2:CreateTags=0.2 autoscaling:UpdateAutoScalingGroup=0.1 "
        "cloudformation:DescribeStacks=1"
    ),
    "security": _mix(
        "iam:ListUsers=1 iam:ListRoles=1 iam:GetPolicyVersion=1 "
        "iam:GetAccountAuthorizationDetails=0.3 cloudtrail:LookupEvents=3 "
        "cloudtrail:DescribeTrails=1 cloudtrail:GetTrailStatus=1 guardduty:ListFindings=2 "
        "guardduty:GetFindings=2 config:DescribeComplianceByConfigRule=1 "
        "securityhub:GetFindings=2 s3:GetBucketPolicy=1 s3:GetBucketAcl=1 kms:ListKeys=0.5 "
        "ec2:DescribeSecurityGroups=1"
    ),
}

# The low-and-slow reconnaissance sweep: one or two calls into many services.
RECON_OPS: tuple[str, ...] = (
    "sts:GetCallerIdentity",
    "iam:ListUsers",
    "iam:ListRoles",
    "iam:ListPolicies",
    "iam:GetAccountAuthorizationDetails",
    "iam:ListGroups",
    "ec2:DescribeInstances",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DescribeSnapshots",
    "s3:ListBuckets",
    "s3:GetBucketPolicy",
    "rds:DescribeDBInstances",
    "lambda:ListFunctions20150331",
    "kms:ListKeys",
    "secretsmanager:ListSecrets",
    "ssm:DescribeParameters",
    "eks:ListClusters",
    "cloudtrail:DescribeTrails",
    "guardduty:ListDetectors",
    "organizations:DescribeOrganization",
    "dynamodb:ListTables",
    "ecr:DescribeRepositories",
    "route53:ListHostedZones",
    "cloudformation:ListStacks",
    "sns:ListTopics",
    "sqs:ListQueues",
)
