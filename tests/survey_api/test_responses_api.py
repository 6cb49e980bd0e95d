"""Responses from integrations: validation, idempotency, batches, counters, listing, export."""

from __future__ import annotations

import csv
import io
import json
import random
import threading
from collections import Counter

import pytest

from shared.extensions import get_store

from tests.support.factories import builtin, complete_answers

CUSTOMER = builtin("how-you-buy")
VENDOR = builtin("how-we-sell")


def _post(client, survey, body, key):
    return client.post(f"/v1/surveys/{survey['id']}/responses", json=body, headers=key)


def _answers(seed=1, **overrides):
    return complete_answers(CUSTOMER, random.Random(seed), **overrides)


def test_created_then_duplicate_then_conflict(client, tenant, open_survey):
    key = tenant.headers("ingest")
    body = {"submission_id": "crm-1", "answers": _answers(), "attributes": {"region": "emea"}}
    first = _post(client, open_survey, body, key)
    assert first.status_code == 201
    stored = first.get_json()
    assert stored["attributes"] == {"region": "emea", "size": body["answers"]["company_size"],
                                    "tenure": body["answers"]["tenure"]}
    again = _post(client, open_survey, body, key)
    assert again.status_code == 200 and again.get_json()["id"] == stored["id"]
    changed = _post(client, open_survey, {**body, "answers": _answers(seed=2)}, key)
    assert changed.status_code == 409
    assert changed.get_json()["existing_id"] == stored["id"]
    listed = client.get(f"/v1/surveys/{open_survey['id']}/responses",
                        headers=tenant.headers("read")).get_json()["items"]
    assert [r["id"] for r in listed] == [stored["id"]]


@pytest.mark.parametrize("change, field", [
    ({"answers": {"nps": 12}}, "answers.nps"),
    ({"answers": {"favourite_colour": "blue"}}, "answers.favourite_colour"),
    ({"answers": {"tenure": 3}}, "answers.tenure"),
    ({"answers": {"info_sources": ["carrier pigeon"]}}, "answers.info_sources"),
    ({"answers": {"first_contact_percent": 250}}, "answers.first_contact_percent"),
    ({"drop": "exp_ease"}, "answers.exp_ease"),
    ({"attributes": {"region": "antarctica"}}, "attributes.region"),
    ({"attributes": {"planet": "mars"}}, "attributes.planet"),
])
def test_each_invalid_answer_is_a_422_naming_the_field(client, tenant, open_survey, change,
                                                        field):
    answers = _answers()
    answers.update(change.get("answers", {}))
    answers.pop(change.get("drop", ""), None)
    body = {"submission_id": "x", "answers": answers, **({"attributes": change["attributes"]}
                                                          if "attributes" in change else {})}
    response = _post(client, open_survey, body, tenant.headers("ingest"))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert [e["field"] for e in errors] == [field], errors
    assert errors[0]["reason"]


def test_envelope_errors_are_named_too(client, tenant, open_survey):
    response = _post(client, open_survey, {"answers": "lots", "instrument": "partner"},
                     tenant.headers("ingest"))
    assert response.status_code == 422
    assert {e["field"] for e in response.get_json()["errors"]} == {
        "submission_id", "answers", "instrument"}


def test_closed_and_draft_surveys_take_no_responses(client, tenant, open_survey):
    h = tenant.headers()
    client.post(f"/v1/surveys/{open_survey['id']}/close", headers=h)
    closed = _post(client, open_survey, {"submission_id": "late", "answers": _answers()}, h)
    assert closed.status_code == 422
    assert closed.get_json()["errors"] == [{"field": "survey_id", "location": "json",
                                            "reason": "The survey is closed."}]
    draft = client.post("/v1/surveys", json={"name": "d"}, headers=h).get_json()
    assert _post(client, draft, {"submission_id": "early", "answers": _answers()},
                 h).status_code == 422


def test_invitation_attributes_win_and_the_invitation_is_used_once(client, tenant, open_survey):
    h = tenant.headers()
    invitation = client.post(f"/v1/surveys/{open_survey['id']}/invitations", json={
        "invitations": [{"attributes": {"tenure": "long_standing", "size": "large",
                                        "region": "americas"}}]}, headers=h).get_json()[
        "invitations"][0]
    answers = _answers(tenure="new", company_size="small")
    answers.pop("tenure")  # the CRM already knows it: not required when the invitation has it
    body = {"submission_id": "inv-1", "invitation_id": invitation["id"], "answers": answers,
            "attributes": {"region": "emea"}}
    stored = _post(client, open_survey, body, h)
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json()["attributes"] == {"tenure": "long_standing", "size": "large",
                                               "region": "americas"}
    status = client.get(f"/v1/surveys/{open_survey['id']}/invitations/{invitation['id']}",
                        headers=h).get_json()
    assert status["status"] == "completed" and status["response_id"] == stored.get_json()["id"]
    assert _post(client, open_survey, body, h).status_code == 200  # the retry is still fine
    reused = _post(client, open_survey, {**body, "submission_id": "inv-2"}, h)
    assert reused.status_code == 422
    assert reused.get_json()["errors"][0]["field"] == "invitation_id"


