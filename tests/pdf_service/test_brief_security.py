"""Briefs under abuse (issue 13, items 9, 10 and 13): link lifetimes as asked, revocation and
deletion, a write scope for sending data out, bounded recipients, and ids that cannot steer the
call to scoring_service."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from pdf_service import domain as briefs
from pdf_service.scoring_client import ScoringUnavailable, fetch_report

from tests.pdf_service.test_pdf_api import inbox, pdf_client, scored_survey, scoring_url  # noqa: F401 (fixtures)

SECRET = "test-secret-key-0123456789"  # the secret of conftest's settings


@pytest.fixture
def brief(pdf_client, tenant, scored_survey):
    created = pdf_client.post("/v1/briefs", json={"survey_id": scored_survey["id"]},
                              headers=tenant.headers("briefs"))
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def _path(url: str) -> str:
    return url.replace("http://briefs.test", "")


def _later(monkeypatch, hours: float):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + hours * 3600)


def test_a_share_link_works_for_the_hours_asked(pdf_client, tenant, brief, monkeypatch):
    share = pdf_client.post(f"/v1/briefs/{brief['id']}/share", json={"hours": 1},
                            headers=tenant.headers("briefs"))
    assert share.status_code == 200
    assert share.get_json()["expires_in_hours"] == 1
    assert share.get_json()["expires_at"].endswith("Z")
    one_hour = _path(share.get_json()["url"])
    default = _path(pdf_client.post(f"/v1/briefs/{brief['id']}/share", json={},
                                    headers=tenant.headers("briefs")).get_json()["url"])
    assert pdf_client.get(one_hour).status_code == 200
    _later(monkeypatch, 1.1)
    expired = pdf_client.get(one_hour)
    assert expired.status_code == 410 and b"expired" in expired.data
    assert pdf_client.get(default).status_code == 200  # BRIEF_LINK_HOURS: 168


@pytest.mark.parametrize("hours", [0, 721, -5, 1.5, "24"])
def test_link_hours_outside_1_to_720_are_422(pdf_client, tenant, brief, hours):
    refused = pdf_client.post(f"/v1/briefs/{brief['id']}/share", json={"hours": hours},
                              headers=tenant.headers("briefs"))
    assert refused.status_code == 422
    assert [e["field"] for e in refused.get_json()["errors"]] == ["hours"]


def test_revoking_withdraws_every_earlier_link(pdf_client, tenant, brief):
    h = tenant.headers("briefs")
    earlier = [_path(brief["share_url"]), _path(pdf_client.post(
        f"/v1/briefs/{brief['id']}/share", json={"hours": 24}, headers=h).get_json()["url"])]
    assert all(pdf_client.get(link).status_code == 200 for link in earlier)
    assert pdf_client.delete(f"/v1/briefs/{brief['id']}/share", headers=h).status_code == 204
    for link in earlier:
        withdrawn = pdf_client.get(link)
        assert withdrawn.status_code == 410 and b"withdrawn" in withdrawn.data
    fresh = _path(pdf_client.post(f"/v1/briefs/{brief['id']}/share", json={},
                                  headers=h).get_json()["url"])
    assert pdf_client.get(fresh).status_code == 200
    assert pdf_client.delete("/v1/briefs/" + "0" * 32 + "/share", headers=h).status_code == 404


def test_a_deleted_brief_is_gone_with_its_pdf_and_links(pdf_client, tenant, other_tenant,
                                                        brief, scored_survey):
    link = _path(brief["share_url"])
    assert pdf_client.delete(f"/v1/briefs/{brief['id']}",
                             headers=other_tenant.headers("briefs")).status_code == 404
    assert pdf_client.get(link).status_code == 200
    assert pdf_client.delete(f"/v1/briefs/{brief['id']}",
                             headers=tenant.headers("briefs")).status_code == 204
    assert pdf_client.get(f"/v1/briefs/{brief['id']}", headers=tenant.headers()).status_code == 404
    assert pdf_client.get(f"/v1/briefs/{brief['id']}.pdf",
                          headers=tenant.headers()).status_code == 404
    assert pdf_client.get(f"/v1/surveys/{scored_survey['id']}/briefs",
                          headers=tenant.headers()).get_json() == []
    gone = pdf_client.get(link)
    assert gone.status_code == 404 and b"no longer available" in gone.data
    assert pdf_client.delete(f"/v1/briefs/{brief['id']}",
                             headers=tenant.headers("briefs")).status_code == 404


def test_creating_sharing_and_sending_briefs_need_the_briefs_scope(pdf_client, tenant, brief,
                                                                   scored_survey, inbox):
    read = tenant.headers("read")
    calls = [("POST", "/v1/briefs", {"survey_id": scored_survey["id"]}),
             ("POST", f"/v1/briefs/{brief['id']}/share", {}),
             ("DELETE", f"/v1/briefs/{brief['id']}/share", None),
             ("POST", f"/v1/briefs/{brief['id']}/email", {"to": ["ceo@example.com"]}),
             ("DELETE", f"/v1/briefs/{brief['id']}", None)]
    for method, url, body in calls:
        answer = pdf_client.open(url, method=method, json=body, headers=read)
        assert answer.status_code == 403, (method, url)
        assert "'briefs' scope" in answer.get_json()["detail"]
    assert inbox.messages == []
    # Reading stays with read; the admin key can do everything.
    assert pdf_client.get(f"/v1/briefs/{brief['id']}", headers=read).status_code == 200
    assert pdf_client.post(f"/v1/briefs/{brief['id']}/share", json={},
                           headers=tenant.headers("admin")).status_code == 200


def test_recipients_are_deduplicated_ignoring_case_and_capped(pdf_client, tenant, brief,
                                                              scored_survey, inbox):
    h = tenant.headers("briefs")
    sent = pdf_client.post(f"/v1/briefs/{brief['id']}/email", json={
        "to": ["CEO@example.com", "ceo@example.com", "cro@example.com", "Ceo@Example.COM"]},
        headers=h)
    assert sent.status_code == 200
    assert sent.get_json()["to"] == ["CEO@example.com", "cro@example.com"]
    assert inbox.messages[-1][0] == ["CEO@example.com", "cro@example.com"]
    eleven = [f"person{n}@example.com" for n in range(11)]
    for url, field, body in [(f"/v1/briefs/{brief['id']}/email", "to", {"to": eleven}),
                             ("/v1/briefs", "email_to", {"survey_id": scored_survey["id"],
                                                         "email_to": eleven})]:
        refused = pdf_client.post(url, json=body, headers=h)
        assert refused.status_code == 422, url
        assert refused.get_json()["errors"][0]["field"] == field
        assert "At most 10" in refused.get_json()["errors"][0]["reason"]
    # Ten addresses, each given twice in another case, are ten recipients: accepted.
    doubled = [f"person{n}@example.com" for n in range(10)]
    doubled += [a.upper() for a in doubled]
    assert pdf_client.post(f"/v1/briefs/{brief['id']}/email", json={"to": doubled},
                           headers=h).get_json()["to"] == doubled[:10]
    assert len(inbox.messages) == 2


@pytest.mark.parametrize("survey_id", ["../../healthz#", "../../healthz", "x" * 32,
                                       "0123456789abcdef0123456789abcde\u202e"])
def test_a_brief_survey_id_must_be_an_id(pdf_client, tenant, survey_id):
    refused = pdf_client.post("/v1/briefs", json={"survey_id": survey_id},
                              headers=tenant.headers("briefs"))
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "survey_id"


def test_the_scoring_client_quotes_the_survey_id(scoring_url, tenant):
    # Unquoted, "../../healthz#" made the call GET /healthz, whose answer was taken for a report.
    with pytest.raises(ScoringUnavailable) as raised:
        fetch_report(scoring_url, "test-service-token-0123", tenant.org.id, "../../healthz#",
                     [], 5)
    assert raised.value.status == 404


@pytest.mark.parametrize("payload", [["o", "b"], {"o": 1, "b": 2}, {"b": "x"}, "text", None,
                                     {"o": "a", "b": "b", "h": 10**6},
                                     {"o": "a", "b": "b", "g": "0"}])
def test_a_signed_token_with_a_malformed_payload_is_404(pdf_client, payload):
    token = URLSafeTimedSerializer(SECRET, salt=briefs.LINK_SALT).dumps(payload)
    answer = pdf_client.get(f"/shared/{token}")
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert b"not valid" in answer.data


def test_the_default_link_lifetime_is_within_the_same_bounds():
    from shared.settings import ConfigError, load_settings

    assert load_settings({"BRIEF_LINK_HOURS": "720"}).brief_link_hours == 720
    for hours in ("0", "721"):
        with pytest.raises(ConfigError, match="BRIEF_LINK_HOURS"):
            load_settings({"BRIEF_LINK_HOURS": hours})


def test_a_survey_name_with_line_breaks_still_mails_on_one_subject_line(
        pdf_client, tenant, scored_survey, store, inbox):
    store.surveys.update(tenant.org.id, scored_survey["id"],
                         {"name": "Q1 buyers\r\nBcc: everyone@example.com"})
    created = pdf_client.post("/v1/briefs", json={
        "survey_id": scored_survey["id"], "email_to": ["ceo@example.com"]},
        headers=tenant.headers("briefs")).get_json()
    assert created["email"]["sent"] is True, created["email"]
    recipients, message = inbox.messages[-1]
    assert recipients == ["ceo@example.com"]
    assert message["Subject"] == "Buyer alignment brief: Q1 buyers Bcc: everyone@example.com"
    assert message["Bcc"] is None


def test_international_addresses_are_sent_in_ascii_or_refused_with_422(pdf_client, tenant, brief,
                                                                      inbox):
    h = tenant.headers("briefs")
    sent = pdf_client.post(f"/v1/briefs/{brief['id']}/email", json={"to": ["ceo@bücher.example"]},
                           headers=h)
    assert sent.status_code == 200, sent.get_json()
    assert inbox.messages[-1][0] == ["ceo@xn--bcher-kva.example"]
    refused = pdf_client.post(f"/v1/briefs/{brief['id']}/email",
                              json={"to": ["a@example.com", "jörg@example.com"]}, headers=h)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "to"
    assert "Address 2" in refused.get_json()["errors"][0]["reason"]


class _Refusing:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.7.1 relay.internal.example policy banner v2.3"


def test_a_refusing_mail_server_answers_502_without_its_own_words(settings, scoring_url, tenant,
                                                                  brief):
    import pdf_service

    from tests.support.mailbox import smtp_server

    with smtp_server(_Refusing()) as smtp_url:
        client = pdf_service.create_app(settings.with_overrides(
            scoring_url=scoring_url, smtp_url=smtp_url)).test_client()
        answer = client.post(f"/v1/briefs/{brief['id']}/email", json={"to": ["a@example.com"]},
                             headers=tenant.headers("briefs"))
    assert answer.status_code == 502
    assert "relay.internal" not in answer.get_data(as_text=True)
    assert answer.get_json()["detail"] == "The mail server did not take the message."
