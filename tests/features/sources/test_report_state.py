from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from features.schema import NormalizedEvent
from features.sources import falco, policyreport
from features.sources.report_state import ReportSnapshots
from tests.features.sources.samples import falco_alert


def kyverno_report(name: str = "pods", results: int = 3) -> dict[str, Any]:
    """A Kyverno report with one result per pod."""
    return {
        "apiVersion": "wgpolicyk8s.io/v1alpha2",
        "kind": "PolicyReport",
        "metadata": {"name": name, "namespace": "prod", "uid": f"uid-{name}"},
        "results": [
            {
                "policy": "require-labels",
                "rule": "check-team",
                "result": "pass",
                "severity": "medium",
                "message": "validation rule 'check-team' passed.",
                "timestamp": {"seconds": 1714558895, "nanos": 0},
                "resources": [{"kind": "Pod", "name": f"pod-{i}", "namespace": "prod"}],
            }
            for i in range(results)
        ],
    }


def rows_of(doc: dict[str, Any]) -> list[NormalizedEvent]:
    return policyreport.normalize(doc)


def ids(rows: list[NormalizedEvent]) -> list[str]:
    return [row["event_id"] for row in rows]


def test_first_snapshot_passes_every_result_and_a_repeat_passes_none() -> None:
    state = ReportSnapshots()
    doc = kyverno_report()
    assert ids(state.new_or_changed(rows_of(doc))) == ids(rows_of(doc))
    assert state.new_or_changed(rows_of(doc)) == []
    assert (len(state), state.reports) == (3, 1)


def test_a_rescan_that_only_moves_timestamps_is_not_a_change() -> None:
    state = ReportSnapshots()
    doc = kyverno_report()
    state.new_or_changed(rows_of(doc))
    for result in doc["results"]:
        result["timestamp"]["seconds"] += 3600
    assert state.new_or_changed(rows_of(doc)) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [("result", "fail"), ("severity", "high"), ("message", "label 'team' is required")],
)
def test_changed_outcome_severity_or_message_is_an_event(field: str, value: str) -> None:
    state = ReportSnapshots()
    doc = kyverno_report()
    state.new_or_changed(rows_of(doc))
    doc["results"][1][field] = value
    changed = state.new_or_changed(rows_of(doc))
    assert ids(changed) == [ids(rows_of(doc))[1]]


def test_new_result_is_an_event_and_a_result_that_returns_is_new_again() -> None:
    state = ReportSnapshots()
    doc = kyverno_report(results=2)
    state.new_or_changed(rows_of(doc))
    grown = kyverno_report(results=3)
    assert ids(state.new_or_changed(rows_of(grown))) == [ids(rows_of(grown))[2]]
    assert state.new_or_changed(rows_of(doc)) == []  # pod-2 gone: forgotten
    assert len(state) == 2
    assert ids(state.new_or_changed(rows_of(grown))) == [ids(rows_of(grown))[2]]


def test_two_copies_of_a_report_in_one_batch_count_once() -> None:
    state = ReportSnapshots()
    doc = kyverno_report()
    kept = state.new_or_changed(rows_of(doc) + rows_of(copy.deepcopy(doc)))
    assert ids(kept) == ids(rows_of(doc))


def test_rows_of_other_sources_pass_through() -> None:
    state = ReportSnapshots()
    alert = falco.normalize(falco_alert())
    assert state.new_or_changed(alert + alert) == alert + alert
    assert len(state) == 0


def test_report_rows_of_any_source_are_tracked() -> None:
    state = ReportSnapshots()
    doc = kyverno_report()
    for result in doc["results"]:
        result["source"] = "falco"
    rows = rows_of(doc)
    assert {row["source"] for row in rows} == {"falco"}
    assert len(state.new_or_changed(rows)) == 3
    assert state.new_or_changed(rows) == []


def test_least_recently_seen_reports_are_evicted_whole() -> None:
    state = ReportSnapshots(max_results=5)
    a, b, c = (kyverno_report(name, results=2) for name in ("a", "b", "c"))
    state.new_or_changed(rows_of(a))
    state.new_or_changed(rows_of(b))
    state.new_or_changed(rows_of(a))  # a is now the most recently seen
    state.new_or_changed(rows_of(c))  # 6 results > 5: b goes
    assert (len(state), state.reports) == (4, 2)
    assert state.new_or_changed(rows_of(a)) == []
    assert len(state.new_or_changed(rows_of(b))) == 2  # b forgotten: new again


def test_a_report_larger_than_the_cap_is_still_tracked() -> None:
    state = ReportSnapshots(max_results=2)
    doc = kyverno_report(results=5)
    state.new_or_changed(rows_of(doc))
    assert state.new_or_changed(rows_of(doc)) == []


def test_cap_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ReportSnapshots(max_results=0)


def test_snapshot_and_restore_round_trip(tmp_path: Path) -> None:
    state = ReportSnapshots()
    a, b = kyverno_report("a"), kyverno_report("b")
    state.new_or_changed(rows_of(a) + rows_of(b))
    path = tmp_path / "state" / "reports.json"
    state.snapshot(path)
    restored = ReportSnapshots()
    assert restored.restore(path)
    assert (len(restored), restored.reports) == (6, 2)
    assert restored.new_or_changed(rows_of(a) + rows_of(b)) == []
    a["results"][0]["result"] = "fail"
    assert len(restored.new_or_changed(rows_of(a))) == 1
    assert [p.name for p in path.parent.iterdir()] == ["reports.json"]  # no temporary left


def test_restore_keeps_eviction_order_and_cap(tmp_path: Path) -> None:
    state = ReportSnapshots()
    for name in ("old", "mid", "new"):
        state.new_or_changed(rows_of(kyverno_report(name, results=2)))
    path = tmp_path / "reports.json"
    state.snapshot(path)
    small = ReportSnapshots(max_results=4)
    small.restore(path)
    assert small.reports == 2
    assert len(small.new_or_changed(rows_of(kyverno_report("old", results=2)))) == 2


def test_restore_without_a_file_changes_nothing(tmp_path: Path) -> None:
    state = ReportSnapshots()
    state.new_or_changed(rows_of(kyverno_report()))
    assert not state.restore(tmp_path / "missing.json")
    assert len(state) == 3


@pytest.mark.parametrize(
    "content", [b"not json", b'{"version": 99, "reports": []}', b'{"version": 1, "reports": [1]}']
)
def test_restore_refuses_a_foreign_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "reports.json"
    path.write_bytes(content)
    state = ReportSnapshots()
    state.new_or_changed(rows_of(kyverno_report()))
    with pytest.raises(ValueError, match="report snapshot"):
        state.restore(path)
    assert len(state) == 3


def test_failed_snapshot_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "reports.json"
    state = ReportSnapshots()
    state.new_or_changed(rows_of(kyverno_report("a")))
    state.snapshot(path)
    before = path.read_bytes()
    state.new_or_changed(rows_of(kyverno_report("b")))

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        state.snapshot(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["reports.json"]


def test_a_copy_remembers_apart_from_its_original() -> None:
    state = ReportSnapshots()
    doc = kyverno_report()
    state.new_or_changed(rows_of(doc))
    twin = state.copy()
    doc["results"][1]["result"] = "fail"
    changed = ids(rows_of(doc))[1:2]
    assert ids(state.new_or_changed(rows_of(doc))) == changed
    assert ids(twin.new_or_changed(rows_of(doc))) == changed, "the copy did not see it"
    assert (len(twin), twin.reports) == (len(state), state.reports) == (3, 1)
