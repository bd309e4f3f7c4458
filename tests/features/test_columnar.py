"""The columnar decoder gives exactly what the per-message path gives, message for message.

:func:`features.columnar.normalize_messages` claims Kubernetes audit and CloudTrail
messages for polars' reader and expressions and hands every other message to
:func:`features.decode.normalize_message`. Its whole contract is parity: for any
batch and any pinned sources, the same rows in message order (with the message's
index), the same errors (index, class, reason, text), and every message counted
once, by one path or the other. The reference is always built here by calling the
per-message path on each message in turn.

Not generated: an object that repeats a key (the one difference columnar.py documents).
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from features import decode, sources
from features.columnar import (
    COLUMNAR_SOURCES,
    MESSAGE,
    PER_MESSAGE_CHUNK,
    DecodedBatch,
    RowFilter,
    normalize_messages,
)
from features.exceptions import FeatureError
from features.files import iter_documents
from features.schema import SOURCES, TEXT_SCHEMA, NormalizedEvent
from features.sources import configure_generic, generic
from tests.features.sources.samples import (
    GENERIC_MAPPING,
    SAMPLES,
    json_values,
    mutated,
    otrf_records,
    stratus_records,
)
from tests.features.test_decode import k8s_event
from tests.features.test_fixtures_read import FILES, FIXTURES
from training.synthetic import generate

DEFAULT_MAX = decode.DEFAULT_MAX_MESSAGE_BYTES
Errors = list[tuple[int, FeatureError]]
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(autouse=True, scope="module")
def generic_mapping() -> Iterator[None]:
    """Generic events are in the mix, so the (process-wide) mapping is set for this module."""
    configure_generic(GENERIC_MAPPING)
    yield
    generic.reset()


# --- the reference and the one assertion ----------------------------------------------


def per_message(
    values: Sequence[bytes],
    pins: Sequence[str | None],
    max_bytes: int = DEFAULT_MAX,
    keep: RowFilter | None = None,
) -> tuple[pl.DataFrame, Errors]:
    """Rows and errors of the per-message path, one message at a time, in order."""
    rows: list[NormalizedEvent] = []
    index: list[int] = []
    errors: Errors = []
    for position, (value, source) in enumerate(zip(values, pins, strict=True)):
        try:
            got = decode.normalize_message(value, source, max_bytes)
        except FeatureError as exc:
            errors.append((position, exc))
            continue
        if keep is not None:
            got = keep(position, got)
        rows.extend(got)
        index.extend([position] * len(got))
    frame = pl.DataFrame(rows, schema=TEXT_SCHEMA).with_columns(
        pl.Series(MESSAGE, index, dtype=pl.Int64)
    )
    return frame, errors


def error_keys(errors: Errors) -> list[tuple[int, type[FeatureError], str, str]]:
    return [(index, type(error), error.reason, str(error)) for index, error in errors]


def assert_same_as_per_message(
    values: Sequence[bytes],
    pins: Sequence[str | None],
    max_bytes: int = DEFAULT_MAX,
    keep: RowFilter | None = None,
) -> DecodedBatch:
    """The columnar batch equals the per-message reference: rows, errors, counts."""
    batch = normalize_messages(values, pins, max_bytes=max_bytes, keep=keep)
    frame, errors = per_message(values, pins, max_bytes, keep)
    assert_frame_equal(batch.frame, frame)
    assert error_keys(batch.errors) == error_keys(errors)
    assert batch.columnar + batch.per_message == len(values)
    return batch


def true_source(value: bytes) -> str | None:
    """The source the per-message path finds for a message (from its rows; for a
    message with no row, such as a ``RequestReceived`` stage, from detection)."""
    try:
        rows = decode.normalize_message(value)
    except FeatureError:
        return None
    if rows:
        return rows[0]["source"]
    try:
        events = decode.unwrap(orjson.loads(value))
        return sources.detect(events[0]).source if events else None
    except (orjson.JSONDecodeError, FeatureError):
        return None


def wrong_source(source: str | None) -> str:
    """Another real source: the two columnar ones swap, the others read as audit events."""
    return "cloudtrail" if source == "k8s_audit" else "k8s_audit"


def pinned_as(truth: Sequence[str | None], pin: str) -> list[str | None]:
    """Each message's pin: none (``detect``), its ``true`` source or a ``wrong`` one."""
    if pin == "detect":
        return [None] * len(truth)
    return list(truth) if pin == "true" else [wrong_source(source) for source in truth]


def pins_for(values: Sequence[bytes], pin: str) -> list[str | None]:
    return pinned_as([true_source(value) for value in values], pin)


# --- real fixtures ----------------------------------------------------------------------


def _is_yaml(path: Path) -> bool:
    return path.name.endswith((".yaml", ".yml"))


def fixture_events(path: Path) -> tuple[list[dict[str, Any]], list[bytes]]:
    """A fixture file's events (JSON round-tripped, so YAML times are text) and, for a
    line-delimited file, its original lines: each is one Kafka message as shipped."""
    events: list[dict[str, Any]] = []
    lines: list[bytes] = []
    for where, doc in iter_documents([path]):
        assert not isinstance(doc, FeatureError), where
        events.extend(orjson.loads(orjson.dumps(event)) for event in decode.unwrap(doc))
        if where.rsplit(":", 1)[-1].isdigit():  # read line by line
            lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    return events, lines


