"""``POST /v1/score``: score raw events synchronously; nothing is stored or alerted.

The same code path as the streaming scorer and ``auditlens score``: decode and
normalize each element (:func:`features.decode.normalize_document`), build one
frame, score it with explanations for every event. A malformed element gets its
own 422 result with the adapter's reason; the others are still scored.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, status

from features.decode import normalize_document
from features.exceptions import DecodeError, FeatureError
from features.schema import NormalizedEvent, to_frame
from models.bundle import LoadedModel
from service.api.deps import AnalystDep, ModelProviderDep, SettingsDep
from service.api.schemas import ModelRef, errors
from service.api.schemas.score import (
    EXAMPLE_EVENT,
    ItemError,
    ScoredEvent,
    ScoreItem,
    ScoreRequest,
    ScoreResponse,
)
from service.scoring import result_records, score_events

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1", tags=["scoring"])

ScoreBody = Annotated[
    list[Any] | ScoreRequest,
    Body(
        description='A JSON array of raw events, or `{"events": [...]}`.',
        examples=[[EXAMPLE_EVENT]],
    ),
]


def _normalize(element: Any) -> list[NormalizedEvent]:
    """One element's normalized rows; FeatureError (with a reason) when it is not an event."""
    try:
        raw = orjson.dumps(element).decode()
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise DecodeError(f"element cannot be kept as JSON: {exc}", reason="not_json") from exc
    try:
        return normalize_document(element, raw)
    except FeatureError:
        raise
    except Exception as exc:  # an adapter bug is this element's problem, not the request's
        raise FeatureError(
            f"adapter failed: {type(exc).__name__}: {exc}", reason="adapter_crash"
        ) from exc


Group = tuple[int, list[NormalizedEvent]]
Outcome = list[dict[str, Any]] | ItemError


def _score_groups(model: LoadedModel, groups: list[Group]) -> dict[int, Outcome]:
    """Score the events of several elements as one frame; results by element index."""
    events = [event for _, own in groups for event in own]
    origin = [index for index, own in groups for _ in own]
    frame, bad_times = to_frame(events)
    results: dict[int, Outcome] = {index: [] for index, _ in groups}
    for position in bad_times:
        event = events[position]
        results[origin[position]] = ItemError(
            reason="bad_timestamp",
            detail=f"event {event['event_id']!r}: unparseable time {event['event_time']!r}",
        )
    if frame.height == 0:
        return results
    records = result_records(model, score_events(model, frame, explain_all=True))
    bad = set(bad_times)
    kept = [index for position, index in enumerate(origin) if position not in bad]
    for index, record in zip(kept, records, strict=True):
        outcome = results[index]
        if isinstance(outcome, list):
            outcome.append(record)
    return results


def _score_isolating(model: LoadedModel, groups: list[Group]) -> dict[int, Outcome]:
    """One frame for all; if that fails, element by element so one bad element fails alone."""
    try:
        return _score_groups(model, groups)
    except Exception:
        log.warning("batch scoring failed; scoring the %d elements one by one", len(groups))
    results: dict[int, Outcome] = {}
    for group in groups:
        try:
            results.update(_score_groups(model, [group]))
        except Exception as exc:
            results[group[0]] = ItemError(
                reason="scoring_failed", detail=f"{type(exc).__name__}: {exc}"
            )
    return results


@router.post(
    "/score",
    response_model=ScoreResponse,
    responses=errors(413, 503),
    summary="Score raw events now (nothing is stored)",
)
def score(
    body: ScoreBody, settings: SettingsDep, models: ModelProviderDep, _caller: AnalystDep
) -> ScoreResponse:
    """Each element of the request gets one result, in order: `status` 200 with the scored
    events (with explanations), or 422 with the reason it was rejected."""
    elements = body.events if isinstance(body, ScoreRequest) else body
    if len(elements) > settings.score_max_events:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(elements)} events exceed the limit of {settings.score_max_events} per request "
            "(AUDITLENS_SCORE_MAX_EVENTS)",
        )
    model = models.get()
    if model is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"no model to score with: {models.unavailable_hint}",
        )
    outcomes: dict[int, Outcome] = {}
    groups: list[Group] = []
    for index, element in enumerate(elements):
        try:
            groups.append((index, _normalize(element)))
        except FeatureError as exc:
            outcomes[index] = ItemError(reason=exc.reason, detail=str(exc))
    outcomes.update(_score_isolating(model, groups))
    items = [_item(index, outcomes[index]) for index in range(len(elements))]
    return ScoreResponse(
        model=ModelRef(name=model.name, version=model.version),
        scored=sum(len(i.events) for i in items),
        rejected=sum(1 for i in items if i.error is not None),
        items=items,
    )


def _item(index: int, outcome: Outcome) -> ScoreItem:
    if isinstance(outcome, ItemError):
        return ScoreItem(
            index=index, status=status.HTTP_422_UNPROCESSABLE_CONTENT, events=[], error=outcome
        )
    return ScoreItem(
        index=index,
        status=status.HTTP_200_OK,
        events=[ScoredEvent.model_validate(r) for r in outcome],
        error=None,
    )
