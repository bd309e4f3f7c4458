"""The synthetic environment: real formats, honest labels, structured normal behaviour."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl
import pytest

from features import sources
from features.files import read_events
from features.schema import to_frame
from training.synthetic import SCENARIOS, generate

ALL_SOURCES = ("k8s_audit", "cloudtrail", "opa", "gatekeeper", "kyverno", "falco")
BENIGN_KINDS = ("new_hire", "deploy_burst", "oncall_night", "role_change", "root_billing_review")
SMALL = {"seed": 11, "days": 8, "events_per_day": 1200}


@dataclass(frozen=True)
class Generated:
    out: Path
    counts: dict[str, int]
    stratus: Path

    def lines(self, name: str) -> list[bytes]:
        return (self.out / name).read_bytes().splitlines()

    def docs(self, name: str) -> Iterator[dict[str, Any]]:
        for line in self.lines(name):
            yield orjson.loads(line)

    def labels(self, name: str = "labels.csv") -> dict[str, str]:
        with (self.out / name).open() as f:
            return {row["event_id"]: row["scenario"] for row in csv.DictReader(f)}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory, fixtures_dir: Path) -> Generated:
    out = tmp_path_factory.mktemp("synthetic")
    stratus = fixtures_dir / "cloudtrail-stratus-detonations"
    counts = generate(out, stratus=stratus, **SMALL)
    return Generated(out, counts, stratus)


def source_of(doc: dict[str, Any]) -> str:
    """Which source wrote a line, from its shape alone (independent of the adapters)."""
    if doc.get("kind") == "Event" and str(doc.get("apiVersion", "")).startswith("audit.k8s.io"):
        return "k8s_audit"
    if "eventSource" in doc and "eventName" in doc:
        return "cloudtrail"
    if doc.get("kind") == "PolicyReport":
        return "kyverno"
    if "decision_id" in doc:
        return "opa"
    if doc.get("event_type") == "violation_audited":
        return "gatekeeper"
    if {"rule", "priority", "output_fields"} <= doc.keys():
        return "falco"
    raise AssertionError(f"a line of no known source: {sorted(doc)[:8]}")


def require_adapters(*names: str) -> None:
    missing = [n for n in names if n not in sources.BY_SOURCE]
    if missing:
        pytest.skip(f"no adapter registered yet for {', '.join(missing)}")


def ids_of(path: Path) -> set[str]:
    result = read_events([path])
    assert not result.errors, result.errors[:3]
    return {row["event_id"] for row in result.events}


def test_same_seed_gives_identical_files_and_another_seed_does_not(
    generated: Generated, tmp_path: Path
) -> None:
    """Byte-identical in another process too (with another string-hash seed)."""
    again = tmp_path / "again"
    other = tmp_path / "other"
    script = (
        "import sys; from pathlib import Path; from training.synthetic import generate; "
        "generate(Path(sys.argv[1]), stratus=Path(sys.argv[2]), seed=11, days=8, "
        "events_per_day=1200)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-c", script, str(again), str(generated.stratus)],
        check=True,
        env=env,
        cwd=Path(__file__).parents[2],
        timeout=300,
    )
    generate(other, stratus=generated.stratus, **{**SMALL, "seed": 12})
    for name in ("train.jsonl", "test.jsonl", "labels.csv", "benign.csv"):
        assert (again / name).read_bytes() == (generated.out / name).read_bytes(), name
        assert (other / name).read_bytes() != (generated.out / name).read_bytes(), name


def test_counts_match_the_files(generated: Generated) -> None:
    assert generated.counts["train"] == len(generated.lines("train.jsonl"))
    assert generated.counts["test"] == len(generated.lines("test.jsonl"))
    assert generated.counts["attacks"] == len(generated.labels())
    assert generated.counts["benign"] == len(generated.labels("benign.csv"))
    assert generated.counts["unlabelled"] == 0


def test_every_source_is_present_in_both_periods(generated: Generated) -> None:
    for name in ("train.jsonl", "test.jsonl"):
        seen = Counter(source_of(d) for d in generated.docs(name))
        assert set(seen) == set(ALL_SOURCES), (name, seen)


@pytest.mark.parametrize("source", ALL_SOURCES)
def test_every_line_is_read_by_its_adapter(
    generated: Generated, source: str, tmp_path: Path
) -> None:
    require_adapters(source)
    mine = [
        line
        for name in ("train.jsonl", "test.jsonl")
        for line in generated.lines(name)
        if source_of(orjson.loads(line)) == source
    ]
    path = tmp_path / f"{source}.jsonl"
    path.write_bytes(b"\n".join(mine) + b"\n")
    result = read_events([path])
    assert not result.errors, result.errors[:3]
    assert {row["source"] for row in result.events} == {source}
    frame, rejected = to_frame(result.events)
    assert rejected == []
    if source == "k8s_audit":  # RequestReceived stages are read and skipped
        stages = Counter(orjson.loads(line)["stage"] for line in mine)
        assert stages["RequestReceived"] > 0
        assert frame.height == stages["ResponseComplete"]
    elif source != "kyverno":  # one row per line; a report yields one per result
        assert frame.height == len(mine)


def test_labels_name_test_events_only(generated: Generated) -> None:
    require_adapters(*ALL_SOURCES)
    labels = generated.labels()
    benign = generated.labels("benign.csv")
    test_ids = ids_of(generated.out / "test.jsonl")
    train_ids = ids_of(generated.out / "train.jsonl")
    assert labels
    assert benign
    assert set(labels) <= test_ids
    assert set(benign) <= test_ids
    assert not set(labels) & train_ids
    assert not set(benign) & train_ids
    assert not set(labels) & set(benign)


def test_every_scenario_and_benign_kind_is_present(generated: Generated) -> None:
    techniques = {
        f"stratus:{p.name.removesuffix('.json')}" for p in generated.stratus.glob("*.json")
    }
    scenarios = Counter(generated.labels().values())
    assert set(scenarios) == set(SCENARIOS) | techniques
    assert {f"benign:{kind}" for kind in BENIGN_KINDS} == set(
        generated.labels("benign.csv").values()
    )
    assert generated.counts["stratus"] == sum(
        len(orjson.loads(p.read_bytes())) for p in generated.stratus.glob("*.json")
    )


def test_training_period_holds_no_attack(generated: Generated) -> None:
    train = generated.out / "train.jsonl"
    text = train.read_bytes()
    assert b"stratus-red-team" not in text
    for attacker_ip in (b"185.220.101.47", b"45.137.21.9", b"91.219.236.18", b"193.176.86.102"):
        assert attacker_ip not in text
    test_text = (generated.out / "test.jsonl").read_bytes()
    assert b"185.220.101.47" in test_text  # the markers are real: they do occur in the test period
    first_test = min(_line_times(generated.lines("test.jsonl")))
    assert max(_line_times(generated.lines("train.jsonl"))) < first_test


def _line_times(lines: list[bytes]) -> list[datetime]:
    events = read_events_from_lines(lines)
    frame, _ = to_frame(events)
    return frame["event_time"].to_list()  # type: ignore[no-any-return]


def read_events_from_lines(lines: list[bytes]) -> list[Any]:
    from features.decode import decode, normalize_document

    return [row for line in lines for row in normalize_document(decode(line))]


def test_test_file_is_in_time_order(generated: Generated) -> None:
    require_adapters(*ALL_SOURCES)
    frame, rejected = to_frame(read_events_from_lines(generated.lines("test.jsonl")))
    assert not rejected
    seconds = frame["event_time"].dt.truncate("1s")
    assert seconds.is_sorted()


def _human_k8s(generated: Generated, name: str) -> pl.DataFrame:
    rows = [
        {
            "actor": d["user"]["username"],
            "ip": d["sourceIPs"][0],
            "time": d["requestReceivedTimestamp"],
            "id": d["auditID"],
        }
        for d in generated.docs(name)
        if source_of(d) == "k8s_audit"
        and d["stage"] == "ResponseComplete"
        and "@" in d["user"]["username"]
    ]
    return pl.DataFrame(rows).with_columns(
        pl.col("time").str.to_datetime(time_zone="UTC", time_unit="us")
    )


def test_people_work_on_weekdays_much_more_than_at_weekends(generated: Generated) -> None:
    frame = _human_k8s(generated, "train.jsonl")
    per_day = frame.group_by(pl.col("time").dt.date().alias("day")).len()
    weekend = per_day.filter(pl.col("day").dt.weekday() >= 6)["len"]
    weekday = per_day.filter(pl.col("day").dt.weekday() < 6)["len"]
    assert len(weekend) >= 2
    assert len(weekday) >= 4
    assert weekday.mean() > 4 * weekend.mean()  # type: ignore[operator]


def test_people_use_a_small_stable_set_of_addresses(generated: Generated) -> None:
    """An office and a VPN address per person, across both periods; attacks aside."""
    labelled = set(generated.labels()) | set(generated.labels("benign.csv"))
    both = pl.concat([_human_k8s(generated, "train.jsonl"), _human_k8s(generated, "test.jsonl")])
    ips = (
        both.filter(~pl.col("id").is_in(labelled))
        .group_by("actor")
        .agg(pl.col("ip").n_unique().alias("ips"), pl.len().alias("calls"))
    )
    assert ips.height > 150
    assert ips["ips"].max() <= 2
    busy = ips.filter(pl.col("calls") >= 10)
    assert busy.height >= 10
    assert (busy["ips"] == 2).mean() > 0.15  # both places are used


def test_aws_identities_are_realistic_and_read_heavy(generated: Generated) -> None:
    records = [d for d in generated.docs("train.jsonl") if source_of(d) == "cloudtrail"]
    kinds = Counter(r["userIdentity"]["type"] for r in records)
    assert {"IAMUser", "AssumedRole", "AWSService", "Root"} <= set(kinds)
    read_only = sum(r["readOnly"] for r in records) / len(records)
    assert read_only > 0.7
    failures = [r for r in records if "errorCode" in r]
    assert 0 < len(failures) < 0.05 * len(records)
    for r in records:
        datetime.strptime(r["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert len(r["recipientAccountId"]) == 12
        assert r["recipientAccountId"].isdigit()


def test_spliced_stratus_records_are_rehomed_in_the_organisation(generated: Generated) -> None:
    labels = generated.labels()
    train_accounts = {
        d["recipientAccountId"]
        for d in generated.docs("train.jsonl")
        if source_of(d) == "cloudtrail"
    }
    spliced = [
        d
        for d in generated.docs("test.jsonl")
        if source_of(d) == "cloudtrail" and labels.get(d["eventID"], "").startswith("stratus:")
    ]
    assert spliced
    assert {d["recipientAccountId"] for d in spliced} <= train_accounts
    detonators = {"christophe"}
    assert not {d["userIdentity"].get("userName") for d in spliced} & detonators


def test_stratus_techniques_keep_their_own_timing(generated: Generated) -> None:
    labels = generated.labels()
    spliced: dict[str, list[datetime]] = defaultdict(list)
    for d in generated.docs("test.jsonl"):
        label = labels.get(d.get("eventID", ""), "") if source_of(d) == "cloudtrail" else ""
        if label.startswith("stratus:"):
            spliced[label].append(_ct_time(d["eventTime"]))
    for path in sorted(generated.stratus.glob("*.json")):
        original = sorted(_ct_time(r["eventTime"]) for r in orjson.loads(path.read_bytes()))
        moved = sorted(spliced[f"stratus:{path.name.removesuffix('.json')}"])
        assert [t - moved[0] for t in moved] == [t - original[0] for t in original], path.name


def _ct_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_labels_of_a_source_without_adapter_are_counted_not_invented(
    generated: Generated, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Falco ids are the adapter's hash: with the adapter, labels are its ids; without, none."""
    require_adapters("falco")
    from training.synthetic.batch import Batch
    from training.synthetic.labels import collect

    alerts = [
        line for line in generated.lines("test.jsonl") if source_of(orjson.loads(line)) == "falco"
    ][:5]
    batch = Batch("falco", np.arange(len(alerts), dtype=np.int64), alerts, None, "scenario_x")
    path = tmp_path / "alerts.jsonl"
    path.write_bytes(b"\n".join(alerts) + b"\n")
    with_adapter = collect([batch])
    assert [event_id for event_id, _ in with_adapter.rows] == [
        row["event_id"] for row in read_events([path]).events
    ]
    monkeypatch.delitem(sources.BY_SOURCE, "falco")
    without = collect([batch])
    assert without.rows == []
    assert without.unlabelled == {"falco": len(alerts)}


def test_command_line_writes_the_environment(tmp_path: Path, fixtures_dir: Path) -> None:
    from service.cli import main

    out = tmp_path / "cli"
    stratus = fixtures_dir / "cloudtrail-stratus-detonations"
    assert (
        main(
            [
                "generate",
                "--out",
                str(out),
                "--days",
                "4",
                "--events-per-day",
                "500",
                "--stratus",
                str(stratus),
            ]
        )
        == 0
    )
    assert {p.name for p in out.iterdir()} == {
        "train.jsonl",
        "test.jsonl",
        "labels.csv",
        "benign.csv",
    }
    assert main(["generate", "--out", str(out), "--stratus", str(tmp_path / "missing")]) == 2
