"""What every adapter in ADAPTERS promises, checked on a realistic sample of its source."""

from __future__ import annotations

import pytest

from features.schema import NORMALIZED_SCHEMA, OUTCOMES, SOURCES, to_frame
from features.sources import ADAPTERS, BY_SOURCE, Adapter, detect
from tests.features.sources.samples import SAMPLES

ADAPTER_IDS = [adapter.source for adapter in ADAPTERS]


def test_every_adapter_has_a_sample_and_every_source_an_adapter() -> None:
    assert set(SAMPLES) == set(BY_SOURCE) == set(SOURCES)
    assert len(ADAPTERS) == len(BY_SOURCE)


def test_generic_adapter_is_tried_last() -> None:
    assert ADAPTERS[-1].source == "generic"


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
def test_source_is_a_known_source(adapter: Adapter) -> None:
    assert adapter.source in SOURCES


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
def test_rows_have_every_column_and_valid_values(adapter: Adapter) -> None:
    rows = adapter.normalize(SAMPLES[adapter.source](), None)
    assert rows
    for row in rows:
        assert set(row) == set(NORMALIZED_SCHEMA)
        assert row["source"] in SOURCES
        assert isinstance(row["event_id"], str)
        assert row["event_id"]
        assert row["outcome"] is None or row["outcome"] in OUTCOMES
        assert all(value is None or isinstance(value, str) for value in row.values())


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
def test_event_time_parses(adapter: Adapter) -> None:
    rows = adapter.normalize(SAMPLES[adapter.source](), None)
    frame, rejected = to_frame(rows)
    assert rejected == []
    assert frame["event_time"].null_count() == 0


@pytest.mark.parametrize("adapter", ADAPTERS, ids=ADAPTER_IDS)
def test_raw_defaults_to_the_event_as_json(adapter: Adapter) -> None:
    rows = adapter.normalize(SAMPLES[adapter.source](), None)
    assert all(row["raw"].startswith("{") for row in rows)


@pytest.mark.parametrize("source", list(SAMPLES))
def test_detect_picks_the_right_adapter_and_no_other_matches(source: str) -> None:
    sample = SAMPLES[source]()
    assert detect(sample).source == source
    assert [a.source for a in ADAPTERS if a.matches(sample)] == [source]
