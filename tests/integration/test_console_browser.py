"""The analyst console in a real Chromium, against a real `auditlens serve --role all`
holding the anomalies of a real scoring run (train → serve → replay through Kafka).

One analyst's day: sign in with the keyboard, filter the feed, open an anomaly, read
its chart, triage it, close it as a false positive with a suppression and see the
history; a reader cannot triage, in the page or by posting; an anomaly whose fields
carry markup arrives live and shows as text. Every page is saved as a screenshot at
1280×800 and on a narrow screen under the test's output folder (``screenshots/``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from service.replay import _messages
from service.store.repository import Store
from tests.integration.conftest import Processes, TrainedEnvironment, pull_all, run_cli
from tests.service.conftest import anomaly_row

pytestmark = pytest.mark.integration

# Debian's chromium, kept off every network but loopback: no proxy, no name resolution
# except 127.0.0.1, no background, component or sync traffic.
OFFLINE_FLAGS = [
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
]
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}
# The outermost elements that reach past the screen's right edge, for the failure message.
WIDER_THAN_SCREEN = """
[...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(e => !e.parentElement.closest(".scroll"))
  .slice(-5)
  .map(e => [e.tagName.toLowerCase(), e.className, Math.round(e.getBoundingClientRect().right)])
"""
XSS = '<script>window.hacked=1</script><img src=x onerror="window.hacked=2;alert(1)">'


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    executable = os.environ.get("AUDITLENS_TEST_CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"{executable} is missing: `make chromium` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=OFFLINE_FLAGS
        )
        yield browser
        browser.close()


class Console:
    """One browser context per key: its cookies are that analyst's session."""

    def __init__(self, browser: Browser, base: str, shots: Path) -> None:
        self.browser = browser
        self.base = base
        self.shots = shots
        self.contexts: list[BrowserContext] = []
        self.dialogs: list[str] = []

    def page(self) -> Page:
        context = self.browser.new_context(viewport=WIDE, base_url=self.base)
        self.contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    def sign_in_by_keyboard(self, key: str) -> Page:
        page = self.page()
        page.goto("/ui/")
        expect(page).to_have_url(re.compile(r"/ui/login"))
        expect(page.locator("#key")).to_be_focused()  # autofocus: type straight away
        page.keyboard.type(key)
        page.keyboard.press("Enter")
        expect(page.locator("h1")).to_have_text("Anomalies")
        return page

    def shoot(self, page: Page, name: str) -> None:
        """The page at 1280×800 and at phone width, whole length."""
        self.shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=self.shots / f"{name}.png", full_page=True)
        page.set_viewport_size(NARROW)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (
            f"{name}: the page is {overflow}px wider than a narrow screen; "
            f"past the edge: {page.evaluate(WIDER_THAN_SCREEN)}"
        )
        page.screenshot(path=self.shots / f"{name}-narrow.png", full_page=True)
        page.set_viewport_size(WIDE)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def wait_for_anomalies(base: str, key: str, count: int, processes: Processes) -> None:
    deadline = time.monotonic() + 180
    seen = 0
    while time.monotonic() < deadline:
        try:
            seen = len(pull_all(base, key))
        except httpx.TransportError:
            seen = 0
        if seen >= count:
            return
        time.sleep(1)
    raise AssertionError(f"{seen} of {count} anomalies stored\n{processes.logs()}")


def wait_for_archive(archive: Path, topic: str, messages: int, processes: Processes) -> None:
    """Until the archive's ranges reach the topic's last offset: the entity context
    (activity, hours) is read from the archive, which follows the checkpoints."""
    deadline = time.monotonic() + 120
    end = 0
    while time.monotonic() < deadline:
        ends = [int(path.stem.rsplit("-", 1)[1]) for path in archive.rglob(f"{topic}-0-*.parquet")]
        end = max(ends, default=0)
        if end >= messages:
            return
        time.sleep(0.5)
    raise AssertionError(f"archived up to offset {end} of {messages}\n{processes.logs()}")


