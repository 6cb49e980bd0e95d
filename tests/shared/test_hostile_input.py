"""Hostile and careless input: text that is not valid Unicode, control characters, absurd JSON.

Refused at the boundary with a 422 naming the field, on every backend; and a bad row that an
older version stored must never stop the work of anyone else (issue 13, items 1, 13, 14)."""

from __future__ import annotations

import csv
import json
import random
import uuid

import pytest

import survey_api
from shared.storage import open_store
from shared.extensions import get_store
from survey_api.webhooks.dispatch import deliver_due

from tests.conftest import SERVICES, Tenant
from tests.support.factories import builtin, complete_answers

CUSTOMER = builtin("how-you-buy")
LONE = "\ud800"  # half of an emoji's surrogate pair


def raw_json(payload) -> bytes:
    """JSON text as a JavaScript client writes a lone surrogate: the escape \\ud800."""
    return json.dumps(payload).encode()


@pytest.fixture(params=["sqlite", "mongomock"])
def backend_app(request, settings):
    if request.param == "mongomock":
        settings = settings.with_overrides(store_url=f"mongomock://localhost/t{uuid.uuid4().hex[:8]}")
        open_store(settings.store_url).initialize()  # what init-db does before services start
    app = survey_api.create_app(settings.with_overrides(webhook_allow_private=True))
    app.backend = request.param
    return app


@pytest.fixture
def world(backend_app):
    """Two organizations with an open survey each."""
    client = backend_app.test_client()
    with backend_app.app_context():
        store = get_store()
        tenants = [Tenant(store, "Acme"), Tenant(store, "Globex")]
    surveys = []
    for t in tenants:
        survey = client.post("/v1/surveys", json={"name": "Q1", "segments": {
            "region": ["emea", "americas"]}, "customer_instrument": {"id": "how-you-buy", "version": 1}},
            headers=t.headers()).get_json()  # v1: the answers these tests post
        client.post(f"/v1/surveys/{survey['id']}/open", headers=t.headers())
        surveys.append(survey)
    return backend_app, client, tenants, surveys


def answers(seed=1, **overrides):
    return complete_answers(CUSTOMER, random.Random(seed), **overrides)


def post_raw(client, url, payload, tenant):
    return client.post(url, data=raw_json(payload), headers={
        **tenant.headers(), "Content-Type": "application/json"})


def fields_of(response) -> set:
    return {e["field"] for e in response.get_json()["errors"]}


# -- refused at the boundary ----------------------------------------------------------------

@pytest.mark.parametrize("bad", [LONE, "a\x00b", "bell\x07", "c1\x85"])
def test_a_single_post_with_bad_text_is_a_422_naming_the_field(world, bad):
    app, client, (acme, _), (survey, _) = world
    url = f"/v1/surveys/{survey['id']}/responses"
    response = post_raw(client, url, {"submission_id": "s1",
                                      "answers": answers(suggestion=f"ok {bad} ok")}, acme)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert fields_of(response) == {"answers.suggestion"}
    assert client.get(url, headers=acme.headers()).get_json()["items"] == []
    # Free text keeps its line breaks and tabs.
    fine = post_raw(client, url, {"submission_id": "s2",
                                  "answers": answers(suggestion="one\r\ntwo\tthree")}, acme)
    assert fine.status_code == 201, fine.get_json()


def test_a_batch_rejects_only_the_items_with_bad_ids(world):
    app, client, (acme, _), (survey, _) = world
    items = [{"submission_id": f"b{i}", "answers": answers(i)} for i in range(5)]
    items[1]["submission_id"] = "b1" + LONE
    items[2]["submission_id"] = "b2\x00"
    items[3]["submission_id"] = "b3\nInjected: header"
    items[4]["invitation_id"] = "\u202eevil"
    response = post_raw(client, f"/v1/surveys/{survey['id']}/responses:batch",
                        {"responses": items}, acme)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["created"], body["rejected"]) == (1, 4)
    results = body["results"]
    assert results[0]["status"] == "created"
    for i in (1, 2, 3, 4):
        assert results[i]["status"] == "rejected"
        assert results[i]["submission_id"] in (None, "b4")  # refused text is not echoed
    assert results[1]["errors"][0]["field"] == "submission_id"
    assert "surrogate" in results[1]["errors"][0]["reason"]
    assert results[3]["errors"][0]["field"] == "submission_id"
    assert results[4]["errors"][0]["field"] == "invitation_id"