def test_revoked_invitation_is_refused(client, tenant, open_survey):
    h = tenant.headers()
    base = f"/v1/surveys/{open_survey['id']}/invitations"
    invitation = client.post(base, json={"invitations": [{}]}, headers=h).get_json()[
        "invitations"][0]
    client.post(f"{base}/{invitation['id']}/revoke", headers=h)
    response = _post(client, open_survey, {"submission_id": "r", "invitation_id":
                                           invitation["id"], "answers": _answers()}, h)
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["reason"] == "The invitation was revoked."


def test_vendor_staff_responses_use_the_vendor_instrument_and_role_cells(
        client, tenant, open_survey, app):
    answers = complete_answers(VENDOR, random.Random(3), role="marketing")
    response = _post(client, open_survey, {"submission_id": "staff-1", "instrument": "vendor",
                                           "answers": answers}, tenant.headers())
    assert response.status_code == 201
    assert response.get_json()["attributes"] == {"role": "marketing"}
    with app.app_context():
        cells = get_store().aggregates.for_survey(open_survey["id"])
    assert list(cells) == ["vendor|role=marketing"]
    assert cells["vendor|role=marketing"]["r4_stage_conversion=" +
                                          str(answers["r4_stage_conversion"])] == 1


def test_batch_keeps_valid_items_and_reports_each(client, tenant, open_survey):
    h = tenant.headers("ingest")
    _post(client, open_survey, {"submission_id": "old", "answers": _answers(9)}, h)
    batch = [
        {"submission_id": "b1", "answers": _answers(1)},
        {"submission_id": "b2", "answers": _answers(2, nps=42)},
        "not an object",
        {"submission_id": "old", "answers": _answers(9)},
        {"submission_id": "old", "answers": _answers(8)},
        {"answers": _answers(3)},
        {"submission_id": "b3", "answers": _answers(3)},
    ]
    response = client.post(f"/v1/surveys/{open_survey['id']}/responses:batch",
                           json={"responses": batch}, headers=h)
    assert response.status_code == 200
    body = response.get_json()
    assert [r["status"] for r in body["results"]] == [
        "created", "rejected", "rejected", "duplicate", "conflict", "rejected", "created"]
    assert (body["created"], body["rejected"], body["duplicate"], body["conflict"]) == (2, 3, 1, 1)
    assert body["results"][1]["errors"] == [{"field": "answers.nps",
                                             "reason": "Must be a whole number from 0 to 10."}]
    assert body["results"][5]["errors"][0]["field"] == "submission_id"
    ids_listed = client.get(f"/v1/surveys/{open_survey['id']}/responses",
                            headers=tenant.headers("read")).get_json()["items"]
    assert sorted(r["submission_id"] for r in ids_listed) == ["b1", "b3", "old"]
    too_many = client.post(f"/v1/surveys/{open_survey['id']}/responses:batch",
                           json={"responses": [{}] * 1001}, headers=h)
    assert too_many.status_code == 422


def _recount(responses, definition) -> dict:
    """Counters recomputed from raw responses, independently of shared.cells."""
    questions = {q["id"]: q for s in definition["sections"] for q in s["questions"]}
    cells: dict[str, Counter] = {}
    for r in responses:
        if not r["complete"]:
            continue
        a = r["attributes"]
        key = "customer|" + "|".join(f"{k}={a.get(k, '')}" for k in ("region", "size", "tenure"))
        c = cells.setdefault(key, Counter())
        c["n"] += 1
        for qid, value in r["answers"].items():
            kind = questions[qid]["type"]
            if kind == "text":
                continue
            c[f"{qid}#answered"] += 1
            if kind == "ranking":
                for rank, option in enumerate(value, 1):
                    c[f"{qid}@{rank}={option}"] += 1
            elif isinstance(value, list):
                for option in value:
                    c[f"{qid}={option}"] += 1
            else:
                c[f"{qid}={value}"] += 1
    return {k: dict(v) for k, v in cells.items()}