def fixture_messages(path: Path) -> list[bytes]:
    """Every event of a fixture as its own message (compact, spaced with ``\\u`` escapes,
    pretty-printed), the file's own lines, and the whole file as one message."""
    events, lines = fixture_events(path)
    messages = [orjson.dumps(event) for event in events]
    messages += [json.dumps(event).encode() for event in events]
    messages += [json.dumps(event, indent=2, ensure_ascii=False).encode() for event in events]
    messages += lines
    messages.append(orjson.dumps({"Records": events}))
    messages.append(orjson.dumps(events))
    if not _is_yaml(path):
        messages.append(path.read_bytes())
    return messages


@pytest.mark.parametrize("pin", ["detect", "true", "wrong"])
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_fixture_events_match_per_message(path: Path, pin: str) -> None:
    """Real events, one per message and in containers, decode alike on both paths,
    whether the topic pins no source, the right one or a wrong one."""
    messages = fixture_messages(path)
    batch = assert_same_as_per_message(messages, pins_for(messages, pin))
    if pin == "wrong":
        assert batch.errors  # the other adapter misses fields the source always writes
    else:
        assert batch.frame.height > 0


def test_columnar_path_claims_fixture_cloudtrail_records() -> None:
    """Real CloudTrail records, one compact record per message, take the fast path."""
    records = [r for p in FILES if not _is_yaml(p) for r in fixture_events(p)[0]]
    assert len(records) == 310 + 103
    messages = [orjson.dumps(record) for record in records]
    batch = assert_same_as_per_message(messages, [None] * len(messages))
    assert batch.columnar >= 0.9 * len(messages)


# --- generated environments ------------------------------------------------------------


@dataclass(frozen=True)
class Generated:
    lines: list[bytes]
    sources: list[str | None]  # each line's true source, from the per-message path

    def of(self, *wanted: str) -> list[bytes]:
        return [line for line, s in zip(self.lines, self.sources, strict=True) if s in wanted]

    def pins(self, pin: str, *wanted: str) -> list[str | None]:
        return pinned_as([s for s in self.sources if not wanted or s in wanted], pin)


# (profile, seed): the default organisation and another one, with another seed
GENERATED = {"default": 7, "follow-the-sun": 23}


@pytest.fixture(scope="module")
def environments(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Generated]:
    """A few small generated days per profile, written once for the module."""
    found: dict[str, Generated] = {}
    for profile, seed in GENERATED.items():
        out = tmp_path_factory.mktemp(f"columnar-{profile}")
        generate(out, seed=seed, days=3, events_per_day=300, profile=profile)
        lines = [
            line
            for name in ("train.jsonl", "test.jsonl")
            for line in (out / name).read_bytes().splitlines()
        ]
        found[profile] = Generated(lines, [true_source(line) for line in lines])
    return found


@pytest.mark.parametrize("profile", GENERATED)
def test_generated_data_holds_every_source(
    environments: dict[str, Generated], profile: str
) -> None:
    """The parity tests below cover each source the generator writes."""
    assert set(environments[profile].sources) == {
        "k8s_audit",
        "cloudtrail",
        "opa",
        "gatekeeper",
        "kyverno",
        "falco",
    }


@pytest.mark.parametrize("pin", ["detect", "true", "wrong"])
@pytest.mark.parametrize("profile", GENERATED)
def test_generated_lines_match_per_message(
    environments: dict[str, Generated], profile: str, pin: str
) -> None:
    """Every generated line, its topic pinning no source, the right one or a wrong one."""
    env = environments[profile]
    assert_same_as_per_message(env.lines, env.pins(pin))


@pytest.mark.parametrize("pin", ["detect", "true"])
@pytest.mark.parametrize("source", COLUMNAR_SOURCES)
@pytest.mark.parametrize("profile", GENERATED)
def test_columnar_path_claims_generated_events(
    environments: dict[str, Generated], profile: str, source: str, pin: str
) -> None:
    """The fast path is really used: it claims nearly all audit and CloudTrail lines."""
    env = environments[profile]
    lines = env.of(source)
    assert len(lines) >= 300
    batch = assert_same_as_per_message(lines, env.pins(pin, source))
    assert batch.columnar >= 0.9 * len(lines)


@pytest.mark.parametrize("profile", GENERATED)
def test_columnar_path_claims_no_other_source(
    environments: dict[str, Generated], profile: str
) -> None:
    """Policy engines' messages are all left to their adapters (which ``keep`` sees)."""
    others = environments[profile].of("opa", "gatekeeper", "kyverno", "falco")
    batch = assert_same_as_per_message(others, [None] * len(others))
    assert batch.columnar == 0
    assert batch.per_message == len(others)


# --- the keep filter -------------------------------------------------------------------


def _columnar_rows(rows: list[NormalizedEvent]) -> bool:
    return bool(rows) and rows[0]["source"] in COLUMNAR_SOURCES


