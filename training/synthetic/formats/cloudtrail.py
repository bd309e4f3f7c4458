"""AWS CloudTrail records (one record per line) from columns of API calls.

Each call becomes a record as CloudTrail delivers it: ``eventVersion``,
``userIdentity`` (built from the calling principal and its current session:
temporary ``ASIA`` keys rotate per session, IAM users' ``AKIA`` keys do not),
``eventTime`` in whole seconds, ``eventSource``/``eventName``, region, source
address and user agent, ``requestParameters``, ``errorCode``/``errorMessage``
on failures, ``readOnly``, management vs. data event fields (S3 object calls
carry ``resources``), and console sign-ins their ``additionalEventData``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from training.synthetic.batch import Batch, concat_columns, dumps
from training.synthetic.catalogue import AWS_OPS
from training.synthetic.clock import rfc3339_seconds
from training.synthetic.org import AwsPrincipal
from training.synthetic.randomness import IntArray, uuid4_strings

SOURCE = "cloudtrail"
GLOBAL_SERVICES = frozenset({"iam", "organizations", "route53", "ce", "signin"})
ERROR_MESSAGES = {
    "AccessDenied": "User: {arn} is not authorized to perform: {action} because no "
    "identity-based policy allows the {action} action",
    "Client.UnauthorizedOperation": "You are not authorized to perform this operation.",
    "NoSuchKey": "The specified key does not exist.",
    "ThrottlingException": "Rate exceeded",
    "ResourceNotFoundException": "Resource not found",
}


@dataclass
class AwsCalls:
    """Columns of AWS API calls, one row per call.

    ``principal`` keys :attr:`training.synthetic.org.Org.aws`; ``session`` is the
    start time of the credentials' session (µs), which fixes the temporary key
    and ``creationDate``; ``console`` marks calls made from the web console
    (temporary credentials for IAM users too); ``mfa`` whether that session
    used MFA; ``response`` replaces ``responseElements``.
    """

    time: IntArray
    principal: list[str]
    op: list[str]
    region: list[str]
    ip: list[str]
    agent: list[str]
    error: list[str | None]
    params: list[dict[str, Any] | None]
    session: IntArray
    console: list[bool]
    mfa: list[bool]
    response: list[dict[str, Any] | None]

    def __len__(self) -> int:
        return len(self.principal)

    @classmethod
    def concat(cls, parts: Sequence[AwsCalls]) -> AwsCalls:
        if not parts:
            return cls.rows([])
        return cls(**concat_columns(parts, ("time", "session")))

    @classmethod
    def rows(cls, rows: Sequence[Mapping[str, Any]]) -> AwsCalls:
        """Calls from a few explicit rows (scenarios); missing optional fields default."""
        defaults: dict[str, Any] = {
            "error": None,
            "params": None,
            "console": False,
            "mfa": False,
            "response": None,
        }
        full = [{**defaults, **row} for row in rows]
        return cls(
            time=np.array([r["time"] for r in full], dtype=np.int64),
            principal=[r["principal"] for r in full],
            op=[r["op"] for r in full],
            region=[r["region"] for r in full],
            ip=[r["ip"] for r in full],
            agent=[r["agent"] for r in full],
            error=[r["error"] for r in full],
            params=[r["params"] for r in full],
            session=np.array([r.get("session", r["time"]) for r in full], dtype=np.int64),
            console=[r["console"] for r in full],
            mfa=[r["mfa"] for r in full],
            response=[r["response"] for r in full],
        )


def _resources(
    op_key: str, params: Mapping[str, Any] | None, account: str
) -> list[dict[str, str]] | None:
    """The ``resources`` array of S3 data events and KMS calls.

    >>> [r["ARN"] for r in _resources("s3:GetObject", {"bucketName": "b", "key": "k"}, "1")]
    ['arn:aws:s3:::b/k', 'arn:aws:s3:::b']
    """
    if params is None:
        return None
    bucket = params.get("bucketName")
    if op_key.startswith("s3:") and AWS_OPS[op_key].data_event and bucket:
        out = []
        if "key" in params:
            out.append({"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{params['key']}"})
        out.append(
            {"accountId": account, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}
        )
        return out
    key_id = params.get("keyId")
    if op_key.startswith("kms:") and isinstance(key_id, str) and key_id.startswith("arn:"):
        return [{"accountId": account, "type": "AWS::KMS::Key", "ARN": key_id}]
    return None


def write(
    calls: AwsCalls, rng: np.random.Generator, principals: Mapping[str, AwsPrincipal]
) -> Batch:
    """Serialise ``calls`` as CloudTrail records, one JSON object per line."""
    n = len(calls)
    event_ids = uuid4_strings(rng, n)
    request_ids = uuid4_strings(rng, n)
    times = rfc3339_seconds(calls.time)
    sessions = calls.session.tolist()
    session_text = rfc3339_seconds(calls.session)
    identities: dict[tuple[str, int, bool, bool], dict[str, Any]] = {}
    lines: list[bytes] = []
    for i in range(n):
        key = calls.principal[i]
        principal = principals[key]
        console = calls.console[i]
        cache_key = (key, sessions[i], console, calls.mfa[i])
        identity = identities.get(cache_key)
        if identity is None:
            temporary = principal.kind != "iam_user" or console
            access = principal.session_key(sessions[i]) if temporary else principal.long_term_key()
            identity = principal.identity(session_text[i], access, calls.mfa[i], sessions[i])
            identities[cache_key] = identity
        op = AWS_OPS[calls.op[i]]
        service = op.source.split(".", 1)[0]
        region = "us-east-1" if service in GLOBAL_SERVICES else calls.region[i]
        params = calls.params[i]
        error = calls.error[i]
        record: dict[str, Any] = {
            "eventVersion": "1.10" if op.data_event else "1.09",
            "userIdentity": identity,
            "eventTime": times[i],
            "eventSource": op.source,
            "eventName": op.name,
            "awsRegion": region,
            "sourceIPAddress": calls.ip[i],
            "userAgent": calls.agent[i],
        }
        if error:
            arn = identity.get("arn", principal.name)
            record["errorCode"] = error
            record["errorMessage"] = ERROR_MESSAGES.get(error, error).format(
                arn=arn, action=calls.op[i]
            )
        if op.name == "ConsoleLogin":
            record["requestParameters"] = None
            record["responseElements"] = calls.response[i] or {"ConsoleLogin": "Success"}
            record["additionalEventData"] = {
                "LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs",
                "MobileVersion": "No",
                "MFAUsed": "Yes" if calls.mfa[i] else "No",
            }
            record["eventID"] = event_ids[i]
            record["readOnly"] = False
            record["eventType"] = "AwsConsoleSignIn"
        else:
            record["requestParameters"] = params
            record["responseElements"] = None if error else calls.response[i]
            record["requestID"] = request_ids[i]
            record["eventID"] = event_ids[i]
            record["readOnly"] = op.read_only
            resources = _resources(calls.op[i], params, principal.account)
            if resources:
                record["resources"] = resources
            record["eventType"] = "AwsApiCall"
            if console:
                record["sessionCredentialFromConsole"] = "true"
        record["managementEvent"] = not op.data_event
        record["recipientAccountId"] = principal.account
        record["eventCategory"] = "Data" if op.data_event else "Management"
        if principal.kind not in ("service",) and not console and op.name != "ConsoleLogin":
            record["tlsDetails"] = {
                "tlsVersion": "TLSv1.3",
                "cipherSuite": "TLS_AES_128_GCM_SHA256",
                "clientProvidedHostHeader": (
                    f"{service}.amazonaws.com"
                    if service in GLOBAL_SERVICES
                    else f"{service}.{region}.amazonaws.com"
                ),
            }
        lines.append(dumps(record))
    return Batch(SOURCE, calls.time.copy(), lines, [(e,) for e in event_ids])
