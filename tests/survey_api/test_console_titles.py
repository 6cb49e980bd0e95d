"""The console's new-survey page asks for the public title in each further language the
customer instrument offers (branding.public_title_translations), checked exactly as the API
checks it: the same reasons, shown beside the language's field. The browser look is in
tests/system/test_console_browser.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.extensions import get_store

from tests.conftest import Tenant
from tests.survey_api.test_console import PASSWORD, csrf, sign_in

TRANSLATIONS = Path(__file__).parents[2] / "shared" / "instrument_data" / "translations"
# The default customer instrument's languages besides English: its shipped translation files.
FURTHER = sorted(p.stem.rsplit(".", 1)[1] for p in TRANSLATIONS.glob("how-you-buy.v2.*.json"))


@pytest.fixture
def tenant(app):
    with app.app_context():
        tenant = Tenant(get_store(), "Acme Analytics")
        from survey_api.console import users
        users.create_user(get_store(), tenant.org.id, "lead@acme.example", "Lea Lead", "admin",
                          PASSWORD)
    return tenant


def _form(client):
    page = client.get("/console/surveys/new")
    assert page.status_code == 200
    return page, {"csrf_token": csrf(page), "name": "Titles", "vendor_name": "Acme Analytics",
                  "accent_color": "#1f5fbf", "public_title": "How you buy software"}


def _field_block(html: str, name: str) -> str:
    """The markup of one field's block (label, hint, error, input)."""
    match = re.search(r'<div class="field[^"]*">\s*<label for="' + name + r'">.*?</div>', html,
                      re.S)
    assert match, f"no field {name}"
    return match.group(0)


def _surveys(app, tenant):
    with app.app_context():
        return get_store().surveys.list(tenant.org.id, limit=100).items


def test_a_title_field_for_each_further_language_and_the_titles_are_stored(app, client, tenant):
    assert FURTHER == ["de", "fr"]
    sign_in(client)
    page, data = _form(client)
    assert "Title respondents see in German (de)" in page.text
    assert "Title respondents see in French (fr)" in page.text
    data.update(public_title_de="Wie Sie Software kaufen", public_title_fr="")
    created = client.post("/console/surveys/new", data=data)
    assert created.status_code == 303, created.text
    [survey] = _surveys(app, tenant)
    assert survey.branding["public_title"] == "How you buy software"
    assert survey.branding["public_title_translations"] == {"de": "Wie Sie Software kaufen"}


def test_a_bad_title_shows_the_apis_reason_beside_its_field_and_nothing_is_stored(
        app, client, tenant):
    too_long = "Ä" * 121
    api = client.post("/v1/surveys", headers=tenant.headers(), json={
        "name": "API", "branding": {"public_title_translations": {"fr": too_long}}})
    assert api.status_code == 422
    [reason] = [e["reason"] for e in api.get_json()["errors"]
                if e["field"].startswith("branding.public_title_translations.fr")]

    sign_in(client)
    _, data = _form(client)
    data.update(public_title_de="Wie Sie Software kaufen", public_title_fr=too_long)
    answer = client.post("/console/surveys/new", data=data)
    assert answer.status_code == 422
    french = _field_block(answer.text, "public_title_fr")
    assert 'class="field has-error"' in french and reason in french
    assert 'aria-invalid="true"' in french and 'aria-describedby="public_title_fr-hint ' \
                                               'public_title_fr-error"' in french
    assert "has-error" not in _field_block(answer.text, "public_title_de")
    assert 'value="Wie Sie Software kaufen"' in answer.text  # what was typed stays
    assert _surveys(app, tenant) == []


def test_title_problems_show_together_with_the_other_fields_problems(app, client, tenant):
    sign_in(client)
    _, data = _form(client)
    data.update(vendor_name="", public_title_de="Wie Sie \u202eSoftware kaufen")
    answer = client.post("/console/surveys/new", data=data)
    assert answer.status_code == 422
    assert "has-error" in _field_block(answer.text, "vendor_name")
    assert "has-error" in _field_block(answer.text, "public_title_de")
    assert _surveys(app, tenant) == []
