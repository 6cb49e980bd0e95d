"""Webhooks under abuse (issue 13, items 3 and 8): no internal targets, generic errors, fresh
signatures, honest leases, and one tenant's slow endpoint never holds up the others. Real
local HTTP receivers throughout."""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

import survey_api
from shared.extensions import get_store
from survey_api.webhooks.dispatch import Dispatcher, deliver_due, start_dispatcher

from tests.conftest import Tenant
from tests.support.factories import builtin, complete_answers
from tests.support.helpers import wait_until
from tests.support.webhook_receiver import Receiver


def open_survey_of(client, tenant) -> dict:
    survey = client.post("/v1/surveys", json={"name": "hooks", "customer_instrument": {
        "id": "how-you-buy", "version": 1}}, headers=tenant.headers()).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=tenant.headers())
    return survey


def post_responses(client, tenant, survey, count, prefix="r"):
    for i in range(count):
        answers = complete_answers(builtin("how-you-buy"), random.Random(i))
        made = client.post(f"/v1/surveys/{survey['id']}/responses", json={
            "submission_id": f"{prefix}{i}", "answers": answers}, headers=tenant.headers())
        assert made.status_code == 201


# -- targets (item 3) ------------------------------------------------------------------------

@pytest.fixture
def strict_app(settings):
    return survey_api.create_app(settings.with_overrides(webhook_allow_private=False))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8001/hook", "http://localhost/hook", "http://0.0.0.0/",
    "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/",
    "http://10.0.0.5/", "http://192.168.1.1/", "http://100.64.0.1/", "http://224.0.0.1/",
    "https://user:secret@93.184.216.34/hook",
])
def test_internal_targets_and_credentials_are_refused(strict_app, url):
    client = strict_app.test_client()
    with strict_app.app_context():
        tenant = Tenant(get_store(), "Acme")
    response = client.post("/v1/webhooks", json={"url": url}, headers=tenant.headers())
    assert response.status_code == 422, (url, response.get_json())
    assert [e["field"] for e in response.get_json()["errors"]] == ["url"]
    assert client.get("/v1/webhooks", headers=tenant.headers()).get_json() == []


def test_a_public_address_is_accepted(strict_app):
    client = strict_app.test_client()
    with strict_app.app_context():
        tenant = Tenant(get_store(), "Acme")
    response = client.post("/v1/webhooks", json={"url": "https://93.184.216.34/hook"},
                           headers=tenant.headers())
    assert response.status_code == 201


def test_every_connection_is_checked_again(settings, tenant, open_survey, client):
    """Registered while private targets were allowed (or while the name resolved elsewhere):
    the connection itself refuses, and the receiver never hears of it."""
    receiver = Receiver()
    try:
        for url in (receiver.url, f"http://localhost:{receiver.port}/hook"):
            assert client.post("/v1/webhooks", json={"url": url},
                               headers=tenant.headers()).status_code == 201
        post_responses(client, tenant, open_survey, 1)
        with client.application.app_context():
            store = get_store()
            assert deliver_due(store, settings.with_overrides(webhook_allow_private=False)) == 2
        assert receiver.requests == []
        hooks = client.get("/v1/webhooks", headers=tenant.headers()).get_json()
        assert [h["last_error"] for h in hooks] == ["address not allowed"] * 2
        # The opt-in (development, tests) lets the same deliveries through on their retry.
        with client.application.app_context():
            later = datetime.now(timezone.utc) + timedelta(minutes=1)
            deliver_due(get_store(), settings, now=later)
        assert len(receiver.requests) == 2
    finally:
        receiver.close()


def test_stored_errors_never_carry_what_the_peer_said(client, tenant, open_survey):
    banner_server = socket.socket()
    banner_server.bind(("127.0.0.1", 0))
    banner_server.listen()

    def banner():
        while True:
            try:
                conn, _ = banner_server.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.6p1 internal-db-01\r\n")
            conn.close()

    threading.Thread(target=banner, daemon=True).start()
    receiver = Receiver(status=500, body=b"<h1>Tomcat 9.0.1 on internal-db-01</h1>")
    try:
        for url in (receiver.url, f"http://127.0.0.1:{banner_server.getsockname()[1]}/"):
            client.post("/v1/webhooks", json={"url": url}, headers=tenant.headers())
        post_responses(client, tenant, open_survey, 1)
        with client.application.app_context():
            deliver_due(get_store())
        hooks = client.get("/v1/webhooks", headers=tenant.headers()).get_json()
        assert sorted(h["last_error"] for h in hooks) == ["HTTP 500", "connection failed"]
        for hook in hooks:
            detail = client.get(f"/v1/webhooks/{hook['id']}", headers=tenant.headers())
            text = detail.get_data(as_text=True)
            assert "internal-db-01" not in text and "Banner" not in text and "SSH" not in text
    finally:
        banner_server.close()
        receiver.close()


# -- sending (item 8) ------------------------------------------------------------------------

