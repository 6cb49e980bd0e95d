"""Every /v1 route of survey_api, called with another organization's admin key on this
organization's ids: 404 (never 403, never data), and nothing changes."""

from __future__ import annotations

import random
import re

from tests.support.factories import builtin, complete_answers

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


# -- every route of every service, with every kind of wrong credential ----------------------

def _required_scopes(app) -> dict[tuple[str, str], str]:
    """(method, rule) -> the scope its view requires, read from the views themselves."""
    scopes = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        cls = getattr(view, "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            handler = getattr(cls, method.lower(), None)
            scopes[(method, rule.rule)] = getattr(handler, "required_scope", None)
    return scopes


SCOPE_WITHOUT = {"admin": "read", "read": "ingest", "ingest": "read", "briefs": "read"}


def test_every_route_of_every_service_checks_credentials(settings, app, client, tenant,
                                                         other_tenant, open_survey, store):
    import pdf_service
    import scoring_service
    from survey_api.accounts.domain import revoke_key

    h = tenant.headers()
    sid = open_survey["id"]
    invitation = client.post(f"/v1/surveys/{sid}/invitations", json={"invitations": [{}]},
                             headers=h).get_json()["invitations"][0]
    key_id = client.get("/v1/keys", headers=h).get_json()[0]["id"]
    values = {"survey_id": sid, "invitation_id": invitation["id"], "response_id": "r",
              "key_id": key_id, "instrument_id": "how-you-buy", "webhook_id": "w",
              "brief_id": "b"}
    revoked = client.post("/v1/keys", json={"name": "soon revoked", "scopes": ["admin"]},
                          headers=h).get_json()
    revoke_key(store, tenant.org.id, revoked["id"])
    credentials = {"none": {}, "revoked": {"Authorization": f"Bearer {revoked['key']}"}}

    apps = {"survey_api": app, "scoring_service": scoring_service.create_app(settings),
            "pdf_service": pdf_service.create_app(settings)}
    checked = 0
    for name, service in apps.items():
        service_client = service.test_client()
        for (method, rule), scope in sorted(_required_scopes(service).items()):
            assert scope, f"{name} {method} {rule} takes no API key"
            url = re.sub(r"<(\w+)>", lambda m: values[m.group(1)], rule)
            for label, headers in {**credentials, "wrong scope": {
                    "Authorization": f"Bearer {tenant.keys[SCOPE_WITHOUT[scope]]}"}}.items():
                got = service_client.open(url, method=method, headers=headers, json={})
                expected = 403 if label == "wrong scope" else 401
                assert got.status_code == expected, (name, method, url, label, got.status_code)
                assert got.mimetype == "application/problem+json"
                assert sid not in got.get_data(as_text=True).replace(url, "")
                checked += 1
    assert checked >= 3 * 30

    # Another organization's admin key on this organization's ids: 404 on every service.
    import hashlib

    from shared import ids
    from shared.storage import Brief

    pdf = b"%PDF-1.4 stored brief"
    brief = store.briefs.add(Brief(id=ids.new_id(), org_id=tenant.org.id, survey_id=sid,
                                   metadata={"audience": "board"},
                                   checksum=hashlib.sha256(pdf).hexdigest(), size=len(pdf)), pdf)
    values["brief_id"] = brief.id
    bodies = {("POST", "/v1/briefs/<brief_id>/email"): {"to": ["x@example.com"]},
              ("POST", "/v1/briefs/<brief_id>/share"): {}}
    for name in ("scoring_service", "pdf_service"):
        service_client = apps[name].test_client()
        for (method, rule), _ in sorted(_required_scopes(apps[name]).items()):
            if "<" not in rule:
                continue
            url = re.sub(r"<(\w+)>", lambda m: values[m.group(1)], rule)
            got = service_client.open(url, method=method, headers=other_tenant.headers(),
                                      json=bodies.get((method, rule), {}),
                                      query_string={"dimension": "A1"})
            assert got.status_code == 404, (name, method, url, got.status_code)
            assert brief.checksum not in got.get_data(as_text=True)