def drop_odd_messages(index: int, rows: list[NormalizedEvent]) -> list[NormalizedEvent]:
    return rows if index % 2 == 0 or _columnar_rows(rows) else []


def failed_results_only(index: int, rows: list[NormalizedEvent]) -> list[NormalizedEvent]:
    return rows if _columnar_rows(rows) else [r for r in rows if r["outcome"] == "fail"]


def first_row_only(index: int, rows: list[NormalizedEvent]) -> list[NormalizedEvent]:
    return rows if _columnar_rows(rows) else rows[:1]


# Each leaves audit and CloudTrail rows alone, as the stream's filter (reports already
# seen) does: the columnar path does not call ``keep`` for the messages it claims.
KEEPS: dict[str, RowFilter] = {
    "drop_odd_messages": drop_odd_messages,
    "failed_results_only": failed_results_only,
    "first_row_only": first_row_only,
}


def report_messages() -> list[bytes]:
    """The wg-policy reports, each document one compact message."""
    return [orjson.dumps(e) for p in FILES if _is_yaml(p) for e in fixture_events(p)[0]]


@pytest.mark.parametrize("keep", sorted(KEEPS))
def test_keep_filters_per_message_rows_as_the_reference(
    environments: dict[str, Generated], keep: str
) -> None:
    """``keep`` sees the adapters' rows (policy reports) exactly as if applied per
    message; audit and CloudTrail messages are interleaved, at odd and even indexes."""
    env = environments["default"]
    reports = env.of("kyverno") + report_messages()
    audit = env.of(*COLUMNAR_SOURCES)
    messages: list[bytes] = []
    for n, report in enumerate(reports):
        messages.append(report)
        if n % 2 == 0:
            messages.append(audit[n])
    pins: list[str | None] = [None] * len(messages)
    batch = assert_same_as_per_message(messages, pins, keep=KEEPS[keep])
    unfiltered, _ = per_message(messages, pins)
    assert 0 < batch.frame.height < unfiltered.height  # the filter did drop rows
    assert batch.columnar > 0


def test_keep_on_policy_reports_only() -> None:
    """Reports alone, rows of odd messages dropped: only even messages keep rows."""
    messages = report_messages()
    pins: list[str | None] = [None] * len(messages)
    batch = assert_same_as_per_message(messages, pins, keep=drop_odd_messages)
    assert set(batch.frame[MESSAGE].to_list()) == set(range(0, len(messages), 2))
    assert batch.columnar == 0


# --- fixed cases: shapes the reader and the adapters may read differently ---------------

K8S = orjson.dumps(k8s_event(sourceIPs=["10.0.0.1"], userAgent="kubectl")).decode()
CLOUDTRAIL = orjson.dumps(stratus_records("aws.persistence.iam-create-admin-user")[0]).decode()


def _with(base: str, old: str, new: str) -> bytes:
    assert old in base
    return base.replace(old, new, 1).encode()


def _extra(base: str, member: str) -> bytes:
    """``base`` with one more member appended to its top-level object."""
    return (base[:-1] + "," + member + "}").encode()


