"""The webhook dispatcher: claim due alerts from the outbox, POST them signed, settle each attempt.

One pass (:meth:`WebhookDispatcher.run_once`):

1. claim up to a batch of due messages (a lease; other dispatchers skip them);
2. for each, re-check the endpoint URL and connect to the checked address;
3. POST the stored body with fresh ``webhook-timestamp`` / ``webhook-signature``
   headers and the message's fixed ``webhook-id`` — or, for a ``kafka://<topic>``
   endpoint, produce it to that topic with the same headers
   (:mod:`service.webhooks.kafka_sink`);
4. settle: 2xx (or the cluster's acknowledgement) delivered; 410 disables the
   endpoint; anything else (a status, a refused connection, a timeout, a Kafka
   error) is retried after backoff with jitter, no sooner than ``Retry-After``,
   until the maximum number of attempts, then dead.

Every attempt is written to the deliveries table and counted in
``auditlens_webhook_deliveries_total{outcome}``. Logs name the endpoint id and
message id, never the URL (it can embed a token) or the secret.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx2 as httpx
from kafka.errors import KafkaError

from service import metrics
from service.config import Settings
from service.store.outbox import AttemptResult, ClaimedMessage
from service.store.repository import Store
from service.store.tables import utcnow
from service.webhooks.backoff import parse_retry_after, retry_delay
from service.webhooks.exceptions import UnsafeURLError
from service.webhooks.kafka_sink import KafkaSink, kafka_topic
from service.webhooks.payloads import render
from service.webhooks.signing import signature_headers
from service.webhooks.urls import Resolver, check_url, pinned_request, resolve

log = logging.getLogger(__name__)

USER_AGENT = "auditlens-webhooks/1"
ERROR_TEXT_LIMIT = 500

# httpx logs every request line with its full URL at INFO; a webhook URL can carry
# a token (Slack's do), so the client libraries log warnings only.
for _name in ("httpx", "httpx2", "httpcore", "httpcore2"):
    logging.getLogger(_name).setLevel(logging.WARNING)


class WebhookDispatcher:
    """Delivers outbox messages until :meth:`stop`; run it in a thread next to the API."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: httpx.Client | None = None,
        resolver: Resolver = resolve,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.resolver = resolver
        self.rng = rng or random.Random()  # noqa: S311 - retry jitter, not a secret
        self.batch_size = settings.webhook_concurrency * 8
        # A claim must outlive the slowest attempt of a batch, with room to spare.
        self.lease_s = settings.webhook_timeout_s * 3 + 30
        self._owns_client = client is None
        self.client = client or httpx.Client(
            timeout=settings.webhook_timeout_s, follow_redirects=False, trust_env=False
        )
        self._stop = threading.Event()
        self._gone: set[int] = set()  # endpoints that answered 410 during the current pass
        self._pool = ThreadPoolExecutor(
            max_workers=settings.webhook_concurrency, thread_name_prefix="webhook"
        )
        self.kafka = KafkaSink(settings.kafka_bootstrap_servers, settings.webhook_timeout_s)

    # --- lifecycle -------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Deliver until stopped; a failing pass (store down) is logged and retried."""
        try:
            while not self._stop.is_set():
                try:
                    delivered = self.run_once()
                except Exception:
                    log.exception("webhook dispatch pass failed; retrying")
                    delivered = 0
                if delivered == 0:
                    self._stop.wait(self.settings.webhook_poll_s)
        finally:
            self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.kafka.close()
        if self._owns_client:
            self.client.close()

    # --- one pass --------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim and deliver one batch of due messages; returns how many were claimed."""
        claimed = self.store.claim_due(self.batch_size, self.lease_s, render)
        self._gone = set()
        if claimed:
            list(self._pool.map(self.deliver, claimed))
        return len(claimed)

    def deliver(self, message: ClaimedMessage) -> AttemptResult | None:
        """One attempt for one message, recorded in the store.

        None when the message's endpoint answered 410 earlier in this pass: the
        store has cancelled the message already, so it is not sent.
        """
        if message.endpoint_id in self._gone:
            return None
        attempted_at = utcnow()
        started = time.perf_counter()
        status_code: int | None = None
        retry_after: float | None = None
        acknowledged = False
        error: str | None = None
        try:
            topic = kafka_topic(message.url)
            if topic is None:
                status_code, retry_after = self._post(message, attempted_at)
            else:
                self._publish(topic, message)
                acknowledged = True
        except UnsafeURLError as exc:
            error = f"refused: {exc}"
        except (httpx.HTTPError, KafkaError) as exc:
            error = _scrub(f"{type(exc).__name__}: {exc}", message.url)
        except Exception as exc:  # bad stored data must fail this message, not stall the queue
            error = _scrub(f"{type(exc).__name__}: {exc}", message.url)
            # No traceback: its frames would show the URL and the secret.
            log.error(
                "webhook %d message %s: unexpected %s",
                message.endpoint_id,
                message.message_id,
                error,
            )
        duration = time.perf_counter() - started
        result = self._settle(
            message, attempted_at, duration, status_code, retry_after, error, acknowledged
        )
        if result.outcome == "disabled":
            self._gone.add(message.endpoint_id)
        kept = self.store.record_attempt(message, result)
        metrics.WEBHOOK_DELIVERIES.labels(result.outcome).inc()
        metrics.WEBHOOK_DELIVERY_SECONDS.observe(duration)
        log.log(
            logging.INFO if result.outcome == "delivered" else logging.WARNING,
            "webhook %d message %s attempt %d: %s (%s)%s",
            message.endpoint_id,
            message.message_id,
            message.attempt,
            result.outcome,
            status_code if status_code is not None else error,
            ""
            if kept
            else "; the message was no longer ours (cancelled, or re-claimed after "
            "the lease expired)",
        )
        return result

    def _post(self, message: ClaimedMessage, now: datetime) -> tuple[int, float | None]:
        target = check_url(message.url, self.settings.webhook_allow_private, self.resolver)
        url, headers, extensions = pinned_request(target)
        body, signed = _signed(message)
        headers.update(signed)
        headers["user-agent"] = USER_AGENT
        response = self.client.post(url, content=body, headers=headers, extensions=extensions)
        response.close()
        return response.status_code, parse_retry_after(response.headers.get("retry-after"), now)

    def _publish(self, topic: str, message: ClaimedMessage) -> None:
        body, headers = _signed(message)
        self.kafka.publish(topic, message.message_id, body, headers)

    def _settle(
        self,
        message: ClaimedMessage,
        attempted_at: datetime,
        duration_s: float,
        status_code: int | None,
        retry_after: float | None,
        error: str | None,
        acknowledged: bool = False,
    ) -> AttemptResult:
        def result(
            outcome: str, error: str | None = None, retry_at: datetime | None = None
        ) -> AttemptResult:
            return AttemptResult(
                outcome,
                attempted_at=attempted_at,
                duration_ms=round(duration_s * 1000, 3),
                status_code=status_code,
                error=error,
                retry_at=retry_at,
            )

        if acknowledged or (status_code is not None and 200 <= status_code < 300):
            return result("delivered")
        if status_code == 410:
            return result("disabled", "receiver answered 410 Gone")
        error = error or f"receiver answered {status_code}"
        if message.attempt >= self.settings.webhook_max_attempts:
            return result("dead", f"{error}; gave up after {message.attempt} attempts")
        delay = retry_delay(
            message.attempt,
            retry_after,
            self.settings.webhook_backoff_base_s,
            self.settings.webhook_backoff_max_s,
            self.rng,
        )
        return result("retry", error, utcnow() + timedelta(seconds=delay))


def _signed(message: ClaimedMessage) -> tuple[bytes, dict[str, str]]:
    """The body and the headers every delivery carries, HTTP or Kafka: freshly signed."""
    body = message.payload.encode()
    headers = signature_headers(message.secret, message.message_id, int(time.time()), body)
    headers["content-type"] = "application/json"
    return body, headers


def _scrub(text: str, url: str) -> str:
    """An error text without the endpoint URL or its path (either may hold a token), bounded.

    >>> _scrub("failed POST https://h.example/T1/S3CR3T: refused", "https://h.example/T1/S3CR3T")
    'failed POST <endpoint url>: refused'
    """
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    text = text.replace(url, "<endpoint url>")
    if len(path) > 1:
        text = text.replace(path, "<endpoint path>")
    return text[:ERROR_TEXT_LIMIT]
