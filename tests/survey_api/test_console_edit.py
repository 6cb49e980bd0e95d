"""The console's Edit details page: the survey owner corrects the name, the public title (in
each language) and the branding of a survey, also once it is open, through the New survey
page's own fields and checks. The rule itself is tested in test_survey_edits.py; the browser
walk in tests/system/test_console_browser.py."""

from __future__ import annotations

import pytest

from survey_api.console import users
from survey_api.surveys.domain import create_survey, transition

from tests.conftest import Tenant
# The console tests' store and tenant fixtures (the store without an app context held open).
from tests.survey_api.test_console import PASSWORD, csrf, sign_in, store, tenant  # noqa: F401
from tests.survey_api.test_console_titles import _field_block

TYPO = "How you by analytics software"
FIXED = "How you buy analytics software"


@pytest.fixture
def lead(store, tenant):
    return users.create_user(store, tenant.org.id, "lead@acme.example", "Lea Lead", "admin",
                             PASSWORD)


@pytest.fixture
def survey(store, tenant):
    """An open survey with a typo in its public title and a website set through the API."""
    created = create_survey(store, tenant.org.id, {
        "name": "Q1 buyers", "segments": {"region": ["emea", "americas"]},
        "branding": {"vendor_name": "Acme Analytics", "accent_color": "#0b7285",
                     "public_title": TYPO, "public_title_translations": {"de": "Wie Sie kaufen"},
                     "website_url": "https://acme.example"}})
    return transition(store, tenant.org.id, created.id, "open")


def _edit_url(survey) -> str:
    return f"/console/surveys/{survey.id}/edit"


def _form(client, survey) -> tuple:
    page = client.get(_edit_url(survey))
    assert page.status_code == 200
    return page, {"csrf_token": csrf(page), "name": "Q1 buyers", "public_title": FIXED,
                  "public_title_de": "Wie Sie Analyse-Software kaufen", "public_title_fr": "",
                  "vendor_name": "Acme Analytics", "accent_color": "#0b7285"}


def test_the_survey_page_links_to_a_prefilled_edit_page(client, lead, survey):
    sign_in(client)
    assert f'href="{_edit_url(survey)}"' in client.get(f"/console/surveys/{survey.id}").text
    page, _ = _form(client, survey)
    assert 'name="csrf_token"' in page.text
    assert 'value="Q1 buyers"' in _field_block(page.text, "name")
    assert f'value="{TYPO}"' in _field_block(page.text, "public_title")
    assert 'value="Wie Sie kaufen"' in _field_block(page.text, "public_title_de")
    assert 'value=""' in _field_block(page.text, "public_title_fr")
    assert 'value="Acme Analytics"' in _field_block(page.text, "vendor_name")
    assert 'value="#0b7285"' in _field_block(page.text, "accent_color")
    assert "The survey is open" in page.text
    assert 'name="segments"' not in page.text  # fixed once open: not offered here


def test_an_open_surveys_title_is_corrected_confirmed_and_recorded(client, store, lead, survey):
    sign_in(client)
    _, data = _form(client, survey)
    saved = client.post(_edit_url(survey), data=data)
    assert saved.status_code == 303
    assert saved.location.endswith(f"/console/surveys/{survey.id}")
    page = client.get(saved.location)
    assert "The changes are saved" in page.text
    assert FIXED in page.text

    stored = store.surveys.get(survey.org_id, survey.id)
    assert stored.status == "open"
    assert stored.branding == {
        "vendor_name": "Acme Analytics", "accent_color": "#0b7285", "public_title": FIXED,
        "public_title_translations": {"de": "Wie Sie Analyse-Software kaufen"},
        "website_url": "https://acme.example"}  # not asked by the page, so kept
    assert stored.segments == survey.segments
    [change] = [e for e in store.audit.list(survey.org_id) if e.action == "survey.changed"]
    assert change.actor == f"user:{lead.id}"
    assert change.target == {"survey_id": survey.id, "fields": [
        "branding.public_title", "branding.public_title_translations"]}
    log = client.get("/console/audit").text
    assert "survey.changed" in log
    assert "fields: branding.public_title, branding.public_title_translations" in log

    again = client.post(_edit_url(survey), data={**data, "csrf_token": csrf(page)})
    assert "Nothing was changed" in client.get(again.location).text
    assert len([e for e in store.audit.list(survey.org_id)
                if e.action == "survey.changed"]) == 1


def test_without_its_csrf_token_the_form_changes_nothing(client, store, lead, survey):
    sign_in(client)
    _, data = _form(client, survey)
    del data["csrf_token"]
    refused = client.post(_edit_url(survey), data=data)
    assert refused.status_code == 400 and "expired" in refused.text
    assert store.surveys.get(survey.org_id, survey.id).branding["public_title"] == TYPO


def test_problems_show_beside_their_fields_in_plain_words_and_nothing_changes(
        client, store, lead, survey):
    sign_in(client)
    _, data = _form(client, survey)
    data.update(public_title="x" * 121, vendor_name="", accent_color="teal",
                public_title_fr="Deux\nlignes", name="Q1 renamed")
    answer = client.post(_edit_url(survey), data=data)
    assert answer.status_code == 422
    assert "Some fields need attention" in answer.text
    title = _field_block(answer.text, "public_title")
    assert "has-error" in title and "A title is 1 to 120 characters long." in title
    assert 'aria-invalid="true"' in title
    assert "has-error" in _field_block(answer.text, "vendor_name")
    assert "Use a #rrggbb colour." in _field_block(answer.text, "accent_color")
    assert "has-error" in _field_block(answer.text, "public_title_fr")
    assert "has-error" not in _field_block(answer.text, "public_title_de")
    assert 'value="Q1 renamed"' in answer.text  # what was typed stays
    stored = store.surveys.get(survey.org_id, survey.id)
    assert (stored.name, stored.branding["public_title"]) == ("Q1 buyers", TYPO)
    assert [e for e in store.audit.list(survey.org_id) if e.action == "survey.changed"] == []


def test_another_organizations_survey_is_not_found_and_a_viewer_may_not_edit(
        client, store, lead, survey):
    other = Tenant(store, "Globex Software")
    theirs = create_survey(store, other.org.id, {"name": "Globex Q1",
                                                 "branding": {"public_title": "Theirs"}})
    sign_in(client)
    page, data = _form(client, survey)
    url = f"/console/surveys/{theirs.id}/edit"
    assert client.get(url).status_code == 404
    assert client.post(url, data={**data, "name": "Taken over"}).status_code == 404
    assert store.surveys.get(other.org.id, theirs.id).name == "Globex Q1"

    users.create_user(store, survey.org_id, "viewer@acme.example", "Vic Viewer", "viewer",
                      PASSWORD)
    client.post("/console/sign-out", data={"csrf_token": csrf(page)})
    sign_in(client, "viewer@acme.example")
    assert "Edit details" not in client.get(f"/console/surveys/{survey.id}").text
    assert client.get(_edit_url(survey)).status_code == 403