def test_signatures_are_made_when_each_request_is_sent(client, tenant, open_survey):
    def hold_until_the_next_second(receiver, request):
        if len(receiver.requests) == 1:
            second = int(request["received"])
            while int(time.time()) == second:
                time.sleep(0.02)

    receiver = Receiver(on_request=hold_until_the_next_second)
    try:
        client.post("/v1/webhooks", json={"url": receiver.url}, headers=tenant.headers())
        post_responses(client, tenant, open_survey, 2)
        with client.application.app_context():
            assert deliver_due(get_store()) == 2
        first, second = receiver.requests
        assert int(second["headers"]["X-Webhook-Timestamp"]) > int(
            first["headers"]["X-Webhook-Timestamp"])
        assert int(second["headers"]["X-Webhook-Timestamp"]) >= int(first["received"]) + 1
    finally:
        receiver.close()


class FakeClock:
    def __init__(self):
        self.now = datetime.now(timezone.utc)
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            return self.now

    def advance(self, seconds):
        with self.lock:
            self.now += timedelta(seconds=seconds)


def test_a_slow_receiver_gets_each_delivery_once_and_attempts_count_every_send(
        app, client, tenant, open_survey, settings):
    """Every answer takes 40 s of the dispatchers' clock: a claim's lease runs out part-way,
    and a second worker claims what is left. Nothing is sent twice; every send is counted."""
    clock = FakeClock()
    receiver = Receiver(on_request=lambda r, q: clock.advance(40))
    try:
        hook = client.post("/v1/webhooks", json={"url": receiver.url},
                           headers=tenant.headers()).get_json()
        post_responses(client, tenant, open_survey, 12)
        with app.app_context():
            store = get_store()
            workers = [Dispatcher(lambda: store, settings, clock=clock) for _ in range(2)]
            rounds = 0
            while len(set(receiver.delivery_ids())) < 12 and rounds < 40:
                for worker in workers:  # the two workers poll in turn, as two processes do
                    _, futures = worker.poll()
                    for f in futures:
                        f.result()
                clock.advance(60)
                rounds += 1
            for worker in workers:
                worker.close()
        sent = receiver.delivery_ids()
        assert len(sent) == 12 and len(set(sent)) == 12  # each once
        deliveries = client.get(f"/v1/webhooks/{hook['id']}",
                                headers=tenant.headers()).get_json()["deliveries"]
        assert [(d["status"], d["attempts"]) for d in deliveries] == [("delivered", 1)] * 12
    finally:
        receiver.close()


def test_a_lease_that_ran_out_cannot_record_a_result(app, client, tenant, open_survey):
    client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/x"}, headers=tenant.headers())
    post_responses(client, tenant, open_survey, 1)
    from shared.storage import to_timestamp

    now = datetime.now(timezone.utc)
    with app.app_context():
        store = get_store()
        first = store.deliveries.claim_due(to_timestamp(now), to_timestamp(now + timedelta(
            seconds=60)))[0]
        assert store.deliveries.begin_attempt(first.id, first.lease, to_timestamp(
            now + timedelta(seconds=90))) is None  # too little lease left to send
        later = now + timedelta(seconds=61)
        second = store.deliveries.claim_due(to_timestamp(later), to_timestamp(
            later + timedelta(seconds=60)))[0]
        assert second.id == first.id and second.lease != first.lease
        assert store.deliveries.begin_attempt(first.id, first.lease, to_timestamp(later)) is None
        assert store.deliveries.begin_attempt(second.id, second.lease,
                                              to_timestamp(later)).attempts == 1
        assert store.deliveries.update(first.id, {"status": "delivered"},
                                       lease=first.lease) is None
        done = store.deliveries.update(second.id, {"status": "delivered"}, lease=second.lease)
        assert done.status == "delivered" and done.lease is None and done.attempts == 1


def test_one_tenants_slow_endpoint_does_not_hold_up_the_others(settings):
    app = survey_api.create_app(settings)
    client = app.test_client()
    with app.app_context():
        slow_tenant, fast_tenant = Tenant(get_store(), "Slow"), Tenant(get_store(), "Fast")
    release = threading.Event()
    slow = Receiver(on_request=lambda r, q: release.wait(60))
    fast = Receiver()
    stop = threading.Event()
    try:
        client.post("/v1/webhooks", json={"url": slow.url}, headers=slow_tenant.headers())
        client.post("/v1/webhooks", json={"url": fast.url}, headers=fast_tenant.headers())
        post_responses(client, slow_tenant, open_survey_of(client, slow_tenant), 3)
        post_responses(client, fast_tenant, open_survey_of(client, fast_tenant), 2)

        def store():
            with app.app_context():
                return get_store()

        # A read timeout longer than the test, so the slow endpoint holds its thread for real.
        start_dispatcher(store, 0.1, stop, app.config["SETTINGS"], timeout=(3, 120))
        wait_until(lambda: len(fast.requests) == 2)
        assert len(slow.requests) <= 1  # still holding its first request
        release.set()
        wait_until(lambda: len(slow.requests) == 3)
        assert len(set(slow.delivery_ids())) == 3
    finally:
        stop.set()
        release.set()
        slow.close()
        fast.close()
