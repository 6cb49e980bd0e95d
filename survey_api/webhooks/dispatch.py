"""Sending queued webhook deliveries: signed, retried with backoff, results recorded.

Signature: the receiver recomputes HMAC-SHA256 over "<X-Webhook-Timestamp>.<raw body>" with
the endpoint's secret and compares it with X-Webhook-Signature ("sha256=<hex>"); it should also
refuse timestamps older than a few minutes (replays) and use X-Webhook-Delivery to drop a
delivery it has already processed (a retry after a lost answer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable

import requests

from shared.storage import Delivery, Store, to_timestamp

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed attempt; after the last, the delivery fails.
BACKOFF = (5, 30, 120, 600, 3600, 6 * 3600)
LEASE = timedelta(seconds=60)  # a claimed delivery is not claimed again within this time
TIMEOUT = 10


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def body_of(delivery: Delivery) -> bytes:
    return json.dumps({"id": delivery.id, "event": delivery.event,
                       "created_at": delivery.created_at, "data": delivery.payload},
                      separators=(",", ":"), ensure_ascii=False).encode()


def deliver_due(store: Store, settings=None, post: Callable = requests.post,
                now: datetime | None = None) -> int:
    """Send every delivery due now; returns how many were attempted."""
    now = now or datetime.now(timezone.utc)
    due = store.deliveries.claim_due(to_timestamp(now), to_timestamp(now + LEASE))
    for delivery in due:
        try:
            _attempt(store, delivery, post, now)
        except Exception:  # e.g. a stored payload that cannot be encoded: it fails alone
            log.exception("webhook delivery cannot be sent", extra={"delivery": delivery.id})
            store.deliveries.update(delivery.id, {"status": "failed",
                                                  "last_error": "The event cannot be encoded."})
    return len(due)


def _attempt(store: Store, delivery: Delivery, post: Callable, now: datetime) -> None:
    webhook = store.webhooks.get(delivery.org_id, delivery.webhook_id)
    if webhook is None or not webhook.active:
        store.deliveries.update(delivery.id, {"status": "failed",
                                              "last_error": "The webhook was removed."})
        return
    body = body_of(delivery)
    stamp = int(now.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": "buyer-alignment-webhooks/1",
               "X-Webhook-Event": delivery.event, "X-Webhook-Delivery": delivery.id,
               "X-Webhook-Timestamp": str(stamp),
               "X-Webhook-Signature": sign(webhook.secret, stamp, body)}
    status, error = None, None
    try:
        answer = post(webhook.url, data=body, headers=headers, timeout=TIMEOUT,
                      allow_redirects=False)
        status = answer.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    attempts = delivery.attempts + 1
    changes: dict = {"attempts": attempts, "last_status": status, "last_error": error}
    if error is None:
        changes["status"] = "delivered"
    elif attempts > len(BACKOFF):
        changes["status"] = "failed"
    else:
        changes["next_attempt_at"] = to_timestamp(now + timedelta(seconds=BACKOFF[attempts - 1]))
    store.deliveries.update(delivery.id, changes)
    store.webhooks.update(webhook.org_id, webhook.id, {
        "last_status": status, "last_error": error, "last_attempt_at": to_timestamp(now)})
    log.info("webhook delivery", extra={"delivery": delivery.id, "webhook": webhook.id,
                                        "status": status, "error": error, "attempt": attempts})


def start_dispatcher(get_store: Callable[[], Store], every_seconds: float,
                     stop: threading.Event) -> threading.Thread:
    """A daemon thread in this worker process that sends due deliveries until stop is set.
    Several workers may run one each: claim_due hands every delivery to one of them."""

    def loop():
        while not stop.is_set():
            try:
                while deliver_due(get_store()):
                    pass
            except Exception:  # keep the loop alive; the error is logged with its trace
                log.exception("webhook dispatcher failed; retrying")
            stop.wait(every_seconds)

    thread = threading.Thread(target=loop, name="webhook-dispatcher", daemon=True)
    thread.start()
    return thread