def test_names_and_query_parameters_refuse_control_characters(world):
    app, client, (acme, _), (survey, _) = world
    key = post_raw(client, "/v1/keys", {"name": "crm" + LONE, "scopes": ["read"]}, acme)
    assert key.status_code == 422 and fields_of(key) == {"name"}
    for name in ("Q1\r\nBcc: all@example.com", "Q1\x00", "Q1 \u202egnp.exe"):
        made = client.post("/v1/surveys", json={"name": name}, headers=acme.headers())
        assert made.status_code == 422 and fields_of(made) == {"name"}, name
    listing = client.get(f"/v1/surveys/{survey['id']}/responses?cursor=%00&limit=5",
                         headers=acme.headers())
    assert listing.status_code == 422
    assert listing.get_json()["errors"] == [
        {"field": "cursor", "location": "query", "reason": listing.get_json()["errors"][0][
            "reason"]}]
    assert "control character" in listing.get_json()["errors"][0]["reason"]
    # The listings of the organization still work.
    assert client.get("/v1/keys", headers=acme.headers()).status_code == 200
    assert client.get("/v1/surveys", headers=acme.headers()).status_code == 200


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_refuses_bad_text_in_any_json_body_and_query(name, settings, tenant):
    app = SERVICES[name](settings)
    client = app.test_client()
    route = {"survey_api": "/v1/surveys", "scoring_service": "/v1/score",
             "pdf_service": "/v1/briefs"}[name]
    response = client.post(route, data=raw_json({"name": LONE, "survey_id": LONE,
                                                 "responses": [], "vendor_responses": []}),
                           headers={**tenant.headers(), "Content-Type": "application/json"})
    assert response.status_code == 422, response.get_data()
    assert response.get_json()["errors"][0]["location"] == "json"
    query = client.get("/v1/me?x=%01" if name == "survey_api" else
                       "/v1/surveys/x/report?segment_by=a%00" if name == "scoring_service"
                       else "/v1/briefs/x?y=%7F", headers=tenant.headers())
    assert query.status_code == 422 and query.get_json()["errors"][0]["location"] == "query"


def test_the_csv_invitation_import_refuses_control_characters_and_bad_addresses(
        client, tenant, open_survey):
    url = f"/v1/surveys/{open_survey['id']}/invitations/import"
    headers = {**tenant.headers(), "Content-Type": "text/csv"}
    bad = client.post(url, data="email,region\nana@example.com,emea\x01\nbo@example.com,\u202eemea\n"
                      .encode(), headers=headers)
    assert bad.status_code == 422
    assert fields_of(bad) == {"line 2.region", "line 3.region"}
    emails = client.post(url, data="email\nnot-an-address\njos\u00e9@example.com\nok@example.com\n"
                         .encode(), headers=headers)
    assert emails.status_code == 422
    assert fields_of(emails) == {"line 2.email", "line 3.email"}
    # The same addresses in the JSON body are refused the same way.
    as_json = client.post(f"/v1/surveys/{open_survey['id']}/invitations", json={"invitations": [
        {"email": "not-an-address"}, {"email": "jos\u00e9@example.com"}]},
                          headers=tenant.headers())
    assert as_json.status_code == 422
    assert fields_of(as_json) == {"invitations.0.email", "invitations.1.email"}
    assert client.get(f"/v1/surveys/{open_survey['id']}/invitations",
                      headers=tenant.headers()).get_json()["items"] == []


