"""The web forms through the Flask test client: CSRF, escaping, link states, anonymous
duplicate protection and rate limits, and no third-party assets."""

from __future__ import annotations

import re

import survey_api

from tests.support.forms import answer_every_page, csrf_token

V1 = {"customer_instrument": {"id": "how-you-buy", "version": 1}}  # v1 answers


def _invite(client, survey, headers, **attributes):
    return client.post(f"/v1/surveys/{survey['id']}/invitations",
                       json={"invitations": [{"attributes": attributes}]},
                       headers=headers).get_json()["invitations"][0]


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_posts_without_a_valid_csrf_token_are_refused(client, tenant, open_survey):
    invitation = _invite(client, open_survey, tenant.headers())
    path = _path(invitation["url"])
    client.get(path)
    refused = client.post(path, data={"page": "1", "role": "manager"})
    assert refused.status_code == 400 and b"could not be sent" in refused.data
    forged = client.post(path, data={"page": "1", "csrf_token": "forged", "role": "manager"})
    assert forged.status_code == 400
    assert client.get(f"/v1/surveys/{open_survey['id']}/responses",
                      headers=tenant.headers()).get_json()["items"] == []


def test_respondent_text_is_escaped_when_shown_again(client, tenant, open_survey):
    invitation = _invite(client, open_survey, tenant.headers(), tenure="new", size="small")
    path = _path(invitation["url"])
    page = client.get(path + "?page=7").get_data(as_text=True)
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    answer = client.post(path, data={"csrf_token": csrf_token(page), "page": "7",
                                     "action": "back", "suggestion": evil})
    assert answer.status_code == 303
    shown = client.get(path + "?page=7").get_data(as_text=True)
    assert evil not in shown
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in shown


def test_every_link_state_gets_a_clear_page(client, tenant, open_survey):
    h = tenant.headers()
    assert client.get("/s/not-a-token").status_code == 404
    invitation = _invite(client, open_survey, h)
    client.post(f"/v1/surveys/{open_survey['id']}/invitations/{invitation['id']}/revoke",
                headers=h)
    revoked = client.get(_path(invitation["url"]))
    assert revoked.status_code == 410 and b"withdrawn" in revoked.data
    assert b"Traceback" not in revoked.data and revoked.mimetype == "text/html"
    draft = client.post("/v1/surveys", json={"name": "later"}, headers=h).get_json()
    early = client.get(_path(_invite(client, draft, h)["url"]))
    assert early.status_code == 404 and b"not open yet" in early.data
    open_link = _invite(client, open_survey, h)
    client.post(f"/v1/surveys/{open_survey['id']}/close", headers=h)
    closed = client.get(_path(open_link["url"]))
    assert closed.status_code == 410 and b"has closed" in closed.data
    assert client.get("/staff/forged.token").status_code == 404


def test_pages_load_nothing_from_other_sites(client, tenant, open_survey):
    html = client.get(_path(_invite(client, open_survey, tenant.headers())["url"])).get_data(
        as_text=True)
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert url.startswith(("/", "#")), url
    assert 'name="referrer" content="no-referrer"' in html
    assert client.get("/static/forms/forms.css").status_code == 200


def test_anonymous_links_are_off_unless_enabled_and_stop_repeat_answers(client, tenant,
                                                                        open_survey, app):
    assert client.get(f"/a/{open_survey['id']}").status_code == 404
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={"name": "open door", **V1,
                                              "settings": {"anonymous_link": True}},
                         headers=h).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=h)
    path = f"/a/{survey['id']}"
    from tests.support.factories import builtin, complete_answers
    answers = complete_answers(builtin("how-you-buy"))
    answers["top_sources"] = answers["info_sources"][:3]  # the form ranks only what is ticked
    done = answer_every_page(client, path, builtin("how-you-buy"), answers)
    assert done.headers["Location"].endswith("/thanks")
    again = client.get(path)
    assert b"already answered" in again.data
    # A new browser (no cookie) from the same address and browser: the fingerprint stops it.
    fresh = app.test_client()
    assert b"already answered" in fresh.get(path).data
    # Another browser is a different person.
    other = app.test_client()
    assert b"Step 1 of" in other.get(path, headers={"User-Agent": "Other/1.0"}).data
    stored = client.get(f"/v1/surveys/{survey['id']}/responses", headers=h).get_json()["items"]
    assert [r["complete"] for r in stored] == [True]  # looking saves nothing


def test_anonymous_links_are_rate_limited(settings, tenant):
    app = survey_api.create_app(settings.with_overrides(anonymous_rate_limit="3 per minute"))
    client = app.test_client()
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={"name": "x", "settings": {"anonymous_link": True}},
                         headers=h).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=h)
    codes = [client.get(f"/a/{survey['id']}").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_without_branding_the_organization_is_named_and_the_internal_name_never_shown(
        client, tenant):
    h = tenant.headers()
    survey = client.post("/v1/surveys", json={"name": "Q1 buyers (internal)"},
                         headers=h).get_json()
    client.post(f"/v1/surveys/{survey['id']}/open", headers=h)
    html = client.get(_path(_invite(client, survey, h)["url"])).get_data(as_text=True)
    organization = tenant.org.name
    assert f'<span class="vendor">{organization}</span>' in html
    assert "How your company buys" in html  # the neutral public title
    assert "Q1 buyers" not in html and ">Survey<" not in html
    assert f"{organization} wants to understand" in html  # never "the vendor wants"
    staff = client.get(_path(client.get(f"/v1/surveys/{survey['id']}/links", headers=h)
                             .get_json()["staff"])).get_data(as_text=True)
    assert f"How {organization} sells: a staff self-assessment" in staff
    assert "can read each person&#39;s answers" in staff


def test_the_form_ranks_only_sources_ticked_on_the_same_page(client, tenant, open_survey):
    invitation = _invite(client, open_survey, tenant.headers(), tenure="new", size="small",
                         region="emea")
    path = _path(invitation["url"])
    html = client.get(path + "?page=6").get_data(as_text=True)
    assert 'data-rank-from="info_sources"' in html  # v1: same options on the same page
    data = {"csrf_token": csrf_token(html), "page": "6", "action": "next",
            "info_sources": ["search", "peers"], "top_sources__rank1": "events"}
    refused = client.post(path, data=data)
    assert refused.status_code == 422
    assert "Place only options you ticked above." in refused.get_data(as_text=True)
    data["top_sources__rank1"] = "peers"
    assert client.post(path, data=data).status_code == 303
