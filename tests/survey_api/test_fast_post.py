"""The single post's fast path (survey_api/responses/fast_post.py): it answers posts that
succeed, exactly as the Flask route would, and hands every other request to Flask unchanged.

Each request is sent twice: through the app as it runs (fast path in front) and through the
Flask app alone, and the two answers must agree: status, headers, and body but for what differs
between two stored responses (ids, times)."""

from __future__ import annotations

import json
import logging
import random

import pytest

import survey_api
from shared.settings import Settings
from tests.support.factories import builtin, complete_answers

CUSTOMER = builtin("how-you-buy")
# Differ between two stored responses, or between two requests.
VOLATILE_FIELDS = {"id", "created_at", "updated_at", "submission_id", "request_id", "existing_id"}
VOLATILE_HEADERS = {"X-Request-ID", "X-RateLimit-Remaining"}


@pytest.fixture
def reached_flask(app):
    """The requests that got as far as Flask, in order: (method, path)."""
    seen = []
    app.before_request_funcs.setdefault(None, []).insert(
        0, lambda: seen.append(__import__("flask").request.path) and None)
    return seen


def _answers(seed: int = 1) -> dict:
    return complete_answers(CUSTOMER, random.Random(seed))


def _both_ways(app, client, path, submission_id, **kwargs):
    """The answer through the fast path, then the same request (another submission id) with
    the fast path taken out."""
    def send(suffix):
        body = kwargs.get("json")
        if isinstance(body, dict) and "submission_id" in body:
            body = {**body, "submission_id": submission_id + suffix}
        return client.post(path, **{**kwargs, **({"json": body} if "json" in kwargs else {})})

    fast = send("-a")
    with_fast_path = app.wsgi_app
    app.wsgi_app = with_fast_path.wsgi_app
    try:
        plain = send("-b")
    finally:
        app.wsgi_app = with_fast_path
    return fast, plain


def _comparable(answer):
    body = answer.get_json(silent=True)
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in VOLATILE_FIELDS}
    headers = sorted((k, v) for k, v in answer.headers.items() if k not in VOLATILE_HEADERS)
    return answer.status, headers, body


def test_a_post_that_succeeds_never_reaches_flask_and_answers_as_flask_would(
        app, client, tenant, open_survey, reached_flask):
    path = f"/v1/surveys/{open_survey['id']}/responses"
    fast, plain = _both_ways(app, client, path, "s1", headers=tenant.headers("ingest"),
                             json={"submission_id": "s1", "answers": _answers(),
                                   "attributes": {"region": "emea"}})
    assert fast.status_code == 201
    assert _comparable(fast) == _comparable(plain)
    assert fast.headers["X-RateLimit-Remaining"] != plain.headers["X-RateLimit-Remaining"]
    assert reached_flask == [path]  # only the request sent with the fast path taken out
    stored = client.get(f"{path}/{fast.get_json()['id']}", headers=tenant.headers("read"))
    assert stored.get_json()["answers"] == fast.get_json()["answers"]


def test_a_repeat_and_an_updated_draft_are_answered_by_the_fast_path_too(
        client, tenant, open_survey, reached_flask):
    path = f"/v1/surveys/{open_survey['id']}/responses"
    body = {"submission_id": "again", "answers": _answers()}
    first = client.post(path, json=body, headers=tenant.headers("ingest"))
    repeat = client.post(path, json=body, headers=tenant.headers("ingest"))
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.get_json() == first.get_json()
    draft = {"submission_id": "draft", "answers": {"tenure": "new"}, "complete": False}
    assert client.post(path, json=draft, headers=tenant.headers("ingest")).status_code == 201
    updated = client.post(path, json={**draft, "answers": _answers(2), "complete": True},
                          headers=tenant.headers("ingest"))
    assert updated.status_code == 200 and updated.get_json()["complete"] is True
    assert reached_flask == []


