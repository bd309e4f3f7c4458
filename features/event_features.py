"""Features of an event on its own: what kind of action, on what, with what outcome.

Each function returns a polars expression over the normalized columns and says
in its docstring which behaviour it exposes. Action and resource strings differ
by source (Kubernetes verbs such as ``create``; CloudTrail ``iam:AttachUserPolicy``;
policy names), so the classes below match both forms.
"""

from __future__ import annotations

import polars as pl

_ACTION = pl.col("action").str.to_lowercase()
_RESOURCE = pl.col("resource").str.to_lowercase()
# The API name of a cloud action ("iam:AttachUserPolicy" -> "attachuserpolicy"); a k8s verb as is.
_CALL = _ACTION.str.replace(r"^[^:]*:", "")

READ_PATTERN = r"^(get|list|watch|describe|head|lookup|search|batchget|scan|query|select)"
WRITE_PATTERN = (
    r"^(create|update|patch|put|modify|set|run|start|register|add|tag|import|copy|upload"
    r"|send|invoke|enable|associate|authorize|share)"
)
DELETE_PATTERN = r"^(delete|deletecollection|remove|terminate|revoke|deregister|destroy|purge)"
IAM_CHANGE_PATTERN = (
    r"^iam:(attach|put|create|update|add|detach|delete|remove)"
    r".*(policy|role|user|group|accesskey|loginprofile|openidconnect|saml)"
)
AUTH_PATTERN = (
    r"^(signin:|sts:|sso:|k8s:tokenreviews)|consolelogin|getfederationtoken|getsessiontoken"
)
LOGGING_PATTERN = (
    r"^cloudtrail:(stoplogging|deletetrail|updatetrail|puteventselectors|putinsightselectors)"
    r"|^ec2:deleteflowlogs|^logs:(deleteloggroup|deletelogstream|putretentionpolicy)"
    r"|^route53resolver:(delete|disassociate)resolverqueryl"
    r"|^guardduty:(delete|disable|update)detector|^config:(stop|delete)configurationrecorder"
)
RBAC_RESOURCES = ("roles", "rolebindings", "clusterroles", "clusterrolebindings")
SECRET_PATTERN = (  # a pattern naming secret stores, not a secret
    r"^secrets|^secretsmanager:|^ssm:getparameter|^kms:decrypt|getpassworddata"  # noqa: S105
    r"|^iam:createaccesskey"
)
INTERACTIVE_PATTERN = (
    r"^pods/(exec|attach|portforward)$|^ssm:(startsession|sendcommand)"
    r"|^ec2-instance-connect:|sendserialconsolesshpublickey"
)
DATA_READ_PATTERN = (
    r"^(getobject|selectobjectcontent|getsecretvalue|batchgetsecretvalue|getparameters?$"
    r"|getparametersbypath|decrypt|getitem|batchgetitem|scan|query|exportsnapshot"
    r"|downloaddblogfileportion|getlogevents|filterlogevents)"
)
LIST_PATTERN = r"^(list|describe|search|lookup)"
K8S_DATA_RESOURCES = ("secrets", "configmaps")
POLICY_SOURCES = ("opa", "gatekeeper", "kyverno", "falco")


def flag(condition: pl.Expr) -> pl.Expr:
    """A boolean condition as 0.0/1.0, with unknown (null) counting as 0."""
    return condition.fill_null(value=False).cast(pl.Float64)


def is_weekend() -> pl.Expr:
    """Saturday or Sunday (UTC): most human change happens on working days."""
    return flag(pl.col("event_time").dt.weekday() >= 6)


def is_read() -> pl.Expr:
    """A read-only call: the bulk of normal traffic for most actors."""
    return flag(_CALL.str.contains(READ_PATTERN))


def is_data_read() -> pl.Expr:
    """Reading stored data itself (an object, a secret value, rows), not metadata about it."""
    k8s_data = (_CALL == "get") & _RESOURCE.is_in(K8S_DATA_RESOURCES)
    return flag(_CALL.str.contains(DATA_READ_PATTERN) | k8s_data)