def test_the_csv_response_import_rejects_rows_that_are_not_utf8_or_hold_controls(
        runner, app, open_survey, tmp_path):
    questions = [q["id"] for s in CUSTOMER["sections"] for q in s["questions"]]
    source = tmp_path / "old.csv"
    with source.open("w", newline="") as f:
        writer = csv.DictWriter(f, ["submission_id", "segment_region"] + questions)
        writer.writeheader()
        for i in range(4):
            row = answers(i)
            writer.writerow({"submission_id": f"h{i}", "segment_region": "emea",
                             **{k: ";".join(v) if isinstance(v, list) else v
                                for k, v in row.items()},
                             **({"suggestion": "bell\x07"} if i == 2 else {})})
    data = source.read_bytes().replace(b"h1,", b"h1\xff\xfe,")  # not UTF-8
    source.write_bytes(data)
    result = runner.invoke(args=["import-responses", open_survey["id"], str(source)])
    assert result.exit_code == 0, result.output
    assert "2 created" in result.output and "2 rejected" in result.output
    rejects = list(csv.DictReader((tmp_path / "old.csv.rejects.csv").open()))
    assert sorted((r["field"], r["reason"]) for r in rejects) == [
        ("submission_id", "Not valid UTF-8 text."),
        ("suggestion", "Contains a control character (U+0007).")]


