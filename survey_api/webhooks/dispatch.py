"""Sending queued webhook deliveries: signed, retried with backoff, results recorded.

Signature: the receiver recomputes HMAC-SHA256 over "<X-Webhook-Timestamp>.<raw body>" with
the endpoint's secret and compares it with X-Webhook-Signature ("sha256=<hex>"); it should also
refuse timestamps older than a few minutes (replays) and use X-Webhook-Delivery to drop a
delivery it has already processed (a retry after a lost answer). The timestamp is taken when
the request is sent, never when the delivery was claimed.

Leases. A poller claims due deliveries with a lease (a token, held until next_attempt_at).
Before each send it counts the attempt, which succeeds only while it still holds the lease with
at least MAX_SEND_SECONDS left, so a delivery is never sent by two pollers while a lease is
held; the result is recorded only by the lease holder. Every send is counted in `attempts`.

Fairness. Deliveries are claimed per webhook (at most PER_WEBHOOK at a time, in order) and each
webhook's claim is sent by one task of a small thread pool, with a short timeout. A slow or dead
endpoint therefore holds one pool thread for at most PER_WEBHOOK sends, stops at its first
failure, and is not claimed again by this process while its task runs; every other
organization's webhooks are claimed on the next poll and sent by the other threads. Per-webhook
(rather than per-tenant) queues also keep one organization's slow endpoint from delaying its
own other endpoints.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone
from typing import Callable

from flask import current_app, has_app_context

from shared.settings import Settings
from shared.storage import Delivery, Store, Webhook, to_timestamp

from . import targets

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed attempt; after the last, the delivery fails.
BACKOFF = (5, 30, 120, 600, 3600, 6 * 3600)
CONNECT_TIMEOUT, READ_TIMEOUT = 3, 5
MAX_SEND_SECONDS = 2 * (CONNECT_TIMEOUT + READ_TIMEOUT)  # with room for a slow start
PER_WEBHOOK = 10  # deliveries of one webhook claimed (and sent in order) at a time
POOL_THREADS = 4
# Long enough for a whole per-webhook claim to be sent, one send after another.
LEASE = timedelta(seconds=PER_WEBHOOK * MAX_SEND_SECONDS + 30)
# Finished deliveries deleted per poll at most: a long backlog (after an upgrade, or a busy
# month) goes in short writes that never hold up claiming or ingest.
PRUNE_PER_PASS = 1000


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_of(delivery: Delivery) -> bytes:
    return json.dumps({"id": delivery.id, "event": delivery.event,
                       "created_at": delivery.created_at, "data": delivery.payload},
                      separators=(",", ":"), ensure_ascii=False).encode()


class Dispatcher:
    """Claims due deliveries and sends them from a small pool, one task per webhook."""

    def __init__(self, get_store: Callable[[], Store], settings: Settings,
                 clock: Callable[[], datetime] | None = None, threads: int = POOL_THREADS,
                 timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT)):
        self.get_store = get_store
        self.allow_private = settings.webhook_allow_private
        self.retention = timedelta(days=settings.webhook_retention_days)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self.timeout = timeout
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="webhook-send")
        self.busy: set[str] = set()  # webhooks whose task is running in this process
        self.lock = threading.Lock()

    def poll(self) -> tuple[int, list]:
        """Claim what is due for the webhooks not being sent already, start their tasks and
        return how many were claimed and the tasks' futures (without waiting for them)."""
        store = self.get_store()
        now = self.clock()
        self.prune(store, now)
        with self.lock:
            busy = set(self.busy)
        due = store.deliveries.claim_due(to_timestamp(now), to_timestamp(now + LEASE),
                                         limit=PER_WEBHOOK * 10, per_webhook=PER_WEBHOOK,
                                         skip_webhooks=busy)
        by_webhook: dict[tuple[str, str], list[Delivery]] = {}
        for delivery in due:
            by_webhook.setdefault((delivery.org_id, delivery.webhook_id), []).append(delivery)
        futures = []
        for (org_id, webhook_id), deliveries in by_webhook.items():
            with self.lock:
                self.busy.add(webhook_id)
            futures.append(self.pool.submit(self._send_all, store, org_id, webhook_id,
                                            deliveries))
        return len(due), futures

    def prune(self, store: Store, now: datetime) -> int:
        """One bounded pass over the delivered and finally failed deliveries older than the
        retention (webhook_retention_days); pending ones stay until they finish."""
        return store.deliveries.prune_finished(to_timestamp(now - self.retention),
                                               limit=PRUNE_PER_PASS)

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def _send_all(self, store: Store, org_id: str, webhook_id: str,
                  deliveries: list[Delivery]) -> None:
        try:
            webhook = store.webhooks.get(org_id, webhook_id)
            session = targets.session(self.allow_private)
            for position, delivery in enumerate(deliveries):
                if webhook is None or not webhook.active:
                    store.deliveries.update(delivery.id, {
                        "status": "failed", "last_error": "The webhook was removed."},
                        lease=delivery.lease)
                    continue
                if not self._attempt(store, session, webhook, delivery):
                    # The endpoint is failing: the rest wait a little instead of each taking
                    # a timeout now.
                    retry = to_timestamp(self.clock() + timedelta(seconds=BACKOFF[0]))
                    for rest in deliveries[position + 1:]:
                        store.deliveries.update(rest.id, {"next_attempt_at": retry},
                                                lease=rest.lease)
                    break
        except Exception:  # logged with its trace; the leases run out and others retry
            log.exception("webhook sending failed", extra={"webhook": webhook_id})
        finally:
            with self.lock:
                self.busy.discard(webhook_id)

    def _attempt(self, store: Store, session, webhook: Webhook, delivery: Delivery) -> bool:
        """Send one delivery if its lease allows; False if the endpoint failed."""
        started = store.deliveries.begin_attempt(
            delivery.id, delivery.lease,
            to_timestamp(self.clock() + timedelta(seconds=MAX_SEND_SECONDS)))
        if started is None:  # the lease ran out (or another poller holds it): do not send
            return True
        try:
            body = body_of(started)
        except (TypeError, ValueError):  # e.g. text an older version stored unencodable
            log.exception("webhook delivery cannot be encoded", extra={"delivery": delivery.id})
            store.deliveries.update(delivery.id, {"status": "failed",
                                                  "last_error": "The event cannot be encoded."},
                                    lease=delivery.lease)
            return True
        stamp = int(time.time())  # now, at send time
        headers = {"Content-Type": "application/json",
                   "User-Agent": "buyer-alignment-webhooks/1",
                   "X-Webhook-Event": started.event, "X-Webhook-Delivery": started.id,
                   "X-Webhook-Timestamp": str(stamp),
                   "X-Webhook-Signature": sign(webhook.secret, stamp, body)}
        status, error = None, None
        try:
            with session.post(webhook.url, data=body, headers=headers, timeout=self.timeout,
                              allow_redirects=False, stream=True) as answer:
                status = answer.status_code  # the body is never read: nothing of it is kept
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - every failure is recorded the same way
            error = targets.generic_error(exc)
        attempts = started.attempts
        finished = self.clock()
        changes: dict = {"last_status": status, "last_error": error}
        if error is None:
            changes["status"] = "delivered"
        elif attempts > len(BACKOFF):
            changes["status"] = "failed"
        else:
            changes["next_attempt_at"] = to_timestamp(
                finished + timedelta(seconds=BACKOFF[attempts - 1]))
        if store.deliveries.update(delivery.id, changes, lease=delivery.lease) is None:
            log.warning("webhook lease lost before the result was recorded",
                        extra={"delivery": delivery.id})
        store.webhooks.update(webhook.org_id, webhook.id, {
            "last_status": status, "last_error": error,
            "last_attempt_at": to_timestamp(finished)})
        log.info("webhook delivery", extra={"delivery": delivery.id, "webhook": webhook.id,
                                            "status": status, "error": error,
                                            "attempt": attempts})
        return error is None


