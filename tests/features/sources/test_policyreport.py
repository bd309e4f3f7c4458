from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from features.decode import normalize_document
from features.exceptions import AdapterError
from features.files import read_events
from features.schema import to_frame
from features.sources import detect, policyreport
from tests.features.sources.samples import REPORTS, kyverno_report, report


def kube_bench_list() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((REPORTS / "policy-report.yaml").read_text())
    return doc


def test_kube_bench_report_gives_one_row_per_result_with_unique_ids() -> None:
    doc = kube_bench_list()
    [item] = doc["items"]
    rows = normalize_document(doc)
    assert len(rows) == len(item["results"]) == 122
    assert len({row["event_id"] for row in rows}) == 122
    uid = item["metadata"]["uid"]
    assert all(row["event_id"].startswith(f"{uid}/") for row in rows)
    assert [row["outcome"] for row in rows] == [r["result"] for r in item["results"]]


def test_kube_bench_repeated_keys_are_told_apart_by_check_index() -> None:
    [item] = kube_bench_list()["items"]
    rows = policyreport.normalize(item)
    first = item["results"][0]
    expected_prefix = f"{item['metadata']['uid']}/{first['policy']}/{first['rule']}"
    assert rows[0]["event_id"].startswith(expected_prefix)
    assert rows[0]["event_id"].endswith(f"#{first['properties']['index']}")


def test_unset_result_times_fall_back_to_when_the_report_was_written() -> None:
    [item] = kube_bench_list()["items"]
    assert {str(r["timestamp"]) for r in item["results"]} == {"{'nanos': 0, 'seconds': 0}"}
    rows = policyreport.normalize(item)
    assert {row["event_time"] for row in rows} == {item["metadata"]["managedFields"][0]["time"]}
    del item["metadata"]["managedFields"]
    item["metadata"]["creationTimestamp"] = "2021-04-01T00:00:00Z"
    assert {row["event_time"] for row in policyreport.normalize(item)} == {"2021-04-01T00:00:00Z"}


def test_kyverno_result_maps_to_columns() -> None:
    doc = kyverno_report()
    assert detect(doc).source == "kyverno"
    [row] = policyreport.normalize(doc)
    [result] = doc["results"]
    [subject] = result["resources"]
    assert row["event_id"] == (
        f"{doc['metadata']['name']}/disallow-capabilities/adding-capabilities/"
        f"Pod/{subject['namespace']}/{subject['name']}"
    )
    assert row["source"] == "kyverno"
    assert (row["resource"], row["object"], row["namespace"]) == (
        "Pod",
        subject["name"],
        subject["namespace"],
    )
    assert row["policy"] == "disallow-capabilities/adding-capabilities"
    assert (row["outcome"], row["severity"]) == ("pass", "medium")
    frame, rejected = to_frame([row])
    assert rejected == []
    assert int(frame["event_time"][0].timestamp()) == result["timestamp"]["seconds"]


def test_raw_holds_the_result_and_its_report_not_the_whole_report() -> None:
    [row] = policyreport.normalize(kyverno_report(), "WHOLE REPORT TEXT")
    raw = orjson.loads(row["raw"])
    assert raw["result"]["policy"] == "disallow-capabilities"
    assert raw["report"]["metadata"]["name"] == "sample-v1beta1-cr"
    assert "summary" not in raw["report"]


@pytest.mark.parametrize(
    "name", ["sample-v1beta1-kyverno.yaml", "sample-v1beta2-kyverno.yaml", "sample-cis-k8s.yaml"]
)
def test_every_report_api_version_is_recognised(name: str) -> None:
    doc = report(name)
    assert policyreport.matches(doc)
    assert len(policyreport.normalize(doc)) == len(doc["results"])


def test_report_without_any_time_is_dated_at_the_epoch() -> None:
    rows = policyreport.normalize(report("sample-cis-k8s.yaml"))
    assert {row["event_time"] for row in rows} == {policyreport.EPOCH}
    assert [row["outcome"] for row in rows] == ["warn", "fail", "warn"]


def test_falco_engine_report_results() -> None:
    namespaced, cluster = yaml.safe_load_all((REPORTS / "sample-falco-policy.yaml").read_text())
    [row] = policyreport.normalize(namespaced)
    assert (row["resource"], row["object"], row["namespace"]) == ("Pod", "a-pod", "my-namespace")
    assert row["severity"] == "low"  # from properties.severity
    assert row["event_id"].startswith("my-namespace/falco-alerts-policy/Change thread namespace/")
    [cluster_row] = policyreport.normalize(cluster)
    assert cluster_row["namespace"] is None
    assert cluster_row["event_id"].startswith("falco-alerts-policy/audit/")


def test_skip_is_a_pass_and_a_known_result_source_is_kept() -> None:
    doc = kyverno_report()
    doc["results"][0].update(result="skip", source="falco")
    [row] = policyreport.normalize(doc)
    assert (row["outcome"], row["source"]) == ("pass", "falco")
    doc["results"][0]["source"] = "kube-bench"
    assert policyreport.normalize(doc)[0]["source"] == "kyverno"


def test_subject_from_subjects_or_scope() -> None:
    doc = kyverno_report()
    result = doc["results"][0]
    subject = result.pop("resources")[0]
    result["subjects"] = [subject]
    assert policyreport.normalize(doc)[0]["object"] == subject["name"]
    del result["subjects"]
    doc["scope"] = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "x"}
    [row] = policyreport.normalize(doc)
    assert (row["resource"], row["object"], row["namespace"]) == ("Deployment", "web", "x")


def test_report_list_kinds_are_unwrapped() -> None:
    doc: dict[str, Any] = {"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReportList"}
    doc["items"] = [kyverno_report(), report("sample-cis-k8s.yaml")]
    assert len(normalize_document(doc)) == 4


def test_report_without_results_gives_no_rows() -> None:
    doc = kyverno_report()
    del doc["results"]
    assert policyreport.normalize(doc) == []


def test_unknown_result_value_is_a_bad_field() -> None:
    doc = kyverno_report()
    doc["results"][0]["result"] = "maybe"
    with pytest.raises(AdapterError) as info:
        policyreport.normalize(doc)
    assert info.value.reason == "bad_field"


def test_report_without_a_name_is_a_missing_field() -> None:
    doc = kyverno_report()
    doc["metadata"] = {}
    with pytest.raises(AdapterError) as info:
        policyreport.normalize(doc)
    assert info.value.reason == "missing_field"


def test_report_result_recognises_only_report_rows() -> None:
    [row] = policyreport.normalize(kyverno_report())
    parsed = policyreport.report_result(row)
    assert parsed is not None
    assert parsed[0] == "sample-v1beta1-cr"
    impostor = row.copy()
    impostor["event_id"] = "other"
    assert policyreport.report_result(impostor) is None


def test_yaml_native_values_are_read(tmp_path: Path) -> None:
    """Unquoted YAML times become datetimes and numeric keys stay numbers: both are accepted."""
    text = (REPORTS / "sample-cis-k8s.yaml").read_text()
    text = text.replace("metadata:\n", "metadata:\n  creationTimestamp: 2021-04-08T11:44:57Z\n", 1)
    text = text.replace("      index: 1.2.2\n", "      index: 1.2.2\n      1: numeric key\n", 1)
    path = tmp_path / "report.yaml"
    path.write_text(text)
    result = read_events([path])
    assert result.errors == []
    assert {row["event_time"] for row in result.events} == {"2021-04-08T11:44:57.000000Z"}
    assert orjson.loads(result.events[0]["raw"])["result"]["properties"]["1"] == "numeric key"
