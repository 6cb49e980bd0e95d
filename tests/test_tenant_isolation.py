"""Every /v1 route of survey_api, called with another organization's admin key on this
organization's ids: 404 (never 403, never data), and nothing changes."""

from __future__ import annotations

import random
import re

from .factories import builtin, complete_answers

BODIES = {
    ("PATCH", "/v1/surveys/<survey_id>"): {"json": {"name": "hijacked"}},
    ("POST", "/v1/surveys/<survey_id>/responses"): {
        "json": {"submission_id": "intruder", "answers": {}, "complete": False}},
    ("POST", "/v1/surveys/<survey_id>/responses:batch"): {
        "json": {"responses": [{"submission_id": "intruder", "answers": {}}]}},
    ("POST", "/v1/surveys/<survey_id>/invitations"): {"json": {"invitations": [{}]}},
    ("POST", "/v1/surveys/<survey_id>/invitations/import"): {
        "data": b"email\nx@example.com\n", "content_type": "text/csv"},
    ("POST", "/v1/instruments"): {"json": {
        "id": "pulse", "version": 1, "kind": "customer", "title": "Theirs", "sections": [
            {"id": "s", "title": "S", "questions": [
                {"id": "q", "type": "likert_5", "text": "?"}]}]}},
    ("POST", "/v1/keys"): {"json": {"name": "theirs", "scopes": ["read"]}},
    ("POST", "/v1/surveys"): {"json": {"name": "theirs"}},
    ("POST", "/v1/webhooks"): {"json": {"url": "http://127.0.0.1:9/theirs"}},
}


def test_every_route_hides_another_tenants_data(app, client, tenant, other_tenant, open_survey):
    h = tenant.headers()
    sid = open_survey["id"]
    client.post("/v1/instruments", json={**BODIES[("POST", "/v1/instruments")]["json"],
                                         "title": "Ours"}, headers=h)
    invitation = client.post(f"/v1/surveys/{sid}/invitations", json={"invitations": [{}]},
                             headers=h).get_json()["invitations"][0]
    response = client.post(f"/v1/surveys/{sid}/responses", json={
        "submission_id": "mine", "answers": complete_answers(builtin("how-you-buy"),
                                                             random.Random(1))},
        headers=h).get_json()
    key_id = client.get("/v1/keys", headers=h).get_json()[0]["id"]
    webhook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/ours"},
                          headers=h).get_json()
    values = {"survey_id": sid, "invitation_id": invitation["id"],
              "response_id": response["id"], "key_id": key_id, "instrument_id": "pulse",
              "webhook_id": webhook["id"]}
    secrets = set(values.values()) - {"pulse"} | {"Ours", "Acme Analytics", webhook["secret"],
                                                  "/ours"}

    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1"):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = re.sub(r"<(\w+)>", lambda m: values[m.group(1)], rule.rule)
            kwargs = BODIES.get((method, rule.rule), {})
            got = client.open(url, method=method, headers=other_tenant.headers(), **kwargs)
            text = got.get_data(as_text=True)
            leaked = [s for s in secrets if s in text and s not in url]
            if rule.arguments - {"instrument_id"}:
                assert got.status_code == 404, (method, url, got.status_code, text[:300])
            else:
                assert got.status_code < 400, (method, url, got.status_code, text[:300])
            assert not leaked, (method, url, leaked)
            checked += 1
    assert checked >= 15

    # Nothing of the first organization changed.
    survey = client.get(f"/v1/surveys/{sid}", headers=h).get_json()
    assert survey["name"] == open_survey["name"] and survey["status"] == "open"
    mine = client.get(f"/v1/surveys/{sid}/responses", headers=h).get_json()["items"]
    assert [r["submission_id"] for r in mine] == ["mine"]
    assert client.get("/v1/me", headers=h).status_code == 200
    assert client.get("/v1/instruments/pulse", headers=h).get_json()["title"] == "Ours"
    assert client.get(f"/v1/webhooks/{webhook['id']}", headers=h).status_code == 200
