"""The feed: filtered, sorted, paged, counted by severity, and following new anomalies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import QueryParams

from service.console import session
from service.console.templating import render, templates
from service.store.anomalies import AnomalyFilter
from service.store.browse import SEVERITIES, Order
from service.store.exceptions import InvalidCursorError
from service.store.repository import Store

router = APIRouter()

SOURCES = ("k8s_audit", "cloudtrail", "opa", "gatekeeper", "kyverno", "falco", "generic")
STATUSES = ("new", "acknowledged", "in_progress", "closed", "suppressed")
PAGE_SIZE = 50
FILTER_FIELDS = (
    "since",
    "until",
    "severity",
    "source",
    "status",
    "actor",
    "namespace",
    "min_score",
)


def _time(text: str) -> datetime:
    """A ``datetime-local`` field (read as UTC) or an RFC 3339 time."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass
class FeedQuery:
    """The feed's filters as the form sent them, checked, with a message per bad field."""

    values: dict[str, str] = field(default_factory=dict)
    order: Order = "score"
    cursor: str | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, params: QueryParams) -> FeedQuery:
        query = cls()
        for name in FILTER_FIELDS:
            text = (params.get(name) or "").strip()
            if text:
                query.values[name] = text[:512]
        query.order = "time" if params.get("order") == "time" else "score"
        query.cursor = params.get("cursor") or None
        for name, allowed in (("severity", SEVERITIES), ("source", SOURCES), ("status", STATUSES)):
            if name in query.values and query.values[name] not in allowed:
                query.errors[name] = f"{name} must be one of {', '.join(allowed)}"
        for name in ("since", "until"):
            if name in query.values:
                try:
                    _time(query.values[name])
                except ValueError:
                    query.errors[name] = f"{name} is not a date and time (YYYY-MM-DDTHH:MM)"
        if "min_score" in query.values:
            try:
                if not 0 <= float(query.values["min_score"]) <= 100:
                    raise ValueError
            except ValueError:
                query.errors["min_score"] = "min score is a number from 0 to 100"
        return query

    def filters(self, without: str | None = None) -> AnomalyFilter:
        """The store filter (bad fields left out; ``without`` one field, for the counts)."""
        good = {k: v for k, v in self.values.items() if k not in self.errors and k != without}
        return AnomalyFilter(
            since=_time(good["since"]) if "since" in good else None,
            until=_time(good["until"]) if "until" in good else None,
            min_score=float(good["min_score"]) if "min_score" in good else None,
            severity=good.get("severity"),
            source=good.get("source"),
            actor=good.get("actor"),
            namespace=good.get("namespace"),
            status=good.get("status"),
        )

    def link(self, **changes: str | None) -> str:
        """This feed's address with some parameters changed (None removes one)."""
        params: dict[str, Any] = {**self.values, "order": self.order}
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = value
        return "/ui/?" + urlencode(params)


@router.get("/ui/", include_in_schema=False)
def feed(request: Request, _viewer: session.Reader) -> Response:
    store: Store = request.app.state.store
    query = FeedQuery.parse(request.query_params)
    status = 400 if query.errors else 200
    try:
        page = store.browse_anomalies(query.filters(), query.order, PAGE_SIZE, query.cursor)
    except InvalidCursorError as exc:
        query.errors["cursor"] = f"{exc}: start again from the first page"
        page = store.browse_anomalies(query.filters(), query.order, PAGE_SIZE)
        status = 400
    live = {k: v for k, v in query.values.items() if k not in query.errors}
    live["after"] = store.feed_head() or ""
    return render(
        request,
        "feed.html",
        {
            "query": query,
            "rows": page.items,
            "next_link": query.link(cursor=page.next_cursor) if page.next_cursor else None,
            "counts": store.severity_counts(query.filters(without="severity")),
            "severities": SEVERITIES,
            "sources": SOURCES,
            "statuses": STATUSES,
            "live_url": "/ui/feed/live?" + urlencode(live),
            "first_page": query.cursor is None,
        },
        status=status,
    )


@router.get("/ui/feed/live", include_in_schema=False)
def feed_live(request: Request, _viewer: session.Reader) -> Response:
    """Anomalies stored since ``after`` (a feed cursor) under the page's filters, as rows.

    It follows the SIEM feed's commit-order cursor, so a row committed out of id
    order still arrives, once. The script polls it and puts the rows on top.
    """
    store: Store = request.app.state.store
    query = FeedQuery.parse(request.query_params)
    if query.errors:
        return JSONResponse({"detail": "; ".join(query.errors.values())}, status_code=400)
    after = request.query_params.get("after") or None
    try:
        rows, cursor, _ = store.list_anomalies(query.filters(), 100, after)
    except InvalidCursorError as exc:
        return JSONResponse({"detail": str(exc)}, status_code=400)
    rows_html = templates.get_template("_rows.html").render(rows=list(reversed(rows)), fresh=True)
    return JSONResponse(
        {
            "after": cursor or after or "",
            "count": len(rows),
            "rows": rows_html,
            "counts": store.severity_counts(query.filters(without="severity")),
        },
        headers={"Cache-Control": "no-store"},
    )
