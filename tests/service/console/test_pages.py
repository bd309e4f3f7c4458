"""The feed, an anomaly's page and its triage, suppressions and the admin pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

import polars as pl
from fastapi.testclient import TestClient

from features.archive import ARCHIVE_SCHEMA, write_range
from service.config import Settings
from service.store.repository import Store
from tests.service.conftest import anomaly_row
from tests.service.console.conftest import csrf_of, sign_in

XSS = '<script>window.hacked=1</script><img src=x onerror="alert(1)">'


def anomaly_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="[^"]*" data-id="(\d+)"', page)]


def test_the_feed_filters_sorts_counts_and_pages_without_repeats(
    browser: TestClient, store: Store
) -> None:
    base = datetime(2026, 3, 2, tzinfo=UTC)
    store.insert_anomalies(
        [
            anomaly_row(
                f"e{i}",
                score=40.0 + (i * 7) % 60,
                severity="critical" if i % 3 == 0 else "medium",
                event_time=base + timedelta(minutes=i),
                actor="bob" if i % 2 else "alice",
            )
            for i in range(120)
        ]
    )
    sign_in(browser, store, "reader")
    page = browser.get("/ui/")
    assert page.status_code == 200
    assert re.search(r'data-count="critical">40<', page.text)
    assert re.search(r'data-count="medium">80<', page.text)
    seen: list[int] = []
    scores: list[float] = []
    url = "/ui/?order=score"
    while url:
        text = browser.get(url).text
        seen += anomaly_ids(text)
        scores += [float(s) for s in re.findall(r'aria-label="anomaly \d+, score ([\d.]+)"', text)]
        link = re.search(r'href="([^"]+)" rel="next"', text)
        url = link.group(1).replace("&amp;", "&") if link else ""
    assert sorted(seen) == list(range(1, 121))
    assert len(seen) == 120
    assert scores == sorted(scores, reverse=True)
    latest = anomaly_ids(browser.get("/ui/?order=time").text)
    assert latest[:3] == [120, 119, 118]
    bob = anomaly_ids(browser.get("/ui/?actor=bob&severity=critical").text)
    assert bob
    assert all(i % 2 == 0 and (i - 1) % 3 == 0 for i in bob)
    bad = browser.get("/ui/?min_score=500&severity=dire")
    assert bad.status_code == 400
    assert "min score is a number from 0 to 100" in bad.text
    assert "severity must be one of" in bad.text


def test_the_feed_follows_new_anomalies_from_where_the_page_opened(
    browser: TestClient, store: Store
) -> None:
    store.insert_anomalies([anomaly_row("old")])
    sign_in(browser, store, "reader")
    page = browser.get("/ui/?severity=high").text
    live = re.search(r'data-live-url="([^"]+)"', page)
    assert live
    url = live.group(1).replace("&amp;", "&")
    assert browser.get(url).json()["count"] == 0
    store.insert_anomalies([anomaly_row("new"), anomaly_row("low one", severity="low")])
    update = browser.get(url).json()
    assert update["count"] == 1  # the low one does not pass the page's filter
    assert 'data-id="2"' in update["rows"]
    assert update["counts"]["high"] == 2
    again = re.sub(r"after=[^&]*", f"after={update['after']}", url)
    assert browser.get(again).json()["count"] == 0


def test_an_anomaly_page_explains_shows_the_event_and_renders_markup_as_text(
    browser: TestClient, store: Store
) -> None:
    store.insert_anomalies(
        [anomaly_row("x", actor=XSS, user_agent=XSS, summary=f"{XSS} did something")]
    )
    sign_in(browser, store, "reader")
    for path in ("/ui/", "/ui/anomalies/1"):
        text = browser.get(path).text
        assert "<script>window.hacked" not in text
        assert "<img src=x" not in text
        assert escape(XSS, quote=False)[:40] in text
    detail = browser.get("/ui/anomalies/1").text
    assert 'class="share"' in detail
    assert "touches_rbac" in detail
    assert "80%" in detail
    assert "auditlens version 1" in detail


def test_triage_and_close_as_false_positive_with_a_suppression(
    browser: TestClient, store: Store
) -> None:
    store.insert_anomalies([anomaly_row("a"), anomaly_row("b", actor="carol")])
    sign_in(browser, store, "analyst")
    token = csrf_of(browser.get("/ui/anomalies/1").text)
    done = browser.post(
        "/ui/anomalies/1/triage",
        data={"csrf_token": token, "status": "in_progress", "assignee": "dana", "note": "on it"},
    )
    assert done.status_code == 303
    page = browser.get(done.headers["location"]).text
    assert "Triage saved." in page
    assert "dana" in page
    assert "on it" in page
    refused = browser.post(
        "/ui/anomalies/1/triage",
        data={"csrf_token": token, "status": "new", "verdict": "true_positive"},
    )
    assert refused.status_code == 409
    assert "a verdict is set when closing" in refused.text
    closed = browser.post(
        "/ui/anomalies/2/suppress",
        data={"csrf_token": token, "field": ["actor", "action"], "reason": "CI", "expires": "7"},
    )
    assert closed.status_code == 303
    anomaly = store.get_anomaly(2)
    assert anomaly is not None
    assert (anomaly.status, anomaly.verdict) == ("closed", "false_positive")
    [rule] = store.list_suppressions()
    assert (rule.rule.actor, rule.rule.action, rule.rule.resource) == ("carol", "create", None)
    history = [(c.field, c.new_value) for c in store.history(2)]
    assert ("status", "closed") in history
    assert ("suppression", str(rule.rule.id)) in history


def test_suppressions_are_created_ended_and_deleted(browser: TestClient, store: Store) -> None:
    sign_in(browser, store, "analyst")
    token = csrf_of(browser.get("/ui/suppressions").text)
    empty = browser.post("/ui/suppressions", data={"csrf_token": token, "reason": "x"})
    assert empty.status_code == 422
    assert "at least one of" in empty.text
    made = browser.post(
        "/ui/suppressions", data={"csrf_token": token, "actor": "ci-bot", "reason": "deploys"}
    )
    assert made.status_code == 303
    [view] = store.list_suppressions()
    rule_id = view.rule.id
    browser.post(f"/ui/suppressions/{rule_id}/expire", data={"csrf_token": token})
    assert store.list_suppressions() == []
    assert len(store.list_suppressions(True)) == 1
    browser.post(f"/ui/suppressions/{rule_id}/delete", data={"csrf_token": token})
    assert store.list_suppressions(True) == []
    assert (
        browser.post("/ui/suppressions/999/delete", data={"csrf_token": token}).status_code == 404
    )


def test_the_entity_context_draws_the_actors_archived_activity(
    browser: TestClient, store: Store, settings: Settings
) -> None:
    event_time = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    store.insert_anomalies([anomaly_row("a", event_time=event_time)])
    times = [event_time - timedelta(hours=h) for h in (0, 0, 1, 30, 200)]
    rows = pl.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(5)] + ["other"],
            "source": ["k8s_audit"] * 6,
            "event_time": [*times, event_time],
            "actor": ["alice"] * 5 + ["bob"],
            "is_anomaly": [True, False, False, False, False, False],
            "topic": ["t"] * 6,
            "partition": [0] * 6,
            "offset": list(range(6)),
        }
    )
    frame = pl.DataFrame(schema=ARCHIVE_SCHEMA).vstack(
        rows.select(
            [pl.col(c) if c in rows.columns else pl.lit(None).alias(c) for c in ARCHIVE_SCHEMA]
        ).cast(pl.Schema(ARCHIVE_SCHEMA))
    )
    write_range(settings.resolved_archive_url, frame, "t", 0, 0, 6)
    sign_in(browser, store, "reader")
    page = browser.get("/ui/anomalies/1").text
    assert "4 archived events" in page  # 200 h ago is outside the 7 days; bob is not alice
    assert re.search(r'class="count flagged marked"><title>2026-03-02 10:00 UTC: 2 events', page)
    assert "2026-03-02 09:00 UTC: 1 events" in page
    assert Path(settings.resolved_archive_url).is_dir()


def test_admins_issue_and_revoke_keys_and_add_webhooks(browser: TestClient, store: Store) -> None:
    sign_in(browser, store, "admin")
    token = csrf_of(browser.get("/ui/keys").text)
    issued = browser.post("/ui/keys", data={"csrf_token": token, "role": "reader", "name": "siem"})
    assert issued.status_code == 201
    key = re.search(r'id="issued-key">(al_[^<]+)<', issued.text)
    assert key
    assert store.authenticate(key.group(1)) is not None
    key_id = key.group(1).split("_")[1]
    browser.post(f"/ui/keys/{key_id}/revoke", data={"csrf_token": token})
    assert store.authenticate(key.group(1)) is None

    unsafe = browser.post("/ui/webhooks", data={"csrf_token": token, "url": "http://db.internal/"})
    assert unsafe.status_code == 422
    assert store.list_webhooks() == []
    added = browser.post(
        "/ui/webhooks",
        data={"csrf_token": token, "url": "https://siem.example.com/h", "min_severity": "high"},
    )
    assert added.status_code == 201
    assert "whsec_" in added.text
    [endpoint] = store.list_webhooks()
    log = browser.get(f"/ui/webhooks/{endpoint.id}")
    assert log.status_code == 200
    assert "No attempts yet." in log.text
    assert browser.get("/ui/models").status_code == 200