def deliver_due(store: Store, settings: Settings | None = None,
                now: datetime | None = None) -> int:
    """Send every delivery due now and wait for the sends; returns how many were claimed.
    settings default to the current app's; now (for tests) moves the clock, not the
    signature's timestamp."""
    if settings is None:
        settings = current_app.config["SETTINGS"] if has_app_context() else Settings()
    clock = None
    if now is not None:
        started = time.monotonic()
        clock = lambda: now + timedelta(seconds=time.monotonic() - started)  # noqa: E731
    dispatcher = Dispatcher(lambda: store, settings, clock=clock)
    try:
        claimed, futures = dispatcher.poll()
        wait(futures)
        return claimed
    finally:
        dispatcher.close()


def start_dispatcher(get_store: Callable[[], Store], every_seconds: float,
                     stop: threading.Event, settings: Settings | None = None,
                     **options) -> threading.Thread:
    """A daemon thread in this worker process that claims due deliveries until stop is set,
    without waiting for slow endpoints (see Fairness above). Several workers may run one
    each: a lease hands every delivery to one of them at a time. options: see Dispatcher."""
    dispatcher = Dispatcher(get_store, settings or Settings(), **options)

    def loop():
        while not stop.is_set():
            try:
                dispatcher.poll()
            except Exception:  # keep the loop alive; the error is logged with its trace
                log.exception("webhook dispatcher failed; retrying")
            stop.wait(every_seconds)
        dispatcher.close()

    thread = threading.Thread(target=loop, name="webhook-dispatcher", daemon=True)
    thread.start()
    return thread
