"""Staff links expire, rotate and are capped; an admin can close the anonymous link of an open
survey (issue 13, item 6)."""

from __future__ import annotations

import random
from urllib.parse import urlsplit

from shared.extensions import get_store
from survey_api.responses.domain import context_for, ingest_prepared, prepare

from tests.support.factories import builtin, complete_answers


def _path(url: str) -> str:
    return urlsplit(url).path


def _links(client, tenant, survey) -> dict:
    return client.get(f"/v1/surveys/{survey['id']}/links", headers=tenant.headers()).get_json()


def test_rotating_the_staff_link_ends_the_old_one(app, client, tenant, open_survey):
    old = _links(client, tenant, open_survey)
    assert old["staff_expires_at"] > "2026"
    assert b"Step 1 of" in client.get(_path(old["staff"])).data
    rotated = client.post(f"/v1/surveys/{open_survey['id']}/staff-link/rotate",
                          headers=tenant.headers())
    assert rotated.status_code == 200
    new = rotated.get_json()
    assert new["staff"] != old["staff"] and _links(client, tenant, open_survey) == new
    gone = app.test_client().get(_path(old["staff"]))
    assert gone.status_code == 410 and b"no longer valid" in gone.data
    assert b"replaced by a newer link" in gone.data
    assert b"Step 1 of" in app.test_client().get(_path(new["staff"])).data
    # Only an admin key rotates; the rotation is in the audit log.
    assert client.post(f"/v1/surveys/{open_survey['id']}/staff-link/rotate",
                       headers=tenant.headers("read")).status_code == 403
    actions = [e["action"] for e in client.get("/v1/audit", headers=tenant.headers()).get_json()]
    assert "survey.staff_link_rotated" in actions


def test_a_staff_link_expires(app, client, tenant, open_survey):
    link = _links(client, tenant, open_survey)["staff"]
    with app.app_context():
        survey = get_store().surveys.get_any(open_survey["id"])
        get_store().surveys.update(survey.org_id, survey.id, {"staff_link": {
            **survey.staff_link, "expires_at": "2020-01-01T00:00:00.000000Z"}})
    page = client.get(_path(link))
    assert page.status_code == 410 and b"limited time" in page.data


def test_the_staff_link_takes_at_most_its_cap(app, client, tenant, open_survey):
    patched = client.patch(f"/v1/surveys/{open_survey['id']}", json={
        "settings": {"staff_response_cap": 2}}, headers=tenant.headers())
    assert patched.status_code == 200, patched.get_json()
    again = client.patch(f"/v1/surveys/{open_survey['id']}", json={
        "settings": {"staff_link_days": 10}}, headers=tenant.headers()).get_json()
    assert again["settings"]["staff_response_cap"] == 2  # the settings not sent are kept
    link = _path(_links(client, tenant, open_survey)["staff"])
    with app.app_context():
        store = get_store()
        survey = store.surveys.get_any(open_survey["id"])
        ctx = context_for(store, survey)
        for i in range(2):
            assert b"Step 1 of" in app.test_client().get(link).data
            answers = complete_answers(builtin("how-we-sell"), random.Random(i))
            ingest_prepared(ctx, [prepare(ctx, {"submission_id": f"staff-{i}", "answers": answers,
                                                "instrument": "vendor"}, "web")])
    full = app.test_client().get(link)
    assert full.status_code == 410 and b"self-assessment is complete" in full.data


def test_an_admin_can_close_the_anonymous_link_of_an_open_survey(client, tenant):
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={"name": "open to all",
                                              "settings": {"anonymous_link": True}},
                         headers=h).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=h)
    assert client.get(f"/a/{survey['id']}").status_code == 200
    closed = client.patch(f"/v1/surveys/{survey['id']}", json={
        "settings": {"anonymous_link": False}}, headers=h)
    assert closed.status_code == 200 and closed.get_json()["settings"]["anonymous_link"] is False
    page = client.get(f"/a/{survey['id']}")
    assert page.status_code == 410 and b"open link is closed" in page.data
    assert _links(client, tenant, survey)["anonymous"] is None
    # Settings change once a survey is open; what its scores depend on does not.
    resegmented = client.patch(f"/v1/surveys/{survey['id']}", json={
        "segments": {"region": ["emea"]}}, headers=h)
    assert resegmented.status_code == 409