def test_retry_storm_stores_each_response_once_and_counts_it_once(client, tenant, open_survey,
                                                                  app):
    rng = random.Random(5)
    batch = [{"submission_id": f"storm-{i}", "answers": complete_answers(CUSTOMER, rng),
              "attributes": {"region": rng.choice(["emea", "americas"])},
              "complete": i % 10 != 0} for i in range(200)]
    statuses: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(5)

    def post():
        local = app.test_client()
        barrier.wait()
        body = local.post(f"/v1/surveys/{open_survey['id']}/responses:batch",
                          json={"responses": batch}, headers=tenant.headers("ingest")).get_json()
        with lock:
            statuses.extend(r["status"] for r in body["results"])

    threads = [threading.Thread(target=post) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(statuses) == {"created": 200, "duplicate": 800}
    stored = []
    cursor = None
    while True:
        page = client.get(f"/v1/surveys/{open_survey['id']}/responses?limit=1000"
                          + (f"&cursor={cursor}" if cursor else ""),
                          headers=tenant.headers()).get_json()
        stored += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(r["submission_id"] for r in stored) == sorted(b["submission_id"] for b in batch)
    with app.app_context():
        counters = get_store().aggregates.for_survey(open_survey["id"])
    assert counters == _recount(stored, CUSTOMER)
    assert sum(c["n"] for c in counters.values()) == 180  # partial responses are not counted


def test_listing_filters(client, tenant, open_survey):
    h = tenant.headers()
    for i, region in enumerate(["emea", "americas", "emea"]):
        _post(client, open_survey, {"submission_id": f"f{i}", "answers": _answers(i),
                                    "attributes": {"region": region},
                                    "complete": i != 2}, h)
    base = f"/v1/surveys/{open_survey['id']}/responses"

    def subs(query):
        return [r["submission_id"] for r in client.get(base + query, headers=h).get_json()["items"]]

    assert subs("?segment=region:emea") == ["f0", "f2"]
    assert subs("?segment=region:emea&complete=false") == ["f2"]
    assert subs("?source=web") == []
    assert subs("?created_from=2000-01-01T00:00:00Z&created_to=2999-01-01T00:00:00Z") == [
        "f0", "f1", "f2"]
    assert subs("?created_to=2000-01-01T00:00:00Z") == []
    bad = client.get(base + "?segment=region", headers=h)
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "segment.0"


def test_csv_export_neutralizes_formulas_and_ndjson_round_trips(client, tenant, open_survey):
    h = tenant.headers()
    evil = '=HYPERLINK("http://evil.example","click")'
    _post(client, open_survey, {"submission_id": "=cmd|' /C calc'!A0",
                                "answers": _answers(suggestion=evil)}, h)
    _post(client, open_survey, {"submission_id": "plain", "answers": _answers(2)}, h)
    response = client.get(f"/v1/surveys/{open_survey['id']}/responses/export?format=csv",
                          headers=h)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    assert rows[0]["suggestion"] == "'" + evil
    assert rows[0]["submission_id"] == "'=cmd|' /C calc'!A0"
    assert rows[1]["nps"] == str(_answers(2)["nps"])
    assert "segment_region" in rows[0] and "segment_role" not in rows[0]
    ndjson = client.get(f"/v1/surveys/{open_survey['id']}/responses/export?format=ndjson",
                        headers=h)
    lines = [json.loads(line) for line in ndjson.get_data(as_text=True).splitlines()]
    assert [line["submission_id"] for line in lines] == ["=cmd|' /C calc'!A0", "plain"]
    assert lines[0]["answers"]["suggestion"] == evil  # JSON keeps the data as it was


def test_a_partial_response_is_a_draft_until_completed(client, tenant, open_survey, app):
    h = tenant.headers()
    invitation = client.post(f"/v1/surveys/{open_survey['id']}/invitations",
                             json={"invitations": [{}]}, headers=h).get_json()["invitations"][0]
    first = _post(client, open_survey, {"submission_id": "d1", "invitation_id": invitation["id"],
                                        "answers": {"nps": 3}, "complete": False}, h)
    assert first.status_code == 201
    status = client.get(f"/v1/surveys/{open_survey['id']}/invitations/{invitation['id']}",
                        headers=h).get_json()["status"]
    assert status == "started"
    done = _post(client, open_survey, {"submission_id": "d1", "invitation_id": invitation["id"],
                                       "answers": _answers(4)}, h)
    assert done.status_code == 200 and done.get_json()["id"] == first.get_json()["id"]
    assert done.get_json()["complete"] is True
    with app.app_context():
        cells = get_store().aggregates.for_survey(open_survey["id"])
    assert sum(c["n"] for c in cells.values()) == 1
    status = client.get(f"/v1/surveys/{open_survey['id']}/invitations/{invitation['id']}",
                        headers=h).get_json()["status"]
    assert status == "completed"
    late = _post(client, open_survey, {"submission_id": "d1", "invitation_id": invitation["id"],
                                       "answers": {"nps": 1}, "complete": False}, h)
    assert late.status_code == 409  # complete is final
