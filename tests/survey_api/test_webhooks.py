"""Webhooks against a real local HTTP receiver: signed, retried with backoff, status visible."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from datetime import datetime, timedelta, timezone

import pytest

from shared.extensions import get_store
from survey_api.webhooks.dispatch import BACKOFF, deliver_due

from tests.support.factories import builtin, complete_answers
from tests.support.helpers import wait_until
from tests.support.webhook_receiver import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


V1 = {"customer_instrument": {"id": "how-you-buy", "version": 1}}  # v1 answers


def _post_response(client, tenant, survey, submission_id):
    answers = complete_answers(builtin("how-you-buy"), random.Random(submission_id))
    return client.post(f"/v1/surveys/{survey['id']}/responses", json={
        "submission_id": submission_id, "answers": answers}, headers=tenant.headers())


def test_a_new_response_is_delivered_signed(app, client, tenant, open_survey, receiver):
    hook = client.post("/v1/webhooks", json={"url": receiver.url}, headers=tenant.headers())
    assert hook.status_code == 201
    secret = hook.get_json()["secret"]
    created = _post_response(client, tenant, open_survey, "w1").get_json()
    _post_response(client, tenant, open_survey, "w1")  # a duplicate: no second event
    with app.app_context():
        assert deliver_due(get_store()) == 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    headers, body = request["headers"], request["body"]
    expected = hmac.new(secret.encode(), headers["X-Webhook-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Webhook-Signature"] == f"sha256={expected}"
    assert abs(int(headers["X-Webhook-Timestamp"]) - time.time()) < 60
    event = json.loads(body)
    assert event["event"] == "response.created" and headers["X-Webhook-Event"] == event["event"]
    assert event["data"]["response_id"] == created["id"]
    assert event["data"]["answers"] == created["answers"]
    detail = client.get(f"/v1/webhooks/{hook.get_json()['id']}", headers=tenant.headers())
    assert detail.get_json()["last_status"] == 204
    assert detail.get_json()["deliveries"][0]["status"] == "delivered"
    assert "secret" not in detail.get_json()


def test_failures_are_retried_with_backoff_then_given_up(app, client, tenant, open_survey,
                                                         receiver):
    hook = client.post("/v1/webhooks", json={"url": receiver.url}, headers=tenant.headers())
    hook_id = hook.get_json()["id"]
    _post_response(client, tenant, open_survey, "w2")
    receiver.statuses = [500, 503]
    now = datetime.now(timezone.utc)
    with app.app_context():
        store = get_store()
        assert deliver_due(store, now=now) == 1  # 500
        assert deliver_due(store, now=now + timedelta(seconds=BACKOFF[0] - 1)) == 0  # too soon
        assert deliver_due(store, now=now + timedelta(seconds=BACKOFF[0] + 1)) == 1  # 503
        later = now + timedelta(seconds=BACKOFF[0] + BACKOFF[1] + 2)
        assert deliver_due(store, now=later) == 1  # 204
    assert len(receiver.requests) == 3
    # The same delivery id each time, so the receiver can drop repeats.
    assert len({r["headers"]["X-Webhook-Delivery"] for r in receiver.requests}) == 1
    delivery = client.get(f"/v1/webhooks/{hook_id}", headers=tenant.headers()).get_json()[
        "deliveries"][0]
    assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == (
        "delivered", 3, 204)

    # An endpoint that never answers well: given up after the last backoff step.
    _post_response(client, tenant, open_survey, "w3")
    receiver.statuses = [500] * 20
    moment = later
    with app.app_context():
        for _ in range(len(BACKOFF) + 3):
            moment += timedelta(hours=7)
            deliver_due(get_store(), now=moment)
    failed = client.get(f"/v1/webhooks/{hook_id}", headers=tenant.headers()).get_json()
    assert failed["deliveries"][0]["status"] == "failed"
    assert failed["deliveries"][0]["attempts"] == len(BACKOFF) + 1
    assert failed["last_status"] == 500 and failed["last_error"] == "HTTP 500"


def test_the_sending_loop_prunes_finished_deliveries_after_the_retention_only(
        app, client, tenant, open_survey, receiver, settings):
    settings = settings.with_overrides(webhook_retention_days=7)
    hook_id = client.post("/v1/webhooks", json={"url": receiver.url},
                          headers=tenant.headers()).get_json()["id"]

    def deliveries():
        return {d["id"]: d["status"] for d in client.get(
            f"/v1/webhooks/{hook_id}", headers=tenant.headers()).get_json()["deliveries"]}
    now = datetime.now(timezone.utc)
    _post_response(client, tenant, open_survey, "landed")
    with app.app_context():
        deliver_due(get_store(), settings)
    [landed] = deliveries()
    _post_response(client, tenant, open_survey, "kept-trying")
    receiver.statuses = [500] * 10  # this one stays pending (retried) throughout
    with app.app_context():
        deliver_due(get_store(), settings)
        [waiting] = set(deliveries()) - {landed}
        assert deliveries() == {landed: "delivered", waiting: "pending"}
        deliver_due(get_store(), settings, now=now + timedelta(days=6, hours=23))
        assert deliveries() == {landed: "delivered", waiting: "pending"}  # not 7 days yet
        deliver_due(get_store(), settings, now=now + timedelta(days=7, hours=1))
    assert deliveries() == {waiting: "pending"}  # pruned; the pending one never
    assert len(receiver.requests) == 4  # the pruned one was not sent again


def test_unreachable_endpoint_records_the_error(app, client, tenant, open_survey):
    client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/closed"}, headers=tenant.headers())
    _post_response(client, tenant, open_survey, "w4")
    with app.app_context():
        deliver_due(get_store())
    hook = client.get("/v1/webhooks", headers=tenant.headers()).get_json()[0]
    # Generic words only (issue 13): never the text of what answered or refused.
    assert hook["last_status"] is None and hook["last_error"] == "connection refused"


def test_invalid_registrations_are_422(client, tenant):
    bad = client.post("/v1/webhooks", json={"url": "ftp://x/y", "events": ["response.deleted"]},
                      headers=tenant.headers())
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"url", "events.0"}


def test_the_background_dispatcher_delivers_without_being_asked(settings, tenant, receiver):
    import survey_api

    app = survey_api.create_app(settings.with_overrides(webhook_poll_seconds=1))
    client = app.test_client()
    client.post("/v1/webhooks", json={"url": receiver.url}, headers=tenant.headers())
    survey = client.post("/v1/surveys", json={"name": "bg", **V1}, headers=tenant.headers()).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=tenant.headers())
    _post_response(client, tenant, survey, "bg-1")
    wait_until(lambda: receiver.requests, "the background delivery")
    app.extensions["webhook_dispatcher"][1].set()
    assert len(receiver.requests) == 1