TRICKY: dict[str, bytes] = {
    "trailing garbage": (K8S + " x").encode(),
    "two objects": (K8S + K8S).encode(),
    "two objects spaced": (K8S + " " + K8S).encode(),
    "trailing comma in object": (K8S[:-1] + ",}").encode(),
    "trailing comma after object": (K8S + ",").encode(),
    "raw tab in text": _with(K8S, '"get"', '"g\tet"'),
    "raw control character in text": _with(K8S, '"get"', '"g\x01et"'),
    "raw NUL in text": _with(K8S, '"get"', '"g\x00et"'),
    "escaped NUL in text": _with(K8S, '"get"', '"g\\u0000et"'),
    "NaN": _extra(K8S, '"x":NaN'),
    "Infinity": _extra(K8S, '"x":-Infinity'),
    "leading zero": _extra(K8S, '"x":012'),
    "leading zero in code": _with(K8S, '"code":200', '"code":0200'),
    "plus sign": _extra(K8S, '"x":+1'),
    "bare fraction": _extra(K8S, '"x":.5'),
    "single quotes": _extra(K8S, "'x':1"),
    "comment": (K8S[:-1] + "/* c */}").encode(),
    "deep array": _extra(K8S, '"x":' + "[" * 1100 + "]" * 1100),
    "deep object": _extra(K8S, '"x":' + '{"a":' * 600 + "1" + "}" * 600),
    "big integer in an ignored field": _extra(K8S, '"x":123456789012345678901234567890'),
    "huge float in an ignored field": _extra(K8S, '"x":1e400'),
    "lone high surrogate": _with(K8S, '"get"', '"\\ud800"'),
    "lone low surrogate": _with(K8S, '"get"', '"\\udc00"'),
    "reversed surrogates": _with(K8S, '"get"', '"\\udc00\\ud800"'),
    "surrogate pair": _with(K8S, '"get"', '"\\ud83d\\ude00"'),
    "escaped key": _with(K8S, '"verb"', '"\\u0076erb"'),
    "escaped value": _with(K8S, '"get"', '"\\u0067\\u00e9t"'),
    "escaped slash": _with(K8S, '"get"', '"g\\/et"'),
    "escaped code key holding text": _with(K8S, '"code":200', '"\\u0063ode":"403"'),
    "quoted code": _with(K8S, '"code":200', '"code" : "403"'),
    "code true": _with(K8S, '"code":200', '"code":true'),
    "code as a float": _with(K8S, '"code":200', '"code":403.0'),
    "code above 64 bits": _with(K8S, '"code":200', '"code":18446744073709551616'),
    "negative zero text": _with(K8S, '"verb":"get"', '"verb":-0'),
    "negative zero address": _with(K8S, '["10.0.0.1"]', "[-0]"),
    "address true": _with(K8S, '["10.0.0.1"]', "[true]"),
    "address null": _with(K8S, '["10.0.0.1"]', '[null,"10.0.0.2"]'),
    "address object": _with(K8S, '["10.0.0.1"]', '[{"ip":"10.0.0.1"}]'),
    "addresses as text": _with(K8S, '["10.0.0.1"]', '"10.0.0.1"'),
    "user as text": _with(K8S, '{"username":"alice"}', '"alice"'),
    "impersonated user as text": _extra(K8S, '"impersonatedUser":"bob"'),
    "annotations as text": _extra(K8S, '"annotations":"x"'),
    "BOM": ("\ufeff" + K8S).encode(),
    "no-break space before": ("\u00a0" + K8S).encode(),
    "form feed before": ("\x0c" + K8S).encode(),
    "tab before, spaces after": ("\t" + K8S + "  \t").encode(),
    "form feed after": (K8S + "\x0c").encode(),
    "NUL after": (K8S + "\x00").encode(),
    "CRLF after": (K8S + "\r\n").encode(),
    "empty key": _extra(K8S, '"":1'),
    "Records null": _extra(K8S, '"Records":null'),
    "Records text": _extra(K8S, '"Records":"x"'),
    "Records empty": _extra(K8S, '"Records":[]'),
    "list kind without items": _with(K8S, '"kind":"Event"', '"kind":"EventList"'),
    "identity as text": _with(CLOUDTRAIL, '"userIdentity":{', '"userIdentity":"x","u":{'),
    "empty identity": _with(CLOUDTRAIL, '"userIdentity":{', '"userIdentity":{},"u":{'),
    "resources as an object": _extra(CLOUDTRAIL, '"resources":{}'),
    "resource as text": _extra(CLOUDTRAIL, '"resources":["x"]'),
    "resource null": _extra(CLOUDTRAIL, '"resources":[null]'),
    "event time as an integer": _with(CLOUDTRAIL, '"eventTime":"', '"eventTime":1700000000,"x":"'),
    "event time empty": _with(CLOUDTRAIL, '"eventTime":"', '"eventTime":"","x":"'),
    "decision id null": _extra(CLOUDTRAIL, '"decision_id":null,"path":"p"'),
    "rule and priority": _extra(CLOUDTRAIL, '"rule":"r","priority":"p","output":"o"'),
}


@pytest.mark.parametrize("pin", [None, "k8s_audit", "cloudtrail"])
def test_tricky_single_line_messages_match_per_message(pin: str | None) -> None:
    """Spellings the NDJSON reader may accept, or read otherwise than orjson and the
    adapters, all in one batch between valid events; a difference names its case."""
    names = sorted(TRICKY)
    values = [K8S.encode(), *(TRICKY[name] for name in names), CLOUDTRAIL.encode()]
    pins = [None, *([pin] * len(names)), None]
    try:
        assert_same_as_per_message(values, pins)
    except AssertionError as exc:
        differ = []
        for name in names:
            try:
                assert_same_as_per_message([TRICKY[name]], [pin])
            except AssertionError:
                differ.append(name)
        raise AssertionError(f"differs from the per-message path for {differ}") from exc


def test_invalid_utf8_is_one_bad_message_not_a_failed_batch() -> None:
    """A message that is not UTF-8 is dead-lettered as ``invalid_utf8``; the batch goes on.

    The whole batch must not fail: polars' cast of the batch from ``Binary`` to
    ``String`` raises ``ComputeError: invalid utf8`` on such a value, even with
    ``strict=False`` (polars 2.1).
    """
    values = [K8S.encode(), b"\xff", K8S.encode().replace(b'"get"', b'"g\xffet"')]
    batch = assert_same_as_per_message(values, [None] * len(values))
    assert [(i, e.reason) for i, e in batch.errors] == [(1, "invalid_utf8"), (2, "invalid_utf8")]


SPACED_NUMBERS: dict[str, bytes] = {
    "exponent text": _with(K8S, '"verb":"get"', '"verb" :1e2'),
    "fraction text": _with(K8S, '"verb":"get"', '"verb" :1.0'),
    "small float text": _with(K8S, '"auditID":"a1"', '"auditID"\t:1e-7'),
    "integer above 64 bits": _with(K8S, '"verb":"get"', '"verb" : 100000000000000000000000'),
    "username": _with(K8S, '{"username":"alice"}', '{"username" :1e2}'),
    "CloudTrail name": _with(CLOUDTRAIL, '"eventName":"', '"eventName" :1e2,"x":"'),
    "CloudTrail event time": _with(CLOUDTRAIL, '"eventTime":"', '"eventTime" :1.5,"x":"'),
}


