"""What may change when (survey_api/surveys/domain.py): what people read (name, branding) at any
time; what the scores depend on (instruments, segments) only while the survey is a draft. The
console's Edit details page is tested in test_console_edit.py."""

from __future__ import annotations

import re

from shared.extensions import get_store

TYPO = "How you by software, 2026"
FIXED = "How you buy software, 2026"


def _title_shown(client, link: str) -> str:
    page = client.get("/" + link.split("/", 3)[3])
    assert page.status_code == 200
    return re.search(r'<span class="survey-title">([^<]*)</span>', page.text).group(1)


def _invitation_link(client, tenant, survey_id: str) -> str:
    return client.post(f"/v1/surveys/{survey_id}/invitations", json={
        "invitations": [{"email": "buyer@customer.example"}]},
        headers=tenant.headers()).get_json()["invitations"][0]["url"]


def _changes(app, org_id: str) -> list:
    with app.app_context():
        return [e for e in get_store().audit.list(org_id) if e.action == "survey.changed"]


def _admin_key_id(app, org_id: str) -> str:
    with app.app_context():
        return next(k.id for k in get_store().api_keys.list(org_id) if k.name == "admin key")


def test_the_public_title_of_an_open_survey_is_corrected_and_the_form_shows_it(
        app, client, tenant):
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={
        "name": "Q1", "branding": {"vendor_name": "Acme", "public_title": TYPO,
                                   "website_url": "https://acme.example"}},
        headers=h).get_json()
    url = f"/v1/surveys/{survey['id']}"
    assert client.post(f"{url}/open", headers=h).status_code == 200
    link = _invitation_link(client, tenant, survey["id"])
    assert _title_shown(client, link) == TYPO

    patched = client.patch(url, json={"name": "Q1 buyers", "branding": {
        "vendor_name": "Acme", "public_title": FIXED, "website_url": "https://acme.example",
        "public_title_translations": {"de": "Wie Sie Software kaufen"}}}, headers=h)
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["status"] == "open"
    assert patched.get_json()["name"] == "Q1 buyers"
    assert _title_shown(client, link) == FIXED  # the link already sent shows the new title

    [change] = _changes(app, tenant.org.id)
    assert change.actor == _admin_key_id(app, tenant.org.id)
    assert change.target == {"survey_id": survey["id"], "fields": [
        "name", "branding.public_title", "branding.public_title_translations"]}


def test_a_closed_survey_can_still_be_renamed(client, tenant):
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={"name": "Q1"}, headers=h).get_json()
    url = f"/v1/surveys/{survey['id']}"
    client.post(f"{url}/open", headers=h)
    assert client.post(f"{url}/close", headers=h).get_json()["status"] == "closed"
    renamed = client.patch(url, json={"name": "Q1 (closed)"}, headers=h)
    assert renamed.status_code == 200
    assert client.get(url, headers=h).get_json()["name"] == "Q1 (closed)"


def test_what_scores_depend_on_is_a_409_naming_each_field_once_open(app, client, tenant,
                                                                   open_survey):
    h = tenant.headers()
    url = f"/v1/surveys/{open_survey['id']}"
    refused = client.patch(url, json={
        "name": "Renamed too", "segments": {"region": ["emea", "apac"]},
        "customer_instrument": {"id": "how-you-buy", "version": 2}}, headers=h)
    assert refused.status_code == 409
    assert refused.content_type == "application/problem+json"
    problem = refused.get_json()
    assert {e["field"] for e in problem["errors"]} == {"segments", "customer_instrument"}
    assert "draft" in problem["detail"]
    # All or nothing: the name sent with them did not change either, and nothing is logged.
    stored = client.get(url, headers=h).get_json()
    assert stored["name"] == "How our customers buy"
    assert stored["segments"]["region"] == ["emea", "americas"]
    assert stored["customer_instrument"] == {"id": "how-you-buy", "version": 1}
    assert _changes(app, tenant.org.id) == []

    vendor = client.patch(url, json={"vendor_instrument": {"id": "how-we-sell", "version": 1,
                                                           }}, headers=h)
    assert vendor.status_code == 200  # the pinned version, sent unchanged: no change
    latest = client.patch(url, json={"customer_instrument": {"id": "how-you-buy"}}, headers=h)
    assert latest.status_code == 409  # "the latest" is v2, not the pinned v1
    assert "customer_instrument" in [e["field"] for e in latest.get_json()["errors"]]

    # A client that sends the whole survey back with a corrected name is not refused.
    whole = {k: stored[k] for k in ("customer_instrument", "vendor_instrument", "segments",
                                    "branding")}
    resent = client.patch(url, json={**whole, "name": "Renamed"}, headers=h)
    assert resent.status_code == 200 and resent.get_json()["name"] == "Renamed"
    [change] = _changes(app, tenant.org.id)
    assert change.target["fields"] == ["name"]


def test_a_draft_changes_both_what_people_read_and_what_scores_depend_on(app, client, tenant):
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={"name": "Draft"}, headers=h).get_json()
    url = f"/v1/surveys/{survey['id']}"
    patched = client.patch(url, json={
        "name": "Still a draft", "branding": {"public_title": FIXED},
        "segments": {"region": ["emea"]},
        "customer_instrument": {"id": "how-you-buy", "version": 1}}, headers=h)
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert body["status"] == "draft" and body["name"] == "Still a draft"
    assert body["branding"] == {"public_title": FIXED}
    assert body["segments"]["region"] == ["emea"]
    assert body["customer_instrument"] == {"id": "how-you-buy", "version": 1}
    [change] = _changes(app, tenant.org.id)
    assert change.target["fields"] == ["name", "branding.public_title", "customer_instrument",
                                       "segments"]
