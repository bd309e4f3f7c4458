"""AWS CloudTrail records: one per message, or the ``Records`` of a delivered file.

``{"Records": [...]}`` is opened by :func:`features.decode.unwrap`; this adapter
sees single records. Records shipped by Logstash (CloudTrail fields at the top
level plus ``@timestamp``/``@version``, sometimes without ``eventTime``) are the
same shape and are accepted too.

The actor is a stable, readable principal per ``userIdentity.type``, so the same
identity always gets the same name across sessions where AWS allows it:

====================  ========================================  ==============
``userIdentity.type`` actor                                     actor_type
====================  ========================================  ==============
IAMUser               ``userName`` (else ARN ``user/<name>``)   ``user``
IdentityCenterUser    ``onBehalfOf.userId`` (else ``userName``) ``user``
AssumedRole           ``<role>/<session>`` from the ARN         ``role``
Root                  ``root``                                  ``root``
AWSService            ``invokedBy`` (``ec2.amazonaws.com``)     ``service``
FederatedUser         ``federated-user/<name>`` from the ARN    ``federated``
SAMLUser              ``userName`` (else ``principalId``)       ``federated``
WebIdentityUser       ``userName`` (else ``principalId``)       ``federated``
AWSAccount            ``account/<accountId>``                   ``account``
Unknown / other       ``userName``, else ``principalId``        ``unknown``
====================  ========================================  ==============

Field mapping:

=============  ==========================================================
column         from
=============  ==========================================================
event_id       ``eventID``
event_time     ``eventTime`` (else the shipper's ``@timestamp``)
actor          see above (null when the record has no ``userIdentity``)
action         ``eventSource`` short name + ``:`` + ``eventName``
               (``iam:AttachUserPolicy``)
resource       ``resources[0].type`` (``AWS::S3::Bucket``), else the service
               short name (``iam``)
object         ``resources[0].ARN`` (or ``ARNPrefix``), else a name from
               ``requestParameters`` (``bucketName``, ``userName``, ...)
namespace      ``<recipientAccountId or userIdentity.accountId>/<awsRegion>``
outcome        ``errorCode``: access denied / unauthorized / forbidden codes
               are ``deny``, any other code ``error``, none ``allow``;
               a ``ConsoleLogin`` with ``responseElements.ConsoleLogin:
               Failure`` is ``deny``
source_ip      ``sourceIPAddress`` (a service name for AWS-internal calls)
user_agent     ``userAgent``
policy         ``ConsoleLogin`` only: ``mfa:yes`` / ``mfa:no`` from
               ``additionalEventData.MFAUsed`` (a console sign-in without MFA
               is the signal analysts look for)
=============  ==========================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from features.exceptions import AdapterError
from features.schema import NormalizedEvent
from features.sources.fields import field, opt_list, opt_str, req_str
from features.sources.generic import raw_text, utc_text

SOURCE = "cloudtrail"

ACTOR_TYPES = {
    "IAMUser": "user",
    "IdentityCenterUser": "user",
    "AssumedRole": "role",
    "Root": "root",
    "AWSService": "service",
    "FederatedUser": "federated",
    "SAMLUser": "federated",
    "WebIdentityUser": "federated",
    "AWSAccount": "account",
}
DENY_MARKERS = ("accessdenied", "unauthorized", "forbidden")
OBJECT_PARAMETERS = (
    "bucketName",
    "userName",
    "roleName",
    "groupName",
    "policyArn",
    "functionName",
    "secretId",
    "trailName",
    "name",
    "keyId",
    "instanceId",
    "snapshotId",
    "imageId",
    "dBSnapshotIdentifier",
)


def matches(doc: Mapping[str, Any]) -> bool:
    """A CloudTrail record names the calling service and the API operation."""
    return (
        isinstance(doc.get("eventSource"), str)
        and isinstance(doc.get("eventName"), str)
        and ("eventVersion" in doc or "userIdentity" in doc)
    )


def arn_resource(arn: str | None) -> str | None:
    """The resource part of an ARN (after the fifth colon).

    >>> arn_resource("arn:aws:sts::123456789012:assumed-role/Admin/alice")
    'assumed-role/Admin/alice'
    >>> arn_resource("not-an-arn") is None
    True
    """
    if not arn:
        return None
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 and parts[0] == "arn" and parts[5] else None


def principal(identity: Mapping[str, Any]) -> tuple[str | None, str]:
    """``(actor, actor_type)`` for a ``userIdentity`` object (see the module table).

    >>> principal({"type": "AssumedRole",
    ...            "arn": "arn:aws:sts::1:assumed-role/Deployer/i-0abc"})
    ('Deployer/i-0abc', 'role')
    >>> principal({"type": "AWSService", "invokedBy": "ec2.amazonaws.com"})
    ('ec2.amazonaws.com', 'service')
    """
    kind = opt_str(identity, "type")
    user_name = opt_str(identity, "userName")
    resource = arn_resource(opt_str(identity, "arn"))
    principal_id = opt_str(identity, "principalId")
    actor: str | None
    if kind == "IAMUser":
        actor = user_name or resource
    elif kind == "IdentityCenterUser":
        actor = opt_str(identity, "onBehalfOf.userId") or user_name
    elif kind == "AssumedRole":
        if resource and resource.startswith("assumed-role/"):
            actor = resource.removeprefix("assumed-role/")
        else:
            actor = opt_str(identity, "sessionContext.sessionIssuer.userName")
    elif kind == "Root":
        actor = "root"
    elif kind == "AWSService":
        actor = opt_str(identity, "invokedBy")
    elif kind == "FederatedUser":
        actor = resource
    elif kind == "AWSAccount":
        account = opt_str(identity, "accountId")
        actor = f"account/{account}" if account else None
    else:
        actor = user_name
    return actor or user_name or principal_id or resource, ACTOR_TYPES.get(kind or "", "unknown")


def outcome(error_code: str | None, console_login: str | None) -> str:
    """Denied, failed or allowed, from ``errorCode`` (and a console sign-in's result).

    >>> outcome("Client.UnauthorizedOperation", None), outcome("ThrottlingException", None)
    ('deny', 'error')
    >>> outcome(None, "Failure"), outcome(None, None)
    ('deny', 'allow')
    """
    if error_code:
        lowered = error_code.lower()
        return "deny" if any(marker in lowered for marker in DENY_MARKERS) else "error"
    return "deny" if console_login == "Failure" else "allow"


def _object(doc: Mapping[str, Any], first: Mapping[str, Any] | None) -> str | None:
    if first is not None:
        arn = opt_str(first, "ARN") or opt_str(first, "ARNPrefix")
        if arn:
            return arn
    parameters = doc.get("requestParameters")
    if isinstance(parameters, Mapping):
        for key in OBJECT_PARAMETERS:
            value = parameters.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def normalize(doc: Mapping[str, Any], raw: str | None = None) -> list[NormalizedEvent]:
    """One row per record."""
    event_source = req_str(doc, "eventSource")
    event_name = req_str(doc, "eventName")
    service = event_source.split(".", 1)[0]
    identity = field(doc, "userIdentity")
    if identity is not None and not isinstance(identity, Mapping):
        raise AdapterError("field 'userIdentity': expected an object", reason="bad_field")
    actor, actor_type = principal(identity) if identity is not None else (None, None)
    resources = opt_list(doc, "resources")
    first = resources[0] if resources else None
    if first is not None and not isinstance(first, Mapping):
        raise AdapterError("field 'resources': expected objects", reason="bad_field")
    account = opt_str(doc, "recipientAccountId") or (
        opt_str(identity, "accountId") if identity is not None else None
    )
    region = opt_str(doc, "awsRegion")
    namespace = "/".join(part for part in (account, region) if part) or None
    policy = None
    console_login = None
    if event_name == "ConsoleLogin":
        console_login = opt_str(doc, "responseElements.ConsoleLogin")
        mfa = opt_str(doc, "additionalEventData.MFAUsed")
        policy = f"mfa:{mfa.lower()}" if mfa else None
    time_value = field(doc, "eventTime")
    time_path = "eventTime"
    if time_value is None:
        time_value, time_path = field(doc, "@timestamp"), "@timestamp"
    if time_value is None:
        raise AdapterError("required field 'eventTime' is missing", reason="missing_field")
    return [
        {
            "event_id": req_str(doc, "eventID"),
            "source": SOURCE,
            "event_time": utc_text(time_value, time_path),
            "actor": actor,
            "actor_type": actor_type,
            "action": f"{service}:{event_name}",
            "resource": (opt_str(first, "type") if first is not None else None) or service,
            "object": _object(doc, first),
            "namespace": namespace,
            "outcome": outcome(opt_str(doc, "errorCode"), console_login),
            "source_ip": opt_str(doc, "sourceIPAddress"),
            "user_agent": opt_str(doc, "userAgent"),
            "policy": policy,
            "severity": None,
            "raw": raw_text(doc, raw),
        }
    ]