@pytest.mark.parametrize("name", sorted(SPACED_NUMBERS))
def test_number_after_a_spaced_colon_is_read_as_the_adapter_reads_it(name: str) -> None:
    """JSON allows whitespace between a key and its colon; a float there is still a float.

    A screen that looks for a number right after ``":`` misses ``"verb" :1e2``:
    polars writes ``100`` where the adapter writes ``str(100.0)``, and a float
    CloudTrail ``eventTime`` stays ``1.5`` instead of being converted from the epoch.
    """
    values = [SPACED_NUMBERS[name]]
    assert_same_as_per_message(values, [None])
    assert_same_as_per_message(values, [true_source(values[0]) or "cloudtrail"])


def test_a_rejected_message_costs_at_most_its_chunk() -> None:
    """The reader's rejection of one message is isolated by halving: the others of a
    large batch are still claimed, and all rows stay in message order."""
    good = [orjson.dumps(k8s_event(auditID=f"id-{n}")) for n in range(40)]
    values = [*good[:23], TRICKY["trailing garbage"], *good[23:]]
    batch = assert_same_as_per_message(values, [None] * len(values))
    assert batch.columnar >= len(good) - PER_MESSAGE_CHUNK
    assert [(index, error.reason) for index, error in batch.errors] == [(23, "not_json")]


def test_empty_batch() -> None:
    batch = assert_same_as_per_message([], [])
    assert batch.frame.schema == pl.Schema({**TEXT_SCHEMA, MESSAGE: pl.Int64()})


def test_one_source_per_message() -> None:
    with pytest.raises(ValueError, match="one source"):
        normalize_messages([b"{}"], [])


# --- property tests: mixed, malformed batches ------------------------------------------

STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")
USERNAMES = (
    "alice",
    "system:serviceaccount:ci:deployer",
    "system:node:worker-1",
    "system:anonymous",
    "system:kube-scheduler",
    "zoë@example.com",
    "",
)
SPECIAL_TEXT = (
    "",
    " ",
    "true",
    "false",
    "null",
    "0",
    "-1",
    "403",
    "1.5",
    "{}",
    "[1]",
    "Event",
    "EventList",
    "List",
    "audit.k8s.io/v1",
    "PolicyReport",
    "wgpolicyk8s.io/v1alpha2",
    "violation_audited",
    "ResponseComplete",
    "RequestReceived",
    "Panic",
    "forbid",
    "Failure",
    "AccessDenied",
    "Client.UnauthorizedOperation",
    "IAMUser",
    "AssumedRole",
    "AWSAccount",
    "IdentityCenterUser",
    "arn:aws:iam::1:user/bob",
    "arn:aws:sts::1:assumed-role/Admin/s",
    "arn:aws:sts::1:assumed-role/",
    "s3.amazonaws.com",
    "ConsoleLogin",
    "2026-03-02T10:00:00Z",
    "é\u2028\U0001f600",
    "ΑΣ",
    "İ",
    "ACCESSDENİED",
    "Ｆａｉｌｕｒｅ",
    'a"b\\c/',
    "\u0000\t\n",
)
NUMBERS = (0, -1, 200, 401, 403, 500, 2**63 - 1, 2**63, 2**64 - 1, -(2**63))
FLOATS = (0.0, -0.0, 1.0, 1.5, 100.0, 1e-7, 1e16, 1e300, 403.0, 1700000000.5)
field_values: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(SPECIAL_TEXT),
    st.none(),
    st.booleans(),
    st.sampled_from(NUMBERS),
    st.sampled_from(FLOATS),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    json_values,
)

Step = str | int


def _paths(*dotted: str) -> tuple[tuple[Step, ...], ...]:
    return tuple(tuple(int(s) if s.isdigit() else s for s in p.split(".")) for p in dotted)


K8S_PATHS = _paths(
    "kind",
    "apiVersion",
    "stage",
    "auditID",
    "verb",
    "user",
    "user.username",
    "impersonatedUser",
    "impersonatedUser.username",
    "objectRef",
    "objectRef.resource",
    "objectRef.subresource",
    "objectRef.name",
    "objectRef.namespace",
    "responseStatus",
    "responseStatus.code",
    "sourceIPs",
    "sourceIPs.0",
    "annotations",
    "requestReceivedTimestamp",
    "stageTimestamp",
    "userAgent",
    "Records",
    "items",
)
CLOUDTRAIL_PATHS = _paths(
    "eventVersion",
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
    "userIdentity",
    "userIdentity.type",
    "userIdentity.userName",
    "userIdentity.arn",
    "userIdentity.principalId",
    "userIdentity.invokedBy",
    "userIdentity.accountId",
    "userIdentity.onBehalfOf",
    "userIdentity.onBehalfOf.userId",
    "userIdentity.sessionContext",
    "userIdentity.sessionContext.sessionIssuer",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "resources",
    "resources.0",
    "resources.0.type",
    "resources.0.ARN",
    "resources.0.ARNPrefix",
    "requestParameters",
    "requestParameters.bucketName",
    "requestParameters.userName",
    "requestParameters.name",
    "responseElements",
    "responseElements.ConsoleLogin",
    "additionalEventData",
    "additionalEventData.MFAUsed",
    # what earlier adapters detect on, and the containers
    "kind",
    "apiVersion",
    "decision_id",
    "path",
    "rule",
    "priority",
    "output",
    "event_type",
    "constraint_kind",
    "eventType",
    "Records",
    "items",
)
TARGETS = {"k8s_audit": K8S_PATHS, "cloudtrail": CLOUDTRAIL_PATHS}
DELETE = object()


