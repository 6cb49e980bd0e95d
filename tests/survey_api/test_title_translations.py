"""The survey's public title in several languages: validated against the languages the
customer instrument offers, shown on the form in the form's language, else the default title;
the e-mails use it too."""

from __future__ import annotations

import re

import pytest

from shared.extensions import get_store
from survey_api.console.campaign import invitation_mail

V2 = {"id": "how-you-buy", "version": 2}  # offers en, de, fr
TITLE = "How you buy software, 2026"
GERMAN = "Wie Sie Software kaufen, 2026"


def _create(client, tenant, branding, instrument=V2):
    return client.post("/v1/surveys", json={
        "name": "Internal name", "customer_instrument": instrument,
        "branding": {"vendor_name": "Acme", **branding}}, headers=tenant.headers())


def _title_shown(html: str) -> str:
    return re.search(r'<span class="survey-title">([^<]*)</span>', html).group(1)


def test_the_form_shows_the_title_in_its_language_else_the_default(app, client, tenant):
    created = _create(client, tenant, {"public_title": TITLE,
                                       "public_title_translations": {"de": GERMAN}})
    assert created.status_code == 201, created.get_json()
    survey = created.get_json()
    assert survey["branding"]["public_title_translations"] == {"de": GERMAN}
    assert client.post(f"/v1/surveys/{survey['id']}/open",
                       headers=tenant.headers()).status_code == 200
    shown = {}
    for language in ("de", "fr", "en"):
        invitation = client.post(f"/v1/surveys/{survey['id']}/invitations", json={
            "invitations": [{"language": language, "email": f"{language}@x.example"}]},
            headers=tenant.headers()).get_json()["invitations"][0]
        page = client.get("/" + invitation["url"].split("/", 3)[3])
        assert f'<html lang="{language}"' in page.text
        shown[language] = _title_shown(page.text)
    assert shown == {"de": GERMAN, "fr": TITLE, "en": TITLE}

    # The invitation mail of a German invitation carries the German title too.
    with app.app_context():
        store = get_store()
        stored = store.surveys.get_any(survey["id"])
        german = next(i for i in store.invitations.list(stored.org_id, stored.id).items
                      if i.language == "de")
    mail = invitation_mail(stored, german, "invitation", "http://localhost/s/t")
    assert mail.subject == f"{GERMAN}: Acme bittet um Ihre Einschätzung"


@pytest.mark.parametrize("translations, field, reason", [
    ({"es": "Cómo compra"}, "branding.public_title_translations.es", "it offers de, fr"),
    ({"en": "Other"}, "branding.public_title_translations.en", "default language"),
    ({"de": "Zwei\nZeilen"}, "branding.public_title_translations.de", ""),
    ({"de": "x" * 121}, "branding.public_title_translations.de", ""),
    ({"German": "Titel"}, "branding.public_title_translations.German", ""),
])
def test_titles_only_in_offered_languages_as_one_line(client, tenant, translations, field,
                                                      reason):
    answer = _create(client, tenant, {"public_title": TITLE,
                                      "public_title_translations": translations})
    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    errors = answer.get_json()["errors"]
    assert any(e["field"].startswith(field) and reason in e["reason"] for e in errors), errors


def test_an_english_only_instrument_takes_no_title_translation(client, tenant):
    answer = _create(client, tenant, {"public_title_translations": {"de": GERMAN}},
                     instrument={"id": "how-you-buy", "version": 1})
    assert answer.status_code == 422
    [error] = answer.get_json()["errors"]
    assert error["field"] == "branding.public_title_translations.de"
    assert "offers no other language" in error["reason"]
    # Nor can a draft move to such an instrument while it keeps the translation.
    survey = _create(client, tenant, {"public_title_translations": {"de": GERMAN}}).get_json()
    moved = client.patch(f"/v1/surveys/{survey['id']}", json={
        "customer_instrument": {"id": "how-you-buy", "version": 1}}, headers=tenant.headers())
    assert moved.status_code == 422