def test_an_analyst_and_a_reader_at_the_console(
    trained: TrainedEnvironment,
    service_env: dict[str, str],
    processes: Processes,
    chromium: Browser,
    tmp_path: Path,
) -> None:
    archive = tmp_path / "archive"
    env = {
        **service_env,
        "AUDITLENS_ARCHIVE_URL": str(archive),
        "AUDITLENS_CHECKPOINT_INTERVAL_S": "1",
    }
    server = processes.serve(env, role="all")
    keys = {
        role: run_cli(service_env, "keys", "create", "--role", role).strip().splitlines()[-1]
        for role in ("analyst", "reader", "admin")
    }
    topic = service_env["AUDITLENS_TOPICS"]
    run_cli(service_env, "replay", "--data", str(trained.test_file), "--topic", topic)
    base = f"http://127.0.0.1:{service_env['AUDITLENS_API_PORT']}"
    wait_for_anomalies(base, keys["reader"], len(trained.expected), processes)
    wait_for_archive(archive, topic, _messages([trained.test_file]).height, processes)
    assert server.poll() is None, processes.logs()

    console = Console(chromium, base, tmp_path / "screenshots")
    try:
        analyst = console.sign_in_by_keyboard(keys["analyst"])
        rows = analyst.locator("#feed-rows tr")
        assert rows.count() == min(len(trained.expected), 50)
        console.shoot(analyst, "feed")

        # The feed, filtered: one severity, highest score first.
        analyst.select_option("select[name=severity]", "high")
        analyst.get_by_role("button", name="Apply").click()
        expect(analyst).to_have_url(re.compile(r"severity=high"))
        severities = analyst.locator("#feed-rows tr td:nth-child(2)").all_inner_texts()
        assert severities, "no high anomaly in a real scoring run: the filter proves nothing"
        assert set(severities) == {"high"}
        scores = [float(s) for s in analyst.locator("#feed-rows tr td.num").all_inner_texts()]
        assert scores == sorted(scores, reverse=True)
        shown = int(analyst.locator('[data-count="high"]').inner_text())
        assert shown >= len(severities)
        console.shoot(analyst, "feed-filtered")

        # The top anomaly, reached with the keyboard alone.
        first_link = analyst.locator("#feed-rows tr td.num a").first
        for _ in range(60):
            analyst.keyboard.press("Tab")
            if first_link.evaluate("link => link === document.activeElement"):
                break
        else:
            raise AssertionError("Tab never reached the first anomaly of the feed")
        analyst.keyboard.press("Enter")
        expect(analyst).to_have_url(re.compile(r"/ui/anomalies/\d+$"))
        anomaly_id = int(analyst.url.rsplit("/", 1)[1])
        bars = analyst.locator("svg.chart.explain rect.share")
        assert bars.count() >= 1
        expect(bars.first).to_be_visible()
        assert analyst.locator("svg.chart.activity rect").count() > 0
        expect(analyst.locator("pre.raw")).to_contain_text('"')
        expect(analyst.locator(".facts")).to_contain_text("auditlens version 1")
        console.shoot(analyst, "anomaly")

        # Triage: take it, then close it as a false positive with a suppression.
        form = analyst.locator("#triage-form")
        form.locator("select[name=status]").select_option("in_progress")
        form.locator("input[name=assignee]").fill("dana")
        form.locator("textarea[name=note]").fill("looking into it")
        form.get_by_role("button", name="Save triage").click()
        expect(analyst.locator(".notice.ok")).to_have_text("Triage saved.")
        suppress = analyst.locator("#suppress-form")
        suppress.locator("input[name=reason]").fill("known deploy robot")
        suppress.get_by_role("button", name="Close as false positive and suppress similar").click()
        expect(analyst.locator("#status")).to_have_text("closed · false_positive")
        history = analyst.locator("table.history tbody").inner_text()
        for change in ("in_progress", "dana", "looking into it", "closed", "false_positive"):
            assert change in history, change
        assert "suppression" in history
        console.shoot(analyst, "anomaly-triaged")
        analyst.get_by_role("link", name="Suppressions").click()
        rule = analyst.locator("table.rules tbody tr[data-rule]")
        expect(rule).to_have_count(1)
        expect(rule).to_contain_text("known deploy robot")
        console.shoot(analyst, "suppressions")

        # The API agrees with what the page showed.
        stored = httpx.get(
            f"{base}/v1/anomalies/{anomaly_id}",
            headers={"Authorization": f"Bearer {keys['reader']}"},
        ).json()
        assert (stored["status"], stored["verdict"], stored["assignee"]) == (
            "closed",
            "false_positive",
            "dana",
        )

        # A reader sees the same anomaly without controls, and the server refuses a post.
        reader = console.sign_in_by_keyboard(keys["reader"])
        reader.goto(f"/ui/anomalies/{anomaly_id}")
        expect(reader.locator("#triage-form")).to_have_count(0)
        expect(reader.locator("#suppress-form")).to_have_count(0)
        expect(reader.locator("#triage")).to_be_visible()
        expect(reader.get_by_text("can read but not triage")).to_be_visible()
        expect(reader.get_by_role("link", name="Suppressions")).to_have_count(0)
        console.shoot(reader, "anomaly-reader")
        token = reader.locator("input[name=csrf_token]").first.input_value()
        refused = reader.request.post(
            f"/ui/anomalies/{anomaly_id}/triage",
            form={"csrf_token": token, "status": "new"},
            max_redirects=0,
        )
        assert refused.status == 403
        assert "this needs the analyst role" in refused.text()
        unchanged = httpx.get(
            f"{base}/v1/anomalies/{anomaly_id}",
            headers={"Authorization": f"Bearer {keys['reader']}"},
        ).json()
        assert unchanged["status"] == "closed"

        # Markup in an event's fields arrives live on the open feed and shows as text.
        reader.goto("/ui/?order=time")
        store = Store(service_env["AUDITLENS_STORE_URL"])
        try:
            store.insert_anomalies(
                [anomaly_row("xss-1", actor=XSS, user_agent=XSS, summary=f"{XSS} did it")]
            )
        finally:
            store.close()
        expect(reader.locator("#live-status")).to_contain_text("1 new anomaly", timeout=20_000)
        fresh = reader.locator("#feed-rows tr.fresh td.actor")
        expect(fresh).to_have_text(XSS)
        console.shoot(reader, "feed-live-markup")
        fresh_link = reader.locator("#feed-rows tr.fresh td.num a")
        fresh_link.click()
        expect(reader.locator('[data-field="user_agent"]')).to_have_text(XSS)
        expect(reader.locator("h1.summary-sentence")).to_have_text(f"{XSS} did it")
        console.shoot(reader, "anomaly-markup")
        assert reader.evaluate("window.hacked") is None
        assert reader.locator("main script, main img").count() == 0
        assert console.dialogs == []

        # The admin pages render for an admin.
        admin = console.sign_in_by_keyboard(keys["admin"])
        for name, path, heading in (
            ("webhooks", "/ui/webhooks", "Webhooks"),
            ("keys", "/ui/keys", "API keys"),
            ("models", "/ui/models", "Model versions"),
        ):
            admin.goto(path)
            expect(admin.locator("h1")).to_contain_text(heading)
            console.shoot(admin, name)
        expect(admin.locator("main")).to_contain_text("champion")

        # Signing out ends the session: the feed asks for a key again.
        analyst.get_by_role("button", name="Sign out").click()
        expect(analyst).to_have_url(re.compile(r"/ui/login"))
        analyst.goto("/ui/")
        expect(analyst).to_have_url(re.compile(r"/ui/login"))
        console.shoot(analyst, "login")
    finally:
        console.close()
    assert server.poll() is None, processes.logs()
