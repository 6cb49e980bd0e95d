"""Erasing a respondent, the audit log, and secrets kept out of the logs."""

from __future__ import annotations

import logging
import random

from shared.logs import JsonFormatter
from shared.extensions import get_store
from survey_api.rebuild import recompute

from tests.support.factories import builtin, complete_answers


def test_a_respondent_is_erased_from_responses_and_counts(client, app, tenant, open_survey):
    h = tenant.headers()
    sid = open_survey["id"]
    rng = random.Random(2)
    invitation = client.post(f"/v1/surveys/{sid}/invitations", json={"invitations": [{}]},
                             headers=h).get_json()["invitations"][0]
    items = [{"submission_id": f"p{i}", "answers": complete_answers(builtin("how-you-buy"), rng)}
             for i in range(6)]
    items[5]["invitation_id"] = invitation["id"]
    client.post(f"/v1/surveys/{sid}/responses:batch", json={"responses": items}, headers=h)

    by_submission = client.post(f"/v1/surveys/{sid}/erasures", json={"submission_id": "p2"},
                                headers=h)
    assert by_submission.status_code == 200 and by_submission.get_json()["erased"]
    by_invitation = client.post(f"/v1/surveys/{sid}/erasures",
                                json={"invitation_id": invitation["id"]}, headers=h)
    assert by_invitation.get_json()["submission_id"] == "p5"
    left = client.get(f"/v1/surveys/{sid}/responses", headers=h).get_json()["items"]
    assert sorted(r["submission_id"] for r in left) == ["p0", "p1", "p3", "p4"]
    with app.app_context():
        store = get_store()
        check = recompute(store, store.surveys.get_any(sid))
        assert check.matches and sum(c["n"] for c in check.cells.values()) == 4
    again = client.post(f"/v1/surveys/{sid}/erasures", json={"submission_id": "p2"}, headers=h)
    assert again.status_code == 404
    both = client.post(f"/v1/surveys/{sid}/erasures",
                       json={"submission_id": "p1", "invitation_id": "x"}, headers=h)
    assert both.status_code == 422
    assert client.post(f"/v1/surveys/{sid}/erasures", json={"submission_id": "p1"},
                       headers=tenant.headers("ingest")).status_code == 403


def test_the_audit_log_records_who_did_what_without_content(client, tenant, open_survey, runner):
    h = tenant.headers()
    sid = open_survey["id"]
    key = client.post("/v1/keys", json={"name": "ci", "scopes": ["read"]}, headers=h).get_json()
    client.delete(f"/v1/keys/{key['id']}", headers=h)
    client.get(f"/v1/surveys/{sid}/responses/export?format=ndjson", headers=h)
    client.post(f"/v1/surveys/{sid}/responses", json={
        "submission_id": "gone", "answers": complete_answers(builtin("how-you-buy"))}, headers=h)
    client.post(f"/v1/surveys/{sid}/erasures", json={"submission_id": "gone"}, headers=h)
    client.post(f"/v1/surveys/{sid}/close", headers=h)
    events = client.get("/v1/audit", headers=h).get_json()
    actions = [e["action"] for e in events]
    assert actions[:5] == ["survey.closed", "response.erased", "responses.exported",
                           "key.revoked", "key.created"]
    assert "survey.opened" in actions
    admin_key_id = client.get("/v1/me", headers=h).get_json()["key"]["id"]
    assert {e["actor"] for e in events[:5]} == {admin_key_id}
    erased = events[1]
    assert erased["target"]["submission_id"] == "gone" and "answers" not in str(erased)
    assert key["key"] not in str(events)
    assert client.get("/v1/audit", headers=tenant.headers("read")).status_code == 403


def test_secrets_never_reach_the_logs(client, tenant, open_survey, runner, caplog):
    h = tenant.headers()
    with caplog.at_level(logging.DEBUG):
        key = client.post("/v1/keys", json={"name": "k", "scopes": ["read"]},
                          headers=h).get_json()["key"]
        client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
        client.get("/v1/me", headers={"Authorization": "Bearer bk_wrong-guess-secret"})
        hook = client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/h"},
                           headers=h).get_json()
        invitation = client.post(f"/v1/surveys/{open_survey['id']}/invitations",
                                 json={"invitations": [{}]}, headers=h).get_json()[
            "invitations"][0]
        client.get("/s/" + invitation["token"])
        org_id = client.get("/v1/me", headers=h).get_json()["organization"]["id"]
        cli_key = runner.invoke(args=["issue-key", org_id, "--scope", "read"]).output.split(
            "key:")[1].split()[0]
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert caplog.records, "nothing was logged at all"
    for secret in (key, tenant.keys["admin"], "bk_wrong-guess-secret", hook["secret"],
                   invitation["token"], cli_key):
        assert secret not in logged
