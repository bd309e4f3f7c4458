"""One scoring path for the stream, the CLI and the API: who is explained, and how."""

from __future__ import annotations

import orjson

from features.decode import normalize_message
from features.schema import to_frame
from models.bundle import LoadedModel
from service.scoring import anomaly_rows, result_records, score_events
from tests.service.test_consumer import stream


def _events(scoring_model: LoadedModel) -> list[dict[str, object]]:
    rows = [e for r in stream() if r.value.startswith(b"{") for e in normalize_message(r.value)]
    frame, _ = to_frame(rows)
    return result_records(scoring_model, score_events(scoring_model, frame))


def test_flagged_events_are_explained_and_the_others_carry_an_empty_explanation(
    scoring_model: LoadedModel,
) -> None:
    records = _events(scoring_model)
    flagged = [r for r in records if r["is_anomaly"]]
    quiet = [r for r in records if not r["is_anomaly"]]
    assert flagged, "the odd events of the stream are flagged"
    assert quiet
    assert all(r["explanation"] and r["summary"] for r in flagged)
    assert all(r["explanation"] == [] and r["summary"] == "" for r in quiet)
    orjson.dumps(records)  # the published records serialise as they are


def test_every_event_is_explained_when_asked(scoring_model: LoadedModel) -> None:
    rows = [e for r in stream() if r.value.startswith(b"{") for e in normalize_message(r.value)]
    frame, _ = to_frame(rows)
    batch = score_events(scoring_model, frame, explain_all=True)
    assert all(batch.explanation(i) for i in range(batch.frame.height))
    stored = anomaly_rows(scoring_model, batch)
    assert [r["explanation"] for r in stored] == [
        batch.explanation(i) for i in batch.frame["is_anomaly"].arg_true().to_list()
    ]
