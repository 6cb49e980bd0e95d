"""The e-mails speak the recipient's language: invitations and reminders the invitation's
(else the survey's default, else English), the console's password reset the browser's. Sent
through a real SMTP server (aiosmtpd) and read back as the recipient gets them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from survey_api.console import campaign, users
from survey_api.console.mail_texts import mail_language
from survey_api.console.mailer import send_due

from tests.support.mailbox import running_inbox
from tests.survey_api.test_console import crm_csv, csrf, lead, store, tenant  # noqa: F401

SECRET = "secret-0123456789"
PEOPLE = [["anna@kunde.example", "Anna Schmidt", "de-AT", "emea", "new", ""],
          ["luc@client.example", "Luc Martin", "fr", "emea", "new", ""],
          ["sam@customer.example", "Sam Lee", "", "americas", "new", ""],
          ["ines@cliente.example", "Inés Ruiz", "es", "emea", "new", ""]]


@pytest.fixture
def open_survey(store, tenant):
    """Pinned to how-you-buy v2, which ships in German and French."""
    from survey_api.surveys.domain import create_survey, transition
    survey = create_survey(store, tenant.org.id, {
        "name": "How our customers buy", "segments": {"region": ["emea", "americas"]},
        "customer_instrument": {"id": "how-you-buy", "version": 2},
        "branding": {"vendor_name": "Acme Analytics"}})
    return {"id": transition(store, tenant.org.id, survey.id, "open").id}


def _invite_everyone(store, survey_id, now):
    survey = store.surveys.get_any(survey_id)
    preview = campaign.preview_csv(store, survey, crm_csv(PEOPLE))
    campaign.create_from_preview(store, survey, preview, "http://localhost", SECRET)
    assert campaign.queue_invitations(store, survey, "http://localhost", SECRET, now) == 4
    return survey


def test_each_invitation_and_reminder_arrives_in_the_invitations_language(client, store,
                                                                          open_survey):
    now = datetime.now(timezone.utc)
    survey = _invite_everyone(store, open_survey["id"], now)
    with running_inbox() as inbox:
        assert send_due(store, inbox.url, "survey@acme.example", now) == 4
        german = inbox.to("anna@kunde.example")[0]
        body = german.get_content().replace("\r\n", "\n")
        assert german["Subject"] == "How our customers buy: Acme Analytics bittet um Ihre " \
                                    "Einschätzung"
        assert body.startswith("Guten Tag Anna Schmidt,\n\nAcme Analytics möchte von Kunden")
        assert "Ihr persönlicher Link" in body and "Keine weiteren E-Mails" in body
        link = re.search(r"^http://localhost(/s/[\w-]+)$", body, re.M).group(1)
        assert f"http://localhost{link}/opt-out" in body
        assert "Hello" not in body and "personal link" not in body
        page = client.get(link)  # the link works, and its form speaks German too
        assert page.status_code == 200 and 'lang="de"' in page.text

        french = inbox.to("luc@client.example")[0]
        assert french["Subject"] == "How our customers buy : Acme Analytics aimerait avoir " \
                                    "votre avis"
        assert french.get_content().replace("\r\n", "\n").startswith(
            "Bonjour Luc Martin,\n\nAcme Analytics demande")

        # No language, or one without a catalogue (Spanish): the survey's default, English.
        for address in ("sam@customer.example", "ines@cliente.example"):
            mail = inbox.to(address)[0]
            assert mail["Subject"] == "How our customers buy: Acme Analytics would like your view"
            assert "Your personal link (it works once" in mail.get_content()

        later = now + timedelta(days=3, minutes=1)
        assert campaign.queue_reminders(store, survey, "http://localhost", SECRET, later) == 4
        send_due(store, inbox.url, "survey@acme.example", later)
        reminders = {rcpt[0]: m for rcpt, m in inbox.messages[4:]}
        assert reminders["anna@kunde.example"]["Subject"] == "Erinnerung: How our customers buy"
        assert "Vor ein paar Tagen hat Acme Analytics" in \
            reminders["anna@kunde.example"].get_content()
        assert reminders["luc@client.example"]["Subject"] == "Rappel : How our customers buy"
        assert reminders["sam@customer.example"]["Subject"] == "Reminder: How our customers buy"


def test_an_unknown_or_missing_language_falls_back_to_the_default_then_english():
    assert mail_language("de-CH", "fr") == "de"
    assert mail_language("es", "fr") == "fr"
    assert mail_language("es", None) == "en"
    assert mail_language(None, "de") == "de"
    assert mail_language(None, None, "fr-CA,fr;q=0.9,en;q=0.5") == "fr"
    assert mail_language(None, None, None) == "en"


def test_the_password_reset_mail_speaks_the_browsers_language(client, store, lead):
    page = client.get("/console/reset")
    client.post("/console/reset", data={"csrf_token": csrf(page), "email": "lead@acme.example"},
                headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.4"})
    mail = store.outbox.list(lead.org_id)[0]
    assert mail.subject == "Réinitialiser votre mot de passe de la console"
    assert mail.body.startswith("Bonjour Lea Lead,\n\nQuelqu’un (vous, espérons-le)")
    assert re.search(r"^http://\S+/console/reset/\S+$", mail.body, re.M)
    assert f"dans les {users.RESET_HOURS} heures :" in mail.body
