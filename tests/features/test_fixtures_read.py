"""Every real sample in tests/fixtures reads through the file path with no error.

Counts come from tests/fixtures/PROVENANCE.md (CloudTrail) and from the YAML
itself (one row per PolicyReport result).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from features.files import SUFFIXES, ReadResult, read_events
from features.schema import to_frame

FIXTURES = Path(__file__).parents[1] / "fixtures"
# reference/ holds the definitions SIEM documents are checked against, not events.
FILES = sorted(
    p
    for p in FIXTURES.rglob("*")
    if p.is_file()
    and p.name.endswith(SUFFIXES)
    and "reference" not in p.relative_to(FIXTURES).parts
)


def read(paths: list[Path]) -> ReadResult:
    return read_events(paths)


def report_results(doc: Any) -> int:
    """How many results a YAML document holds, opening Kubernetes lists."""
    if not isinstance(doc, dict):
        return 0
    if str(doc.get("kind", "")).endswith("List"):
        return sum(report_results(item) for item in doc.get("items") or [])
    return len(doc.get("results") or [])


def test_fixture_folder_has_every_kind_of_file() -> None:
    assert {p.suffix for p in FILES} == {".json", ".yaml"}
    assert len(FILES) >= 40


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(FIXTURES)) for p in FILES])
def test_every_fixture_file_is_read_without_errors(path: Path) -> None:
    result = read([path])
    assert result.errors == []
    assert result.events
    frame, rejected = to_frame(result.events)
    assert rejected == []
    assert frame["event_id"].n_unique() == frame.height


def test_stratus_detonations_give_310_cloudtrail_records() -> None:
    result = read([FIXTURES / "cloudtrail-stratus-detonations"])
    assert result.errors == []
    assert Counter(e["source"] for e in result.events) == {"cloudtrail": 310}


def test_otrf_exfiltration_gives_103_cloudtrail_records() -> None:
    result = read([FIXTURES / "cloudtrail-otrf-s3-exfil"])
    assert result.errors == []
    assert Counter(e["source"] for e in result.events) == {"cloudtrail": 103}


@pytest.mark.parametrize(
    "path",
    sorted((FIXTURES / "policyreports-wg-policy").glob("*.yaml")),
    ids=lambda p: p.name,
)
def test_policy_reports_give_one_row_per_result(path: Path) -> None:
    expected = sum(report_results(doc) for doc in yaml.safe_load_all(path.read_text()))
    result = read([path])
    assert result.errors == []
    assert len(result.events) == expected > 0


def test_kube_bench_report_has_122_results() -> None:
    result = read([FIXTURES / "policyreports-wg-policy" / "policy-report.yaml"])
    assert len(result.events) == 122