def _child(parent: Any, step: Step) -> Any:
    if isinstance(step, int):
        return parent[step] if isinstance(parent, list) and len(parent) > step else None
    return parent.get(step) if isinstance(parent, dict) else None


def _assign(parent: Any, step: Step, value: Any) -> None:
    if isinstance(step, int):
        if len(parent) > step:
            parent[step] = value
        else:
            parent.append(value)
    else:
        parent[step] = value


def set_path(doc: dict[str, Any], path: tuple[Step, ...], value: Any) -> None:
    """Set (or, with ``DELETE``, remove) ``path`` in ``doc``, creating missing parents."""
    parent: Any = doc
    for step, following in itertools.pairwise(path):
        child = _child(parent, step)
        if not isinstance(child, list if isinstance(following, int) else dict):
            if value is DELETE:
                return
            child = [] if isinstance(following, int) else {}
            _assign(parent, step, child)
        parent = child
    last = path[-1]
    if value is not DELETE:
        _assign(parent, last, value)
    elif isinstance(last, int) and isinstance(parent, list) and len(parent) > last:
        del parent[last]
    elif isinstance(last, str) and isinstance(parent, dict):
        parent.pop(last, None)


@cache
def cloudtrail_pool() -> tuple[dict[str, Any], ...]:
    """Every real CloudTrail record: Stratus detonations and Logstash-shipped OTRF."""
    stratus = [
        record
        for path in sorted((FIXTURES / "cloudtrail-stratus-detonations").glob("*.json"))
        for record in stratus_records(path.stem)
    ]
    return tuple(stratus + otrf_records())


@st.composite
def audit_events(draw: st.DrawFn) -> dict[str, Any]:
    """An audit event of any stage; a few audit IDs, so stages of one request repeat."""
    event: dict[str, Any] = dict(
        k8s_event(
            auditID=draw(st.sampled_from(["a1", "a2", "a3"])),
            stage=draw(st.sampled_from(STAGES)),
            verb=draw(st.sampled_from(["get", "list", "create", "delete"])),
            user={"username": draw(st.sampled_from(USERNAMES)), "groups": ["dev"]},
            objectRef={
                "resource": draw(st.sampled_from(["pods", "secrets", ""])),
                "subresource": draw(st.sampled_from(["", "exec", "log"])),
                "namespace": "dev",
                "name": "p",
                "apiVersion": "v1",
            },
            responseStatus={"metadata": {}, "code": draw(st.sampled_from(NUMBERS[:6]))},
            sourceIPs=draw(st.sampled_from([[], ["10.0.0.1"], ["10.0.0.1", "::1"]])),
            userAgent="kubectl/v1.31.0 (linux/amd64)",
            stageTimestamp="2026-03-02T10:00:00.120000Z",
        )
    )
    if draw(st.booleans()):
        event["annotations"] = {
            "authorization.k8s.io/decision": draw(st.sampled_from(["allow", "forbid"])),
            "authorization.k8s.io/reason": draw(st.sampled_from(["", 'RBAC: allowed by "x"'])),
        }
    if draw(st.booleans()):
        event["impersonatedUser"] = {"username": draw(st.sampled_from(USERNAMES))}
    if draw(st.booleans()):
        del event["requestReceivedTimestamp"]
    return event


@st.composite
def events(draw: st.DrawFn) -> tuple[str | None, Any]:
    """``(source, event)``: a valid event of any source, maybe with fields removed or
    given values of the wrong JSON type (on the fields the columnar path reads)."""
    source = draw(st.sampled_from(SOURCES))
    if source == "k8s_audit":
        event = draw(audit_events())
    elif source == "cloudtrail":
        event = copy.deepcopy(draw(st.sampled_from(cloudtrail_pool())))
    else:
        event = SAMPLES[source]()
    how = draw(st.sampled_from(["none", "targeted", "targeted", "anywhere"]))
    if how == "targeted" and source in TARGETS:
        for _ in range(draw(st.integers(min_value=1, max_value=3))):
            path = draw(st.sampled_from(TARGETS[source]))
            set_path(event, path, draw(st.one_of(st.just(DELETE), field_values)))
    elif how != "none":
        event = draw(mutated(lambda: event))
    return source, event


