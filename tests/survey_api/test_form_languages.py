"""The web form in the respondent's language: the invitation's, else the browser's, else the
default; a switch on any page keeps the answers; page chrome and link-status pages follow."""

from __future__ import annotations

import re

V2 = {"id": "how-you-buy", "version": 2}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _survey(client, tenant, instrument=V2) -> dict:
    created = client.post("/v1/surveys", json={
        "name": "Languages", "customer_instrument": instrument,
        "branding": {"vendor_name": "Acme Analytics"}}, headers=tenant.headers())
    assert created.status_code == 201, created.get_json()
    survey = created.get_json()
    assert client.post(f"/v1/surveys/{survey['id']}/open",
                       headers=tenant.headers()).status_code == 200
    return survey


def _invite(client, survey, headers, **fields) -> dict:
    answer = client.post(f"/v1/surveys/{survey['id']}/invitations",
                         json={"invitations": [fields]}, headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["invitations"][0]


def test_the_invitation_language_wins_over_the_browser(client, tenant):
    survey = _survey(client, tenant)
    invitation = _invite(client, survey, tenant.headers(), language="fr")
    assert invitation["language"] == "fr"
    page = client.get(_path(invitation["url"]), headers={"Accept-Language": "de"}).text
    assert '<html lang="fr" dir="ltr">' in page
    assert "Depuis combien de temps votre entreprise est-elle cliente de Acme Analytics" in page
    assert "Étape 1 sur" in page and "Suivant" in page


def test_the_browser_language_is_used_among_those_offered(client, tenant):
    survey = _survey(client, tenant)
    path = _path(_invite(client, survey, tenant.headers())["url"])
    german = client.get(path, headers={"Accept-Language": "de-CH, en;q=0.5"}).text
    assert '<html lang="de"' in german and "Zu Ihnen und Ihrem Unternehmen" in german
    assert "Schritt 1 von" in german and "Weiter" in german
    spanish = client.get(path, headers={"Accept-Language": "es"}).text
    assert '<html lang="en"' in spanish and "About you and your company" in spanish


def test_a_language_switch_keeps_the_answers_and_stays_chosen(client, tenant):
    survey = _survey(client, tenant)
    path = _path(_invite(client, survey, tenant.headers())["url"])
    first = client.get(path).text
    assert 'hreflang="de"' in first and 'hreflang="fr"' in first  # the switcher
    sent = client.post(path, data={"csrf_token": _token(first), "page": "1", "action": "next",
                                   "tenure": "new", "company_size": "large",
                                   "buying_team_size": "4-6"})
    assert sent.status_code == 303
    switched = client.get(path + "?page=1&lang=de").text
    assert "Zu Ihnen und Ihrem Unternehmen" in switched
    assert 'value="large" checked' in switched and 'value="4-6" checked' in switched
    later = client.get(path + "?page=2").text  # the choice is remembered without ?lang=
    assert '<html lang="de"' in later and "Die frühen Phasen des Einkaufs" in later
    response = client.get(f"/v1/surveys/{survey['id']}/responses",
                          headers=tenant.headers()).get_json()["items"][0]
    assert response["answers"]["company_size"] == "large"  # codes, whatever the language


def test_errors_and_link_status_pages_are_translated(client, tenant):
    survey = _survey(client, tenant)
    path = _path(_invite(client, survey, tenant.headers(), language="de")["url"])
    page = client.get(path).text
    refused = client.post(path, data={"csrf_token": _token(page), "page": "1",
                                      "action": "next"})
    assert refused.status_code == 422
    assert "Bitte prüfen Sie diese 3 Antworten" in refused.text
    assert "Bitte wählen Sie eine Antwort." in refused.text
    missing = client.get("/s/not-a-token", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert missing.status_code == 404 and "Ce lien n’est pas valide" in missing.text
    assert '<html lang="fr"' in missing.text
    revoked = _invite(client, survey, tenant.headers(), language="de")
    client.post(f"/v1/surveys/{survey['id']}/invitations/{revoked['id']}/revoke",
                headers=tenant.headers())
    assert "Dieser Link wurde zurückgezogen" in client.get(_path(revoked["url"])).text


def test_a_right_to_left_language_sets_dir_rtl(client, tenant):
    words = {"title": "استطلاع", "sections.s.title": "عنك",
             "questions.q.text": "هل توافق؟", "questions.q.options.yes": "نعم",
             "questions.q.options.no": "لا"}
    created = client.post("/v1/instruments", json={
        "id": "tiny-rtl", "version": 1, "kind": "customer", "title": "Survey",
        "languages": ["en", "ar"], "translations": {"ar": words},
        "sections": [{"id": "s", "title": "About you", "questions": [
            {"id": "q", "type": "single_choice", "text": "Do you agree?",
             "options": [{"value": "yes", "label": "Yes"}, {"value": "no", "label": "No"}]}]}],
    }, headers=tenant.headers())
    assert created.status_code == 201, created.get_json()
    survey = _survey(client, tenant, {"id": "tiny-rtl", "version": 1})
    path = _path(_invite(client, survey, tenant.headers(), language="ar")["url"])
    page = client.get(path).text
    assert '<html lang="ar" dir="rtl">' in page and "هل توافق؟" in page and "نعم" in page
    english = client.get(path + "?lang=en").text
    assert '<html lang="en" dir="ltr">' in english and "Do you agree?" in english


def test_responses_record_the_language_they_were_answered_in(client, tenant):
    survey = _survey(client, tenant)
    path = _path(_invite(client, survey, tenant.headers(), language="fr")["url"])
    page = client.get(path).text
    assert client.post(path, data={"csrf_token": _token(page), "page": "1", "action": "next",
                                   "tenure": "new", "company_size": "large",
                                   "buying_team_size": "1"}).status_code == 303
    [stored] = client.get(f"/v1/surveys/{survey['id']}/responses",
                          headers=tenant.headers()).get_json()["items"]
    assert stored["language"] == "fr"
    url = f"/v1/surveys/{survey['id']}/responses"
    refused = client.post(url, json={"submission_id": "x", "answers": {}, "complete": False,
                                     "language": "German!"}, headers=tenant.headers())
    assert refused.status_code == 422
    assert "language" in [e["field"] for e in refused.get_json()["errors"]]
    given = client.post(url, json={"submission_id": "y", "answers": {}, "complete": False,
                                   "language": "de"}, headers=tenant.headers())
    assert given.status_code == 201 and given.get_json()["language"] == "de"
