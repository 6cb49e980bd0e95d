"""The console over HTTP (Flask's test client, a real SQLite store and a real SMTP server):
sign-in, lock-out, password reset, roles, the CSV preview, recoverable links, mail through
the outbox, reminders and opt-out. The browser walk-through is tests/system/test_console_browser.py."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from shared.extensions import get_store
from survey_api.console import campaign, users
from survey_api.console.mailer import send_due

from tests.conftest import Tenant
from tests.support.mailbox import running_inbox

PASSWORD = "correct horse battery"


def csrf(page) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page.text).group(1)


@pytest.fixture
def store(app):
    """The app's store, without holding an app context open for the whole test: requests of
    the test client must each get their own `g` (flask-wtf keeps the CSRF token there)."""
    with app.app_context():
        return get_store()


@pytest.fixture
def tenant(store):
    return Tenant(store, "Acme Analytics")


@pytest.fixture
def other_tenant(store):
    return Tenant(store, "Globex Software")


@pytest.fixture
def open_survey(store, tenant):
    from survey_api.surveys.domain import create_survey, transition
    survey = create_survey(store, tenant.org.id, {
        "name": "How our customers buy", "segments": {"region": ["emea", "americas"]},
        "customer_instrument": {"id": "how-you-buy", "version": 1},  # the answers posted below
        "branding": {"vendor_name": "Acme Analytics", "accent_color": "#0b7285"}})
    return {"id": transition(store, tenant.org.id, survey.id, "open").id}


@pytest.fixture
def lead(store, tenant):
    return users.create_user(store, tenant.org.id, "Lead@Acme.example", "Lea Lead", "admin",
                             PASSWORD)


def sign_in(client, email="lead@acme.example", password=PASSWORD):
    page = client.get("/console/sign-in")
    return client.post("/console/sign-in", data={"csrf_token": csrf(page), "email": email,
                                                 "password": password})


def test_pages_need_a_signed_in_person_and_root_leads_to_sign_in(client, lead):
    assert client.get("/").location.endswith("/console/sign-in")
    assert "/console/sign-in" in client.get("/console/").location
    assert sign_in(client).status_code == 303
    assert client.get("/").location.endswith("/console/")
    page = client.get("/console/")
    assert page.status_code == 200 and "Lea Lead" in page.text
    client.post("/console/sign-out", data={"csrf_token": csrf(page)})
    assert "/console/sign-in" in client.get("/console/").location


def test_a_form_without_its_csrf_token_changes_nothing(client, lead):
    answer = client.post("/console/sign-in", data={"email": "lead@acme.example",
                                                   "password": PASSWORD})
    assert answer.status_code == 400 and "This page had expired" in answer.text
    assert "/console/sign-in" in client.get("/console/").location


def test_five_failures_lock_the_account_even_for_the_right_password(client, store, lead):
    for _ in range(4):
        assert sign_in(client, password="wrong password!").status_code == 401
    answer = sign_in(client, password="wrong password!")
    assert "locked" in answer.text
    assert "locked" in sign_in(client).text  # the right password, still locked
    assert store.console_users.get(lead.id).locked_until
    assert "user.locked" in [e.action for e in store.audit.list(lead.org_id)]
    # After the lock has passed, the right password works again.
    later = datetime.now(timezone.utc) + users.LOCK_FOR + timedelta(seconds=1)
    assert users.sign_in(store, lead.email, PASSWORD, now=later).user is not None


def test_failures_spread_beyond_the_window_do_not_lock(store, lead):
    start = datetime.now(timezone.utc)
    for step in range(8):  # one failure every 4 minutes: never 5 within 15 minutes
        users.sign_in(store, lead.email, "wrong", now=start + timedelta(minutes=4 * step))
    assert store.console_users.get(lead.id).locked_until is None


def test_password_reset_by_mail_works_once_and_ends_other_sessions(app, client, store, lead):
    other = app.test_client()
    sign_in(other)
    page = client.get("/console/reset")
    client.post("/console/reset", data={"csrf_token": csrf(page), "email": "LEAD@acme.example"})
    unknown = client.post("/console/reset", data={"csrf_token": csrf(page),
                                                  "email": "nobody@acme.example"})
    assert "If an account uses this address" in unknown.text
    mails = store.outbox.list(lead.org_id)
    assert [m.kind for m in mails] == ["password_reset"] and mails[0].to == "lead@acme.example"
    link = re.search(r"http://\S+/console/reset/\S+", mails[0].body).group(0)
    path = link.split("localhost", 1)[-1]
    form = client.get(path)
    assert form.status_code == 200
    done = client.post(path, data={"csrf_token": csrf(form), "password": "a brand new secret"})
    assert done.status_code == 303
    assert client.get(path).status_code == 410  # single use
    assert sign_in(client).status_code == 401
    assert sign_in(client, password="a brand new secret").status_code == 303
    assert "/console/sign-in" in other.get("/console/").location  # the old session is gone


def test_roles_map_onto_scopes(client, store, tenant, lead):
    users.create_user(store, tenant.org.id, "viewer@acme.example", "Vic", "viewer", PASSWORD)
    sign_in(client, "viewer@acme.example")
    assert client.get("/console/").status_code == 200
    assert client.get("/console/keys").status_code == 403
    assert client.get("/console/surveys/new").status_code == 403
    assert users.can(lead, "admin") and users.can(lead, "read")
    analyst = users.create_user(store, tenant.org.id, "ana@acme.example", "Ana", "analyst",
                                PASSWORD)
    assert users.can(analyst, "ingest") and not users.can(analyst, "admin")


def test_another_organizations_survey_is_not_found(client, store, other_tenant, lead):
    from survey_api.surveys.domain import create_survey
    theirs = create_survey(store, other_tenant.org.id, {"name": "Theirs"})
    sign_in(client)
    assert client.get(f"/console/surveys/{theirs.id}").status_code == 404
    assert client.get(f"/console/surveys/{theirs.id}/invitations.csv").status_code == 404


def test_cli_creates_the_first_admin_with_a_generated_password(runner, store, tenant):
    result = runner.invoke(args=["create-user", tenant.org.id, "first@acme.example"])
    assert result.exit_code == 0, result.output
    password = re.search(r"password: (\S+)", result.output).group(1)
    assert users.sign_in(store, "first@acme.example", password).user.role == "admin"
    again = runner.invoke(args=["create-user", tenant.org.id, "first@acme.example"])
    assert again.exit_code != 0 and "exists" in again.output


# -- the CRM's CSV ---------------------------------------------------------------------------

def crm_csv(rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["E-mail", "Full name", "Lang", "Region", "Tenure", "Owner"])
    writer.writerows(rows)
    return buffer.getvalue()


GOOD = [[f"p{i}@customer.example", f"Person <{i}>", "en", "emea" if i % 2 else "americas",
         "new" if i < 5 else "long_standing", "Sam"] for i in range(8)]


def test_the_preview_names_bad_rows_and_stores_nothing(store, open_survey):
    survey = store.surveys.get_any(open_survey["id"])
    bad = [row[:] for row in GOOD]
    bad[1][0] = "not-an-address"  # row 3
    bad[4][3] = "mars"  # row 6
    bad[6][0] = bad[0][0]  # row 8: a duplicate of row 2
    preview = campaign.preview_csv(store, survey, crm_csv(bad))
    assert preview.mapping == {"E-mail": "email", "Full name": "name", "Lang": "language",
                               "Region": "region", "Tenure": "tenure", "Owner": ""}
    assert {(e["row"], e["column"]) for e in preview.errors} == {
        (3, "E-mail"), (6, "Region"), (8, "E-mail")}
    assert "row 2" in next(e["reason"] for e in preview.errors if e["row"] == 8)
    assert not preview.ok
    assert campaign.all_invitations(store, survey) == []
    fixed = campaign.preview_csv(store, survey, crm_csv(GOOD))
    assert fixed.ok and len(fixed.items) == 8
    assert fixed.items[3] == {"email": "p3@customer.example", "name": "Person <3>",
                              "language": "en",
                              "attributes": {"region": "emea", "tenure": "new"}}
    campaign.create_from_preview(store, survey, fixed, "http://x", "secret-0123456789")
    # Uploading the same people again is refused row by row.
    again = campaign.preview_csv(store, survey, crm_csv(GOOD[:2]))
    assert [e["row"] for e in again.errors] == [2, 3]


def test_a_column_can_be_mapped_by_hand(store, open_survey):
    survey = store.surveys.get_any(open_survey["id"])
    text = "Contact,Mailbox,Area\nAna,ana@c.example,emea\n"
    guessed = campaign.preview_csv(store, survey, text)
    assert guessed.problem and "e-mail" in guessed.problem
    mapped = campaign.preview_csv(store, survey, text, {"Contact": "name", "Mailbox": "email",
                                                        "Area": "region"})
    assert mapped.ok and mapped.items[0]["attributes"] == {"region": "emea"}


def test_links_are_recoverable_and_open_the_form(app, client, store, open_survey, lead):
    survey = store.surveys.get_any(open_survey["id"])
    campaign.create_from_preview(store, survey, campaign.preview_csv(store, survey,
                                                                     crm_csv(GOOD)),
                                 "http://localhost", app.config["SECRET_KEY"])
    sign_in(client)
    assert "No mail server is set up" in client.get(f"/console/surveys/{survey.id}").text
    first = client.get(f"/console/surveys/{survey.id}/invitations.csv")
    second = client.get(f"/console/surveys/{survey.id}/invitations.csv")
    assert first.status_code == 200 and first.data == second.data
    rows = list(csv.DictReader(io.StringIO(first.get_data(as_text=True))))
    assert len(rows) == 8 and rows[0]["email"] == "p0@customer.example"
    form = client.get(rows[0]["link"].replace("http://localhost", ""))
    assert form.status_code == 200 and "Step 1 of" in form.text
    assert campaign.progress(store, survey)["overall"]["opened"] == 1
    # An API invitation's random token stays unrecoverable and says so.
    api = client.post(f"/v1/surveys/{survey.id}/invitations",
                      json={"invitations": [{"email": "api@c.example"}]},
                      headers={"Authorization": "Bearer " + _admin_key(app, store, lead)})
    assert api.status_code == 201
    rows = list(csv.DictReader(io.StringIO(client.get(
        f"/console/surveys/{survey.id}/invitations.csv").get_data(as_text=True))))
    assert "not recoverable" in rows[-1]["link"]


def _admin_key(app, store, lead) -> str:
    from shared.keys import issue_key
    return issue_key(store, lead.org_id, "t", ["admin"])[1]


# -- mail, reminders, opt-out ----------------------------------------------------------------

def test_invitations_and_reminders_through_the_outbox(app, client, store, open_survey, lead):
    survey = store.surveys.get_any(open_survey["id"])
    secret = app.config["SECRET_KEY"]
    campaign.create_from_preview(store, survey, campaign.preview_csv(store, survey,
                                                                     crm_csv(GOOD)),
                                 "http://localhost", secret)
    now = datetime.now(timezone.utc)
    with running_inbox() as inbox:
        assert campaign.queue_invitations(store, survey, "http://localhost", secret, now) == 8
        assert campaign.queue_invitations(store, survey, "http://localhost", secret, now) == 0
        assert send_due(store, inbox.url, "survey@acme.example", now) == 8
        assert send_due(store, inbox.url, "survey@acme.example", now) == 0
        assert len(inbox.messages) == 8
        message = inbox.to("p3@customer.example")[0]
        body = message.get_content()
        assert message["From"] == "Acme Analytics <survey@acme.example>"
        assert "Hello Person <3>," in body and "/opt-out" in message["List-Unsubscribe"]
        link = re.search(r"http://localhost(/s/\S+)", body).group(1)
        invitations = {i.email: i for i in campaign.all_invitations(store, survey)}
        assert all(i.status == "sent" and i.mails == 1 for i in invitations.values())

        # p0 completes (through the API with the invitation), p1 opts out through the mail.
        from tests.support.factories import builtin, complete_answers
        import random
        answers = complete_answers(builtin("how-you-buy"), random.Random(1))
        posted = client.post(f"/v1/surveys/{survey.id}/responses", json={
            "submission_id": "p0", "invitation_id": invitations["p0@customer.example"].id,
            "answers": answers}, headers={"Authorization": "Bearer " + _admin_key(
                app, store, lead)})
        assert posted.status_code == 201, posted.get_json()
        opt_out_path = re.search(r"http://localhost(/s/\S+/opt-out)",
                                 inbox.to("p1@customer.example")[0].get_content()).group(1)
        page = client.get(opt_out_path)
        assert "Stop the e-mails" in page.text
        assert not store.invitations.get(survey.org_id, invitations["p1@customer.example"].id
                                         ).opted_out_at  # a GET alone changes nothing
        client.post(opt_out_path, data={"csrf_token": csrf(page)})
        assert client.get(link).status_code == 200

        # Reminders: not before the minimum gap, then only the 6 others, at most twice.
        assert campaign.queue_reminders(store, survey, "http://localhost", secret, now) == 0
        later = now + timedelta(days=3, minutes=1)
        assert campaign.queue_reminders(store, survey, "http://localhost", secret, later) == 6
        send_due(store, inbox.url, "survey@acme.example", later)
        reminded = {rcpt[0] for rcpt, m in inbox.messages if m["Subject"].startswith("Reminder")}
        assert reminded == {f"p{i}@customer.example" for i in range(2, 8)}
        assert campaign.queue_reminders(store, survey, "http://localhost", secret,
                                        later + timedelta(days=3, minutes=1)) == 6
        assert campaign.queue_reminders(store, survey, "http://localhost", secret,
                                        later + timedelta(days=30)) == 0  # max 2 reminders
    overall = campaign.progress(store, survey)["overall"]
    assert (overall["invited"], overall["completed"], overall["opted_out"]) == (8, 1, 1)
    assert overall["rate"] == pytest.approx(1 / 8)


def test_mail_survives_a_server_that_is_down_and_is_retried(store, open_survey):
    survey = store.surveys.get_any(open_survey["id"])
    campaign.create_from_preview(store, survey, campaign.preview_csv(store, survey,
                                                                     crm_csv(GOOD[:2])),
                                 "http://localhost", "secret-0123456789")
    now = datetime.now(timezone.utc)
    campaign.queue_invitations(store, survey, "http://localhost", "secret-0123456789", now)
    from tests.support.helpers import free_port
    assert send_due(store, f"smtp://127.0.0.1:{free_port()}", "s@acme.example", now) == 2
    waiting = store.outbox.list(survey.org_id, survey.id)
    assert {m.status for m in waiting} == {"pending"} and all(m.last_error for m in waiting)
    with running_inbox() as inbox:
        assert send_due(store, inbox.url, "s@acme.example", now) == 0  # not due yet
        assert send_due(store, inbox.url, "s@acme.example", now + timedelta(minutes=2)) == 2
        assert len(inbox.messages) == 2
    assert {m.status for m in store.outbox.list(survey.org_id, survey.id)} == {"sent"}


def test_the_upload_pages_escape_what_the_file_says_and_store_after_confirming(
        client, store, open_survey, lead):
    sign_in(client)
    survey_id = open_survey["id"]
    page = client.get(f"/console/surveys/{survey_id}/invitations")
    text = "Mail,Who,Area\nana@c.example,<script>alert(1)</script>,emea\n"
    preview = client.post(f"/console/surveys/{survey_id}/invitations/preview", data={
        "csrf_token": csrf(page), "file": (io.BytesIO(text.encode()), "crm.csv")},
        content_type="multipart/form-data")
    assert preview.status_code == 200  # "Mail" is recognised; "Who" and "Area" wait for a choice
    assert '<option value="" selected>(not used)</option>' in preview.text
    assert "<script>alert(1)</script>" not in preview.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview.text
    assert campaign.all_invitations(store, store.surveys.get_any(survey_id)) == []
    confirmed = client.post(f"/console/surveys/{survey_id}/invitations/preview", data={
        "csrf_token": csrf(page), "csv_text": text, "map-0": "email", "map-1": "name",
        "map-2": "region", "action": "import"})
    assert confirmed.status_code == 303
    stored = campaign.all_invitations(store, store.surveys.get_any(survey_id))
    assert [(i.email, i.name, i.attributes) for i in stored] == [
        ("ana@c.example", "<script>alert(1)</script>", {"region": "emea"})]
    listing = client.get(f"/console/surveys/{survey_id}/invitations")
    assert "&lt;script&gt;" in listing.text and "<script>alert" not in listing.text


def test_an_admin_adds_a_person_and_issues_and_revokes_a_key(client, store, lead):
    sign_in(client)
    page = client.get("/console/users")
    added = client.post("/console/users", data={"csrf_token": csrf(page), "email":
                                                "ana@acme.example", "name": "Ana",
                                                "role": "analyst"})
    password = re.search(r'id="new-password" class="copy" readonly value="([^"]+)"',
                         added.text).group(1)
    assert users.sign_in(store, "ana@acme.example", password).user.role == "analyst"
    assert password not in client.get("/console/users").text  # shown once
    page = client.get("/console/keys")
    issued = client.post("/console/keys", data={"csrf_token": csrf(page),
                                                "name": "CRM sync", "scope": "read"})
    key = re.search(r'id="new-key" class="copy" readonly value="(bk_[^"]+)"', issued.text).group(1)
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    key_id = next(k.id for k in store.api_keys.list(lead.org_id) if k.name == "CRM sync")
    client.post(f"/console/keys/{key_id}/revoke", data={"csrf_token": csrf(page)})
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    actions = [e.action for e in store.audit.list(lead.org_id)]
    assert {"user.created", "key.created", "key.revoked"} <= set(actions)
    assert all(e.actor == f"user:{lead.id}" for e in store.audit.list(lead.org_id)
               if e.action.startswith("key."))


def test_automatic_reminders_run_from_the_outbox_and_come_back_daily(app, store, open_survey):
    from survey_api.console import reminder_runner
    survey = store.surveys.get_any(open_survey["id"])
    secret, settings = app.config["SECRET_KEY"], app.config["SETTINGS"]
    campaign.create_from_preview(store, survey, campaign.preview_csv(store, survey,
                                                                     crm_csv(GOOD[:3])),
                                 settings.survey_api_url, secret)
    now = datetime.now(timezone.utc)
    campaign.queue_invitations(store, survey, settings.survey_api_url, secret, now)
    survey = store.surveys.update(survey.org_id, survey.id, {"settings": {
        **survey.settings, "reminders": {"max_reminders": 1, "min_days_apart": 2,
                                         "auto": True}}})
    campaign.schedule_reminders(store, survey, now)
    campaign.schedule_reminders(store, survey, now)  # saved twice: still one job
    jobs = [m for m in store.outbox.list(survey.org_id, survey.id)
            if m.kind == campaign.REMINDER_JOB and m.status == "pending"]
    assert len(jobs) == 1
    run = reminder_runner(settings)

    def send_all(at):
        while send_due(store, inbox.url, "s@acme.example", at, run_job=run):
            pass

    with running_inbox() as inbox:
        send_all(now)
        assert len(inbox.messages) == 3  # the invitations; no reminder is due yet
        send_all(now + timedelta(days=1, minutes=1))  # the job's next run: still too soon
        assert len(inbox.messages) == 3
        send_all(now + timedelta(days=2, minutes=2))
        assert len(inbox.messages) == 6
        assert all(m["Subject"].startswith("Reminder") for _, m in inbox.messages[3:])
        send_all(now + timedelta(days=9))  # at most one reminder
        assert len(inbox.messages) == 6
    # Turning auto off ends the chain.
    survey = store.surveys.update(survey.org_id, survey.id, {"settings": {
        **survey.settings, "reminders": {"max_reminders": 1, "min_days_apart": 2,
                                         "auto": False}}})
    campaign.schedule_reminders(store, survey)
    assert not [m for m in store.outbox.list(survey.org_id, survey.id)
                if m.kind == campaign.REMINDER_JOB and m.status == "pending"]
