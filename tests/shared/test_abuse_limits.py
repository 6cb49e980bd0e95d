"""Abuse limits: per-key rate limits on every service, body and count limits."""

from __future__ import annotations

import pytest

from tests.conftest import SERVICES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_api_keys_are_rate_limited_each_on_its_own(name, settings, tenant, other_tenant):
    app = SERVICES[name](settings.with_overrides(api_rate_limit="5 per minute"))
    client = app.test_client()
    route = "/v1/me" if name == "survey_api" else "/v1/surveys/none/report" \
        if name == "scoring_service" else "/v1/briefs/none"
    codes = [client.get(route, headers=tenant.headers()).status_code for _ in range(7)]
    assert codes[5:] == [429, 429] and 429 not in codes[:5]
    limited = client.get(route, headers=tenant.headers())
    assert limited.mimetype == "application/problem+json"
    assert "Retry-After" in limited.headers or "X-RateLimit-Reset" in limited.headers
    # Another organization's key has its own budget; the probes are never limited.
    assert client.get(route, headers=other_tenant.headers()).status_code != 429
    assert all(client.get("/readyz").status_code == 200 for _ in range(10))


def test_free_text_batch_and_invitation_limits(client, tenant, open_survey):
    from tests.support.factories import builtin, complete_answers

    long_text = complete_answers(builtin("how-you-buy"), suggestion="x" * 1001)
    response = client.post(f"/v1/surveys/{open_survey['id']}/responses",
                           json={"submission_id": "long", "answers": long_text},
                           headers=tenant.headers())
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "answers.suggestion"
    too_many = client.post(f"/v1/surveys/{open_survey['id']}/responses:batch",
                           json={"responses": [{}] * 1001}, headers=tenant.headers())
    assert too_many.status_code == 422
    invitations = client.post(f"/v1/surveys/{open_survey['id']}/invitations",
                              json={"invitations": [{}] * 10_001}, headers=tenant.headers())
    assert invitations.status_code == 422


def test_limited_answers_say_how_much_is_left_and_when_to_retry(settings, tenant):
    app = SERVICES["survey_api"](settings.with_overrides(api_rate_limit="3 per minute"))
    client = app.test_client()
    remaining = [client.get("/v1/me", headers=tenant.headers()).headers["X-RateLimit-Remaining"]
                 for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    limited = client.get("/v1/me", headers=tenant.headers())
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.get_json()["request_id"] == limited.headers["X-Request-ID"] != ""
    assert "3 per 1 minute" in limited.get_json()["detail"]


def test_in_process_counts_start_again_when_a_window_ends():
    import time

    from shared.ratelimit import ProcessCounts

    counts = ProcessCounts()
    assert [counts.incr("a", 0.2) for _ in range(3)] == [1, 2, 3]
    assert counts.incr("b", 0.2) == 1 and counts.get("a") == 3
    assert time.time() < counts.get_expiry("a") <= time.time() + 0.2
    time.sleep(0.25)
    assert counts.get("a") == 0  # an ended window counts as empty...
    assert counts.incr("a", 0.2) == 1  # ...and the next request opens a new one
    counts.SWEEP_SECONDS = 0
    counts._next_sweep = 0
    time.sleep(0.25)
    counts.incr("c", 60)  # a request after the sweep time removes every ended window
    assert set(counts._windows) == {"c"}