def is_list() -> pl.Expr:
    """Listing and describing: breadth of these in a short time is enumeration."""
    return flag(_CALL.str.contains(LIST_PATTERN))


def is_write() -> pl.Expr:
    """A create/update/patch/put-like call: a change to the environment."""
    return flag(_CALL.str.contains(WRITE_PATTERN))


def is_delete() -> pl.Expr:
    """A deletion: rare for most actors; many of them are destructive."""
    return flag(_CALL.str.contains(DELETE_PATTERN))


def is_privilege_change() -> pl.Expr:
    """A change to who may do what: RBAC writes, IAM policy/user/key changes, impersonation."""
    rbac_write = _RESOURCE.is_in(RBAC_RESOURCES) & ~_CALL.str.contains(READ_PATTERN)
    k8s_escalation = _CALL.is_in(("impersonate", "escalate", "bind"))
    return flag(rbac_write | k8s_escalation | _ACTION.str.contains(IAM_CHANGE_PATTERN))


def is_auth() -> pl.Expr:
    """Sign-ins, token and role-assumption calls: how identities come to act."""
    return flag(_ACTION.str.contains(AUTH_PATTERN))


def is_logging_change() -> pl.Expr:
    """Turning off or reshaping audit logging: the classic cover-your-tracks move."""
    return flag(_ACTION.str.contains(LOGGING_PATTERN))


def touches_secrets() -> pl.Expr:
    """Secrets, secret stores, decryption keys and credentials: the most sensitive objects."""
    return flag(_RESOURCE.str.contains(SECRET_PATTERN) | _ACTION.str.contains(SECRET_PATTERN))


def touches_rbac_or_iam() -> pl.Expr:
    """Access-control objects (k8s RBAC, AWS IAM), read or written."""
    return flag(_RESOURCE.is_in(RBAC_RESOURCES) | _ACTION.str.starts_with("iam:"))


def is_interactive() -> pl.Expr:
    """Hands-on access to a workload: exec/attach/port-forward, SSM sessions, instance connect."""
    return flag(
        _RESOURCE.str.contains(INTERACTIVE_PATTERN) | _ACTION.str.contains(INTERACTIVE_PATTERN)
    )


def is_denied() -> pl.Expr:
    """The request was denied: probing and missing permissions show up as denials."""
    return flag(pl.col("outcome") == "deny")


def is_error() -> pl.Expr:
    """The request failed for another reason than authorization."""
    return flag(pl.col("outcome") == "error")


def is_policy_violation() -> pl.Expr:
    """A policy engine reported a failure or warning (or an admission denial)."""
    return flag(
        pl.col("source").is_in(POLICY_SOURCES) & pl.col("outcome").is_in(("fail", "warn", "deny"))
    )


def is_login_without_mfa() -> pl.Expr:
    """A console sign-in without a second factor (CloudTrail ``MFAUsed: No``)."""
    return flag(pl.col("policy") == "mfa:no")


def is_service_account() -> pl.Expr:
    """Machine identities behave periodically; humans do not."""
    return flag(pl.col("actor_type").is_in(("service_account", "AWSService", "service")))


def is_cluster_scoped() -> pl.Expr:
    """No namespace: cluster-wide objects have a wider blast radius."""
    return flag(pl.col("namespace").is_null())


# Features whose share follows the calendar: a window shorter than their cycle (a week)
# is not comparable with a training period that spans whole weeks, so drift checks on
# short windows leave them out (a weekday hour has no weekend events, and says nothing).
CALENDAR_FEATURES = ("is_weekend",)
CALENDAR_CYCLE_DAYS = 7

EVENT_FEATURES = (
    is_weekend,
    is_read,
    is_data_read,
    is_list,
    is_write,
    is_delete,
    is_privilege_change,
    is_auth,
    is_logging_change,
    touches_secrets,
    touches_rbac_or_iam,
    is_interactive,
    is_denied,
    is_error,
    is_policy_violation,
    is_login_without_mfa,
    is_service_account,
    is_cluster_scoped,
)
