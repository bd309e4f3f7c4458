"""Splicing real attack records (Stratus Red Team detonation logs) into the test period.

A detonation log is a JSON array of the CloudTrail records one technique left
in a sandbox account; its file name is the technique. Each technique is moved,
keeping its internal timing, to its own random moment of the test period, and
re-homed in the synthetic organisation: its accounts become the organisation's
production account, its regions the organisation's regions, and the IAM user
who detonated it one of the organisation's IAM users (the same sandbox user
always maps to the same person), with that user's access key. Principals the
technique created itself (its roles, its backdoor users) keep their names.
Every record is labelled ``stratus:<technique>``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from training.synthetic.batch import Batch, dumps
from training.synthetic.clock import HOUR, US, rfc3339_seconds
from training.synthetic.formats.cloudtrail import SOURCE
from training.synthetic.org import AwsPrincipal, Org
from training.synthetic.scenario import Context

ORG_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-1")
_ACCOUNT = re.compile(rb"(?<![0-9])[0-9]{12}(?![0-9])")


def _epoch_us(text: str) -> int:
    """``2024-08-02T08:23:24Z`` -> µs since the epoch.

    >>> _epoch_us("1970-01-01T00:00:02Z")
    2000000
    """
    return int(np.datetime64(text.rstrip("Z"), "us").astype(np.int64))


def _records(path: Path) -> list[dict[str, Any]]:
    data = orjson.loads(path.read_bytes())
    records = data.get("Records", []) if isinstance(data, dict) else data
    return [r for r in records if isinstance(r, dict) and isinstance(r.get("eventTime"), str)]


class _Mapper:
    """Consistent renaming of sandbox accounts, regions and detonating users."""

    def __init__(self, ctx: Context) -> None:
        self.org: Org = ctx.org
        self.rng = ctx.rng
        self.regions: dict[str, str] = {}
        self.users: dict[str, AwsPrincipal] = {}
        self.people = [f"iam:{h.iam_user}" for h in ctx.org.humans if h.iam_user]

    def region(self, region: str) -> str:
        if region not in self.regions:
            known = region in ORG_REGIONS
            self.regions[region] = region if known else ORG_REGIONS[len(self.regions) % 3]
        return self.regions[region]

    def user(self, arn: str) -> AwsPrincipal:
        if arn not in self.users:
            key = self.people[len(self.users) % len(self.people)]
            self.users[arn] = self.org.aws[key]
        return self.users[arn]

    def record(self, record: dict[str, Any]) -> bytes:
        prod = self.org.accounts["prod"].encode()
        identity = record.get("userIdentity")
        text = dumps(record)
        if isinstance(identity, dict) and identity.get("type") == "IAMUser":
            name = str(identity.get("userName", ""))
            arn = str(identity.get("arn", ""))
            if arn and not name.startswith("stratus-red-team"):
                person = self.user(arn)
                new_arn = f"arn:aws:iam::{self.org.accounts['prod']}:user/{person.name}"
                text = text.replace(arn.encode(), new_arn.encode())
                text = text.replace(
                    f'"userName":"{name}"'.encode(), f'"userName":"{person.name}"'.encode()
                )
                old_key = identity.get("accessKeyId")
                if isinstance(old_key, str) and old_key.startswith("AKIA"):
                    text = text.replace(old_key.encode(), person.long_term_key().encode())
        for region in sorted({str(record.get("awsRegion", ""))} - {""}):
            text = text.replace(region.encode(), self.region(region).encode())
        return _ACCOUNT.sub(prod, text)


def splice(ctx: Context, folder: Path) -> list[Batch]:
    """One labelled CloudTrail batch per technique file (``*.json``) in ``folder``."""
    mapper = _Mapper(ctx)
    period = ctx.period
    batches = []
    for path in sorted(folder.glob("*.json")):
        records = sorted(_records(path), key=lambda r: str(r["eventTime"]))
        if not records:
            continue
        technique = path.name.removesuffix(".json")
        offsets = np.array([_epoch_us(r["eventTime"]) for r in records], dtype=np.int64)
        offsets -= offsets[0]
        span = int(offsets[-1])
        latest = max(period.test_start + HOUR, period.end - HOUR - span)
        start = int(ctx.rng.integers(period.test_start + HOUR, latest + 1))
        start -= start % US
        times = start + offsets
        stamps = rfc3339_seconds(times)
        lines: list[bytes] = []
        ids: list[tuple[str, ...]] = []
        for record, stamp in zip(records, stamps, strict=True):
            shifted = dict(record)
            shifted["eventTime"] = stamp
            created = _session_created(record)
            if created is not None:
                first = _epoch_us(records[0]["eventTime"])
                moved = rfc3339_seconds(
                    np.array([start + _epoch_us(created) - first], dtype=np.int64)
                )[0]
                shifted["userIdentity"] = _with_created(record["userIdentity"], moved)
            lines.append(mapper.record(shifted))
            ids.append((str(record.get("eventID", "")),))
        batches.append(Batch(SOURCE, times, lines, ids, f"stratus:{technique}"))
    return batches


def _session_created(record: dict[str, Any]) -> str | None:
    identity = record.get("userIdentity")
    if not isinstance(identity, dict):
        return None
    context = identity.get("sessionContext")
    attributes = context.get("attributes") if isinstance(context, dict) else None
    created = attributes.get("creationDate") if isinstance(attributes, dict) else None
    return created if isinstance(created, str) else None


def _with_created(identity: dict[str, Any], created: str) -> dict[str, Any]:
    context = dict(identity["sessionContext"])
    context["attributes"] = {**context["attributes"], "creationDate": created}
    return {**identity, "sessionContext": context}