def pinned(draw: st.DrawFn, source: str | None) -> str | None:
    """No pin, the right pin, a wrong one, or a name no adapter has."""
    return draw(
        st.one_of(
            st.none(),
            st.just(source),
            st.sampled_from(SOURCES),
            st.sampled_from(["nope", "", "K8S_AUDIT"]),
        )
    )


@dataclass(frozen=True)
class Spelling:
    """How a document is written: separators, indentation, escapes, numbers."""

    colon: str = ":"
    comma: str = ","
    indent: int | None = None
    escape: str = "none"  # none | ascii | all
    numbers: str = "plain"  # plain | fraction (integers too) | exponent (floats, and -0)


def _text(value: str, escape: str) -> str:
    if escape == "all":
        return (
            '"'
            + "".join(
                f"\\u{ord(c):04x}" if ord(c) < 0x10000 else json.dumps(c)[1:-1] for c in value
            )
            + '"'
        )
    return json.dumps(value, ensure_ascii=escape == "ascii")


def _number(value: int | float, numbers: str) -> str:
    if isinstance(value, int):
        if numbers == "fraction":
            return f"{value}.0"
        if numbers == "exponent":
            return "-0" if value == 0 else str(value)
        return str(value)
    if numbers == "exponent":
        return f"{value:e}"
    return repr(value)


