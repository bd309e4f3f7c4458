"""A batch of messages decoded into columns: polars' JSON reader, then expressions.

This is the scorer's hot path: bytes -> source frames -> one normalized frame.
The batch's messages are grouped by source (the topic's pinned source, or a mark
in the text), screened with one regular expression per source, parsed by polars'
compiled NDJSON reader against that source's fixed schema (the Kubernetes audit
or CloudTrail fields the adapters read), and normalized with expressions, so no
Python runs per event.

The per-message path (:func:`features.decode.normalize_message` and the source
adapters) stays the reference. The columnar path only *claims* a message when it
is sure to produce exactly the adapter's rows, and hands every other message to
that path: other sources, containers (``Records``, Kubernetes lists), messages
the reader rejects, missing required fields, and text fields whose JSON type the
reader would have blurred (:data:`UNSURE`). The reader writes any JSON value into
a text column as text, so a number, a boolean, an object or an array in a text
field is not claimed, because the adapter formats or rejects those differently.
Other sources (policy reports, OPA, Gatekeeper, Falco, generic) are normalized
per message. Messages that
are wrong come out of the per-message path with their precise dead-letter reasons.
``tests/features/test_columnar.py`` holds the two paths to the same output.

One known difference is left: when an object repeats a key, the reader keeps the
first value and the adapters keep the last. RFC 8259 leaves that case
unspecified; no audit source writes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import polars as pl

from features import decode
from features.exceptions import FeatureError
from features.schema import TEXT_SCHEMA, NormalizedEvent
from features.sources import cloudtrail, gatekeeper, k8s_audit, policyreport

MESSAGE = "_message"  # index of the message a row came from, in the batch
# A chunk the reader rejects is halved until it is this small, then read per message.
PER_MESSAGE_CHUNK = 16
COLUMNAR_SOURCES = (k8s_audit.SOURCE, cloudtrail.SOURCE)

_TEXT = pl.String()
_K8S_ANNOTATIONS = ("authorization.k8s.io/decision", "authorization.k8s.io/reason")
# The containers the decoder opens: a message holding one is left to the adapters.
_CONTAINER_SCHEMA: dict[str, pl.DataType] = {"Records": _TEXT, "items": _TEXT, "kind": _TEXT}
# One schema per source: the reader's cost grows with the columns it builds, so each
# source's messages are read for that source's fields only.
K8S_SCHEMA: dict[str, pl.DataType] = {
    **_CONTAINER_SCHEMA,
    "apiVersion": _TEXT,
    "stage": _TEXT,
    "auditID": _TEXT,
    "verb": _TEXT,
    "requestReceivedTimestamp": _TEXT,
    "stageTimestamp": _TEXT,
    "userAgent": _TEXT,
    "sourceIPs": pl.List(_TEXT),
    "user": pl.Struct({"username": _TEXT}),
    "impersonatedUser": pl.Struct({"username": _TEXT}),
    "objectRef": pl.Struct(
        {"resource": _TEXT, "subresource": _TEXT, "name": _TEXT, "namespace": _TEXT}
    ),
    "responseStatus": pl.Struct({"code": pl.Int64()}),
    "annotations": pl.Struct(dict.fromkeys(_K8S_ANNOTATIONS, _TEXT)),
}
CLOUDTRAIL_SCHEMA: dict[str, pl.DataType] = {
    **_CONTAINER_SCHEMA,
    "eventVersion": _TEXT,
    "eventSource": _TEXT,
    "eventName": _TEXT,
    "eventID": _TEXT,
    "eventTime": _TEXT,
    "@timestamp": _TEXT,
    "awsRegion": _TEXT,
    "recipientAccountId": _TEXT,
    "errorCode": _TEXT,
    "sourceIPAddress": _TEXT,
    "userAgent": _TEXT,
    "userIdentity": pl.Struct(
        {
            "type": _TEXT,
            "userName": _TEXT,
            "arn": _TEXT,
            "principalId": _TEXT,
            "invokedBy": _TEXT,
            "accountId": _TEXT,
            "onBehalfOf": pl.Struct({"userId": _TEXT}),
            "sessionContext": pl.Struct({"sessionIssuer": pl.Struct({"userName": _TEXT})}),
        }
    ),
    "resources": pl.List(pl.Struct({"type": _TEXT, "ARN": _TEXT, "ARNPrefix": _TEXT})),
    "requestParameters": pl.Struct(dict.fromkeys(cloudtrail.OBJECT_PARAMETERS, _TEXT)),
    "responseElements": pl.Struct({"ConsoleLogin": _TEXT}),
    "additionalEventData": pl.Struct({"MFAUsed": _TEXT}),
    # What the adapters tried before CloudTrail's detect on
    "apiVersion": _TEXT,
    "event_type": _TEXT,
    "eventType": _TEXT,
    "decision_id": _TEXT,
    "rule": _TEXT,
    "priority": _TEXT,
}
SCHEMAS = {k8s_audit.SOURCE: K8S_SCHEMA, cloudtrail.SOURCE: CLOUDTRAIL_SCHEMA}
# A cheap mark of each source in a message's text, to pick the schema it is read with
# when its topic pins no source. A wrong pick costs speed, never a wrong row: a row is
# only claimed when its parsed fields show the source.
SOURCE_MARKS = {k8s_audit.SOURCE: "audit.k8s.io/", cloudtrail.SOURCE: '"eventSource"'}

# Screens on the message text, each a reason to leave the message to the adapters. They
# are alternatives of one regular expression per source, so the text is scanned once.
# A raw line break: a pretty-printed message would be two NDJSON lines to the reader.
_LINE_BREAK = r"[\n\r]"
# An escaped lone surrogate is invalid JSON to the adapters' parser, not to the reader.
_SURROGATE_ESCAPE = r"\\u[dD][89abAB]"
# A key written with an escape (``"verb\u0020"``, ``"a\/b"``): the key screens below
# read keys as written, the reader reads them decoded.
_ESCAPED_KEY = r'\\[^"]*"\s*:'


def _valued(keys: Sequence[str], starts: str) -> str:
    """A screen for any of ``keys`` holding a JSON value that starts with a character of
    the class ``starts``.

    The reader writes an object or array read into a text column as JSON text, and a
    number or boolean as its digits or word (a fraction in another notation than
    Python's ``str``); the adapters reject such values, skip them or write them their
    own way. A key of the same name elsewhere in the message only costs the fast path.
    """
    names = "|".join(re.escape(key) for key in sorted(set(keys)))
    return f'"(?:{names})"\\s*:\\s*[{starts}]'


def _screen_pattern(*alternatives: str) -> str:
    return "|".join([_LINE_BREAK, _SURROGATE_ESCAPE, _ESCAPED_KEY, *alternatives])


# The text fields each source's rows are made of, by their (last) key.
_K8S_TEXT_KEYS = (
    "stage",
    "auditID",
    "verb",
    "userAgent",
    "requestReceivedTimestamp",
    "stageTimestamp",
    "username",
    "resource",
    "subresource",
    "name",
    "namespace",
    *_K8S_ANNOTATIONS,
)
_CLOUDTRAIL_TEXT_KEYS = (
    "eventSource",
    "eventName",
    "eventID",
    "eventTime",
    "@timestamp",
    "awsRegion",
    "recipientAccountId",
    "errorCode",
    "sourceIPAddress",
    "userAgent",
    "ConsoleLogin",
    "MFAUsed",
    "type",
    "ARN",
    "ARNPrefix",
    "userName",
    "arn",
    "principalId",
    "invokedBy",
    "accountId",
    "userId",
    *cloudtrail.OBJECT_PARAMETERS,
)
# Per source: a text field holding anything but text or null, and the source's own cases.
UNSURE = {
    k8s_audit.SOURCE: _screen_pattern(
        _valued(_K8S_TEXT_KEYS, '^"n'),
        # The adapter writes a first address that is not text with Python's ``str``.
        r'"sourceIPs"\s*:\s*\[\s*[^"\]\s]',
        # A status code that is not an integer of 64 bits, or null: the adapter rejects it.
        r'"code"\s*:\s*(?:[^\-0-9n\s]|-?[0-9]+[.eE]|-?[0-9]{19})',
    ),
    cloudtrail.SOURCE: _screen_pattern(
        _valued(_CLOUDTRAIL_TEXT_KEYS, '^"n'),
        # A resource that is not an object: the adapter rejects it.
        r'"resources"\s*:\s*\[\s*[^{\]\s]',
    ),
}


@dataclass
class DecodedBatch:
    """A batch's normalized rows (``event_time`` still text) and its bad messages."""

    frame: pl.DataFrame
    errors: list[tuple[int, FeatureError]] = field(default_factory=list)
    columnar: int = 0  # messages normalized in columns
    per_message: int = 0  # messages normalized by their adapter, one at a time


RowFilter = Callable[[int, list[NormalizedEvent]], list[NormalizedEvent]]


def normalize_messages(
    values: Sequence[bytes],
    sources: Sequence[str | None],
    max_bytes: int = decode.DEFAULT_MAX_MESSAGE_BYTES,
    keep: RowFilter | None = None,
) -> DecodedBatch:
    """Normalize a batch; ``sources[i]`` is message ``i``'s pinned source (None: detect).

    Rows come in message order, each with its message's index in ``MESSAGE``.
    ``keep(index, rows)``, when given, filters the rows of each message the
    adapters normalize (policy-report results already seen); the columnar path
    only yields Kubernetes audit and CloudTrail rows, which such a filter keeps.
    """
    if len(values) != len(sources):
        raise ValueError("one source (or None) per message")
    text = _as_text(values)
    screened = _screen(text, pl.Series("source", sources, dtype=pl.String), max_bytes)
    frames: list[pl.DataFrame] = []
    claimed = np.zeros(len(values), dtype=bool)
    for (group,), marked in screened.filter(pl.col("group").is_not_null()).group_by("group"):
        candidates = marked.filter(~pl.col("text").str.contains(UNSURE[str(group)]))
        for chunk, parsed in _read_chunks(candidates, values, SCHEMAS[str(group)]):
            if parsed is None:
                continue
            normalized = _normalize(str(group), chunk, parsed)
            frames.append(normalized.filter(pl.col("event_id").is_not_null()))
            claimed[normalized[MESSAGE].to_numpy()] = True
    batch = DecodedBatch(frame=pl.DataFrame(schema={**TEXT_SCHEMA, MESSAGE: pl.Int64()}))
    batch.columnar = int(claimed.sum())
    fallback_rows: list[NormalizedEvent] = []
    fallback_index: list[int] = []
    for index in np.flatnonzero(~claimed).tolist():
        batch.per_message += 1
        try:
            rows = decode.normalize_message(values[index] or b"", sources[index], max_bytes)
        except FeatureError as exc:
            batch.errors.append((index, exc))
            continue
        if keep is not None:
            rows = keep(index, rows)
        fallback_rows.extend(rows)
        fallback_index.extend([index] * len(rows))
    if fallback_rows:
        frames.append(
            pl.DataFrame(fallback_rows, schema=TEXT_SCHEMA).with_columns(
                pl.Series(MESSAGE, fallback_index, dtype=pl.Int64)
            )
        )
    if frames:
        batch.frame = pl.concat([batch.frame, *frames]).sort(MESSAGE, maintain_order=True)
    return batch


def _as_text(values: Sequence[bytes]) -> pl.Series:
    """The messages as text; a message that is not UTF-8 is null (left to the adapters).

    One cast for the batch; only a batch holding such a message is decoded one message
    at a time, as polars refuses the whole cast.
    """
    binary = pl.Series("text", values, dtype=pl.Binary)
    try:
        return binary.cast(pl.String)
    except pl.exceptions.ComputeError:
        return pl.Series("text", [_utf8_or_none(value) for value in values], dtype=pl.String)


def _utf8_or_none(value: bytes | None) -> str | None:
    try:
        return value.decode("utf-8") if value is not None else None
    except UnicodeDecodeError:
        return None


def _screen(text: pl.Series, source: pl.Series, max_bytes: int) -> pl.DataFrame:
    """Which messages the columnar path may try, and as which source (``group``): one
    object per line-free message, in a form the reader and the adapters read alike."""
    body, pinned = pl.col("text"), pl.col("source")
    # The pinned source, else the first source whose mark the text shows.
    group = pl.coalesce(
        pl.when(pinned.is_in(COLUMNAR_SOURCES)).then(pinned),
        *(
            pl.when(pinned.is_null() & body.str.contains(mark, literal=True)).then(pl.lit(name))
            for name, mark in SOURCE_MARKS.items()
        ),
    )
    readable = (
        body.is_not_null()
        & (body.str.len_bytes() <= max_bytes)
        & body.str.strip_chars_start().str.starts_with("{")
    ).fill_null(False)
    return (
        pl.DataFrame([text, source])
        .with_row_index(MESSAGE)
        .cast({MESSAGE: pl.Int64})
        .with_columns(pl.when(readable).then(group).alias("group"))
    )


def _read_chunks(
    candidates: pl.DataFrame, values: Sequence[bytes], schema: dict[str, pl.DataType]
) -> list[tuple[pl.DataFrame, pl.DataFrame | None]]:
    """Parse the candidates; a chunk the reader rejects is halved until the bad
    messages are isolated in small chunks (None), left to the adapters."""
    if candidates.height == 0:
        return []
    try:
        data = b"\n".join([values[index] for index in candidates[MESSAGE].to_list()])
        parsed = pl.read_ndjson(data, schema=schema)
    except (pl.exceptions.PolarsError, ValueError):
        parsed = None
    if parsed is not None and parsed.height == candidates.height:
        return [(candidates, parsed)]
    if candidates.height <= PER_MESSAGE_CHUNK:
        return [(candidates, None)]
    half = candidates.height // 2
    return _read_chunks(candidates.slice(0, half), values, schema) + _read_chunks(
        candidates.slice(half), values, schema
    )


def _normalize(source: str, chunk: pl.DataFrame, parsed: pl.DataFrame) -> pl.DataFrame:
    """Rows of the messages this path is sure of (a null ``event_id`` where the
    adapter yields no row); a message without a row here is left to the adapters."""
    frame = pl.concat([chunk.select(MESSAGE, "source", "text"), parsed], how="horizontal")
    claim, rows = (_k8s_rows if source == k8s_audit.SOURCE else _cloudtrail_rows)()
    return frame.lazy().filter(claim).select(*rows).select(*TEXT_SCHEMA, MESSAGE).collect()


def _single_document() -> pl.Expr:
    """Not a container the decoder opens (a CloudTrail file, a Kubernetes list)."""
    return pl.col("Records").is_null() & ~(
        pl.col("kind").is_in(decode.LIST_KINDS).fill_null(False) & pl.col("items").is_not_null()
    )


def _text(name: str) -> pl.Expr:
    """A text field, with ``None`` for an empty text as the adapters' ``x or None`` reads."""
    column = pl.col(name) if "." not in name else _path(name)
    return pl.when(column == "").then(None).otherwise(column)


def _path(name: str) -> pl.Expr:
    head, *rest = name.split(".")
    expr = pl.col(head)
    for step in rest:
        expr = expr.struct.field(step)
    return expr


# --- Kubernetes audit ------------------------------------------------------------------


@cache  # built once: building the expressions costs more than running them on a small batch
def _k8s_rows() -> tuple[pl.Expr, list[pl.Expr]]:
    """Which audit events are claimed, and their rows; a claimed event of an unscored
    stage has a null ``event_id``, dropped by the caller, as the adapter yields none."""
    is_audit = (pl.col("kind") == "Event") & pl.col("apiVersion").str.starts_with("audit.k8s.io/")
    pinned = pl.col("source") == k8s_audit.SOURCE
    stage = pl.col("stage")
    scored = stage.is_in(k8s_audit.SCORED_STAGES)
    username = pl.coalesce(_text("impersonatedUser.username"), _text("user.username"))
    ips = pl.col("sourceIPs")
    first_ip = ips.list.first()
    annotations = pl.col("annotations")
    decision = annotations.struct.field(_K8S_ANNOTATIONS[0])
    reason = annotations.struct.field(_K8S_ANNOTATIONS[1])
    # Text fields holding objects, arrays or non-text first addresses were screened out
    # (UNSURE); what is left are the adapter's own refusals.
    sure = (stage.is_not_null() & (stage != "")) & (
        ~scored
        | (
            (_text("auditID").is_not_null())
            & (_text("verb").is_not_null())
            & username.is_not_null()
            & pl.coalesce(_text("requestReceivedTimestamp"), _text("stageTimestamp")).is_not_null()
        )
    )
    claim = (
        (pinned | (pl.col("source").is_null() & is_audit)).fill_null(False)
        & _single_document()
        & sure.fill_null(False)
    )
    resource = _path("objectRef.resource")
    subresource = _path("objectRef.subresource")
    code = _path("responseStatus.code")
    outcome = (
        pl.when(stage == "Panic")
        .then(pl.lit("error"))
        .when((decision == "forbid").fill_null(False) | code.is_in([401, 403]).fill_null(False))
        .then(pl.lit("deny"))
        .when(code.is_null() | (code < 400))
        .then(pl.lit("allow"))
        .otherwise(pl.lit("error"))
    )
    return claim, [
        pl.col(MESSAGE),
        pl.when(scored).then(pl.col("auditID")).alias("event_id"),
        pl.lit(k8s_audit.SOURCE).alias("source"),
        pl.coalesce(_text("requestReceivedTimestamp"), pl.col("stageTimestamp")).alias(
            "event_time"
        ),
        username.alias("actor"),
        _k8s_actor_type(username).alias("actor_type"),
        pl.col("verb").alias("action"),
        pl.when((resource != "") & (subresource != ""))
        .then(pl.concat_str(resource, pl.lit("/"), subresource))
        .otherwise(resource)
        .alias("resource"),
        _path("objectRef.name").alias("object"),
        _path("objectRef.namespace").alias("namespace"),
        outcome.alias("outcome"),
        first_ip.alias("source_ip"),
        pl.col("userAgent").alias("user_agent"),
        pl.when(reason != "").then(reason).alias("policy"),
        pl.lit(None, dtype=pl.String).alias("severity"),
        pl.col("text").alias("raw"),
    ]


def _k8s_actor_type(username: pl.Expr) -> pl.Expr:
    """:func:`features.sources.k8s_audit.actor_type`, as an expression."""
    return (
        pl.when(username.str.starts_with("system:serviceaccount:"))
        .then(pl.lit("service_account"))
        .when(username.str.starts_with("system:node:"))
        .then(pl.lit("node"))
        .when(username == "system:anonymous")
        .then(pl.lit("anonymous"))
        .when(username.str.starts_with("system:"))
        .then(pl.lit("system"))
        .otherwise(pl.lit("user"))
    )


# --- CloudTrail ------------------------------------------------------------------------


def _no_earlier_adapter() -> pl.Expr:
    """None of the adapters tried before CloudTrail's can match (``features.sources.ADAPTERS``)."""
    kind, api_version = pl.col("kind"), pl.col("apiVersion")
    k8s = (kind == "Event") & api_version.str.starts_with("audit.k8s.io/")
    report = kind.is_in(policyreport.KINDS) & pl.any_horizontal(
        [api_version.str.starts_with(group) for group in policyreport.GROUPS]
    )
    gatekeeper_event = pl.col("event_type").is_in(gatekeeper.LOG_EVENTS) | pl.col(
        "eventType"
    ).is_in(gatekeeper.EXPORT_EVENTS)
    opa_decision = pl.col("decision_id").is_not_null()  # opa.matches
    falco_alert = pl.col("rule").is_not_null() & pl.col("priority").is_not_null()  # falco.matches
    return ~(
        k8s.fill_null(False)
        | report.fill_null(False)
        | gatekeeper_event.fill_null(False)
        | opa_decision
        | falco_alert
    )


@cache
def _cloudtrail_rows() -> tuple[pl.Expr, list[pl.Expr]]:
    """Which CloudTrail records are claimed, and their rows (one per record)."""
    source, name = pl.col("eventSource"), pl.col("eventName")
    identity = pl.col("userIdentity")
    detected = (
        pl.col("source").is_null()
        & source.is_not_null()
        & name.is_not_null()
        & (pl.col("eventVersion").is_not_null() | identity.is_not_null())
        & _no_earlier_adapter()
    )
    pinned = pl.col("source") == cloudtrail.SOURCE
    first = pl.col("resources").list.first()
    event_time = pl.coalesce(pl.col("eventTime"), pl.col("@timestamp"))
    parameters = [_path(f"requestParameters.{key}") for key in cloudtrail.OBJECT_PARAMETERS]
    # Text fields holding objects or arrays, and numbers or booleans where the adapter
    # wants text, were screened out (UNSURE); what is left are the adapter's own refusals.
    sure = (
        (source != "")
        & (name != "")
        & _text("eventID").is_not_null()
        & (event_time != "")
        # A resource that is null, not an object, is rejected by the adapter.
        & (pl.col("resources").list.len().fill_null(0).eq(0) | first.is_not_null())
    )
    claim = (
        (pinned.fill_null(False) | detected.fill_null(False))
        & _single_document()
        & sure.fill_null(False)
    )
    service = source.str.split_exact(".", 1).struct.field("field_0")
    kind = _path("userIdentity.type")
    user_name = _text("userIdentity.userName")
    arn = _path("userIdentity.arn")
    parts = arn.str.splitn(":", 6)
    arn_resource = (
        pl.when(
            (parts.struct.field("field_0") == "arn")
            & parts.struct.field("field_5").is_not_null()
            & (parts.struct.field("field_5") != "")
        )
        .then(parts.struct.field("field_5"))
        .otherwise(None)
    )
    principal_id = _text("userIdentity.principalId")
    account = _text("userIdentity.accountId")
    by_kind = (
        pl.when(kind == "IAMUser")
        .then(pl.coalesce(user_name, arn_resource))
        .when(kind == "IdentityCenterUser")
        .then(pl.coalesce(_text("userIdentity.onBehalfOf.userId"), user_name))
        .when(kind == "AssumedRole")
        .then(
            pl.when(arn_resource.str.starts_with("assumed-role/"))
            .then(arn_resource.str.strip_prefix("assumed-role/"))
            .otherwise(_path("userIdentity.sessionContext.sessionIssuer.userName"))
        )
        .when(kind == "Root")
        .then(pl.lit("root"))
        .when(kind == "AWSService")
        .then(_path("userIdentity.invokedBy"))
        .when(kind == "FederatedUser")
        .then(arn_resource)
        .when(kind == "AWSAccount")
        .then(pl.when(account.is_not_null()).then(pl.concat_str(pl.lit("account/"), account)))
        .otherwise(_path("userIdentity.userName"))
    )
    actor = pl.when(identity.is_not_null()).then(
        pl.coalesce(pl.when(by_kind != "").then(by_kind), user_name, principal_id, arn_resource)
    )
    actor_type = pl.when(identity.is_not_null()).then(
        kind.replace_strict(cloudtrail.ACTOR_TYPES, default="unknown", return_dtype=pl.String)
    )
    account_id = pl.coalesce(_text("recipientAccountId"), account)
    region = _text("awsRegion")
    namespace = pl.concat_str(account_id, region, separator="/", ignore_nulls=True)
    error_code = _text("errorCode")
    is_login = name == "ConsoleLogin"
    denied = pl.any_horizontal(
        [
            error_code.str.to_lowercase().str.contains(marker, literal=True)
            for marker in cloudtrail.DENY_MARKERS
        ]
    )
    outcome = (
        pl.when(error_code.is_not_null())
        .then(pl.when(denied).then(pl.lit("deny")).otherwise(pl.lit("error")))
        .when(is_login & (_path("responseElements.ConsoleLogin") == "Failure"))
        .then(pl.lit("deny"))
        .otherwise(pl.lit("allow"))
    )
    mfa = _text("additionalEventData.MFAUsed")
    object_ = pl.coalesce(
        _text_of(first.struct.field("ARN")),
        _text_of(first.struct.field("ARNPrefix")),
        *(_text_of(p) for p in parameters),
    )
    return claim, [
        pl.col(MESSAGE),
        pl.col("eventID").alias("event_id"),
        pl.lit(cloudtrail.SOURCE).alias("source"),
        event_time.alias("event_time"),
        actor.alias("actor"),
        actor_type.alias("actor_type"),
        pl.concat_str(service, pl.lit(":"), name).alias("action"),
        pl.coalesce(_text_of(first.struct.field("type")), service).alias("resource"),
        object_.alias("object"),
        pl.when(namespace != "").then(namespace).alias("namespace"),
        outcome.alias("outcome"),
        pl.col("sourceIPAddress").alias("source_ip"),
        pl.col("userAgent").alias("user_agent"),
        pl.when(is_login & mfa.is_not_null())
        .then(pl.concat_str(pl.lit("mfa:"), mfa.str.to_lowercase()))
        .alias("policy"),
        pl.lit(None, dtype=pl.String).alias("severity"),
        pl.col("text").alias("raw"),
    ]


def _text_of(column: pl.Expr) -> pl.Expr:
    """Null for an empty text: the adapter's ``value or next`` skips it."""
    return pl.when(column != "").then(column)