# -- absurd JSON (item 13) --------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SERVICES))
@pytest.mark.parametrize("body", [
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b'{"name": ' + b"9" * 5000 + b"}",
    b'{"name": 1e999}',
    b'{"name": NaN}',
    b'{"a":' * 300 + b"1" + b"}" * 300,
])
def test_deep_json_and_huge_numbers_are_4xx_not_500(name, body, settings, tenant):
    client = SERVICES[name](settings).test_client()
    route = {"survey_api": "/v1/surveys", "scoring_service": "/v1/score",
             "pdf_service": "/v1/briefs"}[name]
    response = client.post(route, data=body, headers={**tenant.headers(),
                                                       "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500, response.get_data()[:300]
    assert response.mimetype == "application/problem+json"


# -- a poisoned row already stored ------------------------------------------------------------

def _poison(app, survey, submission_id):
    """Make one stored response hold a lone surrogate, as older versions let through."""
    with app.app_context():
        store = get_store()
        if app.backend == "sqlite":
            with store.write() as c:
                doc = json.loads(c.execute(
                    "SELECT doc FROM responses WHERE survey_id = ? AND submission_id = ?",
                    (survey["id"], submission_id)).fetchone()[0])
                doc["answers"]["suggestion"] = "cut " + LONE
                c.execute("UPDATE responses SET doc = ? WHERE id = ?",
                          (json.dumps(doc, separators=(",", ":")), doc["id"]))
        else:  # mongomock keeps documents as Python objects: change the stored one
            found = store.db.responses.find_one({"survey_id": survey["id"],
                                                 "submission_id": submission_id})
            store.db.responses._store[found["_id"]]["answers"]["suggestion"] = "cut " + LONE


def test_a_poisoned_stored_response_stops_nobody(world):
    app, client, (acme, globex), (survey, other) = world
    for t, s in ((acme, survey), (globex, other)):
        for i in range(3):
            made = client.post(f"/v1/surveys/{s['id']}/responses", json={
                "submission_id": f"p{i}", "answers": answers(i)}, headers=t.headers())
            assert made.status_code == 201
    _poison(app, survey, "p1")
    base = f"/v1/surveys/{survey['id']}/responses"
    listing = client.get(base, headers=acme.headers())
    assert listing.status_code == 200 and len(listing.get_json()["items"]) == 3
    poisoned = [r for r in listing.get_json()["items"] if r["submission_id"] == "p1"][0]
    assert client.get(f"{base}/{poisoned['id']}", headers=acme.headers()).status_code == 200
    for fmt in ("csv", "ndjson"):
        export = client.get(f"{base}/export?format={fmt}", headers=acme.headers())
        assert export.status_code == 200
        text = export.get_data().decode()  # valid UTF-8 from end to end
        assert all(f"p{i}" in text for i in range(3)), fmt
    assert len(client.get(f"{base}/export?format=ndjson", headers=acme.headers())
               .get_data().decode().splitlines()) == 3
    erased = client.post(f"/v1/surveys/{survey['id']}/erasures", json={"submission_id": "p1"},
                         headers=acme.headers())
    assert erased.status_code == 200
    assert client.post(f"/v1/surveys/{survey['id']}/erasures", json={"submission_id": "p0"},
                       headers=acme.headers()).status_code == 200
    other_listing = client.get(f"/v1/surveys/{other['id']}/responses", headers=globex.headers())
    assert len(other_listing.get_json()["items"]) == 3


def test_a_poisoned_delivery_fails_alone_and_every_tenant_keeps_receiving(world):
    from tests.support.webhook_receiver import Receiver

    app, client, (acme, globex), (survey, other) = world
    receiver = Receiver()
    try:
        for t in (acme, globex):
            assert client.post("/v1/webhooks", json={"url": receiver.url},
                               headers=t.headers()).status_code == 201
        for t, s in ((acme, survey), (globex, other)):
            for i in range(2):
                client.post(f"/v1/surveys/{s['id']}/responses", json={
                    "submission_id": f"d{i}", "answers": answers(i)}, headers=t.headers())
        with app.app_context():
            store = get_store()
            if app.backend == "sqlite":
                with store.write() as c:
                    ids = [r[0] for r in c.execute(
                        "SELECT id FROM deliveries WHERE org_id = ? ORDER BY id", (acme.org.id,))]
                    # one unreadable row, one holding a lone surrogate as older versions wrote
                    c.execute("UPDATE deliveries SET doc = '{\"id\": ' WHERE id = ?", (ids[0],))
                    doc = json.loads(c.execute("SELECT doc FROM deliveries WHERE id = ?",
                                               (ids[1],)).fetchone()[0])
                    doc["payload"]["answers"]["suggestion"] = LONE
                    c.execute("UPDATE deliveries SET doc = ? WHERE id = ?",
                              (json.dumps(doc), ids[1]))
            else:
                first = store.db.deliveries.find_one({"org_id": acme.org.id}, sort=[("_id", 1)])
                store.db.deliveries._store[first["_id"]]["payload"]["answers"][
                    "suggestion"] = LONE
            deliver_due(store, app.config["SETTINGS"])
            deliver_due(store, app.config["SETTINGS"])
        received = [json.loads(r["body"]) for r in receiver.requests]
        by_org = {}
        for event in received:
            by_org.setdefault(event["data"]["survey_id"], []).append(event)
        assert len(by_org[other["id"]]) == 2  # the other organization gets everything
        # Acme: one delivery arrives. On SQLite the unreadable row fails and the one holding a
        # lone surrogate is read with U+FFFD in its place; on mongomock the one holding a lone
        # surrogate cannot be encoded and fails.
        assert len(by_org[survey["id"]]) == 1
        if app.backend == "sqlite":
            assert by_org[survey["id"]][0]["data"]["answers"]["suggestion"] == "\ufffd"
        hooks = client.get("/v1/webhooks", headers=acme.headers()).get_json()
        detail = client.get(f"/v1/webhooks/{hooks[0]['id']}", headers=acme.headers()).get_json()
        statuses = sorted(d["status"] for d in detail["deliveries"])
        assert statuses == (["delivered"] if app.backend == "sqlite" else
                            ["delivered", "failed"])
    finally:
        receiver.close()


# -- one invitation, one response, in batches too (item 7) -----------------------------------

def test_a_batch_counts_one_response_per_invitation(client, tenant, open_survey, app):
    h = tenant.headers()
    base = f"/v1/surveys/{open_survey['id']}"
    invitation = client.post(f"{base}/invitations", json={"invitations": [{}]},
                             headers=h).get_json()["invitations"][0]
    items = [{"submission_id": f"inv-{i}", "invitation_id": invitation["id"],
              "answers": answers(i)} for i in range(3)]
    items.append(dict(items[0]))  # the first one repeated: a duplicate, not a new response
    body = client.post(f"{base}/responses:batch", json={"responses": items},
                       headers=h).get_json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected", "rejected",
                                                      "duplicate"]
    assert body["results"][1]["errors"][0]["field"] == "invitation_id"
    assert "Item 0 of this batch" in body["results"][1]["errors"][0]["reason"]
    listed = client.get(f"{base}/responses", headers=h).get_json()["items"]
    assert [r["submission_id"] for r in listed] == ["inv-0"]
    with app.app_context():
        cells = get_store().aggregates.for_survey(open_survey["id"])
    assert sum(c.get("n", 0) for c in cells.values()) == 1
    # A later batch cannot add a second response to the now completed invitation either.
    again = client.post(f"{base}/responses:batch", json={"responses": [items[1]]},
                        headers=h).get_json()
    assert again["results"][0]["status"] == "rejected"


# -- link tokens and pages (items 13, 14) ------------------------------------------------------

def test_link_tokens_with_malformed_payloads_get_a_page_not_a_500(client, settings, open_survey):
    from itsdangerous import URLSafeSerializer

    from survey_api.forms.domain import STAFF_SALT

    signer = URLSafeSerializer(settings.secret_key, salt=STAFF_SALT)
    for payload in ([1, 2], {"s": ["x"]}, None, 7, {"$gt": ""}):
        page = client.get(f"/staff/{signer.dumps(payload)}")
        assert page.status_code == 404 and b"not valid" in page.data, payload
    for path in ("/staff/%ED%A0%80", "/staff/%00", "/s/%ED%A0%80", "/s/%00abc", "/a/%00",
                 "/s/" + "x" * 5000):
        assert client.get(path).status_code in (404, 410, 422), path


def test_ids_refuse_nul_and_direction_overrides(client, tenant, open_survey):
    url = f"/v1/surveys/{open_survey['id']}/responses"
    for bad in ("crm-\u202e1", "crm-\u2066x", "crm\x00"):
        response = client.post(url, json={"submission_id": bad, "answers": answers()},
                               headers=tenant.headers())
        assert response.status_code == 422 and fields_of(response) == {"submission_id"}, bad
    erasure = client.post(f"/v1/surveys/{open_survey['id']}/erasures",
                          json={"submission_id": "x\u202e"}, headers=tenant.headers())
    assert erasure.status_code == 422 and fields_of(erasure) == {"submission_id"}


def test_form_pages_cannot_be_framed_and_carry_a_content_security_policy(
        client, tenant, open_survey):
    invitation = client.post(f"/v1/surveys/{open_survey['id']}/invitations",
                             json={"invitations": [{}]}, headers=tenant.headers()).get_json()
    for path in (f"/s/{invitation['invitations'][0]['token']}", "/s/unknown", "/thanks"):
        page = client.get(path)
        assert page.headers["X-Frame-Options"] == "DENY"
        policy = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
        assert "default-src 'none'" in policy


def test_brief_e_mail_addresses_are_checked_up_front(settings, tenant):
    import pdf_service

    client = pdf_service.create_app(settings).test_client()
    survey_id = "0" * 32  # well formed: only the addresses are wrong
    response = client.post("/v1/briefs", json={"survey_id": survey_id, "email_to": [
        "ok@example.com", "ok2@example.com", "a\r\nBcc: x@example.com"]},
        headers=tenant.headers())
    assert response.status_code == 422
    assert fields_of(response) == {"email_to.2"}
    # A non-ASCII part before the @ no mail server is sure to take: refused before any work.
    response = client.post("/v1/briefs", json={"survey_id": survey_id, "email_to": [
        "jos\u00e9@example.com"]}, headers=tenant.headers())
    assert response.status_code == 422
    assert {f.split(".")[0] for f in fields_of(response)} == {"email_to"}


def test_web_form_free_text_refuses_control_characters(client, tenant, open_survey):
    from tests.support.forms import csrf_token
    from tests.survey_api.test_forms_http import _invite, _path

    path = _path(_invite(client, open_survey, tenant.headers(), tenure="new", size="small")["url"])
    page = client.get(path + "?page=7").get_data(as_text=True)
    answer = client.post(path, data={"csrf_token": csrf_token(page), "page": "7",
                                     "suggestion": "fine\x00hidden\x1b[31m"})
    assert answer.status_code == 422
    assert "invisible control characters" in answer.get_data(as_text=True)
    stored = client.get(f"/v1/surveys/{open_survey['id']}/responses",
                        headers=tenant.headers()).get_json()["items"]
    assert not any("hidden" in str(r["answers"]) for r in stored)
    # Going back saves the page's answers as a draft: the bad text is not among them either.
    client.post(path, data={"csrf_token": csrf_token(page), "page": "7", "action": "back",
                            "suggestion": "fine\x00hidden"})
    stored = client.get(f"/v1/surveys/{open_survey['id']}/responses",
                        headers=tenant.headers()).get_json()["items"]
    assert stored and not any("hidden" in str(r["answers"]) for r in stored)