def spell(value: Any, how: Spelling, depth: int = 0) -> str:
    """``value`` as JSON text, written the way ``how`` says."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _number(value, how.numbers)
    if isinstance(value, str):
        return _text(value, how.escape)
    if isinstance(value, list):
        parts = [spell(item, how, depth + 1) for item in value]
        opening, closing = "[", "]"
    else:
        parts = [
            _text(str(key), how.escape) + how.colon + spell(item, how, depth + 1)
            for key, item in value.items()
        ]
        opening, closing = "{", "}"
    if not parts:
        return opening + closing
    if how.indent is None:
        return opening + how.comma.join(parts) + closing
    inner = "\n" + " " * (how.indent * (depth + 1))
    outer = "\n" + " " * (how.indent * depth)
    return opening + inner + (how.comma + inner).join(parts) + outer + closing


STANDARD = st.sampled_from(
    [
        Spelling(),
        Spelling(colon=": ", comma=", ", escape="ascii"),  # Python's json.dumps
        Spelling(colon=": ", comma=", "),
        Spelling(colon=": ", indent=2),  # pretty-printed over several lines
        Spelling(colon=": ", indent=2, escape="ascii"),
    ]
)
UNUSUAL = st.builds(
    Spelling,
    colon=st.sampled_from([":", ": ", " :", " : ", "\t:", ":\t"]),
    comma=st.sampled_from([",", ", ", " ,", "\t, "]),
    indent=st.sampled_from([None, None, None, 1, 4]),
    escape=st.sampled_from(["none", "ascii", "ascii", "all"]),
    numbers=st.sampled_from(["plain", "plain", "fraction", "exponent"]),
)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str | None, Any]:
    """``(source, document)``: mostly one event, sometimes a container of several
    (a JSON array, a CloudTrail file, a Kubernetes list) or a value that is no object."""
    shape = draw(
        st.sampled_from(["event"] * 6 + ["array", "Records", "EventList", "List", "scalar"])
    )
    if shape == "scalar":
        return None, draw(st.one_of(json_values, st.lists(json_values, max_size=3)))
    if shape == "event":
        return draw(events())
    pairs = draw(st.lists(events(), max_size=3))
    items: list[Any] = [event for _, event in pairs]
    if draw(st.integers(min_value=0, max_value=5)) == 0:
        items.append(draw(json_values))
    source = pairs[0][0] if pairs else None
    if shape == "array":
        return source, items
    if shape == "Records":
        return source, {"Records": items}
    return source, {"kind": shape, "apiVersion": "audit.k8s.io/v1", "items": items}


INVALID_UTF8 = (b"\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf5\x80\x80\x80", b"\xe2\x82")
CONTROL = (b"\x00", b"\x01", b"\x1f", b"\t", b"\x0b", b"\x0c", b"\r", b"\n")
LEADING = (b" ", b"\t", b"\r\n", b"\xef\xbb\xbf", b"\x0c", "\u00a0".encode())
TRAILING = (b" x", b"{}", b"[]", b",", b"]", b"}", b" \t", b"\n", b"\r\n", b"\n{}", b"\x00")
SPECIAL_MESSAGES = (b"", b" ", b"\n", b"\t\r\n ", b"null", b"42", b'"text"', b"[]", b"[1]", b"{}")


@st.composite
def damaged(draw: st.DrawFn, value: bytes) -> bytes:
    """``value`` as it may arrive: cut short, with bytes that are not UTF-8, a raw
    control character, something before or after it, or replaced by an empty message."""
    damage = draw(
        st.sampled_from(
            ["none"] * 4 + ["truncate", "utf8", "control", "leading", "trailing", "special"]
        )
    )
    at = draw(st.integers(min_value=0, max_value=max(len(value) - 1, 0)))
    if damage == "truncate":
        return value[:at]
    if damage == "utf8":
        return value[:at] + draw(st.sampled_from(INVALID_UTF8)) + value[at:]
    if damage == "control":
        return value[:at] + draw(st.sampled_from(CONTROL)) + value[at:]
    if damage == "leading":
        return draw(st.sampled_from(LEADING)) + value
    if damage == "trailing":
        return value + draw(st.sampled_from(TRAILING))
    if damage == "special":
        return draw(st.sampled_from(SPECIAL_MESSAGES))
    return value


# The text fields each columnar source reads into a row.
TEXT_PATHS = {
    "k8s_audit": _paths(
        "auditID",
        "verb",
        "userAgent",
        "user.username",
        "impersonatedUser.username",
        "objectRef.resource",
        "objectRef.name",
        "objectRef.namespace",
        "requestReceivedTimestamp",
        "stageTimestamp",
        "sourceIPs.0",
    ),
    "cloudtrail": _paths(
        "eventName",
        "eventID",
        "eventTime",
        "awsRegion",
        "recipientAccountId",
        "errorCode",
        "sourceIPAddress",
        "userAgent",
        "userIdentity.type",
        "userIdentity.userName",
        "userIdentity.accountId",
        "resources.0.type",
        "resources.0.ARN",
    ),
}
# JSON numbers of every kind, beyond 64 bits too (written by ``spell``, not orjson).
any_number: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from((*FLOATS, 10**19, 10**23, -(10**20))),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**25), max_value=10**25),
)


@st.composite
def numbered_events(draw: st.DrawFn) -> tuple[str | None, Any]:
    """A valid audit or CloudTrail event with a text field or two written as a number."""
    source = draw(st.sampled_from(COLUMNAR_SOURCES))
    if source == "k8s_audit":
        event = draw(audit_events())
    else:
        event = copy.deepcopy(draw(st.sampled_from(cloudtrail_pool())))
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        set_path(event, draw(st.sampled_from(TEXT_PATHS[source])), draw(any_number))
    return source, event


@st.composite
def batches(
    draw: st.DrawFn,
    docs: st.SearchStrategy[tuple[str | None, Any]],
    spelling: st.SearchStrategy[Spelling],
    damage: bool,
    max_size: int = 10,
) -> tuple[list[bytes], list[str | None]]:
    """Messages (with their pins) from ``docs``, written as ``spelling`` says."""
    values: list[bytes] = []
    pins: list[str | None] = []
    for _ in range(draw(st.integers(min_value=0, max_value=max_size))):
        source, doc = draw(docs)
        value = spell(doc, draw(spelling)).encode()
        if damage:
            value = draw(damaged(value))
        values.append(value)
        pins.append(pinned(draw, source))
    return values, pins


@PROPERTY
@given(batch=batches(documents(), STANDARD, damage=False))
def test_mixed_batches_of_broken_events_match_per_message(
    batch: tuple[list[bytes], list[str | None]],
) -> None:
    """Valid and broken events of every source, compact, spaced or pretty-printed,
    alone or in containers, with pins right, wrong and unknown."""
    note(f"values, pins = {batch!r}")
    assert_same_as_per_message(*batch)


@PROPERTY
@given(
    batch=batches(documents(), STANDARD, damage=True),
    max_bytes=st.sampled_from([DEFAULT_MAX, DEFAULT_MAX, 64, 400, 900, 2000]),
)
def test_damaged_messages_match_per_message(
    batch: tuple[list[bytes], list[str | None]], max_bytes: int
) -> None:
    """Truncated JSON, invalid UTF-8, raw control characters, leading and trailing
    bytes, empty and whitespace messages, and messages over a small size limit."""
    note(f"values, pins = {batch!r}")
    assert_same_as_per_message(*batch, max_bytes=max_bytes)


@settings(PROPERTY, max_examples=150)
@given(batch=batches(st.one_of(*[numbered_events()] * 3, documents()), UNUSUAL, damage=False))
def test_unusual_json_spellings_match_per_message(
    batch: tuple[list[bytes], list[str | None]],
) -> None:
    """Valid JSON written otherwise: whitespace around colons and commas, ``\\u``
    escapes for every character, numbers with fractions or exponents."""
    note(f"values, pins = {batch!r}")
    assert_same_as_per_message(*batch)


@st.composite
def large_batches(draw: st.DrawFn) -> list[bytes]:
    """Many compact valid audit and CloudTrail messages and a few the reader rejects."""
    values = [
        orjson.dumps(draw(audit_events()))
        if draw(st.booleans())
        else orjson.dumps(draw(st.sampled_from(cloudtrail_pool())))
        for _ in range(draw(st.integers(min_value=PER_MESSAGE_CHUNK + 1, max_value=60)))
    ]
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(values) - 1))
        values[at] = values[at] + draw(st.sampled_from([b" x", b",", b"{}", b"}"]))
    return values


@settings(PROPERTY, max_examples=40)
@given(values=large_batches())
def test_large_batches_with_rejected_messages_match_per_message(values: list[bytes]) -> None:
    """The reader's rejections are isolated by halving chunks; rows stay in order."""
    note(f"values = {values!r}")
    assert_same_as_per_message(values, [None] * len(values))