@pytest.mark.parametrize("case", [
    "invalid answers", "envelope", "bad text", "no key", "unknown key", "read key",
    "other tenant", "no survey", "conflict", "query string", "not json", "service token",
    "unreadable json", "closed survey",
])
def test_every_other_answer_comes_from_flask_and_is_the_same_either_way(
        app, client, tenant, other_tenant, open_survey, reached_flask, case):
    survey_id = open_survey["id"]
    path = f"/v1/surveys/{survey_id}/responses"
    body = {"submission_id": "case", "answers": _answers()}
    headers = tenant.headers("ingest")
    kwargs = {"json": body}
    if case == "invalid answers":
        body["answers"] = {**body["answers"], "nps": 11}
    elif case == "envelope":
        body["instrument"] = "partner"
    elif case == "bad text":
        body["attributes"] = {"region": "em\u0000ea"}
    elif case == "no key":
        headers = {}
    elif case == "unknown key":
        headers = {"Authorization": "Bearer bk_not_a_key"}
    elif case == "read key":
        headers = tenant.headers("read")
    elif case == "other tenant":
        headers = other_tenant.headers("ingest")
    elif case == "no survey":
        path = "/v1/surveys/0123456789abcdef0123456789abcdef/responses"
    elif case == "conflict":
        for suffix in ("-a", "-b"):  # stored with other answers under both submission ids
            stored = client.post(path, json={"submission_id": "case" + suffix,
                                             "answers": _answers(9)}, headers=headers)
            assert stored.status_code == 201
        reached_flask.clear()
    elif case == "query string":
        path += "?debug=1"
    elif case == "not json":
        kwargs = {"data": json.dumps(body), "content_type": "text/plain"}
    elif case == "service token":
        headers = {**headers, "X-Service-Token": "test-service-token-0123",
                   "X-Org-Id": tenant.org.id}
    elif case == "unreadable json":
        kwargs = {"data": b'{"submission_id": "case", "answers": {', "content_type":
                  "application/json"}
    elif case == "closed survey":
        closed = client.post(f"/v1/surveys/{survey_id}/close", headers=tenant.headers())
        assert closed.status_code == 200
        reached_flask.clear()
    fast, plain = _both_ways(app, client, path, "case", headers=headers, **kwargs)
    if case == "query string":  # stored by the Flask route, which ignores the parameter
        assert fast.status_code == 201
    else:
        assert fast.status_code >= 400
        assert fast.headers["Content-Type"] == "application/problem+json"
    assert _comparable(fast) == _comparable(plain)
    assert len(reached_flask) == 2  # both answers came from the Flask route


def test_a_request_is_counted_once_against_the_rate_limit(tmp_path):
    settings = Settings(app_env="test", store_url=f"sqlite:///{tmp_path}/limits.db",
                        secret_key="test-secret-key-0123456789",
                        service_token="test-service-token-0123", webhook_poll_seconds=0,
                        api_rate_limit="4 per minute")
    app = survey_api.create_app(settings)
    client = app.test_client()
    from shared.extensions import get_store
    from tests.conftest import Tenant
    with app.app_context():
        tenant = Tenant(get_store(), "Limited")
        from survey_api.surveys.domain import create_survey, transition
        survey = create_survey(get_store(), tenant.org.id, {
            "name": "Limited", "customer_instrument": {"id": "how-you-buy", "version": 1}})
        transition(get_store(), tenant.org.id, survey.id, "open")
    path = f"/v1/surveys/{survey.id}/responses"
    answers = _answers()
    remaining = []
    for n, valid in enumerate([True, False, True, True]):
        body = {"submission_id": f"r{n}", "answers": answers if valid else {"nps": 42}}
        answer = client.post(path, json=body, headers=tenant.headers("ingest"))
        assert answer.status_code == (201 if valid else 422)
        remaining.append(answer.headers["X-RateLimit-Remaining"])
    assert remaining == ["3", "2", "1", "0"]  # the invalid post (Flask's answer) counted once
    over = client.post(path, json={"submission_id": "r9", "answers": answers},
                       headers=tenant.headers("ingest"))
    assert over.status_code == 429 and over.headers["Retry-After"]
    assert client.get(f"{path}/x", headers=tenant.headers("ingest")).status_code == 429


def test_a_fast_post_writes_its_access_line(client, tenant, open_survey, caplog):
    path = f"/v1/surveys/{open_survey['id']}/responses"
    with caplog.at_level(logging.INFO, logger="survey_api.access"):
        answer = client.post(path, json={"submission_id": "logged", "answers": _answers()},
                             headers={**tenant.headers("ingest"), "X-Request-ID": "trace-7"})
    assert answer.status_code == 201 and answer.headers["X-Request-ID"] == "trace-7"
    lines = [r for r in caplog.records if r.name == "survey_api.access"]
    assert [(r.method, r.path, r.status) for r in lines] == [("POST", path, 201)]
    assert lines[0].ms >= 0


def test_the_fast_path_starts_the_workers_background_threads(tmp_path):
    settings = Settings(app_env="test", store_url=f"sqlite:///{tmp_path}/bg.db",
                        secret_key="test-secret-key-0123456789",
                        service_token="test-service-token-0123", webhook_poll_seconds=3600,
                        webhook_allow_private=True)
    app = survey_api.create_app(settings)
    from shared.extensions import get_store
    from survey_api.surveys.domain import create_survey, transition
    from tests.conftest import Tenant
    with app.app_context():
        tenant = Tenant(get_store(), "Background")
        survey = create_survey(get_store(), tenant.org.id, {
            "name": "Bg", "customer_instrument": {"id": "how-you-buy", "version": 1}})
        transition(get_store(), tenant.org.id, survey.id, "open")
    assert "webhook_dispatcher" not in app.extensions
    answer = app.test_client().post(f"/v1/surveys/{survey.id}/responses",
                                    json={"submission_id": "bg", "answers": _answers()},
                                    headers=tenant.headers("ingest"))
    assert answer.status_code == 201
    thread, stop = app.extensions["webhook_dispatcher"]
    assert thread.is_alive()
    stop.set()
