// auditlens console: the only script the pages load (the CSP allows no inline script).
// Two jobs: follow new anomalies on the feed without a reload, and confirm destructive forms.
"use strict";

function followFeed(body) {
  let url = new URL(body.dataset.liveUrl, window.location.href);
  const interval = Number(body.dataset.interval) || 5000;
  const status = document.getElementById("live-status");
  let arrived = 0;

  async function poll() {
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    } catch (error) {
      status.textContent = "Connection lost; retrying.";
      return true;
    }
    const type = response.headers.get("content-type") || "";
    if (!response.ok || !type.includes("application/json")) {
      status.textContent = "Your session has ended: reload the page to sign in again.";
      return false;
    }
    const update = await response.json();
    url.searchParams.set("after", update.after);
    for (const [severity, count] of Object.entries(update.counts)) {
      const cell = document.querySelector(`[data-count="${severity}"]`);
      if (cell) cell.textContent = String(count);
    }
    if (update.count > 0) {
      // Rows are rendered (and escaped) by the server's templates.
      const rows = document.createElement("template");
      rows.innerHTML = update.rows;
      body.prepend(rows.content);
      arrived += update.count;
      status.textContent = `${arrived} new ${arrived === 1 ? "anomaly" : "anomalies"} since the page opened.`;
    }
    return true;
  }

  async function loop() {
    if (await poll()) window.setTimeout(loop, interval);
  }
  window.setTimeout(loop, interval);
}

document.addEventListener("DOMContentLoaded", () => {
  const body = document.querySelector("[data-live-url]");
  if (body) followFeed(body);
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
});
